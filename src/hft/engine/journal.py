"""The journal: append-only segment files of framed, checksummed command records.

Segment file ``<first sequence, 20 digits>.journal``::

    header  magic "HFTJ" | version u16 | 0 u16 | first sequence u64 | crc32 of those 16 bytes
    record  payload length u32 | sequence u64 | ts i64 | payload crc32 | crc32 of the previous 24 bytes | payload

All integers little-endian. Sequences are consecutive across segments. The
header checksum means a damaged length can never pass for a torn tail.
Reading rules: a last record cut short at the end of the last segment (a
torn write, never acknowledged) is cut off with a warning; any other damage
raises ``JournalCorruptedError`` naming the file and byte offset.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from hft.engine import crashpoints
from hft.engine.errors import JournalCorruptedError

log = logging.getLogger("hft.journal")

MAGIC: Final = b"HFTJ"
VERSION: Final = 1
SEGMENT_HEADER: Final = struct.Struct("<4sHHQI")
RECORD_HEADER: Final = struct.Struct("<IQqII")
_CHECKED_HEADER: Final = struct.Struct("<IQqI")
MAX_PAYLOAD: Final = 1 << 20
SUFFIX: Final = ".journal"


def segment_name(first_sequence: int) -> str:
    """Return the file name of the segment that starts at ``first_sequence``."""
    return f"{first_sequence:020d}{SUFFIX}"


def frame(sequence: int, ts: int, payload: bytes, out: bytearray) -> None:
    """Append the framed record to ``out``."""
    head = _CHECKED_HEADER.pack(len(payload), sequence, ts, zlib.crc32(payload))
    out += head
    out += zlib.crc32(head).to_bytes(4, "little")
    out += payload


class Record:
    """One journaled command as read back: sequence, ts, the undecoded payload and its byte offset."""

    def __init__(self, sequence: int, ts: int, payload: memoryview, offset: int) -> None:
        self.sequence = sequence
        self.ts = ts
        self.payload = payload
        self.offset = offset


class Segment:
    """A segment file as found on disk: where its valid records end, and its last sequence."""

    def __init__(self, path: Path, first_sequence: int) -> None:
        self.path = path
        self.first_sequence = first_sequence
        self.last_sequence = first_sequence - 1
        self.valid_bytes = 0
        self.torn_bytes = 0


def list_segments(directory: Path) -> list[Segment]:
    """Return the segment files in ``directory`` in sequence order (names checked, contents not read)."""
    segments = []
    for path in directory.glob(f"*{SUFFIX}"):
        stem = path.name[: -len(SUFFIX)]
        if len(stem) != 20 or not stem.isdigit():
            raise JournalCorruptedError(path, 0, "file name is not <20-digit first sequence>.journal")
        segments.append(Segment(path, int(stem)))
    return sorted(segments, key=lambda segment: segment.first_sequence)


def read_segment(segment: Segment, is_last: bool, after_sequence: int = 0) -> Iterator[Record]:
    """Check every record of ``segment`` and yield those with a sequence above ``after_sequence``.

    Sets ``valid_bytes``, ``last_sequence`` and ``torn_bytes`` (a torn tail
    is only allowed when ``is_last``). Raises ``JournalCorruptedError``.
    """
    path = segment.path
    data = path.read_bytes()
    view = memoryview(data)
    size = len(data)
    if size < SEGMENT_HEADER.size and is_last:
        segment.torn_bytes = size
        return
    _check_segment_header(segment, data)
    offset = SEGMENT_HEADER.size
    expected = segment.first_sequence
    header_size = RECORD_HEADER.size
    unpack = RECORD_HEADER.unpack_from
    crc32 = zlib.crc32
    while offset < size:
        if size - offset < header_size:
            break
        length, sequence, ts, payload_crc, header_crc = unpack(data, offset)
        if crc32(view[offset : offset + 24]) != header_crc:
            if is_last and not any(view[offset:]):
                break  # zero-filled tail: the file grew but the batch never landed
            raise JournalCorruptedError(path, offset, "record header checksum mismatch")
        end = offset + header_size + length
        if end > size:
            break
        if length > MAX_PAYLOAD:
            raise JournalCorruptedError(path, offset, f"record length {length} is implausible")
        payload = view[offset + header_size : end]
        if crc32(payload) != payload_crc:
            raise JournalCorruptedError(path, offset, "record payload checksum mismatch")
        if sequence != expected:
            raise JournalCorruptedError(path, offset, f"sequence {sequence} where {expected} was expected")
        if sequence > after_sequence:
            yield Record(sequence, ts, payload, offset)
        expected += 1
        offset = end
    if offset < size and not is_last:
        raise JournalCorruptedError(path, offset, "incomplete record in a segment that is not the last")
    segment.valid_bytes = offset
    segment.torn_bytes = size - offset
    segment.last_sequence = expected - 1


def _check_segment_header(segment: Segment, data: bytes) -> None:
    if len(data) < SEGMENT_HEADER.size:
        raise JournalCorruptedError(segment.path, 0, "segment header is incomplete")
    magic, version, _, first, crc = SEGMENT_HEADER.unpack_from(data, 0)
    if zlib.crc32(data[:16]) != crc or magic != MAGIC:
        raise JournalCorruptedError(segment.path, 0, "segment header checksum mismatch")
    if version != VERSION:
        raise JournalCorruptedError(segment.path, 0, f"journal format version {version} is not supported")
    if first != segment.first_sequence:
        raise JournalCorruptedError(segment.path, 0, f"header says first sequence {first}, file name says otherwise")


def cut_torn_tail(segment: Segment) -> None:
    """Truncate a torn tail off the last segment (or remove a segment too short to hold its header)."""
    if segment.valid_bytes == 0:
        log.warning(
            "removing %s: %d bytes, too short for a segment header (never acknowledged)",
            segment.path,
            segment.torn_bytes,
        )
        segment.path.unlink()
    elif segment.torn_bytes:
        log.warning(
            "cutting a torn tail of %d bytes off %s at byte %d (never acknowledged)",
            segment.torn_bytes,
            segment.path,
            segment.valid_bytes,
        )
        with segment.path.open("r+b") as file:
            file.truncate(segment.valid_bytes)
            os.fsync(file.fileno())
    segment.torn_bytes = 0


class JournalWriter:
    """Appends batches of records to the newest segment; rolls to a new segment when it is full.

    ``write`` puts a whole batch into the file with one system call; ``sync``
    makes everything written so far durable (one fsync for the whole batch:
    group commit). With ``fsync`` off, ``sync`` does nothing.
    """

    def __init__(self, directory: Path, next_sequence: int, fsync: bool, segment_bytes: int) -> None:
        self.directory = directory
        self.fsync = fsync
        self.segment_bytes = segment_bytes
        self.next_sequence = next_sequence
        self.syncs = 0
        self._fd = -1
        self._size = 0
        segments = list_segments(directory)
        if segments and segments[-1].path.stat().st_size < segment_bytes:
            self._open(segments[-1].path)
        else:
            self._roll()

    def _open(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        self._size = os.fstat(self._fd).st_size

    def _roll(self) -> None:
        if self._fd >= 0:
            self.sync()
            os.close(self._fd)
        path = self.directory / segment_name(self.next_sequence)
        head = bytearray(SEGMENT_HEADER.size)
        struct.pack_into("<4sHHQ", head, 0, MAGIC, VERSION, 0, self.next_sequence)
        struct.pack_into("<I", head, 16, zlib.crc32(head[:16]))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        os.write(fd, head)
        if self.fsync:
            os.fsync(fd)
            sync_directory(self.directory)
        self._fd = fd
        self._size = len(head)

    def write(self, batch: bytes | bytearray, count: int) -> None:
        """Append ``count`` framed records (``batch``), rolling first if the segment is full."""
        if self._size >= self.segment_bytes:
            self._roll()
        crashpoints.reach("before_write")
        view = memoryview(batch)
        if crashpoints.armed("torn_write"):
            half = len(view) // 2
            os.write(self._fd, view[:half])
            crashpoints.reach("torn_write")
            view = view[half:]
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self._size += len(batch)
        self.next_sequence += count
        crashpoints.reach("after_write")

    def sync(self) -> None:
        """Make every written record durable (fdatasync), unless fsync is off. Safe to call from a thread."""
        if self.fsync:
            self._sync_file()

    def _sync_file(self) -> None:
        os.fdatasync(self._fd)
        self.syncs += 1

    def close(self, sync: bool = True) -> None:
        """Sync (unless ``sync`` is False: after a failure) and close the segment."""
        if self._fd >= 0:
            if sync:
                self.sync()
            os.close(self._fd)
            self._fd = -1


def sync_directory(directory: Path) -> None:
    """Fsync a directory so that files created or renamed in it survive a crash."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
