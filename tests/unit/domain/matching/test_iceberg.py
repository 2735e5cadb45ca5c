"""Iceberg orders: only the display slice is shown; each refill joins the back of its level."""

from __future__ import annotations

from hft.domain.events import (
    CANCEL_REASON_FOK_NOT_FILLED,
    CANCEL_REASON_USER,
    BookLevelChanged,
    OrderAccepted,
    OrderCancelled,
    OrderReplaced,
    TradeExecuted,
)
from hft.domain.matching.queries import top_of_book
from hft.domain.orders import BUY, FOK, SELL
from hft.testing.venue import AAPL, ALICE, BOB, CAROL, Venue


def test_iceberg_shows_only_its_display_slice(venue: Venue) -> None:
    events = venue.submit(1, SELL, 100, 10_000, display_quantity=10, account=ALICE)

    assert venue.kinds(events) == ["OrderAccepted", "BookLevelChanged"]
    venue.expect(events[0], OrderAccepted, quantity=100, display_quantity=10)
    venue.expect(events[1], BookLevelChanged, side=SELL, price=10_000, quantity=10, order_count=1)
    assert venue.asks() == [(10_000, 10, 1)]
    top = top_of_book(venue.engine, AAPL)
    assert top is not None
    assert top.ask is not None
    assert top.ask.quantity == 10
    view = venue.order(1)
    assert view is not None
    assert (view.quantity, view.leaves, view.visible, view.display_quantity) == (100, 100, 10, 10)


def test_iceberg_slice_adds_to_the_visible_quantity_of_its_level(venue: Venue) -> None:
    venue.submit(1, SELL, 7, 10_000, account=BOB)
    events = venue.submit(2, SELL, 100, 10_000, display_quantity=10, account=ALICE)

    venue.expect(events[1], BookLevelChanged, price=10_000, quantity=17, order_count=2)


def test_refilled_slice_goes_to_the_back_and_loses_priority_to_orders_behind_it(venue: Venue) -> None:
    venue.submit(1, SELL, 30, 10_000, display_quantity=10, account=ALICE)
    venue.submit(2, SELL, 20, 10_000, account=BOB)
    assert venue.queue(SELL, 10_000) == [1, 2]

    events = venue.submit(3, BUY, 15, 10_000, account=CAROL)

    assert venue.kinds(events) == ["OrderAccepted", "TradeExecuted", "TradeExecuted", "BookLevelChanged"]
    venue.expect(events[1], TradeExecuted, maker_order_id=1, quantity=10, maker_leaves=20, taker_leaves=5)
    venue.expect(events[2], TradeExecuted, maker_order_id=2, quantity=5, maker_leaves=15, taker_leaves=0)
    venue.expect(events[3], BookLevelChanged, price=10_000, quantity=25, order_count=2)
    assert venue.queue(SELL, 10_000) == [2, 1]
    iceberg = venue.order(1)
    assert iceberg is not None
    assert (iceberg.filled, iceberg.leaves, iceberg.visible, iceberg.status) == (10, 20, 10, "PARTIALLY_FILLED")


def test_refill_queues_behind_orders_already_waiting_and_ahead_of_later_ones(venue: Venue) -> None:
    venue.submit(1, SELL, 30, 10_000, display_quantity=10, account=ALICE)
    venue.submit(2, SELL, 5, 10_000, account=BOB)
    venue.submit(3, BUY, 10, 10_000, account=CAROL)  # takes the first slice; the refill queues behind order 2
    venue.submit(4, SELL, 5, 10_000, account=BOB)  # arrives after the refill: queues behind the iceberg

    assert venue.queue(SELL, 10_000) == [2, 1, 4]
    events = venue.submit(5, BUY, 20, 10_000, account=CAROL)

    assert [(t.maker_order_id, t.quantity) for t in venue.of_type(events, TradeExecuted)] == [(2, 5), (1, 10), (4, 5)]
    assert venue.queue(SELL, 10_000) == [1]
    assert venue.asks() == [(10_000, 10, 1)]


def test_partly_taken_slice_keeps_its_place(venue: Venue) -> None:
    venue.submit(1, SELL, 30, 10_000, display_quantity=10, account=ALICE)
    venue.submit(2, SELL, 5, 10_000, account=BOB)

    events = venue.submit(3, BUY, 4, 10_000, account=CAROL)

    venue.expect(events[-1], BookLevelChanged, price=10_000, quantity=11, order_count=2)
    assert venue.queue(SELL, 10_000) == [1, 2]
    iceberg = venue.order(1)
    assert iceberg is not None
    assert (iceberg.leaves, iceberg.visible) == (26, 6)


def test_taker_larger_than_a_lone_iceberg_takes_slice_after_slice(venue: Venue) -> None:
    venue.submit(1, SELL, 25, 10_000, display_quantity=10, account=ALICE)

    events = venue.submit(2, BUY, 30, 10_000, account=BOB)

    trades = venue.of_type(events, TradeExecuted)
    assert [(t.quantity, t.maker_leaves, t.taker_leaves) for t in trades] == [(10, 15, 20), (10, 5, 10), (5, 0, 5)]
    levels = venue.of_type(events, BookLevelChanged)
    assert [(b.side, b.quantity, b.order_count) for b in levels] == [(SELL, 0, 0), (BUY, 5, 1)]
    assert venue.order(1) is None


def test_hidden_quantity_counts_for_fill_or_kill(venue: Venue) -> None:
    venue.submit(1, SELL, 30, 10_000, display_quantity=10, account=ALICE)

    events = venue.submit(2, BUY, 25, 10_000, time_in_force=FOK, account=BOB)

    assert venue.kinds(events) == ["OrderAccepted"] + ["TradeExecuted"] * 3 + ["BookLevelChanged"]
    assert [t.quantity for t in venue.of_type(events, TradeExecuted)] == [10, 10, 5]
    assert [b.quantity for b in venue.of_type(events, BookLevelChanged)] == [5]
    iceberg = venue.order(1)
    assert iceberg is not None
    assert (iceberg.leaves, iceberg.visible) == (5, 5)


def test_fill_or_kill_beyond_the_icebergs_total_is_not_filled(venue: Venue) -> None:
    venue.submit(1, SELL, 30, 10_000, display_quantity=10, account=ALICE)
    before = venue.snapshot()

    events = venue.submit(2, BUY, 31, 10_000, time_in_force=FOK, account=BOB)

    assert venue.kinds(events) == ["OrderAccepted", "OrderCancelled"]
    venue.expect(events[1], OrderCancelled, reason=CANCEL_REASON_FOK_NOT_FILLED, cancelled_quantity=31)
    assert venue.snapshot() == before


def test_an_iceberg_that_crosses_takes_with_its_whole_quantity_and_rests_a_slice(venue: Venue) -> None:
    venue.submit(1, SELL, 5, 10_000, account=BOB)

    events = venue.submit(2, BUY, 30, 10_000, display_quantity=10, account=ALICE)

    assert venue.kinds(events) == ["OrderAccepted", "TradeExecuted", "BookLevelChanged", "BookLevelChanged"]
    venue.expect(events[1], TradeExecuted, quantity=5, taker_leaves=25)
    venue.expect(events[3], BookLevelChanged, side=BUY, price=10_000, quantity=10, order_count=1)
    iceberg = venue.order(2)
    assert iceberg is not None
    assert (iceberg.filled, iceberg.leaves, iceberg.visible) == (5, 25, 10)


def test_an_iceberg_whose_remainder_is_below_its_display_shows_the_remainder(venue: Venue) -> None:
    venue.submit(1, SELL, 14, 10_000, account=BOB)

    events = venue.submit(2, BUY, 20, 10_000, display_quantity=10, account=ALICE)

    venue.expect(events[-1], BookLevelChanged, side=BUY, price=10_000, quantity=6, order_count=1)
    iceberg = venue.order(2)
    assert iceberg is not None
    assert (iceberg.leaves, iceberg.visible) == (6, 6)


def test_cancelling_an_iceberg_cancels_its_hidden_quantity_too(venue: Venue) -> None:
    venue.submit(1, SELL, 30, 10_000, display_quantity=10, account=ALICE)

    events = venue.cancel(1, account=ALICE)

    venue.expect(events[0], OrderCancelled, reason=CANCEL_REASON_USER, cancelled_quantity=30)
    venue.expect(events[1], BookLevelChanged, price=10_000, quantity=0, order_count=0)


def test_shrinking_an_iceberg_below_its_slice_shrinks_the_slice_and_keeps_priority(venue: Venue) -> None:
    venue.submit(1, SELL, 30, 10_000, display_quantity=10, account=ALICE)
    venue.submit(2, SELL, 5, 10_000, account=BOB)

    events = venue.amend(1, 8, account=ALICE)

    assert venue.kinds(events) == ["OrderReplaced", "BookLevelChanged"]
    venue.expect(events[0], OrderReplaced, quantity=8, leaves=8, priority_kept=True)
    venue.expect(events[1], BookLevelChanged, price=10_000, quantity=13, order_count=2)
    assert venue.queue(SELL, 10_000) == [1, 2]


def test_shrinking_an_iceberg_above_its_slice_changes_only_the_hidden_part(venue: Venue) -> None:
    venue.submit(1, SELL, 30, 10_000, display_quantity=10, account=ALICE)

    events = venue.amend(1, 20, account=ALICE)

    venue.expect(events[0], OrderReplaced, quantity=20, leaves=20, priority_kept=True)
    venue.expect(events[1], BookLevelChanged, price=10_000, quantity=10, order_count=1)
    iceberg = venue.order(1)
    assert iceberg is not None
    assert (iceberg.leaves, iceberg.visible) == (20, 10)


def test_repricing_an_iceberg_shows_a_fresh_slice_at_the_new_price(venue: Venue) -> None:
    venue.submit(1, SELL, 30, 10_000, display_quantity=10, account=ALICE)
    venue.submit(2, BUY, 4, 10_000, account=BOB)

    events = venue.amend(1, 30, price=10_100, account=ALICE)

    assert venue.kinds(events) == ["BookLevelChanged", "OrderReplaced", "BookLevelChanged"]
    venue.expect(events[0], BookLevelChanged, price=10_000, quantity=0, order_count=0)
    venue.expect(events[1], OrderReplaced, price=10_100, quantity=30, leaves=26, priority_kept=False)
    venue.expect(events[2], BookLevelChanged, price=10_100, quantity=10, order_count=1)
