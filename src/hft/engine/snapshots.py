"""Snapshot files: the whole exchange state at one sequence, checksummed and self-verifying.

File ``<sequence, 20 digits>.snapshot``::

    magic "HFTS" | version u16 | 0 u16 | sequence u64 | ts i64 | payload length u64 | payload crc32 | header crc32
    payload: the state hash (64 hex digits) | the exchange state as plain data, msgpack-encoded

A snapshot is written to a temporary file, fsynced, then renamed, so a
snapshot file is either whole or absent. Loading checks both checksums and
then the state hash of the rebuilt exchange against the stored one.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

import msgspec

from hft.domain.exchange.exchange import Exchange
from hft.domain.exchange.queries import encoded_state_hash, plain_state_hash, state_hash
from hft.domain.exchange.snapshot import export_exchange, restore_exchange
from hft.domain.instruments import Instrument
from hft.engine import crashpoints
from hft.engine.errors import SnapshotInvalidError
from hft.engine.journal import sync_directory

log = logging.getLogger("hft.snapshots")

MAGIC: Final = b"HFTS"
VERSION: Final = 1
HEADER: Final = struct.Struct("<4sHHQqQII")
SUFFIX: Final = ".snapshot"
HASH_LENGTH: Final = 64
TEMPORARY_PREFIX: Final = "writing-"


class Snapshot:
    """A state captured at ``sequence`` (the last command it includes) and ``ts`` (that command's time)."""

    def __init__(self, sequence: int, ts: int, state: list[Any]) -> None:
        self.sequence = sequence
        self.ts = ts
        self.state = state

    @property
    def state_hash(self) -> str:
        """The state hash of the captured state (computed on each call: O(state))."""
        return plain_state_hash(self.state)


def capture(exchange: Exchange, sequence: int, ts: int) -> Snapshot:
    """Copy the exchange state now into plain data that another thread can hash and write. O(state)."""
    return Snapshot(sequence, ts, export_exchange(exchange))


def write(directory: Path, snapshot: Snapshot, keep: int, fsync: bool = True) -> Path:
    """Write ``snapshot`` into ``directory`` and delete all but the newest ``keep`` snapshots.

    With ``fsync`` (the default) the file and the directory are fsynced, so the snapshot survives a power failure.
    """
    encoded_state = msgspec.msgpack.encode(snapshot.state)
    payload = encoded_state_hash(encoded_state).encode() + encoded_state
    head = bytearray(HEADER.size)
    struct.pack_into(
        "<4sHHQqQI", head, 0, MAGIC, VERSION, 0, snapshot.sequence, snapshot.ts, len(payload), zlib.crc32(payload)
    )
    struct.pack_into("<I", head, HEADER.size - 4, zlib.crc32(head[: HEADER.size - 4]))
    final = directory / f"{snapshot.sequence:020d}{SUFFIX}"
    temporary = directory / f"{TEMPORARY_PREFIX}{final.name}"
    with temporary.open("wb") as file:
        file.write(head)
        file.write(payload)
        file.flush()
        if fsync:
            os.fsync(file.fileno())
    crashpoints.reach("snapshot_written")
    temporary.replace(final)
    if fsync:
        sync_directory(directory)
    for old in list_snapshots(directory)[:-keep]:
        old.unlink()
    return final


def list_snapshots(directory: Path) -> list[Path]:
    """Return the snapshot files in ``directory``, oldest first; remove leftovers of interrupted writes."""
    for leftover in directory.glob(f"{TEMPORARY_PREFIX}*"):
        log.warning("removing %s: a snapshot write that was interrupted", leftover)
        leftover.unlink()
    return sorted(path for path in directory.glob(f"*{SUFFIX}"))


def read(path: Path, instruments: Iterable[Instrument]) -> tuple[Snapshot, Exchange]:
    """Load a snapshot file and rebuild its exchange. Raises ``SnapshotInvalidError`` unless all checks pass."""
    data = path.read_bytes()
    if len(data) < HEADER.size:
        raise SnapshotInvalidError(path, 0, "file is shorter than a snapshot header")
    magic, version, _, sequence, ts, length, payload_crc, header_crc = HEADER.unpack_from(data, 0)
    if magic != MAGIC or zlib.crc32(data[: HEADER.size - 4]) != header_crc:
        raise SnapshotInvalidError(path, 0, "snapshot header checksum mismatch")
    if version != VERSION:
        raise SnapshotInvalidError(path, 0, f"snapshot format version {version} is not supported")
    if path.name != f"{sequence:020d}{SUFFIX}":
        raise SnapshotInvalidError(path, 0, f"header says sequence {sequence}, file name says otherwise")
    payload = memoryview(data)[HEADER.size :]
    if len(payload) != length or zlib.crc32(payload) != payload_crc:
        raise SnapshotInvalidError(path, HEADER.size, "snapshot payload checksum mismatch")
    try:
        recorded_hash = bytes(payload[:HASH_LENGTH]).decode("ascii")
        state = msgspec.msgpack.decode(payload[HASH_LENGTH:])
        exchange = restore_exchange(instruments, state)
    except (msgspec.DecodeError, UnicodeDecodeError, ValueError, KeyError, TypeError, IndexError) as error:
        raise SnapshotInvalidError(path, HEADER.size, f"snapshot does not rebuild a state: {error}") from error
    rebuilt_hash = state_hash(exchange)
    if rebuilt_hash != recorded_hash:
        raise SnapshotInvalidError(path, HEADER.size, f"rebuilt state hash {rebuilt_hash} != recorded {recorded_hash}")
    return Snapshot(sequence, ts, state), exchange
