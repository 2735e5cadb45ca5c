"""The projection writer: keeps the SQL store current in the background, never holding trading up.

The venue calls ``enqueue`` with the rows of every ack batch, on the event
loop; it only appends to a queue. One task drains the queue in order,
merging queued batches into transactions of up to ``max_rows_per_write``
rows. It starts a transaction at most every ``min_write_interval`` seconds
(unless a full one is waiting): each costs the event loop a fixed share, so
under load the rows gather into fewer, larger writes. When the database
fails, the writer logs once per outage, keeps every batch (nothing lost,
nothing reordered) and retries with a doubling backoff; trading goes on
meanwhile. Because writes are idempotent, a retry of a write that did
commit, or a catch-up that overlaps what is stored, is harmless.

Memory is bounded: past ``max_pending_rows`` rows queued during an outage,
the writer drops its queue, ignores further batches and sets ``needs_catch_up_from``. The
venue then rebuilds the missing rows from its history (replayed from the
journal), hands them to ``reset_after_catch_up`` and the writer goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Final, NamedTuple

from hft.adapters.sql.rows import RowBatch
from hft.adapters.sql.store import SqlStore

log = logging.getLogger("hft.sql")

MAX_ROWS_PER_WRITE: Final = 10_000
# Seconds between the starts of two writes, at least: at 10,000 orders a second that is a few hundred rows a write.
MIN_WRITE_INTERVAL: Final = 0.01
MAX_PENDING_ROWS: Final = 1_000_000
INITIAL_BACKOFF: Final = 0.1
MAX_BACKOFF: Final = 2.0


class Lag(NamedTuple):
    """How far the database is behind the venue."""

    batches: int  # batches enqueued and not yet written
    rows: int  # their rows
    sequences: int  # event sequences enqueued and not yet written


class ProjectionWriter:
    """Write every enqueued ``RowBatch`` to ``store``, in order, from one background task."""

    def __init__(
        self,
        store: SqlStore,
        *,
        max_rows_per_write: int = MAX_ROWS_PER_WRITE,
        min_write_interval: float = MIN_WRITE_INTERVAL,
        max_pending_rows: int = MAX_PENDING_ROWS,
        initial_backoff: float = INITIAL_BACKOFF,
        max_backoff: float = MAX_BACKOFF,
    ) -> None:
        self.store: Final = store
        self.max_rows_per_write: Final = max_rows_per_write
        self.min_write_interval: Final = min_write_interval
        self.max_pending_rows: Final = max_pending_rows
        self.initial_backoff: Final = initial_backoff
        self.max_backoff: Final = max_backoff
        self._queue: deque[RowBatch] = deque()
        # Taken off the queue and not yet committed: retried as they are until they are.
        self._in_flight: list[RowBatch] = []
        self._pending_rows = 0
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._backoff = initial_backoff
        self._healthy = True
        self._last_error: str | None = None
        self._failed_attempts = 0
        self._last_written_sequence = 0
        self._last_enqueued_sequence = 0
        self._needs_catch_up_from: int | None = None
        self._dropped_batches = 0
        self._last_write_started = float("-inf")

    # -- what the venue reads --------------------------------------------------

    @property
    def healthy(self) -> bool:
        """Whether the last attempt to reach the database succeeded."""
        return self._healthy

    @property
    def last_error(self) -> str | None:
        """The error of the current outage (None while healthy)."""
        return self._last_error

    @property
    def last_written_sequence(self) -> int:
        """The last event sequence committed to the database."""
        return self._last_written_sequence

    @property
    def lag(self) -> Lag:
        """How many batches, rows and sequences are enqueued but not yet committed."""
        batches = len(self._queue) + len(self._in_flight)
        behind = max(0, self._last_enqueued_sequence - self._last_written_sequence)
        return Lag(batches, self._pending_rows, behind)

    @property
    def needs_catch_up_from(self) -> int | None:
        """None normally; after the queue overflowed, the sequence after which rows must be rebuilt."""
        return self._needs_catch_up_from

    @property
    def dropped_batches(self) -> int:
        """Batches dropped or ignored since the queue overflowed (0 normally)."""
        return self._dropped_batches

    # -- what the venue calls --------------------------------------------------

    def enqueue(self, batch: RowBatch) -> None:
        """Queue ``batch`` for writing, after every batch queued before. O(1); never blocks, never raises.

        While ``needs_catch_up_from`` is set the batch is ignored: the catch-up covers it.
        """
        if self._needs_catch_up_from is not None:
            self._dropped_batches += 1
            return
        self._queue.append(batch)
        self._pending_rows += batch.row_count
        self._last_enqueued_sequence = max(self._last_enqueued_sequence, batch.last_sequence)
        # Only an outage may drop rows: a healthy database is draining the queue, and a catch-up is large by nature.
        if self._pending_rows > self.max_pending_rows and not self._healthy:
            self._drop_queue()
        self._wakeup.set()

    def reset_after_catch_up(self, catch_up: RowBatch | None = None) -> None:
        """Accept batches again after an overflow, starting with ``catch_up``, on the event loop.

        ``catch_up`` holds the latest rows of everything that changed after
        ``needs_catch_up_from`` (the venue rebuilds them from its history); pass it
        here, before any newer batch is enqueued, so the database never skips a sequence.
        """
        self._needs_catch_up_from = None
        self._dropped_batches = 0
        if catch_up is not None:
            self.enqueue(catch_up)

    async def start(self) -> None:
        """Start the store (connect, migrate; raises if the database is unreachable) and the writing task."""
        if self._task is not None:
            raise RuntimeError("the projection writer is already started")
        await self.store.start()
        self._last_written_sequence = await self.store.last_sequence()
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="hft-sql-projection-writer")

    async def stop(self, timeout: float = 5.0) -> None:
        """Write what is queued, for at most ``timeout`` seconds, then stop and close the store.

        Rows still unwritten then are logged; the database's ``last_sequence``
        says where the venue's next start must catch up from.
        """
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
        if self._pending_rows or self._queue or self._in_flight:
            log.warning(
                "stopped with %d batches (%d rows) unwritten; the database is complete up to sequence %d",
                len(self._queue) + len(self._in_flight),
                self._pending_rows,
                self._last_written_sequence,
            )
        await self.store.close()

    # -- the writing task ------------------------------------------------------

    async def _run(self) -> None:
        while not (self._stopping and not self._queue and not self._in_flight):
            if self._queue or self._in_flight:
                succeeded = await self._write_next()
            elif not self._healthy:
                # Nothing to write (the queue overflowed): keep probing so healthy says when the database is back.
                succeeded = await self._probe()
            else:
                await self._wait_for_work()
                continue
            if succeeded:
                self._backoff = self.initial_backoff
            else:
                await asyncio.sleep(self._backoff)
                self._backoff = min(self._backoff * 2, self.max_backoff)

    async def _wait_for_work(self) -> None:
        self._wakeup.clear()
        if not self._queue and not self._stopping:
            await self._wakeup.wait()

    async def _write_next(self) -> bool:
        if not self._in_flight:
            await self._gather()
            self._in_flight = self._take()
        self._last_write_started = asyncio.get_running_loop().time()
        try:
            batch = RowBatch.merge(self._in_flight)
            await self.store.write(batch)
        except Exception as error:
            self._failed(error)
            return False
        self._pending_rows -= sum(written.row_count for written in self._in_flight)
        self._in_flight = []
        self._last_written_sequence = max(self._last_written_sequence, batch.last_sequence)
        self._recovered()
        return True

    async def _gather(self) -> None:
        """Let rows gather until ``min_write_interval`` after the last write started, unless a full write waits."""
        wait = self._last_write_started + self.min_write_interval - asyncio.get_running_loop().time()
        if wait > 0 and not self._stopping and self._pending_rows < self.max_rows_per_write:
            await asyncio.sleep(wait)

    async def _probe(self) -> bool:
        if await self.store.ping():
            self._recovered()
            return True
        self._failed(None)
        return False

    def _take(self) -> list[RowBatch]:
        """Take the oldest batches, at least one, up to ``max_rows_per_write`` rows together."""
        taken = [self._queue.popleft()]
        rows = taken[0].row_count
        while self._queue and rows + self._queue[0].row_count <= self.max_rows_per_write:
            batch = self._queue.popleft()
            rows += batch.row_count
            taken.append(batch)
        return taken

    def _drop_queue(self) -> None:
        dropped = len(self._queue)
        self._pending_rows = sum(batch.row_count for batch in self._in_flight)
        self._queue.clear()
        self._dropped_batches += dropped
        self._needs_catch_up_from = self._last_written_sequence
        log.error(
            "over %d rows waiting for the database: dropped %d batches; the venue must rebuild rows after sequence %d",
            self.max_pending_rows,
            dropped,
            self._last_written_sequence,
        )

    def _failed(self, error: Exception | None) -> None:
        self._failed_attempts += 1
        if error is not None:
            # The first line names the database's error; the rest is SQL and parameters, too long for a log line.
            lines = str(error).splitlines()
            self._last_error = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
        elif self._last_error is None:
            self._last_error = "the database does not answer"
        if self._healthy:
            self._healthy = False
            log.warning(
                "database writes are failing, retrying every %.1f s at most; trading goes on: %s",
                self.max_backoff,
                self._last_error,
            )

    def _recovered(self) -> None:
        if not self._healthy:
            log.warning(
                "database writes resumed after %d failed attempts; written up to sequence %d",
                self._failed_attempts,
                self._last_written_sequence,
            )
        self._healthy = True
        self._last_error = None
        self._failed_attempts = 0
