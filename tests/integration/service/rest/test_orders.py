"""The order API over real HTTP: submit every order type, query, cancel, amend, mass cancel, executions, positions."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tests.integration.service.rest.clients import (
    ORDER_FIELDS,
    PLAIN_DECIMAL,
    Trader,
    Venue,
    amount,
    expect,
    expect_error,
)

DESIGN_DOCUMENT_BODY = (
    b'{"client_order_id": "TEST001", "symbol": "AAPL", "side": "BUY", "quantity": 100, '
    b'"price": 150.50, "order_type": "LIMIT"}'
)


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, text
    return moment


def _crossing_pair(venue: Venue) -> tuple[Trader, Trader]:
    return venue.open_account(), venue.open_account()


# -- submit -------------------------------------------------------------------------------------------


def test_design_document_body_is_accepted_on_both_paths_with_every_documented_field(venue: Venue) -> None:
    trader = venue.open_account()
    before = time.time()
    for path, client_order_id in (("/api/order", "TEST001"), ("/api/orders", "TEST002")):
        body = DESIGN_DOCUMENT_BODY.replace(b"TEST001", client_order_id.encode())
        response = trader.http.post(path, content=body, headers={"Content-Type": "application/json"})
        order = expect(response, 201)
        assert set(order) == ORDER_FIELDS
        assert isinstance(order["order_id"], int)
        assert order["order_id"] > 0
        assert order["client_order_id"] == client_order_id
        assert (order["symbol"], order["side"], order["order_type"]) == ("AAPL", "BUY", "LIMIT")
        assert order["time_in_force"] == "GTC"
        assert order["price"] == "150.50"
        assert order["quantity"] == "100"
        assert (order["filled_quantity"], order["leaves_quantity"]) == ("0", "100")
        assert order["status"] == "NEW"
        assert order["avg_fill_price"] is None
        assert order["stop_price"] is None
        assert order["display_quantity"] is None
        assert order["post_only"] is False
        assert order["expire_time"] is None
        assert order["reject_reason"] is None
        assert order["reject_message"] is None
        assert order["cancel_reason"] is None
        created = _moment(order["created_at"])
        assert abs(created.timestamp() - before) < 60
        assert _moment(order["updated_at"]) >= created
        assert trader.order(order["order_id"]) == order
    assert len(trader.orders()) == 2


def test_amounts_are_accepted_as_json_numbers_and_as_json_strings(venue: Venue) -> None:
    trader = venue.open_account()
    as_numbers = trader.http.post(
        "/api/orders",
        content=b'{"symbol": "BTC-USD", "side": "BUY", "quantity": 0.0001, "price": 20000.01}',
        headers={"Content-Type": "application/json"},
    )
    as_strings = trader.submit(symbol="BTC-USD", side="BUY", quantity="0.0001", price="20000.01")
    for response in (as_numbers, as_strings):
        order = expect(response, 201)
        assert order["status"] == "NEW"
        assert amount(order["quantity"]) == Decimal("0.0001")
        assert amount(order["price"]) == Decimal("20000.01")
    eth = trader.place(symbol="ETH-USD", side="SELL", quantity=0.015, price="90000", post_only=True)
    assert (amount(eth["quantity"]), amount(eth["price"])) == (Decimal("0.015"), Decimal(90000))


def test_crossing_order_comes_back_filled_with_its_average_fill_price(venue: Venue) -> None:
    seller, buyer = _crossing_pair(venue)
    seller.limit("AAPL", "SELL", "50", "100.00")
    seller.limit("AAPL", "SELL", "50", "100.02")
    order = buyer.limit("AAPL", "BUY", "100", "100.02")
    assert order["status"] == "FILLED"
    assert (order["filled_quantity"], order["leaves_quantity"]) == ("100", "0")
    assert amount(order["avg_fill_price"]) == Decimal("100.01")
    assert buyer.order(order["order_id"])["status"] == "FILLED"
    assert venue.book("AAPL")["asks"] == []


def test_amounts_in_answers_are_plain_decimals_never_exponent_notation(venue: Venue) -> None:
    seller, buyer = _crossing_pair(venue)
    limits = {"max_order_quantity": 1000, "max_order_notional": 1000000, "max_position": 1000}
    expect(venue.admin.put(f"/api/admin/accounts/{buyer.account_id}/risk-limits", json=limits), 200)
    seller.limit("MSFT", "SELL", "100", "150.00")
    order = buyer.limit("MSFT", "BUY", "100", "150.00")
    texts: dict[str, Any] = {
        "order.avg_fill_price": order["avg_fill_price"],
        "order.price": order["price"],
        "order.quantity": order["quantity"],
    }
    for key, value in buyer.account().items():
        if isinstance(value, str) and key not in ("name", "state"):
            texts[f"account.{key}"] = value
    for key, value in buyer.account()["risk_limits"].items():
        texts[f"account.risk_limits.{key}"] = str(value)
    for key, value in buyer.position("MSFT").items():
        if key != "symbol":
            texts[f"position.{key}"] = value
    execution = buyer.executions()[0]
    texts.update({"execution.price": execution["price"], "execution.fee": execution["fee"]})
    bad = {key: value for key, value in texts.items() if value is not None and not PLAIN_DECIMAL.match(value)}
    assert not bad, f"amounts in exponent notation: {bad}"


def test_partial_fill_leaves_the_rest_working(venue: Venue) -> None:
    seller, buyer = _crossing_pair(venue)
    seller.limit("AAPL", "SELL", "30", "101.00")
    order = buyer.limit("AAPL", "BUY", "100", "101.00")
    assert order["status"] == "PARTIALLY_FILLED"
    assert (order["filled_quantity"], order["leaves_quantity"]) == ("30", "70")
    assert amount(order["avg_fill_price"]) == Decimal("101")
    assert buyer.order_ids(open="true") == [order["order_id"]]
    assert venue.book("AAPL")["bids"][0] == ["101.00", "70"]


def test_ioc_remainder_is_canceled(venue: Venue) -> None:
    seller, buyer = _crossing_pair(venue)
    seller.limit("AAPL", "SELL", "30", "102.00")
    order = buyer.limit("AAPL", "BUY", "100", "102.00", time_in_force="IOC")
    assert order["status"] == "CANCELED"
    assert order["cancel_reason"] == "IOC_REMAINDER"
    assert (order["filled_quantity"], order["leaves_quantity"]) == ("30", "0")
    assert venue.book("AAPL")["bids"] == []


def test_fok_that_cannot_fill_entirely_trades_nothing(venue: Venue) -> None:
    seller, buyer = _crossing_pair(venue)
    resting = seller.limit("AAPL", "SELL", "30", "103.00")
    order = buyer.limit("AAPL", "BUY", "100", "103.00", time_in_force="FOK")
    assert order["status"] == "CANCELED"
    assert order["cancel_reason"] == "FOK_NOT_FILLED"
    assert order["filled_quantity"] == "0"
    assert seller.order(resting["order_id"])["leaves_quantity"] == "30"
    assert buyer.executions() == []
    filled = buyer.limit("AAPL", "BUY", "30", "103.00", time_in_force="FOK")
    assert filled["status"] == "FILLED"


def test_market_order_takes_what_there_is_and_cancels_the_remainder(venue: Venue) -> None:
    seller, buyer = _crossing_pair(venue)
    seller.limit("GOOGL", "SELL", "10", "100.00")
    seller.limit("GOOGL", "SELL", "10", "101.00")
    order = buyer.place(symbol="GOOGL", side="BUY", quantity="25", order_type="MARKET", time_in_force="IOC")
    assert order["price"] is None
    assert order["status"] == "CANCELED"
    assert order["cancel_reason"] == "MARKET_REMAINDER"
    assert order["filled_quantity"] == "20"
    assert amount(order["avg_fill_price"]) == Decimal("100.5")


def test_stop_and_stop_limit_wait_then_trigger_on_a_trade_at_their_stop_price(venue: Venue) -> None:
    seller, buyer, trigger = venue.open_account(), venue.open_account(), venue.open_account()
    seller.limit("NVDA", "SELL", "1", "200.00")
    trigger.limit("NVDA", "BUY", "1", "200.00")  # the last trade is now 200.00
    stop = buyer.place(symbol="NVDA", side="BUY", quantity="5", order_type="STOP", stop_price="201.00")
    stop_limit = buyer.place(
        symbol="NVDA", side="BUY", quantity="5", order_type="STOP_LIMIT", stop_price="201.00", price="202.00"
    )
    for order in (stop, stop_limit):
        assert order["status"] == "NEW"
        assert order["stop_price"] == "201.00"
        assert order["filled_quantity"] == "0"
    assert stop["price"] is None
    assert stop_limit["price"] == "202.00"
    assert buyer.order_ids(open="true") == [stop_limit["order_id"], stop["order_id"]]
    seller.limit("NVDA", "SELL", "20", "201.00")
    assert buyer.order(stop["order_id"])["status"] == "NEW", "no trade at 201.00 yet"
    trigger.limit("NVDA", "BUY", "1", "201.00")  # a trade at the stop price triggers both
    for order_id in (stop["order_id"], stop_limit["order_id"]):
        triggered = buyer.order(order_id)
        assert triggered["status"] == "FILLED", triggered
        assert amount(triggered["avg_fill_price"]) == Decimal("201")
    assert sum(amount(execution["quantity"]) or 0 for execution in buyer.executions()) == 10


def test_post_only_order_that_would_take_is_answered_201_rejected(venue: Venue) -> None:
    seller, buyer = _crossing_pair(venue)
    seller.limit("AAPL", "SELL", "10", "104.00")
    response = buyer.submit(symbol="AAPL", side="BUY", quantity="10", price="104.00", post_only=True)
    order = expect(response, 201)
    assert order["status"] == "REJECTED"
    assert order["reject_reason"] == "POST_ONLY_WOULD_TAKE"
    assert order["reject_message"]
    assert order["filled_quantity"] == "0"
    assert buyer.executions() == []
    maker = buyer.limit("AAPL", "BUY", "10", "103.99", post_only=True)
    assert (maker["status"], maker["post_only"]) == ("NEW", True)


def test_iceberg_shows_only_its_display_quantity_in_the_book(venue: Venue) -> None:
    seller, buyer = _crossing_pair(venue)
    iceberg = seller.limit("AMZN", "SELL", "100", "120.00", display_quantity="10")
    assert iceberg["display_quantity"] == "10"
    assert iceberg["quantity"] == "100"
    assert venue.book("AMZN")["asks"] == [["120.00", "10"]]
    taken = buyer.limit("AMZN", "BUY", "15", "120.00")
    assert taken["status"] == "FILLED"
    remaining = seller.order(iceberg["order_id"])
    assert (remaining["status"], remaining["leaves_quantity"]) == ("PARTIALLY_FILLED", "85")
    asks = venue.book("AMZN")["asks"]
    assert len(asks) == 1
    assert asks[0][0] == "120.00"
    assert 0 < Decimal(asks[0][1]) <= 10


def test_gtd_order_expires_at_its_expire_time(venue: Venue) -> None:
    trader, other = venue.open_account(), venue.open_account()
    expire = datetime.now(UTC) + timedelta(seconds=1)
    text = expire.isoformat().replace("+00:00", "Z")
    order = trader.limit("TSLA", "BUY", "5", "50.00", time_in_force="GTD", expire_time=text)
    assert (order["status"], order["time_in_force"]) == ("NEW", "GTD")
    assert abs((_moment(order["expire_time"]) - expire).total_seconds()) < 0.001
    time.sleep(max(0.0, (expire - datetime.now(UTC)).total_seconds()) + 0.3)
    other.limit("SPY", "BUY", "1", "1.00")  # time moves for the engine with the next command
    expired = trader.order(order["order_id"])
    assert expired["status"] == "EXPIRED"
    assert expired["cancel_reason"] == "EXPIRED"
    assert expired["leaves_quantity"] == "0"
    assert trader.order_ids(open="true") == []
    assert trader.order_ids(status="EXPIRED") == [order["order_id"]]


def test_gtd_order_without_expire_time_and_expire_time_without_gtd_are_refused(venue: Venue) -> None:
    trader = venue.open_account()
    expect_error(trader.submit(symbol="TSLA", side="BUY", quantity="5", price="50.00", time_in_force="GTD"), 422)
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    refused = trader.submit(symbol="TSLA", side="BUY", quantity="5", price="50.00", expire_time=later)
    expect_error(refused, 422, "INVALID_EXPIRE_TIME")
    assert trader.orders() == []


def test_day_order_rests_until_the_session_ends(venue: Venue) -> None:
    trader = venue.open_account()
    order = trader.limit("TSLA", "SELL", "5", "500.00", time_in_force="DAY")
    assert (order["status"], order["time_in_force"]) == ("NEW", "DAY")
    assert trader.order_ids(open="true") == [order["order_id"]]


# -- risk -----------------------------------------------------------------------------------------------


def test_order_over_the_accounts_max_order_quantity_is_answered_201_rejected(venue: Venue) -> None:
    trader = venue.open_account()
    limits = expect(
        venue.admin.put(f"/api/admin/accounts/{trader.account_id}/risk-limits", json={"max_order_quantity": 50}), 200
    )
    assert amount(limits["max_order_quantity"]) == 50
    assert amount(trader.account()["risk_limits"]["max_order_quantity"]) == 50
    order = expect(trader.submit(symbol="SPY", side="BUY", quantity="51", price="10.00"), 201)
    assert order["status"] == "REJECTED"
    assert order["reject_reason"] == "MAX_ORDER_QUANTITY"
    assert order["reject_message"]
    assert trader.limit("SPY", "BUY", "50", "10.00")["status"] == "NEW"
    assert trader.order_ids(status="REJECTED") == [order["order_id"]]


def test_order_beyond_buying_power_is_answered_201_rejected(venue: Venue) -> None:
    trader = venue.open_account(cash="1000")
    order = expect(trader.submit(symbol="SPY", side="BUY", quantity="100", price="150.00"), 201)
    assert order["status"] == "REJECTED"
    assert order["reject_reason"] == "INSUFFICIENT_BUYING_POWER"
    assert trader.account()["open_orders"] == 0
    assert trader.limit("SPY", "BUY", "6", "150.00")["status"] == "NEW"


# -- client order ids ---------------------------------------------------------------------------------


def test_repeated_client_order_id_is_409_and_creates_nothing(venue: Venue) -> None:
    trader, other = venue.open_account(), venue.open_account()
    first = trader.limit("AAPL", "BUY", "10", "90.00", client_order_id="DUP-1")
    response = trader.submit(symbol="AAPL", side="BUY", quantity="20", price="91.00", client_order_id="DUP-1")
    error = expect_error(response, 409, "DUPLICATE_CLIENT_ORDER_ID")
    assert str(first["order_id"]) in error["message"]
    assert trader.order_ids() == [first["order_id"]]
    assert expect(trader.http.get("/api/orders/by-client-id/DUP-1"), 200) == trader.order(first["order_id"])
    assert venue.book("AAPL")["bids"] == [["90.00", "10"]]
    # Client order ids belong to their account: another account may use the same one.
    assert other.limit("AAPL", "BUY", "1", "89.00", client_order_id="DUP-1")["status"] == "NEW"


def test_client_order_id_of_a_rejected_order_finds_it_by_client_id(venue: Venue) -> None:
    trader = venue.open_account(cash="10")
    order = trader.limit("AAPL", "BUY", "10", "90.00", client_order_id="POOR-1")
    assert order["status"] == "REJECTED"
    assert expect(trader.http.get("/api/orders/by-client-id/POOR-1"), 200)["order_id"] == order["order_id"]


# -- queries ----------------------------------------------------------------------------------------------


def test_list_orders_filters_by_status_symbol_and_open(venue: Venue) -> None:
    trader, seller = venue.open_account(), venue.open_account()
    apple = trader.limit("AAPL", "BUY", "10", "80.00")
    microsoft = trader.limit("MSFT", "BUY", "10", "80.00")
    canceled = trader.limit("AAPL", "BUY", "10", "79.00")
    expect(trader.cancel(canceled["order_id"]), 200)
    seller.limit("SPY", "SELL", "10", "80.00")
    filled = trader.limit("SPY", "BUY", "10", "80.00")
    assert filled["status"] == "FILLED"
    everything = [filled["order_id"], canceled["order_id"], microsoft["order_id"], apple["order_id"]]
    assert trader.order_ids() == everything, "newest first"
    assert trader.order_ids(status="CANCELED") == [canceled["order_id"]]
    assert trader.order_ids(status="FILLED") == [filled["order_id"]]
    assert trader.order_ids(status="NEW") == [microsoft["order_id"], apple["order_id"]]
    assert trader.order_ids(status="REJECTED") == []
    assert trader.order_ids(symbol="AAPL") == [canceled["order_id"], apple["order_id"]]
    assert trader.order_ids(open="true") == [microsoft["order_id"], apple["order_id"]]
    assert trader.order_ids(open="true", symbol="MSFT") == [microsoft["order_id"]]
    assert trader.order_ids(open="false") == everything
    expect_error(trader.http.get("/api/orders", params={"status": "OPEN"}), 422, "INVALID_STATUS")


def test_list_orders_pages_newest_first_with_before_limit_and_next_before(venue: Venue) -> None:
    trader = venue.open_account()
    placed = [trader.limit("SPY", "BUY", "1", f"{60 + index}.00")["order_id"] for index in range(5)]
    newest_first = placed[::-1]
    seen: list[int] = []
    before: int | None = None
    pages = []
    while True:
        params: dict[str, Any] = {"limit": 2} if before is None else {"limit": 2, "before": before}
        page = expect(trader.http.get("/api/orders", params=params), 200)
        pages.append(len(page["orders"]))
        seen.extend(order["order_id"] for order in page["orders"])
        before = page["next_before"]
        if before is None:
            break
        assert before == page["orders"][-1]["order_id"]
    assert seen == newest_first
    assert pages == [2, 2, 1]
    only_open = expect(trader.http.get("/api/orders", params={"open": "true", "limit": 3}), 200)
    assert [order["order_id"] for order in only_open["orders"]] == newest_first[:3]
    assert only_open["next_before"] == newest_first[2]
    rest = expect(trader.http.get("/api/orders", params={"open": "true", "before": only_open["next_before"]}), 200)
    assert [order["order_id"] for order in rest["orders"]] == newest_first[3:]


def test_get_order_by_id_and_by_client_order_id_agree(venue: Venue) -> None:
    trader = venue.open_account()
    order = trader.limit("AAPL", "BUY", "7", "70.00", client_order_id="FIND-ME.1")
    assert trader.order(order["order_id"]) == order
    assert expect(trader.http.get("/api/orders/by-client-id/FIND-ME.1"), 200) == order
    expect_error(trader.http.get("/api/orders/by-client-id/NOT-THERE"), 404, "NOT_FOUND")
    expect_error(trader.http.get("/api/orders/999999999"), 404, "NOT_FOUND")


# -- cancel -----------------------------------------------------------------------------------------------


def test_cancel_answers_the_canceled_order_and_a_second_cancel_is_409(venue: Venue) -> None:
    trader = venue.open_account()
    order = trader.limit("AAPL", "BUY", "10", "71.00")
    canceled = expect(trader.cancel(order["order_id"]), 200)
    assert canceled["order_id"] == order["order_id"]
    assert canceled["status"] == "CANCELED"
    assert canceled["cancel_reason"] == "USER"
    assert canceled["leaves_quantity"] == "0"
    assert trader.order(order["order_id"]) == canceled
    again = expect_error(trader.cancel(order["order_id"]), 409)
    assert "CANCELED" in again["message"]
    assert venue.book("AAPL")["bids"] == []


def test_cancel_of_a_filled_order_is_409(venue: Venue) -> None:
    seller, buyer = _crossing_pair(venue)
    seller.limit("AAPL", "SELL", "10", "105.00")
    filled = buyer.limit("AAPL", "BUY", "10", "105.00")
    expect_error(buyer.cancel(filled["order_id"]), 409)
    assert buyer.order(filled["order_id"])["status"] == "FILLED"


# -- amend ------------------------------------------------------------------------------------------------


def test_amend_price_only_moves_the_order(venue: Venue) -> None:
    trader = venue.open_account()
    order = trader.limit("MSFT", "BUY", "10", "90.00")
    amended = expect(trader.amend(order["order_id"], price="91.00"), 200)
    assert (amended["price"], amended["quantity"], amended["status"]) == ("91.00", "10", "NEW")
    assert venue.book("MSFT")["bids"] == [["91.00", "10"]]


def test_amend_quantity_only_and_price_with_quantity(venue: Venue) -> None:
    trader = venue.open_account()
    order = trader.limit("MSFT", "BUY", "10", "90.00")
    smaller = expect(trader.amend(order["order_id"], quantity="6"), 200)
    assert (smaller["price"], smaller["quantity"], smaller["leaves_quantity"]) == ("90.00", "6", "6")
    both = expect(trader.amend(order["order_id"], quantity=8, price=89.5), 200)
    assert (both["price"], both["quantity"]) == ("89.50", "8")
    assert trader.order(order["order_id"]) == both
    assert venue.book("MSFT")["bids"] == [["89.50", "8"]]


def test_amend_of_a_waiting_stop_price_only(venue: Venue) -> None:
    trader = venue.open_account()
    stop = trader.place(symbol="MSFT", side="BUY", quantity="5", order_type="STOP", stop_price="900.00")
    amended = expect(trader.amend(stop["order_id"], stop_price="950.00"), 200)
    assert (amended["stop_price"], amended["quantity"], amended["status"]) == ("950.00", "5", "NEW")


def test_reducing_quantity_keeps_time_priority_and_increasing_loses_it(venue: Venue) -> None:
    first, second, buyer = venue.open_account(), venue.open_account(), venue.open_account()
    early = first.limit("GOOGL", "SELL", "10", "300.00")
    late = second.limit("GOOGL", "SELL", "10", "300.00")
    expect(first.amend(early["order_id"], quantity="5"), 200)
    buyer.limit("GOOGL", "BUY", "5", "300.00")
    assert first.order(early["order_id"])["status"] == "FILLED", "the reduced order kept its place"
    assert second.order(late["order_id"])["filled_quantity"] == "0"

    head = second.order(late["order_id"])
    queued = first.limit("GOOGL", "SELL", "10", "300.00")
    expect(second.amend(head["order_id"], quantity="20"), 200)  # more quantity: back of the queue
    buyer.limit("GOOGL", "BUY", "10", "300.00")
    assert first.order(queued["order_id"])["status"] == "FILLED", "the increased order lost its place"
    assert second.order(late["order_id"])["filled_quantity"] == "0"


def test_amend_of_a_filled_order_is_409(venue: Venue) -> None:
    seller, buyer = _crossing_pair(venue)
    seller.limit("AAPL", "SELL", "10", "106.00")
    filled = buyer.limit("AAPL", "BUY", "10", "106.00")
    expect_error(buyer.amend(filled["order_id"], price="107.00"), 409)
    expect_error(buyer.amend(filled["order_id"], quantity="20"), 409)
    assert buyer.order(filled["order_id"]) == filled


def test_amend_with_no_fields_is_refused_and_changes_nothing(venue: Venue) -> None:
    trader = venue.open_account()
    order = trader.limit("AAPL", "BUY", "10", "72.00")
    sequence = venue.sequence()
    expect_error(trader.amend(order["order_id"]), 422, "AMEND_CHANGES_NOTHING")
    expect_error(trader.http.patch(f"/api/orders/{order['order_id']}", json={"price": None}), 422)
    assert trader.order(order["order_id"]) == order
    assert venue.sequence() == sequence


def test_amend_below_the_filled_quantity_is_refused(venue: Venue) -> None:
    seller, buyer = _crossing_pair(venue)
    seller.limit("AAPL", "SELL", "30", "107.00")
    order = buyer.limit("AAPL", "BUY", "100", "107.00")
    assert order["filled_quantity"] == "30"
    expect_error(buyer.amend(order["order_id"], quantity="20"), 422, "AMEND_BELOW_FILLED")
    assert buyer.order(order["order_id"])["leaves_quantity"] == "70"


# -- mass cancel -----------------------------------------------------------------------------------------


def test_mass_cancel_with_symbol_and_side_filters(venue: Venue) -> None:
    trader = venue.open_account()
    apple_buy = trader.limit("AAPL", "BUY", "1", "60.00")
    apple_sell = trader.limit("AAPL", "SELL", "1", "600.00")
    microsoft_buy = trader.limit("MSFT", "BUY", "1", "60.00")
    result = trader.cancel_all(symbol="AAPL", side="BUY")
    assert result == {"canceled": 1, "order_ids": [apple_buy["order_id"]]}
    assert trader.order(apple_buy["order_id"])["cancel_reason"] == "MASS_CANCEL"
    assert trader.cancel_all(symbol="MSFT") == {"canceled": 1, "order_ids": [microsoft_buy["order_id"]]}
    assert trader.order_ids(open="true") == [apple_sell["order_id"]]
    assert trader.cancel_all(side="BUY") == {"canceled": 0, "order_ids": []}
    assert trader.cancel_all() == {"canceled": 1, "order_ids": [apple_sell["order_id"]]}
    assert trader.cancel_all() == {"canceled": 0, "order_ids": []}
    assert trader.order_ids(status="CANCELED") == [
        microsoft_buy["order_id"],
        apple_sell["order_id"],
        apple_buy["order_id"],
    ]
    expect_error(trader.http.delete("/api/orders", params={"side": "buy"}), 422, "INVALID_SIDE")
    expect_error(trader.http.delete("/api/orders", params={"symbol": "NOPE"}), 422, "UNKNOWN_SYMBOL")


# -- executions, positions, account ---------------------------------------------------------------------


def test_executions_carry_liquidity_fees_and_every_field(venue: Venue) -> None:
    maker = venue.open_account(maker_fee_bps=1)
    taker = venue.open_account(taker_fee_bps=2)
    resting = maker.limit("SPY", "SELL", "100", "150.50")
    taking = taker.limit("SPY", "BUY", "100", "150.50")
    assert taking["status"] == "FILLED"
    (bought,) = taker.executions()
    (sold,) = maker.executions()
    fields = {
        "execution_id",
        "trade_id",
        "order_id",
        "symbol",
        "side",
        "price",
        "quantity",
        "liquidity",
        "fee",
        "timestamp",
    }
    assert set(bought) == set(sold) == fields
    assert bought["trade_id"] == sold["trade_id"]
    assert bought["execution_id"] != sold["execution_id"]
    assert (bought["order_id"], bought["side"], bought["liquidity"]) == (taking["order_id"], "BUY", "TAKER")
    assert (sold["order_id"], sold["side"], sold["liquidity"]) == (resting["order_id"], "SELL", "MAKER")
    for execution in (bought, sold):
        assert (execution["symbol"], execution["price"], execution["quantity"]) == ("SPY", "150.50", "100")
        _moment(execution["timestamp"])
    assert amount(bought["fee"]) == Decimal("3.01")  # 15 050 x 2 bps
    assert amount(sold["fee"]) == Decimal("1.505")  # 15 050 x 1 bp
    assert amount(taker.account()["fees_paid"]) == Decimal("3.01")
    assert taker.executions(order_id=taking["order_id"]) == [bought]
    assert taker.executions(order_id=resting["order_id"]) == []
    assert taker.executions(symbol="SPY") == [bought]
    assert taker.executions(symbol="AAPL") == []


def test_executions_page_newest_first(venue: Venue) -> None:
    seller, buyer = _crossing_pair(venue)
    seller.limit("SPY", "SELL", "3", "151.00")
    for _ in range(3):
        buyer.limit("SPY", "BUY", "1", "151.00")
    first = expect(buyer.http.get("/api/executions", params={"limit": 2}), 200)
    assert len(first["executions"]) == 2
    assert first["next_before"] == first["executions"][-1]["execution_id"]
    rest = expect(buyer.http.get("/api/executions", params={"limit": 2, "before": first["next_before"]}), 200)
    ids = [execution["execution_id"] for execution in first["executions"] + rest["executions"]]
    assert len(ids) == 3
    assert ids == sorted(ids, reverse=True)
    assert rest["next_before"] is None


def test_position_after_buying_then_selling_higher(venue: Venue) -> None:
    trader, market = venue.open_account(cash="100000"), venue.open_account()
    market.limit("ETH-USD", "SELL", "10", "100.00")
    trader.limit("ETH-USD", "BUY", "10", "100.00")
    bought = trader.position("ETH-USD")
    assert amount(bought["quantity"]) == 10
    assert amount(bought["avg_price"]) == 100
    assert amount(bought["realized_pnl"]) == 0
    assert amount(bought["unrealized_pnl"]) == 0
    assert amount(bought["mark_price"]) == 100
    market.limit("ETH-USD", "BUY", "4", "110.00")
    trader.limit("ETH-USD", "SELL", "4", "110.00")
    position = trader.position("ETH-USD")
    assert amount(position["quantity"]) == 6
    assert amount(position["avg_price"]) == 100
    assert amount(position["realized_pnl"]) == 40  # 4 x (110 - 100)
    assert amount(position["mark_price"]) == 110
    assert amount(position["unrealized_pnl"]) == 60  # 6 x (110 - 100)
    assert amount(position["fees"]) == 0
    assert amount(position["volume"]) == 14
    account = trader.account()
    assert amount(account["cash"]) == 100000 - 1000 + 440
    assert amount(account["realized_pnl"]) == 40
    assert amount(account["unrealized_pnl"]) == 60
    assert amount(account["equity"]) == 100000 + 100
    assert account["positions"] == [position]
    short = market.position("ETH-USD")
    assert amount(short["quantity"]) == -6


def test_account_shows_balances_state_limits_and_open_orders(venue: Venue) -> None:
    trader = venue.open_account(cash="5000", maker_fee_bps=3, taker_fee_bps=4)
    account = trader.account()
    assert account["account_id"] == trader.account_id
    assert account["name"] == trader.name
    assert account["state"] == "ACTIVE"
    assert amount(account["cash"]) == 5000
    assert amount(account["buying_power"]) == 5000
    assert amount(account["equity"]) == 5000
    assert (account["maker_fee_bps"], account["taker_fee_bps"]) == (3, 4)
    assert account["open_orders"] == 0
    assert account["kill_switch"] is False
    assert account["positions"] == []
    assert set(account["risk_limits"]) == {
        "max_order_quantity",
        "max_order_notional",
        "price_collar_bps",
        "max_open_orders",
        "max_position",
        "max_orders_per_second",
    }
    trader.limit("AAPL", "BUY", "10", "50.00")
    after = trader.account()
    assert after["open_orders"] == 1
    assert amount(after["cash"]) == 5000
    assert amount(after["buying_power"]) == 4500, "a working buy holds its notional"
