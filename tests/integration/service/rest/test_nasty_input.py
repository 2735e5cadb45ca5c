"""A corpus of hostile requests: every one is refused with a 4xx JSON error, none is a 5xx, none creates anything.

Targets: POST /api/orders (and /api/order), PATCH /api/orders/{id}, POST /api/admin/accounts, an account's
deposit and risk limits, and query strings. Each case checks the journal sequence (GET /health) did not move;
a last test replays the whole corpus and checks the account (balances, limits, orders, its resting order), the
list of accounts and the journal are exactly as before.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from tests.integration.service.rest.clients import ADMIN_HEADERS, Trader, Venue, expect, http_client

from hft.testing.server import ServerProcess

BASE_ORDER: dict[str, Any] = {"symbol": "AAPL", "side": "BUY", "quantity": 1, "price": "1.00"}
BASE_ACCOUNT: dict[str, Any] = {"name": "nasty", "cash": "1000"}
RESTING = "{resting}"  # replaced by the id of the account's resting order
ACCOUNT = "{account}"  # replaced by the account's id


@dataclass(frozen=True)
class Case:
    """One hostile request."""

    name: str
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def send(self, http: httpx.Client, resting_order_id: int, account_id: int) -> httpx.Response:
        headers = {"Content-Type": "application/json", **self.headers}
        if "content-type" in {key.lower() for key in self.headers}:
            headers.pop("Content-Type")
        path = self.path.replace(RESTING, str(resting_order_id)).replace(ACCOUNT, str(account_id))
        return http.request(self.method, path, content=self.body, headers=headers)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _with_raw(base: dict[str, Any], key: str, token: str) -> bytes:
    """``base`` with ``key`` set to a raw JSON token (which may be something json.dumps never writes)."""
    rest = {name: value for name, value in base.items() if name != key}
    return _dumps(rest)[:-1] + f', "{key}": {token}}}'.encode()


# Numbers as raw JSON tokens: bare ones are not JSON at all, quoted ones are strings a decimal parser might take.
BARE_NUMBERS = {
    "NaN": "NaN",
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
    "1e400": "1e400",
    "-1e400": "-1e400",
    "5000 digits": "9" * 5000,
    "-5000 digits": "-" + "9" * 5000,
    "1e-400": "1e-400",
    "negative": "-1",
    "zero": "0",
    "negative zero": "-0.0",
    "5000 decimals": "0." + "0" * 4999 + "1",
    # Off the grid only in the 17th significant digit: read through a float, it lands on the grid.
    "beyond float precision": "3.0000000000000001",
}
QUOTED_NUMBERS = [
    "NaN",
    "nan",
    "-NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "1e400",
    "-1e400",
    "1e-400",
    "9" * 5000,
    "1e999999999",
    "1e-999999999",
    "-1",
    "0",
    "-0",
    "",
    " ",
    "0x10",
    "1/2",
    "1,5",
    "one",
]
WRONG_TYPES: dict[str, Any] = {
    "list": [1],
    "object": {"value": 1},
    "bool": True,
    "null": None,
    "number": 1,
    "text": "x",
}
# Values that are legitimately accepted for a field (an optional field may be null; a decimal may be a number).
ACCEPTED: dict[str, set[str]] = {
    "quantity": {"number"},
    "price": {"number"},
    "client_order_id": {"text"},
    "stop_price": {"null"},
    "display_quantity": {"null"},
    "expire_time": {"null"},
    "post_only": {"bool"},
}
CONTROL_CHARACTERS = {
    "NUL": "\u0000",
    "newline": "\n",
    "tab": "\t",
    "carriage return": "\r",
    "escape": "\u001b",
    "delete": "\u007f",
    "next line": "\u0085",
    "line separator": "\u2028",
    "right-to-left override": "\u202e",
    "byte order mark": "\ufeff",
    "space": " ",
    "e acute": "\u00e9",
    "emoji": "\U0001f4b8",
}
NOT_JSON: dict[str, bytes] = {
    "empty": b"",
    "whitespace": b"   \n",
    "null": b"null",
    "list": b"[]",
    "string": b'"order"',
    "number": b"1",
    "true": b"true",
    "not json": b"hello",
    "open brace": b"{",
    "close brace": b"}",
    "single quotes": b"{'symbol': 'AAPL'}",
    "trailing comma": b'{"symbol": "AAPL",}',
    "comment": b'{"symbol": "AAPL" // buy\n}',
    "unquoted keys": b"{symbol: 1}",
    "two documents": _dumps(BASE_ORDER) + _dumps(BASE_ORDER),
    "garbage after": _dumps(BASE_ORDER)[:-1] + b"} x",
    "NUL byte": b"\x00",
}
DEEP = 60_000  # under the 64 KiB body limit
BAD_BYTES: dict[str, bytes] = {
    "0xff first": b"\xff" + _dumps(BASE_ORDER),
    "0xff in a string": _dumps(BASE_ORDER).replace(b'"AAPL"', b'"AA\xffPL"'),
    "latin-1 in a string": _dumps(BASE_ORDER | {"client_order_id": "x"}).replace(b'"x"', b'"caf\xe9"'),
    "truncated multibyte": _dumps(BASE_ORDER | {"client_order_id": "x"}).replace(b'"x"', b'"\xe2\x82"'),
    "overlong encoding": _dumps(BASE_ORDER | {"client_order_id": "x"}).replace(b'"x"', b'"\xc0\xaf"'),
    "encoded surrogate": _dumps(BASE_ORDER | {"client_order_id": "x"}).replace(b'"x"', b'"\xed\xa0\x80"'),
    "lone surrogate escape": _dumps(BASE_ORDER)[:-1] + b', "client_order_id": "\\ud800"}',
    "utf-16": json.dumps(BASE_ORDER).encode("utf-16"),
    "utf-8 bom": b"\xef\xbb\xbf" + _dumps(BASE_ORDER),
}


def _deep_bodies(base: dict[str, Any], key: str) -> dict[str, bytes]:
    return {
        "100k open brackets": b"[" * 100_000,
        "60k open brackets": b"[" * DEEP,
        "balanced nested arrays": b"[" * (DEEP // 2) + b"]" * (DEEP // 2),
        "nested objects": b'{"a":' * (DEEP // 6) + b"1" + b"}" * (DEEP // 6),
        "nested value of a field": _with_raw(base, key, "[" * 20_000 + "]" * 20_000),
        "nested unknown field": _with_raw(base, "extra", "[" * 20_000 + "]" * 20_000),
    }


def _huge_bodies(base: dict[str, Any], key: str) -> dict[str, bytes]:
    return {
        f"60 KB {key}": _dumps(base | {key: "x" * 60_000}),
        "60 KB unknown field": _dumps(base | {"extra": "x" * 60_000}),
        "5000 unknown fields": _dumps(base | {f"k{index}": 1 for index in range(5000)}),
        "60 KB of escapes": _dumps(base | {key: "\u0001" * 10_000}),
    }


def _framing_cases(method: str, path: str, invalid: bytes) -> list[Case]:
    """Wrong content types and huge headers, each carrying a body that is refused anyway."""
    where = f"{method} {path}"
    cases = [
        Case(f"{where} content-type {content_type!r}", method, path, invalid, {"Content-Type": content_type})
        for content_type in (
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/xml",
            "application/json; charset=latin-1",
            "",
        )
    ]
    cases.append(Case(f"{where} 100 KB header", method, path, invalid, {"X-Padding": "x" * 100_000}))
    cases.append(Case(f"{where} 1 MB header", method, path, invalid, {"X-Padding": "x" * 1_000_000}))
    padding = {f"X-Padding-{index}": "x" for index in range(2000)}
    cases.append(Case(f"{where} 2000 headers", method, path, invalid, padding))
    return cases


def order_cases(path: str = "/api/orders") -> list[Case]:
    """Hostile bodies for an order submission."""
    cases: list[Case] = []

    def add(name: str, body: bytes) -> None:
        cases.append(Case(f"{path} {name}", "POST", path, body))

    for field_name in ("quantity", "price", "stop_price", "display_quantity"):
        for name, token in BARE_NUMBERS.items():
            add(f"{field_name} bare {name}", _with_raw(BASE_ORDER, field_name, token))
        for text in QUOTED_NUMBERS:
            add(f"{field_name} string {text[:20]!r}", _dumps(BASE_ORDER | {field_name: text}))
    for field_name in (
        "symbol",
        "side",
        "quantity",
        "order_type",
        "price",
        "client_order_id",
        "time_in_force",
        "stop_price",
        "post_only",
        "display_quantity",
        "expire_time",
        "stp",
    ):
        for type_name, value in WRONG_TYPES.items():
            if type_name not in ACCEPTED.get(field_name, set()):
                add(f"{field_name} as {type_name}", _dumps(BASE_ORDER | {field_name: value}))
        if field_name in BASE_ORDER:
            add(f"missing {field_name}", _dumps({k: v for k, v in BASE_ORDER.items() if k != field_name}))
    grid: dict[str, dict[str, Any]] = {
        "off-tick price": {"price": "1.001"},
        "off-tick price as number": {"price": 1.005},
        "off-lot quantity": {"quantity": "1.5"},
        "off-lot BTC quantity": {"symbol": "BTC-USD", "quantity": "0.00001"},
        "off-lot ETH quantity": {"symbol": "ETH-USD", "quantity": 0.0001},
        "off-tick BTC price": {"symbol": "BTC-USD", "quantity": "0.001", "price": "1.001"},
        "price over the maximum": {"price": "100000000"},
        "quantity over the maximum": {"quantity": "1000000000000"},
        "zero price": {"price": 0},
        "negative price": {"price": "-1.00"},
        "zero quantity": {"quantity": 0},
        "negative quantity": {"quantity": -5},
        "negative display quantity": {"display_quantity": "-1"},
        "display quantity equal to quantity": {"quantity": 5, "display_quantity": 5},
        "stop price on a LIMIT": {"stop_price": "2.00"},
        "MARKET with a price": {"order_type": "MARKET", "time_in_force": "IOC"},
        "MARKET GTC": {"order_type": "MARKET", "price": None},
        "STOP without stop price": {"order_type": "STOP", "price": None},
        "post-only IOC": {"post_only": True, "time_in_force": "IOC"},
        "GTD without expire time": {"time_in_force": "GTD"},
        "GTD in the past": {"time_in_force": "GTD", "expire_time": "2001-01-01T00:00:00Z"},
        "GTD in year 9999": {"time_in_force": "GTD", "expire_time": "9999-12-31T23:59:59Z"},
        "GTD without time zone": {"time_in_force": "GTD", "expire_time": "2099-01-01T00:00:00"},
        "GTD not a time": {"time_in_force": "GTD", "expire_time": "tomorrow"},
        "expire time without GTD": {"expire_time": "2099-01-01T00:00:00Z"},
        "side in lower case": {"side": "buy"},
        "unknown order type": {"order_type": "ICEBERG"},
        "unknown time in force": {"time_in_force": "GTX"},
        "unknown self-trade prevention": {"stp": "SOMETIMES"},
        "client order id of 65 characters": {"client_order_id": "x" * 65},
    }
    for name, changes in grid.items():
        add(name, _dumps(BASE_ORDER | changes))
    for symbol in ("ZZZ", "aapl", "", " AAPL", "AAPL\u0000", "A" * 33, "\uff21\uff21\uff30\uff2c", "BTC/USD"):
        add(f"symbol {symbol[:10]!r}", _dumps(BASE_ORDER | {"symbol": symbol}))
    for name, character in CONTROL_CHARACTERS.items():
        add(f"client_order_id with {name}", _dumps(BASE_ORDER | {"client_order_id": f"A{character}B"}))
    for name, extra in {"foo": {"foo": 1}, "account": {"account": 2}, "order_id": {"order_id": 5}}.items():
        add(f"unknown field {name}", _dumps(BASE_ORDER | extra))
    add("field name in another case", _dumps(BASE_ORDER | {"Symbol": "AAPL"}))
    add("duplicate key, same value", _dumps(BASE_ORDER)[:-1] + b', "symbol": "AAPL"}')
    add("duplicate key, other value", _dumps(BASE_ORDER)[:-1] + b', "quantity": 1000000}')
    add("duplicate key in another spelling", _dumps(BASE_ORDER)[:-1] + b', "s\\u0079mbol": "MSFT"}')
    for name, body in {
        **NOT_JSON,
        **BAD_BYTES,
        **_deep_bodies(BASE_ORDER, "symbol"),
        **_huge_bodies(BASE_ORDER, "client_order_id"),
    }.items():
        add(name, body)
    return cases + _framing_cases("POST", path, _dumps(BASE_ORDER | {"quantity": 0}))


def amend_cases() -> list[Case]:
    """Hostile bodies for an amend of the account's resting order."""
    path = f"/api/orders/{RESTING}"
    cases: list[Case] = []

    def add(name: str, body: bytes) -> None:
        cases.append(Case(f"PATCH {name}", "PATCH", path, body))

    for field_name in ("quantity", "price", "stop_price"):
        for name, token in BARE_NUMBERS.items():
            add(f"{field_name} bare {name}", _with_raw({}, field_name, token).replace(b"{,", b"{"))
        for text in QUOTED_NUMBERS:
            add(f"{field_name} string {text[:20]!r}", _dumps({field_name: text}))
        for type_name, value in WRONG_TYPES.items():
            if type_name not in ("number", "null"):
                add(f"{field_name} as {type_name}", _dumps({field_name: value}))
    grid: dict[str, dict[str, Any]] = {
        "off-tick price": {"price": "1.005"},
        "off-lot quantity": {"quantity": "2.5"},
        "all null": {"quantity": None, "price": None, "stop_price": None},
        "unknown field symbol": {"symbol": "MSFT"},
        "unknown field side": {"side": "SELL"},
        "unknown field status": {"status": "FILLED"},
        "unknown field filled_quantity": {"filled_quantity": 1},
        "unknown field account": {"account": 1},
    }
    for name, changes in grid.items():
        add(name, _dumps(changes))
    add("duplicate key", b'{"quantity": 1, "quantity": 2}')
    add("empty object", b"{}")
    for name, body in {
        **NOT_JSON,
        **BAD_BYTES,
        **_deep_bodies({"quantity": 1}, "price"),
        **_huge_bodies({"quantity": 1}, "price"),
    }.items():
        add(name, body)
    return cases + _framing_cases("PATCH", path, b'{"quantity": 0}')


def account_cases() -> list[Case]:
    """Hostile bodies for opening an account."""
    path = "/api/admin/accounts"
    cases: list[Case] = []

    def add(name: str, body: bytes) -> None:
        cases.append(Case(f"admin {name}", "POST", path, body, dict(ADMIN_HEADERS)))

    for field_name in ("cash", "credit_limit"):
        for name, token in BARE_NUMBERS.items():
            if name not in {"zero", "negative zero"}:
                add(f"{field_name} bare {name}", _with_raw(BASE_ACCOUNT, field_name, token))
        for text in QUOTED_NUMBERS:
            if text not in ("0", "-0"):
                add(f"{field_name} string {text[:20]!r}", _dumps(BASE_ACCOUNT | {field_name: text}))
        add(f"{field_name} with 9 decimals", _dumps(BASE_ACCOUNT | {field_name: "0.000000001"}))
        add(f"{field_name} above 1e10", _dumps(BASE_ACCOUNT | {field_name: "1.00000001e10"}))
    for field_name in ("maker_fee_bps", "taker_fee_bps"):
        for name, token in {
            "negative": "-1",
            "over 1000": "1001",
            "fraction": "1.5",
            "1e400": "1e400",
            "5000 digits": "9" * 5000,
            "NaN": "NaN",
            "list": "[]",
            "object": "{}",
            "bool": "true",
            "null": "null",
            "text": '"x"',
        }.items():
            add(f"{field_name} {name}", _with_raw(BASE_ACCOUNT, field_name, token))
    for type_name, value in WRONG_TYPES.items():
        if type_name != "text":
            add(f"name as {type_name}", _dumps(BASE_ACCOUNT | {"name": value}))
        if type_name not in ("number", "text"):
            add(f"cash as {type_name}", _dumps(BASE_ACCOUNT | {"cash": value}))
    add("empty name", _dumps({"name": ""}))
    add("name of 101 characters", _dumps({"name": "x" * 101}))
    add("missing name", _dumps({"cash": "1000"}))
    add("unknown field account_id", _dumps(BASE_ACCOUNT | {"account_id": 1}))
    add("unknown field api_key", _dumps(BASE_ACCOUNT | {"api_key": "hft_mine"}))
    add("duplicate key, other value", b'{"name": "first", "name": "second"}')
    add("duplicate key, same value", b'{"name": "twice", "name": "twice"}')
    add("duplicate cash", b'{"name": "rich", "cash": "1", "cash": "1000000"}')
    for name, body in {
        **NOT_JSON,
        **BAD_BYTES,
        **_deep_bodies(BASE_ACCOUNT, "name"),
        **_huge_bodies(BASE_ACCOUNT, "name"),
    }.items():
        add(name, body)
    for case in _framing_cases("POST", path, _dumps({"name": ""})):
        cases.append(Case(case.name, case.method, case.path, case.body, ADMIN_HEADERS | case.headers))
    return cases


def account_setting_cases() -> list[Case]:
    """Hostile bodies for a deposit and for risk limits of the corpus's own account (0 and negatives are valid)."""
    cases: list[Case] = []
    targets = (
        ("POST", f"/api/admin/accounts/{ACCOUNT}/cash", "amount"),
        ("PUT", f"/api/admin/accounts/{ACCOUNT}/risk-limits", "max_order_quantity"),
    )
    for method, path, key in targets:
        bodies = {
            f"bare {name}": _with_raw({}, key, token).replace(b"{,", b"{")
            for name, token in BARE_NUMBERS.items()
            if name not in {"zero", "negative zero", "negative"}
        }
        bodies["duplicate key"] = f'{{"{key}": 1, "{key}": 2}}'.encode()
        bodies["60k open brackets"] = b"[" * DEEP
        bodies["1e-999999999"] = _dumps({key: "1e-999999999"})
        for name, body in bodies.items():
            cases.append(Case(f"{method} {key} {name}", method, path, body, dict(ADMIN_HEADERS)))
    return cases


def query_cases() -> list[Case]:
    """Hostile query strings and path parameters."""
    huge = "9" * 5000
    queries = {
        "/api/orders": [
            "limit=abc",
            "limit=0",
            "limit=-1",
            "limit=1001",
            "limit=1e400",
            f"limit={huge}",
            "limit=NaN",
            "limit=1.5",
            "limit=",
            "before=0",
            "before=-1",
            "before=abc",
            f"before={2**63}",
            "before=NaN",
            "status=FOO",
            "status=new",
            "status=",
            "status=%ff",
            "open=maybe",
            "open=2",
            f"symbol={'A' * 33}",
        ],
        "/api/executions": [
            "order_id=abc",
            "order_id=0",
            "order_id=-1",
            f"order_id={2**63}",
            "order_id=NaN",
            f"order_id={huge}",
            "limit=0",
            "limit=1e400",
            "before=abc",
            f"symbol={'A' * 33}",
        ],
        "/api/book/AAPL": ["depth=0", "depth=NaN", "depth=1e400", f"depth={huge}", "depth=-5", "depth=1001"],
        "/api/trades/AAPL": ["limit=0", "limit=Infinity", "limit=1001", f"limit={huge}"],
    }
    cases = [
        Case(f"GET {path}?{query[:30]}", "GET", f"{path}?{query}") for path, items in queries.items() for query in items
    ]
    mass_cancels = ["symbol=ZZZ", "symbol=", "symbol=%00", "symbol=aapl", f"symbol={'A' * 33}", "side=buy", "side="]
    mass_cancels += ["side=BOTH", "side=%ff", "side=1", "symbol=AAPL&side=LEFT", "symbol=%ff%fe"]
    cases += [Case(f"DELETE /api/orders?{query}", "DELETE", f"/api/orders?{query}") for query in mass_cancels]
    for order_id in ("abc", "-1", "0", huge, "1.5", "1e3", "%00", "NaN"):
        cases.append(Case(f"GET /api/orders/{order_id[:10]}", "GET", f"/api/orders/{order_id}"))
        cases.append(Case(f"DELETE /api/orders/{order_id[:10]}", "DELETE", f"/api/orders/{order_id}"))
        cases.append(Case(f"PATCH /api/orders/{order_id[:10]}", "PATCH", f"/api/orders/{order_id}", b'{"quantity": 2}'))
    for client_order_id in ("%ff%fe", "x" * 5000, "%00", "..%2F..%2Fadmin"):
        path = f"/api/orders/by-client-id/{client_order_id}"
        cases.append(Case(f"GET by-client-id {client_order_id[:10]}", "GET", path))
    for symbol in ("%ff", "A" * 10_000, "%00", "..%2Forders"):
        cases.append(Case(f"GET /api/book/{symbol[:10]}", "GET", f"/api/book/{symbol}"))
    return cases


CORPUS = (
    order_cases()
    + order_cases("/api/order")
    + amend_cases()
    + account_cases()
    + account_setting_cases()
    + query_cases()
)


@dataclass
class Target:
    """The account the corpus is sent as, its resting order, and an HTTP client that sends raw requests."""

    trader: Trader
    resting: dict[str, Any]
    http: httpx.Client


@pytest.fixture(scope="module")
def target(server: ServerProcess) -> Iterator[Target]:
    """An account with one resting order, shared by every case of the module."""
    venue = Venue(server)
    trader = venue.open_account()
    resting = trader.limit("MSFT", "BUY", "3", "2.00", client_order_id="RESTING")
    with http_client(server.url, {"X-API-Key": trader.api_key}) as http:
        yield Target(trader, resting, http)
    venue.close()


def _problem(case: Case, target: Target, venue: Venue) -> str | None:
    """Send ``case``; say what is wrong with the answer, or None if it was refused cleanly and journaled nothing."""
    sequence = venue.sequence()
    try:
        response = case.send(target.http, target.resting["order_id"], target.trader.account_id)
    except httpx.TransportError as error:
        return f"no answer: {type(error).__name__}: {error}"
    moved = venue.sequence() - sequence
    text = response.text[:200]
    if not 400 <= response.status_code < 500:
        return f"answered {response.status_code}: {text}"
    if response.status_code == 431 and not moved:
        return None  # the HTTP server refuses oversized headers itself, before the application, without a body
    try:
        body = response.json()
    except ValueError:
        return f"answered {response.status_code} without a JSON body: {text!r}"
    if not (isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("message"), str)):
        return f"answered {response.status_code} without error and message: {text}"
    if moved:
        return f"answered {response.status_code} but journaled {moved} command(s): {text}"
    return None


@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_hostile_request_is_refused_with_a_json_4xx_and_journals_nothing(
    case: Case, target: Target, venue: Venue
) -> None:
    problem = _problem(case, target, venue)
    assert problem is None, f"{case.method} {case.path[:80]}: {problem}"


def test_after_the_whole_corpus_nothing_was_created_or_changed(target: Target, venue: Venue) -> None:
    accounts = expect(venue.admin.get("/api/admin/accounts"), 200)
    account = target.trader.account()
    orders = target.trader.orders()
    sequence = venue.sequence()
    for case in CORPUS:
        with contextlib.suppress(httpx.TransportError):  # reported by the case's own test
            case.send(target.http, target.resting["order_id"], target.trader.account_id)
    assert target.trader.orders() == orders
    assert target.trader.order(target.resting["order_id"]) == target.resting
    after = expect(venue.admin.get("/api/admin/accounts"), 200)
    assert [item["account_id"] for item in after] == [item["account_id"] for item in accounts]
    assert venue.sequence() == sequence, "rejected requests reached the journal"
    assert target.trader.executions() == []
    assert target.trader.account() == account


def test_order_with_a_valid_body_but_a_non_json_content_type_is_refused(target: Target, venue: Venue) -> None:
    sequence = venue.sequence()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        response = target.http.post("/api/orders", content=_dumps(BASE_ORDER), headers={"Content-Type": content_type})
        assert response.status_code == 415, f"{content_type}: {response.status_code} {response.text[:200]}"
    assert venue.sequence() == sequence


@pytest.mark.parametrize("text", ["1_000", "1_0.0_0"])
def test_decimal_strings_with_digit_separators_are_refused(target: Target, venue: Venue, text: str) -> None:
    sequence = venue.sequence()
    response = target.http.post("/api/orders", json=BASE_ORDER | {"quantity": text})
    assert 400 <= response.status_code < 500, f"quantity {text!r}: {response.status_code} {response.text[:200]}"
    assert venue.sequence() == sequence
