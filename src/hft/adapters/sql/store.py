"""The SQL store: one async engine, the migrations, and the idempotent write of a ``RowBatch``.

Every write is one transaction of bulk (executemany) statements. Rows that
hold the latest state of something (orders, positions, accounts) are upserts
guarded by their event sequence, ``... ON CONFLICT DO UPDATE ... WHERE
stored.sequence < excluded.sequence``, and executions are inserted with
``ON CONFLICT DO NOTHING``: writing a batch twice, or replaying batches that
overlap what is stored, never duplicates a row nor moves one backwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.sql.dml import Insert

from hft.adapters.sql import tables
from hft.adapters.sql.columns import Amount, UtcTimestamp
from hft.adapters.sql.rows import RowBatch, rows_from_changes
from hft.adapters.sql.schema import upgrade
from hft.adapters.sql.urls import async_url, make_sqlite_directory
from hft.domain.exchange.events import AccountChanged
from hft.domain.instruments import Instrument

if TYPE_CHECKING:
    from hft.service.history import Changes  # a type only: the service layer imports this adapter

# Seconds to wait for a PostgreSQL connection: an unreachable server must fail a write, not hang the writer.
CONNECT_TIMEOUT: Final = 5.0
# Seconds one statement may run before PostgreSQL gives up on it.
STATEMENT_TIMEOUT: Final = 60.0
# Rows per executemany. Preparing parameters runs on the event loop (about 40 us a row for PostgreSQL); in
# chunks this size the loop gets back to trading every few milliseconds instead of once per transaction.
CHUNK_ROWS: Final = 100

# A fill changes an account's cash without an AccountChanged: keep accounts.cash current from it.
_ACCOUNT_CASH: Final = sa.text(
    "UPDATE accounts SET cash = :cash, sequence = :sequence, updated_at = :updated_at"
    " WHERE account_id = :account_id AND sequence < :sequence"
).bindparams(
    sa.bindparam("cash", type_=Amount()),
    sa.bindparam("sequence", type_=sa.BigInteger()),
    sa.bindparam("updated_at", type_=UtcTimestamp()),
    sa.bindparam("account_id", type_=sa.BigInteger()),
)


class SqlStore:
    """The trading history in an SQL database (SQLite or PostgreSQL), written in idempotent batches.

    ``url`` is ``sqlite:///path`` or ``postgresql://user:password@host/database``
    (the ``+aiosqlite`` and ``+asyncpg`` forms too); any other raises ValueError.
    ``instruments`` give the tick and lot sizes that turn integers into decimals.
    """

    def __init__(self, url: str, instruments: Iterable[Instrument]) -> None:
        self.url: Final[URL] = async_url(url)
        self.instruments: Final = {instrument.symbol: instrument for instrument in instruments}
        self._engine: AsyncEngine | None = None
        self._statements: _Statements | None = None

    @property
    def engine(self) -> AsyncEngine:
        """Return the async engine (for reads); raise RuntimeError before ``start``."""
        if self._engine is None:
            raise RuntimeError("the SQL store is not started")
        return self._engine

    def rows(self, changes: Changes, account_events: Iterable[AccountChanged]) -> RowBatch:
        """Copy ``changes`` and ``account_events`` into rows, with this store's instruments. O(rows)."""
        return rows_from_changes(changes, account_events, self.instruments)

    async def start(self) -> None:
        """Connect and bring the tables up to date (``alembic upgrade head``). Raises if the database is unreachable."""
        make_sqlite_directory(self.url)
        engine = _create_engine(self.url)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(upgrade)
        except BaseException:
            await engine.dispose()
            raise
        self._statements = _Statements(engine.dialect.name)
        self._engine = engine

    async def close(self) -> None:
        """Close every connection. The store can be started again."""
        engine, self._engine = self._engine, None
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
        alone. Raises the database's error (nothing is written then).
        """
        statements = self._statements
        engine = self.engine
        assert statements is not None  # set together with the engine
        async with engine.begin() as connection:
            for statement, rows in (
                (statements.accounts, batch.accounts),
                (_ACCOUNT_CASH, batch.account_cash),
                (statements.orders, batch.orders),
                (statements.executions, batch.executions),
                (statements.positions, batch.positions),
            ):
                for start in range(0, len(rows), CHUNK_ROWS):
                    await connection.execute(statement, rows[start : start + CHUNK_ROWS])
            state = {"name": tables.HISTORY_PROJECTION, "last_sequence": batch.last_sequence}
            await connection.execute(statements.projection_state, state)


class _Statements:
    """The write statements in the dialect of one engine, built once."""

    def __init__(self, dialect: str) -> None:
        insert: Callable[[sa.Table], Any] = sqlite.insert if dialect == "sqlite" else postgresql.insert
        self.accounts = _upsert(insert(tables.accounts), ("account_id",))
        self.orders = _upsert(insert(tables.orders), ("order_id",), keep=("created_at",))
        self.positions = _upsert(insert(tables.positions), ("account_id", "symbol"))
        self.executions: Insert = insert(tables.executions).on_conflict_do_nothing(index_elements=["execution_id"])
        state = insert(tables.projection_state)
        # last_sequence only moves forwards: replaying an old batch must not make the store look behind.
        self.projection_state: Insert = state.on_conflict_do_update(
            index_elements=["name"],
            set_={"last_sequence": state.excluded.last_sequence},
            where=tables.projection_state.c.last_sequence < state.excluded.last_sequence,
        )


def _upsert(statement: Any, keys: tuple[str, ...], keep: tuple[str, ...] = ()) -> Insert:
    """Return ``statement`` (a dialect INSERT) updating an existing row only from a newer sequence."""
    table = statement.table
    excluded = statement.excluded
    updates = {column.name: excluded[column.name] for column in table.columns if column.name not in keys + keep}
    upsert: Insert = statement.on_conflict_do_update(
        index_elements=list(keys), set_=updates, where=table.c.sequence < excluded.sequence
    )
    return upsert


def _create_engine(url: URL) -> AsyncEngine:
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
        return engine
    return create_async_engine(
        url,
        hide_parameters=True,  # errors and logs must not carry account data
        pool_pre_ping=True,  # a server restart leaves dead pooled connections: find them before writing
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
