"""A fresh database on the machine's PostgreSQL for one test module, dropped afterwards."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg  # type: ignore[import-untyped]
import pytest

# The machine's server, trust authentication, and an existing database to connect to for CREATE DATABASE.
ADMIN_URL = os.environ.get("HFT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def execute(url: str, statement: str) -> None:
    """Run one statement on its own connection."""
    connection = await asyncpg.connect(url, timeout=3)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """Create an empty database and yield its URL; skip when PostgreSQL is unreachable, except in CI (fail)."""
    try:
        asyncio.run(execute(ADMIN_URL, "SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        reason = f"PostgreSQL is unreachable at {ADMIN_URL}: {error}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so PostgreSQL tests may not be skipped)")
        pytest.skip(reason)
    name = f"{prefix}_{secrets.token_hex(6)}"
    asyncio.run(execute(ADMIN_URL, f'CREATE DATABASE "{name}"'))
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(execute(ADMIN_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
