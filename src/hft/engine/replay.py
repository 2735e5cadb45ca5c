"""Re-run the journal from its first record to rebuild what was derived from events (the journal is the outbox).

Read models, the database and event streams are projections of the events
the core emitted. Events are not stored: they are the deterministic result
of the journaled commands, so running the commands again on a fresh exchange
gives them back exactly, with the same sequence numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from hft.domain.exchange.exchange import Exchange
from hft.domain.exchange.risk import NO_LIMITS, RiskLimits
from hft.domain.instruments import Instrument
from hft.engine.codec import decode
from hft.engine.core import Ack
from hft.engine.errors import JournalCorruptedError
from hft.engine.journal import list_segments, read_segment

AckSink = Callable[[list[Ack]], None]


def replay(
    journal_dir: Path,
    instruments: Iterable[Instrument],
    last_sequence: int,
    sink: AckSink,
    default_limits: RiskLimits = NO_LIMITS,
    batch: int = 4096,
) -> int:
    """Apply journaled commands 1..``last_sequence`` to a fresh exchange; hand ``sink`` their acks in batches.

    Run it after the core has recovered (which checked the journal and cut
    any torn tail). Returns the number of commands replayed. Cost: one full
    replay, O(journal).
    """
    for acks in replay_batches(journal_dir, instruments, last_sequence, default_limits, batch):
        sink(acks)
    return last_sequence


def replay_batches(
    journal_dir: Path,
    instruments: Iterable[Instrument],
    last_sequence: int,
    default_limits: RiskLimits = NO_LIMITS,
    batch: int = 4096,
    exchange: Exchange | None = None,
) -> Iterator[list[Ack]]:
    """Yield the acks of journaled commands 1..``last_sequence``, ``batch`` at a time, replayed on a fresh exchange.

    Lazy: each step reads and applies one batch, so a consumer can pace it
    (the stream publisher runs it step by step in a thread while the core
    keeps appending to the journal). Pass a fresh ``exchange`` to keep the
    replayed state. Raises ``JournalCorruptedError`` if the journal does not
    hold exactly those commands.
    """
    if exchange is None:
        exchange = Exchange(instruments, default_limits)
    acks: list[Ack] = []
    expected = 1
    for segment in list_segments(journal_dir):
        for record in read_segment(segment, is_last=True):
            if record.sequence > last_sequence:
                break
            if record.sequence != expected:
                raise JournalCorruptedError(segment.path, record.offset, f"expected sequence {expected}")
            command = decode(record.payload)
            acks.append(Ack(record.sequence, record.ts, command, exchange.apply(command, record.ts)))
            expected += 1
            if len(acks) >= batch:
                yield acks
                acks = []
        if expected > last_sequence:
            break
    if acks:
        yield acks
    if expected - 1 != last_sequence:
        raise JournalCorruptedError(journal_dir, 0, f"journal ends at {expected - 1}, expected {last_sequence}")
