"""Reading back what the SQL store wrote, to compare databases and batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from hft.adapters.sql import tables
from hft.adapters.sql.columns import Amount, UtcTimestamp
from hft.adapters.sql.rows import ACCOUNT_CASH_COLUMNS, CASH_COLUMNS, Row, RowBatch
from hft.adapters.sql.store import SqlStore
from hft.domain.exchange.money import cash_to_decimal

TABLES = (tables.accounts, tables.orders, tables.executions, tables.positions, tables.projection_state)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _value(table: str, column: sa.Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, UtcTimestamp):
        return _EPOCH + timedelta(microseconds=value // 1_000)
    if column.name in CASH_COLUMNS.get(table, ()):
        return cash_to_decimal(value)
    if isinstance(column.type, Amount):
        return Decimal(value)
    return value


def decoded(table: str, row: Row) -> dict[str, Any]:
    """Return ``row`` of ``table`` (or of ``"account_cash"``) as the values SQLAlchemy reads back: Decimal, datetime."""
    if table == "account_cash":
        columns = [tables.accounts.columns[name] for name in ACCOUNT_CASH_COLUMNS]
        table = "accounts"
    else:
        columns = list(tables.metadata.tables[table].columns)
    return {column.name: _value(table, column, value) for column, value in zip(columns, row, strict=True)}


def decoded_batch(batch: RowBatch) -> dict[str, list[dict[str, Any]]]:
    """Return every row of ``batch`` decoded, by table (``account_cash`` too)."""
    return {
        "accounts": [decoded("accounts", row) for row in batch.accounts],
        "account_cash": [decoded("account_cash", row) for row in batch.account_cash],
        "orders": [decoded("orders", row) for row in batch.orders],
        "executions": [decoded("executions", row) for row in batch.executions],
        "positions": [decoded("positions", row) for row in batch.positions],
    }


async def table_rows(store: SqlStore) -> dict[str, list[dict[str, Any]]]:
    """Return every row of every projection table, as dicts in primary-key order."""
    found: dict[str, list[dict[str, Any]]] = {}
    async with store.engine.connect() as connection:
        for table in TABLES:
            query = sa.select(table).order_by(*table.primary_key.columns)
            found[table.name] = [dict(row) for row in (await connection.execute(query)).mappings()]
    return found


async def row_counts(store: SqlStore) -> dict[str, int]:
    """Return how many rows each projection table holds."""
    counts: dict[str, int] = {}
    async with store.engine.connect() as connection:
        for table in TABLES:
            counts[table.name] = (await connection.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
    return counts


def expected_tables(batches: list[RowBatch]) -> dict[str, list[dict[str, Any]]]:
    """Return what the tables must hold once ``batches`` are written, in any order and any number of times."""
    merged_batch = RowBatch.merge(batches)
    merged = decoded_batch(merged_batch)
    accounts = {row["account_id"]: row for row in merged["accounts"]}
    for cash in merged["account_cash"]:
        account = accounts[cash["account_id"]]
        if account["sequence"] < cash["sequence"]:
            account.update(cash)
    return {
        "accounts": sorted(accounts.values(), key=lambda row: row["account_id"]),
        "orders": sorted(merged["orders"], key=lambda row: row["order_id"]),
        "executions": sorted(
            {row["execution_id"]: row for row in merged["executions"]}.values(), key=lambda row: row["execution_id"]
        ),
        "positions": sorted(merged["positions"], key=lambda row: (row["account_id"], row["symbol"])),
        "projection_state": [{"name": "history", "last_sequence": merged_batch.last_sequence}],
    }
