"""Kafka as an event broker: one topic per event stream, one ordered lane per partition.

Stream ``orders`` is topic ``orders`` (``{prefix}-orders`` with a prefix). A
message goes to the partition aiokafka's default partitioner (murmur2, as the
Java client) picks for its key, so a consumer that hashes keys the usual way
finds the same partition; the lane is ``(topic, partition)``. Every record
carries ``hft-sequence`` (the event sequence, the message id) and
``hft-schema`` headers.

Kafka has no conditional append (nothing like JetStream's expected last
sequence), so the adapter keeps each lane free of gaps in two ways:

* One publish sends a lane's records as one record batch in one produce
  request, which the broker stores whole or not at all. A lane too large for
  one batch goes as several, each sent only once the previous one is stored,
  so what is stored is always a prefix. Nothing is retried here: a failure
  raises, and the publisher asks again where every lane ends.
* It never reconnects on its own. The produce connections are opened by
  ``connect``, before ``positions`` reads where each partition ends, and one
  that breaks is not replaced until the next ``connect``. A broker that came
  back without its data (Tansu on memory storage, a wiped cluster) has broken
  every connection, so no record reaches it before ``positions`` has seen it
  empty; otherwise the next records would start an empty partition above a
  gap the publisher would never fill. (Tansu even stores records sent to a
  topic or partition it does not have, so a refusal cannot be counted on.)

No idempotent producer: Tansu refuses InitProducerId, and ``hft-sequence``
already identifies each message. A produce that times out here may still be
stored afterwards; the publisher then sends it again, so in that corner a
consumer sees a message twice and de-duplicates on ``hft-sequence``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Hashable, Iterable, Iterator, Sequence
from typing import Any, Final

from aiokafka import AIOKafkaClient, AIOKafkaConsumer, TopicPartition  # type: ignore[import-untyped]
from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # type: ignore[import-untyped]
from aiokafka.conn import create_conn  # type: ignore[import-untyped]
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError, for_code  # type: ignore[import-untyped]
from aiokafka.partitioner import DefaultPartitioner  # type: ignore[import-untyped]
from aiokafka.protocol.produce import ProduceRequest  # type: ignore[import-untyped]
from aiokafka.record.default_records import DefaultRecordBatchBuilder  # type: ignore[import-untyped]

from hft.streams.schema import SCHEMA_VERSION, STREAMS, Message

log = logging.getLogger("hft.kafka")

CLIENT_ID: Final = "hft-publisher"
SEQUENCE_HEADER: Final = "hft-sequence"
SCHEMA_HEADER: Final = "hft-schema"
CONNECT_TIMEOUT_SECONDS: Final = 10.0
POSITIONS_TIMEOUT_SECONDS: Final = 10.0
PUBLISH_TIMEOUT_SECONDS: Final = 10.0
REQUEST_TIMEOUT_MS: Final = 5_000
# How long the leader may wait for the in-sync replicas (acks=all) before it answers with an error.
ACK_TIMEOUT_MS: Final = 4_000
FETCH_WAIT_MS: Final = 100
# Under Kafka's default message.max.bytes (1 MiB): a bigger batch would be refused on every retry.
MAX_BATCH_BYTES: Final = 960 * 1024
ACKS_ALL: Final = -1
_RECORD_MAGIC: Final = 2
_SCHEMA_VALUE: Final = str(SCHEMA_VERSION).encode()
_partitioner: Final = DefaultPartitioner()

Lane = tuple[str, int]


def topic_name(prefix: str, stream: str) -> str:
    """Return the Kafka topic of ``stream`` (``orders``, or ``{prefix}-orders``)."""
    return f"{prefix}-{stream}" if prefix else stream


def partition_for(key: str, partitions: int) -> int:
    """Return the partition aiokafka's default (murmur2, Java-compatible) partitioner gives ``key``. O(len(key))."""
    every = list(range(partitions))
    partition: int = _partitioner(key.encode(), every, every)
    return partition


class KafkaBroker:
    """Publishes to and reads positions from Kafka (or a Kafka-compatible broker such as Tansu), over aiokafka."""

    name = "kafka"

    def __init__(self, bootstrap: str, prefix: str = "", partitions: int = 3, replication_factor: int = 1) -> None:
        self.bootstrap: Final = bootstrap
        self.partitions: Final = partitions
        self.replication_factor: Final = replication_factor
        self.topics: Final = {stream: topic_name(prefix, stream) for stream in STREAMS}
        # The partition count of each topic as the broker reported it on the last connect.
        self._counts: dict[str, int] = dict.fromkeys(self.topics.values(), partitions)
        self._lanes: dict[tuple[str, str], Lane] = {}
        self._leaders: dict[Lane, int] = {}
        self._connections: dict[int, Any] = {}

    # -- connection ---------------------------------------------------------------

    async def connect(self) -> None:
        """Create missing topics, learn each partition's leader and open one produce connection per leader.

        Raises if the broker does not answer within ``CONNECT_TIMEOUT_SECONDS``.
        Cost: a few round trips, and one topic creation on a fresh broker.
        """
        await self.close()
        try:
            with connection_errors():
                await asyncio.wait_for(self._open(), CONNECT_TIMEOUT_SECONDS)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Close the produce connections, if any (never raises)."""
        connections, self._connections = self._connections, {}
        for connection in connections.values():
            with contextlib.suppress(Exception):
                connection.close()

    async def _open(self) -> None:
        client = AIOKafkaClient(
            bootstrap_servers=self.bootstrap, client_id=CLIENT_ID, request_timeout_ms=REQUEST_TIMEOUT_MS
        )
        try:
            await client.bootstrap()
            # Metadata for every topic: naming ours would let a broker that auto-creates topics make them itself.
            cluster = await client.fetch_all_metadata()
            missing = [name for name in self.topics.values() if name not in cluster.topics()]
            if missing:
                await self._create_topics(missing)
            cluster = await self._cluster_with_leaders(client)
            self._learn_layout(cluster)
            for node_id in sorted(set(self._leaders.values())):
                broker = cluster.broker_metadata(node_id)
                self._connections[node_id] = await create_conn(
                    broker.host, broker.port, client_id=CLIENT_ID, request_timeout_ms=REQUEST_TIMEOUT_MS
                )
        finally:
            await client.close()

    async def _create_topics(self, names: list[str]) -> None:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.bootstrap, client_id=CLIENT_ID, request_timeout_ms=REQUEST_TIMEOUT_MS
        )
        try:
            await admin.start()
            response = await admin.create_topics(
                [NewTopic(name, self.partitions, self.replication_factor) for name in names]
            )
        finally:
            await admin.close()
        for topic, code, *_ in response.topic_errors:
            if code == 0:
                log.info("created Kafka topic %s with %d partitions", topic, self.partitions)
            # Already there: another publisher of the same deployment created it first.
            elif (error := for_code(code)) is not TopicAlreadyExistsError:
                raise error(f"cannot create topic {topic}")

    async def delete_streams(self) -> None:
        """Delete this prefix's topics and everything in them (benchmarks and tests clean up with it)."""
        await self.close()
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.bootstrap, client_id=CLIENT_ID, request_timeout_ms=REQUEST_TIMEOUT_MS
        )
        try:
            with connection_errors():
                await admin.start()
                await admin.delete_topics(list(self.topics.values()))
        finally:
            await admin.close()

    async def _cluster_with_leaders(self, client: Any) -> Any:
        """Return cluster metadata once every partition of our topics has a leader (new topics take a moment)."""
        while True:
            cluster = await client.fetch_all_metadata()
            if all(_has_leaders(cluster, name) for name in self.topics.values()):
                return cluster
            await asyncio.sleep(0.05)

    def _learn_layout(self, cluster: Any) -> None:
        leaders: dict[Lane, int] = {}
        for name in self.topics.values():
            partitions = sorted(cluster.partitions_for_topic(name))
            if partitions != list(range(len(partitions))):
                raise RuntimeError(f"topic {name} has partitions {partitions}, not 0..n-1")
            if len(partitions) != self.partitions:
                log.warning("topic %s has %d partitions, not %d: using them", name, len(partitions), self.partitions)
            if self._counts[name] != len(partitions):
                self._lanes.clear()
            self._counts[name] = len(partitions)
            for partition in partitions:
                leaders[name, partition] = cluster.leader_for_partition(TopicPartition(name, partition))
        self._leaders = leaders

    # -- lanes and positions ----------------------------------------------------------

    def lane(self, stream: str, key: str) -> Hashable:
        """Return ``(topic, partition)`` for ``key``. O(1) once the key was seen, O(len(key)) the first time."""
        return self._lane(stream, key)

    def _lane(self, stream: str, key: str) -> Lane:
        lane = self._lanes.get((stream, key))
        if lane is None:
            topic = self.topics[stream]
            lane = self._lanes[stream, key] = (topic, partition_for(key, self._counts[topic]))
        return lane

    async def positions(self) -> dict[Hashable, int]:
        """Read the ``hft-sequence`` of the last record of every partition of the four topics (0 when empty).

        A partition whose records have all expired counts as empty. Cost: one
        consumer, one offset lookup and one fetch of each partition's last
        batch; raises after ``POSITIONS_TIMEOUT_SECONDS``.
        """
        self._require_connection()
        lanes = [TopicPartition(topic, partition) for topic, partition in self._leaders]
        with connection_errors():
            last = await asyncio.wait_for(_last_records(self.bootstrap, lanes), POSITIONS_TIMEOUT_SECONDS)
        positions: dict[Hashable, int] = dict.fromkeys(self._leaders, 0)
        for tp, record in last.items():
            positions[tp.topic, tp.partition] = record_sequence(record)
        return positions

    # -- publishing ---------------------------------------------------------------------

    async def publish(self, messages: Sequence[Message]) -> None:
        """Store ``messages``, each lane's as one batch (or a prefix-safe chain of them); raise on any failure.

        Raises if a connection broke since ``connect`` (nothing is sent to a
        broker whose positions were not read), if the broker refused a batch,
        or after ``PUBLISH_TIMEOUT_SECONDS``. Cost: one produce request per
        leader, plus one more round per ``MAX_BATCH_BYTES`` of the largest lane.
        """
        self._require_connection()
        batches = {lane: _batches(records) for lane, records in self._by_lane(messages).items()}
        rounds = max((len(chain) for chain in batches.values()), default=0)
        for index in range(rounds):
            # Round n+1 of a lane goes only after round n is stored: what a failure leaves is a prefix.
            wave = {lane: chain[index] for lane, chain in batches.items() if index < len(chain)}
            await asyncio.wait_for(self._produce(wave), PUBLISH_TIMEOUT_SECONDS)

    def _by_lane(self, messages: Sequence[Message]) -> dict[Lane, list[Message]]:
        lanes: dict[Lane, list[Message]] = {}
        lane = self._lane
        for message in messages:
            lanes.setdefault(lane(message.stream, message.key), []).append(message)
        return lanes

    async def _produce(self, wave: dict[Lane, bytes]) -> None:
        """Send one batch per lane, one request per leader at once; raise unless every lane stored its batch."""
        requests: dict[int, dict[str, list[tuple[int, bytes]]]] = {}
        for (topic, partition), batch in wave.items():
            requests.setdefault(self._leaders[topic, partition], {}).setdefault(topic, []).append((partition, batch))
        nodes = list(requests)
        answers = await asyncio.gather(
            *(self._send(node, requests[node]) for node in nodes),
            return_exceptions=True,
        )
        for node, answer in zip(nodes, answers, strict=True):
            if isinstance(answer, BaseException):
                raise answer
            _check_stored(answer, requests[node])

    async def _send(self, node_id: int, topics: dict[str, list[tuple[int, bytes]]]) -> Any:
        connection = self._connections.get(node_id)
        if connection is None or not connection.connected():
            raise ConnectionError(f"the connection to Kafka node {node_id} was lost; positions must be read again")
        request = ProduceRequest(None, ACKS_ALL, ACK_TIMEOUT_MS, list(topics.items()))
        with connection_errors():
            return await connection.send(request)

    def _require_connection(self) -> None:
        if not self._connections:
            raise ConnectionError("not connected to Kafka")


@contextlib.contextmanager
def connection_errors() -> Iterator[None]:
    """Raise aiokafka's connection errors as ``ConnectionError`` (what the publisher and ``hft tail`` expect)."""
    try:
        yield
    except KafkaConnectionError as error:
        raise ConnectionError(str(error) or type(error).__name__) from error


def record_sequence(record: Any) -> int:
    """Return the event sequence in a consumed record's ``hft-sequence`` header (0 without one)."""
    for name, value in record.headers or ():
        if name == SEQUENCE_HEADER and value:
            return int(value)
    return 0


def _has_leaders(cluster: Any, topic: str) -> bool:
    partitions = cluster.partitions_for_topic(topic)
    leaders = [cluster.leader_for_partition(TopicPartition(topic, partition)) for partition in partitions or ()]
    # None: unknown, -1: no leader elected yet (node ids start at 0).
    return bool(leaders) and all(leader is not None and leader >= 0 for leader in leaders)


def _batches(messages: Iterable[Message]) -> list[bytes]:
    """Encode a lane's messages as record batches of at most ``MAX_BATCH_BYTES`` (one, unless the lane is large)."""
    batches: list[bytes] = []
    builder = _builder()
    offset = 0
    for message in messages:
        key = message.key.encode()
        timestamp = message.ts // 1_000_000
        headers = [(SEQUENCE_HEADER, str(message.sequence).encode()), (SCHEMA_HEADER, _SCHEMA_VALUE)]
        if builder.append(offset, timestamp, key, message.payload, headers) is None:
            batches.append(bytes(builder.build()))
            builder, offset = _builder(), 0
            builder.append(offset, timestamp, key, message.payload, headers)  # the first record always fits
        offset += 1
    if offset:
        batches.append(bytes(builder.build()))
    return batches


def _builder() -> Any:
    return DefaultRecordBatchBuilder(
        magic=_RECORD_MAGIC,
        compression_type=0,
        is_transactional=0,
        producer_id=-1,
        producer_epoch=-1,
        base_sequence=-1,
        batch_size=MAX_BATCH_BYTES,
    )


def _check_stored(response: Any, sent: dict[str, list[tuple[int, bytes]]]) -> None:
    """Raise unless the produce response reports every partition sent as stored."""
    stored: set[Lane] = set()
    for topic, partitions in response.topics:
        for partition, code, *_ in partitions:
            if code:
                raise for_code(code)(f"{topic}[{partition}] refused the batch")
            stored.add((topic, partition))
    for topic, batches in sent.items():
        for partition, _ in batches:
            if (topic, partition) not in stored:
                raise RuntimeError(f"{topic}[{partition}]: the broker did not answer for the batch")


async def _last_records(bootstrap: str, lanes: list[Any]) -> dict[Any, Any]:
    """Return the last record of each non-empty partition in ``lanes``.

    The offset lookup only finds where to start: Tansu answers the first
    offset of the last batch plus one, not the end of the log, so each
    partition is read from there up to the high watermark its fetch reports.
    """
    consumer = open_consumer(bootstrap)
    try:
        await consumer.start()
        ends = await consumer.end_offsets(lanes)
        pending = {tp for tp, end in ends.items() if end > 0}
        if not pending:
            return {}
        consumer.assign(list(pending))
        for tp in pending:
            consumer.seek(tp, ends[tp] - 1)
        last: dict[Any, Any] = {}
        while pending:
            fetched = await consumer.getmany(*pending, timeout_ms=FETCH_WAIT_MS)
            for tp, records in fetched.items():
                if records:
                    last[tp] = records[-1]
            pending = {tp for tp in pending if not await at_end(consumer, tp)}
        return last
    finally:
        await consumer.stop()


async def at_end(consumer: Any, tp: Any) -> bool:
    """Return whether ``consumer`` has read ``tp`` up to the high watermark its last fetch reported.

    The offset lookup cannot say where a partition ends (Tansu answers the
    last batch's first offset plus one); a fetch response can.
    """
    highwater = consumer.highwater(tp)
    return highwater is not None and await consumer.position(tp) >= highwater


async def topic_partitions(bootstrap: str, topic: str) -> list[Any]:
    """Return the partitions of ``topic`` (none if it does not exist). Cost: one connection, one metadata request.

    Asks for every topic's metadata: naming the topic would let a broker that
    auto-creates topics (Tansu does) make it, with its own partition count.
    """
    client = AIOKafkaClient(bootstrap_servers=bootstrap, client_id=CLIENT_ID, request_timeout_ms=REQUEST_TIMEOUT_MS)
    try:
        with connection_errors():
            await client.bootstrap()
            cluster = await client.fetch_all_metadata()
    finally:
        await client.close()
    return [TopicPartition(topic, partition) for partition in sorted(cluster.partitions_for_topic(topic) or ())]


def open_consumer(bootstrap: str) -> Any:
    """Return an unstarted consumer without a group (no commits), reading from the earliest record when out of range."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id=CLIENT_ID,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=REQUEST_TIMEOUT_MS,
        fetch_max_wait_ms=FETCH_WAIT_MS,
    )
