"""``hft bench streams``: events per second into each broker, and the lag from engine event to broker ack.

Two measurements per broker, each under a fresh stream prefix (removed after):

- catch-up: a journal of ``orders`` commands is published from scratch, as
  after a long outage: journal replay, encoding and publishing, flat out.
- live: a venue (fsync on) takes orders at ``rate`` a second for ``seconds``;
  every message's lag is its broker acknowledgement time minus the time the
  sequencer stamped its command (so it includes the journal's fsync).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from hft.bench.core_bench import core_commands, remove, temporary_data_dir
from hft.bench.orderflow import FlowRow, flow_instruments, generate
from hft.config.settings import Settings
from hft.domain.commands import Command
from hft.engine.core import Ack
from hft.engine.replay import replay_batches
from hft.observability.metrics import Metrics
from hft.service.venue import Venue, brokers
from hft.streams.publisher import Broker, StreamPublisher
from hft.streams.schema import Message, MessageEncoder

CHUNK = 500


@dataclass(frozen=True)
class StreamsBenchSettings:
    """What to measure: which brokers, how many orders to catch up, and the live rate and length."""

    nats_url: str | None
    kafka_bootstrap: str | None
    orders: int
    rate: int
    seconds: int
    data_dir: Path | None


def run(settings: StreamsBenchSettings) -> dict[str, Any]:
    """Measure every configured broker; return one result per broker name."""
    rows = list(generate(settings.orders, symbols=8))
    results: dict[str, Any] = {}
    for name, configure in _brokers(settings).items():
        results[name] = {
            "catch_up": asyncio.run(_catch_up(settings, rows, configure)),
            "live": asyncio.run(_live(settings, rows, configure)),
        }
    return results


Configure = Callable[[Settings], Settings]


def _brokers(settings: StreamsBenchSettings) -> dict[str, Configure]:
    configured: dict[str, Configure] = {}
    if settings.nats_url:
        url = settings.nats_url
        configured["nats"] = lambda base: msgspec.structs.replace(base, nats_url=url)
    if settings.kafka_bootstrap:
        bootstrap = settings.kafka_bootstrap
        configured["kafka"] = lambda base: msgspec.structs.replace(base, kafka_bootstrap=bootstrap)
    if not configured:
        raise RuntimeError("no broker to measure: give --nats URL and/or --kafka HOST:PORT")
    return configured


def _settings(data_dir: Path, fsync: bool) -> Settings:
    return Settings(data_dir=data_dir, fsync=fsync, demo_account=False, stream_prefix=f"bench-{secrets.token_hex(4)}")


async def _journal(venue: Venue, setup: list[Command], commands: list[Command]) -> None:
    await venue.core.execute_many(setup)
    for start in range(0, len(commands), CHUNK):
        await venue.core.execute_many(commands[start : start + CHUNK])


async def _catch_up(settings: StreamsBenchSettings, rows: list[FlowRow], configure: Configure) -> dict[str, Any]:
    data_dir = temporary_data_dir(settings.data_dir)
    try:
        instruments = flow_instruments(rows)
        setup, commands = core_commands(rows)
        venue = Venue(_settings(data_dir, fsync=False), instruments)
        await venue.start()
        await _journal(venue, setup, commands)
        journaled, last_event = venue.core.core.sequence, venue.core.exchange.engine.sequence
        await venue.stop()
        venue = Venue(configure(_settings(data_dir, fsync=False)), instruments)
        broker = brokers(venue.settings)[0]
        journal_dir = data_dir / "journal"

        def read_journal(last_sequence: int) -> Iterator[list[Ack]]:
            return replay_batches(journal_dir, instruments, last_sequence)

        publisher = StreamPublisher(broker, MessageEncoder(instruments), read_journal, Metrics())
        counted = [0]
        started = time.perf_counter()
        publisher.on_published = lambda messages: counted.__setitem__(0, counted[0] + len(messages))
        publisher.start(journaled, last_event)
        await _until_published(publisher)
        elapsed = time.perf_counter() - started
        await publisher.stop()
        await _delete(broker)
        return {
            "commands": journaled,
            "events": last_event,
            "messages": counted[0],
            "seconds": round(elapsed, 2),
            "messages_per_second": round(counted[0] / elapsed),
        }
    finally:
        remove(data_dir)


async def _live(settings: StreamsBenchSettings, rows: list[FlowRow], configure: Configure) -> dict[str, Any]:
    data_dir = temporary_data_dir(settings.data_dir)
    try:
        instruments = flow_instruments(rows)
        setup, commands = core_commands(rows)
        venue = Venue(configure(_settings(data_dir, fsync=True)), instruments)
        await venue.start()
        publisher = venue.publishers[0]
        lags_us: list[float] = []

        def record(messages: list[Message]) -> None:
            now = time.time_ns()
            lags_us.extend((now - message.ts) / 1000 for message in messages)

        await venue.core.execute_many(setup)
        await _until_published(publisher)
        publisher.on_published = record
        offered = await _offer(venue, commands, settings.rate, settings.seconds)
        await _until_published(publisher)
        await venue.stop()
        await _delete(publisher.broker)
        lags_us.sort()
        return {
            "orders_per_second_offered": settings.rate,
            "orders": offered,
            "messages": len(lags_us),
            "messages_per_second": round(len(lags_us) / settings.seconds),
            "lag_us": {
                "p50": _percentile(lags_us, 0.50),
                "p99": _percentile(lags_us, 0.99),
                "p99.9": _percentile(lags_us, 0.999),
                "max": round(lags_us[-1]) if lags_us else None,
            },
        }
    finally:
        remove(data_dir)


async def _offer(venue: Venue, commands: list[Command], rate: int, seconds: int) -> int:
    """Submit commands open-loop at ``rate`` a second (in 1 ms ticks) for ``seconds``; return how many."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    pending: set[asyncio.Future[Any]] = set()
    sent = 0
    while (elapsed := loop.time() - started) < seconds and sent < len(commands):
        due = min(int(elapsed * rate) + 1, len(commands))
        while sent < due:
            future = asyncio.ensure_future(venue.execute(commands[sent]))
            pending.add(future)
            future.add_done_callback(pending.discard)
            sent += 1
        await asyncio.sleep(0.001)
    if pending:
        await asyncio.gather(*pending)
    return sent


async def _until_published(publisher: StreamPublisher, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        health = publisher.health()
        if health["status"] == "up" and health["lag"] == 0 and not health["catching_up"]:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{publisher.broker.name} did not catch up within {timeout:.0f} s: {health}")
        await asyncio.sleep(0.01)


async def _delete(broker: Broker) -> None:
    delete = getattr(broker, "delete_streams", None)
    if delete is not None:
        await delete()


def _percentile(ordered: list[float], fraction: float) -> float | None:
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))])
