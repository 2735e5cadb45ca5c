"""The machine's Redis for the cache tests (a unique key prefix per test; private servers: hft.testing.services).

Tests skip when the machine's Redis cannot be reached, except in CI (``CI``
set), where a missing server is a failure: CI must not pass by testing nothing.
"""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis
from redis.exceptions import RedisError

SHARED_URL = "redis://127.0.0.1:6379/0"


async def _ping(url: str) -> bool:
    client = Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(await client.ping())
    except (RedisError, OSError):
        return False
    finally:
        await client.aclose()


def reachable(url: str = SHARED_URL) -> bool:
    """Return whether a Redis server answers at ``url``."""
    return asyncio.run(_ping(url))


async def delete_prefix(url: str, prefix: str) -> None:
    """Delete every key that starts with ``prefix`` (which must not be empty: the server is shared)."""
    assert prefix, "never wipe a shared server's whole keyspace"
    client = Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
