"""A broker that is down at start-up and stays down past the queue: the journal supplies what the queue dropped."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.adapters.nats.trading import assert_equal_to_journal, published, streams, trade

from hft.config.settings import Settings
from hft.engine.core import Ack
from hft.engine.replay import replay_batches
from hft.service.venue import Venue, brokers
from hft.streams.publisher import StreamPublisher
from hft.streams.schema import MessageEncoder
from hft.testing.services import NatsServer


def test_a_publisher_that_overflowed_during_an_outage_catches_up_from_the_journal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "hft.streams")
    nats_server = NatsServer()
    with nats_server:
        settings = Settings(data_dir=tmp_path, fsync=False, demo_account=False, nats_url=nats_server.url)

        async def scenario() -> None:
            venue = Venue(settings)

            def read_journal(last_sequence: int) -> Iterator[list[Ack]]:
                return replay_batches(tmp_path / "journal", venue.instruments, last_sequence)

            # A queue of 50 events: the outage below overflows it many times over.
            publisher = StreamPublisher(
                brokers(settings)[0], MessageEncoder(venue.instruments), read_journal, venue.metrics,
                max_pending_events=50,
            )  # fmt: skip
            venue.publishers[:] = [publisher]
            await venue.start()
            try:
                await trade(venue, rounds=40)
                health = venue.health()["stream"]
                assert health["status"] == "down", health
                assert health["brokers"]["nats"]["lag"] > 50  # type: ignore[index]
                await asyncio.to_thread(nats_server.start)
                started = time.monotonic()
                await published(venue)
                assert time.monotonic() - started < 10
                assert_equal_to_journal(venue, await streams("", nats_server.url))
            finally:
                await venue.stop()

        asyncio.run(scenario())
    assert "the journal will supply them" in caplog.text
    assert "caught up with commands 1.." in caplog.text
