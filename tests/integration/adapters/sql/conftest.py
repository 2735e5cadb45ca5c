"""Fixtures for the SQL adapter tests: a fresh database of each kind per test, and the instruments of the rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.adapters.sql import servers
from tests.integration.skipping import skip_or_fail

_postgres_reachable: bool | None = None


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """An SQLite file in a fresh directory (the store creates it)."""
    return f"sqlite:///{tmp_path / 'projection' / 'hft.db'}"


@pytest.fixture
def postgresql_url() -> Iterator[str]:
    """A fresh database on the machine's PostgreSQL, dropped after the test."""
    global _postgres_reachable  # noqa: PLW0603 - asked once per session, not per test
    if _postgres_reachable is None:
        _postgres_reachable = servers.reachable()
    if not _postgres_reachable:
        skip_or_fail(f"PostgreSQL is unreachable at {servers.ADMIN_URL}")
    url = servers.create_database()
    yield url
    servers.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty database: once SQLite, once PostgreSQL."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def throwaway_postgres() -> Iterator[servers.ThrowawayPostgres]:
    """A started PostgreSQL server of the test's own, which it may crash and restart."""
    server = servers.ThrowawayPostgres()
    try:
        server.start()
        yield server
    finally:
        server.remove()
