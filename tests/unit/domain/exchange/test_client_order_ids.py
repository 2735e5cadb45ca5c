"""Client order ids: unique per account, validated, and a record of what became of each order."""

from __future__ import annotations

import pytest
from tests.unit.domain.exchange.harness import AAPL, ALICE, BOB, Market, notional

from hft.core import rejects
from hft.domain.commands import EndSession, MassCancel
from hft.domain.events import (
    CANCEL_REASON_EXPIRED,
    CANCEL_REASON_IOC_REMAINDER,
    CANCEL_REASON_MASS_CANCEL,
    CANCEL_REASON_SELF_TRADE,
    CANCEL_REASON_USER,
    OrderAccepted,
)
from hft.domain.exchange import queries
from hft.domain.exchange.commands import SetKillSwitch
from hft.domain.exchange.exchange import MAX_CLIENT_ORDER_ID_LENGTH
from hft.domain.exchange.orders import CANCELLED, FILLED, NEW, ORDER_STATUS_NAMES, PARTIALLY_FILLED, OrderRecord
from hft.domain.orders import BUY, DAY, GTC, IOC, LIMIT, SELL, STOP_LIMIT, STP_CANCEL_NEWEST, STP_DECREMENT_AND_CANCEL


def _record(market: Market, client_order_id: str, account: int = ALICE) -> OrderRecord:
    record = queries.order_by_client_id(market.exchange, account, client_order_id)
    assert record is not None
    return record


def test_an_accepted_order_is_found_by_its_client_order_id_with_all_its_terms(market: Market) -> None:
    events = market.submit(BUY, 5, 9_000, client_order_id="alice-1")

    accepted = market.one(events, OrderAccepted)
    assert accepted.client_order_id == "alice-1"
    record = _record(market, "alice-1")
    assert (
        record.order_id,
        record.account,
        record.client_order_id,
        record.symbol,
        record.side,
        record.order_type,
        record.time_in_force,
        record.price,
        record.stop_price,
        record.quantity,
        record.ts_accepted,
    ) == (accepted.order_id, ALICE, "alice-1", AAPL, BUY, LIMIT, GTC, 9_000, 0, 5, market.ts)
    assert (record.filled, record.filled_notional, record.status, record.cancel_reason) == (0, 0, NEW, 0)
    assert ORDER_STATUS_NAMES[record.status] == "NEW"


def test_an_order_without_a_client_order_id_has_no_record(market: Market) -> None:
    market.buy(5, 9_000)

    assert market.exchange.client_orders == {}
    assert queries.order_by_client_id(market.exchange, ALICE, "") is None


def test_a_client_order_id_already_used_by_the_account_is_rejected(market: Market) -> None:
    first = market.buy(5, 9_000, client_order_id="dup")

    assert market.rejected(market.submit(BUY, 1, 9_000, client_order_id="dup")) == rejects.DUPLICATE_CLIENT_ORDER_ID
    assert _record(market, "dup").order_id == first


def test_a_client_order_id_stays_used_after_its_order_has_left_the_book(market: Market) -> None:
    order_id = market.buy(5, 9_000, client_order_id="once")
    market.cancel(order_id)

    assert market.rejected(market.submit(BUY, 1, 9_000, client_order_id="once")) == rejects.DUPLICATE_CLIENT_ORDER_ID


def test_the_same_client_order_id_in_another_account_is_another_order(market: Market) -> None:
    alice = market.buy(5, 9_000, client_order_id="shared")
    bob = market.buy(3, 9_000, account=BOB, client_order_id="shared")

    assert _record(market, "shared", ALICE).order_id == alice
    assert _record(market, "shared", BOB).order_id == bob
    assert alice != bob


@pytest.mark.parametrize(
    "client_order_id",
    [
        "x" * (MAX_CLIENT_ORDER_ID_LENGTH + 1),
        "has space",
        "tab\there",
        "new\nline",
        "caf\u00e9",
        "\u2603",
        "nul\x00",
        "del\x7f",
    ],
    ids=["too-long", "space", "tab", "newline", "accent", "snowman", "nul", "del"],
)
def test_an_invalid_client_order_id_is_rejected(market: Market, client_order_id: str) -> None:
    events = market.submit(BUY, 1, 9_000, client_order_id=client_order_id)

    assert market.rejected(events) == rejects.INVALID_CLIENT_ORDER_ID
    assert market.exchange.client_orders == {}


@pytest.mark.parametrize(
    "client_order_id",
    ["x" * MAX_CLIENT_ORDER_ID_LENGTH, "a", "ORD-2024-01-01T00:00:00.000Z#1", "~!@$%^&*()_+={}[]|\\:;'<>,.?/"],
    ids=["longest", "one-char", "timestamp", "punctuation"],
)
def test_printable_ascii_client_order_ids_without_spaces_are_accepted(market: Market, client_order_id: str) -> None:
    order_id = market.buy(1, 9_000, client_order_id=client_order_id)

    assert _record(market, client_order_id).order_id == order_id


def test_a_rejected_orders_client_order_id_is_not_taken_and_may_be_sent_again(market: Market) -> None:
    market.sell(1, 9_000, account=BOB)
    assert market.rejected(market.submit(BUY, 1, 0, client_order_id="retry")) == rejects.INVALID_PRICE
    assert (
        market.rejected(market.submit(BUY, 1, 9_000, post_only=True, client_order_id="retry"))
        == rejects.POST_ONLY_WOULD_TAKE
    )
    assert queries.order_by_client_id(market.exchange, ALICE, "retry") is None

    order_id = market.buy(1, 8_000, client_order_id="retry")

    assert _record(market, "retry").order_id == order_id


def test_the_record_follows_partial_and_complete_fills(market: Market) -> None:
    market.sell(10, 10_000, account=ALICE, client_order_id="ask")

    market.submit(BUY, 3, 10_000, account=BOB)
    record = _record(market, "ask")
    assert (record.filled, record.filled_notional, record.status) == (3, notional(10_000, 3), PARTIALLY_FILLED)

    market.submit(BUY, 7, 10_000, account=BOB)
    assert (record.filled, record.filled_notional, record.status) == (10, notional(10_000, 10), FILLED)
    assert record.cancel_reason == 0


def test_the_record_of_a_taker_adds_up_fills_at_several_prices(market: Market) -> None:
    market.sell(2, 10_000, account=BOB)
    market.sell(2, 10_100, account=BOB)

    market.submit(BUY, 5, 10_100, account=ALICE, client_order_id="sweep")

    record = _record(market, "sweep")
    assert (record.filled, record.status) == (4, PARTIALLY_FILLED)
    assert record.filled_notional == notional(10_000, 2) + notional(10_100, 2)


@pytest.mark.parametrize(
    ("leave", "reason"),
    [("cancel", CANCEL_REASON_USER), ("mass-cancel", CANCEL_REASON_MASS_CANCEL), ("kill", CANCEL_REASON_MASS_CANCEL)],
)
def test_the_record_says_why_an_order_was_cancelled(market: Market, leave: str, reason: int) -> None:
    order_id = market.buy(5, 9_000, client_order_id="gone")
    market.submit(SELL, 2, 9_000, account=BOB)

    if leave == "cancel":
        market.cancel(order_id)
    elif leave == "mass-cancel":
        market.apply(MassCancel(ALICE))
    else:
        market.apply(SetKillSwitch(ALICE, True))

    record = _record(market, "gone")
    assert (record.status, record.cancel_reason, record.filled) == (CANCELLED, reason, 2)


def test_the_record_of_an_ioc_remainder_and_of_an_expired_day_order(market: Market) -> None:
    market.sell(1, 10_000, account=BOB)
    market.submit(BUY, 3, 10_000, time_in_force=IOC, client_order_id="ioc")
    market.buy(3, 9_000, time_in_force=DAY, client_order_id="day")

    market.apply(EndSession())

    ioc, day = _record(market, "ioc"), _record(market, "day")
    assert (ioc.status, ioc.cancel_reason, ioc.filled) == (CANCELLED, CANCEL_REASON_IOC_REMAINDER, 1)
    assert (day.status, day.cancel_reason, day.filled) == (CANCELLED, CANCEL_REASON_EXPIRED, 0)


def test_the_record_of_an_order_cancelled_by_self_trade_prevention(market: Market) -> None:
    market.sell(1, 10_000, account=ALICE)

    market.submit(BUY, 1, 10_000, self_trade_prevention=STP_CANCEL_NEWEST, client_order_id="stp")

    record = _record(market, "stp")
    assert (record.status, record.cancel_reason) == (CANCELLED, CANCEL_REASON_SELF_TRADE)


def test_the_record_follows_amends_of_price_and_quantity(market: Market) -> None:
    order_id = market.buy(5, 9_000, client_order_id="amended")

    market.amend(order_id, 8, 9_100)
    record = _record(market, "amended")
    assert (record.quantity, record.price, record.status) == (8, 9_100, NEW)

    market.amend(order_id, 6)
    assert (record.quantity, record.price) == (6, 9_100)


def test_the_record_follows_an_amend_of_a_waiting_stop(market: Market) -> None:
    market.trade(10_000)
    order_id = market.place(BUY, 2, 10_600, order_type=STOP_LIMIT, stop_price=10_500, client_order_id="stop")

    market.amend(order_id, 3, 10_800, stop_price=10_700)

    record = _record(market, "stop")
    assert (record.quantity, record.price, record.stop_price) == (3, 10_800, 10_700)


def test_a_rejected_amend_leaves_the_record_unchanged(market: Market) -> None:
    order_id = market.buy(5, 9_000, client_order_id="kept")

    assert market.rejected(market.amend(order_id, 5)) == rejects.AMEND_CHANGES_NOTHING

    record = _record(market, "kept")
    assert (record.quantity, record.price, record.status) == (5, 9_000, NEW)


def test_the_record_follows_a_resting_order_reduced_by_self_trade_prevention(market: Market) -> None:
    market.sell(5, 10_000, account=ALICE, client_order_id="rest")

    market.submit(BUY, 2, 10_000, self_trade_prevention=STP_DECREMENT_AND_CANCEL)

    record = _record(market, "rest")
    assert (record.quantity, record.filled, record.status) == (3, 0, NEW)
    assert market.position(ALICE).open_sell == 3
