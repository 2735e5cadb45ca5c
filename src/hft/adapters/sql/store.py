"""The SQL store: one async engine, the migrations, and the idempotent write of a ``RowBatch``.

Every write is one transaction. Rows that hold the latest state of something
(orders, positions, accounts) are upserts guarded by their event sequence,
``... ON CONFLICT DO UPDATE ... WHERE stored.sequence < excluded.sequence``,
and executions are inserted with ``ON CONFLICT DO NOTHING``: writing a batch
twice, or replaying batches that overlap what is stored, never duplicates a
row nor moves one backwards.

SQLAlchemy (the engine) migrates and reads; the writes, the hot path, go
straight through the driver (``bulk.py``) on a connection of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hft.adapters.sql import tables
from hft.adapters.sql.bulk import PostgresWriter, SqliteWriter, postgres_connector
from hft.adapters.sql.rows import RowBatch
from hft.adapters.sql.schema import upgrade
from hft.adapters.sql.urls import async_url, make_sqlite_directory
from hft.domain.instruments import Instrument

if TYPE_CHECKING:
    pass  # a type only: the service layer imports this adapter

# Seconds to wait for a PostgreSQL connection: an unreachable server must fail a write, not hang the writer.
CONNECT_TIMEOUT: Final = 5.0
# Seconds one statement may run before PostgreSQL gives up on it.
STATEMENT_TIMEOUT: Final = 60.0


class SqlStore:
    """The trading history in an SQL database (SQLite or PostgreSQL), written in idempotent batches.

    ``url`` is ``sqlite:///path`` or ``postgresql://user:password@host/database``
    (the ``+aiosqlite`` and ``+asyncpg`` forms too); any other, or an in-memory
    SQLite database (which the writing connection could not share), raises ValueError.
    ``instruments`` give the tick and lot sizes that turn integers into decimals.
    """

    def __init__(self, url: str, instruments: Iterable[Instrument]) -> None:
        self.url: Final[URL] = async_url(url)
        if self.url.get_backend_name() == "sqlite" and self.url.database in (None, "", ":memory:"):
            raise ValueError("an in-memory SQLite database is not supported: use sqlite:///path/to/file.db")
        self.instruments: Final = {instrument.symbol: instrument for instrument in instruments}
        self._engine: AsyncEngine | None = None
        self._writer: SqliteWriter | PostgresWriter | None = None

    @property
    def engine(self) -> AsyncEngine:
        """Return the async engine (for reads); raise RuntimeError before ``start``."""
        if self._engine is None:
            raise RuntimeError("the SQL store is not started")
        return self._engine

    async def start(self) -> None:
        """Connect and bring the tables up to date (``alembic upgrade head``). Raises if the database is unreachable.

        Starting a started store reconnects it (the previous connections are closed first).
        """
        await self.close()
        make_sqlite_directory(self.url)
        engine = _create_engine(self.url)
        writer: SqliteWriter | PostgresWriter | None = None
        try:
            async with engine.begin() as connection:
                await connection.run_sync(upgrade)
            writer = _create_writer(engine, self.url)
            await writer.open()
        except BaseException:
            if writer is not None:
                await writer.close()
            await engine.dispose()
            raise
        self._engine = engine
        self._writer = writer

    async def close(self) -> None:
        """Close every connection. The store can be started again."""
        writer, self._writer = self._writer, None
        engine, self._engine = self._engine, None
        try:
            if writer is not None:
                await writer.close()
        finally:
            if engine is not None:
                await engine.dispose()

    async def ping(self) -> bool:
        """Return whether the database answers a trivial query now. Never raises."""
        if self._engine is None:
            return False
        try:
            async with self._engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
        except Exception:
            return False
        return True

    async def last_sequence(self) -> int:
        """Return the last event sequence fully written (0 for an empty database)."""
        query = sa.select(tables.projection_state.c.last_sequence).where(
            tables.projection_state.c.name == tables.HISTORY_PROJECTION
        )
        async with self.engine.connect() as connection:
            stored = (await connection.execute(query)).scalar_one_or_none()
        return stored or 0

    async def write(self, batch: RowBatch) -> None:
        """Write ``batch`` in one transaction: upserts by sequence, new executions, then ``last_sequence``.

        Idempotent: a row already stored at the same or a newer sequence is left
        alone. ``batch`` holds at most one row per key, as ``rows_from_changes``
        and ``RowBatch.merge`` make them. Raises the driver's error
        (``sqlite3.Error``, ``asyncpg.PostgresError``, ``OSError``...): nothing is written then.
        """
        writer = self._writer
        if writer is None:
            raise RuntimeError("the SQL store is not started")
        await writer.write(batch)


def _create_writer(engine: AsyncEngine, url: URL) -> SqliteWriter | PostgresWriter:
    """Return the bulk writer of ``url``'s database, with the options SQLAlchemy reads from the URL."""
    arguments, options = engine.dialect.create_connect_args(url)
    if url.get_backend_name() == "sqlite":
        return SqliteWriter(arguments[0], dict(options))
    return PostgresWriter(postgres_connector(dict(options), CONNECT_TIMEOUT, STATEMENT_TIMEOUT))


def _create_engine(url: URL) -> AsyncEngine:
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
        return engine
    return create_async_engine(
        url,
        hide_parameters=True,  # errors and logs must not carry account data
        pool_pre_ping=True,  # a server restart leaves dead pooled connections: find them before reading
        pool_size=2,
        max_overflow=2,
        connect_args={"timeout": CONNECT_TIMEOUT, "command_timeout": STATEMENT_TIMEOUT},
    )


def _tune_sqlite(connection: Any, record: object) -> None:
    # WAL lets readers (dashboards, ad hoc SQL) read while the writer writes; NORMAL syncs at checkpoints, which is
    # enough for a projection that is rebuilt from the journal past its last_sequence.
    cursor = connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()
