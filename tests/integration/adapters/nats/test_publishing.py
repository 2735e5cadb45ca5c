"""The venue's events on NATS JetStream: every one exactly once, in order, as the journal says, across restarts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec
import pytest
from nats.js.errors import APIError
from tests.integration.adapters.nats.conftest import NATS_URL
from tests.integration.adapters.nats.trading import assert_equal_to_journal, published, streams, trade

from hft.adapters.nats.broker import NatsBroker
from hft.adapters.nats.reader import read_stream
from hft.config.settings import Settings
from hft.service.venue import Venue
from hft.streams import schema
from hft.streams.schema import STREAMS, Message, decode

WRONG_LAST_SEQUENCE = 10071  # JetStream's error code for a failed Nats-Expected-Last-Sequence check


def _settings(data_dir: Path, prefix: str) -> Settings:
    return Settings(data_dir=data_dir, fsync=False, demo_account=False, nats_url=NATS_URL, stream_prefix=prefix)


def test_every_event_reaches_its_stream_once_in_journal_order(tmp_path: Path, prefix: str) -> None:
    async def scenario() -> None:
        venue = Venue(_settings(tmp_path, prefix))
        await venue.start()
        try:
            await trade(venue, rounds=60)
            await published(venue)
            actual = await streams(prefix)
            assert_equal_to_journal(venue, actual)
        finally:
            await venue.stop()
        kinds = {stream: {type(decode(message.payload)).__name__ for message in actual[stream]} for stream in STREAMS}
        assert kinds["orders"] >= {"OrderAccepted", "OrderCancelled"}
        assert kinds["executions"] == {"TradeExecuted"}
        assert kinds["market-data"] >= {"BookLevelChanged", "Trade", "InstrumentHaltSet"}
        assert kinds["accounts"] >= {"AccountChanged", "ApiKeyChanged", "PositionChanged"}
        assert {message.key for message in actual["orders"]} == {"AAPL", "MSFT"}

    asyncio.run(scenario())


def test_a_restarted_venue_publishes_only_what_the_stream_lacks(tmp_path: Path, prefix: str) -> None:
    async def session(rounds: int) -> dict[str, list[Message]]:
        venue = Venue(_settings(tmp_path, prefix))
        await venue.start()
        try:
            await trade(venue, rounds)
            await published(venue)
            actual = await streams(prefix)
            assert_equal_to_journal(venue, actual)
            return actual
        finally:
            await venue.stop()

    first = asyncio.run(session(20))
    second = asyncio.run(session(10))
    for stream in STREAMS:
        assert second[stream][: len(first[stream])] == first[stream]
    assert len(second["orders"]) > len(first["orders"])


def test_a_publisher_with_stale_positions_is_refused_and_stores_nothing(prefix: str) -> None:
    def message(sequence: int) -> Message:
        cancelled = schema.OrderCancelled(
            sequence=sequence, command_sequence=sequence, ts=0, order_id=sequence, account=1, symbol="AAPL",
            reason="USER", cancelled_quantity="1",
        )  # fmt: skip
        return Message("orders", "AAPL", sequence, 0, msgspec.json.encode(cancelled))

    async def scenario() -> None:
        current, stale = NatsBroker(NATS_URL, prefix), NatsBroker(NATS_URL, prefix)
        try:
            await current.connect()
            await stale.connect()
            assert (await current.positions())["orders"] == 0
            assert (await stale.positions())["orders"] == 0
            await current.publish([message(1), message(2)])
            # The stale publisher believes the stream is empty: its message would leave a wrong order behind.
            with pytest.raises(APIError) as refused:
                await stale.publish([message(3)])
            assert refused.value.err_code == WRONG_LAST_SEQUENCE
            assert (await current.positions())["orders"] == 2
            assert (await stale.positions())["orders"] == 2
            await stale.publish([message(3)])
            assert (await current.positions())["orders"] == 3
        finally:
            await current.close()
            await stale.close()
        stored = await read_stream(NATS_URL, prefix, "orders")
        assert [stored_message.sequence for stored_message in stored] == [1, 2, 3]

    asyncio.run(scenario())


def test_streams_of_another_history_are_refused_and_trading_goes_on(tmp_path: Path, prefix: str) -> None:
    async def session(data_dir: Path, rounds: int) -> dict[str, object]:
        venue = Venue(_settings(data_dir, prefix))
        await venue.start()
        try:
            await trade(venue, rounds)
            await asyncio.sleep(0.3)
            return venue.health()["stream"]["brokers"]["nats"]  # type: ignore[index, no-any-return]
        finally:
            await venue.stop()

    first = asyncio.run(session(tmp_path / "first", rounds=20))
    assert first["status"] == "up"
    before = asyncio.run(streams(prefix))
    # A fresh data directory on the same streams: its events would be taken for ones already published.
    second = asyncio.run(session(tmp_path / "second", rounds=2))
    assert second["status"] == "down"
    assert "belong to another deployment" in str(second["error"])
    assert asyncio.run(streams(prefix)) == before
