"""The WebSocket API of a real ``hft serve``: auth, private and market channels, errors, heartbeats, slow consumers.

Every test talks to a child process over real sockets: REST orders go in,
WebSocket messages come out. Private channels are checked with two trading
accounts and a third that watches: nobody ever sees another account's data.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from tests.integration.service.ws.client import Book, Session, Trader, apply_update, levels
from websockets.asyncio.client import connect as connect_async
from websockets.exceptions import ConnectionClosed

from hft.testing.server import ServerProcess

HEARTBEAT_SECONDS = 0.5
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the module, with fast heartbeats (fsync off: these tests are about the protocol)."""
    data_dir: Path = tmp_path_factory.mktemp("ws") / "data"
    env = {"HFT_WS_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS), "HFT_FSYNC": "false"}
    with ServerProcess(data_dir, env=env) as running:
        yield running


@pytest.fixture
def traders(server: ServerProcess) -> Iterator[list[Trader]]:
    """Three fresh accounts; their working orders are canceled afterwards so the books stay clean."""
    created = [Trader(server, name) for name in ("alice", "bob", "carol")]
    yield created
    for trader in created:
        trader.http.delete("/api/orders")
        trader.close()


# -- authentication ----------------------------------------------------------------


def test_auth_by_first_message_answers_with_the_account(server: ServerProcess, traders: list[Trader]) -> None:
    alice = traders[0]
    with Session(server) as session:
        answer = session.authenticate(alice.api_key)

    assert answer == {"type": "authenticated", "account_id": alice.account_id}


def test_auth_by_query_parameter_needs_no_message(server: ServerProcess, traders: list[Trader]) -> None:
    alice = traders[0]
    with Session(server, f"?api_key={alice.api_key}") as session:
        answer = session.next()
        subscribed = session.subscribe("orders")

    assert answer == {"type": "authenticated", "account_id": alice.account_id}
    assert subscribed["channels"] == ["orders"]


@pytest.mark.parametrize("way", ["message", "query"])
def test_bad_key_gets_an_error_message_then_the_connection_closes(server: ServerProcess, way: str) -> None:
    bad_key = "hft_" + "x" * 43
    with Session(server, f"?api_key={bad_key}" if way == "query" else "") as session:
        if way == "message":
            session.send({"op": "auth", "api_key": bad_key})
        error = session.next()
        with pytest.raises(ConnectionClosed):
            session.next()
        close = session.connection.close_code

    assert error["type"] == "error"
    assert error["error"] == "UNAUTHORIZED"
    assert close == POLICY_VIOLATION


def test_private_channels_are_refused_before_auth_and_accepted_after(
    server: ServerProcess, traders: list[Trader]
) -> None:
    with Session(server) as session:
        session.send({"op": "subscribe", "channels": ["orders", "executions", "positions", "trades.AAPL"]})
        refused = [session.next() for _ in range(4)]
        session.authenticate(traders[0].api_key)
        accepted = session.subscribe("orders", "executions", "positions")

    errors, subscribed = refused[:3], refused[3]
    assert [error["error"] for error in errors] == ["UNAUTHORIZED"] * 3
    for error, channel in zip(errors, ["orders", "executions", "positions"], strict=True):
        assert channel in error["message"]
    assert subscribed == {"type": "subscribed", "channels": ["trades.AAPL"]}
    assert accepted["channels"] == ["orders", "executions", "positions"]


# -- private channels ----------------------------------------------------------------------


def _private_session(server: ServerProcess, trader: Trader) -> Session:
    session = Session(server)
    assert session.authenticate(trader.api_key)["type"] == "authenticated"
    session.subscribe("orders", "executions", "positions")
    return session


def _wait_for_order(session: Session, order_id: int) -> None:
    session.wait_for(lambda m: m.get("channel") == "orders" and m["data"]["order_id"] == order_id, what="order")


def test_own_orders_fills_and_positions_arrive_live_and_never_another_accounts(
    server: ServerProcess, traders: list[Trader]
) -> None:
    alice, bob, carol = traders
    sessions = [_private_session(server, trader) for trader in traders]
    watch_alice, watch_bob, watch_carol = sessions
    try:
        resting = alice.order("MSFT", "BUY", 10, "50.00")
        watch_alice.wait_for(lambda m: m.get("channel") == "orders", what="alice's new order")
        taking = bob.order("MSFT", "SELL", 4, "50.00")
        assert taking["status"] == "FILLED"
        watch_alice.wait_for(lambda m: m.get("channel") == "positions", what="alice's position")
        watch_bob.wait_for(lambda m: m.get("channel") == "positions", what="bob's position")
        alice.cancel(resting["order_id"])
        # A last order per account: the venue publishes in order, so once each account sees its own,
        # everything published before it has been delivered.
        markers = {trader.account_id: trader.order("MSFT", "BUY", 1, "1.00")["order_id"] for trader in traders}
        for trader, session in zip(traders, sessions, strict=True):
            _wait_for_order(session, markers[trader.account_id])
    finally:
        for session in sessions:
            session.close()

    def statuses(session: Session) -> list[tuple[int, str, str]]:
        return [
            (m["data"]["order_id"], m["data"]["status"], m["data"]["filled_quantity"]) for m in session.on("orders")
        ]

    a, b = resting["order_id"], taking["order_id"]
    assert statuses(watch_alice) == [
        (a, "NEW", "0"),
        (a, "PARTIALLY_FILLED", "4"),
        (a, "CANCELED", "4"),
        (markers[alice.account_id], "NEW", "0"),
    ]
    assert statuses(watch_bob) == [(b, "FILLED", "4"), (markers[bob.account_id], "NEW", "0")]
    assert statuses(watch_carol) == [(markers[carol.account_id], "NEW", "0")]

    [alice_fill] = [m["data"] for m in watch_alice.on("executions")]
    [bob_fill] = [m["data"] for m in watch_bob.on("executions")]
    assert (alice_fill["order_id"], alice_fill["side"], alice_fill["liquidity"]) == (a, "BUY", "MAKER")
    assert (bob_fill["order_id"], bob_fill["side"], bob_fill["liquidity"]) == (b, "SELL", "TAKER")
    assert alice_fill["trade_id"] == bob_fill["trade_id"]
    assert (Decimal(alice_fill["price"]), Decimal(alice_fill["quantity"])) == (Decimal(50), Decimal(4))
    assert alice.get("/api/executions")["executions"] == [alice_fill]

    assert [(m["data"]["symbol"], Decimal(m["data"]["quantity"])) for m in watch_alice.on("positions")] == [
        ("MSFT", Decimal(4))
    ]
    assert [(m["data"]["symbol"], Decimal(m["data"]["quantity"])) for m in watch_bob.on("positions")] == [
        ("MSFT", Decimal(-4))
    ]
    assert watch_carol.on("executions") == []
    assert watch_carol.on("positions") == []


def test_an_order_message_is_what_rest_answers_for_the_order(server: ServerProcess, traders: list[Trader]) -> None:
    alice = traders[0]
    with _private_session(server, alice) as session:
        placed = alice.order("NVDA", "BUY", 3, "20.00", client_order_id="ws-same-as-rest")
        message = session.wait_for(lambda m: m.get("channel") == "orders", what="order")

    assert message["type"] == "order"
    assert message["data"] == placed == alice.get(f"/api/orders/{placed['order_id']}")


# -- market channels ------------------------------------------------------------------------


def test_book_snapshot_then_updates_in_sequence_rebuild_the_rest_book(
    server: ServerProcess, traders: list[Trader]
) -> None:
    alice, bob, _ = traders
    rng = random.Random(20261122)
    with Session(server) as session:
        assert session.subscribe("book.AAPL")["channels"] == ["book.AAPL"]
        snapshot = session.next()
        working: list[tuple[Trader, int]] = []
        for _ in range(80):
            trader = rng.choice((alice, bob))
            if working and rng.random() < 0.2:
                owner, order_id = working.pop(rng.randrange(len(working)))
                owner.http.delete(f"/api/orders/{order_id}")
                continue
            price = f"{Decimal(10_000 + rng.randint(-10, 10)) / 100:.2f}"
            placed = trader.order("AAPL", rng.choice(("BUY", "SELL")), rng.randint(1, 20), price)
            if placed["status"] in ("NEW", "PARTIALLY_FILLED"):
                working.append((trader, placed["order_id"]))
        rest = alice.get("/api/book/AAPL?depth=1000")
        session.wait_for(lambda m: m.get("sequence") == rest["sequence"], what="the update REST reports")
        updates = session.on("book.AAPL")[1:]

    assert snapshot["type"] == "snapshot"
    assert [update["type"] for update in updates] == ["update"] * len(updates)
    followed = [snapshot["sequence"]] + [update["sequence"] for update in updates[:-1]]
    assert [update["previous_sequence"] for update in updates] == followed, "each update follows the one before"
    assert all(update["sequence"] > update["previous_sequence"] for update in updates)
    book: Book = {"bids": levels(snapshot["bids"]), "asks": levels(snapshot["asks"])}
    for update in updates:
        apply_update(book, update)
    assert sorted(book["bids"].items(), reverse=True) == list(levels(rest["bids"]).items())
    assert sorted(book["asks"].items()) == list(levels(rest["asks"]).items())


def test_book_snapshot_matches_rest_at_the_same_sequence(server: ServerProcess, traders: list[Trader]) -> None:
    alice = traders[0]
    alice.order("AMZN", "BUY", 5, "10.00")
    alice.order("AMZN", "SELL", 7, "12.00")
    rest = alice.get("/api/book/AMZN")
    with Session(server) as session:
        session.subscribe("book.AMZN")
        snapshot = session.next()

    assert snapshot == {
        "channel": "book.AMZN",
        "type": "snapshot",
        "sequence": rest["sequence"],
        "bids": rest["bids"],
        "asks": rest["asks"],
    }


def test_trades_and_ticker_report_each_trade(server: ServerProcess, traders: list[Trader]) -> None:
    alice, bob, _ = traders
    with Session(server) as session:
        session.subscribe("trades.AAPL", "ticker.AAPL")
        first_ticker = session.wait_for(lambda m: m.get("channel") == "ticker.AAPL", what="ticker")
        bob.order("AAPL", "SELL", 3, "101.00")
        taking = alice.order("AAPL", "BUY", 5, "101.00")
        trades = session.wait_for(lambda m: m.get("channel") == "trades.AAPL", what="trades")
        ticker = session.wait_for(
            lambda m: m.get("channel") == "ticker.AAPL" and m["data"]["trades"] > first_ticker["data"]["trades"],
            what="ticker after the trade",
        )
        rest_ticker = alice.get("/api/ticker/AAPL")
        rest_trades = alice.get("/api/trades/AAPL?limit=1")

    assert first_ticker["type"] == "ticker"
    [trade] = trades["data"]
    assert trades["type"] == "trades"
    assert (trade["symbol"], Decimal(trade["price"]), Decimal(trade["quantity"]), trade["side"]) == (
        "AAPL",
        Decimal("101.00"),
        Decimal(3),
        "BUY",
    )
    assert rest_trades == [trade]
    assert taking["status"] == "PARTIALLY_FILLED"
    data = ticker["data"]
    assert Decimal(data["last"]) == Decimal("101.00")
    assert data["trades"] == first_ticker["data"]["trades"] + 1
    assert Decimal(data["volume"]) == Decimal(first_ticker["data"]["volume"]) + 3
    assert data == rest_ticker


def test_unsubscribe_stops_the_channel(server: ServerProcess, traders: list[Trader]) -> None:
    alice, bob, _ = traders
    with Session(server) as session:
        session.subscribe("trades.TSLA", "book.TSLA")
        session.next()  # the book snapshot
        session.send({"op": "unsubscribe", "channels": ["trades.TSLA"]})
        assert session.next() == {"type": "unsubscribed", "channels": ["trades.TSLA"]}
        bob.order("TSLA", "SELL", 1, "30.00")
        alice.order("TSLA", "BUY", 1, "30.00")
        session.wait_for(lambda m: m.get("channel") == "book.TSLA" and m["asks"] == [["30.00", "0"]], what="fill")

    assert session.on("trades.TSLA") == []


# -- control messages and errors ----------------------------------------------------------


def test_ping_gets_a_pong_with_the_server_time(server: ServerProcess) -> None:
    before = time.time_ns()
    with Session(server) as session:
        session.send({"op": "ping"})
        pong = session.next()

    assert pong["type"] == "pong"
    assert before - 10**9 < pong["ts"] < time.time_ns() + 10**9


def test_unknown_channels_are_errors_and_the_known_ones_are_subscribed(server: ServerProcess) -> None:
    with Session(server) as session:
        session.send({"op": "subscribe", "channels": ["nonsense", "book.NOPE", "ticker.SPY"]})
        answers = [session.next() for _ in range(4)]

    assert [(m["type"], m.get("error")) for m in answers[:2]] == [("error", "UNKNOWN_CHANNEL")] * 2
    assert "nonsense" in answers[0]["message"]
    assert "book.NOPE" in answers[1]["message"]
    assert answers[2] == {"type": "subscribed", "channels": ["ticker.SPY"]}
    assert answers[3]["channel"] == "ticker.SPY"


@pytest.mark.parametrize(
    "raw",
    [
        "{not json",
        "[1, 2]",
        '{"op": "dance"}',
        '{"channels": ["orders"]}',
        '{"op": "subscribe", "channels": "orders"}',
        '{"op": "ping", "extra": 1}',
        "",
    ],
    ids=["malformed", "array", "unknown-op", "no-op", "channels-not-a-list", "unknown-field", "empty"],
)
def test_malformed_message_is_an_error_and_the_connection_stays(server: ServerProcess, raw: str) -> None:
    with Session(server) as session:
        session.send(raw)
        error = session.next()
        session.send({"op": "ping"})
        pong = session.next()

    assert error["type"] == "error"
    assert error["error"] == "INVALID_MESSAGE"
    assert error["message"]
    assert pong["type"] == "pong"


def test_message_over_16_kib_closes_the_connection_as_a_policy_violation(server: ServerProcess) -> None:
    with Session(server) as session:
        session.send({"op": "subscribe", "channels": ["x" * 17_000]})
        with pytest.raises(ConnectionClosed):
            session.next()

    assert session.connection.close_code == POLICY_VIOLATION


def test_heartbeats_arrive_on_an_idle_connection(server: ServerProcess) -> None:
    with Session(server) as session:
        session.subscribe("ticker.GOOGL")
        session.next()  # the ticker snapshot
        with pytest.raises(TimeoutError):
            session.next(timeout=4 * HEARTBEAT_SECONDS)

    beats = session.heartbeats
    assert len(beats) >= 2
    assert all(beat["ts"] > 0 for beat in beats)
    assert [beat["ts"] for beat in beats] == sorted(beat["ts"] for beat in beats)


# -- slow consumers ----------------------------------------------------------------------------


@pytest.fixture
def small_queue_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server that cuts off WebSocket clients more than 50 messages behind."""
    env = {"HFT_WS_MAX_QUEUE": "50", "HFT_FSYNC": "false"}
    with ServerProcess(tmp_path / "data", env=env) as running:
        yield running


DEEP_BOOK_LEVELS = 60  # per side: every book snapshot is then 50 levels a side, a few KB
SNAPSHOT_REQUESTS = 3_000  # subscribe + unsubscribe pairs: several MB of snapshots, beyond any socket buffer
REST_PROBES = 40


async def _slow_consumer(server: ServerProcess, api_key: str) -> tuple[float, list[float]]:
    """Make a client that never reads ask for megabytes of book snapshots; time how long the server keeps it.

    Returns the seconds until the server let go of the session (``websocket_clients`` back to 0) and the
    latencies of REST orders sent meanwhile.
    """
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    latencies: list[float] = []
    async with (
        connect_async(f"ws://127.0.0.1:{server.port}/ws", sock=sock, max_queue=1, ping_interval=None) as client,
        httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": api_key}, timeout=30) as http,
    ):
        started = time.perf_counter()
        with contextlib.suppress(ConnectionClosed):  # the server may hang up before all requests are sent
            for _ in range(SNAPSHOT_REQUESTS):
                await client.send(json.dumps({"op": "subscribe", "channels": ["book.AAPL"]}))
                await client.send(json.dumps({"op": "unsubscribe", "channels": ["book.AAPL"]}))
        held, held_for = True, 0.0
        while (held or len(latencies) < REST_PROBES) and time.perf_counter() < started + 60:
            sent = time.perf_counter()
            response = await http.post(
                "/api/orders", json={"symbol": "MSFT", "side": "BUY", "quantity": 1, "price": "1"}
            )
            latencies.append(time.perf_counter() - sent)
            assert response.status_code == 201, response.text
            if held:
                held = "websocket_clients 1.0" in (await http.get("/metrics")).text
                held_for = time.perf_counter() - started
            await asyncio.sleep(0.05)
        return held_for, latencies


def test_client_that_stops_reading_is_cut_off_while_trading_goes_on(small_queue_server: ServerProcess) -> None:
    trader = Trader(small_queue_server, "flow")
    try:
        for level in range(DEEP_BOOK_LEVELS):
            trader.order("AAPL", "BUY", 1, f"{50 + level / 100:.2f}")
            trader.order("AAPL", "SELL", 1, f"{150 + level / 100:.2f}")
        held_for, latencies = asyncio.run(_slow_consumer(small_queue_server, trader.api_key))
    finally:
        trader.close()

    assert held_for < 30, "the server kept the session of a client that never reads"
    assert len(latencies) >= REST_PROBES
    assert max(latencies) < 1.0, "REST orders slowed down behind a slow consumer"
    assert "websocket client of account None cut off" in small_queue_server.log()
