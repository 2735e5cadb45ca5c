"""ProjectionWriter: drains in order, merges batches, survives a locked SQLite, bounds its memory, flushes on stop."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from tests.integration.adapters.sql.reading import expected_tables, table_rows
from tests.integration.adapters.sql.trading import Venue, busy_day, instruments
from tests.integration.adapters.sql.waiting import eventually

from hft.adapters.sql import ProjectionWriter, RowBatch, SqlStore
from hft.adapters.sql.writer import MAX_PENDING_ROWS


class CountingStore(SqlStore):
    """A real SqlStore that counts its writes."""

    writes = 0

    async def write(self, batch: RowBatch) -> None:
        """Write ``batch`` and count it."""
        self.writes += 1
        await super().write(batch)


@contextmanager
def sqlite_locked(url: str) -> Iterator[None]:
    """Hold SQLite's write lock on ``url``'s file, as another busy writer would, until the block ends."""
    connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        yield
        connection.execute("ROLLBACK")
    finally:
        connection.close()


def _impatient_writer(url: str, max_pending_rows: int = MAX_PENDING_ROWS) -> ProjectionWriter:
    """Return a writer on ``url`` that learns of a lock in 20 ms and retries every 10 to 50 ms."""
    # A locked SQLite waits 5 s by default before it reports the lock; the tests want to see it sooner.
    store = SqlStore(f"{url}?timeout=0.02", instruments())
    return ProjectionWriter(store, max_pending_rows=max_pending_rows, initial_backoff=0.01, max_backoff=0.05)


def test_the_writer_writes_every_enqueued_batch_in_few_transactions(database_url: str) -> None:
    batches = busy_day(Venue())
    small = [batch for _ in range(40) for batch in busy_day(Venue())]  # 200 batches, each replayed 40 times

    async def scenario() -> None:
        store = CountingStore(database_url, instruments())
        writer = ProjectionWriter(store)
        await writer.start()
        for batch in small + batches:
            writer.enqueue(batch)
        await eventually(lambda: writer.lag.rows == 0, what="the queue draining")

        assert await table_rows(store) == expected_tables(batches)
        assert writer.last_written_sequence == batches[-1].last_sequence
        assert writer.lag == (0, 0, 0)
        assert store.writes <= 3  # everything queued at once is merged, up to 10,000 rows a transaction
        await writer.stop()

    asyncio.run(scenario())


def test_batches_arriving_one_by_one_gather_into_one_write_per_interval(sqlite_url: str) -> None:
    batches = busy_day(Venue())

    async def scenario() -> None:
        store = CountingStore(sqlite_url, instruments())
        writer = ProjectionWriter(store, min_write_interval=0.3)
        await writer.start()
        writer.enqueue(batches[0])  # written at once: no write before it
        await eventually(lambda: store.writes == 1, what="the first write")
        for batch in batches[1:]:  # within the interval: they wait for it to end, then go together
            await asyncio.sleep(0.01)
            writer.enqueue(batch)
        await eventually(lambda: writer.lag.rows == 0, what="the queue draining")

        assert store.writes == 2
        assert await table_rows(store) == expected_tables(batches)
        await writer.stop()

    asyncio.run(scenario())


def test_batches_enqueued_before_start_are_written_once_it_starts(sqlite_url: str) -> None:
    batches = busy_day(Venue())

    async def scenario() -> None:
        writer = ProjectionWriter(SqlStore(sqlite_url, instruments()))
        for batch in batches:
            writer.enqueue(batch)
        await writer.start()
        await eventually(lambda: writer.lag.rows == 0, what="the queue draining")
        assert await table_rows(writer.store) == expected_tables(batches)
        await writer.stop()

    asyncio.run(scenario())


def test_a_locked_database_makes_the_writer_unhealthy_then_it_catches_up_without_duplicates(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    batches = busy_day(Venue())

    async def scenario() -> None:
        writer = _impatient_writer(sqlite_url)
        await writer.start()
        writer.enqueue(batches[0])
        await eventually(lambda: writer.lag.rows == 0, what="the first write")
        with sqlite_locked(sqlite_url):
            for batch in batches[1:]:
                writer.enqueue(batch)
            await eventually(lambda: not writer.healthy, what="the writer noticing the lock")
            await asyncio.sleep(0.2)  # several failed attempts: still one log line, nothing written or lost
            assert writer.last_error is not None
            assert "locked" in writer.last_error
            assert writer.lag.batches == len(batches) - 1
            assert writer.last_written_sequence == batches[0].last_sequence
        await eventually(lambda: writer.healthy and writer.lag.rows == 0, what="recovery")

        assert await table_rows(writer.store) == expected_tables(batches)
        assert writer.last_error is None
        await writer.stop()

    with caplog.at_level(logging.WARNING, logger="hft.sql"):
        asyncio.run(scenario())
    messages = [record.getMessage() for record in caplog.records]
    assert sum("failing" in message for message in messages) == 1
    assert sum("resumed" in message for message in messages) == 1


def test_an_overflowing_queue_is_dropped_and_the_venue_catches_up(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    batches = busy_day(Venue())

    async def scenario() -> None:
        writer = _impatient_writer(sqlite_url, max_pending_rows=20)
        await writer.start()
        writer.enqueue(batches[0])
        await eventually(lambda: writer.lag.rows == 0, what="the first write")
        with sqlite_locked(sqlite_url):
            writer.enqueue(batches[1])
            await eventually(lambda: not writer.healthy, what="the writer noticing the lock")
            for batch in batches[2:]:
                writer.enqueue(batch)
            # The batch being retried is kept; the queue behind it went over 20 rows and was dropped.
            assert writer.needs_catch_up_from == batches[0].last_sequence
            assert writer.dropped_batches == len(batches) - 2
            assert writer.lag.rows == batches[1].row_count
        await eventually(lambda: writer.healthy and writer.lag.rows == 0, what="the database coming back")
        assert writer.last_written_sequence == batches[1].last_sequence
        assert writer.needs_catch_up_from == batches[0].last_sequence  # until the venue has caught up
        writer.enqueue(batches[-1])  # ignored: the catch-up will cover it
        assert writer.lag.rows == 0

        writer.reset_after_catch_up(RowBatch.merge(batches[1:]))  # the venue rebuilds what came after
        await eventually(lambda: writer.lag.rows == 0, what="the catch-up write")

        assert writer.needs_catch_up_from is None
        assert await table_rows(writer.store) == expected_tables(batches)
        await writer.stop()

    with caplog.at_level(logging.ERROR, logger="hft.sql"):
        asyncio.run(scenario())
    assert any("dropped" in record.getMessage() for record in caplog.records)


def test_stop_flushes_what_is_queued(sqlite_url: str) -> None:
    batches = busy_day(Venue())

    async def scenario() -> None:
        writer = ProjectionWriter(SqlStore(sqlite_url, instruments()))
        await writer.start()
        for batch in batches:
            writer.enqueue(batch)
        await writer.stop(timeout=5)

        reopened = SqlStore(sqlite_url, instruments())
        await reopened.start()
        assert await table_rows(reopened) == expected_tables(batches)
        await reopened.close()

    asyncio.run(scenario())


def test_stop_gives_up_after_its_timeout_when_the_database_stays_away(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    batches = busy_day(Venue())

    async def scenario() -> float:
        writer = _impatient_writer(sqlite_url)
        await writer.start()
        with sqlite_locked(sqlite_url):
            for batch in batches:
                writer.enqueue(batch)
            started = time.monotonic()
            await writer.stop(timeout=0.3)
            return time.monotonic() - started

    with caplog.at_level(logging.WARNING, logger="hft.sql"):
        seconds = asyncio.run(scenario())
    assert seconds < 1.0
    assert any("unwritten" in record.getMessage() for record in caplog.records)
