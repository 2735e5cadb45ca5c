"""The Kafka adapter against a real Tansu: topics, partitions, records, positions, and no gap after a broker restart."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec
import pytest
from aiokafka import AIOKafkaClient, TopicPartition  # type: ignore[import-untyped]
from aiokafka.partitioner import DefaultPartitioner  # type: ignore[import-untyped]

from hft.adapters.kafka import broker as kafka
from hft.adapters.kafka.broker import KafkaBroker, open_consumer, topic_name
from hft.adapters.kafka.reader import read_stream
from hft.streams import schema
from hft.streams.schema import SCHEMA_VERSION, STREAMS, Message
from hft.testing.server import free_port
from hft.testing.tansu import TansuBroker

SYMBOLS = ("AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "TSLA", "SPY", "BTC-USD", "ETH-USD")
TS = 1_767_225_600_000_000_000


def _message(sequence: int, key: str, padding: int = 0) -> Message:
    """A real ``OrderCancelled`` message on ``orders`` (``padding`` characters of text make it larger)."""
    cancelled = schema.OrderCancelled(
        sequence=sequence, command_sequence=sequence, ts=TS + sequence, order_id=sequence, account=1, symbol=key,
        reason="USER" + "x" * padding, cancelled_quantity="1",
    )  # fmt: skip
    return Message("orders", key, sequence, TS + sequence, msgspec.json.encode(cancelled))


async def _records(bootstrap: str, topic: str) -> list[Any]:
    """Every raw record of ``topic`` (all partitions), as aiokafka delivers it."""
    consumer = open_consumer(bootstrap)
    try:
        await consumer.start()
        partitions = [TopicPartition(topic, partition) for partition in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list[Any] = []
        pending = set(partitions)
        while pending:
            for batch in (await consumer.getmany(*pending, timeout_ms=100)).values():
                records.extend(batch)
            pending = {tp for tp in pending if not await kafka.at_end(consumer, tp)}
        return records
    finally:
        await consumer.stop()


async def _partition_counts(bootstrap: str) -> dict[str, int]:
    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    try:
        await client.bootstrap()
        cluster = await client.fetch_all_metadata()
        return {topic: len(cluster.partitions_for_topic(topic)) for topic in cluster.topics()}
    finally:
        await client.close()


def test_connect_creates_each_streams_topic_with_the_configured_partitions(tansu: TansuBroker, prefix: str) -> None:
    async def scenario() -> None:
        broker = KafkaBroker(tansu.bootstrap, prefix, partitions=5)
        # Configured for 3 later: the topics keep their 5 partitions, and lanes follow the topics.
        later = KafkaBroker(tansu.bootstrap, prefix, partitions=3)
        try:
            await broker.connect()
            await broker.connect()  # the topics exist now: nothing to create, nothing refused
            positions = await broker.positions()
            await later.connect()
            assert await later.positions() == positions
            # AMZN: partition 1 of 5, 2 of 3.
            assert later.lane("orders", "AMZN") == broker.lane("orders", "AMZN") == (f"{prefix}-orders", 1)
        finally:
            await broker.close()
            await later.close()
        counts = await _partition_counts(tansu.bootstrap)
        assert {topic_name(prefix, stream): counts[topic_name(prefix, stream)] for stream in STREAMS} == {
            f"{prefix}-{stream}": 5 for stream in STREAMS
        }
        assert positions == {(f"{prefix}-{stream}", partition): 0 for stream in STREAMS for partition in range(5)}

    asyncio.run(scenario())


def test_each_key_goes_to_the_partition_aiokafkas_partitioner_picks_with_its_headers(
    tansu: TansuBroker, prefix: str
) -> None:
    messages = [_message(sequence, SYMBOLS[sequence % len(SYMBOLS)]) for sequence in range(1, 46)]

    async def scenario() -> list[Any]:
        broker = KafkaBroker(tansu.bootstrap, prefix, partitions=3)
        try:
            await broker.connect()
            await broker.publish(messages)
        finally:
            await broker.close()
        return await _records(tansu.bootstrap, f"{prefix}-orders")

    records = asyncio.run(scenario())
    partitioner = DefaultPartitioner()
    assert len(records) == len(messages)
    for record in records:
        key: bytes = record.key
        assert record.partition == partitioner(key, [0, 1, 2], [0, 1, 2])
        headers = dict(record.headers)
        assert headers == {"hft-sequence": headers["hft-sequence"], "hft-schema": str(SCHEMA_VERSION).encode()}
        sequence = int(headers["hft-sequence"])
        assert (key.decode(), record.value) == (messages[sequence - 1].key, messages[sequence - 1].payload)
        assert record.timestamp == (TS + sequence) // 1_000_000
    assert len({record.partition for record in records}) == 3  # the symbols spread over every partition
    by_partition: dict[int, list[int]] = {}
    for record in sorted(records, key=lambda record: (record.partition, record.offset)):
        by_partition.setdefault(record.partition, []).append(int(dict(record.headers)["hft-sequence"]))
    assert all(sequences == sorted(sequences) for sequences in by_partition.values())


def test_read_stream_returns_exactly_what_was_published_and_positions_name_each_partitions_last(
    tansu: TansuBroker, prefix: str
) -> None:
    messages = [_message(sequence, SYMBOLS[sequence % 4]) for sequence in range(1, 101)]

    async def scenario() -> None:
        broker = KafkaBroker(tansu.bootstrap, prefix)
        try:
            await broker.connect()
            # Several publishes: several batches per partition, as the publisher's rounds make them.
            for start in range(0, len(messages), 30):
                await broker.publish(messages[start : start + 30])
            positions = await broker.positions()
            await broker.connect()
            assert await broker.positions() == positions  # a fresh connection reads the same
        finally:
            await broker.close()
        assert await read_stream(tansu.bootstrap, prefix, "orders") == messages
        assert await read_stream(tansu.bootstrap, prefix, "accounts") == []
        last: dict[Any, int] = {}
        for message in messages:
            last[broker.lane(message.stream, message.key)] = message.sequence
        assert {lane: sequence for lane, sequence in positions.items() if sequence} == last
        assert all(sequence == 0 for lane, sequence in positions.items() if lane not in last)

    asyncio.run(scenario())


def test_a_lane_larger_than_one_batch_is_stored_whole_in_order(tansu: TansuBroker, prefix: str) -> None:
    messages = [_message(sequence, "AAPL", padding=600) for sequence in range(1, 2_001)]
    assert sum(len(message.payload) for message in messages) > 1.2 * kafka.MAX_BATCH_BYTES

    async def scenario() -> None:
        broker = KafkaBroker(tansu.bootstrap, prefix)
        try:
            await broker.connect()
            await broker.publish(messages)
            assert (await broker.positions())[broker.lane("orders", "AAPL")] == 2_000
        finally:
            await broker.close()
        assert await read_stream(tansu.bootstrap, prefix, "orders") == messages

    asyncio.run(scenario())


def test_nothing_reaches_a_broker_that_restarted_empty_until_positions_are_read_again(
    private_tansu: TansuBroker, prefix: str
) -> None:
    async def scenario() -> None:
        broker = KafkaBroker(private_tansu.bootstrap, prefix)
        try:
            await broker.connect()
            await broker.publish([_message(1, "AAPL"), _message(2, "AAPL")])
            private_tansu.kill()
            private_tansu.start()
            # The restarted broker holds nothing: a record sent now would start the partition at event 3.
            with pytest.raises(ConnectionError):
                await broker.publish([_message(3, "AAPL")])
            assert await read_stream(private_tansu.bootstrap, prefix, "orders") == []
            await broker.connect()
            assert set((await broker.positions()).values()) == {0}
            await broker.publish([_message(1, "AAPL"), _message(2, "AAPL"), _message(3, "AAPL")])
        finally:
            await broker.close()
        stored = await read_stream(private_tansu.bootstrap, prefix, "orders")
        assert [message.sequence for message in stored] == [1, 2, 3]

    asyncio.run(scenario())


def test_without_a_broker_every_call_fails_fast_instead_of_hanging(prefix: str) -> None:
    async def scenario() -> None:
        broker = KafkaBroker(f"127.0.0.1:{free_port()}", prefix)
        started = time.monotonic()
        with pytest.raises(ConnectionError):
            await broker.publish([_message(1, "AAPL")])
        with pytest.raises(ConnectionError):
            await broker.positions()
        with pytest.raises(ConnectionError):
            await broker.connect()
        await broker.close()
        with pytest.raises(ConnectionError):
            await read_stream(broker.bootstrap, prefix, "orders")
        assert time.monotonic() - started < kafka.CONNECT_TIMEOUT_SECONDS + 1

    asyncio.run(scenario())
