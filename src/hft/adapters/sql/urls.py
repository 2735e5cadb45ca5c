"""Database URLs: the forms the venue accepts, turned into the async driver it runs on."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

SQLITE_DRIVER: Final = "sqlite+aiosqlite"
POSTGRESQL_DRIVER: Final = "postgresql+asyncpg"

_DRIVERS: Final = {
    "sqlite": SQLITE_DRIVER,
    SQLITE_DRIVER: SQLITE_DRIVER,
    "postgresql": POSTGRESQL_DRIVER,
    POSTGRESQL_DRIVER: POSTGRESQL_DRIVER,
}


def async_url(url: str | URL) -> URL:
    """Return ``url`` with the async driver of its database; raise ValueError for any other database or driver.

    ``sqlite:///path`` and ``postgresql://...`` become ``sqlite+aiosqlite`` and ``postgresql+asyncpg``.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise ValueError(f"not a database URL: {error}") from None
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ValueError(
            f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}: "
            "use sqlite:///path/to/file.db or postgresql://user:password@host:port/database"
        )
    return parsed.set(drivername=driver)


def make_sqlite_directory(url: URL) -> None:
    """Create the directory of an SQLite URL's file if it is missing (SQLite creates only the file)."""
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
