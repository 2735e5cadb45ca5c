"""Accounts cannot see or touch each other: another account's id answers exactly like an unknown id.

Three accounts: A trades with B; C probes everything of A's. Every private
endpoint refuses a missing or wrong API key with 401.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from tests.integration.service.rest.clients import ADMIN_HEADERS, Trader, Venue, expect, expect_error

from hft.testing.server import ADMIN_TOKEN

UNKNOWN_ORDER_ID = 987_654_321_012


@dataclass
class World:
    """A (resting, filled, canceled orders), B (A's counterparty), C (the prober) and what each owns."""

    a: Trader
    b: Trader
    c: Trader
    a_resting: dict[str, Any]
    a_filled: dict[str, Any]
    a_canceled: dict[str, Any]
    b_sold: dict[str, Any]
    c_own: dict[str, Any]


def _world(venue: Venue) -> World:
    a, b, c = venue.open_account(), venue.open_account(), venue.open_account()
    a_resting = a.limit("AAPL", "BUY", "10", "50.00", client_order_id="A-REST")
    b_sold = b.limit("SPY", "SELL", "10", "100.00", client_order_id="B-SOLD")
    a_filled = a.limit("SPY", "BUY", "10", "100.00", client_order_id="A-FILLED")
    assert a_filled["status"] == "FILLED"
    a_canceled = a.limit("AAPL", "BUY", "1", "49.00", client_order_id="A-CANCELED")
    a_canceled = expect(a.cancel(a_canceled["order_id"]), 200)
    c_own = c.limit("AAPL", "BUY", "1", "40.00", client_order_id="C-OWN")
    return World(a, b, c, a_resting, a_filled, a_canceled, b_sold, c_own)


def _shape(response: httpx.Response, secret: str) -> tuple[int, str, Any]:
    """The answer with the probed id or client order id blanked out of it: what must not differ."""
    text = response.text.replace(secret, "<ID>")
    body = response.json()
    keys: Any = sorted(body) if isinstance(body, dict) else type(body).__name__
    return response.status_code, text, keys


def _assert_same_as_unknown(known: httpx.Response, known_id: str, unknown: httpx.Response, unknown_id: str) -> None:
    assert _shape(known, known_id) == _shape(unknown, unknown_id), (known.text, unknown.text)
    assert known.headers.get("content-type") == unknown.headers.get("content-type")


@pytest.mark.parametrize("which", ["a_resting", "a_filled", "a_canceled"])
def test_another_accounts_order_id_answers_like_an_unknown_id_everywhere(venue: Venue, which: str) -> None:
    world = _world(venue)
    target: dict[str, Any] = getattr(world, which)
    known, unknown = str(target["order_id"]), str(UNKNOWN_ORDER_ID)
    a_before = world.a.orders()
    probes: list[tuple[str, dict[str, Any] | None]] = [
        ("GET", None),
        ("DELETE", None),
        ("PATCH", {"price": "51.00"}),
        ("PATCH", {"quantity": "5"}),
        ("PATCH", {"quantity": "20", "price": "52.00"}),
        ("PATCH", {}),
        ("PATCH", {"price": "NaN"}),
    ]
    for method, body in probes:
        answers = [world.c.http.request(method, f"/api/orders/{order_id}", json=body) for order_id in (known, unknown)]
        assert answers[0].status_code == 404, (method, body, answers[0].text)
        _assert_same_as_unknown(answers[0], known, answers[1], unknown)
    for order_id in (known, unknown):
        assert expect(world.c.http.get("/api/executions", params={"order_id": order_id}), 200) == {
            "executions": [],
            "next_before": None,
        }
    assert world.a.orders() == a_before, "C's attempts changed nothing of A's"


def test_another_accounts_client_order_id_answers_like_an_unknown_one(venue: Venue) -> None:
    world = _world(venue)
    for client_order_id in ("A-REST", "A-FILLED", "A-CANCELED", "B-SOLD"):
        known = world.c.http.get(f"/api/orders/by-client-id/{client_order_id}")
        unknown = world.c.http.get("/api/orders/by-client-id/NEVER-USED")
        assert known.status_code == 404, known.text
        _assert_same_as_unknown(known, client_order_id, unknown, "NEVER-USED")
    assert expect(world.c.http.get("/api/orders/by-client-id/C-OWN"), 200)["order_id"] == world.c_own["order_id"]


def test_a_client_order_id_used_by_another_account_is_free_for_this_one(venue: Venue) -> None:
    world = _world(venue)
    mine = world.c.limit("AAPL", "BUY", "1", "41.00", client_order_id="A-REST")
    assert mine["status"] == "NEW"
    assert expect(world.c.http.get("/api/orders/by-client-id/A-REST"), 200)["order_id"] == mine["order_id"]
    assert expect(world.a.http.get("/api/orders/by-client-id/A-REST"), 200) == world.a.order(
        world.a_resting["order_id"]
    )


def test_lists_show_only_the_accounts_own_orders_executions_and_positions(venue: Venue) -> None:
    world = _world(venue)
    assert world.c.order_ids() == [world.c_own["order_id"]]
    for status in ("NEW", "FILLED", "CANCELED"):
        ids = world.c.order_ids(status=status)
        assert set(ids) <= {world.c_own["order_id"]}
    assert world.c.order_ids(symbol="SPY") == []
    assert world.c.executions() == []
    assert world.c.executions(symbol="SPY") == []
    # C only ever rested an AAPL bid: whatever it lists, it holds and traded nothing, and nothing in SPY.
    for position in world.c.positions() + world.c.account()["positions"]:
        assert position["symbol"] != "SPY"
        assert (position["quantity"], position["volume"], position["realized_pnl"]) == ("0", "0", "0")
    assert world.b.order_ids() == [world.b_sold["order_id"]]
    assert {execution["order_id"] for execution in world.b.executions()} == {world.b_sold["order_id"]}
    assert {execution["order_id"] for execution in world.a.executions()} == {world.a_filled["order_id"]}
    assert [position["symbol"] for position in world.b.positions()] == ["SPY"]
    assert world.b.position("SPY")["quantity"] == "-10"
    assert world.a.position("SPY")["quantity"] == "10"
    a_ids = set(world.a.order_ids())
    assert a_ids == {world.a_resting["order_id"], world.a_filled["order_id"], world.a_canceled["order_id"]}


def test_mass_cancel_never_touches_another_accounts_orders(venue: Venue) -> None:
    world = _world(venue)
    b_resting = world.b.limit("AAPL", "SELL", "5", "500.00")
    assert world.c.cancel_all(symbol="AAPL", side="BUY") == {"canceled": 1, "order_ids": [world.c_own["order_id"]]}
    assert world.c.cancel_all() == {"canceled": 0, "order_ids": []}
    assert world.a.order(world.a_resting["order_id"])["status"] == "NEW"
    assert world.b.order(b_resting["order_id"])["status"] == "NEW"
    assert venue.book("AAPL")["bids"] == [["50.00", "10"]]


# -- authentication --------------------------------------------------------------------------------------

PRIVATE_ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/orders", None),
    ("POST", "/api/orders", {"symbol": "AAPL", "side": "BUY", "quantity": 1, "price": "1.00"}),
    ("POST", "/api/order", {"symbol": "AAPL", "side": "BUY", "quantity": 1, "price": "1.00"}),
    ("DELETE", "/api/orders", None),
    ("GET", "/api/orders/1", None),
    ("DELETE", "/api/orders/1", None),
    ("PATCH", "/api/orders/1", {"price": "2.00"}),
    ("GET", "/api/orders/by-client-id/TEST001", None),
    ("GET", "/api/executions", None),
    ("GET", "/api/positions", None),
    ("GET", "/api/account", None),
]


def _bad_credentials(valid_key: str) -> dict[str, dict[str, str]]:
    return {
        "missing": {},
        "empty": {"X-API-Key": ""},
        "wrong": {"X-API-Key": "hft_" + "A" * 43},
        "too long": {"X-API-Key": "hft_" + "x" * 5000},
        "other case": {"X-API-Key": valid_key.upper()},
        "truncated": {"X-API-Key": valid_key[:-1]},
        "admin token as key": {"X-API-Key": ADMIN_TOKEN},
        "key as bearer": {"Authorization": f"Bearer {valid_key}"},
        "admin bearer": dict(ADMIN_HEADERS),
        "key with a prefix": {"X-API-Key": f"Bearer {valid_key}"},
        "non-ascii": {"X-API-Key": "hft_\u00e9\u00e9"},
    }


@pytest.mark.parametrize(
    ("method", "path", "body"), PRIVATE_ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in PRIVATE_ENDPOINTS]
)
def test_private_endpoint_without_a_valid_api_key_is_401(
    venue: Venue, method: str, path: str, body: dict[str, Any] | None
) -> None:
    trader = venue.open_account()
    trader.limit("AAPL", "BUY", "1", "1.00", client_order_id="TEST001")
    sequence = venue.sequence()
    for name, headers in _bad_credentials(trader.api_key).items():
        encoded = {key.encode(): value.encode() for key, value in headers.items()}
        response = venue.http.request(method, path, json=body, headers=encoded)
        error = expect_error(response, 401, "UNAUTHORIZED")
        assert trader.api_key not in error["message"], name
    assert venue.sequence() == sequence, "a refused request journaled something"
    assert len(trader.orders()) == 1


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/api/orders"), ("POST", "/api/order"), ("PATCH", "/api/orders/1")]
)
@pytest.mark.parametrize(
    "body", [b"{not json", b'{"symbol": 1}', b"[" * 50_000], ids=["not json", "wrong type", "deep"]
)
def test_unauthenticated_request_with_a_malformed_body_is_401_before_the_body_is_read(
    venue: Venue, method: str, path: str, body: bytes
) -> None:
    response = venue.http.request(method, path, content=body, headers={"Content-Type": "application/json"})
    expect_error(response, 401, "UNAUTHORIZED")
