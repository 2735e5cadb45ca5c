"""The venue's events on Kafka (Tansu): each once, as the journal says, across venue and broker restarts."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

from hft.adapters.kafka.reader import read_stream
from hft.config.settings import Settings
from hft.domain.commands import CancelOrder, SubmitOrder
from hft.domain.exchange.commands import SetInstrumentHalt
from hft.domain.orders import BUY, SELL
from hft.service.venue import Venue
from hft.streams.schema import STREAMS, Message, decode
from hft.testing.streams import differences, expected_messages
from hft.testing.tansu import TansuBroker

RECOVERY_SECONDS = 10.0  # from the broker's restart to topics equal to the journal
SYMBOLS = ("AAPL", "MSFT", "GOOGL", "AMZN")


def _settings(data_dir: Path, bootstrap: str, prefix: str) -> Settings:
    return Settings(data_dir=data_dir, fsync=False, demo_account=False, kafka_bootstrap=bootstrap, stream_prefix=prefix)


async def _accounts(venue: Venue) -> tuple[int, int]:
    buyer, _ = await venue.create_account("buyer", cash=10**16)
    seller, _ = await venue.create_account("seller", cash=10**16)
    return buyer, seller


async def _trade(venue: Venue, accounts: tuple[int, int], rounds: int, start: int = 0) -> None:
    """Cross on four symbols (spread over the partitions); cancel some resting orders."""
    buyer, seller = accounts
    for index in range(start, start + rounds):
        symbol = SYMBOLS[index % len(SYMBOLS)]
        resting = await venue.execute(
            SubmitOrder(0, seller, symbol, SELL, 5, 15_000 + index % 7, client_order_id=f"s{index}")
        )
        await venue.execute(SubmitOrder(0, buyer, symbol, BUY, 3, 15_010, client_order_id=f"b{index}"))
        if index % 5 == 0:
            order_id = resting.events[0].order_id  # type: ignore[attr-defined]
            await venue.execute(CancelOrder(order_id, seller))


async def _streams(bootstrap: str, prefix: str) -> dict[str, list[Message]]:
    return {stream: await read_stream(bootstrap, prefix, stream) for stream in STREAMS}


def _differences(venue: Venue, actual: dict[str, list[Message]]) -> list[str]:
    core = venue.core.core
    expected = expected_messages(core.journal_dir, venue.instruments, core.sequence)
    assert sum(len(messages) for messages in expected.values()) > 0
    return [f"{stream}: {differences(expected[stream], actual[stream])}" for stream in STREAMS if differences(
        expected[stream], actual[stream]
    )]  # fmt: skip


async def _equal_to_journal(venue: Venue, bootstrap: str, prefix: str, timeout: float) -> float:
    """Wait until every topic equals the journal's messages; return how long it took, or fail with the differences."""
    started = time.monotonic()
    while True:
        found = _differences(venue, await _streams(bootstrap, prefix))
        if not found:
            return time.monotonic() - started
        assert time.monotonic() - started < timeout, found
        await asyncio.sleep(0.1)


def test_every_event_reaches_its_topic_once_in_journal_order(tmp_path: Path, tansu: TansuBroker, prefix: str) -> None:
    async def scenario() -> dict[str, list[Message]]:
        venue = Venue(_settings(tmp_path, tansu.bootstrap, prefix))
        await venue.start()
        try:
            await _trade(venue, await _accounts(venue), rounds=60)
            await venue.execute_admin(SetInstrumentHalt("MSFT", True))
            await venue.execute_admin(SetInstrumentHalt("MSFT", False))
            await _equal_to_journal(venue, tansu.bootstrap, prefix, timeout=10)
            health = venue.health()["stream"]["brokers"]["kafka"]  # type: ignore[index]
            assert health["status"] == "up", health
            return await _streams(tansu.bootstrap, prefix)
        finally:
            await venue.stop()

    actual = asyncio.run(scenario())
    kinds = {stream: {type(decode(message.payload)).__name__ for message in actual[stream]} for stream in STREAMS}
    assert kinds["orders"] >= {"OrderAccepted", "OrderCancelled"}
    assert kinds["executions"] == {"TradeExecuted"}
    assert kinds["market-data"] >= {"BookLevelChanged", "Trade", "InstrumentHaltSet"}
    assert kinds["accounts"] >= {"AccountChanged", "ApiKeyChanged", "PositionChanged"}
    assert {message.key for message in actual["orders"]} == set(SYMBOLS)


def test_a_restarted_venue_publishes_only_what_the_topics_lack(tmp_path: Path, tansu: TansuBroker, prefix: str) -> None:
    async def session(rounds: int, start: int) -> dict[str, list[Message]]:
        venue = Venue(_settings(tmp_path, tansu.bootstrap, prefix))
        await venue.start()
        try:
            accounts = await _accounts(venue) if start == 0 else (1, 2)
            await _trade(venue, accounts, rounds, start)
            await _equal_to_journal(venue, tansu.bootstrap, prefix, timeout=10)
            return await _streams(tansu.bootstrap, prefix)
        finally:
            await venue.stop()

    first = asyncio.run(session(20, start=0))
    second = asyncio.run(session(10, start=20))
    for stream in STREAMS:
        assert second[stream][: len(first[stream])] == first[stream]
    assert len(second["orders"]) > len(first["orders"])


def test_a_broker_killed_and_restarted_while_orders_flow_ends_equal_to_the_journal(
    tmp_path: Path, private_tansu: TansuBroker, prefix: str
) -> None:
    bootstrap = private_tansu.bootstrap

    async def flow(venue: Venue, accounts: tuple[int, int], stop: asyncio.Event) -> int:
        rounds = 0
        while not stop.is_set():
            await _trade(venue, accounts, 1, rounds)
            rounds += 1
            await asyncio.sleep(0.002)
        return rounds

    async def scenario() -> None:
        venue = Venue(_settings(tmp_path, bootstrap, prefix))
        await venue.start()
        stop = asyncio.Event()
        orders: asyncio.Task[int] | None = None
        try:
            accounts = await _accounts(venue)
            orders = asyncio.create_task(flow(venue, accounts, stop))
            await asyncio.sleep(0.5)
            await asyncio.to_thread(private_tansu.kill)
            await asyncio.sleep(0.5)  # orders go on while the broker is away
            await asyncio.to_thread(private_tansu.start)
            restarted = time.monotonic()
            await asyncio.sleep(0.3)  # and while it comes back
            stop.set()
            rounds = await orders
            # Memory storage: the restarted broker is empty, so everything comes again from the journal.
            await _equal_to_journal(venue, bootstrap, prefix, RECOVERY_SECONDS - (time.monotonic() - restarted))
            assert rounds > 50
        finally:
            stop.set()
            if orders is not None:
                with contextlib.suppress(Exception):
                    await orders
            await venue.stop()

    asyncio.run(scenario())
