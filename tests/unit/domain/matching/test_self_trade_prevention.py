"""Self-trade prevention: the taker's mode (its own, or its account's) decides what happens."""

from __future__ import annotations

import pytest

from hft.domain.commands import SetSelfTradePrevention
from hft.domain.events import (
    CANCEL_REASON_FOK_NOT_FILLED,
    CANCEL_REASON_MARKET_REMAINDER,
    CANCEL_REASON_SELF_TRADE,
    BookLevelChanged,
    OrderCancelled,
    OrderReduced,
    OrderReplaced,
    SelfTradePreventionSet,
    TradeExecuted,
)
from hft.domain.orders import (
    BUY,
    FOK,
    IOC,
    MARKET,
    SELL,
    STOP,
    STP_CANCEL_BOTH,
    STP_CANCEL_NEWEST,
    STP_CANCEL_OLDEST,
    STP_DECREMENT_AND_CANCEL,
    STP_NONE,
)
from hft.testing.venue import AAPL, ALICE, BOB, CAROL, Venue

ALL_MODES = [STP_NONE, STP_CANCEL_NEWEST, STP_CANCEL_OLDEST, STP_CANCEL_BOTH, STP_DECREMENT_AND_CANCEL]


def test_without_any_mode_an_account_trades_with_itself(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)

    events = venue.submit(2, BUY, 10, 10_000, account=ALICE)

    assert venue.kinds(events) == ["OrderAccepted", "TradeExecuted", "BookLevelChanged"]
    venue.expect(events[1], TradeExecuted, taker_account=ALICE, maker_account=ALICE, quantity=10)
    assert venue.order(1) is None


def test_cancel_newest_cancels_the_incoming_order_and_leaves_the_resting_one(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)

    events = venue.submit(2, BUY, 6, 10_000, account=ALICE, self_trade_prevention=STP_CANCEL_NEWEST)

    assert venue.kinds(events) == ["OrderAccepted", "OrderCancelled"]
    venue.expect(
        events[1],
        OrderCancelled,
        order_id=2,
        account=ALICE,
        symbol=AAPL,
        reason=CANCEL_REASON_SELF_TRADE,
        cancelled_quantity=6,
    )
    assert venue.asks() == [(10_000, 10, 1)]
    assert venue.live(ALICE) == [1]


def test_cancel_newest_keeps_the_fills_made_before_meeting_its_own_order(venue: Venue) -> None:
    venue.submit(1, SELL, 5, 10_000, account=BOB)
    venue.submit(2, SELL, 10, 10_000, account=ALICE)

    events = venue.submit(3, BUY, 10, 10_000, account=ALICE, self_trade_prevention=STP_CANCEL_NEWEST)

    assert venue.kinds(events) == ["OrderAccepted", "TradeExecuted", "OrderCancelled", "BookLevelChanged"]
    venue.expect(events[1], TradeExecuted, maker_order_id=1, quantity=5, taker_leaves=5)
    venue.expect(events[2], OrderCancelled, order_id=3, reason=CANCEL_REASON_SELF_TRADE, cancelled_quantity=5)
    venue.expect(events[3], BookLevelChanged, price=10_000, quantity=10, order_count=1)
    assert venue.bids() == []


def test_cancel_newest_on_an_ioc_reports_a_self_trade_cancel_only(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)

    events = venue.submit(2, BUY, 6, 10_000, time_in_force=IOC, account=ALICE, self_trade_prevention=STP_CANCEL_NEWEST)

    assert venue.kinds(events) == ["OrderAccepted", "OrderCancelled"]
    venue.expect(events[1], OrderCancelled, reason=CANCEL_REASON_SELF_TRADE, cancelled_quantity=6)


def test_cancel_oldest_cancels_the_resting_order_and_keeps_matching(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)
    venue.submit(2, SELL, 10, 10_000, account=BOB)

    events = venue.submit(3, BUY, 15, 10_000, account=ALICE, self_trade_prevention=STP_CANCEL_OLDEST)

    assert venue.kinds(events) == [
        "OrderAccepted",
        "OrderCancelled",
        "BookLevelChanged",
        "TradeExecuted",
        "BookLevelChanged",
        "BookLevelChanged",
    ]
    venue.expect(events[1], OrderCancelled, order_id=1, reason=CANCEL_REASON_SELF_TRADE, cancelled_quantity=10)
    venue.expect(events[2], BookLevelChanged, side=SELL, price=10_000, quantity=10, order_count=1)
    venue.expect(events[3], TradeExecuted, maker_order_id=2, maker_account=BOB, quantity=10, taker_leaves=5)
    venue.expect(events[4], BookLevelChanged, side=SELL, price=10_000, quantity=0, order_count=0)
    venue.expect(events[5], BookLevelChanged, side=BUY, price=10_000, quantity=5, order_count=1)
    assert venue.live(ALICE) == [3]


def test_cancel_oldest_clears_own_orders_across_levels_before_trading_deeper(venue: Venue) -> None:
    venue.submit(1, SELL, 5, 10_000, account=ALICE)
    venue.submit(2, SELL, 5, 10_100, account=ALICE)
    venue.submit(3, SELL, 5, 10_200, account=BOB)

    events = venue.submit(4, BUY, 5, 10_200, account=ALICE, self_trade_prevention=STP_CANCEL_OLDEST)

    assert [(c.order_id, c.reason) for c in venue.of_type(events, OrderCancelled)] == [
        (1, CANCEL_REASON_SELF_TRADE),
        (2, CANCEL_REASON_SELF_TRADE),
    ]
    venue.expect(venue.one(events, TradeExecuted), TradeExecuted, maker_order_id=3, price=10_200, quantity=5)
    assert venue.asks() == []


def test_cancel_oldest_market_order_cancels_its_remainder_as_market_remainder(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)

    events = venue.submit(
        2, BUY, 5, order_type=MARKET, time_in_force=IOC, account=ALICE, self_trade_prevention=STP_CANCEL_OLDEST
    )

    assert venue.kinds(events) == ["OrderAccepted", "OrderCancelled", "BookLevelChanged", "OrderCancelled"]
    venue.expect(events[1], OrderCancelled, order_id=1, reason=CANCEL_REASON_SELF_TRADE)
    venue.expect(events[3], OrderCancelled, order_id=2, reason=CANCEL_REASON_MARKET_REMAINDER, cancelled_quantity=5)


def test_cancel_both_cancels_the_resting_and_the_incoming_order(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)
    venue.submit(2, SELL, 10, 10_000, account=BOB)

    events = venue.submit(3, BUY, 5, 10_000, account=ALICE, self_trade_prevention=STP_CANCEL_BOTH)

    assert venue.kinds(events) == ["OrderAccepted", "OrderCancelled", "BookLevelChanged", "OrderCancelled"]
    venue.expect(events[1], OrderCancelled, order_id=1, reason=CANCEL_REASON_SELF_TRADE, cancelled_quantity=10)
    venue.expect(events[2], BookLevelChanged, price=10_000, quantity=10, order_count=1)
    venue.expect(events[3], OrderCancelled, order_id=3, reason=CANCEL_REASON_SELF_TRADE, cancelled_quantity=5)
    assert venue.queue(SELL, 10_000) == [2]
    assert venue.live(ALICE) == []


def test_decrement_and_cancel_with_the_larger_resting_order_reduces_it_by_the_incoming(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)

    events = venue.submit(2, BUY, 4, 10_000, account=ALICE, self_trade_prevention=STP_DECREMENT_AND_CANCEL)

    assert venue.kinds(events) == ["OrderAccepted", "OrderReduced", "BookLevelChanged", "OrderCancelled"]
    venue.expect(events[1], OrderReduced, order_id=1, account=ALICE, symbol=AAPL, reduced_by=4, quantity=6, leaves=6)
    venue.expect(events[2], BookLevelChanged, side=SELL, price=10_000, quantity=6, order_count=1)
    venue.expect(events[3], OrderCancelled, order_id=2, reason=CANCEL_REASON_SELF_TRADE, cancelled_quantity=4)
    resting = venue.order(1)
    assert resting is not None
    assert (resting.quantity, resting.filled, resting.leaves, resting.visible) == (6, 0, 6, 6)
    assert venue.of_type(venue.events, TradeExecuted) == []


def test_decrement_and_cancel_with_the_larger_incoming_order_reduces_it_and_matches_on(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)
    venue.submit(2, SELL, 10, 10_100, account=BOB)

    events = venue.submit(3, BUY, 15, 10_100, account=ALICE, self_trade_prevention=STP_DECREMENT_AND_CANCEL)

    assert venue.kinds(events) == [
        "OrderAccepted",
        "OrderReduced",
        "OrderCancelled",
        "BookLevelChanged",
        "TradeExecuted",
        "BookLevelChanged",
    ]
    venue.expect(events[1], OrderReduced, order_id=3, reduced_by=10, quantity=5, leaves=5)
    venue.expect(events[2], OrderCancelled, order_id=1, reason=CANCEL_REASON_SELF_TRADE, cancelled_quantity=10)
    venue.expect(events[3], BookLevelChanged, price=10_000, quantity=0, order_count=0)
    venue.expect(events[4], TradeExecuted, maker_order_id=2, price=10_100, quantity=5, taker_leaves=0, maker_leaves=5)
    venue.expect(events[5], BookLevelChanged, price=10_100, quantity=5, order_count=1)
    assert venue.live(ALICE) == []


def test_decrement_and_cancel_rests_what_is_left_of_the_larger_incoming_order(venue: Venue) -> None:
    venue.submit(1, SELL, 4, 10_000, account=ALICE)

    events = venue.submit(2, BUY, 10, 10_000, account=ALICE, self_trade_prevention=STP_DECREMENT_AND_CANCEL)

    assert venue.kinds(events) == [
        "OrderAccepted",
        "OrderReduced",
        "OrderCancelled",
        "BookLevelChanged",
        "BookLevelChanged",
    ]
    venue.expect(events[4], BookLevelChanged, side=BUY, price=10_000, quantity=6, order_count=1)
    rested = venue.order(2)
    assert rested is not None
    assert (rested.quantity, rested.filled, rested.leaves, rested.visible, rested.status) == (6, 0, 6, 6, "NEW")


def test_decrement_and_cancel_with_equal_sizes_cancels_both(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)

    events = venue.submit(2, BUY, 10, 10_000, account=ALICE, self_trade_prevention=STP_DECREMENT_AND_CANCEL)

    assert venue.kinds(events) == ["OrderAccepted", "OrderCancelled", "BookLevelChanged", "OrderCancelled"]
    venue.expect(events[1], OrderCancelled, order_id=1, reason=CANCEL_REASON_SELF_TRADE, cancelled_quantity=10)
    venue.expect(events[3], OrderCancelled, order_id=2, reason=CANCEL_REASON_SELF_TRADE, cancelled_quantity=10)
    assert (venue.bids(), venue.asks()) == ([], [])


def test_decrement_and_cancel_counts_an_icebergs_hidden_quantity(venue: Venue) -> None:
    venue.submit(1, SELL, 15, 10_000, display_quantity=10, account=ALICE)

    events = venue.submit(2, BUY, 12, 10_000, account=ALICE, self_trade_prevention=STP_DECREMENT_AND_CANCEL)

    venue.expect(events[1], OrderReduced, order_id=1, reduced_by=12, quantity=3, leaves=3)
    venue.expect(events[2], BookLevelChanged, price=10_000, quantity=3, order_count=1)
    iceberg = venue.order(1)
    assert iceberg is not None
    assert (iceberg.leaves, iceberg.visible) == (3, 3)


def test_decrement_and_cancel_leaves_an_icebergs_slice_alone_while_the_reserve_covers_it(venue: Venue) -> None:
    venue.submit(1, SELL, 30, 10_000, display_quantity=10, account=ALICE)

    events = venue.submit(2, BUY, 12, 10_000, account=ALICE, self_trade_prevention=STP_DECREMENT_AND_CANCEL)

    venue.expect(events[1], OrderReduced, order_id=1, reduced_by=12, quantity=18, leaves=18)
    venue.expect(events[2], BookLevelChanged, price=10_000, quantity=10, order_count=1)


@pytest.mark.parametrize("mode", ALL_MODES)
def test_prevention_never_stops_trades_between_different_accounts(venue: Venue, mode: int) -> None:
    venue.run(SetSelfTradePrevention(ALICE, mode))
    venue.submit(1, SELL, 10, 10_000, account=BOB)

    events = venue.submit(2, BUY, 10, 10_000, account=ALICE, self_trade_prevention=mode)

    assert venue.kinds(events) == ["OrderAccepted", "TradeExecuted", "BookLevelChanged"]


def test_the_takers_mode_decides_not_the_resting_orders(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE, self_trade_prevention=STP_CANCEL_BOTH)

    events = venue.submit(2, BUY, 10, 10_000, account=ALICE, self_trade_prevention=STP_NONE)

    venue.expect(events[1], TradeExecuted, taker_order_id=2, maker_order_id=1, quantity=10)


# -- the account's mode ----------------------------------------------------------------


def test_setting_an_accounts_mode_is_confirmed_by_an_event(venue: Venue) -> None:
    events = venue.run(SetSelfTradePrevention(ALICE, STP_CANCEL_NEWEST), ts=7_000)

    assert venue.kinds(events) == ["SelfTradePreventionSet"]
    venue.expect(events[0], SelfTradePreventionSet, sequence=1, ts=7_000, account=ALICE, mode=STP_CANCEL_NEWEST)


def test_orders_that_name_no_mode_use_their_accounts_mode(venue: Venue) -> None:
    venue.run(SetSelfTradePrevention(ALICE, STP_CANCEL_NEWEST))
    venue.submit(1, SELL, 10, 10_000, account=ALICE)

    events = venue.submit(2, BUY, 10, 10_000, account=ALICE)

    assert venue.kinds(events) == ["OrderAccepted", "OrderCancelled"]
    venue.expect(events[1], OrderCancelled, order_id=2, reason=CANCEL_REASON_SELF_TRADE)
    view = venue.order(1)
    assert view is not None
    assert view.self_trade_prevention == STP_CANCEL_NEWEST


def test_an_accounts_mode_binds_only_that_account(venue: Venue) -> None:
    venue.run(SetSelfTradePrevention(ALICE, STP_CANCEL_NEWEST))
    venue.submit(1, SELL, 10, 10_000, account=BOB)

    events = venue.submit(2, BUY, 10, 10_000, account=BOB)

    venue.expect(events[1], TradeExecuted, taker_account=BOB, maker_account=BOB)


def test_an_orders_own_mode_overrides_its_accounts_mode(venue: Venue) -> None:
    venue.run(SetSelfTradePrevention(ALICE, STP_CANCEL_NEWEST))
    venue.submit(1, SELL, 10, 10_000, account=ALICE)

    events = venue.submit(2, BUY, 4, 10_000, account=ALICE, self_trade_prevention=STP_NONE)

    venue.expect(events[1], TradeExecuted, taker_order_id=2, maker_order_id=1, quantity=4)


def test_an_account_can_return_to_no_prevention(venue: Venue) -> None:
    venue.run(SetSelfTradePrevention(ALICE, STP_CANCEL_BOTH))
    venue.run(SetSelfTradePrevention(ALICE, STP_NONE))
    venue.submit(1, SELL, 10, 10_000, account=ALICE)

    events = venue.submit(2, BUY, 10, 10_000, account=ALICE)

    venue.expect(events[1], TradeExecuted, quantity=10)


def test_an_order_records_the_account_mode_in_force_when_it_was_entered(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)
    venue.run(SetSelfTradePrevention(ALICE, STP_CANCEL_OLDEST))
    venue.submit(2, SELL, 10, 10_100, account=ALICE)

    first, second = venue.order(1), venue.order(2)
    assert first is not None
    assert second is not None
    assert (first.self_trade_prevention, second.self_trade_prevention) == (STP_NONE, STP_CANCEL_OLDEST)


# -- fill or kill under prevention -------------------------------------------------------


@pytest.mark.parametrize("mode", [STP_CANCEL_NEWEST, STP_CANCEL_BOTH, STP_DECREMENT_AND_CANCEL])
def test_fok_that_would_meet_its_own_order_before_filling_is_not_filled(venue: Venue, mode: int) -> None:
    venue.submit(1, SELL, 5, 10_000, account=ALICE)
    venue.submit(2, SELL, 20, 10_000, account=BOB)
    before = venue.snapshot()

    events = venue.submit(3, BUY, 10, 10_000, time_in_force=FOK, account=ALICE, self_trade_prevention=mode)

    assert venue.kinds(events) == ["OrderAccepted", "OrderCancelled"]
    venue.expect(events[1], OrderCancelled, order_id=3, reason=CANCEL_REASON_FOK_NOT_FILLED, cancelled_quantity=10)
    assert venue.snapshot() == before


def test_fok_cancel_oldest_skips_its_own_orders_and_fills_from_others(venue: Venue) -> None:
    venue.submit(1, SELL, 5, 10_000, account=ALICE)
    venue.submit(2, SELL, 10, 10_000, account=BOB)

    events = venue.submit(3, BUY, 10, 10_000, time_in_force=FOK, account=ALICE, self_trade_prevention=STP_CANCEL_OLDEST)

    assert venue.kinds(events) == [
        "OrderAccepted",
        "OrderCancelled",
        "BookLevelChanged",
        "TradeExecuted",
        "BookLevelChanged",
    ]
    venue.expect(events[1], OrderCancelled, order_id=1, reason=CANCEL_REASON_SELF_TRADE, cancelled_quantity=5)
    venue.expect(events[3], TradeExecuted, maker_order_id=2, quantity=10, taker_leaves=0)


def test_fok_cancel_oldest_does_not_count_its_own_orders_as_liquidity(venue: Venue) -> None:
    venue.submit(1, SELL, 5, 10_000, account=ALICE)
    venue.submit(2, SELL, 5, 10_000, account=BOB)
    before = venue.snapshot()

    events = venue.submit(3, BUY, 10, 10_000, time_in_force=FOK, account=ALICE, self_trade_prevention=STP_CANCEL_OLDEST)

    assert venue.kinds(events) == ["OrderAccepted", "OrderCancelled"]
    venue.expect(events[1], OrderCancelled, order_id=3, reason=CANCEL_REASON_FOK_NOT_FILLED)
    assert venue.snapshot() == before  # its own resting order was not cancelled either


def test_fok_that_fills_before_reaching_its_own_order_fills(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=BOB)
    venue.submit(2, SELL, 5, 10_000, account=ALICE)

    events = venue.submit(3, BUY, 10, 10_000, time_in_force=FOK, account=ALICE, self_trade_prevention=STP_CANCEL_NEWEST)

    assert venue.kinds(events) == ["OrderAccepted", "TradeExecuted", "BookLevelChanged"]
    assert venue.live(ALICE) == [2]


def test_fok_without_prevention_counts_its_own_orders(venue: Venue) -> None:
    venue.submit(1, SELL, 5, 10_000, account=ALICE)
    venue.submit(2, SELL, 5, 10_000, account=BOB)

    events = venue.submit(3, BUY, 10, 10_000, time_in_force=FOK, account=ALICE)

    assert [t.maker_order_id for t in venue.of_type(events, TradeExecuted)] == [1, 2]


def test_fok_counts_only_the_visible_slice_of_an_iceberg_queued_ahead_of_its_own_order(venue: Venue) -> None:
    # The iceberg's refill joins the back of the level, behind the taker's own order.
    venue.submit(1, SELL, 100, 10_000, display_quantity=10, account=BOB)
    venue.submit(2, SELL, 50, 10_000, account=ALICE)
    before = venue.snapshot()

    refused = venue.submit(
        3, BUY, 11, 10_000, time_in_force=FOK, account=ALICE, self_trade_prevention=STP_CANCEL_NEWEST
    )
    assert venue.kinds(refused) == ["OrderAccepted", "OrderCancelled"]
    venue.expect(refused[1], OrderCancelled, order_id=3, reason=CANCEL_REASON_FOK_NOT_FILLED, cancelled_quantity=11)
    assert venue.snapshot() == before

    filled = venue.submit(4, BUY, 10, 10_000, time_in_force=FOK, account=ALICE, self_trade_prevention=STP_CANCEL_NEWEST)
    assert venue.kinds(filled) == ["OrderAccepted", "TradeExecuted", "BookLevelChanged"]
    assert venue.queue(SELL, 10_000) == [2, 1]


def test_an_order_reduced_by_prevention_amends_from_its_reduced_quantity(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)
    venue.submit(2, BUY, 3, 10_000, account=BOB)
    venue.submit(3, BUY, 4, 10_000, account=ALICE, self_trade_prevention=STP_DECREMENT_AND_CANCEL)
    reduced = venue.order(1)
    assert reduced is not None
    assert (reduced.quantity, reduced.filled, reduced.leaves) == (6, 3, 3)

    shrunk = venue.amend(1, 5, account=ALICE)
    venue.expect(shrunk[0], OrderReplaced, quantity=5, leaves=2, priority_kept=True)
    venue.expect(shrunk[1], BookLevelChanged, price=10_000, quantity=2, order_count=1)

    moved = venue.amend(1, 5, price=10_100, account=ALICE)
    venue.expect(moved[1], OrderReplaced, price=10_100, quantity=5, leaves=2, priority_kept=False)
    assert venue.asks() == [(10_100, 2, 1)]


def test_an_order_repriced_into_its_own_account_uses_its_own_stored_mode(venue: Venue) -> None:
    venue.submit(1, SELL, 5, 10_000, account=ALICE)
    venue.submit(2, BUY, 5, 9_900, account=ALICE, self_trade_prevention=STP_CANCEL_NEWEST)

    events = venue.amend(2, 5, price=10_000, account=ALICE)

    assert venue.kinds(events) == ["BookLevelChanged", "OrderReplaced", "OrderCancelled"]
    venue.expect(events[2], OrderCancelled, order_id=2, reason=CANCEL_REASON_SELF_TRADE, cancelled_quantity=5)
    assert venue.live(ALICE) == [1]


def test_a_triggered_stop_uses_the_mode_resolved_when_it_was_accepted(venue: Venue) -> None:
    venue.submit(1, BUY, 2, order_type=STOP, stop_price=10_000, account=ALICE)  # account mode NONE then
    venue.run(SetSelfTradePrevention(ALICE, STP_CANCEL_NEWEST))
    venue.submit(2, SELL, 5, 10_000, account=ALICE)

    events = venue.submit(3, BUY, 1, 10_000, account=BOB)

    assert venue.kinds(events)[3:] == ["StopTriggered", "TradeExecuted", "BookLevelChanged"]
    venue.expect(events[4], TradeExecuted, taker_order_id=1, maker_order_id=2, taker_account=ALICE, maker_account=ALICE)


def test_a_triggered_stop_meeting_its_own_account_is_prevented_by_its_mode(venue: Venue) -> None:
    venue.submit(1, BUY, 2, order_type=STOP, stop_price=10_000, account=ALICE, self_trade_prevention=STP_CANCEL_OLDEST)
    venue.submit(2, SELL, 1, 10_000, account=BOB)
    venue.submit(3, SELL, 5, 10_000, account=ALICE)
    venue.submit(4, SELL, 5, 10_100, account=BOB)

    events = venue.submit(5, BUY, 1, 10_000, account=CAROL)

    assert venue.kinds(events)[3:] == [
        "StopTriggered",
        "OrderCancelled",
        "BookLevelChanged",
        "TradeExecuted",
        "BookLevelChanged",
    ]
    venue.expect(events[4], OrderCancelled, order_id=3, reason=CANCEL_REASON_SELF_TRADE, cancelled_quantity=5)
    venue.expect(events[6], TradeExecuted, taker_order_id=1, maker_order_id=4, price=10_100, quantity=2)
