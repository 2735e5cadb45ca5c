"""A Redis server killed while orders flow: trading goes on, health says down, and a restarted (empty) server
is filled again from the venue's state."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest
from tests.integration.adapters.redis.trading import cache_of, cross, open_venue, rich_accounts, wait_until_current

from hft.service.venue import Venue
from hft.testing.services import RedisServer


async def _trade(venue: Venue, seller: int, buyer: int, until: asyncio.Event) -> int:
    """Cross one lot every 2 ms, as a busy venue would, until told to stop; return the lots traded."""
    traded = 0
    while not until.is_set():
        await cross(venue, seller, buyer, 1)
        traded += 1
        await asyncio.sleep(0.002)
    return traded


async def _eventually_down(venue: Venue, timeout: float = 10.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while (health := venue.health()["cache"])["status"] != "down":
        if time.monotonic() > deadline:
            raise AssertionError(f"the cache still reports {health} {timeout} s after Redis died")
        await asyncio.sleep(0.005)
    return health


def test_trading_goes_on_while_redis_is_down_and_a_restarted_empty_redis_is_filled_again(
    tmp_path: Path, own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    server = own_redis
    prefix = ""  # the server is the test's own: the default prefix, as a deployment would use it

    async def scenario() -> None:
        venue = await open_venue(tmp_path, server.url, prefix)
        done = asyncio.Event()
        trading: asyncio.Task[int] | None = None
        try:
            seller, buyer = await rich_accounts(venue, 2)
            await cross(venue, seller, buyer, 1)
            await wait_until_current(venue, server.url, prefix)
            trading = asyncio.create_task(_trade(venue, seller, buyer, done))
            await asyncio.sleep(0.1)

            await asyncio.to_thread(server.kill)
            health = await _eventually_down(venue)
            assert health["error"]
            sequence_when_down = venue.core.exchange.engine.sequence
            await asyncio.sleep(0.5)  # several failed retries, while orders keep being acknowledged
            assert venue.core.exchange.engine.sequence > sequence_when_down
            assert venue.health()["engine"]["status"] == "up"
            assert venue.health()["cache"]["status"] == "down"

            await asyncio.to_thread(server.start)  # empty: this server keeps nothing on disk
            started = time.monotonic()
            done.set()
            traded = await trading
            content = await wait_until_current(venue, server.url, prefix, timeout=10.0)
            assert time.monotonic() - started < 10.0

            assert content[f"position:{buyer}:AAPL"]["net_quantity"] == str(traded + 1)
            assert venue.health()["cache"]["status"] == "up"
        finally:
            done.set()
            if trading is not None:
                await asyncio.gather(trading, return_exceptions=True)
            await venue.stop()
        assert cache_of(venue).rebuilds >= 2

    with caplog.at_level(logging.WARNING, logger="hft.cache"):
        asyncio.run(scenario())
    messages = [record.getMessage() for record in caplog.records]
    assert sum("failing" in message for message in messages) == 1, messages
    assert sum("back after" in message for message in messages) == 1, messages
