"""A FIX session's durable state under ``<data_dir>/fix/<SenderCompID>/``.

- ``sequences``: the next incoming and outgoing MsgSeqNum and the *cursor*,
  the position in the venue's event stream up to which this session's
  execution reports are stored (24 bytes, rewritten in place).
- ``messages``: every application message sent (or queued while the client
  was away), so a ResendRequest can be answered; administrative and market
  data messages are not kept and are gap-filled instead.
- ``orders``: which orders were entered through this session and the
  ClOrdIDs that replaced earlier ones, for cancel-on-disconnect and for
  OrigClOrdID look-ups after a restart.

Records are framed with their length and a CRC-32, so a torn tail (a
crash mid-write) is found and cut when the store opens. Writes are grouped:
``commit`` writes what accumulated with one ``write`` per file and, when a
message was added, one ``fsync``; the caller sends nothing before it. A
``kill -9`` loses nothing written (the page cache survives the process);
with ``fsync`` a power failure loses nothing committed either.
"""

from __future__ import annotations

import os
import struct
import zlib
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Final

RECORD_HEADER: Final = struct.Struct("<II")  # payload length, CRC-32 of the payload
MESSAGE_HEADER: Final = struct.Struct("<QQBB")  # MsgSeqNum, stream position, len(MsgType), len(SendingTime)
SEQUENCES: Final = struct.Struct("<QQQ")  # next incoming, next outgoing, cursor
ORDER_HEADER: Final = struct.Struct("<cQ")  # kind, order id; the ClOrdID follows

ENTERED: Final = b"O"  # an order this session entered (its ClOrdID)
REPLACED: Final = b"R"  # an order took a new ClOrdID through a replace from this session


class StoredMessage:
    """An application message as it was first sent: enough to send it again with PossDupFlag."""

    __slots__ = ("body", "msg_seq_num", "msg_type", "position", "sending_time")

    def __init__(self, msg_seq_num: int, position: int, msg_type: bytes, sending_time: bytes, body: bytes) -> None:
        self.msg_seq_num = msg_seq_num
        self.position = position
        self.msg_type = msg_type
        self.sending_time = sending_time
        self.body = body


class SessionStore:
    """Sequence numbers, sent application messages and order notes of one session, on disk."""

    def __init__(self, directory: Path, fsync: bool = True) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.fsync = fsync
        self._sequences = os.open(directory / "sequences", os.O_RDWR | os.O_CREAT, 0o600)
        self._messages = os.open(directory / "messages", os.O_RDWR | os.O_CREAT, 0o600)
        self._orders = os.open(directory / "orders", os.O_RDWR | os.O_CREAT, 0o600)
        stored = os.pread(self._sequences, SEQUENCES.size, 0)
        # A new session has no reports to catch up on: the gateway moves its cursor to the present.
        self.fresh = len(stored) != SEQUENCES.size
        self.next_in, self.next_out, self.cursor = (1, 1, 0) if self.fresh else SEQUENCES.unpack(stored)
        # MsgSeqNum -> file offset of each stored message, in increasing MsgSeqNum order.
        self._seqs = array("q")
        self._offsets = array("q")
        self._size = self._load_messages()
        self._orders_size, self.order_notes = self._load_orders()
        self._pending_messages = bytearray()
        self._pending_orders = bytearray()
        # What the sequences file holds (None: nothing yet, so the first commit writes it).
        self._saved: tuple[int, int, int] | None = None if self.fresh else (self.next_in, self.next_out, self.cursor)

    # -- opening: read back, cut a torn tail ------------------------------------------------------------------

    def _load_messages(self) -> int:
        data = _read_all(self._messages)
        offset = 0
        for payload_offset, payload in _records(data):
            seq, position, _, _ = MESSAGE_HEADER.unpack_from(payload)
            self._seqs.append(seq)
            self._offsets.append(payload_offset - RECORD_HEADER.size)
            self.next_out = max(self.next_out, seq + 1)
            self.cursor = max(self.cursor, position)
            offset = payload_offset + len(payload)
        if offset < len(data):
            os.ftruncate(self._messages, offset)
        return offset

    def _load_orders(self) -> tuple[int, list[tuple[bytes, int, str]]]:
        data = _read_all(self._orders)
        notes: list[tuple[bytes, int, str]] = []
        offset = 0
        for payload_offset, payload in _records(data):
            kind, order_id = ORDER_HEADER.unpack_from(payload)
            notes.append((kind, order_id, payload[ORDER_HEADER.size :].decode("latin-1")))
            offset = payload_offset + len(payload)
        if offset < len(data):
            os.ftruncate(self._orders, offset)
        return offset, notes

    # -- writing -----------------------------------------------------------------------------------------------

    def add_message(self, message: StoredMessage) -> None:
        """Queue an application message for the next ``commit``. O(len(body))."""
        payload = (
            MESSAGE_HEADER.pack(message.msg_seq_num, message.position, len(message.msg_type), len(message.sending_time))
            + message.msg_type
            + message.sending_time
            + message.body
        )
        self._seqs.append(message.msg_seq_num)
        self._offsets.append(self._size + len(self._pending_messages))
        self._pending_messages += RECORD_HEADER.pack(len(payload), zlib.crc32(payload))
        self._pending_messages += payload
        self.cursor = max(self.cursor, message.position)

    def add_order_note(self, kind: bytes, order_id: int, client_order_id: str) -> None:
        """Queue a note that an order was entered (``ENTERED``) or took a new ClOrdID (``REPLACED``) here."""
        payload = ORDER_HEADER.pack(kind, order_id) + client_order_id.encode("latin-1")
        self._pending_orders += RECORD_HEADER.pack(len(payload), zlib.crc32(payload))
        self._pending_orders += payload
        self.order_notes.append((kind, order_id, client_order_id))

    def commit(self) -> None:
        """Write what was queued and the sequence numbers; fsync if a message or note was added.

        Cost: at most one write per file, and one fsync per file written when ``fsync`` is on.
        """
        durable = False
        if self._pending_messages:
            self._size += _write_at(self._messages, self._pending_messages, self._size)
            self._pending_messages.clear()
            durable = self.fsync
            if durable:
                os.fdatasync(self._messages)
        if self._pending_orders:
            self._orders_size += _write_at(self._orders, self._pending_orders, self._orders_size)
            self._pending_orders.clear()
            if self.fsync:
                os.fdatasync(self._orders)
                durable = True
        state = (self.next_in, self.next_out, self.cursor)
        if state != self._saved:
            os.pwrite(self._sequences, SEQUENCES.pack(*state), 0)
            self._saved = state
            if durable:
                os.fdatasync(self._sequences)

    def reset(self) -> None:
        """Start both sequences again at 1 and forget the stored messages (a Logon with ResetSeqNumFlag)."""
        self._pending_messages.clear()
        os.ftruncate(self._messages, 0)
        self._size = 0
        self._seqs = array("q")
        self._offsets = array("q")
        self.next_in = self.next_out = 1
        self.commit()

    def close(self) -> None:
        """Commit and close the files."""
        self.commit()
        for fd in (self._sequences, self._messages, self._orders):
            os.close(fd)

    # -- reading back --------------------------------------------------------------------------------------------

    def messages(self, begin: int, end: int) -> Iterator[StoredMessage]:
        """Yield the stored messages with ``begin <= MsgSeqNum <= end``, in order (committed ones only)."""
        seqs = self._seqs
        low, high = 0, len(seqs)
        while low < high:  # the first index with seq >= begin
            middle = (low + high) // 2
            if seqs[middle] < begin:
                low = middle + 1
            else:
                high = middle
        for index in range(low, len(seqs)):
            seq = seqs[index]
            offset = self._offsets[index]
            if seq > end or offset >= self._size:
                return
            length, _ = RECORD_HEADER.unpack(os.pread(self._messages, RECORD_HEADER.size, offset))
            payload = os.pread(self._messages, length, offset + RECORD_HEADER.size)
            seq, position, type_length, time_length = MESSAGE_HEADER.unpack_from(payload)
            start = MESSAGE_HEADER.size
            yield StoredMessage(
                seq,
                position,
                payload[start : start + type_length],
                payload[start + type_length : start + type_length + time_length],
                payload[start + type_length + time_length :],
            )


def _read_all(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    return os.pread(fd, size, 0) if size else b""


def _records(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Yield ``(payload offset, payload)`` of each whole record; stop at the first torn or corrupt one."""
    offset = 0
    while offset + RECORD_HEADER.size <= len(data):
        length, crc = RECORD_HEADER.unpack_from(data, offset)
        start = offset + RECORD_HEADER.size
        payload = data[start : start + length]
        if len(payload) != length or zlib.crc32(payload) != crc:
            return
        yield start, payload
        offset = start + length


def _write_at(fd: int, data: bytearray, offset: int) -> int:
    written = 0
    view = memoryview(data)
    while written < len(data):
        written += os.pwrite(fd, view[written:], offset + written)
    return written
