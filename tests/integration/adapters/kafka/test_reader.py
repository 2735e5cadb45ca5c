"""Reading topics back: ``follow`` yields what arrives (and what was there, when asked), waiting for a missing topic."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator

import msgspec

from hft.adapters.kafka.broker import KafkaBroker
from hft.adapters.kafka.reader import follow, read_stream
from hft.streams import schema
from hft.streams.schema import Message
from hft.testing.tansu import TansuBroker

TS = 1_767_225_600_000_000_000
KEYS = ("AAPL", "MSFT", "AMZN")  # partitions 0, 0 and 2 of 3


def _message(sequence: int) -> Message:
    key = KEYS[sequence % len(KEYS)]
    halted = schema.InstrumentHaltSet(
        sequence=sequence, command_sequence=sequence, ts=TS + sequence, symbol=key, halted=True
    )
    return Message("market-data", key, sequence, TS + sequence, msgspec.json.encode(halted))


async def _take(messages: AsyncIterator[Message], count: int) -> list[Message]:
    return [await asyncio.wait_for(anext(messages), 5) for _ in range(count)]


async def _publish(bootstrap: str, prefix: str, messages: list[Message]) -> int:
    """Publish ``messages`` with a fresh adapter; return how many lanes (partitions) it found."""
    broker = KafkaBroker(bootstrap, prefix)
    try:
        await broker.connect()
        lanes = len(await broker.positions())
        await broker.publish(messages)
        return lanes
    finally:
        await broker.close()


def test_follow_yields_only_new_records_unless_asked_for_the_stored_ones(tansu: TansuBroker, prefix: str) -> None:
    stored = [_message(sequence) for sequence in range(1, 31)]
    new = [_message(sequence) for sequence in range(31, 41)]

    async def scenario() -> None:
        await _publish(tansu.bootstrap, prefix, stored)
        latest = follow(tansu.bootstrap, prefix, "market-data", from_start=False)
        everything = follow(tansu.bootstrap, prefix, "market-data", from_start=True)
        try:
            first = await _take(everything, len(stored))
            # Only once the reader is at the end can it tell new records from stored ones.
            pending = asyncio.ensure_future(_take(latest, len(new)))
            await asyncio.sleep(0.5)
            await _publish(tansu.bootstrap, prefix, new)
            arrived = await pending
            rest = await _take(everything, len(new))
        finally:
            await latest.aclose()
            await everything.aclose()
        by_sequence = sorted(first + rest, key=lambda message: message.sequence)
        assert by_sequence == stored + new
        assert sorted(arrived, key=lambda message: message.sequence) == new

    asyncio.run(scenario())


def test_follow_waits_for_a_topic_that_does_not_exist_yet(tansu: TansuBroker, prefix: str) -> None:
    messages = [_message(sequence) for sequence in range(1, 6)]

    async def scenario() -> None:
        assert await read_stream(tansu.bootstrap, prefix, "market-data") == []
        waiting = follow(tansu.bootstrap, prefix, "market-data", from_start=False)
        pending = asyncio.ensure_future(_take(waiting, len(messages)))
        try:
            await asyncio.sleep(0.3)
            # 4 topics of 3: neither reader made the topic itself (Tansu would have given it 4 partitions).
            assert await _publish(tansu.bootstrap, prefix, messages) == 12
            arrived = await pending
        finally:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending
            await waiting.aclose()
        assert sorted(arrived, key=lambda message: message.sequence) == messages

    asyncio.run(scenario())


def test_hft_tail_prints_a_topics_records_for_one_key(tansu: TansuBroker, prefix: str) -> None:
    asyncio.run(_publish(tansu.bootstrap, prefix, [_message(sequence) for sequence in range(1, 10)]))
    command = [sys.executable, "-m", "hft", "tail", "market-data", "--kafka", tansu.bootstrap, "--prefix", prefix]
    result = subprocess.run(
        [*command, "--from-start", "--count", "3", "--key", "MSFT"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(line["type"], line["symbol"], line["sequence"]) for line in lines] == [
        ("InstrumentHaltSet", "MSFT", sequence) for sequence in (1, 4, 7)
    ]
