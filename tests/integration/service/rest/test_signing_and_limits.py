"""Signed requests (HMAC, fresh timestamp, no replay), the per-key rate limit, and the request body size limit."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from tests.integration.service.rest.clients import Trader, Venue, expect, expect_error, http_client

from hft.service.auth import signature
from hft.testing.server import ServerProcess

MAX_BODY = 64 * 1024
ORDER = {"symbol": "AAPL", "side": "BUY", "quantity": 1, "price": "1.00"}


def _signed(
    trader: Trader, method: str, path: str, body: bytes = b"", *, timestamp: str | None = None
) -> httpx.Response:
    """Send a request signed as hft.service.auth documents: HMAC(timestamp + METHOD + path?query + body)."""
    timestamp = timestamp or str(int(time.time()))
    headers = {
        "X-Timestamp": timestamp,
        "X-Signature": signature(trader.api_key, timestamp, method, path, body),
        "Content-Type": "application/json",
    }
    return trader.http.request(method, path, content=body, headers=headers)


def _order_body(**changes: object) -> bytes:
    return json.dumps(ORDER | changes).encode()


# -- signatures ----------------------------------------------------------------------------------------------


def test_correctly_signed_requests_pass(venue: Venue) -> None:
    trader = venue.open_account()
    assert expect(_signed(trader, "GET", "/api/account"), 200)["account_id"] == trader.account_id
    order = expect(_signed(trader, "POST", "/api/orders", _order_body(client_order_id="SIGNED-1")), 201)
    assert order["client_order_id"] == "SIGNED-1"
    listed = expect(_signed(trader, "GET", "/api/orders?symbol=AAPL&limit=5"), 200)
    assert [item["order_id"] for item in listed["orders"]] == [order["order_id"]]
    assert expect(_signed(trader, "DELETE", f"/api/orders/{order['order_id']}"), 200)["status"] == "CANCELED"


def test_signature_in_upper_case_hex_passes(venue: Venue) -> None:
    trader = venue.open_account()
    timestamp = str(time.time())
    headers = {
        "X-Timestamp": timestamp,
        "X-Signature": signature(trader.api_key, timestamp, "GET", "/api/positions", b"").upper(),
    }
    expect(trader.http.get("/api/positions", headers=headers), 200)


def test_wrong_signature_is_401_and_creates_nothing(venue: Venue) -> None:
    trader = venue.open_account()
    body = _order_body()
    timestamp = str(int(time.time()))
    good = signature(trader.api_key, timestamp, "POST", "/api/orders", body)
    wrong_signatures = {
        "flipped digit": good[:-1] + ("0" if good[-1] != "0" else "1"),
        "empty": "",
        "not hex": "z" * 64,
        "other body": signature(trader.api_key, timestamp, "POST", "/api/orders", _order_body(quantity=2)),
        "other method": signature(trader.api_key, timestamp, "PUT", "/api/orders", body),
        "other path": signature(trader.api_key, timestamp, "POST", "/api/order", body),
        "other key": signature("hft_someone-else", timestamp, "POST", "/api/orders", body),
        "other timestamp": signature(trader.api_key, str(int(timestamp) - 1), "POST", "/api/orders", body),
    }
    sequence = venue.sequence()
    for name, wrong in wrong_signatures.items():
        headers = {"X-Timestamp": timestamp, "X-Signature": wrong, "Content-Type": "application/json"}
        error = expect_error(trader.http.post("/api/orders", content=body, headers=headers), 401, "UNAUTHORIZED")
        assert "X-Signature" in error["message"], name
    assert trader.orders() == []
    assert venue.sequence() == sequence


@pytest.mark.parametrize("offset", [-60.0, -6.0, 6.0, 60.0, -1e12, 1e12])
def test_signature_with_a_stale_or_future_timestamp_is_401(venue: Venue, offset: float) -> None:
    trader = venue.open_account()
    response = _signed(trader, "POST", "/api/orders", _order_body(), timestamp=str(time.time() + offset))
    error = expect_error(response, 401, "UNAUTHORIZED")
    assert "X-Timestamp" in error["message"]
    assert trader.orders() == []


@pytest.mark.parametrize("timestamp", ["", "now", "NaN", "inf", "-inf", "1e400", "0x10", "1_700_000_000"])
def test_signature_with_a_malformed_timestamp_is_401(venue: Venue, timestamp: str) -> None:
    trader = venue.open_account()
    headers = {"X-Signature": signature(trader.api_key, timestamp, "GET", "/api/account", b"")}
    if timestamp:
        headers["X-Timestamp"] = timestamp
    expect_error(trader.http.get("/api/account", headers=headers), 401, "UNAUTHORIZED")


def test_replayed_signed_request_is_401_and_creates_nothing_the_second_time(venue: Venue) -> None:
    trader = venue.open_account()
    body = _order_body(client_order_id="ONCE")
    timestamp = str(int(time.time()))
    headers = {
        "X-Timestamp": timestamp,
        "X-Signature": signature(trader.api_key, timestamp, "POST", "/api/orders", body),
        "Content-Type": "application/json",
    }
    first = expect(trader.http.post("/api/orders", content=body, headers=headers), 201)
    sequence = venue.sequence()
    error = expect_error(trader.http.post("/api/orders", content=body, headers=headers), 401, "UNAUTHORIZED")
    assert "replay" in error["message"]
    assert venue.sequence() == sequence
    assert trader.order_ids() == [first["order_id"]]
    get_headers = {
        "X-Timestamp": timestamp,
        "X-Signature": signature(trader.api_key, timestamp, "GET", "/api/account", b""),
    }
    expect(trader.http.get("/api/account", headers=get_headers), 200)
    expect_error(trader.http.get("/api/account", headers=get_headers), 401, "UNAUTHORIZED")


def test_unsigned_requests_still_work(venue: Venue) -> None:
    trader = venue.open_account()
    expect(trader.http.get("/api/account"), 200)
    assert trader.place(**ORDER)["status"] == "NEW"
    # A timestamp alone is not a signature: the request is treated as unsigned.
    expect(trader.http.get("/api/account", headers={"X-Timestamp": "0"}), 200)


# -- body size ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/orders"), ("POST", "/api/order"), ("PATCH", "/api/orders/1"), ("POST", "/api/admin/accounts")],
)
def test_body_over_64_kib_is_413_and_creates_nothing(venue: Venue, method: str, path: str) -> None:
    trader = venue.open_account()
    accounts = len(expect(venue.admin.get("/api/admin/accounts"), 200))
    sequence = venue.sequence()
    valid = json.dumps({"name": "padded", "cash": "1"} if "admin" in path else ORDER)
    for size in (MAX_BODY + 1, 100_000, 5_000_000):
        padded = (valid + " " * (size - len(valid))).encode()  # still valid JSON: only its size is wrong
        headers = {"Content-Type": "application/json", **venue.admin.headers, "X-API-Key": trader.api_key}
        with http_client(venue.url) as fresh:
            response = fresh.request(method, path, content=padded, headers=headers)
        expect_error(response, 413, "REQUEST_TOO_LARGE")
    assert venue.sequence() == sequence
    assert trader.orders() == []
    assert len(expect(venue.admin.get("/api/admin/accounts"), 200)) == accounts


def test_body_of_exactly_64_kib_is_accepted(venue: Venue) -> None:
    trader = venue.open_account()
    valid = json.dumps(ORDER)
    padded = (valid + " " * (MAX_BODY - len(valid))).encode()
    assert len(padded) == MAX_BODY
    response = trader.http.post("/api/orders", content=padded, headers={"Content-Type": "application/json"})
    assert expect(response, 201)["status"] == "NEW"


def test_chunked_body_over_64_kib_is_413(venue: Venue) -> None:
    trader = venue.open_account()

    def chunks() -> Iterator[bytes]:
        yield json.dumps(ORDER).encode()
        for _ in range(20):
            yield b" " * 5000

    with http_client(venue.url, {"X-API-Key": trader.api_key}) as fresh:
        response = fresh.post("/api/orders", content=chunks(), headers={"Content-Type": "application/json"})
    expect_error(response, 413, "REQUEST_TOO_LARGE")
    assert trader.orders() == []


def test_connection_stays_usable_after_a_413_or_is_announced_closed(venue: Venue) -> None:
    """After refusing a large body the server must either say ``Connection: close`` or keep serving the connection.

    Dropping a keep-alive connection silently breaks the client's next request on it.
    """
    trader = venue.open_account()
    broken = 0
    for _ in range(60):
        with http_client(venue.url, {"X-API-Key": trader.api_key}) as client:
            response = client.post("/api/orders", content=b" " * 300_000)
            expect_error(response, 413, "REQUEST_TOO_LARGE")
            if response.headers.get("connection", "").lower() == "close":
                continue
            try:
                client.get("/api/account")
            except httpx.RemoteProtocolError:
                broken += 1
    assert broken == 0, f"{broken} of 60 connections were dropped after a 413 without Connection: close"


# -- rate limit --------------------------------------------------------------------------------------------

RATE = 20


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server that allows each API key 20 requests per second."""
    with ServerProcess(tmp_path_factory.mktemp("limited") / "data", env={"HFT_RATE_LIMIT": str(RATE)}) as running:
        yield running


@pytest.fixture
def limited(limited_server: ServerProcess) -> Iterator[Venue]:
    """The rate-limited server's clients."""
    clients = Venue(limited_server)
    yield clients
    time.sleep(1.0)  # let the buckets refill so clean-up is not itself refused
    clients.close()


def test_burst_over_the_rate_limit_is_429_with_retry_after_never_5xx(limited: Venue) -> None:
    trader = limited.open_account()
    started = time.monotonic()
    responses = [trader.http.get("/api/account") for _ in range(100)]
    elapsed = time.monotonic() - started
    statuses = Counter(response.status_code for response in responses)
    assert set(statuses) <= {200, 429}, statuses
    assert statuses[429] > 0, statuses
    assert statuses[200] <= RATE + RATE * elapsed + 1, (statuses, elapsed)
    refused = [response for response in responses if response.status_code == 429]
    for response in refused:
        expect_error(response, 429, "RATE_LIMITED")
        retry_after = response.headers.get("retry-after")
        assert retry_after is not None
        assert retry_after.isdigit()
        assert int(retry_after) >= 1
    time.sleep(int(refused[-1].headers["retry-after"]))
    expect(trader.http.get("/api/account"), 200)


def test_rate_limit_is_per_api_key(limited: Venue) -> None:
    noisy, quiet = limited.open_account(), limited.open_account()
    statuses = Counter(noisy.http.get("/api/positions").status_code for _ in range(60))
    assert statuses[429] > 0
    assert [quiet.http.get("/api/positions").status_code for _ in range(5)] == [200] * 5


def test_concurrent_burst_is_answered_200_or_429_never_5xx(limited: Venue) -> None:
    trader = limited.open_account()
    paths = ["/api/account", "/api/orders", "/api/positions", "/api/executions"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = Counter(pool.map(lambda index: trader.http.get(paths[index % 4]).status_code, range(200)))
    assert set(statuses) <= {200, 429}, statuses
    assert statuses[429] > 0, statuses


def test_orders_refused_with_429_create_nothing(limited: Venue) -> None:
    trader = limited.open_account()
    for _ in range(1000):  # empty the bucket
        if trader.http.get("/api/account").status_code == 429:
            break
    else:
        raise AssertionError("1000 requests in a row were never refused")
    sequence = limited.sequence()
    responses = [trader.submit(**ORDER, client_order_id=f"BURST-{index}") for index in range(30)]
    statuses = Counter(response.status_code for response in responses)
    assert set(statuses) <= {201, 429}, statuses
    assert statuses[429] > 0, statuses
    accepted = {response.json()["order_id"] for response in responses if response.status_code == 201}
    time.sleep(1.0)
    listed = expect(trader.http.get("/api/orders", params={"limit": 1000}), 200)["orders"]
    assert {order["order_id"] for order in listed} == accepted
    assert limited.sequence() - sequence == len(accepted)
