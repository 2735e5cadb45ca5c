"""The durable core: sequence, journal, then apply, one batch at a time, on one thread.

``DurableCore`` is synchronous and knows nothing of networks. Its owner
(``service.CoreService``) calls ``write`` then ``sync`` then ``apply`` for
each batch; nothing may be acknowledged before ``sync`` returns.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from hft.domain.commands import Command
from hft.domain.events import Event
from hft.domain.exchange.exchange import Exchange
from hft.domain.exchange.risk import NO_LIMITS, RiskLimits
from hft.domain.instruments import Instrument
from hft.engine import snapshots
from hft.engine.journal import JournalWriter, frame
from hft.engine.recovery import Recovery, recover
from hft.engine.settings import CoreSettings

log = logging.getLogger("hft.core")

Clock = Callable[[], int]


class Ack:
    """The outcome of one durable command: its sequence, its ts, the command and the events it caused."""

    def __init__(self, sequence: int, ts: int, command: Command, events: list[Event]) -> None:
        self.sequence = sequence
        self.ts = ts
        self.command = command
        self.events = events


class DurableCore:
    """The exchange behind a journal: every command is sequenced, time-stamped and journaled before it runs."""

    def __init__(
        self,
        settings: CoreSettings,
        instruments: Iterable[Instrument],
        default_limits: RiskLimits = NO_LIMITS,
        clock: Clock = time.time_ns,
    ) -> None:
        self.settings = settings
        self.instruments = list(instruments)
        self.journal_dir = settings.data_dir / "journal"
        self.snapshot_dir = settings.data_dir / "snapshots"
        self.journal_dir.mkdir(parents=True, exist_ok=True)
        self.snapshot_dir.mkdir(parents=True, exist_ok=True)
        self.recovery: Recovery = recover(self.journal_dir, self.snapshot_dir, self.instruments, default_limits)
        self.exchange: Exchange = self.recovery.exchange
        # Written to the journal (sequence, last_ts) and applied to the exchange (applied_*): the
        # service writes the next batch while the previous one is still being made durable.
        self.sequence = self.recovery.last_sequence
        self.last_ts = self.recovery.last_ts
        self.applied_sequence = self.sequence
        self.applied_ts = self.last_ts
        self.snapshot_sequence = self.recovery.snapshot_sequence
        self.clock = clock
        self.journal = JournalWriter(self.journal_dir, self.sequence + 1, settings.fsync, settings.segment_bytes)
        if settings.fsync:
            log.info("journal %s: fsync after every batch", self.journal_dir)
        else:
            log.warning("journal %s: fsync is OFF; a power failure can lose acknowledged commands", self.journal_dir)

    def write(self, payloads: list[bytes]) -> list[int]:
        """Sequence and time-stamp the encoded commands and write them to the journal (not yet durable).

        Returns each command's ts. Times never go backwards, whatever the clock does.
        """
        clock = self.clock
        last_ts = self.last_ts
        sequence = self.sequence
        batch = bytearray()
        stamps = []
        for payload in payloads:
            sequence += 1
            now = clock()
            last_ts = now if now > last_ts else last_ts
            stamps.append(last_ts)
            frame(sequence, last_ts, payload, batch)
        self.journal.write(batch, len(payloads))
        self.sequence = sequence
        self.last_ts = last_ts
        return stamps

    def sync(self) -> None:
        """Make everything written durable (one fsync for the batch, unless fsync is off)."""
        self.journal.sync()

    def apply(self, commands: list[Command], stamps: list[int], first_sequence: int) -> list[Ack]:
        """Apply journaled, durable commands in order (the first has ``first_sequence``); return their acks."""
        exchange = self.exchange
        acks = []
        sequence = first_sequence
        ts = self.applied_ts
        for index, command in enumerate(commands):
            ts = stamps[index]
            acks.append(Ack(sequence, ts, command, exchange.apply(command, ts)))
            sequence += 1
        self.applied_sequence = sequence - 1
        self.applied_ts = ts
        return acks

    def snapshot_due(self) -> bool:
        """Say whether ``snapshot_every`` commands have been applied since the last snapshot."""
        return self.applied_sequence - self.snapshot_sequence >= self.settings.snapshot_every

    def capture(self) -> snapshots.Snapshot:
        """Copy the state for a snapshot now, between batches; ``write_snapshot`` hashes and writes it."""
        self.snapshot_sequence = self.applied_sequence
        return snapshots.capture(self.exchange, self.applied_sequence, self.applied_ts)

    def write_snapshot(self, snapshot: snapshots.Snapshot) -> Path:
        """Write a captured snapshot durably (safe to call from another thread)."""
        return snapshots.write(self.snapshot_dir, snapshot, self.settings.keep_snapshots, self.settings.fsync)

    def close(self) -> None:
        """Snapshot the final state if it changed since the last snapshot, then close the journal."""
        if self.applied_sequence > self.snapshot_sequence:
            self.write_snapshot(self.capture())
        self.journal.close()
