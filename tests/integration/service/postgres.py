"""A fresh database on the machine's PostgreSQL for one test module, dropped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tests.integration.adapters.sql import servers
from tests.integration.skipping import skip_or_fail


@contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """Create an empty database and yield its URL; skip when PostgreSQL is unreachable, except in CI (fail)."""
    if not servers.reachable():
        skip_or_fail(f"PostgreSQL is unreachable at {servers.ADMIN_URL}")
    url = servers.create_database(prefix)
    try:
        yield url
    finally:
        servers.drop_database(url)
