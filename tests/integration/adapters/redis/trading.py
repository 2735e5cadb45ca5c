"""A real venue with the Redis cache switched on, orders that cross, and waiting for the cache to catch up."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from hft.adapters.redis import entries, read_cache, read_sequence
from hft.adapters.redis.cache import RedisCache
from hft.config.settings import Settings
from hft.domain.commands import SubmitOrder
from hft.domain.exchange.events import PositionChanged
from hft.domain.exchange.money import CASH_SCALE
from hft.domain.orders import BUY, SELL
from hft.engine.core import Ack
from hft.service.venue import Venue

RICH = 10_000_000 * CASH_SCALE
PRICE = 15_000  # 150.00 in AAPL ticks


async def open_venue(data_dir: Path, url: str, prefix: str) -> Venue:
    """Start a venue on ``data_dir`` whose cache writes to ``url`` under ``prefix``."""
    settings = Settings(data_dir=data_dir, fsync=False, redis_url=url, cache_prefix=prefix, demo_account=False)
    venue = Venue(settings)
    await venue.start()
    return venue


def cache_of(venue: Venue) -> RedisCache:
    """The venue's cache (the tests always configure one)."""
    assert venue.cache is not None
    return venue.cache


async def rich_accounts(venue: Venue, count: int) -> list[int]:
    """Open ``count`` accounts with plenty of cash; return their ids."""
    return [(await venue.create_account(f"trader-{index}", cash=RICH))[0] for index in range(count)]


async def cross(
    venue: Venue, seller: int, buyer: int, lots: int, price: int = PRICE, symbol: str = "AAPL"
) -> list[Ack]:
    """Rest a sell from ``seller``, then take it with a buy from ``buyer``; return both acks."""
    orders = [SubmitOrder(0, seller, symbol, SELL, lots, price), SubmitOrder(0, buyer, symbol, BUY, lots, price)]
    return [await venue.execute(order) for order in orders]


def position_sequences(acks: list[Ack]) -> dict[tuple[int, str], int]:
    """Return the sequence of the last PositionChanged per (account, symbol) in ``acks``."""
    return {
        (event.account, event.symbol): event.sequence
        for ack in acks
        for event in ack.events
        if isinstance(event, PositionChanged)
    }


def expected(venue: Venue, prefix: str) -> dict[str, dict[str, str]]:
    """What the cache should hold now: ``entries`` of the live venue, with the cache's position sequences."""
    holdings = cache_of(venue).holdings
    assert holdings is not None
    return entries(venue.core.exchange, venue.market, prefix, holdings.sequences)


async def wait_until_current(venue: Venue, url: str, prefix: str, timeout: float = 10.0) -> dict[str, dict[str, str]]:
    """Wait until the cache reflects the venue's latest event and equals ``expected``; return its content."""
    deadline = time.monotonic() + timeout
    content: dict[str, dict[str, str]] = {}
    while time.monotonic() < deadline:
        if await read_sequence(url, prefix) == venue.core.exchange.engine.sequence:
            content = await read_cache(url, prefix)
            if content == expected(venue, prefix):
                return content
        await asyncio.sleep(0.01)
    want = expected(venue, prefix)
    wrong = sorted(key for key in want.keys() | content.keys() if want.get(key) != content.get(key))
    raise AssertionError(f"the cache did not catch up within {timeout} s; keys that differ: {wrong[:10]}")
