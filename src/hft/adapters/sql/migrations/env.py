"""Alembic's entry point for the SQL projection: run the migrations on the connection it was handed.

``hft.adapters.sql.schema`` opens the connection (async engine, ``run_sync``)
and puts it in ``config.attributes["connection"]``; this file only runs.
"""

from __future__ import annotations

from alembic import context

from hft.adapters.sql.tables import metadata


def run_migrations() -> None:
    """Run the pending migrations on the connection the caller opened, inside its transaction."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run the hft migrations with hft.adapters.sql.schema.migrate(url), not the alembic CLI")
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
