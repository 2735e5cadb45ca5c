"""Each projection read back and held against the journal: a list of differences, empty when they are equal."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from tests.integration.adapters.sql.reading import table_rows
from tests.integration.outages.journal import Journal

from hft.adapters.redis import entries, read_cache, read_sequence
from hft.adapters.sql.store import SqlStore
from hft.streams.schema import STREAMS, Message
from hft.testing.streams import differences as message_differences

ReadStream = Callable[[str], Awaitable[list[Message]]]


async def database_differences(url: str, journal: Journal) -> list[str]:
    """Compare every table with the journal's rows: same rows, same values, none twice."""
    store = SqlStore(url, journal.instruments)
    await store.start()
    try:
        found = await table_rows(store)
    finally:
        await store.close()
    expected = journal.tables()
    differences = _state_differences(found.pop("projection_state"), expected.pop("projection_state"), journal)
    for table, rows in expected.items():
        differences += _row_differences(table, found[table], rows)
    return differences


def _state_differences(found: list[dict[str, Any]], expected: list[dict[str, Any]], journal: Journal) -> list[str]:
    lowest = expected[0]["last_sequence"] if expected else 0
    stored = [row["last_sequence"] for row in found]
    if len(stored) != 1 or not lowest <= stored[0] <= journal.last_event:
        return [f"projection_state holds {stored}, expected one sequence in {lowest}..{journal.last_event}"]
    return []


def _row_differences(table: str, found: list[dict[str, Any]], expected: list[dict[str, Any]]) -> list[str]:
    if found == expected:
        return []
    found_counts = Counter(_key(row) for row in found)
    repeated = [key for key, count in found_counts.items() if count > 1]
    found_keys = set(found_counts)
    expected_keys = {_key(row) for row in expected}
    changed = next((pair for pair in zip(found, expected, strict=False) if pair[0] != pair[1]), None)
    return [
        f"{table}: {len(found)} rows, expected {len(expected)}; {len(expected_keys - found_keys)} missing, "
        f"{len(found_keys - expected_keys)} unexpected, {len(repeated)} keys repeated; first difference: {changed}"
    ]


def _key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """The primary key of a row of any projection table (positions: account and symbol)."""
    if "execution_id" in row:
        return (row["execution_id"],)
    if "order_id" in row:
        return (row["order_id"],)
    if "symbol" in row:
        return row["account_id"], row["symbol"]
    return (row["account_id"],)


async def stream_differences(read_stream: ReadStream, journal: Journal) -> list[str]:
    """Compare every stream with the journal's messages: same sequences in order, same keys and bytes, none twice."""
    expected = journal.messages()
    differences: list[str] = []
    for stream in STREAMS:
        found = await read_stream(stream)
        if difference := message_differences(expected[stream], found):
            differences.append(f"{stream}: {difference}")
    return differences


async def cache_differences(url: str, prefix: str, journal: Journal) -> list[str]:
    """Compare the cache's sequence, keys and fields with what the journal's state gives."""
    sequence = await read_sequence(url, prefix)
    if sequence != journal.exchange.engine.sequence:
        return [f"the cache reflects event {sequence}, the journal ends at event {journal.exchange.engine.sequence}"]
    found = await read_cache(url, prefix)
    expected = entries(journal.exchange, journal.market(), prefix, journal.position_sequences())
    if found == expected:
        return []
    missing = sorted(expected.keys() - found.keys())
    unexpected = sorted(found.keys() - expected.keys())
    changed = sorted(key for key in expected.keys() & found.keys() if expected[key] != found[key])
    first = f", first {changed[0]}: found {found[changed[0]]}, expected {expected[changed[0]]}" if changed else ""
    return [
        f"cache: {len(found)} keys, expected {len(expected)}; missing {missing[:5]}, unexpected {unexpected[:5]}, "
        f"{len(changed)} changed{first}"
    ]
