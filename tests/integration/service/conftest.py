"""Fixtures: a real ``hft serve`` process per module, once on SQLite and once on the machine's PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from tests.integration.service.postgres import fresh_database

from hft.testing.server import ServerProcess


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A running server with a fresh data directory (and database), stopped gracefully after the module."""
    with ExitStack() as stack:
        env = {}
        if request.param == "postgresql":
            env["DATABASE_URL"] = stack.enter_context(fresh_database("hft_api"))
        data_dir = tmp_path_factory.mktemp(f"venue-{request.param}") / "data"
        yield stack.enter_context(ServerProcess(data_dir, env=env))
