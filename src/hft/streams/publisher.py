"""The outbox publisher: every engine event onto a broker, once, in order, driven from the journal.

The venue hands every durable ack batch to ``enqueue`` (O(1), on the event
loop). One task encodes and publishes them in rounds. The broker itself says
how far it got: on every (re)connection the publisher asks it for the last
sequence stored in each ordered *lane* (a NATS stream, a Kafka partition) and
sends only what lies beyond, so a retry after an outage neither loses nor
repeats a message. Adapters make a round all-or-nothing per lane (NATS: an
expected-last-sequence chain; Kafka: one batch per partition), so a lane
never has a gap below its last message.

What the queue cannot hold comes from the journal: at start-up, after an
outage long enough to overflow the queue, and when a broker comes back
without messages it had stored, the publisher replays the journal
(in a thread, a batch at a time) up to the last command it dropped or never
saw, publishing what the broker lacks, then carries on with the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Final, Protocol

from hft.engine.core import Ack
from hft.observability.metrics import Metrics
from hft.streams.schema import Message, MessageEncoder

log = logging.getLogger("hft.streams")

MAX_ROUND_MESSAGES: Final = 2_000
MAX_PENDING_EVENTS: Final = 500_000
INITIAL_BACKOFF: Final = 0.1
MAX_BACKOFF: Final = 2.0

JournalReader = Callable[[int], Iterator[list[Ack]]]


class StreamConflictError(Exception):
    """The broker's streams hold events this venue never journaled; publishing would skip or mix histories."""


class Broker(Protocol):
    """A port to one event broker. Implementations decide nothing; they store and report."""

    name: str

    async def connect(self) -> None:
        """Connect and create the streams or topics that are missing; raise if the broker cannot be used."""
        ...

    async def close(self) -> None:
        """Drop the connection (never raises)."""
        ...

    def lane(self, stream: str, key: str) -> Hashable:
        """Return the ordered lane a message of ``stream`` with ``key`` goes to (a lane keeps publish order)."""
        ...

    async def positions(self) -> dict[Hashable, int]:
        """Return the event sequence of the last message stored in every lane (0 for an empty one)."""
        ...

    async def publish(self, messages: Sequence[Message]) -> None:
        """Store ``messages`` in order; raise if any was not stored (then no later one of its lane was)."""
        ...


class StreamPublisher:
    """Keeps one broker equal to the journal's events, from one background task."""

    def __init__(
        self,
        broker: Broker,
        encoder: MessageEncoder,
        read_journal: JournalReader,
        metrics: Metrics,
        *,
        max_round_messages: int = MAX_ROUND_MESSAGES,
        max_pending_events: int = MAX_PENDING_EVENTS,
    ) -> None:
        self.broker: Final = broker
        self.encoder: Final = encoder
        self.read_journal: Final = read_journal
        self.metrics: Final = metrics
        self.max_round_messages: Final = max_round_messages
        self.max_pending_events: Final = max_pending_events
        # Each durable batch with its event count (counted once, on the event loop, when it arrives).
        self._queue: deque[tuple[list[Ack], int]] = deque()
        self._pending_events = 0
        self._dropped = 0  # how many times the queue was dropped for the journal to supply it
        self._positions: dict[Hashable, int] = {}
        # Commands 1.._replay_through must come from the journal before the queue (None: the queue holds all).
        self._replay_through: int | None = None
        self._last_command = 0
        self._last_event = 0
        self._published_event = 0
        self._connected = False
        self._last_error: str | None = None
        self._catching_up = False
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # Called with every round once the broker stored it (the streams benchmark measures with it).
        self.on_published: Callable[[list[Message]], None] | None = None

    # -- what the venue calls --------------------------------------------------

    def start(self, journaled_commands: int, last_event: int) -> None:
        """Start publishing: commands 1..``journaled_commands`` come from the journal, later ones from ``enqueue``."""
        self._replay_through = journaled_commands or None
        self._last_command = journaled_commands
        self._last_event = last_event
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"hft-stream-{self.broker.name}")

    def enqueue(self, acks: list[Ack]) -> None:
        """Queue one durable batch. O(1), never blocks; past ``max_pending_events`` the journal takes over."""
        self._last_command = acks[-1].sequence
        self._last_event = max(self._last_event, _last_event(acks))
        events = sum(len(ack.events) for ack in acks)
        self._queue.append((acks, events))
        self._pending_events += events
        if self._pending_events > self.max_pending_events:
            if self._replay_through is None:
                log.error(
                    "%s: over %d events waiting; the journal will supply them when the broker is back",
                    self.broker.name,
                    self.max_pending_events,
                )
            self._drop_queue()
            self._replay_through = self._last_command
        self._wakeup.set()

    def _drop_queue(self) -> None:
        self._queue.clear()
        self._pending_events = 0
        self._dropped += 1

    async def stop(self, timeout: float = 5.0) -> None:
        """Publish what is queued (for at most ``timeout`` seconds), then close; the next start resumes the rest."""
        task, self._task = self._task, None
        self._stopping = True
        self._wakeup.set()
        if task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.broker.close()

    def health(self) -> dict[str, object]:
        """Report the connection, the last event the broker holds and how far behind it is."""
        lag = max(0, self._last_event - self._published_event)
        self.metrics.projection_lag.labels(f"stream:{self.broker.name}").set(lag)
        return {
            "status": "up" if self._connected else "down",
            "catching_up": self._catching_up,
            "published_sequence": self._published_event,
            "lag": lag,
            "error": self._last_error,
        }

    # -- the publishing task -----------------------------------------------------

    async def _run(self) -> None:
        backoff = INITIAL_BACKOFF
        while not (self._stopping and self._idle()):
            try:
                await self._connect()
                backoff = INITIAL_BACKOFF
                await self._catch_up()
                await self._drain()
                if not self._stopping:
                    await self._wait_for_work()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._failed(error)
                await self.broker.close()
                if self._stopping:
                    return
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)

    def _idle(self) -> bool:
        return not self._queue and self._replay_through is None

    async def _connect(self) -> None:
        if self._connected:
            return
        await self.broker.connect()
        published, positions = self._positions, await self.broker.positions()
        ahead = max(positions.values(), default=0)
        if ahead > self._last_event:
            raise StreamConflictError(
                f"the broker holds event {ahead} but this venue's journal ends at event {self._last_event}: the "
                "streams belong to another deployment or to a deleted data directory; set another stream_prefix "
                "or delete those streams"
            )
        self._positions = positions
        if any(self._positions.get(lane, 0) < sequence for lane, sequence in published.items()):
            # The broker came back without messages it had stored (memory storage, a wiped cluster).
            log.warning("%s: the broker lost stored messages; republishing them from the journal", self.broker.name)
            self._drop_queue()
            self._replay_through = self._last_command or None
        if self._last_error is not None:
            log.warning("%s: publishing again after the outage (%s)", self.broker.name, self._last_error)
        self._connected = True
        self._last_error = None

    async def _catch_up(self) -> None:
        """Publish what the broker lacks of commands 1.._replay_through, replaying the journal a batch at a time."""
        while (target := self._replay_through) is not None:
            self._catching_up = True
            started = time.perf_counter()
            floor = min(self._positions.values(), default=0)
            batches = self.read_journal(target)
            while (acks := await asyncio.to_thread(next, batches, None)) is not None:
                if _last_event(acks) > floor:
                    await self._publish(acks, live=False)
            if self._replay_through == target:
                self._replay_through = None
            self._catching_up = False
            log.info(
                "%s: caught up with commands 1..%d from the journal in %.2f s",
                self.broker.name,
                target,
                time.perf_counter() - started,
            )

    async def _drain(self) -> None:
        """Publish queued batches, several per round when they have piled up (fewer round trips under load)."""
        while self._queue and self._replay_through is None:
            taken, acks, events = 0, [], 0
            for batch, count in self._queue:
                if taken and events + count > self.max_round_messages:
                    break
                taken += 1
                acks.extend(batch)
                events += count
            dropped = self._dropped
            await self._publish(acks, live=True)
            if self._dropped != dropped:
                continue  # the queue overflowed meanwhile: it holds only newer batches now
            # Only now, once the broker has them: a failed round stays queued for the next connection.
            for _ in range(taken):
                self._queue.popleft()
            self._pending_events -= events

    async def _publish(self, acks: list[Ack], live: bool) -> None:
        """Send the messages beyond each lane's position, in rounds; advance the positions as rounds succeed."""
        lane = self.broker.lane
        positions = self._positions

        def missing(stream: str, key: str, sequence: int) -> bool:
            return sequence > positions.get(lane(stream, key), 0)

        messages = self.encoder.encode(acks, missing)
        for start in range(0, len(messages), self.max_round_messages):
            round_ = messages[start : start + self.max_round_messages]
            await self.broker.publish(round_)
            for message in round_:
                positions[lane(message.stream, message.key)] = message.sequence
            self.metrics.stream_messages.labels(self.broker.name).inc(len(round_))
            if live:
                # The round's oldest message waited longest: its lag bounds the others'.
                lag_us = (time.time_ns() - round_[0].ts) / 1000
                self.metrics.stream_lag.labels(self.broker.name).observe(lag_us)
            if self.on_published is not None:
                self.on_published(round_)
        self._published_event = max(self._published_event, _last_event(acks))

    async def _wait_for_work(self) -> None:
        self._wakeup.clear()
        if self._idle() and not self._stopping:
            await self._wakeup.wait()

    def _failed(self, error: Exception) -> None:
        text = type(error).__name__ + (f": {str(error).splitlines()[0]}" if str(error) else "")
        if self._connected or self._last_error is None:
            log.warning(
                "%s: publishing stopped, retrying every %.1f s at most: %s", self.broker.name, MAX_BACKOFF, text
            )
        self._connected = False
        self._catching_up = False
        self._last_error = text
        self.metrics.execution_errors.labels(f"stream:{self.broker.name}").inc()


def _last_event(acks: list[Ack]) -> int:
    for ack in reversed(acks):
        if ack.events:
            return ack.events[-1].sequence
    return 0
