"""AmendOrder: cancel-replace in place. Only a smaller quantity at the same price keeps time priority."""

from __future__ import annotations

import pytest

from hft.core import rejects
from hft.domain.events import (
    BookLevelChanged,
    OrderRejected,
    OrderReplaced,
    StopTriggered,
    TradeExecuted,
)
from hft.domain.orders import BUY, SELL, STOP, STOP_LIMIT
from hft.testing.venue import AAPL, ALICE, BOB, CAROL, Venue


def _trade_at(venue: Venue, price: int, first_id: int) -> None:
    venue.submit(first_id, SELL, 1, price, account=BOB)
    assert venue.one(venue.submit(first_id + 1, BUY, 1, price, account=CAROL), TradeExecuted).price == price


def test_smaller_quantity_at_the_same_price_keeps_time_priority(venue: Venue) -> None:
    venue.submit(1, BUY, 10, 10_000, account=ALICE)
    venue.submit(2, BUY, 10, 10_000, account=BOB)
    view = venue.order(1)
    assert view is not None
    priority = view.priority

    events = venue.amend(1, 6, account=ALICE)

    assert venue.kinds(events) == ["OrderReplaced", "BookLevelChanged"]
    venue.expect(
        events[0],
        OrderReplaced,
        order_id=1,
        account=ALICE,
        symbol=AAPL,
        price=10_000,
        stop_price=0,
        quantity=6,
        leaves=6,
        priority_kept=True,
    )
    venue.expect(events[1], BookLevelChanged, side=BUY, price=10_000, quantity=16, order_count=2)
    assert venue.queue(BUY, 10_000) == [1, 2]
    amended = venue.order(1)
    assert amended is not None
    assert (amended.quantity, amended.leaves, amended.visible, amended.priority) == (6, 6, 6, priority)
    trade = venue.one(venue.submit(3, SELL, 6, 10_000, account=CAROL), TradeExecuted)
    assert trade.maker_order_id == 1


def test_smaller_quantity_of_a_partly_filled_order_keeps_what_was_filled(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)
    venue.submit(2, BUY, 4, 10_000, account=BOB)

    events = venue.amend(1, 7, account=ALICE)

    venue.expect(events[0], OrderReplaced, quantity=7, leaves=3, priority_kept=True)
    venue.expect(events[1], BookLevelChanged, side=SELL, price=10_000, quantity=3, order_count=1)
    view = venue.order(1)
    assert view is not None
    assert (view.quantity, view.filled, view.leaves) == (7, 4, 3)


def test_larger_quantity_at_the_same_price_goes_to_the_back_of_the_level(venue: Venue) -> None:
    venue.submit(1, BUY, 10, 10_000, account=ALICE)
    venue.submit(2, BUY, 10, 10_000, account=BOB)

    events = venue.amend(1, 15, account=ALICE)

    assert venue.kinds(events) == ["BookLevelChanged", "OrderReplaced", "BookLevelChanged"]
    venue.expect(events[0], BookLevelChanged, side=BUY, price=10_000, quantity=10, order_count=1)
    venue.expect(events[1], OrderReplaced, order_id=1, price=10_000, quantity=15, leaves=15, priority_kept=False)
    venue.expect(events[2], BookLevelChanged, side=BUY, price=10_000, quantity=25, order_count=2)
    assert venue.queue(BUY, 10_000) == [2, 1]
    first, second = venue.order(1), venue.order(2)
    assert first is not None
    assert second is not None
    assert first.priority > second.priority


def test_new_price_moves_the_order_to_the_back_of_the_new_level(venue: Venue) -> None:
    venue.submit(1, BUY, 10, 10_000, account=ALICE)
    venue.submit(2, BUY, 10, 9_900, account=BOB)

    events = venue.amend(1, 10, price=9_900, account=ALICE)

    assert venue.kinds(events) == ["BookLevelChanged", "OrderReplaced", "BookLevelChanged"]
    venue.expect(events[0], BookLevelChanged, side=BUY, price=10_000, quantity=0, order_count=0)
    venue.expect(events[1], OrderReplaced, price=9_900, quantity=10, leaves=10, priority_kept=False)
    venue.expect(events[2], BookLevelChanged, side=BUY, price=9_900, quantity=20, order_count=2)
    assert venue.bids() == [(9_900, 20, 2)]
    assert venue.queue(BUY, 9_900) == [2, 1]


def test_new_price_with_a_smaller_quantity_still_loses_priority(venue: Venue) -> None:
    venue.submit(1, BUY, 10, 10_000, account=ALICE)
    venue.submit(2, BUY, 10, 9_900, account=BOB)

    events = venue.amend(1, 5, price=9_900, account=ALICE)

    venue.expect(events[1], OrderReplaced, price=9_900, quantity=5, leaves=5, priority_kept=False)
    assert venue.queue(BUY, 9_900) == [2, 1]


def test_moving_away_and_back_does_not_restore_priority(venue: Venue) -> None:
    venue.submit(1, BUY, 10, 10_000, account=ALICE)
    venue.submit(2, BUY, 10, 10_000, account=BOB)
    venue.amend(1, 10, price=9_900, account=ALICE)

    venue.amend(1, 10, price=10_000, account=ALICE)

    assert venue.queue(BUY, 10_000) == [2, 1]


def test_amend_that_crosses_trades_at_once_at_the_resting_price(venue: Venue) -> None:
    venue.submit(1, SELL, 5, 10_100, account=BOB)
    venue.submit(2, BUY, 10, 10_000, account=ALICE)

    events = venue.amend(2, 10, price=10_200, account=ALICE)

    assert venue.kinds(events) == [
        "BookLevelChanged",
        "OrderReplaced",
        "TradeExecuted",
        "BookLevelChanged",
        "BookLevelChanged",
    ]
    venue.expect(events[0], BookLevelChanged, side=BUY, price=10_000, quantity=0, order_count=0)
    venue.expect(events[1], OrderReplaced, order_id=2, price=10_200, quantity=10, leaves=10, priority_kept=False)
    venue.expect(
        events[2],
        TradeExecuted,
        price=10_100,
        quantity=5,
        aggressor_side=BUY,
        taker_order_id=2,
        taker_leaves=5,
        maker_order_id=1,
        maker_leaves=0,
    )
    venue.expect(events[3], BookLevelChanged, side=SELL, price=10_100, quantity=0, order_count=0)
    venue.expect(events[4], BookLevelChanged, side=BUY, price=10_200, quantity=5, order_count=1)
    view = venue.order(2)
    assert view is not None
    assert (view.price, view.filled, view.leaves) == (10_200, 5, 5)


def test_amend_that_crosses_and_fills_completely_leaves_no_order(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_100, account=BOB)
    venue.submit(2, BUY, 10, 10_000, account=ALICE)

    venue.amend(2, 10, price=10_100, account=ALICE)

    assert venue.order(2) is None
    assert (venue.bids(), venue.asks()) == ([], [])


def test_repricing_a_partly_filled_order_keeps_the_filled_part_in_the_total(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)
    venue.submit(2, BUY, 4, 10_000, account=BOB)

    events = venue.amend(1, 10, price=10_100, account=ALICE)

    venue.expect(events[1], OrderReplaced, price=10_100, quantity=10, leaves=6, priority_kept=False)
    assert venue.asks() == [(10_100, 6, 1)]


def test_an_amend_that_trades_triggers_waiting_stops(venue: Venue) -> None:
    venue.submit(1, SELL, 1, 10_000, account=BOB)
    venue.submit(2, SELL, 5, 10_100, account=BOB)
    venue.submit(3, BUY, 3, order_type=STOP, stop_price=10_000, account=ALICE)
    venue.submit(4, BUY, 1, 9_000, account=CAROL)

    events = venue.amend(4, 1, price=10_000, account=CAROL)

    assert venue.kinds(events) == [
        "BookLevelChanged",
        "OrderReplaced",
        "TradeExecuted",
        "BookLevelChanged",
        "StopTriggered",
        "TradeExecuted",
        "BookLevelChanged",
    ]
    venue.expect(events[4], StopTriggered, order_id=3, trigger_price=10_000)
    venue.expect(events[5], TradeExecuted, taker_order_id=3, price=10_100, quantity=3)


# -- refused amends ------------------------------------------------------------------


@pytest.mark.parametrize("quantity", [4, 3])
def test_amend_to_no_more_than_the_filled_quantity_is_refused(venue: Venue, quantity: int) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)
    venue.submit(2, BUY, 4, 10_000, account=BOB)
    before = venue.snapshot()

    events = venue.amend(1, quantity, account=ALICE)

    assert venue.kinds(events) == ["OrderRejected"]
    venue.expect(events[0], OrderRejected, order_id=1, account=ALICE, code=rejects.AMEND_BELOW_FILLED)
    assert venue.snapshot() == before


@pytest.mark.parametrize("price", [0, 10_000])
def test_amend_that_changes_nothing_is_refused(venue: Venue, price: int) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)
    before = venue.snapshot()

    events = venue.amend(1, 10, price=price, account=ALICE)

    assert venue.kinds(events) == ["OrderRejected"]
    venue.expect(events[0], OrderRejected, order_id=1, code=rejects.AMEND_CHANGES_NOTHING)
    assert venue.snapshot() == before


def test_amend_of_another_accounts_order_is_refused_as_unknown(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)
    before = venue.snapshot()

    events = venue.amend(1, 5, account=BOB)

    venue.expect(events[0], OrderRejected, order_id=1, account=BOB, code=rejects.UNKNOWN_ORDER)
    assert venue.snapshot() == before


def test_a_resting_order_has_no_stop_price_to_amend(venue: Venue) -> None:
    venue.submit(1, BUY, 10, 10_000, account=ALICE)

    events = venue.amend(1, 10, stop_price=10_500, account=ALICE)

    venue.expect(events[0], OrderRejected, code=rejects.INVALID_STOP_PRICE)


def test_a_stop_order_has_no_limit_price_to_amend(venue: Venue) -> None:
    venue.submit(1, BUY, 10, order_type=STOP, stop_price=10_000, account=ALICE)

    events = venue.amend(1, 10, price=10_500, account=ALICE)

    venue.expect(events[0], OrderRejected, code=rejects.INVALID_PRICE)


# -- waiting stops ----------------------------------------------------------------------


def test_amending_a_waiting_stops_stop_price_moves_its_trigger(venue: Venue) -> None:
    venue.submit(1, BUY, 2, order_type=STOP, stop_price=10_000, account=ALICE)

    events = venue.amend(1, 2, stop_price=10_100, account=ALICE)

    assert venue.kinds(events) == ["OrderReplaced"]
    venue.expect(
        events[0],
        OrderReplaced,
        order_id=1,
        price=0,
        stop_price=10_100,
        quantity=2,
        leaves=2,
        priority_kept=False,
    )
    _trade_at(venue, 10_000, 2)
    view = venue.order(1)
    assert view is not None
    assert (view.status, view.stop_price) == ("WAITING_TRIGGER", 10_100)
    venue.submit(4, SELL, 5, 10_200, account=BOB)
    venue.submit(5, SELL, 1, 10_100, account=BOB)
    events = venue.submit(6, BUY, 1, 10_100, account=CAROL)
    venue.expect(venue.one(events, StopTriggered), StopTriggered, order_id=1, trigger_price=10_100)


def test_amending_a_stop_price_to_one_already_reached_triggers_it_at_once(venue: Venue) -> None:
    _trade_at(venue, 10_000, 1)
    venue.submit(3, SELL, 5, 10_050, account=BOB)
    venue.submit(4, BUY, 2, order_type=STOP, stop_price=10_500, account=ALICE)

    events = venue.amend(4, 2, stop_price=9_900, account=ALICE)

    assert venue.kinds(events) == ["OrderReplaced", "StopTriggered", "TradeExecuted", "BookLevelChanged"]
    venue.expect(events[0], OrderReplaced, stop_price=9_900, priority_kept=False)
    venue.expect(events[1], StopTriggered, order_id=4, trigger_price=10_000)
    venue.expect(events[2], TradeExecuted, taker_order_id=4, price=10_050, quantity=2)
    assert venue.order(4) is None


def test_amending_a_stop_limits_limit_price_applies_once_it_triggers(venue: Venue) -> None:
    venue.submit(1, BUY, 2, 9_000, order_type=STOP_LIMIT, stop_price=10_000, account=ALICE)

    events = venue.amend(1, 2, price=9_500, account=ALICE)

    venue.expect(events[0], OrderReplaced, price=9_500, stop_price=10_000, priority_kept=False)
    _trade_at(venue, 10_000, 2)
    assert venue.bids() == [(9_500, 2, 1)]


def test_smaller_waiting_stop_keeps_its_turn_among_stops_at_the_same_price(venue: Venue) -> None:
    venue.submit(1, BUY, 5, 5_000, order_type=STOP_LIMIT, stop_price=10_000, account=ALICE)
    venue.submit(2, BUY, 5, 5_000, order_type=STOP_LIMIT, stop_price=10_000, account=ALICE)

    events = venue.amend(1, 3, account=ALICE)
    venue.expect(events[0], OrderReplaced, quantity=3, leaves=3, priority_kept=True)
    _trade_at(venue, 10_000, 3)

    assert venue.queue(BUY, 5_000) == [1, 2]


def test_larger_waiting_stop_loses_its_turn_among_stops_at_the_same_price(venue: Venue) -> None:
    venue.submit(1, BUY, 5, 5_000, order_type=STOP_LIMIT, stop_price=10_000, account=ALICE)
    venue.submit(2, BUY, 5, 5_000, order_type=STOP_LIMIT, stop_price=10_000, account=ALICE)

    events = venue.amend(1, 8, account=ALICE)
    venue.expect(events[0], OrderReplaced, quantity=8, leaves=8, priority_kept=False)
    _trade_at(venue, 10_000, 3)

    assert venue.queue(BUY, 5_000) == [2, 1]


def test_a_triggered_stop_limit_resting_in_the_book_amends_like_a_limit(venue: Venue) -> None:
    venue.submit(1, BUY, 5, 9_000, order_type=STOP_LIMIT, stop_price=10_000, account=ALICE)
    _trade_at(venue, 10_000, 2)

    events = venue.amend(1, 5, price=9_100, account=ALICE)
    refused = venue.amend(1, 5, stop_price=11_000, account=ALICE)

    venue.expect(events[1], OrderReplaced, price=9_100, stop_price=10_000, priority_kept=False)
    assert venue.bids() == [(9_100, 5, 1)]
    venue.expect(refused[0], OrderRejected, code=rejects.INVALID_STOP_PRICE)
