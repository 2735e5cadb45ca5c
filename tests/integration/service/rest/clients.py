"""HTTP clients for the REST tests: a trader (one account, its API key) and the venue's admin side.

Every call goes over real HTTP to an ``hft serve`` child process. Amounts in
answers are decimal strings; ``amount`` turns them into ``Decimal`` so tests
compare values, not spellings (spelling is tested on its own).
"""

from __future__ import annotations

import itertools
import re
import ssl
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx

from hft.testing.server import ADMIN_TOKEN, ServerProcess

ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
# What an amount in an answer must look like: plain positional decimal text, never exponent notation.
PLAIN_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
# Every field of an order in an answer (schemas.OrderResponse).
ORDER_FIELDS = frozenset(
    {
        "order_id",
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
        "display_quantity",
        "post_only",
        "expire_time",
        "status",
        "reject_reason",
        "reject_message",
        "cancel_reason",
        "created_at",
        "updated_at",
    }
)
TIMEOUT = httpx.Timeout(30.0)
# One TLS context for every client: building one per client costs ~30 ms, and the servers speak plain HTTP anyway.
_TLS = ssl.create_default_context()

_names = itertools.count(1)


def http_client(url: str, headers: dict[str, str] | None = None) -> httpx.Client:
    """Return an HTTP client for ``url`` that sends ``headers`` with every request; close it after use."""
    return httpx.Client(base_url=url, headers=headers, timeout=TIMEOUT, verify=_TLS)


def amount(text: str | None) -> Decimal | None:
    """Return an answer's decimal string as a ``Decimal`` (None stays None)."""
    return None if text is None else Decimal(text)


def expect(response: httpx.Response, status: int) -> Any:
    """Return the JSON body of ``response`` after checking its status (the body is in the failure message)."""
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()


def expect_error(response: httpx.Response, status: int, error: str | None = None) -> dict[str, Any]:
    """Check that ``response`` is the API's JSON error with ``status`` (and ``error`` code, if given)."""
    body: dict[str, Any] = expect(response, status)
    assert isinstance(body.get("error"), str), body
    assert isinstance(body.get("message"), str), body
    assert body["message"], body
    if error is not None:
        assert body["error"] == error, body
    return body


def wait_until(condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll ``condition`` every 50 ms until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout} s")
        time.sleep(0.05)


class Trader:
    """One account seen through its API key."""

    def __init__(self, url: str, account_id: int, name: str, api_key: str) -> None:
        self.account_id = account_id
        self.name = name
        self.api_key = api_key
        self.http = http_client(url, {"X-API-Key": api_key})

    def submit(self, **fields: Any) -> httpx.Response:
        """POST /api/orders with ``fields`` as the JSON body."""
        return self.http.post("/api/orders", json=fields)

    def place(self, **fields: Any) -> dict[str, Any]:
        """Submit an order that must be answered 201; return the order."""
        order: dict[str, Any] = expect(self.submit(**fields), 201)
        return order

    def limit(self, symbol: str, side: str, quantity: str, price: str, **extra: Any) -> dict[str, Any]:
        """Place a LIMIT order (amounts as strings); return the order as answered."""
        return self.place(symbol=symbol, side=side, quantity=quantity, price=price, **extra)

    def order(self, order_id: int) -> dict[str, Any]:
        """GET /api/orders/{order_id}, which must exist."""
        found: dict[str, Any] = expect(self.http.get(f"/api/orders/{order_id}"), 200)
        return found

    def orders(self, **params: Any) -> list[dict[str, Any]]:
        """GET /api/orders with ``params``; return the page's orders."""
        page: list[dict[str, Any]] = expect(self.http.get("/api/orders", params=params), 200)["orders"]
        return page

    def order_ids(self, **params: Any) -> list[int]:
        """Ids of GET /api/orders with ``params`` (newest first)."""
        return [order["order_id"] for order in self.orders(**params)]

    def cancel(self, order_id: int) -> httpx.Response:
        """DELETE /api/orders/{order_id}."""
        return self.http.delete(f"/api/orders/{order_id}")

    def amend(self, order_id: int, **fields: Any) -> httpx.Response:
        """PATCH /api/orders/{order_id} with ``fields``."""
        return self.http.patch(f"/api/orders/{order_id}", json=fields)

    def cancel_all(self, **params: Any) -> dict[str, Any]:
        """DELETE /api/orders (mass cancel) with ``params``; return the answer."""
        result: dict[str, Any] = expect(self.http.delete("/api/orders", params=params), 200)
        return result

    def executions(self, **params: Any) -> list[dict[str, Any]]:
        """GET /api/executions with ``params``."""
        found: list[dict[str, Any]] = expect(self.http.get("/api/executions", params=params), 200)["executions"]
        return found

    def positions(self) -> list[dict[str, Any]]:
        """GET /api/positions."""
        found: list[dict[str, Any]] = expect(self.http.get("/api/positions"), 200)
        return found

    def position(self, symbol: str) -> dict[str, Any]:
        """The position in ``symbol``, which must exist."""
        matching = [position for position in self.positions() if position["symbol"] == symbol]
        assert len(matching) == 1, matching
        return matching[0]

    def account(self) -> dict[str, Any]:
        """GET /api/account."""
        found: dict[str, Any] = expect(self.http.get("/api/account"), 200)
        return found

    def close(self) -> None:
        """Close the HTTP connections."""
        self.http.close()


class Venue:
    """The venue's public and admin side; opens accounts and closes everything it opened."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.url = server.url
        self.http = http_client(server.url)
        self.admin = http_client(server.url, ADMIN_HEADERS)
        self.traders: list[Trader] = []

    def open_account(
        self, cash: str = "10000000", *, maker_fee_bps: int = 0, taker_fee_bps: int = 0, name: str | None = None
    ) -> Trader:
        """Open an account through the admin API; return its trader."""
        name = name or f"trader-{next(_names)}"
        body = {"name": name, "cash": cash, "maker_fee_bps": maker_fee_bps, "taker_fee_bps": taker_fee_bps}
        created = expect(self.admin.post("/api/admin/accounts", json=body), 201)
        trader = Trader(self.url, created["account_id"], created["name"], created["api_key"])
        self.traders.append(trader)
        return trader

    def sequence(self) -> int:
        """The engine's journal sequence from /health (it moves with every journaled command)."""
        sequence: int = expect(self.http.get("/health"), 200)["components"]["engine"]["sequence"]
        return sequence

    def book(self, symbol: str, depth: int = 20) -> dict[str, Any]:
        """GET /api/book/{symbol}."""
        book: dict[str, Any] = expect(self.http.get(f"/api/book/{symbol}", params={"depth": depth}), 200)
        return book

    def clean_up(self) -> None:
        """Cancel every working order of the accounts opened in a test and close their clients."""
        for trader in self.traders:
            response = trader.http.delete("/api/orders")
            assert response.status_code in (200, 401), response.text  # 401: the test rotated the key
            trader.close()
        self.traders.clear()

    def leave_orders_working(self) -> None:
        """Close the clients of the accounts opened so far without canceling their orders."""
        for trader in self.traders:
            trader.close()
        self.traders.clear()

    def close(self) -> None:
        """Close every client."""
        self.clean_up()
        self.http.close()
        self.admin.close()
