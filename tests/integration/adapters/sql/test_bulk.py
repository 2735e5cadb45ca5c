"""The drivers' fast path stores exactly what SQLAlchemy's column types stored, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite
from tests.integration.adapters.sql.reading import TABLES, decoded, expected_tables, table_rows
from tests.integration.adapters.sql.trading import instruments

from hft.adapters.sql import RowBatch, SqlStore, tables
from hft.adapters.sql.bulk import _sqlite_value
from hft.domain.exchange.money import cash_to_decimal

MAX_TS = 9_000_000_000_000_000_000  # 2255: PostgreSQL's interval arithmetic is exact below 2**53 microseconds
CASH_EDGES = [0, 1, -1, 10**8, -(10**8), 150, -150, 123_456_789, 10**17 * 9, -(10**18) + 1, 12_345_678_900_000_001]
TS_EDGES = [
    0,
    999,
    1_000,
    951_782_400_000_000_000,  # 2000-02-29
    1_767_225_599_999_999_999,  # the last nanosecond of 2025
    1_767_225_600_123_456_789,  # truncated to .123456
    4_102_444_800_000_000_999,  # 2100-01-01
    MAX_TS,
]
AWKWARD_NAME = 'O\'Brien "quoted" \\ back\nslash, ünïcødé, 注文, 🚀'
BIG_ID = 2**63 - 1


def _batches() -> list[RowBatch]:
    """Two batches with every kind of row and awkward values in every column type."""
    rng = random.Random(20260101)
    cash = [*CASH_EDGES, *(rng.randrange(-(10**18), 10**18) for _ in range(200))]
    times = [*TS_EDGES, *(rng.randrange(0, MAX_TS) for _ in range(200))]
    first = RowBatch(
        accounts=[
            (1, "one", "ACTIVE", 1, 3, 100 * 10**8, 1, TS_EDGES[5]),
            (2, AWKWARD_NAME, "HALTED", 0, -2, -150, 2, TS_EDGES[0]),
        ],
        last_sequence=2,
    )
    # fmt: off
    second = RowBatch(
        orders=[
            # order_id, account_id, client_order_id, symbol, side, order_type, time_in_force, price, stop_price,
            # quantity, filled_quantity, leaves_quantity, avg_fill_price, status, reject_reason, created_at,
            # updated_at, sequence
            (10, 1, "", "AAPL", "BUY", "MARKET", "IOC", None, None, "2", "2", "0", "151.00000000", "FILLED", None,
             TS_EDGES[3], TS_EDGES[4], 5),
            (11, 2, "c-1", "BTC-USD", "SELL", "STOP_LIMIT", "GTC", "90000.05", "0.01", "0.0003", "0.0000", "0.0003",
             None, "NEW", None, TS_EDGES[6], TS_EDGES[7], 6),
            (BIG_ID, 1, AWKWARD_NAME, "NOPE", "7", "9", "8", None, None, "-12345678901234567890.123456789012345678",
             "0", "0", None, "REJECTED", "UNKNOWN_SYMBOL", TS_EDGES[1], TS_EDGES[2], 7),
        ],
        executions=[
            (2, 1, 9, 2, "AAPL", "SELL", "0.000000000000000001", "99999999999999999999", "MAKER", cash[4], 0, 5),
            (1, 1, 10, 1, "AAPL", "BUY", "151.00", "2", "TAKER", cash[3], TS_EDGES[4], 5),
            (2, 1, 9, 2, "AAPL", "SELL", "0.000000000000000001", "99999999999999999999", "MAKER", cash[4], 0, 5),
        ],
        positions=[
            (account, f"S{account}", str(account - 100), cash[account], cash[-account], cash[account // 2], cash[0],
             8, times[account])
            for account in range(1, len(times))
        ],
        accounts=[(2, "two", "REDUCING", 2, 5, 10**8, 9, TS_EDGES[6])],
        # Account 1 is not upserted by this batch, account 2 is (and its cash row is newer).
        account_cash=[(1, cash[-1], 10, TS_EDGES[7]), (2, cash[-2], 11, TS_EDGES[3])],
        last_sequence=12,
    )
    # fmt: on
    return [first, second]


async def _raw_rows(store: SqlStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every row as the driver returns it, without SQLAlchemy's type processing (SQLite: the stored text)."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    async with store.engine.connect() as connection:
        for table in TABLES:
            keys = ", ".join(column.name for column in table.primary_key.columns)
            result = await connection.exec_driver_sql(f"SELECT * FROM {table.name} ORDER BY {keys}")
            found[table.name] = [tuple(row) for row in result]
    return found


async def _clear(store: SqlStore) -> None:
    async with store.engine.begin() as connection:
        for table in TABLES:
            await connection.execute(sa.delete(table))


async def _insert_with_sqlalchemy(store: SqlStore, rows: dict[str, list[dict[str, Any]]]) -> None:
    async with store.engine.begin() as connection:
        for table in TABLES:
            if rows[table.name]:
                await connection.execute(sa.insert(table), rows[table.name])


def test_the_fast_path_stores_and_reads_back_exactly_what_sqlalchemy_did(database_url: str) -> None:
    batches = _batches()
    expected = expected_tables(batches)

    async def scenario() -> tuple[Any, Any, Any, Any]:
        store = SqlStore(database_url, instruments())
        await store.start()
        try:
            for batch in batches:
                await store.write(batch)
            fast, fast_raw = await table_rows(store), await _raw_rows(store)
            await _clear(store)
            await _insert_with_sqlalchemy(store, expected)  # the same values through the Amount and UtcTimestamp types
            return fast, fast_raw, await table_rows(store), await _raw_rows(store)
        finally:
            await store.close()

    fast, fast_raw, through_sqlalchemy, through_sqlalchemy_raw = asyncio.run(scenario())

    assert fast == expected
    assert fast == through_sqlalchemy
    assert fast_raw == through_sqlalchemy_raw  # on SQLite: the same text, byte for byte
    accounts = {row["account_id"]: row for row in fast["accounts"]}
    assert accounts[1]["cash"] == cash_to_decimal(batches[1].account_cash[0][1])  # a fill's cash, account not upserted
    assert (accounts[2]["name"], accounts[2]["sequence"]) == ("two", 11)  # upserted, then its newer fill cash
    assert len(fast["executions"]) == 2
    assert fast["positions"][0]["updated_at"].tzinfo is not None


def test_sqlite_stores_amounts_and_times_as_the_documented_text(sqlite_url: str) -> None:
    batches = _batches()
    asyncio.run(_write_and_close(sqlite_url, batches))
    cash = batches[1].account_cash[1][1]

    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as connection:
        order = connection.execute("SELECT price, stop_price, created_at, updated_at FROM orders WHERE order_id = 11")
        account = connection.execute("SELECT cash, updated_at FROM accounts WHERE account_id = 2")
        stored = order.fetchone(), account.fetchone()

    assert stored == (
        ("90000.05", "0.01", "2100-01-01 00:00:00.000000", "2255-03-14 16:00:00.000000"),
        (format(cash_to_decimal(cash), "f"), "2000-02-29 00:00:00.000000"),
    )


async def _write_and_close(url: str, batches: list[RowBatch]) -> None:
    store = SqlStore(url, instruments())
    await store.start()
    try:
        for batch in batches:
            await store.write(batch)
    finally:
        await store.close()


_SQLITE = sqlite.dialect()
# What SQLAlchemy's column types do to a value they store on SQLite.
_STORE_CASH = tables.accounts.c.cash.type.dialect_impl(_SQLITE).bind_processor(_SQLITE)
_STORE_TIME = tables.accounts.c.updated_at.type.dialect_impl(_SQLITE).bind_processor(_SQLITE)


@given(units=st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1))
def test_sqlite_turns_cash_units_into_the_text_the_amount_type_stores(units: int) -> None:
    assert _STORE_CASH is not None
    expression = _sqlite_value(tables.accounts.c.cash, 1)

    with sqlite3.connect(":memory:") as connection:
        stored = connection.execute(f"SELECT {expression}", (units,)).fetchone()[0]

    assert stored == _STORE_CASH(cash_to_decimal(units))


@given(ts=st.integers(min_value=0, max_value=2**63 - 1))
def test_sqlite_turns_nanoseconds_into_the_text_the_timestamp_type_stores(ts: int) -> None:
    assert _STORE_TIME is not None
    expression = _sqlite_value(tables.accounts.c.updated_at, 1)

    with sqlite3.connect(":memory:") as connection:
        stored = connection.execute(f"SELECT {expression}", (ts,)).fetchone()[0]

    assert stored == _STORE_TIME(decoded("account_cash", (1, 0, 1, ts))["updated_at"])


def test_an_in_memory_sqlite_database_is_refused() -> None:
    with pytest.raises(ValueError, match="in-memory"):
        SqlStore("sqlite://", instruments())
