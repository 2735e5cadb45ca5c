"""Fixtures: a private server per dependency and one ``hft serve`` pointed at it, both gone after the test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.outages.dependencies import DEPENDENCIES, Dependency

from hft.testing.server import ServerProcess
from hft.testing.services import ServiceUnavailableError

# Not HFT_*: the server refuses HFT_ variables it does not know, and it inherits this environment.
CYCLES_VARIABLE = "OUTAGE_CYCLES"
DEFAULT_CYCLES = 20


@pytest.fixture(scope="session")
def cycles() -> int:
    """How many outages each dependency goes through (``OUTAGE_CYCLES``, 20 by default)."""
    return int(os.environ.get(CYCLES_VARIABLE, DEFAULT_CYCLES))


@pytest.fixture(params=list(DEPENDENCIES))
def dependency(request: pytest.FixtureRequest) -> Iterator[Dependency]:
    """A started private server of the dependency, killed and deleted after the test."""
    try:
        dependency = DEPENDENCIES[request.param]()
    except ServiceUnavailableError as error:
        if os.environ.get("CI"):
            pytest.fail(f"{error} (CI is set, so the outage tests may not be skipped)")
        pytest.skip(str(error))
    try:
        dependency.server.start()
        yield dependency
    finally:
        dependency.server.close()


@pytest.fixture
def venue(dependency: Dependency, tmp_path: Path) -> Iterator[ServerProcess]:
    """``hft serve`` on a fresh data directory, using the dependency (SQLite in the data directory otherwise)."""
    data_dir = tmp_path / "data"
    env = {
        "HFT_DATABASE_URL": f"sqlite:///{data_dir / 'hft.sqlite3'}",
        "HFT_DEMO_ACCOUNT": "false",
        **dependency.env,
    }
    with ServerProcess(data_dir, env=env) as server:
        yield server
