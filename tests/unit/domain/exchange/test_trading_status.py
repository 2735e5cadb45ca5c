"""Kill switches, instrument halts and account states: what each stops, what each still allows."""

from __future__ import annotations

import pytest
from tests.unit.domain.exchange.harness import AAPL, ALICE, BOB, CAROL, MSFT, Market

from hft.core import rejects
from hft.domain.commands import MassCancel
from hft.domain.events import CANCEL_REASON_MASS_CANCEL, BookLevelChanged, OrderCancelled, OrderReplaced
from hft.domain.exchange.accounts import ACTIVE, HALTED, REDUCING
from hft.domain.exchange.commands import SetAccountState, SetInstrumentHalt, SetKillSwitch
from hft.domain.exchange.events import AccountChanged, InstrumentHaltSet, KillSwitchSet
from hft.domain.orders import BUY, IOC, MARKET, SELL, STOP

# -- kill switches ---------------------------------------------------------------------


def test_engaging_an_accounts_kill_switch_cancels_every_open_order_of_that_account(market: Market) -> None:
    bid = market.buy(5, 9_000, account=ALICE)
    ask = market.sell(3, 21_000, account=ALICE, symbol=MSFT)
    stop = market.place(SELL, 2, order_type=STOP, stop_price=8_000, account=ALICE)
    other = market.buy(1, 8_500, account=BOB)

    events = market.apply(SetKillSwitch(ALICE, True))

    assert market.kinds(events) == [
        "KillSwitchSet",
        "OrderCancelled",
        "BookLevelChanged",
        "OrderCancelled",
        "BookLevelChanged",
        "OrderCancelled",
    ]
    market.expect(events[0], KillSwitchSet, account=ALICE, engaged=True)
    cancelled = market.of_type(events, OrderCancelled)
    assert [(event.order_id, event.reason, event.cancelled_quantity) for event in cancelled] == [
        (bid, CANCEL_REASON_MASS_CANCEL, 5),
        (ask, CANCEL_REASON_MASS_CANCEL, 3),
        (stop, CANCEL_REASON_MASS_CANCEL, 2),
    ]
    assert [(level.symbol, level.price, level.quantity) for level in market.of_type(events, BookLevelChanged)] == [
        (AAPL, 9_000, 0),
        (MSFT, 21_000, 0),
    ]
    view = market.account(ALICE)
    assert (view.kill_switch, view.open_orders, view.open_buy_notional) == (True, 0, 0)
    assert other in market.exchange.open_orders


def test_an_engaged_account_kill_switch_refuses_new_orders_until_released(market: Market) -> None:
    market.apply(SetKillSwitch(ALICE, True))

    assert market.rejected(market.submit(BUY, 1, 9_000, account=ALICE)) == rejects.KILL_SWITCH_ACTIVE
    assert market.rejected(market.submit(SELL, 1, 9_000, account=ALICE, symbol=MSFT)) == rejects.KILL_SWITCH_ACTIVE
    assert market.account(ALICE).reject_count == 2
    market.buy(1, 9_000, account=BOB)  # other accounts trade on

    events = market.apply(SetKillSwitch(ALICE, False))

    assert market.kinds(events) == ["KillSwitchSet"]
    market.expect(events[0], KillSwitchSet, account=ALICE, engaged=False)
    assert not market.account(ALICE).kill_switch
    market.sell(1, 9_000, account=ALICE)
    assert market.position(ALICE).net == -1


def test_cancels_pass_through_an_engaged_kill_switch(market: Market) -> None:
    order_id = market.buy(1, 9_000, account=ALICE)
    market.apply(SetKillSwitch(ALICE, True))

    # Nothing is left to cancel, but cancels reach the engine instead of being refused.
    assert market.rejected(market.cancel(order_id)) == rejects.UNKNOWN_ORDER
    assert market.apply(MassCancel(ALICE)) == []


def test_engaging_a_kill_switch_without_open_orders_only_reports_it(market: Market) -> None:
    assert market.kinds(market.apply(SetKillSwitch(ALICE, True))) == ["KillSwitchSet"]
    assert market.kinds(market.apply(SetKillSwitch(ALICE, True))) == ["KillSwitchSet"]


def test_the_venue_kill_switch_cancels_every_accounts_orders_in_account_order(market: Market) -> None:
    bob_order = market.buy(1, 9_000, account=BOB)
    alice_order = market.sell(1, 11_000, account=ALICE)
    carol_stop = market.place(BUY, 1, order_type=STOP, stop_price=12_000, account=CAROL)

    events = market.apply(SetKillSwitch(0, True))

    market.expect(events[0], KillSwitchSet, account=0, engaged=True)
    assert [event.order_id for event in market.of_type(events, OrderCancelled)] == [
        alice_order,
        bob_order,
        carol_stop,
    ]
    assert market.exchange.engine.orders == {}
    assert market.exchange.venue_kill_switch
    assert not market.account(ALICE).kill_switch  # the venue's switch, not the account's


def test_the_venue_kill_switch_refuses_every_account_until_released(market: Market) -> None:
    market.apply(SetKillSwitch(0, True))
    for account_id in (ALICE, BOB, CAROL):
        assert market.rejected(market.submit(BUY, 1, 9_000, account=account_id)) == rejects.KILL_SWITCH_ACTIVE

    assert market.kinds(market.apply(SetKillSwitch(0, False))) == ["KillSwitchSet"]

    market.buy(1, 9_000, account=BOB)


def test_releasing_the_venue_kill_switch_leaves_an_accounts_own_switch_engaged(market: Market) -> None:
    market.apply(SetKillSwitch(ALICE, True))
    market.apply(SetKillSwitch(0, True))
    market.apply(SetKillSwitch(0, False))

    assert market.rejected(market.submit(BUY, 1, 9_000, account=ALICE)) == rejects.KILL_SWITCH_ACTIVE
    market.buy(1, 9_000, account=BOB)


# -- instrument halts ---------------------------------------------------------------------


def test_halting_an_instrument_refuses_new_orders_in_it_and_keeps_its_book(market: Market) -> None:
    resting = market.buy(5, 9_000, account=ALICE)
    book_before = market.hash()

    events = market.apply(SetInstrumentHalt(AAPL, True))

    market.expect(events[0], InstrumentHaltSet, symbol=AAPL, halted=True)
    assert len(events) == 1
    assert resting in market.exchange.engine.orders
    for account_id, side in ((ALICE, BUY), (BOB, SELL)):
        assert market.rejected(market.submit(side, 1, 9_000, account=account_id)) == rejects.INSTRUMENT_HALTED
    code = market.rejected(market.submit(SELL, 1, order_type=MARKET, time_in_force=IOC, account=BOB))
    assert code == rejects.INSTRUMENT_HALTED
    # Other instruments trade on.
    market.trade(20_000, symbol=MSFT)
    assert book_before != market.hash()


def test_a_halted_instrument_refuses_amends_but_allows_cancels(market: Market) -> None:
    first = market.buy(5, 9_000, account=ALICE)
    second = market.buy(5, 9_000, account=ALICE)
    market.apply(SetInstrumentHalt(AAPL, True))

    assert market.rejected(market.amend(first, 4)) == rejects.INSTRUMENT_HALTED
    assert market.rejected(market.amend(first, 6, 9_100)) == rejects.INSTRUMENT_HALTED
    assert market.exchange.engine.orders[first].quantity == 5

    assert market.kinds(market.cancel(first)) == ["OrderCancelled", "BookLevelChanged"]
    assert market.kinds(market.apply(MassCancel(ALICE, AAPL))) == ["OrderCancelled", "BookLevelChanged"]
    assert second not in market.exchange.open_orders


def test_resuming_an_instrument_lets_orders_in_and_trade_against_the_kept_book(market: Market) -> None:
    market.buy(5, 9_000, account=ALICE)
    market.apply(SetInstrumentHalt(AAPL, True))

    events = market.apply(SetInstrumentHalt(AAPL, False))

    market.expect(events[0], InstrumentHaltSet, symbol=AAPL, halted=False)
    market.submit(SELL, 5, 9_000, account=BOB)
    assert market.position(ALICE).net == 5
    assert market.exchange.halted == {}


def test_resuming_an_instrument_that_is_not_halted_is_harmless(market: Market) -> None:
    events = market.apply(SetInstrumentHalt(MSFT, False))

    market.expect(events[0], InstrumentHaltSet, symbol=MSFT, halted=False)
    market.buy(1, 9_000, symbol=MSFT)


# -- account states -------------------------------------------------------------------------


def test_a_halted_account_may_only_cancel_and_its_resting_orders_stay(market: Market) -> None:
    first = market.buy(5, 9_000, account=ALICE)
    second = market.buy(5, 8_900, account=ALICE)

    events = market.apply(SetAccountState(ALICE, HALTED))

    market.expect(events[0], AccountChanged, account=ALICE, state=HALTED)
    assert len(events) == 1
    assert market.rejected(market.submit(SELL, 1, 11_000, account=ALICE)) == rejects.ACCOUNT_HALTED
    assert market.rejected(market.amend(first, 4)) == rejects.ACCOUNT_HALTED
    assert market.kinds(market.cancel(first)) == ["OrderCancelled", "BookLevelChanged"]
    # Its orders still in the book can still be filled by others.
    market.submit(SELL, 5, 8_900, account=BOB)
    assert market.position(ALICE).net == 5
    assert second not in market.exchange.open_orders

    market.apply(SetAccountState(ALICE, ACTIVE))

    market.buy(1, 9_000, account=ALICE)


@pytest.mark.parametrize(
    ("side", "quantity", "code"),
    [(SELL, 9, 0), (SELL, 10, 0), (SELL, 11, rejects.REDUCE_ONLY), (BUY, 1, rejects.REDUCE_ONLY)],
)
def test_a_reducing_long_may_only_sell_up_to_its_position(market: Market, side: int, quantity: int, code: int) -> None:
    market.trade(10_000, 10, buyer=ALICE, seller=BOB)
    market.apply(SetAccountState(ALICE, REDUCING))

    events = market.submit(side, quantity, 12_000 if side == SELL else 9_000, account=ALICE)

    assert market.outcome(events) == code


@pytest.mark.parametrize(
    ("side", "quantity", "code"),
    [(BUY, 10, 0), (BUY, 11, rejects.REDUCE_ONLY), (SELL, 1, rejects.REDUCE_ONLY)],
)
def test_a_reducing_short_may_only_buy_up_to_its_position(market: Market, side: int, quantity: int, code: int) -> None:
    market.trade(10_000, 10, buyer=BOB, seller=ALICE)
    market.apply(SetAccountState(ALICE, REDUCING))

    events = market.submit(side, quantity, 9_000 if side == BUY else 12_000, account=ALICE)

    assert market.outcome(events) == code


@pytest.mark.parametrize(("quantity", "code"), [(4, 0), (5, rejects.REDUCE_ONLY)])
def test_a_reducing_account_counts_its_open_reducing_orders(market: Market, quantity: int, code: int) -> None:
    market.trade(10_000, 10, buyer=ALICE, seller=BOB)
    market.sell(6, 12_000, account=ALICE)
    market.buy(3, 9_000, account=ALICE)  # open buys do not offset open sells
    market.apply(SetAccountState(ALICE, REDUCING))

    events = market.submit(SELL, quantity, 12_500, account=ALICE)

    assert market.outcome(events) == code


def test_a_flat_reducing_account_may_not_open_anything(market: Market) -> None:
    market.apply(SetAccountState(ALICE, REDUCING))

    assert market.rejected(market.submit(BUY, 1, 9_000, account=ALICE)) == rejects.REDUCE_ONLY
    assert market.rejected(market.submit(SELL, 1, 9_000, account=ALICE)) == rejects.REDUCE_ONLY


def test_a_reducing_account_may_shrink_or_reprice_but_not_grow_an_order_past_its_position(market: Market) -> None:
    market.trade(10_000, 10, buyer=ALICE, seller=BOB)
    order_id = market.sell(5, 12_000, account=ALICE)
    market.apply(SetAccountState(ALICE, REDUCING))

    assert market.rejected(market.amend(order_id, 11)) == rejects.REDUCE_ONLY
    market.one(market.amend(order_id, 4), OrderReplaced)
    market.one(market.amend(order_id, 4, 11_500), OrderReplaced)
    assert market.position(ALICE).open_sell == 4


def test_a_reducing_account_trading_its_position_down_may_no_longer_sell_as_much(market: Market) -> None:
    market.trade(10_000, 10, buyer=ALICE, seller=BOB)
    market.apply(SetAccountState(ALICE, REDUCING))
    market.buy(6, 10_000, account=CAROL)
    market.submit(SELL, 6, 10_000, account=ALICE)

    assert market.rejected(market.submit(SELL, 5, 12_000, account=ALICE)) == rejects.REDUCE_ONLY
    market.sell(4, 12_000, account=ALICE)


def test_an_account_back_to_active_may_open_positions_again(market: Market) -> None:
    market.apply(SetAccountState(ALICE, REDUCING))
    events = market.apply(SetAccountState(ALICE, ACTIVE))

    market.expect(events[0], AccountChanged, account=ALICE, state=ACTIVE)
    market.buy(1, 9_000, account=ALICE)


def test_the_kill_switch_is_reported_before_an_account_halt_and_that_before_an_instrument_halt(
    market: Market,
) -> None:
    market.apply(SetInstrumentHalt(AAPL, True))
    market.apply(SetAccountState(ALICE, HALTED))
    market.apply(SetKillSwitch(ALICE, True))
    assert market.rejected(market.submit(BUY, 1, 9_000)) == rejects.KILL_SWITCH_ACTIVE

    market.apply(SetKillSwitch(ALICE, False))
    assert market.rejected(market.submit(BUY, 1, 9_000)) == rejects.ACCOUNT_HALTED

    market.apply(SetAccountState(ALICE, ACTIVE))
    assert market.rejected(market.submit(BUY, 1, 9_000)) == rejects.INSTRUMENT_HALTED
