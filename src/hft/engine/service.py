"""The asyncio shell around the durable core: one writer task, group commit, acknowledgements.

Callers on the event loop ``await execute(command)``. Commands queue up
while the writer is busy with a batch, and it takes all of them as the next
batch: many commands share one write and one fsync. A command's ``Ack`` is
released only after its batch is durable and applied; listeners (the
publish stage) see every batch's acks in sequence order.

The fsync runs on the event loop's own thread. ``os.fdatasync`` releases
the GIL, so the HTTP server's threads keep queueing requests meanwhile, and
no thread has to hand the result back: measured on a busy 2-core machine, a
hand-off to an fsync thread waited milliseconds for the GIL, several times
the fsync itself (docs/PERFORMANCE.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hft.domain.commands import Command
from hft.domain.exchange.exchange import Exchange
from hft.engine import crashpoints
from hft.engine.codec import encode
from hft.engine.core import Ack, DurableCore

log = logging.getLogger("hft.core")


class CoreUnavailableError(Exception):
    """The core is stopping, stopped, or failed and accepts no more commands."""


Listener = Callable[[list[Ack]], None]
# Called after every batch with: commands, ns from write to durable, ns applying, ns in listeners.
BatchObserver = Callable[[int, int, int, int], None]


class _Request:
    __slots__ = ("commands", "future", "payloads")

    def __init__(self, commands: list[Command], payloads: list[bytes], future: asyncio.Future[list[Ack]]) -> None:
        self.commands = commands
        self.payloads = payloads
        self.future = future


class CoreService:
    """Runs a ``DurableCore`` on the event loop with group commit; the only way commands reach it."""

    def __init__(self, core: DurableCore) -> None:
        self.core = core
        self._queue: list[_Request] = []
        self._wakeup = asyncio.Event()
        self._listeners: list[Listener] = []
        self._stopping = False
        self._failure: BaseException | None = None
        self._task: asyncio.Task[None] | None = None
        self._snapshot_writer = ThreadPoolExecutor(1, thread_name_prefix="hft-snapshot")
        self._snapshot_pending: asyncio.Future[Path] | None = None
        self.batches = 0
        self.observer: BatchObserver | None = None

    @property
    def exchange(self) -> Exchange:
        """The live state, for queries on the event loop (it only ever shows durable commands)."""
        return self.core.exchange

    @property
    def failure(self) -> BaseException | None:
        """The error that stopped the core, if one did."""
        return self._failure

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` with the acks of every durable batch, in sequence order, on the event loop.

        A listener that raises is logged and keeps its subscription; the core goes on.
        """
        self._listeners.append(listener)

    async def start(self) -> None:
        """Start the writer task."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="hft-core-writer")

    async def execute(self, command: Command) -> Ack:
        """Sequence, journal and apply ``command``; return its ack once it is durable.

        Raises ValueError if the command cannot be journaled, CoreUnavailableError if the core is not running.
        """
        return (await self.execute_many([command]))[0]

    async def execute_many(self, commands: list[Command]) -> list[Ack]:
        """Like ``execute`` for several commands, kept in this order and adjacent in the sequence.

        They are journaled in one batch even if there are more than ``max_batch`` of them.
        """
        return await self.submit_many(commands)

    def submit_many(self, commands: list[Command]) -> asyncio.Future[list[Ack]]:
        """Queue ``commands`` now, in call order, and return the future of their acks (call on the loop)."""
        if self._stopping or self._failure is not None or self._task is None:
            raise CoreUnavailableError("the trading core is not accepting commands") from self._failure
        payloads = [encode(command) for command in commands]
        future: asyncio.Future[list[Ack]] = asyncio.get_running_loop().create_future()
        self._queue.append(_Request(commands, payloads, future))
        self._wakeup.set()
        return future

    async def stop(self) -> None:
        """Stop accepting commands, finish the queued ones, write a final snapshot and close the journal."""
        self._stopping = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
        if self._snapshot_pending is not None:
            await self._snapshot_pending
        if self._failure is None:
            self.core.close()
        else:
            self.core.journal.close(sync=False)
        self._snapshot_writer.shutdown()

    async def _run(self) -> None:
        requests: list[_Request] = []
        try:
            while True:
                if self._queue:
                    requests = self._take_batch()
                    self._commit(requests)
                    requests = []
                    await asyncio.sleep(0)  # let handlers run, and queue the next batch, between batches
                elif self._stopping:
                    return
                else:
                    self._wakeup.clear()
                    await self._wakeup.wait()
        except BaseException as error:
            self._fail(error, requests)

    def _take_batch(self) -> list[_Request]:
        limit = self.core.settings.max_batch
        taken = 0
        count = 0
        queue = self._queue
        while count < len(queue) and (taken == 0 or taken + len(queue[count].commands) <= limit):
            taken += len(queue[count].commands)
            count += 1
        requests = queue[:count]
        del queue[:count]
        return requests

    def _commit(self, requests: list[_Request]) -> None:
        """Write, fsync and apply one batch, then release its acks and tell the listeners."""
        core = self.core
        started_ns = time.perf_counter_ns()
        first_sequence = core.sequence + 1
        stamps = core.write([payload for request in requests for payload in request.payloads])
        core.sync()
        crashpoints.reach("after_sync")
        commands = [command for request in requests for command in request.commands]
        durable_ns = time.perf_counter_ns()
        acks = core.apply(commands, stamps, first_sequence)
        applied_ns = time.perf_counter_ns()
        crashpoints.reach("after_apply")
        self.batches += 1
        start = 0
        for request in requests:
            end = start + len(request.commands)
            if not request.future.done():
                request.future.set_result(acks[start:end])
            start = end
        for listener in self._listeners:
            try:
                listener(acks)
            except Exception:
                # A faulty subscriber must not stop trading; what it missed is in the journal.
                log.exception("listener %r failed on sequences from %d", listener, first_sequence)
        if self.observer is not None:
            published_ns = time.perf_counter_ns()
            self.observer(len(commands), durable_ns - started_ns, applied_ns - durable_ns, published_ns - applied_ns)
        if core.snapshot_due() and self._snapshot_pending is None:
            self._start_snapshot()

    def _start_snapshot(self) -> None:
        snapshot = self.core.capture()
        loop = asyncio.get_running_loop()
        pending = loop.run_in_executor(self._snapshot_writer, self.core.write_snapshot, snapshot)
        self._snapshot_pending = pending

        def finished(done: asyncio.Future[Path]) -> None:
            self._snapshot_pending = None
            if done.exception() is not None:
                log.error("snapshot at sequence %d failed: %s", snapshot.sequence, done.exception())

        pending.add_done_callback(finished)

    def _fail(self, error: BaseException, requests: list[_Request]) -> None:
        log.critical("trading core stopped: %s", error, exc_info=error)
        self._failure = error
        unavailable = CoreUnavailableError(f"the trading core failed: {error}")
        for request in requests + self._queue:
            if not request.future.done():
                request.future.set_exception(unavailable)
        self._queue.clear()
