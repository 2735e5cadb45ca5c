"""MassCancel, EndSession (DAY orders) and GTD expiry: orders leaving without a request of their own."""

from __future__ import annotations

from hft.core import rejects
from hft.domain.commands import CancelOrder, EndSession, ExpireOrders, MassCancel
from hft.domain.events import (
    CANCEL_REASON_EXPIRED,
    CANCEL_REASON_MASS_CANCEL,
    BookLevelChanged,
    OrderCancelled,
    OrderRejected,
    TradeExecuted,
)
from hft.domain.orders import BUY, DAY, GTC, GTD, SELL, STOP, STOP_LIMIT
from hft.testing.venue import AAPL, ALICE, BOB, CAROL, MSFT, Venue


def _alice_and_bob_orders(venue: Venue) -> None:
    venue.submit(1, BUY, 10, 9_900, account=ALICE)
    venue.submit(2, SELL, 5, 10_100, account=ALICE)
    venue.submit(3, BUY, 4, order_type=STOP, stop_price=11_000, account=ALICE)
    venue.submit(4, SELL, 7, 20_000, account=ALICE, symbol=MSFT)
    venue.submit(5, BUY, 10, 9_900, account=BOB)
    venue.submit(6, SELL, 3, 20_000, account=BOB, symbol=MSFT)


# -- MassCancel -----------------------------------------------------------------------------


def test_mass_cancel_cancels_every_live_order_of_the_account_including_waiting_stops(venue: Venue) -> None:
    _alice_and_bob_orders(venue)

    events = venue.run(MassCancel(ALICE))

    assert venue.kinds(events) == [
        "OrderCancelled",
        "BookLevelChanged",
        "OrderCancelled",
        "BookLevelChanged",
        "OrderCancelled",
        "OrderCancelled",
        "BookLevelChanged",
    ]
    cancels = venue.of_type(events, OrderCancelled)
    assert [(c.order_id, c.account, c.symbol, c.reason, c.cancelled_quantity) for c in cancels] == [
        (1, ALICE, AAPL, CANCEL_REASON_MASS_CANCEL, 10),
        (2, ALICE, AAPL, CANCEL_REASON_MASS_CANCEL, 5),
        (3, ALICE, AAPL, CANCEL_REASON_MASS_CANCEL, 4),
        (4, ALICE, MSFT, CANCEL_REASON_MASS_CANCEL, 7),
    ]
    levels = venue.of_type(events, BookLevelChanged)
    assert [(b.symbol, b.side, b.price, b.quantity, b.order_count) for b in levels] == [
        (AAPL, BUY, 9_900, 10, 1),
        (AAPL, SELL, 10_100, 0, 0),
        (MSFT, SELL, 20_000, 3, 1),
    ]
    assert venue.live(ALICE) == []
    assert venue.live(BOB) == [5, 6]
    assert venue.bids() == [(9_900, 10, 1)]


def test_mass_cancel_of_one_symbol_leaves_the_accounts_other_symbols(venue: Venue) -> None:
    _alice_and_bob_orders(venue)

    events = venue.run(MassCancel(ALICE, symbol=MSFT))

    assert [c.order_id for c in venue.of_type(events, OrderCancelled)] == [4]
    assert venue.live(ALICE) == [1, 2, 3]


def test_mass_cancel_of_one_side_includes_that_sides_waiting_stops(venue: Venue) -> None:
    _alice_and_bob_orders(venue)

    events = venue.run(MassCancel(ALICE, side=BUY))

    assert [c.order_id for c in venue.of_type(events, OrderCancelled)] == [1, 3]
    assert venue.live(ALICE) == [2, 4]


def test_mass_cancel_of_one_symbol_and_side(venue: Venue) -> None:
    _alice_and_bob_orders(venue)

    events = venue.run(MassCancel(ALICE, symbol=AAPL, side=SELL))

    assert [c.order_id for c in venue.of_type(events, OrderCancelled)] == [2]
    assert venue.live(ALICE) == [1, 3, 4]


def test_mass_cancel_reports_only_what_was_left_of_partly_filled_orders(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)
    venue.submit(2, BUY, 4, 10_000, account=BOB)

    events = venue.run(MassCancel(ALICE))

    venue.expect(events[0], OrderCancelled, order_id=1, reason=CANCEL_REASON_MASS_CANCEL, cancelled_quantity=6)


def test_mass_cancel_with_nothing_to_cancel_emits_nothing(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=BOB)

    assert venue.run(MassCancel(ALICE)) == []
    assert venue.live(BOB) == [1]


# -- EndSession ---------------------------------------------------------------------------


def test_end_session_expires_day_orders_of_every_symbol_and_nothing_else(venue: Venue) -> None:
    venue.submit(1, BUY, 10, 9_900, time_in_force=DAY, account=ALICE)
    venue.submit(2, BUY, 10, 9_900, time_in_force=GTC, account=BOB)
    venue.submit(3, SELL, 5, 10_100, time_in_force=GTD, expire_ts=10**15, account=ALICE)
    venue.submit(4, SELL, 6, 20_000, time_in_force=DAY, account=BOB, symbol=MSFT)
    venue.submit(5, BUY, 2, order_type=STOP, time_in_force=DAY, stop_price=11_000, account=ALICE)
    venue.submit(6, BUY, 2, order_type=STOP, time_in_force=GTC, stop_price=11_000, account=ALICE)

    events = venue.run(EndSession())

    assert venue.kinds(events) == [
        "OrderCancelled",
        "BookLevelChanged",
        "OrderCancelled",
        "BookLevelChanged",
        "OrderCancelled",
    ]
    cancels = venue.of_type(events, OrderCancelled)
    assert [(c.order_id, c.symbol, c.reason, c.cancelled_quantity) for c in cancels] == [
        (1, AAPL, CANCEL_REASON_EXPIRED, 10),
        (4, MSFT, CANCEL_REASON_EXPIRED, 6),
        (5, AAPL, CANCEL_REASON_EXPIRED, 2),
    ]
    venue.expect(events[1], BookLevelChanged, symbol=AAPL, side=BUY, price=9_900, quantity=10, order_count=1)
    venue.expect(events[3], BookLevelChanged, symbol=MSFT, side=SELL, price=20_000, quantity=0, order_count=0)
    assert venue.live(ALICE) == [3, 6]
    assert venue.live(BOB) == [2]


def test_end_session_of_one_symbol_expires_only_its_day_orders(venue: Venue) -> None:
    venue.submit(1, BUY, 10, 9_900, time_in_force=DAY, account=ALICE)
    venue.submit(2, SELL, 6, 20_000, time_in_force=DAY, account=ALICE, symbol=MSFT)

    events = venue.run(EndSession(MSFT))

    assert [c.order_id for c in venue.of_type(events, OrderCancelled)] == [2]
    assert venue.live(ALICE) == [1]


def test_end_session_expires_a_partly_filled_day_order_and_a_triggered_day_stop_limit(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, time_in_force=DAY, account=ALICE)
    venue.submit(2, BUY, 5, 9_000, order_type=STOP_LIMIT, time_in_force=DAY, stop_price=10_000, account=BOB)
    venue.submit(3, BUY, 4, 10_000, account=CAROL)
    assert venue.bids() == [(9_000, 5, 1)]

    events = venue.run(EndSession())

    cancels = venue.of_type(events, OrderCancelled)
    assert [(c.order_id, c.cancelled_quantity) for c in cancels] == [(1, 6), (2, 5)]
    assert (venue.bids(), venue.asks()) == ([], [])


def test_end_session_without_day_orders_emits_nothing(venue: Venue) -> None:
    venue.submit(1, BUY, 10, 9_900, account=ALICE)

    assert venue.run(EndSession()) == []


def test_day_orders_of_the_next_session_rest_normally(venue: Venue) -> None:
    venue.run(EndSession())

    events = venue.submit(1, BUY, 10, 9_900, time_in_force=DAY, account=ALICE)

    assert venue.kinds(events) == ["OrderAccepted", "BookLevelChanged"]


# -- GTD ------------------------------------------------------------------------------------


def test_any_later_command_expires_due_gtd_orders_before_it_acts(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, time_in_force=GTD, expire_ts=50_000, account=ALICE, ts=10_000)

    events = venue.submit(2, BUY, 10, 10_000, account=BOB, ts=60_000)

    assert venue.kinds(events) == ["OrderCancelled", "BookLevelChanged", "OrderAccepted", "BookLevelChanged"]
    venue.expect(
        events[0],
        OrderCancelled,
        sequence=3,
        ts=60_000,
        order_id=1,
        account=ALICE,
        symbol=AAPL,
        reason=CANCEL_REASON_EXPIRED,
        cancelled_quantity=10,
    )
    venue.expect(events[1], BookLevelChanged, side=SELL, price=10_000, quantity=0, order_count=0)
    assert venue.of_type(events, TradeExecuted) == []
    assert venue.bids() == [(10_000, 10, 1)]


def test_even_a_rejected_command_lets_due_gtd_orders_expire_first(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, time_in_force=GTD, expire_ts=50_000, account=ALICE, ts=10_000)

    events = venue.run(CancelOrder(99, BOB), ts=50_000)

    assert venue.kinds(events) == ["OrderCancelled", "BookLevelChanged", "OrderRejected"]
    venue.expect(events[2], OrderRejected, order_id=99, account=BOB, code=rejects.UNKNOWN_ORDER)


def test_a_cancel_of_a_gtd_order_arriving_after_its_expiry_finds_it_expired(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, time_in_force=GTD, expire_ts=50_000, account=ALICE, ts=10_000)

    events = venue.run(CancelOrder(1, ALICE), ts=50_001)

    assert venue.kinds(events) == ["OrderCancelled", "BookLevelChanged", "OrderRejected"]
    venue.expect(events[0], OrderCancelled, order_id=1, reason=CANCEL_REASON_EXPIRED)
    venue.expect(events[2], OrderRejected, order_id=1, code=rejects.UNKNOWN_ORDER)


def test_gtd_orders_expire_in_expire_time_order_then_order_id_order(venue: Venue) -> None:
    venue.submit(1, BUY, 1, 9_000, time_in_force=GTD, expire_ts=70_000, account=ALICE, ts=10_000)
    venue.submit(2, BUY, 2, 9_100, time_in_force=GTD, expire_ts=60_000, account=ALICE, ts=11_000)
    venue.submit(3, BUY, 3, 9_200, time_in_force=GTD, expire_ts=60_000, account=BOB, ts=12_000)
    venue.submit(4, BUY, 4, 9_300, time_in_force=GTD, expire_ts=90_000, account=BOB, ts=13_000)

    events = venue.run(ExpireOrders(), ts=80_000)

    assert [c.order_id for c in venue.of_type(events, OrderCancelled)] == [2, 3, 1]
    assert venue.bids() == [(9_300, 4, 1)]


def test_a_gtd_order_expires_only_when_its_time_has_come(venue: Venue) -> None:
    venue.submit(1, BUY, 1, 9_000, time_in_force=GTD, expire_ts=70_000, account=ALICE, ts=10_000)

    assert venue.run(ExpireOrders(), ts=69_999) == []
    assert venue.kinds(venue.submit(2, BUY, 1, 9_000, account=BOB, ts=69_999)) == ["OrderAccepted", "BookLevelChanged"]
    assert venue.live(ALICE) == [1]


def test_a_gtd_order_that_left_the_book_earlier_does_not_expire_again(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, time_in_force=GTD, expire_ts=50_000, account=ALICE, ts=10_000)
    venue.submit(2, SELL, 10, 10_100, time_in_force=GTD, expire_ts=50_000, account=ALICE, ts=11_000)
    venue.cancel(1, account=ALICE)
    venue.submit(3, BUY, 10, 10_100, account=BOB, ts=20_000)

    assert venue.run(ExpireOrders(), ts=50_000) == []


def test_a_partly_filled_gtd_order_expires_with_what_is_left(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, time_in_force=GTD, expire_ts=50_000, account=ALICE, ts=10_000)
    venue.submit(2, BUY, 3, 10_000, account=BOB, ts=20_000)

    events = venue.run(ExpireOrders(), ts=50_000)

    venue.expect(events[0], OrderCancelled, order_id=1, reason=CANCEL_REASON_EXPIRED, cancelled_quantity=7)


def test_an_amended_gtd_order_keeps_its_expire_time_and_expires_once(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, time_in_force=GTD, expire_ts=50_000, account=ALICE, ts=10_000)
    venue.amend(1, 10, price=10_100, account=ALICE)
    venue.amend(1, 12, account=ALICE)

    events = venue.run(ExpireOrders(), ts=50_000)

    assert venue.kinds(events) == ["OrderCancelled", "BookLevelChanged"]
    venue.expect(events[0], OrderCancelled, order_id=1, reason=CANCEL_REASON_EXPIRED, cancelled_quantity=12)
    assert venue.run(ExpireOrders(), ts=60_000) == []


def test_a_waiting_gtd_stop_expires(venue: Venue) -> None:
    venue.submit(1, BUY, 2, order_type=STOP, time_in_force=GTD, expire_ts=50_000, stop_price=11_000, ts=10_000)

    events = venue.run(ExpireOrders(), ts=50_000)

    assert venue.kinds(events) == ["OrderCancelled"]
    venue.expect(events[0], OrderCancelled, order_id=1, reason=CANCEL_REASON_EXPIRED, cancelled_quantity=2)
    assert venue.live() == []


def test_a_triggered_gtd_stop_limit_resting_in_the_book_expires_once(venue: Venue) -> None:
    venue.submit(
        1, BUY, 2, 9_000, order_type=STOP_LIMIT, time_in_force=GTD, expire_ts=50_000, stop_price=10_000, ts=10_000
    )
    venue.submit(2, SELL, 1, 10_000, account=BOB, ts=11_000)
    venue.submit(3, BUY, 1, 10_000, account=CAROL, ts=12_000)
    assert venue.bids() == [(9_000, 2, 1)]

    events = venue.run(ExpireOrders(), ts=50_000)

    assert venue.kinds(events) == ["OrderCancelled", "BookLevelChanged"]
    venue.expect(events[0], OrderCancelled, order_id=1, reason=CANCEL_REASON_EXPIRED, cancelled_quantity=2)
    assert venue.run(ExpireOrders(), ts=60_000) == []
