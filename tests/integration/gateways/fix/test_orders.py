"""The order lifecycle over FIX against QuickFIX, validating every message strictly against FIX 4.4.

Each test uses its own session and symbol; the other side of each trade
comes through the REST API, so fills from any gateway reach FIX.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from tests.integration.gateways.fix.conftest import Venue
from tests.integration.gateways.fix.counterparty import QuickFixClient

NOW = "20260101-00:00:00"


def new_order(
    client: QuickFixClient, client_order_id: str, symbol: str, side: str, quantity: str, **extra: Any
) -> None:
    pairs: list[tuple[int, str | int]] = [(11, client_order_id), (55, symbol), (54, side), (60, NOW), (38, quantity)]
    pairs.append((40, extra.pop("order_type", "2")))
    pairs += [(tag, value) for tag, value in extra.pop("tags", [])]
    client.send("D", *pairs)


def report_for(client_order_id: str, exec_type: str) -> Any:
    return lambda message: (
        message.get(35) == "8" and message.get(11) == client_order_id and message.get(150) == exec_type
    )


def test_an_order_is_accepted_replaced_partly_filled_queried_and_canceled(venue: Venue, quickfix: Any) -> None:
    alice: QuickFixClient = quickfix("ALICE")
    first = alice.client_order_id()
    new_order(alice, first, "AAPL", "1", "100", tags=[(44, "100.00"), (59, "1")])
    accepted = alice.expect(report_for(first, "0"))
    assert (accepted[39], accepted[151], accepted[14], accepted[6], accepted[44]) == ("0", "100", "0", "0", "100.00")
    order_id = accepted[37]

    second = alice.client_order_id()
    alice.send("G", (41, first), (37, order_id), (11, second), (55, "AAPL"), (54, "1"), (60, NOW), (38, "150"),
               (40, "2"), (44, "100.01"))  # fmt: skip
    replaced = alice.expect(report_for(second, "5"))
    assert (replaced[41], replaced[37], replaced[39], replaced[38], replaced[44]) == (
        first,
        order_id,
        "0",
        "150",
        "100.01",
    )

    sold = venue.order("bob", symbol="AAPL", side="SELL", quantity="40", price="100.01", time_in_force="IOC")
    assert sold["status"] == "FILLED"
    fill = alice.expect(report_for(second, "F"))
    assert (fill[39], fill[32], fill[31], fill[14], fill[151], fill[6]) == ("1", "40", "100.01", "40", "110", "100.01")
    executions = venue.rest("alice", "GET", f"/api/executions?order_id={order_id}")["executions"]
    assert [str(execution["execution_id"]) for execution in executions] == [fill[527]]

    alice.send("H", (37, order_id), (11, second), (55, "AAPL"), (54, "1"), (790, "STATUS-1"))
    status = alice.expect(lambda message: message.get(150) == "I")
    assert (status[37], status[11], status[39], status[14], status[151], status[790]) == (
        order_id, second, "1", "40", "110", "STATUS-1"
    )  # fmt: skip

    cancel = alice.client_order_id("C")
    alice.send("F", (41, second), (11, cancel), (55, "AAPL"), (54, "1"), (60, NOW))
    canceled = alice.expect(report_for(cancel, "4"))
    assert (canceled[41], canceled[39], canceled[14], canceled[151]) == (second, "4", "40", "0")
    assert venue.rest("alice", "GET", f"/api/orders/{order_id}")["status"] == "CANCELED"

    again = alice.client_order_id("C")
    alice.send("F", (41, second), (11, again), (55, "AAPL"), (54, "1"), (60, NOW))
    too_late = alice.expect(lambda message: message.get(35) == "9")
    assert (too_late[11], too_late[41], too_late[39], too_late[434], too_late[102]) == (again, second, "4", "1", "0")


def test_a_marketable_order_reports_new_then_its_fills_and_ends_filled(venue: Venue, quickfix: Any) -> None:
    alice: QuickFixClient = quickfix("ALICE")
    venue.order("bob", symbol="MSFT", side="SELL", quantity="30", price="300.00")
    venue.order("bob", symbol="MSFT", side="SELL", quantity="30", price="300.50")
    buy = alice.client_order_id()
    new_order(alice, buy, "MSFT", "1", "50", order_type="1")  # market, IOC by default
    assert alice.expect(report_for(buy, "0"))[39] == "0"
    first = alice.expect(report_for(buy, "F"))
    second = alice.expect(report_for(buy, "F"))
    assert (first[31], first[32], first[39], first[851]) == ("300.00", "30", "1", "2")
    assert (second[31], second[32], second[39], second[14], second[151]) == ("300.50", "20", "2", "50", "0")
    assert second[6] == "300.2"  # (30 x 300.00 + 20 x 300.50) / 50
    venue.rest("bob", "DELETE", "/api/orders?symbol=MSFT")


def test_refusals_come_back_as_rejected_reports_with_fix_reasons(venue: Venue, quickfix: Any) -> None:
    alice: QuickFixClient = quickfix("ALICE")
    unknown = alice.client_order_id()
    new_order(alice, unknown, "NOPE", "1", "1", tags=[(44, "1")])
    assert (report := alice.expect(report_for(unknown, "8")))[103] == "1"
    assert report[39] == "8"

    no_price = alice.client_order_id()
    new_order(alice, no_price, "GOOGL", "1", "1")
    assert "INVALID_PRICE" in alice.expect(report_for(no_price, "8"))[58]

    off_tick = alice.client_order_id()
    new_order(alice, off_tick, "GOOGL", "1", "1", tags=[(44, "100.001")])
    assert "PRICE_OFF_TICK" in alice.expect(report_for(off_tick, "8"))[58]

    working = alice.client_order_id()
    new_order(alice, working, "GOOGL", "1", "1", tags=[(44, "1.00")])
    alice.expect(report_for(working, "0"))
    new_order(alice, working, "GOOGL", "1", "1", tags=[(44, "1.00")])
    assert alice.expect(report_for(working, "8"))[103] == "6"  # duplicate ClOrdID

    broke = alice.client_order_id()
    new_order(alice, broke, "GOOGL", "1", "1000000", tags=[(44, "99999.00")])
    assert alice.expect(report_for(broke, "8"))[103] == "3"  # exceeds a limit: buying power

    cancel = alice.client_order_id("C")
    alice.send("F", (41, "NO-SUCH-ORDER"), (11, cancel), (55, "GOOGL"), (54, "1"), (60, NOW))
    unknown_order = alice.expect(lambda message: message.get(35) == "9")
    assert (unknown_order[102], unknown_order[37], unknown_order[39]) == ("1", "NONE", "8")

    replace = alice.client_order_id("R")
    alice.send("G", (41, working), (11, replace), (55, "GOOGL"), (54, "2"), (60, NOW), (38, "1"), (40, "2"),
               (44, "1.00"))  # fmt: skip
    side_change = alice.expect(lambda message: message.get(35) == "9" and message.get(11) == replace)
    assert (side_change[434], side_change[102]) == ("2", "99")
    venue.rest("alice", "DELETE", "/api/orders?symbol=GOOGL")


def test_pipelined_new_and_cancel_are_answered_in_order(venue: Venue, quickfix: Any) -> None:
    alice: QuickFixClient = quickfix("ALICE")
    orders = [alice.client_order_id() for _ in range(5)]
    for client_order_id in orders:
        new_order(alice, client_order_id, "AMZN", "1", "1", tags=[(44, "10.00")])
        alice.send("F", (41, client_order_id), (11, client_order_id + "-C"), (55, "AMZN"), (54, "1"), (60, NOW))
    for client_order_id in orders:
        alice.expect(report_for(client_order_id + "-C", "4"))
    assert venue.rest("alice", "GET", "/api/orders?symbol=AMZN&open=true")["orders"] == []


def test_mass_cancel_cancels_the_accounts_orders_and_reports_how_many(venue: Venue, quickfix: Any) -> None:
    alice: QuickFixClient = quickfix("ALICE")
    for price in ("5.00", "5.01", "5.02"):
        placed = alice.client_order_id()
        new_order(alice, placed, "NVDA", "1", "2", tags=[(44, price)])
        alice.expect(report_for(placed, "0"))
    venue.order("alice", symbol="NVDA", side="BUY", quantity="1", price="5.03")  # entered over REST: canceled too
    request = alice.client_order_id("M")
    alice.send("q", (11, request), (530, "1"), (55, "NVDA"), (60, NOW))
    report = alice.expect(lambda message: message.get(35) == "r")
    assert (report[11], report[530], report[531], report[533]) == (request, "1", "1", "4")
    canceled = [text for text in alice.drain() if "\x01150=4\x01" in text]
    assert len(canceled) + sum("\x01150=4\x01" in text for text in alice.received[:-1]) >= 4


def test_cancel_on_disconnect_cancels_the_orders_the_session_entered(venue: Venue, quickfix: Any) -> None:
    carol: QuickFixClient = quickfix("CAROL", own_client=True)
    entered = carol.client_order_id()
    new_order(carol, entered, "TSLA", "1", "1", tags=[(44, "20.00")])
    order_id = carol.expect(report_for(entered, "0"))[37]
    kept = venue.order("carol", symbol="TSLA", side="BUY", quantity="1", price="20.00")
    carol.stop()
    deadline = time.monotonic() + 5
    while venue.rest("carol", "GET", f"/api/orders/{order_id}")["status"] != "CANCELED":
        assert time.monotonic() < deadline, "the session's order was not canceled on disconnect"
        time.sleep(0.05)
    assert venue.rest("carol", "GET", f"/api/orders/{kept['order_id']}")["status"] == "NEW"  # another gateway's
    venue.rest("carol", "DELETE", "/api/orders")


def test_unsupported_message_types_get_a_business_reject(venue: Venue, quickfix: Any) -> None:
    alice: QuickFixClient = quickfix("ALICE")
    alice.send("AE", (571, "TR-1"))  # TradeCaptureReport: FIX 4.4, not served here
    reject = alice.expect(lambda message: message.get(35) == "j")
    assert (reject[372], reject[380]) == ("AE", "3")


@pytest.mark.parametrize("symbol", ["SPY"])
def test_market_data_snapshot_then_incremental_refreshes(venue: Venue, quickfix: Any, symbol: str) -> None:
    bob: QuickFixClient = quickfix("BOB")
    venue.order("alice", symbol=symbol, side="BUY", quantity="10", price="400.00")
    bob.send_group(
        "V",
        [(262, "MD-1"), (263, "1"), (264, "0"), (265, "1")],
        [(267, 269, ["0", "1", "2"]), (146, 55, [symbol])],
    )
    snapshot = bob.expect(lambda message: message.get(35) == "W")
    assert (snapshot[262], snapshot[55], snapshot[268], snapshot[269], snapshot[270], snapshot[271]) == (
        "MD-1", symbol, "1", "0", "400.00", "10"
    )  # fmt: skip
    venue.order("dave", symbol=symbol, side="SELL", quantity="5", price="401.00")
    new_level = bob.expect(lambda message: message.get(35) == "X")
    assert (new_level[279], new_level[269], new_level[270], new_level[271], new_level[55]) == (
        "0", "1", "401.00", "5", symbol
    )  # fmt: skip
    venue.order("dave", symbol=symbol, side="SELL", quantity="4", price="400.00", time_in_force="IOC")
    traded = bob.expect(lambda message: message.get(35) == "X")
    text = bob.received[-1]
    assert "\x01279=1\x01269=0\x01" in text, text  # the bid level changed
    assert "\x01279=0\x01269=2\x01" in text, text  # and a trade printed
    assert traded[268] == "2"
    bob.send_group("V", [(262, "MD-1"), (263, "2"), (264, "0")], [(267, 269, ["0"]), (146, 55, [symbol])])
    venue.rest("alice", "DELETE", f"/api/orders?symbol={symbol}")
    venue.rest("dave", "DELETE", f"/api/orders?symbol={symbol}")
    assert not [text for text in bob.drain() if "\x0135=X\x01" in text]


def test_market_data_request_for_an_unknown_symbol_is_refused(venue: Venue, quickfix: Any) -> None:
    bob: QuickFixClient = quickfix("BOB")
    bob.send_group("V", [(262, "MD-2"), (263, "0"), (264, "1")], [(267, 269, ["0"]), (146, 55, ["NOPE"])])
    refused = bob.expect(lambda message: message.get(35) == "Y")
    assert (refused[262], refused[281]) == ("MD-2", "0")


def test_security_list_names_every_instrument(venue: Venue, quickfix: Any) -> None:
    bob: QuickFixClient = quickfix("BOB")
    bob.send("x", (320, "SEC-1"), (559, "4"))
    listed = bob.expect(lambda message: message.get(35) == "y")
    assert (listed[320], listed[560], listed[146]) == ("SEC-1", "0", "9")
    from tests.integration.gateways.fix.counterparty import all_values

    assert "BTC-USD" in all_values(bob.received[-1], 55)
