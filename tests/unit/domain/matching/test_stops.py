"""STOP and STOP_LIMIT orders: they wait for the last trade price, then act as MARKET or LIMIT."""

from __future__ import annotations

from hft.domain.events import (
    CANCEL_REASON_FOK_NOT_FILLED,
    CANCEL_REASON_IOC_REMAINDER,
    CANCEL_REASON_MARKET_REMAINDER,
    CANCEL_REASON_USER,
    BookLevelChanged,
    OrderAccepted,
    OrderCancelled,
    StopTriggered,
    TradeExecuted,
)
from hft.domain.matching.queries import top_of_book
from hft.domain.orders import BUY, FOK, GTC, IOC, SELL, STOP, STOP_LIMIT
from hft.testing.venue import AAPL, ALICE, BOB, CAROL, Venue


def _trade_at(venue: Venue, price: int, first_id: int) -> None:
    """Print one lot at ``price`` between BOB (seller) and CAROL (buyer), leaving the book as it was."""
    venue.submit(first_id, SELL, 1, price, account=BOB)
    events = venue.submit(first_id + 1, BUY, 1, price, account=CAROL)
    assert venue.one(events, TradeExecuted).price == price


def test_stop_waits_unseen_when_nothing_has_traded(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=BOB)

    events = venue.submit(2, BUY, 5, order_type=STOP, stop_price=9_000, account=ALICE)

    assert venue.kinds(events) == ["OrderAccepted"]
    venue.expect(
        events[0], OrderAccepted, order_id=2, order_type=STOP, time_in_force=GTC, price=0, stop_price=9_000, quantity=5
    )
    assert venue.bids() == []
    assert venue.asks() == [(10_000, 10, 1)]
    view = venue.order(2)
    assert view is not None
    assert (view.status, view.leaves, view.stop_price) == ("WAITING_TRIGGER", 5, 9_000)
    assert venue.live(ALICE) == [2]


def test_buy_stop_triggers_when_the_last_trade_reaches_its_stop_and_trades_as_market(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=BOB)
    venue.submit(2, SELL, 10, 10_100, account=BOB)
    venue.submit(3, BUY, 15, order_type=STOP, stop_price=10_000, account=ALICE)

    events = venue.submit(4, BUY, 1, 10_000, account=CAROL)

    assert venue.kinds(events) == [
        "OrderAccepted",
        "TradeExecuted",
        "BookLevelChanged",
        "StopTriggered",
        "TradeExecuted",
        "BookLevelChanged",
        "TradeExecuted",
        "BookLevelChanged",
    ]
    venue.expect(events[3], StopTriggered, order_id=3, account=ALICE, symbol=AAPL, trigger_price=10_000)
    trades = venue.of_type(events, TradeExecuted)
    assert [(t.taker_order_id, t.price, t.quantity, t.taker_leaves, t.aggressor_side) for t in trades] == [
        (4, 10_000, 1, 0, BUY),
        (3, 10_000, 9, 6, BUY),
        (3, 10_100, 6, 0, BUY),
    ]
    assert venue.asks() == [(10_100, 4, 1)]
    assert venue.order(3) is None


def test_buy_stop_does_not_trigger_while_the_last_price_is_below_it(venue: Venue) -> None:
    venue.submit(1, BUY, 5, order_type=STOP, stop_price=10_001, account=ALICE)

    _trade_at(venue, 10_000, 2)

    view = venue.order(1)
    assert view is not None
    assert view.status == "WAITING_TRIGGER"
    assert venue.of_type(venue.events, StopTriggered) == []


def test_sell_stop_triggers_when_the_last_trade_falls_to_its_stop(venue: Venue) -> None:
    venue.submit(1, BUY, 10, 9_900, account=BOB)
    venue.submit(2, SELL, 3, order_type=STOP, stop_price=10_000, account=ALICE)
    _trade_at(venue, 10_001, 3)
    assert venue.order(2) is not None

    events = venue.submit(5, SELL, 1, 10_000, account=BOB)
    assert venue.kinds(events) == ["OrderAccepted", "BookLevelChanged"]  # resting offers do not trigger stops
    events = venue.submit(6, BUY, 1, 10_000, account=CAROL)

    assert venue.kinds(events) == [
        "OrderAccepted",
        "TradeExecuted",
        "BookLevelChanged",
        "StopTriggered",
        "TradeExecuted",
        "BookLevelChanged",
    ]
    venue.expect(events[3], StopTriggered, order_id=2, trigger_price=10_000)
    venue.expect(events[4], TradeExecuted, price=9_900, quantity=3, aggressor_side=SELL, maker_order_id=1)
    assert venue.bids() == [(9_900, 7, 1)]


def test_sell_stop_does_not_trigger_while_the_last_price_is_above_it(venue: Venue) -> None:
    venue.submit(1, SELL, 5, order_type=STOP, stop_price=9_999, account=ALICE)

    _trade_at(venue, 10_000, 2)

    assert venue.of_type(venue.events, StopTriggered) == []
    assert venue.live(ALICE) == [1]


def test_stop_submitted_when_its_price_is_already_reached_triggers_at_once(venue: Venue) -> None:
    _trade_at(venue, 10_000, 1)
    venue.submit(3, SELL, 10, 10_050, account=BOB)

    events = venue.submit(4, BUY, 4, order_type=STOP, stop_price=9_000, account=ALICE)

    assert venue.kinds(events) == ["OrderAccepted", "StopTriggered", "TradeExecuted", "BookLevelChanged"]
    venue.expect(events[1], StopTriggered, order_id=4, trigger_price=10_000)
    venue.expect(events[2], TradeExecuted, price=10_050, quantity=4, taker_order_id=4)


def test_sell_stop_at_exactly_the_last_price_triggers_at_once(venue: Venue) -> None:
    _trade_at(venue, 10_000, 1)

    events = venue.submit(3, SELL, 4, order_type=STOP, stop_price=10_000, account=ALICE)

    assert venue.kinds(events) == ["OrderAccepted", "StopTriggered", "OrderCancelled"]
    venue.expect(events[2], OrderCancelled, reason=CANCEL_REASON_MARKET_REMAINDER, cancelled_quantity=4)


def test_triggered_stop_cancels_what_the_book_cannot_fill(venue: Venue) -> None:
    venue.submit(1, SELL, 2, 10_000, account=BOB)
    venue.submit(2, BUY, 5, order_type=STOP, stop_price=10_000, account=ALICE)

    events = venue.submit(3, BUY, 1, 10_000, account=CAROL)

    assert venue.kinds(events)[-3:] == ["TradeExecuted", "BookLevelChanged", "OrderCancelled"]
    venue.expect(events[-3], TradeExecuted, taker_order_id=2, quantity=1, taker_leaves=4)
    venue.expect(events[-1], OrderCancelled, order_id=2, reason=CANCEL_REASON_MARKET_REMAINDER, cancelled_quantity=4)
    assert venue.live(ALICE) == []


def test_triggered_stop_limit_trades_up_to_its_limit_and_rests_the_rest(venue: Venue) -> None:
    venue.submit(1, SELL, 2, 10_000, account=BOB)
    venue.submit(2, SELL, 5, 10_200, account=BOB)
    venue.submit(3, BUY, 6, 10_100, order_type=STOP_LIMIT, stop_price=10_000, account=ALICE)
    assert venue.bids() == []

    events = venue.submit(4, BUY, 1, 10_000, account=CAROL)

    assert venue.kinds(events)[3:] == ["StopTriggered", "TradeExecuted", "BookLevelChanged", "BookLevelChanged"]
    venue.expect(events[4], TradeExecuted, taker_order_id=3, price=10_000, quantity=1, taker_leaves=5)
    venue.expect(events[6], BookLevelChanged, side=BUY, price=10_100, quantity=5, order_count=1)
    assert venue.bids() == [(10_100, 5, 1)]
    assert venue.asks() == [(10_200, 5, 1)]
    view = venue.order(3)
    assert view is not None
    assert (view.order_type, view.status, view.price, view.filled, view.leaves) == (
        STOP_LIMIT,
        "PARTIALLY_FILLED",
        10_100,
        1,
        5,
    )


def test_triggered_stop_limit_that_cannot_trade_rests_as_a_plain_limit(venue: Venue) -> None:
    venue.submit(1, SELL, 1, 9_000, order_type=STOP_LIMIT, stop_price=9_500, account=ALICE)

    _trade_at(venue, 9_400, 2)

    # Triggered at 9_400, the sell limit at 9_000 finds no bid and joins the asks.
    assert venue.asks() == [(9_000, 1, 1)]
    view = venue.order(1)
    assert view is not None
    assert view.status == "NEW"


def test_stop_limit_ioc_cancels_its_remainder_once_triggered(venue: Venue) -> None:
    venue.submit(1, SELL, 2, 10_000, account=BOB)
    venue.submit(2, BUY, 5, 10_000, order_type=STOP_LIMIT, time_in_force=IOC, stop_price=10_000, account=ALICE)

    events = venue.submit(3, BUY, 1, 10_000, account=CAROL)

    venue.expect(events[-1], OrderCancelled, order_id=2, reason=CANCEL_REASON_IOC_REMAINDER, cancelled_quantity=4)
    assert venue.bids() == []


def test_stop_fok_that_cannot_fill_once_triggered_trades_nothing(venue: Venue) -> None:
    venue.submit(1, SELL, 3, 10_000, account=BOB)
    venue.submit(2, BUY, 5, order_type=STOP, time_in_force=FOK, stop_price=10_000, account=ALICE)

    events = venue.submit(3, BUY, 1, 10_000, account=CAROL)

    assert venue.kinds(events)[3:] == ["StopTriggered", "OrderCancelled"]
    venue.expect(events[-1], OrderCancelled, order_id=2, reason=CANCEL_REASON_FOK_NOT_FILLED, cancelled_quantity=5)
    assert venue.asks() == [(10_000, 2, 1)]


def test_buy_stops_fire_lowest_stop_first_and_oldest_first_at_one_stop(venue: Venue) -> None:
    # Each stop-limit is priced far below the offer, so it rests when it fires and moves no price.
    venue.submit(1, BUY, 1, 5_000, order_type=STOP_LIMIT, stop_price=10_200, account=ALICE)
    venue.submit(2, BUY, 2, 5_000, order_type=STOP_LIMIT, stop_price=10_100, account=ALICE)
    venue.submit(3, BUY, 3, 5_000, order_type=STOP_LIMIT, stop_price=10_100, account=ALICE)
    venue.submit(4, BUY, 4, 5_000, order_type=STOP_LIMIT, stop_price=10_300, account=ALICE)
    venue.submit(5, SELL, 5, 10_200, account=BOB)

    events = venue.submit(6, BUY, 1, 10_200, account=CAROL)

    fired = venue.of_type(events, StopTriggered)
    assert [(s.order_id, s.trigger_price) for s in fired] == [(2, 10_200), (3, 10_200), (1, 10_200)]
    assert venue.kinds(events)[3:] == ["StopTriggered", "BookLevelChanged"] * 3
    assert venue.queue(BUY, 5_000) == [2, 3, 1]
    waiting = venue.order(4)
    assert waiting is not None
    assert waiting.status == "WAITING_TRIGGER"


def test_sell_stops_fire_highest_stop_first_and_oldest_first_at_one_stop(venue: Venue) -> None:
    venue.submit(1, SELL, 1, 20_000, order_type=STOP_LIMIT, stop_price=9_800, account=ALICE)
    venue.submit(2, SELL, 2, 20_000, order_type=STOP_LIMIT, stop_price=9_900, account=ALICE)
    venue.submit(3, SELL, 3, 20_000, order_type=STOP_LIMIT, stop_price=9_900, account=ALICE)
    venue.submit(4, SELL, 4, 20_000, order_type=STOP_LIMIT, stop_price=9_700, account=ALICE)
    venue.submit(5, BUY, 5, 9_800, account=BOB)

    events = venue.submit(6, SELL, 1, 9_800, account=CAROL)

    assert [s.order_id for s in venue.of_type(events, StopTriggered)] == [2, 3, 1]
    assert venue.queue(SELL, 20_000) == [2, 3, 1]


def test_a_stop_reached_midway_through_a_sweep_fires_once_the_sweep_is_done(venue: Venue) -> None:
    venue.submit(1, SELL, 1, 10_000, account=BOB)
    venue.submit(2, SELL, 1, 10_100, account=BOB)
    venue.submit(3, SELL, 1, 10_200, account=BOB)
    venue.submit(4, SELL, 5, 10_300, account=BOB)
    venue.submit(5, BUY, 1, order_type=STOP, stop_price=10_100, account=ALICE)

    events = venue.submit(6, BUY, 3, 10_200, account=CAROL)

    assert venue.kinds(events) == [
        "OrderAccepted",
        "TradeExecuted",
        "BookLevelChanged",
        "TradeExecuted",
        "BookLevelChanged",
        "TradeExecuted",
        "BookLevelChanged",
        "StopTriggered",
        "TradeExecuted",
        "BookLevelChanged",
    ]
    venue.expect(events[7], StopTriggered, order_id=5, trigger_price=10_200)
    venue.expect(events[8], TradeExecuted, taker_order_id=5, price=10_300, quantity=1)


def test_a_triggered_stop_that_moves_the_price_triggers_the_next_stop(venue: Venue) -> None:
    venue.submit(1, SELL, 1, 10_000, account=BOB)
    venue.submit(2, SELL, 1, 10_100, account=BOB)
    venue.submit(3, SELL, 1, 10_200, account=BOB)
    venue.submit(4, SELL, 9, 10_300, account=BOB)
    venue.submit(5, BUY, 1, order_type=STOP, stop_price=10_000, account=ALICE)
    venue.submit(6, BUY, 1, order_type=STOP, stop_price=10_100, account=ALICE)
    venue.submit(7, BUY, 1, order_type=STOP, stop_price=10_200, account=ALICE)
    venue.submit(8, BUY, 1, order_type=STOP, stop_price=10_400, account=ALICE)

    events = venue.submit(9, BUY, 1, 10_000, account=CAROL)

    fired = venue.of_type(events, StopTriggered)
    assert [(s.order_id, s.trigger_price) for s in fired] == [(5, 10_000), (6, 10_100), (7, 10_200)]
    trades = venue.of_type(events, TradeExecuted)
    assert [(t.taker_order_id, t.price) for t in trades] == [(9, 10_000), (5, 10_100), (6, 10_200), (7, 10_300)]
    assert venue.asks() == [(10_300, 8, 1)]
    assert venue.live(ALICE) == [8]
    top = top_of_book(venue.engine, AAPL)
    assert top is not None
    assert top.last_price == 10_300


def test_cancelling_a_waiting_stop_touches_no_book_level(venue: Venue) -> None:
    venue.submit(1, BUY, 5, order_type=STOP, stop_price=10_000, account=ALICE)

    events = venue.cancel(1, account=ALICE)

    assert venue.kinds(events) == ["OrderCancelled"]
    venue.expect(events[0], OrderCancelled, order_id=1, reason=CANCEL_REASON_USER, cancelled_quantity=5)
    assert venue.order(1) is None
    _trade_at(venue, 10_000, 2)
    assert venue.of_type(venue.events, StopTriggered) == []


def test_stops_watch_only_their_own_symbol(venue: Venue) -> None:
    venue.submit(1, BUY, 5, order_type=STOP, stop_price=10_000, account=ALICE, symbol="MSFT")
    venue.submit(2, SELL, 1, 10_000, account=BOB)

    events = venue.submit(3, BUY, 1, 10_000, account=CAROL)

    assert venue.of_type(events, StopTriggered) == []
    view = venue.order(1)
    assert view is not None
    assert view.status == "WAITING_TRIGGER"


def test_a_stop_reached_by_an_earlier_trade_of_a_sweep_fires_though_the_last_trade_moved_past_it(
    venue: Venue,
) -> None:
    venue.submit(1, SELL, 1, 10_000, account=BOB)
    venue.submit(2, SELL, 1, 10_500, account=BOB)
    # Priced far away, so it rests when it fires and moves nothing.
    venue.submit(3, SELL, 1, 20_000, order_type=STOP_LIMIT, stop_price=10_100, account=ALICE)

    events = venue.submit(4, BUY, 2, 10_500, account=CAROL)

    assert venue.kinds(events) == [
        "OrderAccepted",
        "TradeExecuted",
        "BookLevelChanged",
        "TradeExecuted",
        "BookLevelChanged",
        "StopTriggered",
        "BookLevelChanged",
    ]
    venue.expect(events[5], StopTriggered, order_id=3, account=ALICE, symbol=AAPL)
    assert venue.asks() == [(20_000, 1, 1)]


def test_stop_triggered_reports_the_trade_price_that_reached_the_stop(venue: Venue) -> None:
    # The sell stop at 10_100 is reached by the trade at 10_000, not by the later one at 10_500;
    # the event must not claim that a last price of 10_500 reached a sell stop at 10_100.
    venue.submit(1, SELL, 1, 10_000, account=BOB)
    venue.submit(2, SELL, 1, 10_500, account=BOB)
    venue.submit(3, SELL, 1, 20_000, order_type=STOP_LIMIT, stop_price=10_100, account=ALICE)

    events = venue.submit(4, BUY, 2, 10_500, account=CAROL)

    fired = venue.one(events, StopTriggered)
    assert fired.trigger_price <= 10_100
    assert fired.trigger_price == 10_000


def test_a_buy_stop_reached_by_the_first_trade_of_a_falling_sweep_fires(venue: Venue) -> None:
    venue.submit(1, BUY, 1, 10_100, account=BOB)
    venue.submit(2, BUY, 1, 9_900, account=BOB)
    venue.submit(3, BUY, 1, 5_000, order_type=STOP_LIMIT, stop_price=10_000, account=ALICE)

    events = venue.submit(4, SELL, 2, 9_900, account=CAROL)

    assert [s.order_id for s in venue.of_type(events, StopTriggered)] == [3]
    assert venue.bids() == [(5_000, 1, 1)]


def test_a_triggered_stop_limit_queues_behind_orders_that_rested_before_it_triggered(venue: Venue) -> None:
    venue.submit(1, BUY, 5, 9_000, order_type=STOP_LIMIT, stop_price=10_000, account=ALICE)
    venue.submit(2, BUY, 5, 9_000, account=BOB)

    _trade_at(venue, 10_000, 3)

    assert venue.queue(BUY, 9_000) == [2, 1]
    triggered, resting = venue.order(1), venue.order(2)
    assert triggered is not None
    assert resting is not None
    assert triggered.priority > resting.priority
    assert (triggered.ts_accepted, triggered.order_type) == (1_000, STOP_LIMIT)
