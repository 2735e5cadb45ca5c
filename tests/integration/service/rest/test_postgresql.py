"""The order lifecycle against a server on PostgreSQL: the ``orders`` and ``executions`` tables follow the API.

A fresh database is created for the module and dropped after it. Without a reachable PostgreSQL the module is
skipped, except in CI (``CI`` set), where that is a failure: CI must not pass by testing nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from tests.integration.service.postgres import fresh_database
from tests.integration.service.rest.clients import Trader, Venue, expect, wait_until

from hft.testing.server import ServerProcess

SYNC_SECONDS = 30.0
ORDER_COLUMNS = (
    "order_id",
    "account_id",
    "client_order_id",
    "symbol",
    "side",
    "order_type",
    "time_in_force",
    "price",
    "stop_price",
    "quantity",
    "filled_quantity",
    "leaves_quantity",
    "avg_fill_price",
    "status",
    "reject_reason",
)
EXECUTION_COLUMNS = (
    "execution_id",
    "trade_id",
    "order_id",
    "account_id",
    "symbol",
    "side",
    "price",
    "quantity",
    "liquidity",
    "fee",
)


async def _fetch(url: str, query: str) -> list[dict[str, Any]]:
    connection = await asyncpg.connect(url, timeout=3)
    try:
        return [dict(row) for row in await connection.fetch(query)]
    finally:
        await connection.close()


def _fetch_sync(url: str, query: str) -> list[dict[str, Any]]:
    return asyncio.run(_fetch(url, query))


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """A fresh, empty database on the machine's PostgreSQL, dropped after the module."""
    with fresh_database("hft_rest") as url:
        yield url


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose database projection is PostgreSQL (it replaces the SQLite server of the parent conftest)."""
    data_dir = tmp_path_factory.mktemp("venue-postgresql") / "data"
    with ServerProcess(data_dir, env={"DATABASE_URL": database_url}) as running:
        yield running


def _number(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _order_row(order: dict[str, Any], account_id: int) -> dict[str, Any]:
    """What the ``orders`` row of an API order must hold (the keys are ORDER_COLUMNS)."""
    return {
        "order_id": order["order_id"],
        "account_id": account_id,
        "client_order_id": order["client_order_id"] or "",
        "symbol": order["symbol"],
        "side": order["side"],
        "order_type": order["order_type"],
        "time_in_force": order["time_in_force"],
        "price": _number(order["price"]),
        "stop_price": _number(order["stop_price"]),
        "quantity": _number(order["quantity"]),
        "filled_quantity": _number(order["filled_quantity"]),
        "leaves_quantity": _number(order["leaves_quantity"]),
        "avg_fill_price": _number(order["avg_fill_price"]),
        "status": order["status"],
        "reject_reason": order["reject_reason"],
    }


def _execution_row(execution: dict[str, Any], account_id: int) -> dict[str, Any]:
    """What the ``executions`` row of an API execution must hold (the keys are EXECUTION_COLUMNS)."""
    return {
        "execution_id": execution["execution_id"],
        "trade_id": execution["trade_id"],
        "order_id": execution["order_id"],
        "account_id": account_id,
        "symbol": execution["symbol"],
        "side": execution["side"],
        "price": _number(execution["price"]),
        "quantity": _number(execution["quantity"]),
        "liquidity": execution["liquidity"],
        "fee": _number(execution["fee"]),
    }


def _expected_rows(traders: list[Trader]) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    orders = {
        order["order_id"]: _order_row(order, trader.account_id)
        for trader in traders
        for order in trader.orders(limit=1000)
    }
    executions = {
        execution["execution_id"]: _execution_row(execution, trader.account_id)
        for trader in traders
        for execution in trader.executions(limit=1000)
    }
    return orders, executions


def _table_rows(
    database_url: str, traders: list[Trader]
) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    accounts = ", ".join(str(trader.account_id) for trader in traders)
    orders = _fetch_sync(
        database_url, f"SELECT {', '.join(ORDER_COLUMNS)} FROM orders WHERE account_id IN ({accounts})"
    )
    executions = _fetch_sync(
        database_url, f"SELECT {', '.join(EXECUTION_COLUMNS)} FROM executions WHERE account_id IN ({accounts})"
    )
    return {row["order_id"]: row for row in orders}, {row["execution_id"]: row for row in executions}


def _assert_tables_follow_the_api(database_url: str, traders: list[Trader]) -> None:
    expected: tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]] = ({}, {})
    found: tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]] = ({}, {})

    def caught_up() -> bool:
        nonlocal expected, found
        expected = _expected_rows(traders)
        found = _table_rows(database_url, traders)
        return found == expected

    try:
        wait_until(caught_up, SYNC_SECONDS, "the PostgreSQL tables matching the API")
    except AssertionError:
        assert found[0] == expected[0], "orders table differs from GET /api/orders"
        assert found[1] == expected[1], "executions table differs from GET /api/executions"
        raise


def test_order_lifecycle_reaches_the_postgresql_tables(venue: Venue, server: ServerProcess) -> None:
    health = expect(venue.http.get("/health"), 200)["components"]["database"]
    assert health["url"].startswith("postgresql://")
    seller, buyer = venue.open_account(maker_fee_bps=1), venue.open_account(taker_fee_bps=2)
    resting = seller.limit("AAPL", "SELL", "10", "100.00", client_order_id="PG-SELL")
    partial = buyer.limit("AAPL", "BUY", "4", "100.00", client_order_id="PG-BUY-1")
    assert partial["status"] == "FILLED"
    bid = buyer.limit("AAPL", "BUY", "5", "99.00")
    expect(buyer.cancel(bid["order_id"]), 200)
    sweep = buyer.limit("AAPL", "BUY", "10", "100.00", time_in_force="IOC")
    assert (sweep["status"], sweep["filled_quantity"]) == ("CANCELED", "6")
    poor = venue.open_account(cash="1")
    assert poor.limit("AAPL", "BUY", "10", "100.00")["status"] == "REJECTED"
    btc = seller.limit("BTC-USD", "SELL", "0.0005", "30000.01")
    buyer.limit("BTC-USD", "BUY", "0.0002", "30000.01")
    assert seller.order(resting["order_id"])["status"] == "FILLED"
    assert seller.order(btc["order_id"])["status"] == "PARTIALLY_FILLED"
    traders = [seller, buyer, poor]
    _assert_tables_follow_the_api(database_url_of(server), traders)

    amended = expect(seller.amend(btc["order_id"], quantity="0.0004"), 200)
    assert amended["leaves_quantity"] == "0.0002"
    expect(seller.cancel(btc["order_id"]), 200)
    _assert_tables_follow_the_api(database_url_of(server), traders)


def test_rows_are_never_duplicated(venue: Venue, server: ServerProcess) -> None:
    trader, other = venue.open_account(), venue.open_account()
    for index in range(5):
        trader.limit("MSFT", "SELL", "1", f"{200 + index}.00")
    other.limit("MSFT", "BUY", "5", "204.00")
    _assert_tables_follow_the_api(database_url_of(server), [trader, other])
    url = database_url_of(server)
    for table, key in (("orders", "order_id"), ("executions", "execution_id"), ("accounts", "account_id")):
        (counts,) = _fetch_sync(url, f"SELECT count(*) AS total, count(DISTINCT {key}) AS distinct_keys FROM {table}")
        assert counts["total"] == counts["distinct_keys"], table
    positions = _fetch_sync(url, "SELECT account_id, symbol, count(*) AS rows FROM positions GROUP BY 1, 2")
    assert all(row["rows"] == 1 for row in positions)


def database_url_of(server: ServerProcess) -> str:
    """The DATABASE_URL the server was started with."""
    return server.env["DATABASE_URL"]
