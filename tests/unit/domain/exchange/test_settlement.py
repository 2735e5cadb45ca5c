"""Settlement of fills: cash, positions, realized and unrealized P&L, fees, and PositionChanged events."""

from __future__ import annotations

from tests.unit.domain.exchange.harness import (
    AAPL,
    ALICE,
    BOB,
    BTC,
    BTC_CASH_PER_TICK_LOT,
    CAROL,
    CASH_PER_TICK_LOT,
    MSFT,
    RICH,
    Market,
    cash,
    fee,
    notional,
)

from hft.domain.events import BookLevelChanged, OrderAccepted, OrderRejected, TradeExecuted
from hft.domain.exchange import queries
from hft.domain.exchange.commands import SetMarkPrice
from hft.domain.exchange.events import MarkPriceSet, PositionChanged
from hft.domain.orders import BUY, IOC, MARKET, SELL, STOP


def _fee_market(maker_fee_bps: int, taker_fee_bps: int) -> Market:
    market = Market()
    for account_id in (ALICE, BOB, CAROL):
        market.open_account(account_id, RICH, maker_fee_bps=maker_fee_bps, taker_fee_bps=taker_fee_bps)
    return market


def test_a_trade_moves_its_notional_from_the_buyers_cash_to_the_sellers(market: Market) -> None:
    market.sell(10, 10_000, account=ALICE)

    events = market.submit(BUY, 10, 10_000, account=BOB)

    assert market.kinds(events) == [
        "OrderAccepted",
        "TradeExecuted",
        "BookLevelChanged",
        "PositionChanged",
        "PositionChanged",
    ]
    amount = notional(10_000, 10)
    assert amount == cash(1_000)
    market.expect(
        events[3],
        PositionChanged,
        account=BOB,
        symbol=AAPL,
        net_quantity=10,
        open_cost=amount,
        realized_pnl=0,
        fees_paid=0,
        cash=RICH - amount,
    )
    market.expect(
        events[4],
        PositionChanged,
        account=ALICE,
        symbol=AAPL,
        net_quantity=-10,
        open_cost=-amount,
        realized_pnl=0,
        fees_paid=0,
        cash=RICH + amount,
    )
    assert market.account(BOB).cash == RICH - amount
    assert market.account(ALICE).cash == RICH + amount


def test_position_changed_follows_every_engine_event_once_per_account_touched(market: Market) -> None:
    market.sell(5, 10_000, account=ALICE)
    market.sell(5, 10_100, account=CAROL)
    market.sell(5, 10_200, account=ALICE)

    events = market.submit(BUY, 15, 10_200, account=BOB)

    assert market.kinds(events) == [
        "OrderAccepted",
        "TradeExecuted",
        "BookLevelChanged",
        "TradeExecuted",
        "BookLevelChanged",
        "TradeExecuted",
        "BookLevelChanged",
        "PositionChanged",
        "PositionChanged",
        "PositionChanged",
    ]
    changes = market.of_type(events, PositionChanged)
    assert [(change.account, change.net_quantity) for change in changes] == [(BOB, 15), (ALICE, -10), (CAROL, -5)]
    paid = notional(10_000, 5) + notional(10_100, 5) + notional(10_200, 5)
    assert changes[0].open_cost == paid
    assert changes[0].cash == RICH - paid
    assert changes[1].open_cost == -(notional(10_000, 5) + notional(10_200, 5))


def test_a_command_that_trades_nothing_emits_no_position_changed(market: Market) -> None:
    market.sell(5, 10_100, account=ALICE)

    events = market.submit(BUY, 5, 10_000, account=BOB)

    assert market.kinds(events) == ["OrderAccepted", "BookLevelChanged"]


def test_positions_in_two_symbols_are_kept_and_reported_apart(market: Market) -> None:
    market.trade(10_000, 3, buyer=ALICE, seller=BOB, symbol=AAPL)
    market.trade(20_000, 2, buyer=BOB, seller=ALICE, symbol=MSFT)

    assert (market.position(ALICE, AAPL).net, market.position(ALICE, MSFT).net) == (3, -2)
    assert (market.position(BOB, AAPL).net, market.position(BOB, MSFT).net) == (-3, 2)
    assert market.account(ALICE).cash == RICH - notional(10_000, 3) + notional(20_000, 2)


def test_the_taker_pays_the_taker_fee_and_the_maker_the_maker_fee() -> None:
    market = _fee_market(maker_fee_bps=2, taker_fee_bps=5)
    market.sell(10, 10_000, account=ALICE)  # maker, selling

    events = market.submit(BUY, 10, 10_000, account=BOB)  # taker, buying

    amount = notional(10_000, 10)
    maker_fee, taker_fee = fee(amount, 2), fee(amount, 5)
    assert (maker_fee, taker_fee) == (cash("0.2"), cash("0.5"))
    bob, alice = market.of_type(events, PositionChanged)
    assert (bob.account, bob.fees_paid, bob.cash) == (BOB, taker_fee, RICH - amount - taker_fee)
    assert (alice.account, alice.fees_paid, alice.cash) == (ALICE, maker_fee, RICH + amount - maker_fee)
    # Fees are kept apart from realized P&L.
    assert bob.realized_pnl == alice.realized_pnl == 0
    assert market.exchange.fees_collected == maker_fee + taker_fee
    assert market.account(BOB).fees_paid == taker_fee
    assert market.position(ALICE).fees == maker_fee


def test_a_selling_taker_pays_the_taker_fee_and_a_buying_maker_the_maker_fee() -> None:
    market = _fee_market(maker_fee_bps=1, taker_fee_bps=10)
    market.buy(4, 10_000, account=ALICE)  # maker, buying

    market.submit(SELL, 4, 9_000, account=BOB)  # taker, selling at the maker's price

    amount = notional(10_000, 4)
    assert market.account(ALICE).cash == RICH - amount - fee(amount, 1)
    assert market.account(BOB).cash == RICH + amount - fee(amount, 10)
    assert market.account(ALICE).fees_paid == fee(amount, 1)
    assert market.account(BOB).fees_paid == fee(amount, 10)


def test_accounts_with_different_fees_pay_their_own_rates() -> None:
    market = Market()
    market.open_account(ALICE, RICH, maker_fee_bps=0, taker_fee_bps=30)
    market.open_account(BOB, RICH, maker_fee_bps=7, taker_fee_bps=0)
    market.sell(2, 10_000, account=BOB)

    market.submit(BUY, 2, 10_000, account=ALICE)

    amount = notional(10_000, 2)
    assert market.account(ALICE).fees_paid == fee(amount, 30)
    assert market.account(BOB).fees_paid == fee(amount, 7)


def test_fees_round_down_to_a_whole_cash_unit() -> None:
    market = Market()
    market.open_account(ALICE, RICH, maker_fee_bps=3, taker_fee_bps=7)
    market.open_account(BOB, RICH, maker_fee_bps=3, taker_fee_bps=7)
    market.sell(1, 12_345, account=ALICE, symbol=BTC)

    market.submit(BUY, 1, 12_345, account=BOB, symbol=BTC)

    amount = 12_345 * BTC_CASH_PER_TICK_LOT  # 0.0001 BTC at 123.45: 0.012345 in cash
    assert amount == cash("0.012345")
    assert market.account(BOB).fees_paid == 864  # 864.15 rounded down
    assert market.account(ALICE).fees_paid == 370  # 370.35 rounded down
    assert market.account(BOB).cash == RICH - amount - 864


def test_each_fill_of_a_sweep_is_charged_its_own_rounded_fee() -> None:
    market = _fee_market(maker_fee_bps=0, taker_fee_bps=7)
    market.sell(1, 12_345, account=ALICE, symbol=BTC)
    market.sell(1, 12_345, account=CAROL, symbol=BTC)

    market.submit(BUY, 2, 12_345, account=BOB, symbol=BTC)

    assert market.account(BOB).fees_paid == 2 * 864  # not 1728.3 rounded once


def test_a_self_trade_leaves_the_position_flat_and_charges_both_fees_to_the_account() -> None:
    market = _fee_market(maker_fee_bps=2, taker_fee_bps=5)
    market.sell(3, 10_000, account=ALICE)

    events = market.submit(BUY, 3, 10_000, account=ALICE)

    (change,) = market.of_type(events, PositionChanged)
    amount = notional(10_000, 3)
    paid = fee(amount, 2) + fee(amount, 5)
    assert (change.account, change.net_quantity, change.open_cost, change.realized_pnl) == (ALICE, 0, 0, 0)
    assert (change.fees_paid, change.cash) == (paid, RICH - paid)
    assert market.position(ALICE).volume == 6


def test_adding_to_a_long_averages_its_cost_and_selling_part_realizes_against_that_average(market: Market) -> None:
    market.trade(10_000, 10, buyer=ALICE, seller=BOB)
    market.trade(10_200, 10, buyer=ALICE, seller=BOB)
    assert market.position(ALICE).open_cost == notional(10_100, 20)  # an average of 101.00

    market.sell(15, 10_300, account=ALICE)
    events = market.submit(BUY, 15, 10_300, account=CAROL)

    alice = next(change for change in market.of_type(events, PositionChanged) if change.account == ALICE)
    assert alice.net_quantity == 5
    assert alice.realized_pnl == cash(30)  # 15 shares at 2.00 over their average
    assert alice.open_cost == notional(10_100, 5)
    view = market.position(ALICE)
    assert (view.net, view.realized, view.open_cost, view.volume) == (5, cash(30), notional(10_100, 5), 35)


def test_selling_through_zero_reports_the_new_short_and_the_realized_gain(market: Market) -> None:
    market.trade(10_000, 10, buyer=ALICE, seller=BOB)
    market.buy(15, 11_000, account=CAROL)

    events = market.submit(SELL, 15, 11_000, account=ALICE)

    alice = next(change for change in market.of_type(events, PositionChanged) if change.account == ALICE)
    assert (alice.net_quantity, alice.realized_pnl, alice.open_cost) == (-5, cash(100), -notional(11_000, 5))


def test_buying_a_short_back_through_zero_reports_the_new_long_and_the_realized_loss(market: Market) -> None:
    market.trade(10_000, 10, buyer=BOB, seller=ALICE)
    market.sell(12, 10_500, account=CAROL)

    events = market.submit(BUY, 12, 10_500, account=ALICE)

    alice = next(change for change in market.of_type(events, PositionChanged) if change.account == ALICE)
    assert (alice.net_quantity, alice.realized_pnl, alice.open_cost) == (2, -cash(50), notional(10_500, 2))


def test_closing_a_position_completely_leaves_no_cost_and_all_of_the_pnl_realized(market: Market) -> None:
    market.trade(10_000, 3, buyer=ALICE, seller=BOB)
    market.trade(10_001, 4, buyer=ALICE, seller=BOB)
    market.trade(9_999, 7, buyer=CAROL, seller=ALICE)

    view = market.position(ALICE)
    spent = notional(10_000, 3) + notional(10_001, 4)
    assert (view.net, view.open_cost, view.realized) == (0, 0, notional(9_999, 7) - spent)
    assert (view.unrealized, view.market_value) == (0, 0)
    assert market.account(ALICE).cash == RICH - spent + notional(9_999, 7)


def test_unrealized_pnl_is_marked_at_the_last_trade_price(market: Market) -> None:
    market.trade(10_000, 10, buyer=ALICE, seller=BOB)
    market.trade(10_250, 1, buyer=CAROL, seller=BOB)

    long, short = market.position(ALICE), market.position(BOB)

    assert (long.mark, long.market_value, long.unrealized) == (10_250, notional(10_250, 10), cash(25))
    assert (short.mark, short.market_value) == (10_250, -notional(10_250, 11))
    assert short.unrealized == notional(10_000, 10) + notional(10_250, 1) - notional(10_250, 11)
    assert short.unrealized == -cash(25)
    alice = market.account(ALICE)
    assert (alice.unrealized, alice.realized) == (cash(25), 0)
    assert alice.equity == alice.cash + notional(10_250, 10)


def test_a_set_mark_price_overrides_the_last_trade_until_it_is_cleared(market: Market) -> None:
    market.trade(10_000, 10, buyer=ALICE, seller=BOB)

    events = market.apply(SetMarkPrice(AAPL, 9_500))

    market.expect(events[0], MarkPriceSet, symbol=AAPL, price=9_500)
    long, short = market.position(ALICE), market.position(BOB)
    assert (long.mark, long.unrealized) == (9_500, -cash(50))
    assert (short.mark, short.unrealized) == (9_500, cash(50))
    assert market.account(ALICE).equity == market.account(ALICE).cash + notional(9_500, 10)
    # A trade does not move a set mark.
    market.trade(10_300, 1)
    assert market.position(ALICE).mark == 9_500

    market.expect(market.apply(SetMarkPrice(AAPL, 0))[0], MarkPriceSet, symbol=AAPL, price=0)

    assert (market.position(ALICE).mark, market.position(ALICE).unrealized) == (10_300, cash(30))


def test_a_position_without_any_mark_has_no_unrealized_pnl(market: Market) -> None:
    market.buy(5, 10_000, account=ALICE)

    view = market.position(ALICE)

    assert (view.net, view.open_buy, view.open_sell, view.mark, view.unrealized, view.market_value) == (
        0,
        5,
        0,
        0,
        0,
        0,
    )


def test_a_mark_on_one_symbol_leaves_the_others_at_their_last_trade(market: Market) -> None:
    market.trade(10_000, 1, buyer=ALICE, seller=BOB, symbol=AAPL)
    market.trade(20_000, 1, buyer=ALICE, seller=BOB, symbol=MSFT)

    market.apply(SetMarkPrice(MSFT, 21_000))

    assert market.position(ALICE, AAPL).mark == 10_000
    assert market.position(ALICE, MSFT).mark == 21_000
    assert market.account(ALICE).unrealized == cash(10)


def test_a_triggered_stop_settles_like_any_other_fill(market: Market) -> None:
    market.buy(5, 9_000, account=BOB)
    stop = market.place(SELL, 5, order_type=STOP, stop_price=9_500, account=ALICE)
    market.buy(1, 9_500, account=CAROL)

    events = market.submit(SELL, 1, 9_500, account=BOB)  # prints 9_500: the stop sells into BOB's bid

    trades = market.of_type(events, TradeExecuted)
    assert [(trade.price, trade.quantity, trade.taker_order_id) for trade in trades][1] == (9_000, 5, stop)
    changes = market.of_type(events, PositionChanged)
    assert [(change.account, change.net_quantity) for change in changes] == [(CAROL, 1), (BOB, 4), (ALICE, -5)]
    assert market.account(ALICE).cash == RICH + notional(9_000, 5)
    assert stop not in market.exchange.open_orders
    assert market.account(ALICE).open_orders == 0


def test_a_market_order_sweeping_several_levels_pays_each_levels_price(market: Market) -> None:
    market.sell(2, 10_000, account=BOB)
    market.sell(3, 10_100, account=CAROL)

    events = market.submit(BUY, 10, order_type=MARKET, time_in_force=IOC, account=ALICE)

    assert market.kinds(events)[:2] == ["OrderAccepted", "TradeExecuted"]
    assert [(trade.price, trade.quantity) for trade in market.of_type(events, TradeExecuted)] == [
        (10_000, 2),
        (10_100, 3),
    ]
    assert market.one(events, OrderAccepted).quantity == 10
    assert market.position(ALICE).net == 5
    assert market.account(ALICE).cash == RICH - notional(10_000, 2) - notional(10_100, 3)
    assert market.account(ALICE).open_orders == 0
    assert market.of_type(events, BookLevelChanged)[-1].quantity == 0


def test_queries_of_missing_accounts_and_positions_answer_none(market: Market) -> None:
    assert queries.account(market.exchange, 99) is None
    assert queries.position(market.exchange, 99, AAPL) is None
    assert queries.position(market.exchange, ALICE, AAPL) is None  # never traded nor ordered
    assert queries.net_positions(market.exchange) == {}


def test_notionals_and_fees_beyond_64_bits_are_computed_exactly_not_overflowed() -> None:
    # 500,000 lots at 10,000.00 is 5 * 10**17 cash units; a 1% fee on it multiplies it by 100 on the way (5 * 10**19),
    # past what a 64-bit integer holds: the compiled exchange must still compute it in arbitrary precision.
    market = Market()
    market.open_account(ALICE, 10**18, taker_fee_bps=100)
    market.open_account(BOB, 10**18, maker_fee_bps=100)
    market.sell(500_000, 1_000_000, account=BOB)
    events = market.submit(BUY, 500_000, 1_000_000, account=ALICE)
    trade = market.one(events, TradeExecuted)
    assert trade.quantity == 500_000
    alice = queries.account(market.exchange, ALICE)
    assert alice is not None
    assert alice.cash == 10**18 - 5 * 10**17 - 5 * 10**15
    # The largest order an instrument allows, far beyond any account's cash, is refused, not a crash.
    refused = market.submit(BUY, 1_000_000, 100_000_000, account=ALICE)
    assert market.one(refused, OrderRejected).reason == "INSUFFICIENT_BUYING_POWER"


def test_closing_part_of_a_large_position_keeps_exact_cost_and_realized_pnl() -> None:
    # Proportional cost and proceeds multiply a notional of 10**17 or more by a lot count before dividing:
    # the compiled exchange must do that in arbitrary precision too.
    market = Market()
    for account in (ALICE, BOB, CAROL):
        market.open_account(account, 10**18)
    market.sell(500_000, 1_000_000, account=BOB)
    market.buy(500_000, 1_000_000, account=ALICE)  # ALICE: long 500,000 at 10,000.00
    market.buy(200_000, 1_100_000, account=CAROL)
    market.sell(200_000, 1_100_000, account=ALICE)  # closes 200,000 at 11,000.00
    position = queries.position(market.exchange, ALICE, AAPL)
    assert position is not None
    assert (position.net, position.open_cost) == (300_000, 300_000 * 1_000_000 * CASH_PER_TICK_LOT)
    assert position.realized == 200_000 * 100_000 * CASH_PER_TICK_LOT
    market.buy(400_000, 1_000_000, account=CAROL)
    market.sell(400_000, 1_000_000, account=ALICE)  # closes 300,000 and opens a 100,000 short, all at 10,000.00
    position = queries.position(market.exchange, ALICE, AAPL)
    assert position is not None
    assert (position.net, position.open_cost) == (-100_000, -100_000 * 1_000_000 * CASH_PER_TICK_LOT)
    assert position.realized == 200_000 * 100_000 * CASH_PER_TICK_LOT
