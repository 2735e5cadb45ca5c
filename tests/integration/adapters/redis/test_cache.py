"""The Redis cache of a real venue on the machine's Redis: keys appear, follow trades, and come back when lost."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from redis.asyncio import Redis
from tests.integration.adapters.redis.servers import delete_prefix
from tests.integration.adapters.redis.trading import (
    cache_of,
    cross,
    expected,
    open_venue,
    position_sequences,
    rich_accounts,
    wait_until_current,
)

from hft.adapters.redis import read_cache


def test_keys_appear_and_match_the_venue_state_after_trades(tmp_path: Path, shared_url: str, prefix: str) -> None:
    async def scenario() -> None:
        venue = await open_venue(tmp_path, shared_url, prefix)
        try:
            seller, buyer = await rich_accounts(venue, 2)
            acks = await cross(venue, seller, buyer, 100)
            acks += await cross(venue, seller, buyer, 30, price=15_050)
            content = await wait_until_current(venue, shared_url, prefix)

            assert content[f"{prefix}position:{buyer}:AAPL"]["net_quantity"] == "130"
            assert content[f"{prefix}position:{buyer}:AAPL"]["average_price"] == "150.1153846153846153846153846"
            assert content[f"{prefix}position:{seller}:AAPL"]["net_quantity"] == "-130"
            for (account, symbol), sequence in position_sequences(acks).items():
                assert content[f"{prefix}position:{account}:{symbol}"]["sequence"] == str(sequence)
            assert content[f"{prefix}position:AAPL"] == {
                "open_interest": "130",
                "long_accounts": "1",
                "short_accounts": "1",
                "sequence": str(max(position_sequences(acks).values())),
            }
            market = content[f"{prefix}marketdata:AAPL"]
            assert (market["last_price"], market["last_quantity"], market["volume"], market["trades"]) == (
                "150.50",
                "30",
                "130",
                "2",
            )
            assert {f"{prefix}marketdata:{instrument.symbol}" for instrument in venue.instruments} <= content.keys()
            health = venue.health()["cache"]
            assert (health["status"], health["lag"], health["error"]) == ("up", 0, None)
            written = venue.metrics.registry.get_sample_value("cache_writes_total")
            assert written is not None
            assert written >= len(content)
        finally:
            await venue.stop()

    asyncio.run(scenario())


def test_a_second_account_crossing_updates_both_positions_and_the_symbols_figures(
    tmp_path: Path, shared_url: str, prefix: str
) -> None:
    async def scenario() -> None:
        venue = await open_venue(tmp_path, shared_url, prefix)
        try:
            first, second, third = await rich_accounts(venue, 3)
            await cross(venue, first, second, 50)
            before = await wait_until_current(venue, shared_url, prefix)

            acks = await cross(venue, third, first, 80)  # first goes from short 50 to long 30
            after = await wait_until_current(venue, shared_url, prefix)

            assert after[f"{prefix}position:{first}:AAPL"]["net_quantity"] == "30"
            assert after[f"{prefix}position:{first}:AAPL"]["realized_pnl"] == "0"
            assert after[f"{prefix}position:{third}:AAPL"]["net_quantity"] == "-80"
            assert after[f"{prefix}position:{second}:AAPL"] == before[f"{prefix}position:{second}:AAPL"]
            assert before[f"{prefix}position:AAPL"]["open_interest"] == "50"
            assert after[f"{prefix}position:AAPL"] == {
                "open_interest": "80",
                "long_accounts": "2",
                "short_accounts": "1",
                "sequence": str(max(position_sequences(acks).values())),
            }
        finally:
            await venue.stop()

    asyncio.run(scenario())


def test_a_position_back_to_zero_keeps_its_key_with_net_zero(tmp_path: Path, shared_url: str, prefix: str) -> None:
    async def scenario() -> None:
        venue = await open_venue(tmp_path, shared_url, prefix)
        try:
            first, second = await rich_accounts(venue, 2)
            await cross(venue, first, second, 10)
            await cross(venue, second, first, 10, price=15_100)
            content = await wait_until_current(venue, shared_url, prefix)

            assert content[f"{prefix}position:{first}:AAPL"]["net_quantity"] == "0"
            assert content[f"{prefix}position:{first}:AAPL"]["average_price"] == ""
            assert content[f"{prefix}position:{second}:AAPL"]["realized_pnl"] == "10"
            assert content[f"{prefix}position:AAPL"]["open_interest"] == "0"
        finally:
            await venue.stop()

    asyncio.run(scenario())


def test_deleting_every_key_of_the_prefix_is_noticed_and_everything_is_rewritten(
    tmp_path: Path, shared_url: str, prefix: str
) -> None:
    async def scenario() -> None:
        venue = await open_venue(tmp_path, shared_url, prefix)
        try:
            seller, buyer = await rich_accounts(venue, 2)
            await cross(venue, seller, buyer, 10)
            await wait_until_current(venue, shared_url, prefix)
            rebuilds = cache_of(venue).rebuilds

            await delete_prefix(shared_url, prefix)  # as FLUSHALL, or a restart without persistence, would
            assert await read_cache(shared_url, prefix) == {}
            await cross(venue, seller, buyer, 5)
            content = await wait_until_current(venue, shared_url, prefix)

            assert content[f"{prefix}position:{buyer}:AAPL"]["net_quantity"] == "15"
            assert cache_of(venue).rebuilds == rebuilds + 1
        finally:
            await venue.stop()

    asyncio.run(scenario())


def test_a_connection_redis_py_remade_on_its_own_rewrites_keys_a_restarted_redis_may_have_restored_stale(
    tmp_path: Path, shared_url: str, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A Redis restarted from an old dump still has ``cache:sequence``; if redis-py reconnects to it without
    raising, the new connection id gives the restart away."""

    async def scenario() -> None:
        venue = await open_venue(tmp_path, shared_url, prefix)
        admin = Redis.from_url(shared_url, decode_responses=True)
        try:
            seller, buyer = await rich_accounts(venue, 2)
            await cross(venue, seller, buyer, 10)
            await wait_until_current(venue, shared_url, prefix)
            cache = cache_of(venue)
            rebuilds = cache.rebuilds

            await admin.hset(f"{prefix}position:{buyer}:AAPL", "net_quantity", "999")  # an old value
            client = cache._client  # the connection pool redis-py reconnects behind the cache's back
            assert client is not None
            await client.connection_pool.disconnect()
            await cross(venue, seller, seller, 1, symbol="MSFT")  # any batch makes the cache write
            content = await wait_until_current(venue, shared_url, prefix)

            assert content[f"{prefix}position:{buyer}:AAPL"]["net_quantity"] == "10"
            assert cache.rebuilds == rebuilds + 1
        finally:
            await admin.aclose()
            await venue.stop()

    with caplog.at_level(logging.WARNING, logger="hft.cache"):
        asyncio.run(scenario())
    messages = [record.getMessage() for record in caplog.records if record.name == "hft.cache"]
    assert messages == ["cache: Redis lost its keys (flushed or restarted); rewriting them all"]


def test_a_restarted_venue_rewrites_the_cache_and_deletes_keys_of_state_it_does_not_have(
    tmp_path: Path, shared_url: str, prefix: str
) -> None:
    async def scenario() -> None:
        venue = await open_venue(tmp_path / "old", shared_url, prefix)
        try:
            accounts = await rich_accounts(venue, 3)
            await cross(venue, accounts[0], accounts[2], 10)
            await wait_until_current(venue, shared_url, prefix)
        finally:
            await venue.stop()

        venue = await open_venue(tmp_path / "new", shared_url, prefix)  # a fresh journal, the same prefix
        try:
            first, second = await rich_accounts(venue, 2)
            await cross(venue, first, second, 5, symbol="MSFT")
            content = await wait_until_current(venue, shared_url, prefix)

            assert f"{prefix}position:{accounts[2]}:AAPL" not in content
            assert content[f"{prefix}position:AAPL"]["open_interest"] == "0"
            assert content[f"{prefix}position:{second}:MSFT"]["net_quantity"] == "5"
        finally:
            await venue.stop()

        venue = await open_venue(tmp_path / "new", shared_url, prefix)  # the same journal again: nothing lost
        try:
            assert await wait_until_current(venue, shared_url, prefix) == expected(venue, prefix)
            assert (await read_cache(shared_url, prefix))[f"{prefix}position:{second}:MSFT"]["net_quantity"] == "5"
        finally:
            await venue.stop()

    asyncio.run(scenario())


def test_a_restarted_venue_writes_the_same_keys_and_sequences_as_before(
    tmp_path: Path, shared_url: str, prefix: str
) -> None:
    async def scenario() -> None:
        venue = await open_venue(tmp_path, shared_url, prefix)
        try:
            if not hasattr(venue, "position_sequences"):
                pytest.skip("the venue does not keep each position's last sequence through its replay yet")
            first, second = await rich_accounts(venue, 2)
            await cross(venue, first, second, 10)
            await cross(venue, second, first, 4, symbol="MSFT")
            before = await wait_until_current(venue, shared_url, prefix)
        finally:
            await venue.stop()
        await delete_prefix(shared_url, prefix)  # and Redis restarted empty meanwhile

        venue = await open_venue(tmp_path, shared_url, prefix)
        try:
            assert await wait_until_current(venue, shared_url, prefix) == before
        finally:
            await venue.stop()

    asyncio.run(scenario())
