"""Bring a database's tables up to date with the Alembic migrations shipped inside this package.

No ``alembic.ini`` is needed: the configuration is built here, with the
migrations folder found next to this module. ``alembic upgrade head`` runs on
a connection of the async engine through ``run_sync``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine

from hft.adapters.sql.urls import async_url, make_sqlite_directory

MIGRATIONS: Final = Path(__file__).with_name("migrations")
# Any fixed number: the PostgreSQL advisory lock that stops two venues from migrating one database at once.
_MIGRATION_LOCK: Final = 0x6866745F73716C


def alembic_config(connection: Connection | None = None) -> Config:
    """Return an Alembic configuration for the shipped migrations, bound to ``connection`` if given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """Return the newest migration's revision id."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations in {MIGRATIONS}")
    return head


def current_revision(connection: Connection) -> str | None:
    """Return the revision the database on ``connection`` is at (None: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: Connection) -> None:
    """Apply every migration the database on ``connection`` lacks, in its transaction. Blocking: use run_sync."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
    command.upgrade(alembic_config(connection), "head")


async def migrate(url: str) -> None:
    """Run ``alembic upgrade head`` on the database at ``url`` (a URL ``SqlStore`` accepts), then disconnect."""
    parsed = async_url(url)
    make_sqlite_directory(parsed)
    engine = create_async_engine(parsed)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(upgrade)
    finally:
        await engine.dispose()
