"""Time in force: GTC rests, IOC cancels its remainder, FOK fills whole or not at all, DAY and GTD expire."""

from __future__ import annotations

from hft.domain.commands import EndSession, ExpireOrders
from hft.domain.events import (
    CANCEL_REASON_EXPIRED,
    CANCEL_REASON_FOK_NOT_FILLED,
    CANCEL_REASON_IOC_REMAINDER,
    CANCEL_REASON_USER,
    BookLevelChanged,
    OrderAccepted,
    OrderCancelled,
    TradeExecuted,
)
from hft.domain.orders import BUY, DAY, FOK, GTC, GTD, IOC, SELL
from hft.testing.venue import AAPL, ALICE, BOB, Venue


def test_gtc_order_rests_until_its_owner_cancels_it(venue: Venue) -> None:
    venue.submit(1, BUY, 10, 10_000, account=ALICE, time_in_force=GTC)
    for _ in range(3):
        venue.run(ExpireOrders(), ts=venue.ts + 10**12)
    venue.run(EndSession())
    assert venue.bids() == [(10_000, 10, 1)]

    events = venue.cancel(1, account=ALICE)

    assert venue.kinds(events) == ["OrderCancelled", "BookLevelChanged"]
    venue.expect(
        events[0],
        OrderCancelled,
        order_id=1,
        account=ALICE,
        symbol=AAPL,
        reason=CANCEL_REASON_USER,
        cancelled_quantity=10,
    )
    venue.expect(events[1], BookLevelChanged, side=BUY, price=10_000, quantity=0, order_count=0)
    assert venue.order(1) is None
    assert venue.bids() == []


def test_cancelling_a_partially_filled_order_cancels_only_what_is_left(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)
    venue.submit(2, SELL, 3, 10_000, account=ALICE)
    venue.submit(3, BUY, 4, 10_000, account=BOB)

    events = venue.cancel(1, account=ALICE)

    venue.expect(events[0], OrderCancelled, order_id=1, reason=CANCEL_REASON_USER, cancelled_quantity=6)
    venue.expect(events[1], BookLevelChanged, side=SELL, price=10_000, quantity=3, order_count=1)


def test_ioc_trades_what_it_can_and_cancels_the_remainder(venue: Venue) -> None:
    venue.submit(1, SELL, 4, 10_000, account=ALICE)
    venue.submit(2, SELL, 4, 10_200, account=ALICE)

    events = venue.submit(3, BUY, 10, 10_100, account=BOB, time_in_force=IOC)

    assert venue.kinds(events) == ["OrderAccepted", "TradeExecuted", "BookLevelChanged", "OrderCancelled"]
    venue.expect(events[0], OrderAccepted, time_in_force=IOC)
    venue.expect(events[1], TradeExecuted, price=10_000, quantity=4, taker_leaves=6)
    venue.expect(
        events[3],
        OrderCancelled,
        order_id=3,
        account=BOB,
        symbol=AAPL,
        reason=CANCEL_REASON_IOC_REMAINDER,
        cancelled_quantity=6,
    )
    assert venue.bids() == []
    assert venue.asks() == [(10_200, 4, 1)]
    assert venue.order(3) is None


def test_ioc_that_crosses_nothing_is_accepted_and_cancelled_whole(venue: Venue) -> None:
    venue.submit(1, SELL, 4, 10_100, account=ALICE)

    events = venue.submit(2, BUY, 10, 10_000, account=BOB, time_in_force=IOC)

    assert venue.kinds(events) == ["OrderAccepted", "OrderCancelled"]
    venue.expect(events[1], OrderCancelled, reason=CANCEL_REASON_IOC_REMAINDER, cancelled_quantity=10)
    assert venue.bids() == []


def test_ioc_that_fills_completely_emits_no_cancel(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)

    events = venue.submit(2, BUY, 10, 10_000, account=BOB, time_in_force=IOC)

    assert venue.kinds(events) == ["OrderAccepted", "TradeExecuted", "BookLevelChanged"]


def test_fok_that_can_fill_across_levels_fills_completely(venue: Venue) -> None:
    venue.submit(1, SELL, 4, 10_000, account=ALICE)
    venue.submit(2, SELL, 4, 10_100, account=ALICE)
    venue.submit(3, SELL, 4, 10_200, account=ALICE)

    events = venue.submit(4, BUY, 8, 10_100, account=BOB, time_in_force=FOK)

    assert venue.kinds(events) == [
        "OrderAccepted",
        "TradeExecuted",
        "BookLevelChanged",
        "TradeExecuted",
        "BookLevelChanged",
    ]
    assert [(t.price, t.quantity, t.taker_leaves) for t in venue.of_type(events, TradeExecuted)] == [
        (10_000, 4, 4),
        (10_100, 4, 0),
    ]
    assert venue.asks() == [(10_200, 4, 1)]


def test_fok_that_cannot_fill_within_its_limit_is_cancelled_with_nothing_traded(venue: Venue) -> None:
    venue.submit(1, SELL, 4, 10_000, account=ALICE)
    venue.submit(2, SELL, 4, 10_100, account=ALICE)
    venue.submit(3, SELL, 40, 10_200, account=ALICE)
    before = venue.snapshot()

    events = venue.submit(4, BUY, 9, 10_100, account=BOB, time_in_force=FOK)

    assert venue.kinds(events) == ["OrderAccepted", "OrderCancelled"]
    venue.expect(
        events[1],
        OrderCancelled,
        order_id=4,
        account=BOB,
        symbol=AAPL,
        reason=CANCEL_REASON_FOK_NOT_FILLED,
        cancelled_quantity=9,
    )
    assert venue.snapshot() == before
    assert venue.last_price() is None


def test_fok_for_exactly_the_quantity_on_offer_fills(venue: Venue) -> None:
    venue.submit(1, BUY, 3, 10_000, account=ALICE)
    venue.submit(2, BUY, 4, 9_900, account=ALICE)

    events = venue.submit(3, SELL, 7, 9_900, account=BOB, time_in_force=FOK)

    assert sum(t.quantity for t in venue.of_type(events, TradeExecuted)) == 7
    assert venue.bids() == []


def test_fok_against_an_empty_book_is_cancelled(venue: Venue) -> None:
    events = venue.submit(1, SELL, 1, 10_000, time_in_force=FOK)

    assert venue.kinds(events) == ["OrderAccepted", "OrderCancelled"]
    venue.expect(events[1], OrderCancelled, reason=CANCEL_REASON_FOK_NOT_FILLED, cancelled_quantity=1)


def test_day_order_rests_until_the_session_ends(venue: Venue) -> None:
    venue.submit(1, BUY, 10, 10_000, account=ALICE, time_in_force=DAY)
    venue.submit(2, BUY, 10, 9_900, account=ALICE, time_in_force=GTC)

    events = venue.run(EndSession())

    assert venue.kinds(events) == ["OrderCancelled", "BookLevelChanged"]
    venue.expect(events[0], OrderCancelled, order_id=1, reason=CANCEL_REASON_EXPIRED, cancelled_quantity=10)
    assert venue.bids() == [(9_900, 10, 1)]


def test_gtd_order_rests_until_its_expire_time(venue: Venue) -> None:
    venue.submit(1, BUY, 10, 10_000, account=ALICE, time_in_force=GTD, expire_ts=50_000, ts=10_000)

    assert venue.run(ExpireOrders(), ts=49_999) == []
    assert venue.bids() == [(10_000, 10, 1)]

    events = venue.run(ExpireOrders(), ts=50_000)

    assert venue.kinds(events) == ["OrderCancelled", "BookLevelChanged"]
    venue.expect(events[0], OrderCancelled, order_id=1, reason=CANCEL_REASON_EXPIRED, cancelled_quantity=10)
    assert venue.bids() == []
