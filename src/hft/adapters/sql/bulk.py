"""Bulk writes of a ``RowBatch`` straight through the database drivers: the projection's hot path.

SQLAlchemy compiles each statement and runs every bound value through Python
type processing; at thousands of rows a second that cost more event-loop time
than matching the orders. The writes therefore go to the drivers themselves,
with SQL generated here from ``tables.py`` (names, keys, types), and rows that
need no conversion in Python (``rows.py``): cash units and nanosecond times
become the stored decimals and timestamps inside the database, off the event
loop and without the GIL. SQLAlchemy and Alembic keep the schema, the
migrations and the reads, which see exactly the values they always did.

- SQLite: the standard ``sqlite3`` module on a thread of its own. A write is one
  call into that thread (``BEGIN IMMEDIATE``, one ``executemany`` of the tuples per
  table, ``COMMIT``): the event loop only hands the batch over.
- PostgreSQL: ``asyncpg`` on a connection of its own. ``executemany`` costs about
  2 us of event-loop time per row there (a Bind and an Execute message, and their
  replies, each); instead each table's rows travel as one JSON array parameter
  (encoded in C by msgspec, unpacked by the server) and the upserts of every table
  and ``projection_state`` are one statement: one round trip per write, atomic on
  its own. Writes of more than ``CHUNK_ROWS`` rows a table go in several such
  statements inside ``BEGIN``/``COMMIT``, so the loop never encodes more than a chunk at once.

Both keep the semantics of the SQLAlchemy statements they replace: upserts
guarded by ``stored.sequence < excluded.sequence``, executions ``ON CONFLICT DO
NOTHING``, ``projection_state.last_sequence`` only raised, a batch all or nothing.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

import asyncpg  # type: ignore[import-untyped]
import msgspec
import sqlalchemy as sa

from hft.adapters.sql import tables
from hft.adapters.sql.columns import Amount, UtcTimestamp
from hft.adapters.sql.rows import (
    ACCOUNT_CASH_COLUMNS,
    ACCOUNT_COLUMNS,
    CASH_COLUMNS,
    EXECUTION_COLUMNS,
    ORDER_COLUMNS,
    POSITION_COLUMNS,
    Row,
    RowBatch,
)
from hft.domain.exchange.money import CASH_SCALE

# Rows per table in one PostgreSQL statement. Encoding them holds the event loop (about 0.2 us a row), so even
# a catch-up of a million rows lets the loop trade between chunks.
CHUNK_ROWS: Final = 1_000

_CASH_PLACES: Final = len(str(CASH_SCALE)) - 1  # CASH_SCALE is 10**8

# The rows' column order must be the tables' own: the SQL names the columns in that order.
for _table, _columns in (
    (tables.orders, ORDER_COLUMNS),
    (tables.executions, EXECUTION_COLUMNS),
    (tables.positions, POSITION_COLUMNS),
    (tables.accounts, ACCOUNT_COLUMNS),
):
    if tuple(column.name for column in _table.columns) != _columns:
        raise RuntimeError(f"rows.py and tables.py disagree on the columns of {_table.name}")


def _is_cash(column: sa.Column[Any]) -> bool:
    """Whether ``column`` travels as integer cash units (else an amount travels as decimal text)."""
    return column.name in CASH_COLUMNS[column.table.name]


def _is_time(column: sa.Column[Any]) -> bool:
    """Whether ``column`` is a time, which travels as integer nanoseconds since the epoch."""
    return isinstance(column.type, UtcTimestamp)


def _names(table: sa.Table) -> list[str]:
    return [column.name for column in table.columns]


def _keys(table: sa.Table) -> list[str]:
    return [column.name for column in table.primary_key.columns]


def _on_conflict(table: sa.Table, keep: Sequence[str] = ()) -> str:
    """The ``ON CONFLICT`` of an upsert that moves a row only to a newer sequence; ``keep`` columns never change."""
    keys = _keys(table)
    updates = ", ".join(f"{name} = excluded.{name}" for name in _names(table) if name not in (*keys, *keep))
    return f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates} WHERE {table.name}.sequence < excluded.sequence"


# The tables a write upserts, in the order it does. An order's created_at never changes; executions never do.
_UPSERTS: Final = (
    (tables.accounts, _on_conflict(tables.accounts)),
    (tables.orders, _on_conflict(tables.orders, keep=("created_at",))),
    (tables.executions, " ON CONFLICT (execution_id) DO NOTHING"),
    (tables.positions, _on_conflict(tables.positions)),
)
# last_sequence only moves forwards: replaying an old batch must not make the store look behind.
_STATE_CONFLICT: Final = (
    " ON CONFLICT (name) DO UPDATE SET last_sequence = excluded.last_sequence"
    " WHERE projection_state.last_sequence < excluded.last_sequence"
)


def _rows_of(batch: RowBatch) -> tuple[list[Row], list[Row], list[Row], list[Row]]:
    """The batch's rows in the order of ``_UPSERTS``."""
    return batch.accounts, batch.orders, batch.executions, batch.positions


# -- SQLite -------------------------------------------------------------------------


def _sqlite_value(column: sa.Column[Any], parameter: int) -> str:
    """The SQL that turns parameter ``parameter`` into what ``column``'s type stores on SQLite."""
    value = f"?{parameter}"
    if _is_time(column):
        # UtcTimestamp's text: "2026-01-01 00:00:04.123456", microseconds truncated (the venue's times are > 0).
        return (
            f"strftime('%Y-%m-%d %H:%M:%S', {value} / 1000000000, 'unixepoch')"
            f" || printf('.%06d', {value} / 1000 % 1000000)"
        )
    if _is_cash(column):
        # Amount's text of cash_to_decimal(units): plain notation, no trailing zeros ("1000", "-0.0000045").
        return (
            f"CASE WHEN {value} IS NULL THEN NULL"
            f" WHEN {value} % {CASH_SCALE} = 0 THEN CAST({value} / {CASH_SCALE} AS TEXT)"
            f" ELSE (CASE WHEN {value} < 0 THEN '-' ELSE '' END) || rtrim(printf('%d.%0{_CASH_PLACES}d',"
            f" abs({value} / {CASH_SCALE}), abs({value} % {CASH_SCALE})), '0') END"
        )
    return value  # stored as it is bound: ids, names, amounts' decimal text


def _sqlite_insert(table: sa.Table, conflict: str) -> str:
    values = ", ".join(_sqlite_value(column, index) for index, column in enumerate(table.columns, start=1))
    return f"INSERT INTO {table.name} ({', '.join(_names(table))}) VALUES ({values}){conflict}"


def _sqlite_account_cash() -> str:
    columns = tables.accounts.columns
    value = {name: _sqlite_value(columns[name], index) for index, name in enumerate(ACCOUNT_CASH_COLUMNS, start=1)}
    return (
        f"UPDATE accounts SET cash = {value['cash']}, sequence = {value['sequence']},"
        f" updated_at = {value['updated_at']}"
        f" WHERE account_id = {value['account_id']} AND sequence < {value['sequence']}"
    )


SQLITE_UPSERTS: Final = tuple(_sqlite_insert(table, conflict) for table, conflict in _UPSERTS)
# A fill changes an account's cash without an AccountChanged: keep accounts.cash current from it.
SQLITE_ACCOUNT_CASH: Final = _sqlite_account_cash()
SQLITE_STATE: Final = "INSERT INTO projection_state (name, last_sequence) VALUES (?, ?)" + _STATE_CONFLICT


class SqliteWriter:
    """Writes batches with ``sqlite3`` on a thread of its own, one transaction each.

    ``database`` and ``options`` are what ``sqlite3.connect`` takes: the URL's
    file and options (``timeout``...) as SQLAlchemy's dialect reads them. The
    connection is opened and used on that thread only; if a failed write leaves
    it unusable, the next write opens another.
    """

    def __init__(self, database: str, options: dict[str, Any]) -> None:
        self.database: Final = database
        # The writer says BEGIN and COMMIT itself: no implicit transactions.
        self.options: Final = {**options, "isolation_level": None}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hft-sql-sqlite")
        self._connection: sqlite3.Connection | None = None

    async def open(self) -> None:
        """Connect, on the writer's thread. Raises what ``sqlite3.connect`` raises."""
        await self._run(self._open)

    async def write(self, batch: RowBatch) -> None:
        """Write ``batch`` in one transaction; raise ``sqlite3.Error`` (nothing is written then)."""
        await self._run(self._write, batch)

    async def close(self) -> None:
        """Close the connection, after any write in progress, and the thread."""
        try:
            await self._run(self._close)
        finally:
            self._executor.shutdown(wait=False)

    async def _run(self, function: Callable[..., object], *arguments: Any) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, function, *arguments)

    # -- on the writer's thread --

    def _open(self) -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(self.database, **self.options)
        try:
            # As on the engine's connections: WAL lets readers read while the writer writes; NORMAL syncs at
            # checkpoints, enough for a projection that is rebuilt from the journal past its last_sequence.
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return connection

    def _write(self, batch: RowBatch) -> None:
        connection = self._connection or self._open()
        accounts, orders, executions, positions = _rows_of(batch)
        upsert_accounts, upsert_orders, insert_executions, upsert_positions = SQLITE_UPSERTS
        try:
            # IMMEDIATE takes the write lock now (waiting up to the timeout), not halfway through the batch.
            connection.execute("BEGIN IMMEDIATE")
            if accounts:
                connection.executemany(upsert_accounts, accounts)
            if batch.account_cash:
                connection.executemany(SQLITE_ACCOUNT_CASH, batch.account_cash)
            if orders:
                connection.executemany(upsert_orders, orders)
            if executions:
                connection.executemany(insert_executions, executions)
            if positions:
                connection.executemany(upsert_positions, positions)
            connection.execute(SQLITE_STATE, (tables.HISTORY_PROJECTION, batch.last_sequence))
            connection.execute("COMMIT")
        except BaseException:
            self._roll_back(connection)
            raise

    def _roll_back(self, connection: sqlite3.Connection) -> None:
        try:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
        except sqlite3.Error:
            self._connection = None
            connection.close()

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


# -- PostgreSQL -----------------------------------------------------------------------


def _from_json(column: sa.Column[Any], index: int) -> str:
    """The SQL that reads ``column`` from element ``index`` of the JSON array ``r``, as the column's type."""
    value = f"(r->>{index})"
    if _is_time(column):
        # Whole microseconds after the epoch (nanoseconds truncated): exact, whatever the session's time zone.
        return f"(TIMESTAMPTZ 'epoch' + ({value}::bigint / 1000) * INTERVAL '1 microsecond')"
    if _is_cash(column):
        return f"({value}::numeric * 1e-{_CASH_PLACES})"  # a product is exact, a quotient would be rounded
    kind = column.type
    if isinstance(kind, Amount):
        return f"{value}::numeric"  # exact decimal text
    if isinstance(kind, sa.BigInteger):
        return f"{value}::bigint"
    if isinstance(kind, sa.Integer):
        return f"{value}::integer"
    if isinstance(kind, sa.Text):
        return value
    raise TypeError(f"no JSON reading for {column.table.name}.{column.name} ({kind})")


def _postgres_insert(table: sa.Table, conflict: str, parameter: int) -> str:
    values = ", ".join(_from_json(column, index) for index, column in enumerate(table.columns))
    return (
        f"INSERT INTO {table.name} ({', '.join(_names(table))})"
        f" SELECT {values} FROM json_array_elements(${parameter}::json) AS r{conflict}"
    )


def _postgres_account_cash(parameter: int) -> str:
    columns = tables.accounts.columns
    value = {name: _from_json(columns[name], index) for index, name in enumerate(ACCOUNT_CASH_COLUMNS)}
    return (
        f"UPDATE accounts SET cash = {value['cash']}, sequence = {value['sequence']},"
        f" updated_at = {value['updated_at']} FROM json_array_elements(${parameter}::json) AS r"
        f" WHERE accounts.account_id = {value['account_id']} AND accounts.sequence < {value['sequence']}"
    )


# One statement: $1 to $4 the rows of accounts, orders, executions and positions; $5 the account_cash rows of
# accounts that $1 does not hold (one statement may not change a row twice); $6 and $7 projection_state's row.
# Its parts change different rows, so they may run together.
POSTGRES_WRITE: Final = (
    "WITH "
    + ", ".join(
        f"{table.name}_written AS ({_postgres_insert(table, conflict, parameter)})"
        for parameter, (table, conflict) in enumerate(_UPSERTS, start=1)
    )
    + ", state_written AS (INSERT INTO projection_state (name, last_sequence) VALUES ($6::text, $7::bigint)"
    + _STATE_CONFLICT
    + ") "
    + _postgres_account_cash(5)
)
# The account_cash rows of accounts the same write upserts: after the upserts, in a statement of their own.
POSTGRES_ACCOUNT_CASH: Final = _postgres_account_cash(1)

_NO_ROWS: Final = "[]"


class PostgresWriter:
    """Writes batches on an ``asyncpg`` connection of its own: one statement each, or one transaction when large.

    ``connect`` opens the connection. A failed or cancelled write drops it (the
    server rolls back whatever it had begun) and the next write opens another.
    """

    def __init__(self, connect: Callable[[], Any]) -> None:
        self._connect = connect
        self._connection: Any = None
        self._lock = asyncio.Lock()  # one write at a time on the connection
        self._encode = msgspec.json.Encoder().encode

    async def open(self) -> None:
        """Connect. Raises what ``asyncpg.connect`` raises."""
        self._connection = await self._connect()

    async def write(self, batch: RowBatch) -> None:
        """Write ``batch`` atomically; raise the driver's error (nothing is written then)."""
        async with self._lock:
            connection = self._connection
            if connection is None or connection.is_closed():
                connection = self._connection = await self._connect()
            try:
                await self._write(connection, batch)
            except BaseException:
                self._connection = None
                connection.terminate()
                raise

    async def close(self) -> None:
        """Close the connection."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.close(timeout=2)
            except Exception:
                connection.terminate()

    async def _write(self, connection: Any, batch: RowBatch) -> None:
        cash, cash_after = batch.account_cash, []
        if cash and batch.accounts:
            upserted = {row[0] for row in batch.accounts}
            cash_after = [row for row in cash if row[0] in upserted]
            cash = [row for row in cash if row[0] not in upserted]
        runs = (*_rows_of(batch), cash)
        state = (tables.HISTORY_PROJECTION, batch.last_sequence)
        size = max(len(rows) for rows in runs)
        if size <= CHUNK_ROWS and not cash_after:
            await connection.execute(POSTGRES_WRITE, *map(self._json, runs), *state)
            return
        await connection.execute("BEGIN")
        for start in range(0, max(size, 1), CHUNK_ROWS):
            await connection.execute(
                POSTGRES_WRITE, *(self._json(rows[start : start + CHUNK_ROWS]) for rows in runs), *state
            )
        for start in range(0, len(cash_after), CHUNK_ROWS):
            await connection.execute(POSTGRES_ACCOUNT_CASH, self._json(cash_after[start : start + CHUNK_ROWS]))
        await connection.execute("COMMIT")

    def _json(self, rows: list[Row]) -> str:
        return self._encode(rows).decode() if rows else _NO_ROWS


def postgres_connector(options: dict[str, Any], timeout: float, command_timeout: float) -> Callable[[], Any]:
    """Return a function that opens an asyncpg connection with ``options`` (SQLAlchemy's reading of the URL)."""
    # Options of SQLAlchemy's asyncpg adapter, not of asyncpg.
    arguments = {
        key: value
        for key, value in options.items()
        if key not in ("prepared_statement_cache_size", "prepared_statement_name_func")
    }

    def connect() -> Any:
        return asyncpg.connect(**arguments, timeout=timeout, command_timeout=command_timeout)

    return connect
