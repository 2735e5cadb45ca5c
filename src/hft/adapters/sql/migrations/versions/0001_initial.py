"""Create the trading history tables: accounts, orders, executions, positions, projection_state.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hft.adapters.sql.columns import Amount, UtcTimestamp

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id(name: str, *, primary_key: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger, primary_key=primary_key, autoincrement=False, nullable=False)


def _sequence() -> sa.Column[int]:
    return sa.Column("sequence", sa.BigInteger, nullable=False)


def upgrade() -> None:
    """Create the five tables and their indexes."""
    op.create_table(
        "accounts",
        _id("account_id", primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("maker_fee_bps", sa.Integer, nullable=False),
        sa.Column("taker_fee_bps", sa.Integer, nullable=False),
        sa.Column("cash", Amount, nullable=False),
        _sequence(),
        sa.Column("updated_at", UtcTimestamp, nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_accounts"),
    )
    op.create_table(
        "orders",
        _id("order_id"),
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
        sa.PrimaryKeyConstraint("order_id", name="pk_orders"),
    )
    op.create_index("ix_orders_account_id_order_id", "orders", ["account_id", "order_id"])
    op.create_index("ix_orders_account_id_status", "orders", ["account_id", "status"])
    op.create_table(
        "executions",
        _id("execution_id"),
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
        sa.PrimaryKeyConstraint("execution_id", name="pk_executions"),
    )
    op.create_index("ix_executions_account_id_execution_id", "executions", ["account_id", "execution_id"])
    op.create_index("ix_executions_order_id", "executions", ["order_id"])
    op.create_table(
        "positions",
        _id("account_id"),
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("quantity", Amount, nullable=False),
        sa.Column("open_cost", Amount, nullable=False),
        sa.Column("realized_pnl", Amount, nullable=False),
        sa.Column("fees", Amount, nullable=False),
        sa.Column("cash", Amount, nullable=False),
        _sequence(),
        sa.Column("updated_at", UtcTimestamp, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "symbol", name="pk_positions"),
    )
    op.create_table(
        "projection_state",
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("last_sequence", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_projection_state"),
    )


def downgrade() -> None:
    """Drop the five tables (and with them every row)."""
    for table in ("projection_state", "positions", "executions", "orders", "accounts"):
        op.drop_table(table)
