"""What the event streams must hold: the journal's events encoded as messages, stream by stream."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from hft.domain.instruments import Instrument
from hft.engine.core import Ack
from hft.engine.replay import replay_batches
from hft.streams.schema import STREAMS, Message, MessageEncoder


def expected_messages(
    journal_dir: Path, instruments: Iterable[Instrument], last_sequence: int
) -> dict[str, list[Message]]:
    """Replay journaled commands 1..``last_sequence`` and return each stream's messages in order. O(journal)."""
    instruments = list(instruments)
    return messages_by_stream(replay_batches(journal_dir, instruments, last_sequence), instruments)


def messages_by_stream(batches: Iterable[list[Ack]], instruments: Iterable[Instrument]) -> dict[str, list[Message]]:
    """Return the messages of ``batches``' events, per stream, in order: what every broker must hold."""
    encoder = MessageEncoder(instruments)
    streams: dict[str, list[Message]] = {stream: [] for stream in STREAMS}
    for acks in batches:
        for message in encoder.encode(acks):
            streams[message.stream].append(message)
    return streams


def differences(expected: list[Message], actual: list[Message]) -> str:
    """Describe how ``actual`` differs from ``expected`` ("" when equal): counts, duplicates, first mismatch."""
    if actual == expected:
        return ""
    sequences = [message.sequence for message in actual]
    duplicates = len(sequences) - len(set(sequences))
    first = next(
        (index for index, (want, got) in enumerate(zip(expected, actual, strict=False)) if want != got),
        min(len(expected), len(actual)),
    )
    return (
        f"expected {len(expected)} messages, got {len(actual)} ({duplicates} duplicated); "
        f"first difference at index {first}: expected {expected[first : first + 1]}, got {actual[first : first + 1]}"
    )
