"""Fixtures: a real ``hft serve`` process per module, on SQLite by default or PostgreSQL when asked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hft.testing.server import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A running server with a fresh data directory, stopped gracefully after the module."""
    data_dir: Path = tmp_path_factory.mktemp("venue") / "data"
    with ServerProcess(data_dir) as running:
        yield running
