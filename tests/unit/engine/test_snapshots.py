"""Snapshot files: written whole or not at all, pruned to the newest few, and refused when damaged."""

from __future__ import annotations

import logging
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hft.domain.commands import Command
from hft.domain.exchange.exchange import Exchange
from hft.domain.exchange.queries import state_hash
from hft.domain.instruments import Instrument
from hft.engine import snapshots
from hft.engine.errors import SnapshotInvalidError
from hft.engine.journal import JournalWriter, frame
from hft.engine.recovery import recover
from hft.engine.snapshots import HASH_LENGTH, HEADER

Traded = Callable[[int], Exchange]

TS = 1_700_000_000_123_456_789


@pytest.fixture
def exchange(traded: Traded) -> Exchange:
    """An exchange with accounts, positions, resting orders and client order records."""
    built = traded(250)
    assert built.open_orders
    assert built.client_orders
    assert built.fees_collected
    return built


def write_snapshot(directory: Path, exchange: Exchange, sequence: int = 250, keep: int = 3) -> Path:
    return snapshots.write(directory, snapshots.capture(exchange, sequence, TS), keep)


def write_raw(path: Path, payload: bytes, sequence: int, version: int = 1) -> None:
    """Write a snapshot file with valid checksums around any payload."""
    head = bytearray(HEADER.size)
    struct.pack_into("<4sHHQqQI", head, 0, b"HFTS", version, 0, sequence, TS, len(payload), zlib.crc32(payload))
    struct.pack_into("<I", head, HEADER.size - 4, zlib.crc32(head[: HEADER.size - 4]))
    path.write_bytes(bytes(head) + payload)


def stored(path: Path) -> tuple[str, list[Any]]:
    """Return the (state hash, state) a snapshot file holds, unchecked."""
    payload = path.read_bytes()[HEADER.size :]
    state: list[Any] = msgspec.msgpack.decode(payload[HASH_LENGTH:])
    return payload[:HASH_LENGTH].decode("ascii"), state


def refusal(path: Path, instruments: list[Instrument]) -> SnapshotInvalidError:
    with pytest.raises(SnapshotInvalidError) as raised:
        snapshots.read(path, instruments)
    error = raised.value
    assert error.path == path
    assert str(path) in str(error)
    assert f"at byte {error.offset}" in str(error)
    return error


# -- writing and reading back ------------------------------------------------


def test_a_snapshot_reads_back_as_the_same_state(
    tmp_path: Path, exchange: Exchange, instruments: list[Instrument]
) -> None:
    path = write_snapshot(tmp_path, exchange, sequence=250)

    snapshot, rebuilt = snapshots.read(path, instruments)

    assert path == tmp_path / "00000000000000000250.snapshot"
    assert (snapshot.sequence, snapshot.ts) == (250, TS)
    assert snapshot.state_hash == state_hash(exchange) == state_hash(rebuilt)
    assert list(tmp_path.iterdir()) == [path]


def test_the_file_header_holds_sequence_ts_length_and_both_checksums(tmp_path: Path, exchange: Exchange) -> None:
    data = write_snapshot(tmp_path, exchange, sequence=77).read_bytes()

    magic, version, reserved, sequence, ts, length, payload_crc, header_crc = HEADER.unpack_from(data)

    assert (magic, version, reserved, sequence, ts) == (b"HFTS", 1, 0, 77, TS)
    assert length == len(data) - HEADER.size
    assert payload_crc == zlib.crc32(data[HEADER.size :])
    assert header_crc == zlib.crc32(data[: HEADER.size - 4])
    assert stored(tmp_path / "00000000000000000077.snapshot")[0] == state_hash(exchange)


def test_a_rebuilt_exchange_behaves_like_the_original(
    tmp_path: Path, instruments: list[Instrument], flow: Callable[[int], list[Command]]
) -> None:
    commands = flow(400)
    original = Exchange(instruments)
    for index, command in enumerate(commands[:200]):
        original.apply(command, TS + index)
    _, rebuilt = snapshots.read(write_snapshot(tmp_path, original, sequence=200), instruments)

    for index, command in enumerate(commands[200:], start=200):
        assert len(original.apply(command, TS + index)) == len(rebuilt.apply(command, TS + index))

    assert state_hash(rebuilt) == state_hash(original)


def test_capture_copies_the_state_so_later_commands_do_not_leak_into_the_file(
    tmp_path: Path, instruments: list[Instrument], flow: Callable[[int], list[Command]]
) -> None:
    commands = flow(300)
    exchange = Exchange(instruments)
    for index, command in enumerate(commands[:150]):
        exchange.apply(command, TS + index)
    hash_at_capture = state_hash(exchange)
    captured = snapshots.capture(exchange, 150, TS)

    for index, command in enumerate(commands[150:], start=150):
        exchange.apply(command, TS + index)
    path = snapshots.write(tmp_path, captured, keep=1)

    snapshot, rebuilt = snapshots.read(path, instruments)
    assert snapshot.state_hash == state_hash(rebuilt) == hash_at_capture != state_hash(exchange)


# -- pruning and leftovers ---------------------------------------------------


@pytest.mark.parametrize("keep", [1, 2, 3])
def test_only_the_newest_keep_snapshots_remain(tmp_path: Path, exchange: Exchange, keep: int) -> None:
    for sequence in (5, 10, 100, 1000, 20000):
        write_snapshot(tmp_path, exchange, sequence=sequence, keep=keep)

    remaining = [path.name for path in snapshots.list_snapshots(tmp_path)]

    expected = [f"{sequence:020d}.snapshot" for sequence in (5, 10, 100, 1000, 20000)][-keep:]
    assert remaining == expected
    assert sorted(path.name for path in tmp_path.iterdir()) == expected


def test_list_snapshots_orders_by_sequence_not_by_creation(tmp_path: Path, exchange: Exchange) -> None:
    for sequence in (900, 1000, 95):
        write_snapshot(tmp_path, exchange, sequence=sequence, keep=10)

    assert [path.name for path in snapshots.list_snapshots(tmp_path)] == [
        "00000000000000000095.snapshot",
        "00000000000000000900.snapshot",
        "00000000000000001000.snapshot",
    ]


def test_a_leftover_temporary_file_is_removed_with_a_warning(
    tmp_path: Path, exchange: Exchange, caplog: pytest.LogCaptureFixture
) -> None:
    kept = write_snapshot(tmp_path, exchange, sequence=10)
    leftover = tmp_path / "writing-00000000000000000020.snapshot"
    leftover.write_bytes(kept.read_bytes()[:100])
    caplog.set_level(logging.WARNING, logger="hft.snapshots")

    found = snapshots.list_snapshots(tmp_path)

    assert found == [kept]
    assert not leftover.exists()
    [message] = [record.getMessage() for record in caplog.records if record.name == "hft.snapshots"]
    assert f"removing {leftover}" in message


def test_writing_a_snapshot_removes_an_interrupted_one(tmp_path: Path, exchange: Exchange) -> None:
    leftover = tmp_path / "writing-00000000000000000007.snapshot"
    leftover.write_bytes(b"half")

    written = write_snapshot(tmp_path, exchange, sequence=8)

    assert list(tmp_path.iterdir()) == [written]


def test_recovery_ignores_an_interrupted_snapshot_and_uses_the_previous_one(
    tmp_path: Path, exchange: Exchange, instruments: list[Instrument]
) -> None:
    snapshot_dir = tmp_path / "snapshots"
    journal_dir = tmp_path / "journal"
    snapshot_dir.mkdir()
    journal_dir.mkdir()
    write_snapshot(snapshot_dir, exchange, sequence=1)
    (snapshot_dir / "writing-00000000000000000002.snapshot").write_bytes(b"\x00" * 10)
    # The journal must reach the snapshot: one segment holding record 1 only is enough for this check.
    writer = JournalWriter(journal_dir, 1, fsync=False, segment_bytes=1 << 20)
    out = bytearray()
    frame(1, TS, msgspec.msgpack.encode([6]), out)
    writer.write(out, 1)
    writer.close()

    recovery = recover(journal_dir, snapshot_dir, instruments)

    assert recovery.snapshot_sequence == 1
    assert state_hash(recovery.exchange) == state_hash(exchange)
    assert [path.name for path in snapshot_dir.iterdir()] == ["00000000000000000001.snapshot"]


# -- damaged snapshots are refused -------------------------------------------


@pytest.mark.parametrize("offset", [0, 3, 4, 6, 8, 15, 16, 24, 32, 36, 39], ids=lambda offset: f"byte-{offset}")
def test_a_damaged_header_is_refused(
    tmp_path: Path, exchange: Exchange, instruments: list[Instrument], offset: int
) -> None:
    path = write_snapshot(tmp_path, exchange)
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x04
    path.write_bytes(bytes(data))

    error = refusal(path, instruments)

    assert error.offset == 0
    assert "snapshot header checksum mismatch" in str(error)


@pytest.mark.parametrize("where", [0.0, 0.3, 0.7, 1.0])
def test_a_damaged_payload_is_refused(
    tmp_path: Path, exchange: Exchange, instruments: list[Instrument], where: float
) -> None:
    path = write_snapshot(tmp_path, exchange)
    data = bytearray(path.read_bytes())
    offset = HEADER.size + int((len(data) - HEADER.size - 1) * where)
    data[offset] ^= 0x20
    path.write_bytes(bytes(data))

    error = refusal(path, instruments)

    assert error.offset == HEADER.size
    assert "snapshot payload checksum mismatch" in str(error)


@pytest.mark.parametrize("change", ["truncated", "extended"])
def test_a_payload_of_the_wrong_length_is_refused(
    tmp_path: Path, exchange: Exchange, instruments: list[Instrument], change: str
) -> None:
    path = write_snapshot(tmp_path, exchange)
    data = path.read_bytes()
    path.write_bytes(data[:-1] if change == "truncated" else data + b"\x00")

    assert "snapshot payload checksum mismatch" in str(refusal(path, instruments))


@pytest.mark.parametrize("size", [0, 1, HEADER.size - 1])
def test_a_file_shorter_than_its_header_is_refused(
    tmp_path: Path, exchange: Exchange, instruments: list[Instrument], size: int
) -> None:
    path = write_snapshot(tmp_path, exchange)
    path.write_bytes(path.read_bytes()[:size])

    assert "shorter than a snapshot header" in str(refusal(path, instruments))


def test_an_unsupported_version_is_refused(tmp_path: Path, exchange: Exchange, instruments: list[Instrument]) -> None:
    path = write_snapshot(tmp_path, exchange, sequence=250)
    write_raw(path, path.read_bytes()[HEADER.size :], 250, version=2)

    assert "snapshot format version 2 is not supported" in str(refusal(path, instruments))


def test_a_snapshot_renamed_to_another_sequence_is_refused(
    tmp_path: Path, exchange: Exchange, instruments: list[Instrument]
) -> None:
    path = write_snapshot(tmp_path, exchange, sequence=250)
    renamed = path.rename(tmp_path / "00000000000000000300.snapshot")

    assert "header says sequence 250" in str(refusal(renamed, instruments))


def test_a_state_whose_rebuilt_hash_differs_is_refused(
    tmp_path: Path, exchange: Exchange, instruments: list[Instrument]
) -> None:
    path = write_snapshot(tmp_path, exchange, sequence=250)
    recorded_hash, state = stored(path)
    state[7][0][2] += 1  # one account's cash, checksums recomputed: only the state hash can tell
    write_raw(path, recorded_hash.encode() + msgspec.msgpack.encode(state), 250)

    error = refusal(path, instruments)

    assert error.offset == HEADER.size
    assert "rebuilt state hash" in str(error)
    assert recorded_hash in str(error)


def test_a_recorded_hash_that_does_not_match_is_refused(
    tmp_path: Path, exchange: Exchange, instruments: list[Instrument]
) -> None:
    path = write_snapshot(tmp_path, exchange, sequence=250)
    _, state = stored(path)
    write_raw(path, b"0" * HASH_LENGTH + msgspec.msgpack.encode(state), 250)

    assert "rebuilt state hash" in str(refusal(path, instruments))


def _without_first_open_order(state: list[Any]) -> list[Any]:
    state[9] = state[9][1:]
    return state


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(lambda state: b"\xc1 not msgpack", id="not msgpack"),
        pytest.param(lambda state: msgspec.msgpack.encode(["hash"]), id="no state"),
        pytest.param(lambda state: msgspec.msgpack.encode(["hash", [1, 2, 3]]), id="state too short"),
        pytest.param(lambda state: msgspec.msgpack.encode(["hash", {"a": 1}]), id="state not a list"),
        pytest.param(
            lambda state: msgspec.msgpack.encode(["hash", _without_first_open_order(state)]),
            id="open orders disagree with the book",
        ),
    ],
)
def test_a_payload_that_does_not_rebuild_a_state_is_refused(
    tmp_path: Path,
    exchange: Exchange,
    instruments: list[Instrument],
    payload: Callable[[list[Any]], bytes],
) -> None:
    path = write_snapshot(tmp_path, exchange, sequence=250)
    _, state = stored(path)
    write_raw(path, payload(state), 250)

    error = refusal(path, instruments)

    assert error.offset == HEADER.size
    assert "snapshot does not rebuild a state" in str(error)


def test_recovery_refuses_a_damaged_newest_snapshot_even_when_an_older_one_is_good(
    tmp_path: Path, exchange: Exchange, instruments: list[Instrument]
) -> None:
    write_snapshot(tmp_path, exchange, sequence=5)
    newest = write_snapshot(tmp_path, exchange, sequence=6)
    data = bytearray(newest.read_bytes())
    data[-1] ^= 0x01
    newest.write_bytes(bytes(data))
    (tmp_path / "journal").mkdir()

    with pytest.raises(SnapshotInvalidError, match=r"00000000000000000006\.snapshot at byte 40"):
        recover(tmp_path / "journal", tmp_path, instruments)
