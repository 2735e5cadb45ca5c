"""Fixtures for the Redis cache tests: a unique key prefix on the machine's Redis, or a server of the test's own."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator

import pytest
from tests.integration.adapters.redis import servers
from tests.integration.skipping import skip_or_fail

from hft.testing.services import RedisServer

_shared_reachable: bool | None = None


@pytest.fixture
def shared_url() -> str:
    """The machine's Redis (skipped, or failed in CI, when it cannot be reached)."""
    global _shared_reachable  # noqa: PLW0603 - asked once per session, not per test
    if _shared_reachable is None:
        _shared_reachable = servers.reachable()
    if not _shared_reachable:
        skip_or_fail(f"Redis is unreachable at {servers.SHARED_URL}")
    return servers.SHARED_URL


@pytest.fixture
def prefix(shared_url: str) -> Iterator[str]:
    """A key prefix no other test uses; its keys are deleted afterwards."""
    unique = f"test-{secrets.token_hex(5)}:"
    yield unique
    asyncio.run(servers.delete_prefix(shared_url, unique))


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A started, empty Redis server of the test's own, which it may kill and restart."""
    server = RedisServer()
    try:
        server.start()
        yield server
    finally:
        server.close()
