"""Journal corruption: a torn tail recovers exactly the whole records before it; any other damage refuses.

A few hundred real commands (accounts, orders that rest and trade, amends,
cancels, deposits) are journaled by a ``DurableCore`` across several
segments. Each case then damages a copy of those files and recovers it:

* truncated at every byte offset of the last records: the state must be
  exactly that of the whole records before the cut, compared by state hash
  with a reference exchange that applied that many commands;
* one bit flipped, at every byte of chosen records and segment headers and at
  a seeded sample of offsets across the journal: start-up must refuse with a
  ``JournalCorruptedError`` naming the damaged file and the offset of the
  damaged record, and must never come up with a different state;
* one bit flipped in a snapshot file: ``SnapshotInvalidError`` naming it.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path

import pytest

from hft.domain.commands import AmendOrder, CancelOrder, Command, MassCancel, SubmitOrder
from hft.domain.events import OrderCancelled, TradeExecuted
from hft.domain.exchange.commands import AdjustCash, CreateAccount, SetMarkPrice
from hft.domain.exchange.exchange import Exchange
from hft.domain.exchange.money import CASH_SCALE
from hft.domain.exchange.queries import state_hash
from hft.domain.instruments import default_instruments
from hft.domain.orders import BUY, IOC, MARKET, SELL
from hft.engine import snapshots
from hft.engine.codec import encode
from hft.engine.core import DurableCore
from hft.engine.errors import JournalCorruptedError, SnapshotInvalidError
from hft.engine.journal import SEGMENT_HEADER, list_segments, read_segment
from hft.engine.recovery import Recovery, recover
from hft.engine.settings import CoreSettings

COMMANDS = 400
BATCH = 10  # a batch is never split across segments, so the last segment holds at least this many records
SEGMENT_BYTES = 4096  # the smallest the settings allow: the journal spans several segments
SEED = 20240611
SAMPLED_FLIPS = 320


class RecordSpan:
    """Where one record lies: its segment file name, sequence and byte range."""

    def __init__(self, segment: str, sequence: int, start: int, end: int) -> None:
        self.segment = segment
        self.sequence = sequence
        self.start = start
        self.end = end


class CleanJournal:
    """The journal files as the core left them, where each record lies, and the reference states."""

    def __init__(self, files: dict[str, bytes], spans: list[RecordSpan], stamps: list[int]) -> None:
        self.files = files
        self.spans = spans
        self.stamps = stamps
        self.names = sorted(files)
        self.reference_hashes: dict[int, str] = {}
        self.snapshot = b""
        self.events: dict[str, int] = {}

    def record_at(self, name: str, offset: int) -> RecordSpan | None:
        """Return the record that holds byte ``offset`` of segment ``name`` (None: the segment header)."""
        for span in self.spans:
            if span.segment == name and span.start <= offset < span.end:
                return span
        return None

    def copy_to(self, target: Path, replace: dict[str, bytes] | None = None, drop_after: str = "") -> Path:
        """Write the journal into ``target``, with some files replaced and those after ``drop_after`` left out."""
        target.mkdir(parents=True)
        for name in self.names:
            if drop_after and name > drop_after:
                continue
            data = self.files[name] if replace is None or name not in replace else replace[name]
            (target / name).write_bytes(data)
        return target


def trading_commands(count: int, seed: int) -> list[Command]:
    """Return ``count`` commands: four accounts, then orders that rest and trade, amends, cancels, deposits."""
    rng = random.Random(seed)
    commands: list[Command] = [
        CreateAccount(account, f"acct-{account}", 10**7 * CASH_SCALE) for account in (1, 2, 3, 4)
    ]
    owners: dict[int, int] = {}
    while len(commands) < count:
        draw = rng.random()
        account = rng.randint(1, 4)
        recent = max(len(owners) - rng.randint(0, 6), 1)
        if draw < 0.62:
            owners[len(owners) + 1] = account
            symbol = rng.choice(("AAPL", "MSFT"))
            side = rng.choice((BUY, SELL))
            if rng.random() < 0.1:
                commands.append(SubmitOrder(0, account, symbol, side, rng.randint(1, 20), 0, MARKET, IOC))
            else:
                price = 10_000 + rng.randint(-4, 4)
                client_order_id = f"o{len(owners)}" if rng.random() < 0.3 else ""
                commands.append(
                    SubmitOrder(0, account, symbol, side, rng.randint(1, 20), price, client_order_id=client_order_id)
                )
        elif draw < 0.82:
            commands.append(CancelOrder(recent, owners.get(recent, account)))
        elif draw < 0.90:
            commands.append(AmendOrder(recent, owners.get(recent, account), rng.randint(1, 20)))
        elif draw < 0.94:
            commands.append(MassCancel(account))
        elif draw < 0.97:
            commands.append(AdjustCash(account, rng.randint(1, 500) * CASH_SCALE))
        else:
            commands.append(SetMarkPrice(rng.choice(("AAPL", "MSFT")), 10_000 + rng.randint(-9, 9)))
    return commands


def _spans(journal_dir: Path) -> list[RecordSpan]:
    segments = list_segments(journal_dir)
    spans: list[RecordSpan] = []
    for index, segment in enumerate(segments):
        size = segment.path.stat().st_size
        records = list(read_segment(segment, index == len(segments) - 1))
        ends = [record.offset for record in records[1:]] + [size]
        spans.extend(
            RecordSpan(segment.path.name, record.sequence, record.offset, end)
            for record, end in zip(records, ends, strict=True)
        )
    return spans


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> CleanJournal:
    """Journal ``COMMANDS`` commands in batches with a live core; keep its files and the reference states."""
    data_dir = tmp_path_factory.mktemp("clean")
    ticks = iter(range(1_700_000_000_000_000_000, 2**62, 1_000_000))
    settings = CoreSettings(data_dir, fsync=False, segment_bytes=SEGMENT_BYTES)
    core = DurableCore(settings, default_instruments(), clock=lambda: next(ticks))
    commands = trading_commands(COMMANDS, SEED)
    stamps: list[int] = []
    events: dict[str, int] = {}
    for start in range(0, COMMANDS, BATCH):
        batch = commands[start : start + BATCH]
        batch_stamps = core.write([encode(command) for command in batch])
        core.sync()
        for ack in core.apply(batch, batch_stamps, start + 1):
            for event in ack.events:
                events[type(event).__name__] = events.get(type(event).__name__, 0) + 1
        stamps.extend(batch_stamps)
    live_hash = state_hash(core.exchange)
    snapshot_path = core.write_snapshot(core.capture())
    core.journal.close()

    journal_dir = data_dir / "journal"
    files = {path.name: path.read_bytes() for path in journal_dir.iterdir()}
    journal = CleanJournal(files, _spans(journal_dir), stamps)
    journal.snapshot = snapshot_path.read_bytes()
    journal.events = events
    reference = Exchange(default_instruments())
    for count, (command, ts) in enumerate(zip(commands, stamps, strict=True), start=1):
        reference.apply(command, ts)
        journal.reference_hashes[count] = state_hash(reference)
    assert journal.reference_hashes[COMMANDS] == live_hash
    return journal


def recover_journal(journal_dir: Path) -> Recovery:
    snapshot_dir = journal_dir.parent / f"{journal_dir.name}-snapshots"
    snapshot_dir.mkdir()
    return recover(journal_dir, snapshot_dir, default_instruments())


def test_the_journal_is_real_trading_across_several_segments(clean: CleanJournal) -> None:
    assert len(clean.names) >= 4
    assert [span.sequence for span in clean.spans] == list(range(1, COMMANDS + 1))
    last_segment_records = [span for span in clean.spans if span.segment == clean.names[-1]]
    assert len(last_segment_records) >= 3
    assert clean.events[TradeExecuted.__name__] >= 50
    assert clean.events[OrderCancelled.__name__] >= 20
    assert clean.events["OrderReplaced"] >= 5


def test_the_clean_journal_recovers_the_live_state(clean: CleanJournal, tmp_path: Path) -> None:
    recovery = recover_journal(clean.copy_to(tmp_path / "journal"))

    assert (recovery.last_sequence, recovery.replayed, recovery.cut_bytes) == (COMMANDS, COMMANDS, 0)
    assert state_hash(recovery.exchange) == clean.reference_hashes[COMMANDS]


# -- (a) truncation at every byte offset ---------------------------------------


def _truncation_failures(
    clean: CleanJournal, tmp_path: Path, caplog: pytest.LogCaptureFixture, segment: str, cuts: range
) -> list[str]:
    """Truncate ``segment`` at each offset in ``cuts`` (later segments never written); return what went wrong."""
    whole_records = [span for span in clean.spans if span.segment <= segment]
    failures: list[str] = []
    for cut in cuts:
        kept = [span for span in whole_records if span.segment < segment or span.end <= cut]
        whole = kept[-1].sequence
        boundary = kept[-1].end if kept[-1].segment == segment else SEGMENT_HEADER.size
        journal_dir = clean.copy_to(
            tmp_path / f"cut-{segment}-{cut}", replace={segment: clean.files[segment][:cut]}, drop_after=segment
        )
        caplog.clear()
        try:
            recovery = recover_journal(journal_dir)
        except JournalCorruptedError as error:
            failures.append(f"cut at {cut}: refused: {error}")
            continue
        outcome = (
            recovery.last_sequence,
            recovery.replayed,
            recovery.cut_bytes,
            recovery.last_ts,
            state_hash(recovery.exchange),
            (journal_dir / segment).stat().st_size,
            sum("cutting a torn tail" in record.getMessage() for record in caplog.records),
        )
        expected = (
            whole,
            whole,
            cut - boundary,
            clean.stamps[whole - 1],
            clean.reference_hashes.get(whole),
            boundary,
            1 if cut > boundary else 0,
        )
        if outcome != expected:
            failures.append(f"cut at {cut}: got {outcome}, expected {expected}")
    return failures


def test_truncating_at_every_byte_of_the_last_three_records_recovers_exactly_the_whole_records(
    clean: CleanJournal, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="hft.journal")
    last_three = clean.spans[-3:]
    segment = clean.names[-1]
    assert {span.segment for span in last_three} == {segment}
    cuts = range(last_three[0].start, last_three[-1].end + 1)

    failures = _truncation_failures(clean, tmp_path, caplog, segment, cuts)

    assert len(cuts) > 100
    assert failures == []


def test_truncating_the_last_record_of_an_earlier_segment_when_nothing_came_after_recovers_the_prefix(
    clean: CleanJournal, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A crash before the next segment was created: the earlier segment is then the last one.
    caplog.set_level(logging.WARNING, logger="hft.journal")
    segment = clean.names[-2]
    last = [span for span in clean.spans if span.segment == segment][-1]

    failures = _truncation_failures(clean, tmp_path, caplog, segment, range(last.start, last.end + 1))

    assert failures == []


# -- (b) single bit flips -------------------------------------------------------


def _flip_failures(
    clean: CleanJournal,
    tmp_path: Path,
    flips: list[tuple[str, int, int]],
    tolerated: set[tuple[str, int]],
    files: dict[str, bytes] | None = None,
) -> tuple[list[str], int]:
    """Recover a copy with each (segment, offset, bit) flipped; return what went wrong and how many refused.

    A flip must be refused with an error naming its file and the start of the damaged record (0 for a
    segment header). Only a flip at a ``tolerated`` (segment, offset), inside a torn-off tail, may instead
    recover, and then only to the state of the whole records. ``files`` replaces the clean files first.
    """
    base = {**clean.files, **(files or {})}
    failures: list[str] = []
    refused = 0
    for case, (name, offset, bit) in enumerate(flips):
        damaged = bytearray(base[name])
        damaged[offset] ^= 1 << bit
        journal_dir = clean.copy_to(tmp_path / f"flip-{case}", replace={**base, name: bytes(damaged)})
        span = clean.record_at(name, offset)
        expected_offset = 0 if span is None else span.start
        where = f"{name} byte {offset} bit {bit}"
        try:
            recovery = recover_journal(journal_dir)
        except JournalCorruptedError as error:
            refused += 1
            named = (error.path.name, error.offset, f"at byte {expected_offset}" in str(error))
            if named != (name, expected_offset, True):
                failures.append(f"{where}: refused, but named {named}: {error}")
            continue
        recovered = state_hash(recovery.exchange)
        if recovered != clean.reference_hashes.get(recovery.last_sequence):
            failures.append(f"{where}: DIFFERENT STATE at sequence {recovery.last_sequence}")
        elif (name, offset) not in tolerated:
            failures.append(f"{where}: not detected (recovered to sequence {recovery.last_sequence})")
    return failures, refused


def _every_byte(name: str, start: int, end: int, seed: int) -> list[tuple[str, int, int]]:
    rng = random.Random(seed)
    return [(name, offset, rng.randrange(8)) for offset in range(start, end)]


def test_a_bit_flip_in_any_byte_of_chosen_records_and_headers_is_refused_naming_file_and_record(
    clean: CleanJournal, tmp_path: Path
) -> None:
    first, middle, last = clean.names[0], clean.names[len(clean.names) // 2], clean.names[-1]
    in_middle = [span for span in clean.spans if span.segment == middle]
    in_last = [span for span in clean.spans if span.segment == last]
    chosen = [
        clean.spans[0],  # the first record of the journal
        in_middle[-1],  # the last record of a segment that is not the last
        in_last[len(in_last) // 2],
        in_last[-2],
        in_last[-1],  # the last whole record: a flip here is damage, not a torn tail
    ]
    flips = _every_byte(first, 0, SEGMENT_HEADER.size, 1) + _every_byte(last, 0, SEGMENT_HEADER.size, 2)
    for index, span in enumerate(chosen):
        flips += _every_byte(span.segment, span.start, span.end, 10 + index)

    failures, refused = _flip_failures(clean, tmp_path, flips, tolerated=set())

    assert len(flips) >= 250
    assert failures == []
    assert refused == len(flips)


def test_a_bit_flip_at_sampled_offsets_across_the_whole_journal_is_refused(clean: CleanJournal, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    sizes = [(name, len(clean.files[name])) for name in clean.names]
    total = sum(size for _, size in sizes)
    flips: list[tuple[str, int, int]] = []
    for position in sorted(rng.sample(range(total), SAMPLED_FLIPS)):
        offset = position
        for name, size in sizes:
            if offset < size:
                flips.append((name, offset, rng.randrange(8)))
                break
            offset -= size

    failures, refused = _flip_failures(clean, tmp_path, flips, tolerated=set())

    assert failures == []
    assert refused == SAMPLED_FLIPS


def test_a_bit_flip_in_a_torn_tail_never_gives_another_state(clean: CleanJournal, tmp_path: Path) -> None:
    # The last record was half written (never acknowledged): flips in its surviving bytes may be cut off
    # with it or refused, never replayed; flips in the whole records before it are refused.
    last_name = clean.names[-1]
    last = clean.spans[-1]
    whole = clean.spans[-2]
    torn_end = last.start + 28 + max(1, (last.end - last.start - 28) // 2)
    flips = _every_byte(last_name, last.start, torn_end, 3) + _every_byte(last_name, whole.start, whole.end, 4)
    tolerated = {(last_name, offset) for offset in range(last.start, torn_end)}

    failures, refused = _flip_failures(
        clean, tmp_path, flips, tolerated, files={last_name: clean.files[last_name][:torn_end]}
    )

    assert failures == []
    assert refused >= (whole.end - whole.start) + 28  # the whole record and the torn record's header


# -- (c) snapshots ----------------------------------------------------------------


def test_a_bit_flip_anywhere_in_a_snapshot_is_refused_naming_the_file(clean: CleanJournal, tmp_path: Path) -> None:
    rng = random.Random(SEED + 1)
    size = len(clean.snapshot)
    offsets = list(range(snapshots.HEADER.size)) + sorted(rng.sample(range(snapshots.HEADER.size, size), 200))
    path = tmp_path / f"{COMMANDS:020d}.snapshot"
    instruments = default_instruments()
    failures: list[str] = []
    for offset in offsets:
        damaged = bytearray(clean.snapshot)
        damaged[offset] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(damaged))
        try:
            snapshots.read(path, instruments)
        except SnapshotInvalidError as error:
            if error.path != path or str(path) not in str(error):
                failures.append(f"byte {offset}: refused without naming the file: {error}")
            continue
        failures.append(f"byte {offset}: not detected")

    assert failures == []


def test_start_up_refuses_a_damaged_snapshot_even_with_a_whole_journal(clean: CleanJournal, tmp_path: Path) -> None:
    journal_dir = clean.copy_to(tmp_path / "journal")
    snapshot_dir = tmp_path / "snapshots"
    snapshot_dir.mkdir()
    damaged = bytearray(clean.snapshot)
    damaged[len(damaged) // 2] ^= 0x08
    path = snapshot_dir / f"{COMMANDS:020d}.snapshot"
    path.write_bytes(bytes(damaged))

    with pytest.raises(SnapshotInvalidError) as raised:
        recover(journal_dir, snapshot_dir, default_instruments())

    assert raised.value.path == path
    assert f"{path} at byte {snapshots.HEADER.size}" in str(raised.value)


def test_the_clean_snapshot_with_the_journal_recovers_the_live_state(clean: CleanJournal, tmp_path: Path) -> None:
    journal_dir = clean.copy_to(tmp_path / "journal")
    snapshot_dir = tmp_path / "snapshots"
    snapshot_dir.mkdir()
    (snapshot_dir / f"{COMMANDS:020d}.snapshot").write_bytes(clean.snapshot)

    recovery = recover(journal_dir, snapshot_dir, default_instruments())

    assert (recovery.snapshot_sequence, recovery.replayed) == (COMMANDS, 0)
    assert state_hash(recovery.exchange) == clean.reference_hashes[COMMANDS]
