"""The admin API over real HTTP: accounts, keys, cash, trading states, kill switches, halts and default limits."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from tests.integration.service.rest.clients import (
    ADMIN_HEADERS,
    Trader,
    Venue,
    amount,
    expect,
    expect_error,
    http_client,
)

from hft.testing.server import ADMIN_TOKEN, ServerProcess

ADMIN_ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/api/admin/accounts", {"name": "intruder", "cash": "1000000"}),
    ("GET", "/api/admin/accounts", None),
    ("GET", "/api/admin/accounts/1", None),
    ("POST", "/api/admin/accounts/1/api-key", None),
    ("POST", "/api/admin/accounts/1/cash", {"amount": "1000000"}),
    ("PUT", "/api/admin/accounts/1/state", {"state": "HALTED"}),
    ("PUT", "/api/admin/accounts/1/risk-limits", {"max_order_quantity": 1}),
    ("PUT", "/api/admin/accounts/1/kill-switch", {"engaged": True}),
    ("PUT", "/api/admin/risk-limits", {"max_order_quantity": 1}),
    ("GET", "/api/admin/risk-limits", None),
    ("PUT", "/api/admin/kill-switch", {"engaged": True}),
    ("PUT", "/api/admin/instruments/AAPL/halt", {"halted": True}),
]
ENDPOINT_IDS = [f"{method} {path}" for method, path, _ in ADMIN_ENDPOINTS]


def _put(venue: Venue, path: str, body: dict[str, Any]) -> Any:
    return expect(venue.admin.put(path, json=body), 200)


def _rejected(trader: Trader, reason: str, **order: Any) -> dict[str, Any]:
    answer = expect(trader.submit(**order), 201)
    assert answer["status"] == "REJECTED", answer
    assert answer["reject_reason"] == reason, answer
    return dict(answer)


# -- accounts and keys -----------------------------------------------------------------------------------


def test_create_account_answers_201_with_id_name_and_a_working_key(venue: Venue) -> None:
    response = venue.admin.post(
        "/api/admin/accounts",
        json={"name": "carol", "cash": "2500.5", "credit_limit": "100", "maker_fee_bps": 1, "taker_fee_bps": 2},
    )
    created = expect(response, 201)
    assert set(created) == {"account_id", "name", "api_key"}
    assert created["name"] == "carol"
    assert isinstance(created["account_id"], int)
    assert created["api_key"].startswith("hft_")
    account = expect(venue.http.get("/api/account", headers={"X-API-Key": created["api_key"]}), 200)
    assert account["account_id"] == created["account_id"]
    assert amount(account["cash"]) == amount("2500.5")
    assert amount(account["credit_limit"]) == 100
    assert (account["maker_fee_bps"], account["taker_fee_bps"]) == (1, 2)
    second = expect(venue.admin.post("/api/admin/accounts", json={"name": "carol"}), 201)
    assert second["account_id"] != created["account_id"]
    assert second["api_key"] != created["api_key"]


def test_list_and_get_accounts(venue: Venue) -> None:
    trader = venue.open_account(cash="1234")
    listed = expect(venue.admin.get("/api/admin/accounts"), 200)
    ids = [account["account_id"] for account in listed]
    assert trader.account_id in ids
    assert ids == sorted(ids)
    one = expect(venue.admin.get(f"/api/admin/accounts/{trader.account_id}"), 200)
    assert one == trader.account()
    assert one in listed
    expect_error(venue.admin.get("/api/admin/accounts/999999"), 404, "NOT_FOUND")


def test_rotating_the_api_key_retires_the_old_key_at_once(venue: Venue) -> None:
    trader = venue.open_account()
    order = trader.limit("AAPL", "BUY", "1", "10.00")
    rotated = expect(venue.admin.post(f"/api/admin/accounts/{trader.account_id}/api-key"), 201)
    assert rotated["account_id"] == trader.account_id
    assert rotated["api_key"] != trader.api_key
    expect_error(trader.http.get("/api/account"), 401, "UNAUTHORIZED")
    expect_error(trader.submit(symbol="AAPL", side="BUY", quantity="1", price="10.00"), 401)
    with http_client(venue.url, {"X-API-Key": rotated["api_key"]}) as renewed:
        assert expect(renewed.get(f"/api/orders/{order['order_id']}"), 200)["status"] == "NEW"
        assert expect(renewed.delete("/api/orders"), 200)["order_ids"] == [order["order_id"]]
    expect_error(venue.admin.post("/api/admin/accounts/999999/api-key"), 404, "NOT_FOUND")


def test_cash_deposit_and_withdrawal(venue: Venue) -> None:
    trader = venue.open_account(cash="1000")
    deposited = expect(
        venue.admin.post(f"/api/admin/accounts/{trader.account_id}/cash", json={"amount": "250.25"}), 200
    )
    assert amount(deposited["cash"]) == amount("1250.25")
    withdrawn = expect(venue.admin.post(f"/api/admin/accounts/{trader.account_id}/cash", json={"amount": -250}), 200)
    assert amount(withdrawn["cash"]) == amount("1000.25")
    assert amount(trader.account()["cash"]) == amount("1000.25")
    too_much = venue.admin.post(f"/api/admin/accounts/{trader.account_id}/cash", json={"amount": "-5000"})
    expect_error(too_much, 422)
    for bad in ("NaN", "1e400", "0.000000001", "1.00000001e10"):
        expect_error(venue.admin.post(f"/api/admin/accounts/{trader.account_id}/cash", json={"amount": bad}), 422)
    assert amount(trader.account()["cash"]) == amount("1000.25")
    expect_error(venue.admin.post("/api/admin/accounts/999999/cash", json={"amount": "1"}), 404, "NOT_FOUND")


# -- trading states ----------------------------------------------------------------------------------------


def test_reducing_account_may_only_reduce_its_position(venue: Venue) -> None:
    trader, market = venue.open_account(), venue.open_account()
    market.limit("MSFT", "SELL", "10", "100.00")
    trader.limit("MSFT", "BUY", "10", "100.00")
    state = _put(venue, f"/api/admin/accounts/{trader.account_id}/state", {"state": "REDUCING"})
    assert state["state"] == "REDUCING"
    assert trader.account()["state"] == "REDUCING"
    _rejected(trader, "REDUCE_ONLY", symbol="MSFT", side="BUY", quantity="1", price="99.00")
    reducing = trader.limit("MSFT", "SELL", "5", "101.00")
    assert reducing["status"] == "NEW"
    _put(venue, f"/api/admin/accounts/{trader.account_id}/state", {"state": "ACTIVE"})
    assert trader.limit("MSFT", "BUY", "1", "99.00")["status"] == "NEW"


def test_halted_account_may_only_cancel(venue: Venue) -> None:
    trader = venue.open_account()
    resting = trader.limit("MSFT", "BUY", "10", "90.00")
    _put(venue, f"/api/admin/accounts/{trader.account_id}/state", {"state": "HALTED"})
    _rejected(trader, "ACCOUNT_HALTED", symbol="MSFT", side="BUY", quantity="1", price="90.00")
    _rejected(trader, "ACCOUNT_HALTED", symbol="MSFT", side="SELL", quantity="1", price="190.00")
    assert trader.order(resting["order_id"])["status"] == "NEW", "halting keeps working orders"
    assert expect(trader.cancel(resting["order_id"]), 200)["status"] == "CANCELED"
    _put(venue, f"/api/admin/accounts/{trader.account_id}/state", {"state": "ACTIVE"})
    assert trader.limit("MSFT", "BUY", "1", "90.00")["status"] == "NEW"
    expect_error(venue.admin.put(f"/api/admin/accounts/{trader.account_id}/state", json={"state": "FROZEN"}), 400)


# -- kill switches and halts -------------------------------------------------------------------------------


def test_account_kill_switch_cancels_its_orders_and_refuses_new_ones_until_released(venue: Venue) -> None:
    trader, bystander = venue.open_account(), venue.open_account()
    first = trader.limit("GOOGL", "BUY", "1", "80.00")
    second = trader.limit("GOOGL", "SELL", "1", "800.00")
    untouched = bystander.limit("GOOGL", "BUY", "1", "79.00")
    engaged = _put(venue, f"/api/admin/accounts/{trader.account_id}/kill-switch", {"engaged": True})
    assert engaged == {"engaged": True}
    for order in (first, second):
        assert trader.order(order["order_id"])["status"] == "CANCELED"
    assert trader.account()["kill_switch"] is True
    assert trader.account()["open_orders"] == 0
    _rejected(trader, "KILL_SWITCH_ACTIVE", symbol="GOOGL", side="BUY", quantity="1", price="80.00")
    assert bystander.order(untouched["order_id"])["status"] == "NEW"
    assert bystander.limit("GOOGL", "BUY", "1", "78.00")["status"] == "NEW"
    _put(venue, f"/api/admin/accounts/{trader.account_id}/kill-switch", {"engaged": False})
    assert trader.account()["kill_switch"] is False
    assert trader.limit("GOOGL", "BUY", "1", "80.00")["status"] == "NEW"


def test_venue_kill_switch_cancels_every_working_order_and_refuses_everyone_until_released(venue: Venue) -> None:
    first, second = venue.open_account(), venue.open_account()
    orders = [
        (first, first.limit("AMZN", "BUY", "1", "80.00")),
        (second, second.limit("AMZN", "SELL", "1", "800.00")),
        (second, second.place(symbol="AMZN", side="BUY", quantity="1", order_type="STOP", stop_price="900.00")),
    ]
    try:
        assert _put(venue, "/api/admin/kill-switch", {"engaged": True}) == {"engaged": True}
        for trader, order in orders:
            assert trader.order(order["order_id"])["status"] == "CANCELED"
        for trader in (first, second):
            _rejected(trader, "KILL_SWITCH_ACTIVE", symbol="AMZN", side="BUY", quantity="1", price="80.00")
        assert venue.book("AMZN") | {"sequence": 0} == {"symbol": "AMZN", "bids": [], "asks": [], "sequence": 0}
    finally:
        _put(venue, "/api/admin/kill-switch", {"engaged": False})
    assert first.limit("AMZN", "BUY", "1", "80.00")["status"] == "NEW"


def test_halted_instrument_refuses_orders_and_keeps_its_book_until_resumed(venue: Venue) -> None:
    trader = venue.open_account()
    resting = trader.limit("TSLA", "BUY", "1", "80.00")
    other_symbol = trader.limit("SPY", "BUY", "1", "80.00")
    try:
        assert _put(venue, "/api/admin/instruments/TSLA/halt", {"halted": True}) == {"halted": True}
        halted = {item["symbol"]: item["halted"] for item in expect(venue.http.get("/api/instruments"), 200)}
        assert halted["TSLA"] is True
        assert halted["SPY"] is False
        _rejected(trader, "INSTRUMENT_HALTED", symbol="TSLA", side="BUY", quantity="1", price="81.00")
        assert trader.order(resting["order_id"])["status"] == "NEW"
        assert trader.limit("SPY", "BUY", "1", "81.00")["status"] == "NEW"
        assert expect(trader.cancel(resting["order_id"]), 200)["status"] == "CANCELED"
    finally:
        _put(venue, "/api/admin/instruments/TSLA/halt", {"halted": False})
    assert trader.limit("TSLA", "BUY", "1", "81.00")["status"] == "NEW"
    assert trader.order(other_symbol["order_id"])["status"] == "NEW"
    expect_error(venue.admin.put("/api/admin/instruments/NOPE/halt", json={"halted": True}), 404, "NOT_FOUND")


def test_venue_default_risk_limits_apply_to_accounts_without_their_own(venue: Venue) -> None:
    defaults = expect(venue.admin.get("/api/admin/risk-limits"), 200)
    assert {key: amount(str(value)) for key, value in defaults.items()} == dict.fromkeys(defaults, 0)
    trader, own_limits = venue.open_account(), venue.open_account()
    _put(venue, f"/api/admin/accounts/{own_limits.account_id}/risk-limits", {"max_order_quantity": 5000})
    try:
        answered = _put(venue, "/api/admin/risk-limits", {"max_order_quantity": 1000, "max_open_orders": 50})
        assert amount(answered["max_order_quantity"]) == 1000
        assert answered["max_open_orders"] == 50
        current = expect(venue.admin.get("/api/admin/risk-limits"), 200)
        assert current == answered
        _rejected(trader, "MAX_ORDER_QUANTITY", symbol="SPY", side="BUY", quantity="1001", price="1.00")
        assert trader.limit("SPY", "BUY", "1000", "1.00")["status"] == "NEW"
        assert own_limits.limit("SPY", "BUY", "1001", "1.00")["status"] == "NEW", "its own limits win"
        expect_error(venue.admin.put("/api/admin/risk-limits", json={"max_order_quantity": "-1"}), 422)
        expect_error(venue.admin.put("/api/admin/risk-limits", json={"price_collar_bps": 10_001}), 400)
        assert expect(venue.admin.get("/api/admin/risk-limits"), 200) == answered
    finally:
        _put(venue, "/api/admin/risk-limits", {})
    assert trader.limit("SPY", "BUY", "1001", "1.00")["status"] == "NEW"


# -- who may use the admin API ------------------------------------------------------------------------------


def _bad_admin_credentials(api_key: str) -> dict[str, dict[str, str]]:
    return {
        "missing": {},
        "wrong token": {"Authorization": "Bearer wrong-token-0123456789"},
        "token with a suffix": {"Authorization": f"Bearer {ADMIN_TOKEN}x"},
        "token prefix": {"Authorization": f"Bearer {ADMIN_TOKEN[:-1]}"},
        "no token": {"Authorization": "Bearer"},
        "two spaces": {"Authorization": f"Bearer  {ADMIN_TOKEN}"},
        "basic scheme": {"Authorization": f"Basic {ADMIN_TOKEN}"},
        "token alone": {"Authorization": ADMIN_TOKEN},
        "token as api key": {"X-API-Key": ADMIN_TOKEN},
        "account key": {"X-API-Key": api_key},
        "account key as bearer": {"Authorization": f"Bearer {api_key}"},
    }


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ENDPOINTS, ids=ENDPOINT_IDS)
def test_admin_endpoint_without_the_admin_token_is_401_and_changes_nothing(
    venue: Venue, method: str, path: str, body: dict[str, Any] | None
) -> None:
    accounts = expect(venue.admin.get("/api/admin/accounts"), 200)
    sequence = venue.sequence()
    for name, headers in _bad_admin_credentials(venue.server.demo_api_key).items():
        response = venue.http.request(method, path, json=body, headers=headers)
        error = expect_error(response, 401, "UNAUTHORIZED")
        assert ADMIN_TOKEN not in error["message"], name
    assert venue.sequence() == sequence
    assert expect(venue.admin.get("/api/admin/accounts"), 200) == accounts


def test_admin_scheme_name_is_case_insensitive(venue: Venue) -> None:
    expect(venue.http.get("/api/admin/accounts", headers={"Authorization": f"bearer {ADMIN_TOKEN}"}), 200)
    expect(venue.http.get("/api/admin/accounts", headers={"Authorization": f"BEARER {ADMIN_TOKEN}"}), 200)


@pytest.fixture(scope="module")
def server_without_admin_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server started with no HFT_ADMIN_TOKEN in its environment at all."""
    process = ServerProcess(tmp_path_factory.mktemp("no-admin") / "data")
    process.env = {name: value for name, value in os.environ.items() if name != "HFT_ADMIN_TOKEN"}
    process.env["HFT_LOG_LEVEL"] = "warning"
    with process as running:
        yield running


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ENDPOINTS, ids=ENDPOINT_IDS)
def test_admin_api_is_403_when_no_admin_token_is_configured(
    server_without_admin_token: ServerProcess, method: str, path: str, body: dict[str, Any] | None
) -> None:
    server = server_without_admin_token
    with http_client(server.url) as http:
        for headers in ({}, ADMIN_HEADERS, {"Authorization": "Bearer"}, {"Authorization": "Bearer None"}):
            error = expect_error(http.request(method, path, json=body, headers=headers), 403, "FORBIDDEN")
            assert "HFT_ADMIN_TOKEN" in error["message"]
        account = expect(http.get("/api/account", headers={"X-API-Key": server.demo_api_key}), 200)
        assert account["state"] == "ACTIVE"
        assert account["kill_switch"] is False
        assert amount(account["cash"]) == 1_000_000
        instruments = expect(http.get("/api/instruments"), 200)
        assert not any(instrument["halted"] for instrument in instruments)


def test_server_without_admin_token_still_trades(server_without_admin_token: ServerProcess) -> None:
    server = server_without_admin_token
    with http_client(server.url, {"X-API-Key": server.demo_api_key}) as http:
        order = expect(http.post("/api/orders", json={"symbol": "AAPL", "side": "BUY", "quantity": 1, "price": 1}), 201)
        assert order["status"] == "NEW"
        assert expect(http.delete("/api/orders"), 200)["order_ids"] == [order["order_id"]]
