"""A PostgreSQL server that crashes mid-stream: the writer keeps every batch, retries, and ends exactly right."""

from __future__ import annotations

import asyncio
import logging

import pytest
from tests.integration.adapters.sql.reading import expected_tables, table_rows
from tests.integration.adapters.sql.servers import ThrowawayPostgres
from tests.integration.adapters.sql.trading import Venue, instruments, steady_trading
from tests.integration.adapters.sql.waiting import eventually

from hft.adapters.sql import ProjectionWriter, RowBatch, SqlStore


async def _trade(writer: ProjectionWriter, flow: list[RowBatch], until: asyncio.Event) -> list[RowBatch]:
    """Enqueue a batch every 2 ms, as a busy venue would, until told to stop; return what was enqueued."""
    enqueued: list[RowBatch] = []
    for batch in flow:
        writer.enqueue(batch)
        enqueued.append(batch)
        if until.is_set():
            break
        await asyncio.sleep(0.002)
    return enqueued


def test_the_writer_survives_a_postgres_crash_and_restart_without_losing_or_duplicating_a_row(
    throwaway_postgres: ThrowawayPostgres, caplog: pytest.LogCaptureFixture
) -> None:
    server = throwaway_postgres
    flow = list(steady_trading(Venue(), batches=1_000))

    async def scenario() -> None:
        writer = ProjectionWriter(SqlStore(server.url, instruments()), initial_backoff=0.05, max_backoff=0.2)
        await writer.start()
        done = asyncio.Event()
        trading = asyncio.create_task(_trade(writer, flow, done))
        await eventually(lambda: writer.last_written_sequence > 0, what="the first writes")

        await asyncio.to_thread(server.crash)  # while batches keep coming and being written
        await eventually(lambda: not writer.healthy, what="the writer noticing the crash")
        written_before_restart = writer.last_written_sequence
        await asyncio.sleep(0.3)  # a few failed retries while trading goes on
        assert writer.last_written_sequence == written_before_restart
        assert writer.lag.batches > 0
        assert writer.last_error is not None

        await asyncio.to_thread(server.start)
        await eventually(lambda: writer.healthy, timeout=15, what="the writer noticing the restart")
        done.set()
        enqueued = await trading
        await eventually(lambda: writer.lag.rows == 0, what="the queue draining")

        assert writer.last_written_sequence == enqueued[-1].last_sequence
        assert await table_rows(writer.store) == expected_tables(enqueued)
        await writer.stop()

    with caplog.at_level(logging.WARNING, logger="hft.sql"):
        asyncio.run(scenario())
    messages = [record.getMessage() for record in caplog.records]
    assert sum("failing" in message for message in messages) == 1, messages
    assert sum("resumed" in message for message in messages) == 1, messages
