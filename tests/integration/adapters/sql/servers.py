"""PostgreSQL for the SQL adapter tests: the machine's server (one database per test) and throwaway servers.

PostgreSQL tests skip when no server can be reached, except in CI (``CI`` set),
where a missing server is a failure: CI must not pass by testing nothing.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from tests.integration.skipping import skip_or_fail

from hft.adapters.sql.urls import async_url
from hft.testing.server import free_port

# The machine's server; trust authentication, an existing database to connect to for CREATE DATABASE.
ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
# Not HFT_ names: hft serve refuses HFT_ variables it does not know, and test servers inherit the environment.
POSTGRES_BIN = Path(os.environ.get("TEST_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))


async def _admin(statement: str) -> None:
    # CREATE and DROP DATABASE refuse to run inside a transaction.
    engine = create_async_engine(async_url(ADMIN_URL), isolation_level="AUTOCOMMIT", connect_args={"timeout": 3})
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text(statement))
    finally:
        await engine.dispose()


def reachable() -> bool:
    """Return whether the machine's PostgreSQL answers at ``ADMIN_URL``."""
    try:
        asyncio.run(_admin("SELECT 1"))
    except (OSError, sa.exc.DBAPIError, TimeoutError):
        return False
    return True


def create_database(prefix: str = "hft_test") -> str:
    """Create an empty, uniquely named database on the machine's server; return its URL."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_database(url: str) -> None:
    """Drop the database at ``url``, disconnecting whoever is still connected."""
    name = url.rsplit("/", 1)[1]
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class ThrowawayPostgres:
    """A PostgreSQL server of our own in a temporary directory, on a free loopback port, to stop at will.

    PostgreSQL refuses to run as root, so as root it runs as the ``postgres`` user.
    """

    def __init__(self) -> None:
        if not (POSTGRES_BIN / "initdb").exists():
            skip_or_fail(f"no PostgreSQL server binaries in {POSTGRES_BIN}")
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="hft-postgres-"))
        self.data = self.directory / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-F -p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        log = str(self.directory / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def crash(self) -> None:
        """Stop the server at once, as a crash would: every connection drops, nothing is flushed politely."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        """Stop the server if it runs, and delete its files."""
        subprocess.run(
            self._command("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop"),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.directory, ignore_errors=True)

    def _command(self, program: str, *arguments: str) -> list[str]:
        command = [str(POSTGRES_BIN / program), *arguments]
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command

    def _run(self, program: str, *arguments: str) -> None:
        subprocess.run(self._command(program, *arguments), check=True, capture_output=True, timeout=60)
