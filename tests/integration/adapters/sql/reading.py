"""Reading back what the SQL store wrote, to compare databases and batches."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from hft.adapters.sql import tables
from hft.adapters.sql.rows import RowBatch
from hft.adapters.sql.store import SqlStore

TABLES = (tables.accounts, tables.orders, tables.executions, tables.positions, tables.projection_state)


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
    merged = RowBatch.merge(batches)
    accounts = {row["account_id"]: dict(row) for row in merged.accounts}
    for cash in merged.account_cash:
        account = accounts[cash["account_id"]]
        if account["sequence"] < cash["sequence"]:
            account.update(cash)
    return {
        "accounts": sorted(accounts.values(), key=lambda row: row["account_id"]),
        "orders": sorted(merged.orders, key=lambda row: row["order_id"]),
        "executions": sorted(
            {row["execution_id"]: row for row in merged.executions}.values(), key=lambda row: row["execution_id"]
        ),
        "positions": sorted(merged.positions, key=lambda row: (row["account_id"], row["symbol"])),
        "projection_state": [{"name": "history", "last_sequence": merged.last_sequence}],
    }
