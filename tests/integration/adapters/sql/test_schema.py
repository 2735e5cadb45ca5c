"""Migrations: they create the documented tables, agree with tables.py, and run again harmlessly."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from hft.adapters.sql import migrate, tables
from hft.adapters.sql.schema import current_revision, head_revision
from hft.adapters.sql.urls import async_url

# The documented contract (docs/concepts/persistence.md).
DOCUMENTED_COLUMNS = {
    "accounts": [
        "account_id", "name", "state", "maker_fee_bps", "taker_fee_bps", "cash", "sequence", "updated_at",
    ],
    "orders": [
        "order_id", "account_id", "client_order_id", "symbol", "side", "order_type", "time_in_force", "price",
        "stop_price", "quantity", "filled_quantity", "leaves_quantity", "avg_fill_price", "status", "reject_reason",
        "created_at", "updated_at", "sequence",
    ],
    "executions": [
        "execution_id", "trade_id", "order_id", "account_id", "symbol", "side", "price", "quantity", "liquidity",
        "fee", "executed_at", "sequence",
    ],
    "positions": [
        "account_id", "symbol", "quantity", "open_cost", "realized_pnl", "fees", "cash", "sequence", "updated_at",
    ],
    "projection_state": ["name", "last_sequence"],
}  # fmt: skip
DOCUMENTED_KEYS = {
    "accounts": ["account_id"],
    "orders": ["order_id"],
    "executions": ["execution_id"],
    "positions": ["account_id", "symbol"],
    "projection_state": ["name"],
}
DOCUMENTED_INDEXES = {
    "orders": {("account_id", "order_id"), ("account_id", "status")},
    "executions": {("account_id", "execution_id"), ("order_id",)},
}


def _describe(connection: sa.Connection) -> dict[str, Any]:
    inspector = sa.inspect(connection)
    described: dict[str, Any] = {"revision": current_revision(connection)}
    for name in DOCUMENTED_COLUMNS:
        described[name] = {
            "columns": [column["name"] for column in inspector.get_columns(name)],
            "key": inspector.get_pk_constraint(name)["constrained_columns"],
            "indexes": {tuple(index["column_names"]) for index in inspector.get_indexes(name)},
        }
    return described


def _differences(connection: sa.Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection), tables.metadata))


async def _inspect(url: str, look: Any) -> Any:
    engine = create_async_engine(async_url(url))
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(look)
    finally:
        await engine.dispose()


def test_migrations_create_the_documented_tables_columns_keys_and_indexes(database_url: str) -> None:
    asyncio.run(migrate(database_url))

    described = asyncio.run(_inspect(database_url, _describe))

    assert described["revision"] == head_revision()
    for name, columns in DOCUMENTED_COLUMNS.items():
        assert described[name]["columns"] == columns, name
        assert described[name]["key"] == DOCUMENTED_KEYS[name], name
        assert described[name]["indexes"] == DOCUMENTED_INDEXES.get(name, set()), name


def test_migrated_database_matches_the_table_definitions(database_url: str) -> None:
    asyncio.run(migrate(database_url))

    assert asyncio.run(_inspect(database_url, _differences)) == []


def test_migrating_an_up_to_date_database_changes_nothing(database_url: str) -> None:
    asyncio.run(migrate(database_url))
    before = asyncio.run(_inspect(database_url, _describe))

    asyncio.run(migrate(database_url))

    assert asyncio.run(_inspect(database_url, _describe)) == before


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///data/hft.db", "sqlite+aiosqlite:///data/hft.db"),
        ("sqlite+aiosqlite:////var/lib/hft.db", "sqlite+aiosqlite:////var/lib/hft.db"),
        ("postgresql://venue:secret@db:5432/hft", "postgresql+asyncpg://venue:secret@db:5432/hft"),
        ("postgresql+asyncpg://venue@db/hft", "postgresql+asyncpg://venue@db/hft"),
    ],
)
def test_supported_urls_get_their_async_driver(url: str, expected: str) -> None:
    assert async_url(url).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize(
    "url",
    ["mysql://venue@db/hft", "postgresql+psycopg://venue@db/hft", "sqlite+pysqlite:///hft.db", "not a url", ""],
)
def test_other_urls_are_refused_with_a_clear_message(url: str) -> None:
    with pytest.raises(ValueError, match="database URL"):
        async_url(url)


def test_a_refused_url_does_not_echo_its_password() -> None:
    with pytest.raises(ValueError, match="unsupported") as refused:
        async_url("mysql://venue:hunter2@db/hft")

    assert "hunter2" not in str(refused.value)
