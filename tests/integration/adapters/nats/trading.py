"""A venue trading against NATS, and the checks that its streams equal its journal."""

from __future__ import annotations

import asyncio
import time

from tests.integration.adapters.nats.conftest import NATS_URL

from hft.adapters.nats.reader import read_stream
from hft.domain.commands import CancelOrder, SubmitOrder
from hft.domain.exchange.commands import SetInstrumentHalt
from hft.domain.orders import BUY, SELL
from hft.service.venue import Venue
from hft.streams.schema import STREAMS, Message
from hft.testing.streams import differences, expected_messages


async def trade(venue: Venue, rounds: int) -> None:
    """Two accounts cross on two symbols; some orders are cancelled; one symbol is halted and resumed."""
    buyer, _ = await venue.create_account("buyer", cash=10**16)
    seller, _ = await venue.create_account("seller", cash=10**16)
    for index in range(rounds):
        symbol = "AAPL" if index % 2 else "MSFT"
        resting = await venue.execute(SubmitOrder(0, seller, symbol, SELL, 5, 15_000 + index % 7))
        await venue.execute(SubmitOrder(0, buyer, symbol, BUY, 3, 15_010))
        if index % 5 == 0:
            order_id = resting.events[0].order_id  # type: ignore[attr-defined]
            await venue.execute(CancelOrder(order_id, seller))
    await venue.execute_admin(SetInstrumentHalt("MSFT", True))
    await venue.execute_admin(SetInstrumentHalt("MSFT", False))


async def published(venue: Venue, timeout: float = 10.0) -> None:
    """Wait until the venue's NATS publisher is up, caught up and has nothing queued."""
    deadline = time.monotonic() + timeout
    while True:
        brokers = venue.health()["stream"]["brokers"]
        nats_health = brokers["nats"]  # type: ignore[index]
        if nats_health["status"] == "up" and nats_health["lag"] == 0 and not nats_health["catching_up"]:
            return
        assert time.monotonic() < deadline, f"the stream did not catch up: {nats_health}"
        await asyncio.sleep(0.02)


async def streams(prefix: str, url: str = NATS_URL) -> dict[str, list[Message]]:
    """Read every stream of ``prefix`` back."""
    return {stream: await read_stream(url, prefix, stream) for stream in STREAMS}


def assert_equal_to_journal(venue: Venue, actual: dict[str, list[Message]]) -> None:
    """Fail unless every stream holds exactly the journal's messages, in order, once."""
    core = venue.core.core
    expected = expected_messages(core.journal_dir, venue.instruments, core.sequence)
    for stream in STREAMS:
        assert not differences(expected[stream], actual[stream]), (
            f"{stream}: {differences(expected[stream], actual[stream])}"
        )
    assert sum(len(messages) for messages in expected.values()) > 0
