"""The trading history in SQL: SQLite by default, PostgreSQL for production. See docs/concepts/persistence.md.

``SqlStore`` owns the engine, the migrations and idempotent batch writes;
``ProjectionWriter`` feeds it in the background from the venue's acks;
``rows_from_changes`` turns what ``TradingHistory.apply`` changed into rows.
"""

from hft.adapters.sql.rows import RowBatch, rows_from_changes
from hft.adapters.sql.schema import migrate
from hft.adapters.sql.store import SqlStore
from hft.adapters.sql.writer import Lag, ProjectionWriter

__all__ = ["Lag", "ProjectionWriter", "RowBatch", "SqlStore", "migrate", "rows_from_changes"]
