"""The journal: framing, reading back, segment rollover, torn tails cut off, every other damage refused."""

from __future__ import annotations

import logging
import struct
import zlib
from pathlib import Path

import pytest

from hft.domain.exchange.commands import CreateAccount
from hft.domain.instruments import default_instruments
from hft.engine.codec import encode
from hft.engine.core import DurableCore
from hft.engine.errors import JournalCorruptedError
from hft.engine.journal import (
    MAX_PAYLOAD,
    RECORD_HEADER,
    SEGMENT_HEADER,
    JournalWriter,
    Record,
    Segment,
    cut_torn_tail,
    frame,
    list_segments,
    read_segment,
    segment_name,
)
from hft.engine.recovery import Recovery, recover
from hft.engine.settings import CoreSettings

SMALL_SEGMENT = 400  # bytes: a handful of records per segment


def account_payload(sequence: int) -> bytes:
    """The payload journaled at ``sequence``: creating account ``sequence``, so a replay shows what it kept."""
    return encode(CreateAccount(sequence, f"account-{sequence}", sequence * 100))


def write_journal(
    directory: Path, count: int, *, first: int = 1, segment_bytes: int = 1 << 20, batch: int = 1, fsync: bool = False
) -> JournalWriter:
    """Write records ``first`` .. ``first + count - 1`` (ts = 1000 x sequence) in batches; return the closed writer."""
    directory.mkdir(parents=True, exist_ok=True)
    writer = JournalWriter(directory, first, fsync, segment_bytes)
    sequence = first
    end = first + count
    while sequence < end:
        out = bytearray()
        size = min(batch, end - sequence)
        for offset in range(size):
            frame(sequence + offset, 1000 * (sequence + offset), account_payload(sequence + offset), out)
        writer.write(out, size)
        sequence += size
    writer.close()
    return writer


def read_all(directory: Path) -> list[Record]:
    """Read every record of every segment, checking them as recovery does."""
    segments = list_segments(directory)
    found: list[Record] = []
    for index, segment in enumerate(segments):
        found.extend(read_segment(segment, index == len(segments) - 1))
    return found


def offsets_in(path: Path) -> list[int]:
    """Return the byte offset of every whole record in the segment file ``path``."""
    segment = Segment(path, int(path.name.split(".")[0]))
    return [record.offset for record in read_segment(segment, is_last=True)]


def recover_journal(journal_dir: Path, snapshot_dir: Path | None = None) -> Recovery:
    """Recover the exchange from ``journal_dir`` with no snapshot (an empty snapshot folder)."""
    snapshots = snapshot_dir if snapshot_dir is not None else journal_dir.parent / "no-snapshots"
    snapshots.mkdir(exist_ok=True)
    return recover(journal_dir, snapshots, default_instruments())


def assert_accounts_up_to(recovery: Recovery, last: int) -> None:
    """Assert the recovery replayed exactly records 1 .. ``last`` and nothing else."""
    assert recovery.last_sequence == last
    assert sorted(recovery.exchange.accounts) == list(range(1, last + 1))


def journal_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "hft.journal"]


def refusal(journal_dir: Path) -> JournalCorruptedError:
    """Recover ``journal_dir`` and return the refusal it must raise."""
    with pytest.raises(JournalCorruptedError) as raised:
        recover_journal(journal_dir)
    return raised.value


def assert_names(error: JournalCorruptedError, path: Path, offset: int, problem: str) -> None:
    """Assert the refusal names ``path`` and ``offset`` in its message and says ``problem``."""
    assert (error.path, error.offset) == (path, offset)
    assert str(path) in str(error)
    assert f"at byte {offset}" in str(error)
    assert problem in str(error)


def flip(path: Path, offset: int, mask: int = 0x01) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= mask
    path.write_bytes(bytes(data))


def segment_paths(journal_dir: Path) -> list[Path]:
    return [segment.path for segment in list_segments(journal_dir)]


# -- framing and reading back -----------------------------------------------


def test_frame_appends_a_checksummed_header_then_the_payload() -> None:
    out = bytearray(b"existing")

    frame(7, -5, b"payload", out)

    assert out[:8] == b"existing"
    length, sequence, ts, payload_crc, header_crc = RECORD_HEADER.unpack_from(out, 8)
    assert (length, sequence, ts) == (7, 7, -5)
    assert payload_crc == zlib.crc32(b"payload")
    assert header_crc == zlib.crc32(out[8:32])
    assert out[8 + RECORD_HEADER.size :] == b"payload"
    assert len(out) == 8 + 28 + 7


def test_segment_name_is_the_first_sequence_in_twenty_digits() -> None:
    assert segment_name(42) == "00000000000000000042.journal"
    assert segment_name(2**64 - 1) == "18446744073709551615.journal"


def test_a_new_segment_starts_with_a_checksummed_header(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path, 17, fsync=False, segment_bytes=1 << 20)
    writer.close()

    data = (tmp_path / "00000000000000000017.journal").read_bytes()
    assert len(data) == SEGMENT_HEADER.size == 20
    magic, version, reserved, first, crc = SEGMENT_HEADER.unpack(data)
    assert (magic, version, reserved, first) == (b"HFTJ", 1, 0, 17)
    assert crc == zlib.crc32(data[:16])


def test_records_read_back_with_their_sequence_ts_payload_and_offset(tmp_path: Path) -> None:
    write_journal(tmp_path, 12, batch=5)

    records = read_all(tmp_path)

    assert [record.sequence for record in records] == list(range(1, 13))
    assert [record.ts for record in records] == [1000 * sequence for sequence in range(1, 13)]
    assert [bytes(record.payload) for record in records] == [account_payload(n) for n in range(1, 13)]
    offset = SEGMENT_HEADER.size
    for record in records:
        assert record.offset == offset
        offset += RECORD_HEADER.size + len(record.payload)
    assert offset == (tmp_path / segment_name(1)).stat().st_size


def test_read_segment_yields_only_records_after_the_given_sequence_but_checks_them_all(tmp_path: Path) -> None:
    write_journal(tmp_path, 10)
    segment = list_segments(tmp_path)[0]

    yielded = [record.sequence for record in read_segment(segment, True, after_sequence=6)]

    assert yielded == [7, 8, 9, 10]
    assert segment.last_sequence == 10
    assert segment.valid_bytes == segment.path.stat().st_size
    assert segment.torn_bytes == 0


def test_a_damaged_record_before_the_snapshot_point_is_still_refused(tmp_path: Path) -> None:
    write_journal(tmp_path, 10)
    path = tmp_path / segment_name(1)
    second = offsets_in(path)[1]
    flip(path, second + RECORD_HEADER.size + 2)
    segment = list_segments(tmp_path)[0]

    with pytest.raises(JournalCorruptedError, match="payload checksum mismatch"):
        list(read_segment(segment, True, after_sequence=6))


# -- rollover and reopening --------------------------------------------------


def test_segments_roll_over_at_segment_bytes_with_consecutive_sequences(tmp_path: Path) -> None:
    write_journal(tmp_path, 60, segment_bytes=SMALL_SEGMENT, batch=3)

    paths = segment_paths(tmp_path)
    records_by_segment = [
        list(read_segment(segment, index == len(paths) - 1)) for index, segment in enumerate(list_segments(tmp_path))
    ]

    assert len(paths) >= 4
    for path, records in zip(paths, records_by_segment, strict=True):
        assert path.name == segment_name(records[0].sequence)
        assert len(records) % 3 == 0  # a batch is never split across two segments
    for path in paths[:-1]:
        assert path.stat().st_size >= SMALL_SEGMENT
    sequences = [record.sequence for records in records_by_segment for record in records]
    assert sequences == list(range(1, 61))
    assert_accounts_up_to(recover_journal(tmp_path), 60)


def test_reopening_appends_to_the_last_segment(tmp_path: Path) -> None:
    write_journal(tmp_path, 5)
    write_journal(tmp_path, 5, first=6)

    assert segment_paths(tmp_path) == [tmp_path / segment_name(1)]
    assert [record.sequence for record in read_all(tmp_path)] == list(range(1, 11))


def test_reopening_a_full_last_segment_starts_a_new_one(tmp_path: Path) -> None:
    write_journal(tmp_path, 12, segment_bytes=SMALL_SEGMENT, batch=12)  # one batch overfills the first segment
    assert [path.stat().st_size >= SMALL_SEGMENT for path in segment_paths(tmp_path)] == [True]

    write_journal(tmp_path, 2, first=13, segment_bytes=SMALL_SEGMENT)

    assert segment_paths(tmp_path) == [tmp_path / segment_name(1), tmp_path / segment_name(13)]
    assert [record.sequence for record in read_all(tmp_path)] == list(range(1, 15))


def test_sync_counts_one_fsync_per_call_when_fsync_is_on(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path, 1, fsync=True, segment_bytes=1 << 20)
    out = bytearray()
    for sequence in (1, 2, 3):
        frame(sequence, sequence, account_payload(sequence), out)
    writer.write(out, 3)

    writer.sync()

    assert writer.syncs == 1
    assert writer.next_sequence == 4
    writer.close()
    assert writer.syncs == 2


def test_sync_does_nothing_when_fsync_is_off(tmp_path: Path) -> None:
    writer = write_journal(tmp_path, 4, fsync=False)

    writer.sync()

    assert writer.syncs == 0


# -- torn tails: cut off with a warning --------------------------------------


@pytest.mark.parametrize("kept", [1, 12, 24, 27, 28, 30, -1], ids=lambda kept: f"kept-{kept}")
def test_a_last_record_cut_short_is_cut_off_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, kept: int
) -> None:
    write_journal(tmp_path, 6)
    path = tmp_path / segment_name(1)
    size = path.stat().st_size
    last = offsets_in(path)[-1]
    kept_bytes = kept if kept > 0 else size - last + kept
    with path.open("r+b") as file:
        file.truncate(last + kept_bytes)
    caplog.set_level(logging.WARNING, logger="hft.journal")

    recovery = recover_journal(tmp_path)

    assert_accounts_up_to(recovery, 5)
    assert recovery.cut_bytes == kept_bytes
    assert path.stat().st_size == last
    [warning] = journal_warnings(caplog)
    assert f"cutting a torn tail of {kept_bytes} bytes off {path} at byte {last}" in warning


def test_a_torn_tail_in_the_only_record_leaves_an_empty_journal(tmp_path: Path) -> None:
    write_journal(tmp_path, 1)
    path = tmp_path / segment_name(1)
    with path.open("r+b") as file:
        file.truncate(path.stat().st_size - 3)

    recovery = recover_journal(tmp_path)

    assert_accounts_up_to(recovery, 0)
    assert path.stat().st_size == SEGMENT_HEADER.size


def test_a_zero_filled_tail_at_a_record_boundary_is_cut_off(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_journal(tmp_path, 6)
    path = tmp_path / segment_name(1)
    whole = path.stat().st_size
    with path.open("ab") as file:
        file.write(bytes(4096))
    caplog.set_level(logging.WARNING, logger="hft.journal")

    recovery = recover_journal(tmp_path)

    assert_accounts_up_to(recovery, 6)
    assert recovery.cut_bytes == 4096
    assert path.stat().st_size == whole
    assert len(journal_warnings(caplog)) == 1


@pytest.mark.parametrize("landed", [10, 28, 40], ids=lambda landed: f"first-{landed}-bytes-landed")
def test_a_zero_filled_tail_that_starts_inside_the_last_record_is_refused(tmp_path: Path, landed: int) -> None:
    # Zeros inside a record cannot be told apart from damage to a record that was acknowledged (payloads
    # legitimately end in zero bytes), so only zeros that start on a record boundary count as a torn tail.
    write_journal(tmp_path, 6)
    path = tmp_path / segment_name(1)
    last = offsets_in(path)[-1]
    data = path.read_bytes()
    damaged = data[: last + landed] + bytes(len(data) - last - landed + 4000)
    path.write_bytes(damaged)

    with pytest.raises(JournalCorruptedError) as refused:
        recover_journal(tmp_path)

    assert refused.value.path == path
    assert refused.value.offset == last
    assert path.read_bytes() == damaged


@pytest.mark.parametrize("size", [1, 19])
def test_a_last_segment_shorter_than_its_header_is_removed_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, size: int
) -> None:
    write_journal(tmp_path, 3)
    short = tmp_path / segment_name(4)
    short.write_bytes(b"HFTJ\x01\x00\x00\x00\x04"[:size].ljust(size, b"\x00"))
    caplog.set_level(logging.WARNING, logger="hft.journal")

    recovery = recover_journal(tmp_path)

    assert_accounts_up_to(recovery, 3)
    assert recovery.cut_bytes == size
    assert not short.exists()
    [warning] = journal_warnings(caplog)
    assert f"removing {short}" in warning


def test_an_empty_last_segment_left_by_a_crash_during_rollover_does_not_break_the_next_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A crash between creating the next segment and writing its header leaves a 0-byte file.
    settings = CoreSettings(tmp_path, fsync=False)
    core = DurableCore(settings, default_instruments(), clock=lambda: 1)
    stamps = core.write([account_payload(1), account_payload(2)])
    core.apply([CreateAccount(1, "account-1", 100), CreateAccount(2, "account-2", 200)], stamps, 1)
    core.journal.close()
    empty = tmp_path / "journal" / segment_name(3)
    empty.touch()
    caplog.set_level(logging.WARNING, logger="hft.journal")

    restarted = DurableCore(settings, default_instruments(), clock=lambda: 2)
    stamps = restarted.write([account_payload(3)])
    restarted.apply([CreateAccount(3, "account-3", 300)], stamps, 3)
    restarted.journal.close()

    assert_accounts_up_to(recover_journal(tmp_path / "journal"), 3)
    assert f"removing {empty}" in "".join(journal_warnings(caplog))


def test_recovery_after_a_torn_tail_continues_the_sequence_from_the_last_whole_record(tmp_path: Path) -> None:
    settings = CoreSettings(tmp_path, fsync=False)
    core = DurableCore(settings, default_instruments(), clock=lambda: 5)
    core.write([account_payload(n) for n in (1, 2, 3)])
    core.journal.close()
    path = tmp_path / "journal" / segment_name(1)
    with path.open("r+b") as file:
        file.truncate(path.stat().st_size - 4)

    restarted = DurableCore(settings, default_instruments(), clock=lambda: 9)
    assert restarted.sequence == 2
    stamps = restarted.write([account_payload(3), account_payload(4)])
    restarted.journal.close()

    assert stamps == [9, 9]
    assert [record.sequence for record in read_all(tmp_path / "journal")] == [1, 2, 3, 4]
    assert_accounts_up_to(recover_journal(tmp_path / "journal"), 4)


def test_no_warning_and_nothing_cut_when_the_journal_is_whole(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_journal(tmp_path, 30, segment_bytes=SMALL_SEGMENT)
    sizes = [path.stat().st_size for path in segment_paths(tmp_path)]
    caplog.set_level(logging.WARNING, logger="hft.journal")

    recovery = recover_journal(tmp_path)

    assert_accounts_up_to(recovery, 30)
    assert recovery.cut_bytes == 0
    assert journal_warnings(caplog) == []
    assert [path.stat().st_size for path in segment_paths(tmp_path)] == sizes


def test_cut_torn_tail_does_nothing_without_torn_bytes(tmp_path: Path) -> None:
    write_journal(tmp_path, 2)
    segment = list_segments(tmp_path)[0]
    list(read_segment(segment, True))
    size = segment.path.stat().st_size

    cut_torn_tail(segment)

    assert segment.path.stat().st_size == size


# -- everything else is refused, naming the file and the byte offset ---------


@pytest.mark.parametrize("which", ["first", "middle", "last"])
def test_a_payload_checksum_mismatch_is_refused(tmp_path: Path, which: str) -> None:
    write_journal(tmp_path, 9)
    path = tmp_path / segment_name(1)
    offsets = offsets_in(path)
    damaged = {"first": offsets[0], "middle": offsets[4], "last": offsets[-1]}[which]
    flip(path, damaged + RECORD_HEADER.size + 3, 0x40)

    assert_names(refusal(tmp_path), path, damaged, "record payload checksum mismatch")


@pytest.mark.parametrize("field_offset", [0, 4, 12, 20, 24, 27], ids=lambda offset: f"byte-{offset}")
def test_a_record_header_checksum_mismatch_in_the_last_record_is_refused(tmp_path: Path, field_offset: int) -> None:
    write_journal(tmp_path, 9)
    path = tmp_path / segment_name(1)
    last = offsets_in(path)[-1]
    flip(path, last + field_offset, 0x80)

    assert_names(refusal(tmp_path), path, last, "record header checksum mismatch")


def test_damage_in_an_earlier_segment_is_refused_naming_that_segment(tmp_path: Path) -> None:
    write_journal(tmp_path, 40, segment_bytes=SMALL_SEGMENT)
    second = segment_paths(tmp_path)[1]
    damaged = offsets_in(second)[-1]
    flip(second, damaged + RECORD_HEADER.size)

    assert_names(refusal(tmp_path), second, damaged, "record payload checksum mismatch")


@pytest.mark.parametrize("header_offset", [0, 4, 6, 8, 16, 19], ids=lambda offset: f"byte-{offset}")
def test_a_damaged_segment_header_is_refused(tmp_path: Path, header_offset: int) -> None:
    write_journal(tmp_path, 20, segment_bytes=SMALL_SEGMENT)
    path = segment_paths(tmp_path)[-1]
    flip(path, header_offset, 0x10)

    assert_names(refusal(tmp_path), path, 0, "segment header checksum mismatch")


def _rewrite_segment_header(path: Path, version: int, first: int, magic: bytes = b"HFTJ") -> None:
    data = bytearray(path.read_bytes())
    struct.pack_into("<4sHHQ", data, 0, magic, version, 0, first)
    struct.pack_into("<I", data, 16, zlib.crc32(data[:16]))
    path.write_bytes(bytes(data))


def test_an_unsupported_segment_version_is_refused(tmp_path: Path) -> None:
    write_journal(tmp_path, 3)
    path = tmp_path / segment_name(1)
    _rewrite_segment_header(path, version=2, first=1)

    assert_names(refusal(tmp_path), path, 0, "journal format version 2 is not supported")


def test_a_wrong_magic_with_a_valid_checksum_is_refused(tmp_path: Path) -> None:
    write_journal(tmp_path, 3)
    path = tmp_path / segment_name(1)
    _rewrite_segment_header(path, version=1, first=1, magic=b"HFTS")

    assert_names(refusal(tmp_path), path, 0, "segment header")


def test_a_segment_header_disagreeing_with_the_file_name_is_refused(tmp_path: Path) -> None:
    write_journal(tmp_path, 3)
    path = tmp_path / segment_name(1)
    _rewrite_segment_header(path, version=1, first=2)

    assert_names(refusal(tmp_path), path, 0, "header says first sequence 2")


@pytest.mark.parametrize("cut", [1, 20, 27])
def test_an_incomplete_record_in_a_segment_that_is_not_the_last_is_refused(tmp_path: Path, cut: int) -> None:
    write_journal(tmp_path, 40, segment_bytes=SMALL_SEGMENT)
    first = segment_paths(tmp_path)[0]
    last = offsets_in(first)[-1]
    with first.open("r+b") as file:
        file.truncate(first.stat().st_size - cut)

    assert_names(refusal(tmp_path), first, last, "incomplete record in a segment that is not the last")


def test_a_zero_filled_tail_in_a_segment_that_is_not_the_last_is_refused(tmp_path: Path) -> None:
    write_journal(tmp_path, 40, segment_bytes=SMALL_SEGMENT)
    first = segment_paths(tmp_path)[0]
    end = first.stat().st_size
    with first.open("ab") as file:
        file.write(bytes(100))

    assert_names(refusal(tmp_path), first, end, "record header checksum mismatch")


def test_a_segment_that_is_not_the_last_and_shorter_than_its_header_is_refused(tmp_path: Path) -> None:
    write_journal(tmp_path, 3)
    short = tmp_path / segment_name(4)
    short.write_bytes(b"HFTJ")
    write_journal(tmp_path / "elsewhere", 2, first=5)
    (tmp_path / "elsewhere" / segment_name(5)).rename(tmp_path / segment_name(5))

    assert_names(refusal(tmp_path), short, 0, "segment header is incomplete")


def test_a_missing_segment_is_refused_naming_the_one_after_the_gap(tmp_path: Path) -> None:
    write_journal(tmp_path, 40, segment_bytes=SMALL_SEGMENT)
    paths = segment_paths(tmp_path)
    paths[1].unlink()
    first_of_third = int(paths[2].name.split(".")[0])

    error = refusal(tmp_path)

    assert_names(error, paths[2], 0, f"segment starts at {first_of_third} but the previous one ends at")


def test_a_missing_first_segment_is_refused(tmp_path: Path) -> None:
    write_journal(tmp_path, 40, segment_bytes=SMALL_SEGMENT)
    paths = segment_paths(tmp_path)
    paths[0].unlink()

    assert_names(refusal(tmp_path), paths[1], 0, "records from 1 are missing")


def test_a_journal_starting_after_sequence_one_without_a_snapshot_is_refused(tmp_path: Path) -> None:
    write_journal(tmp_path, 3, first=5)

    assert_names(refusal(tmp_path), tmp_path / segment_name(5), 0, "journal starts at sequence 5")


def test_a_record_out_of_sequence_is_refused_even_with_valid_checksums(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path, 1, fsync=False, segment_bytes=1 << 20)
    out = bytearray()
    for sequence in (1, 2, 4):
        frame(sequence, sequence, account_payload(sequence), out)
    writer.write(out, 3)
    writer.close()
    path = tmp_path / segment_name(1)

    assert_names(refusal(tmp_path), path, offsets_in_prefix(path, 2), "sequence 4 where 3 was expected")


def offsets_in_prefix(path: Path, whole: int) -> int:
    """Return the offset just after the first ``whole`` records of ``path`` (read without sequence checks)."""
    data = path.read_bytes()
    offset = SEGMENT_HEADER.size
    for _ in range(whole):
        length = RECORD_HEADER.unpack_from(data, offset)[0]
        offset += RECORD_HEADER.size + length
    return offset


def test_an_undecodable_payload_with_valid_checksums_is_refused(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path, 1, fsync=False, segment_bytes=1 << 20)
    out = bytearray()
    frame(1, 1, account_payload(1), out)
    frame(2, 2, b"\xc1 not msgpack", out)
    frame(3, 3, account_payload(3), out)
    writer.write(out, 3)
    writer.close()
    path = tmp_path / segment_name(1)

    assert_names(refusal(tmp_path), path, offsets_in_prefix(path, 1), "record does not decode")


def test_a_whole_record_longer_than_the_payload_limit_is_refused(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path, 1, fsync=False, segment_bytes=1 << 24)
    out = bytearray()
    frame(1, 1, account_payload(1), out)
    frame(2, 2, bytes(MAX_PAYLOAD + 1), out)
    writer.write(out, 2)
    writer.close()
    path = tmp_path / segment_name(1)

    assert_names(refusal(tmp_path), path, offsets_in_prefix(path, 1), f"record length {MAX_PAYLOAD + 1}")


def test_a_file_name_that_is_not_a_sequence_is_refused(tmp_path: Path) -> None:
    write_journal(tmp_path, 2)
    stray = tmp_path / "1.journal"
    stray.write_bytes(b"")

    assert_names(refusal(tmp_path), stray, 0, "file name is not <20-digit first sequence>.journal")
