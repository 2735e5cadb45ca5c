"""Column types that keep amounts exact and times in UTC on every supported database.

PostgreSQL stores amounts as ``NUMERIC(38, 18)`` and times as ``TIMESTAMPTZ``.
SQLite has neither: it would turn a ``NUMERIC`` into a float, so amounts are
kept there as decimal text (``"150.01"``), and times as UTC text that reads
back as an aware ``datetime``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

# 20 digits before the point hold any cash sum the venue allows (below 1e10 per account), 18 after any lot size.
PRECISION = 38
SCALE = 18


class Amount(sa.types.TypeDecorator[Decimal]):
    """An exact decimal: ``NUMERIC(38, 18)`` on PostgreSQL, decimal text on SQLite. Reads back a ``Decimal``."""

    impl = sa.Numeric(PRECISION, SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Pick text on SQLite, where a numeric column would lose digits to a float."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(PRECISION + 2))
        return dialect.type_descriptor(sa.Numeric(PRECISION, SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        """Write plain positional notation on SQLite, so ``1E+3`` is stored as ``1000``."""
        if value is None or dialect.name != "sqlite":
            return value
        return format(value, "f")

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """Read a ``Decimal`` whatever the database handed back."""
        if value is None or isinstance(value, Decimal):
            return value
        return Decimal(value)


class UtcTimestamp(sa.types.TypeDecorator[datetime]):
    """A point in time, microsecond precision: ``TIMESTAMPTZ`` on PostgreSQL, UTC text on SQLite. Reads back aware."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive times; on SQLite store the UTC wall time, which has no zone of its own."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a timestamp needs a time zone")
        if dialect.name == "sqlite":
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to what SQLite reads back; normalise PostgreSQL's session zone to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
