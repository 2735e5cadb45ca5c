"""The tables of the SQL projection: what the venue's trading history looks like to anyone with SQL.

The table and column names are a public contract (docs/concepts/persistence.md);
change them only with a new migration. Every table that holds the latest
state of something carries the event ``sequence`` of that state, so a write
can tell new from old and a replay never moves a row backwards.
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

from hft.adapters.sql.columns import Amount, UtcTimestamp

# Stable constraint and index names, the same on every database, so later migrations can name them.
NAMING_CONVENTION: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The projection_state row that the trading history writes.
HISTORY_PROJECTION: Final = "history"

metadata: Final = sa.MetaData(naming_convention=NAMING_CONVENTION)


def _id(name: str, *, primary_key: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger, primary_key=primary_key, autoincrement=False, nullable=False)


def _sequence() -> sa.Column[int]:
    return sa.Column("sequence", sa.BigInteger, nullable=False)


accounts: Final = sa.Table(
    "accounts",
    metadata,
    _id("account_id", primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("maker_fee_bps", sa.Integer, nullable=False),
    sa.Column("taker_fee_bps", sa.Integer, nullable=False),
    sa.Column("cash", Amount, nullable=False),
    _sequence(),
    sa.Column("updated_at", UtcTimestamp, nullable=False),
)

orders: Final = sa.Table(
    "orders",
    metadata,
    _id("order_id", primary_key=True),
    _id("account_id"),
    sa.Column("client_order_id", sa.Text, nullable=False),
    sa.Column("symbol", sa.Text, nullable=False),
    sa.Column("side", sa.Text, nullable=False),
    sa.Column("order_type", sa.Text, nullable=False),
    sa.Column("time_in_force", sa.Text, nullable=False),
    sa.Column("price", Amount, nullable=True),
    sa.Column("stop_price", Amount, nullable=True),
    sa.Column("quantity", Amount, nullable=False),
    sa.Column("filled_quantity", Amount, nullable=False),
    sa.Column("leaves_quantity", Amount, nullable=False),
    sa.Column("avg_fill_price", Amount, nullable=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("reject_reason", sa.Text, nullable=True),
    sa.Column("created_at", UtcTimestamp, nullable=False),
    sa.Column("updated_at", UtcTimestamp, nullable=False),
    _sequence(),
    # An account's orders by id (pagination) and its open orders (status); both also serve account_id alone.
    sa.Index(None, "account_id", "order_id"),
    sa.Index(None, "account_id", "status"),
)

executions: Final = sa.Table(
    "executions",
    metadata,
    _id("execution_id", primary_key=True),
    _id("trade_id"),
    _id("order_id"),
    _id("account_id"),
    sa.Column("symbol", sa.Text, nullable=False),
    sa.Column("side", sa.Text, nullable=False),
    sa.Column("price", Amount, nullable=False),
    sa.Column("quantity", Amount, nullable=False),
    sa.Column("liquidity", sa.Text, nullable=False),
    sa.Column("fee", Amount, nullable=False),
    sa.Column("executed_at", UtcTimestamp, nullable=False),
    _sequence(),
    # An account's executions by id (pagination, also account_id alone) and one order's fills.
    sa.Index(None, "account_id", "execution_id"),
    sa.Index(None, "order_id"),
)

positions: Final = sa.Table(
    "positions",
    metadata,
    _id("account_id", primary_key=True),
    sa.Column("symbol", sa.Text, primary_key=True, nullable=False),
    sa.Column("quantity", Amount, nullable=False),
    sa.Column("open_cost", Amount, nullable=False),
    sa.Column("realized_pnl", Amount, nullable=False),
    sa.Column("fees", Amount, nullable=False),
    sa.Column("cash", Amount, nullable=False),
    _sequence(),
    sa.Column("updated_at", UtcTimestamp, nullable=False),
)

projection_state: Final = sa.Table(
    "projection_state",
    metadata,
    sa.Column("name", sa.Text, primary_key=True, nullable=False),
    sa.Column("last_sequence", sa.BigInteger, nullable=False),
)
