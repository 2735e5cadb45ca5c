"""Reading an event stream back from Kafka: all of it (tests, audits) or as it grows (``hft tail``).

Readers use no consumer group, so they commit nothing and leave nothing
behind on the broker, and they never create a topic (see ``topic_partitions``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import Any, Final

from hft.adapters.kafka.broker import (
    FETCH_WAIT_MS,
    at_end,
    connection_errors,
    open_consumer,
    record_sequence,
    topic_name,
    topic_partitions,
)
from hft.streams.schema import Message, decode

TOPIC_POLL_SECONDS: Final = 0.5
FOLLOW_WAIT_MS: Final = 1_000


async def read_stream(bootstrap: str, prefix: str, stream: str) -> list[Message]:
    """Return every record of ``stream``'s topic, from every partition, sorted by sequence (empty if no topic).

    Cost: O(records); reads each partition from its start to the high
    watermark its fetch reports.
    """
    partitions = await topic_partitions(bootstrap, topic_name(prefix, stream))
    if not partitions:
        return []
    consumer = open_consumer(bootstrap)
    try:
        with connection_errors():
            await consumer.start()
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        messages: list[Message] = []
        await _read_to_end(consumer, partitions, lambda record: messages.append(_message(stream, record)))
        return sorted(messages, key=lambda message: message.sequence)
    finally:
        await consumer.stop()


async def follow(bootstrap: str, prefix: str, stream: str, from_start: bool) -> AsyncGenerator[Message, None]:
    """Yield ``stream``'s records as they arrive (the stored ones first when ``from_start``). Never ends.

    Waits for the topic if it does not exist yet (then reads it from its
    start: everything in it is new). Order holds within a partition, not
    across partitions. Partitions added later are not followed.
    """
    name = topic_name(prefix, stream)
    partitions = await topic_partitions(bootstrap, name)
    created = not partitions
    while not partitions:
        await asyncio.sleep(TOPIC_POLL_SECONDS)
        partitions = await topic_partitions(bootstrap, name)
    consumer = open_consumer(bootstrap)
    try:
        with connection_errors():
            await consumer.start()
        consumer.assign(partitions)
        if from_start or created:
            await consumer.seek_to_beginning(*partitions)
        else:
            # Where the offset lookup puts the end may be inside the last batch (Tansu): skip to the real end.
            await consumer.seek_to_end(*partitions)
            await _read_to_end(consumer, partitions, lambda record: None)
        while True:
            fetched = await consumer.getmany(timeout_ms=FOLLOW_WAIT_MS)
            for records in fetched.values():
                for record in records:
                    yield _message(stream, record)
    finally:
        await consumer.stop()


async def _read_to_end(consumer: Any, partitions: list[Any], sink: Callable[[Any], None]) -> None:
    """Hand ``sink`` every record from each partition's position up to its high watermark."""
    pending = set(partitions)
    while pending:
        fetched = await consumer.getmany(*pending, timeout_ms=FETCH_WAIT_MS)
        for records in fetched.values():
            for record in records:
                sink(record)
        pending = {tp for tp in pending if not await at_end(consumer, tp)}


def _message(stream: str, record: Any) -> Message:
    payload: bytes = record.value
    event = decode(payload)
    sequence = record_sequence(record) or event.sequence
    return Message(stream, record.key.decode(), sequence, event.ts, payload)
