"""Pre-trade risk: every limit just under, at and just over, on new orders and on amends.

At the limit an order is accepted; one step over it is rejected with the
limit's stable code and changes nothing but the account's reject count.
"""

from __future__ import annotations

import pytest
from tests.unit.domain.exchange.harness import (
    AAPL,
    ALICE,
    BOB,
    BTC,
    BTC_LOT,
    CAROL,
    DAVE,
    LOT,
    MSFT,
    RICH,
    Market,
    fee,
    notional,
)

from hft.core import rejects
from hft.domain.commands import ExpireOrders
from hft.domain.events import Event, OrderReplaced
from hft.domain.exchange.risk import (
    NO_LIMITS,
    RiskLimits,
    check_order_size,
    check_position,
    outside_collar,
    reduces_position,
    reference_price,
    risk_price,
)
from hft.domain.orders import BUY, FOK, GTD, IOC, LIMIT, MARKET, SELL, STOP, STOP_LIMIT

SECOND = 1_000_000_000


def _limited(limits: RiskLimits, cash_units: int = RICH, taker_fee_bps: int = 0, credit_limit: int = 0) -> Market:
    """A market where ALICE has ``limits`` and the others (who make prices) have none."""
    market = Market()
    market.open_account(ALICE, cash_units, credit_limit=credit_limit, taker_fee_bps=taker_fee_bps, limits=limits)
    for account_id in (BOB, CAROL, DAVE):
        market.open_account(account_id)
    return market


def _replaced(events: list[Event]) -> int:
    """Return 0 if the amend took effect, else its reject code."""
    if any(isinstance(event, OrderReplaced) for event in events):
        return 0
    return Market.rejected(events)


# -- the limits as values ------------------------------------------------------------


def test_no_limits_is_all_zeros_and_valid() -> None:
    assert NO_LIMITS.as_tuple() == (0, 0, 0, 0, 0, 0)
    assert NO_LIMITS.is_valid()
    assert RiskLimits() == NO_LIMITS


def test_limits_compare_and_hash_by_value() -> None:
    limits = RiskLimits(1, 2, 3, 4, 5, 6)

    assert limits == RiskLimits(1, 2, 3, 4, 5, 6)
    assert hash(limits) == hash(RiskLimits(1, 2, 3, 4, 5, 6))
    assert limits != RiskLimits(1, 2, 3, 4, 5, 7)
    assert limits != (1, 2, 3, 4, 5, 6)
    assert repr(limits) == "RiskLimits(1, 2, 3, 4, 5, 6)"


@pytest.mark.parametrize(
    ("limits", "valid"),
    [
        (RiskLimits(price_collar_bps=10_000), True),
        (RiskLimits(price_collar_bps=10_001), False),
        (RiskLimits(max_order_notional=10**18), True),
        (RiskLimits(max_order_notional=10**18 + 1), False),
        (RiskLimits(max_order_quantity=-1), False),
        (RiskLimits(max_open_orders=-1), False),
        (RiskLimits(max_position=-1), False),
        (RiskLimits(max_orders_per_second=-1), False),
    ],
)
def test_limits_are_valid_only_within_range(limits: RiskLimits, valid: bool) -> None:
    assert limits.is_valid() is valid


def test_collar_distance_is_measured_in_basis_points_of_the_reference() -> None:
    assert not outside_collar(11_000, 10_000, 1_000)
    assert outside_collar(11_001, 10_000, 1_000)
    assert not outside_collar(9_000, 10_000, 1_000)
    assert outside_collar(8_999, 10_000, 1_000)
    assert not outside_collar(10**9, 0, 1_000)  # no reference: no check
    assert not outside_collar(10**9, 10_000, 0)  # no collar: no check


def test_reduces_position_counts_the_other_orders_on_the_same_side() -> None:
    assert reduces_position(10, SELL, 0, 10)
    assert not reduces_position(10, SELL, 0, 11)
    assert reduces_position(10, SELL, 6, 4)
    assert not reduces_position(10, SELL, 6, 5)
    assert not reduces_position(10, BUY, 0, 1)
    assert reduces_position(-10, BUY, 3, 7)
    assert not reduces_position(-10, BUY, 3, 8)
    assert not reduces_position(0, BUY, 0, 1)
    assert not reduces_position(0, SELL, 0, 1)


def test_size_and_position_checks_return_their_codes() -> None:
    limits = RiskLimits(max_order_quantity=10 * LOT, max_order_notional=1_000, max_position=5 * LOT)

    assert check_order_size(limits, 10 * LOT, 1_000) == 0
    assert check_order_size(limits, 10 * LOT + 1, 0) == rejects.MAX_ORDER_QUANTITY
    assert check_order_size(limits, LOT, 1_001) == rejects.MAX_ORDER_NOTIONAL
    assert check_position(limits, -5, LOT) == 0
    assert check_position(limits, -6, LOT) == rejects.MAX_POSITION
    assert check_position(NO_LIMITS, 10**9, LOT) == 0


def test_the_reference_price_is_the_last_trade_else_the_mid_else_none(market: Market) -> None:
    book = market.exchange.engine.books[AAPL]
    assert reference_price(book) == 0
    market.buy(1, 9_001, account=BOB)
    assert reference_price(book) == 0  # one side only
    market.sell(1, 10_000, account=BOB)
    assert reference_price(book) == 9_500  # (9_001 + 10_000) // 2
    market.trade(9_800)
    assert reference_price(book) == 9_800


def test_the_risk_price_of_each_order_type(market: Market) -> None:
    book = market.exchange.engine.books[AAPL]
    assert risk_price(book, BUY, LIMIT, 10_000, 0, 0) == 10_000
    assert risk_price(book, BUY, STOP_LIMIT, 10_000, 9_000, 0) == 10_000
    assert risk_price(book, SELL, STOP, 0, 9_000, 0) == 9_000
    assert risk_price(book, BUY, MARKET, 0, 0, 500) == 0  # nothing to measure against yet
    bid = market.buy(1, 9_000, account=BOB)
    ask = market.sell(1, 11_000, account=BOB)
    # Without a collar a market order is measured at the best opposite price.
    assert risk_price(book, BUY, MARKET, 0, 0, 0) == 11_000
    assert risk_price(book, SELL, MARKET, 0, 0, 0) == 9_000
    # With one, at the far edge of the collar around the reference (the mid here).
    assert risk_price(book, BUY, MARKET, 0, 0, 500) == 10_500
    assert risk_price(book, SELL, MARKET, 0, 0, 500) == 9_500
    assert risk_price(book, SELL, MARKET, 0, 0, 10_000) == 1  # never below one tick
    market.cancel(bid, BOB)
    market.cancel(ask, BOB)
    market.trade(10_000)
    assert risk_price(book, BUY, MARKET, 0, 0, 0) == 10_000  # the last trade price


# -- maximum order quantity ------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "code"), [(9, 0), (10, 0), (11, rejects.MAX_ORDER_QUANTITY)], ids=["under", "at", "over"]
)
@pytest.mark.parametrize("side", [BUY, SELL])
def test_max_order_quantity(quantity: int, code: int, side: int) -> None:
    market = _limited(RiskLimits(max_order_quantity=10 * LOT))

    assert market.outcome(market.submit(side, quantity, 10_000)) == code


@pytest.mark.parametrize(("lots", "code"), [(10_000, 0), (10_001, rejects.MAX_ORDER_QUANTITY)], ids=["at", "over"])
def test_max_order_quantity_is_in_units_of_the_instrument_not_lots(lots: int, code: int) -> None:
    # One whole BTC is 10_000 lots of 0.0001.
    market = _limited(RiskLimits(max_order_quantity=10_000 * BTC_LOT))

    assert market.outcome(market.submit(BUY, lots, 100, symbol=BTC)) == code


def test_max_order_quantity_applies_to_market_and_stop_orders() -> None:
    market = _limited(RiskLimits(max_order_quantity=10 * LOT))
    market.sell(20, 10_000, account=BOB)

    assert market.outcome(market.submit(BUY, 11, order_type=MARKET, time_in_force=IOC)) == rejects.MAX_ORDER_QUANTITY
    assert market.outcome(market.submit(SELL, 11, order_type=STOP, stop_price=9_000)) == rejects.MAX_ORDER_QUANTITY
    assert market.outcome(market.submit(BUY, 10, order_type=MARKET, time_in_force=FOK)) == 0


# -- maximum order notional ------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "price", "code"),
    [
        (9, 10_000, 0),
        (10, 10_000, 0),
        (10, 10_001, rejects.MAX_ORDER_NOTIONAL),
        (11, 10_000, rejects.MAX_ORDER_NOTIONAL),
    ],
    ids=["under", "at", "price-over", "quantity-over"],
)
@pytest.mark.parametrize("side", [BUY, SELL])
def test_max_order_notional(quantity: int, price: int, code: int, side: int) -> None:
    market = _limited(RiskLimits(max_order_notional=notional(10_000, 10)))

    assert market.outcome(market.submit(side, quantity, price)) == code


@pytest.mark.parametrize(("stop_price", "code"), [(10_000, 0), (10_001, rejects.MAX_ORDER_NOTIONAL)])
def test_max_order_notional_measures_a_stop_order_at_its_stop_price(stop_price: int, code: int) -> None:
    market = _limited(RiskLimits(max_order_notional=notional(10_000, 10)))

    assert market.outcome(market.submit(BUY, 10, order_type=STOP, stop_price=stop_price)) == code


@pytest.mark.parametrize(("ask", "code"), [(10_000, 0), (10_001, rejects.MAX_ORDER_NOTIONAL)])
def test_max_order_notional_measures_a_market_order_at_the_best_opposite_price(ask: int, code: int) -> None:
    market = _limited(RiskLimits(max_order_notional=notional(10_000, 10)))
    market.sell(10, ask, account=BOB)

    assert market.outcome(market.submit(BUY, 10, order_type=MARKET, time_in_force=IOC)) == code


@pytest.mark.parametrize(("quantity", "code"), [(10, 0), (11, rejects.MAX_ORDER_NOTIONAL)])
def test_max_order_notional_measures_a_market_order_at_the_collar_edge_when_there_is_one(
    quantity: int, code: int
) -> None:
    # A 10% collar around a last trade of 100.00: a market buy could pay up to 110.00.
    market = _limited(RiskLimits(max_order_notional=notional(11_000, 10), price_collar_bps=1_000))
    market.trade(10_000)
    market.sell(20, 10_000, account=BOB)

    assert market.outcome(market.submit(BUY, quantity, order_type=MARKET, time_in_force=IOC)) == code


# -- price collar -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "price", "code"),
    [
        (SELL, 10_999, 0),
        (SELL, 11_000, 0),
        (SELL, 11_001, rejects.PRICE_OUTSIDE_COLLAR),
        (BUY, 9_001, 0),
        (BUY, 9_000, 0),
        (BUY, 8_999, rejects.PRICE_OUTSIDE_COLLAR),
    ],
    ids=["above-under", "above-at", "above-over", "below-under", "below-at", "below-over"],
)
def test_price_collar_around_the_last_trade(side: int, price: int, code: int) -> None:
    market = _limited(RiskLimits(price_collar_bps=1_000))
    market.trade(10_000)
    # The book's mid is far away, but the last trade is the reference.
    market.buy(1, 5_000, account=BOB)
    market.sell(1, 20_000, account=BOB)

    assert market.outcome(market.submit(side, 1, price)) == code


@pytest.mark.parametrize(
    ("side", "price", "code"),
    [
        (SELL, 11_000, 0),
        (SELL, 11_001, rejects.PRICE_OUTSIDE_COLLAR),
        (BUY, 9_000, 0),
        (BUY, 8_999, rejects.PRICE_OUTSIDE_COLLAR),
    ],
)
def test_price_collar_around_the_mid_before_any_trade(side: int, price: int, code: int) -> None:
    market = _limited(RiskLimits(price_collar_bps=1_000))
    market.buy(1, 8_000, account=BOB)
    market.sell(1, 12_000, account=BOB)  # mid 10_000

    assert market.outcome(market.submit(side, 1, price)) == code


def test_no_price_collar_applies_without_a_trade_or_a_two_sided_book() -> None:
    market = _limited(RiskLimits(price_collar_bps=1))

    market.cancel(market.buy(1, 1))  # an empty book has no reference
    market.sell(1, 50_000, account=BOB)  # one side only: still no reference

    assert market.outcome(market.submit(BUY, 1, 100)) == 0
    # Now both sides are quoted: the mid (25_050) is the reference.
    assert market.outcome(market.submit(BUY, 1, 100)) == rejects.PRICE_OUTSIDE_COLLAR


def test_price_collar_checks_stop_prices_too() -> None:
    market = _limited(RiskLimits(price_collar_bps=1_000))
    market.trade(10_000)

    assert market.outcome(market.submit(SELL, 1, order_type=STOP, stop_price=9_000)) == 0
    assert market.outcome(market.submit(SELL, 1, order_type=STOP, stop_price=8_999)) == rejects.PRICE_OUTSIDE_COLLAR
    assert market.outcome(market.submit(BUY, 1, 11_000, order_type=STOP_LIMIT, stop_price=11_000)) == 0
    assert (
        market.outcome(market.submit(BUY, 1, 11_000, order_type=STOP_LIMIT, stop_price=11_001))
        == rejects.PRICE_OUTSIDE_COLLAR
    )
    assert (
        market.outcome(market.submit(BUY, 1, 11_001, order_type=STOP_LIMIT, stop_price=11_000))
        == rejects.PRICE_OUTSIDE_COLLAR
    )


def test_market_orders_are_never_outside_the_collar() -> None:
    market = _limited(RiskLimits(price_collar_bps=1))
    market.trade(10_000)
    market.sell(1, 30_000, account=BOB)

    assert market.outcome(market.submit(BUY, 1, order_type=MARKET, time_in_force=IOC)) == 0


def test_price_collar_follows_the_reference_as_it_moves() -> None:
    market = _limited(RiskLimits(price_collar_bps=1_000))
    market.trade(10_000)
    assert market.outcome(market.submit(SELL, 1, 11_500)) == rejects.PRICE_OUTSIDE_COLLAR

    market.trade(10_500)

    assert market.outcome(market.submit(SELL, 1, 11_500)) == 0


# -- maximum open orders --------------------------------------------------------------


@pytest.mark.parametrize(("resting", "code"), [(1, 0), (2, 0), (3, rejects.MAX_OPEN_ORDERS)])
def test_max_open_orders(resting: int, code: int) -> None:
    market = _limited(RiskLimits(max_open_orders=3))
    for index in range(resting):
        market.buy(1, 9_000 + index, symbol=(AAPL, MSFT)[index % 2])

    # The order that would be the (resting + 1)th.
    assert market.outcome(market.submit(BUY, 1, 8_000)) == code


def test_waiting_stops_count_as_open_orders_and_leaving_orders_free_their_slot() -> None:
    market = _limited(RiskLimits(max_open_orders=2))
    resting = market.buy(1, 9_000)
    market.place(SELL, 1, order_type=STOP, stop_price=8_000)
    assert market.outcome(market.submit(BUY, 1, 9_000)) == rejects.MAX_OPEN_ORDERS

    market.cancel(resting)
    assert market.outcome(market.submit(SELL, 1, 12_000)) == 0
    assert market.outcome(market.submit(BUY, 1, 9_000)) == rejects.MAX_OPEN_ORDERS

    market.submit(BUY, 1, 12_000, account=BOB)  # fills ALICE's sell
    assert market.account(ALICE).open_orders == 1
    assert market.outcome(market.submit(BUY, 1, 9_000)) == 0


def test_an_order_that_cannot_rest_still_needs_a_free_slot() -> None:
    market = _limited(RiskLimits(max_open_orders=1))
    market.buy(1, 9_000)
    market.sell(1, 10_000, account=BOB)

    assert market.outcome(market.submit(BUY, 1, 10_000, time_in_force=IOC)) == rejects.MAX_OPEN_ORDERS


# -- maximum position -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "code"), [(9, 0), (10, 0), (11, rejects.MAX_POSITION)], ids=["under", "at", "over"]
)
@pytest.mark.parametrize("side", [BUY, SELL])
def test_max_position_from_flat(quantity: int, code: int, side: int) -> None:
    market = _limited(RiskLimits(max_position=10 * LOT))

    assert market.outcome(market.submit(side, quantity, 10_000)) == code


@pytest.mark.parametrize(("quantity", "code"), [(3, 0), (4, 0), (5, rejects.MAX_POSITION)])
def test_max_position_counts_open_orders_on_the_same_side(quantity: int, code: int) -> None:
    market = _limited(RiskLimits(max_position=10 * LOT))
    market.buy(6, 9_000)

    assert market.outcome(market.submit(BUY, quantity, 9_500)) == code


@pytest.mark.parametrize(
    ("side", "quantity", "code"),
    [(BUY, 6, 0), (BUY, 7, rejects.MAX_POSITION), (SELL, 14, 0), (SELL, 15, rejects.MAX_POSITION)],
)
def test_max_position_counts_the_net_position(side: int, quantity: int, code: int) -> None:
    market = _limited(RiskLimits(max_position=10 * LOT))
    market.trade(10_000, 4, buyer=ALICE, seller=BOB)

    # Long 4: buying may reach +10, selling may go through zero down to -10.
    assert market.outcome(market.submit(side, quantity, 10_000 if side == BUY else 12_000)) == code


def test_max_position_ignores_open_orders_on_the_other_side() -> None:
    market = _limited(RiskLimits(max_position=10 * LOT))
    market.buy(10, 9_000)

    assert market.outcome(market.submit(SELL, 10, 11_000)) == 0
    assert market.outcome(market.submit(SELL, 1, 11_000)) == rejects.MAX_POSITION


def test_max_position_is_per_symbol() -> None:
    market = _limited(RiskLimits(max_position=10 * LOT))
    market.buy(10, 9_000, symbol=AAPL)

    assert market.outcome(market.submit(BUY, 10, 9_000, symbol=MSFT)) == 0


@pytest.mark.parametrize(("lots", "code"), [(5_000, 0), (5_001, rejects.MAX_POSITION)])
def test_max_position_is_in_units_of_the_instrument(lots: int, code: int) -> None:
    market = _limited(RiskLimits(max_position=5_000 * BTC_LOT))  # half a BTC

    assert market.outcome(market.submit(SELL, lots, 100, symbol=BTC)) == code


# -- buying power -------------------------------------------------------------------------


def _one_lot_with_fee(price: int = 10_000, bps: int = 10) -> int:
    return notional(price, 1) + fee(notional(price, 1), bps)


@pytest.mark.parametrize(
    ("cash_units", "code"),
    [
        (_one_lot_with_fee() + 1, 0),
        (_one_lot_with_fee(), 0),
        (_one_lot_with_fee() - 1, rejects.INSUFFICIENT_BUYING_POWER),
    ],
    ids=["under", "at", "over"],
)
def test_buying_power_covers_the_order_and_its_taker_fee(cash_units: int, code: int) -> None:
    market = _limited(NO_LIMITS, cash_units=cash_units, taker_fee_bps=10)

    assert market.outcome(market.submit(BUY, 1, 10_000)) == code


@pytest.mark.parametrize(("extra", "code"), [(0, 0), (-1, rejects.INSUFFICIENT_BUYING_POWER)])
def test_buying_power_counts_open_buy_orders_and_credit(extra: int, code: int) -> None:
    # Cash for one lot, credit for the second and its fee; the first lot's order is already open.
    market = _limited(
        NO_LIMITS, cash_units=notional(10_000, 1), credit_limit=_one_lot_with_fee() + extra, taker_fee_bps=10
    )
    market.buy(1, 10_000)
    assert market.account(ALICE).open_buy_notional == notional(10_000, 1)
    assert market.account(ALICE).buying_power == _one_lot_with_fee() + extra

    assert market.outcome(market.submit(BUY, 1, 10_000)) == code


def test_sell_orders_need_no_buying_power() -> None:
    market = _limited(NO_LIMITS, cash_units=0)

    assert market.outcome(market.submit(BUY, 1, 1)) == rejects.INSUFFICIENT_BUYING_POWER
    assert market.outcome(market.submit(SELL, 100, 10_000)) == 0


def test_cancelling_or_filling_a_buy_order_releases_its_buying_power() -> None:
    market = _limited(NO_LIMITS, cash_units=notional(10_000, 2))
    first = market.buy(2, 10_000)
    assert market.outcome(market.submit(BUY, 1, 10_000)) == rejects.INSUFFICIENT_BUYING_POWER

    market.cancel(first)
    assert market.account(ALICE).buying_power == notional(10_000, 2)
    market.buy(2, 10_000)
    market.submit(SELL, 1, 10_000, account=BOB)

    # One lot bought (cash spent), one still open (committed): nothing left.
    view = market.account(ALICE)
    assert (view.cash, view.open_buy_notional, view.buying_power) == (
        notional(10_000, 1),
        notional(10_000, 1),
        0,
    )
    assert market.outcome(market.submit(BUY, 1, 1)) == rejects.INSUFFICIENT_BUYING_POWER


def test_a_buy_filled_below_its_limit_releases_the_commitment_at_the_limit_price() -> None:
    market = _limited(NO_LIMITS, cash_units=notional(10_000, 2))
    market.sell(1, 9_000, account=BOB)

    market.submit(BUY, 2, 10_000)  # one lot fills at 9_000, one rests at 10_000

    view = market.account(ALICE)
    assert view.cash == notional(10_000, 2) - notional(9_000, 1)
    assert view.open_buy_notional == notional(10_000, 1)
    assert view.buying_power == notional(1_000, 1)


@pytest.mark.parametrize(("ask", "code"), [(10_000, 0), (10_001, rejects.INSUFFICIENT_BUYING_POWER)])
def test_buying_power_measures_a_market_buy_at_the_best_ask(ask: int, code: int) -> None:
    market = _limited(NO_LIMITS, cash_units=notional(10_000, 3))
    market.sell(3, ask, account=BOB)

    assert market.outcome(market.submit(BUY, 3, order_type=MARKET, time_in_force=IOC)) == code


# -- order rate ---------------------------------------------------------------------------------


def test_order_rate_allows_the_limit_within_one_second_and_slides_with_engine_time() -> None:
    market = _limited(RiskLimits(max_orders_per_second=3))
    start = 10 * SECOND
    for offset in (0, 100_000_000, 200_000_000):
        assert market.outcome(market.submit(BUY, 1, 9_000, ts=start + offset)) == 0

    assert market.outcome(market.submit(BUY, 1, 9_000, ts=start + SECOND - 1)) == rejects.ORDER_RATE_EXCEEDED
    # The first order leaves the window exactly one second after it was accepted.
    assert market.outcome(market.submit(BUY, 1, 9_000, ts=start + SECOND)) == 0
    assert market.outcome(market.submit(BUY, 1, 9_000, ts=start + SECOND + 50_000_000)) == rejects.ORDER_RATE_EXCEEDED
    assert market.outcome(market.submit(BUY, 1, 9_000, ts=start + SECOND + 100_000_000)) == 0


def test_order_rate_counts_only_accepted_orders_and_only_the_accounts_own() -> None:
    market = _limited(RiskLimits(max_orders_per_second=2, max_order_quantity=5 * LOT))

    assert market.outcome(market.submit(BUY, 6, 9_000)) == rejects.MAX_ORDER_QUANTITY
    market.sell(1, 9_000, account=BOB)
    assert market.outcome(market.submit(BUY, 1, 9_000, post_only=True)) == rejects.POST_ONLY_WOULD_TAKE
    assert market.outcome(market.submit(BUY, 1, 8_000)) == 0
    assert market.outcome(market.submit(BUY, 1, 8_000)) == 0
    assert market.outcome(market.submit(BUY, 1, 8_000)) == rejects.ORDER_RATE_EXCEEDED
    for _ in range(5):
        market.buy(1, 8_000, account=BOB)


def test_order_rate_does_not_limit_cancels() -> None:
    market = _limited(RiskLimits(max_orders_per_second=1))
    order_id = market.buy(1, 9_000)

    assert market.kinds(market.cancel(order_id)) == ["OrderCancelled", "BookLevelChanged"]
    assert market.kinds(market.cancel(order_id)) == ["OrderRejected"]
    assert market.outcome(market.submit(BUY, 1, 9_000)) == rejects.ORDER_RATE_EXCEEDED


# -- venue defaults and own limits ----------------------------------------------------------


def test_accounts_without_limits_of_their_own_use_the_venue_defaults(market: Market) -> None:
    market.set_limits(0, RiskLimits(max_order_quantity=5 * LOT))
    market.set_limits(BOB, RiskLimits(max_order_quantity=8 * LOT))

    assert market.outcome(market.submit(BUY, 6, 9_000, account=ALICE)) == rejects.MAX_ORDER_QUANTITY
    assert market.outcome(market.submit(BUY, 6, 9_000, account=BOB)) == 0
    assert market.account(ALICE).limits == RiskLimits(max_order_quantity=5 * LOT)
    assert not market.account(ALICE).has_own_limits
    assert market.account(BOB).has_own_limits

    market.set_limits(BOB, None)

    assert market.outcome(market.submit(BUY, 6, 9_000, account=BOB)) == rejects.MAX_ORDER_QUANTITY
    assert not market.account(BOB).has_own_limits


def test_a_default_market_starts_with_the_given_venue_defaults() -> None:
    market = Market(RiskLimits(max_open_orders=1))
    market.open_account(ALICE)
    market.buy(1, 9_000)

    assert market.outcome(market.submit(BUY, 1, 9_000)) == rejects.MAX_OPEN_ORDERS


# -- amends ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("quantity", "code"), [(10, 0), (11, rejects.MAX_ORDER_QUANTITY)])
def test_amend_up_to_the_max_order_quantity_and_not_over(quantity: int, code: int) -> None:
    market = _limited(RiskLimits(max_order_quantity=10 * LOT))
    order_id = market.buy(5, 9_000)

    assert _replaced(market.amend(order_id, quantity)) == code


@pytest.mark.parametrize(
    ("quantity", "price", "code"),
    [(10, 10_000, 0), (11, 0, rejects.MAX_ORDER_NOTIONAL), (10, 10_001, rejects.MAX_ORDER_NOTIONAL)],
)
def test_amend_up_to_the_max_order_notional_and_not_over(quantity: int, price: int, code: int) -> None:
    market = _limited(RiskLimits(max_order_notional=notional(10_000, 10)))
    order_id = market.sell(5, 10_000)

    assert _replaced(market.amend(order_id, quantity, price)) == code


@pytest.mark.parametrize(("price", "code"), [(11_000, 0), (11_001, rejects.PRICE_OUTSIDE_COLLAR)])
def test_amend_to_a_price_outside_the_collar_is_rejected(price: int, code: int) -> None:
    market = _limited(RiskLimits(price_collar_bps=1_000))
    market.trade(10_000)
    order_id = market.sell(1, 10_500)

    assert _replaced(market.amend(order_id, 1, price)) == code


def test_amend_keeping_a_price_the_reference_has_left_behind_is_allowed() -> None:
    market = _limited(RiskLimits(price_collar_bps=1_000))
    market.trade(10_000)
    order_id = market.sell(5, 11_000)
    market.trade(9_000)  # the resting price is now outside the collar

    assert _replaced(market.amend(order_id, 4)) == 0
    assert _replaced(market.amend(order_id, 6)) == 0
    assert _replaced(market.amend(order_id, 6, 11_001)) == rejects.PRICE_OUTSIDE_COLLAR


def test_amend_of_a_waiting_stop_checks_its_new_stop_price_against_the_collar() -> None:
    market = _limited(RiskLimits(price_collar_bps=1_000))
    market.trade(10_000)
    order_id = market.place(SELL, 1, order_type=STOP, stop_price=9_500)

    assert _replaced(market.amend(order_id, 1, stop_price=8_999)) == rejects.PRICE_OUTSIDE_COLLAR
    assert _replaced(market.amend(order_id, 1, stop_price=9_000)) == 0


@pytest.mark.parametrize(("quantity", "code"), [(7, 0), (8, rejects.MAX_POSITION)])
def test_amend_increasing_an_order_counts_the_position_and_the_other_open_orders(quantity: int, code: int) -> None:
    market = _limited(RiskLimits(max_position=10 * LOT))
    market.trade(10_000, 1, buyer=ALICE, seller=BOB)
    market.buy(2, 9_000)
    order_id = market.buy(4, 9_000)

    # Long 1 with 2 more bid: this order may grow to 7.
    assert _replaced(market.amend(order_id, quantity)) == code


def test_amend_decreasing_an_order_over_the_position_limit_is_allowed() -> None:
    market = _limited(RiskLimits(max_position=10 * LOT))
    order_id = market.buy(10, 9_000)
    market.set_limits(ALICE, RiskLimits(max_position=2 * LOT))

    assert _replaced(market.amend(order_id, 5)) == 0


@pytest.mark.parametrize(("quantity", "code"), [(2, 0), (3, rejects.INSUFFICIENT_BUYING_POWER)])
def test_amend_increasing_a_buy_needs_buying_power_for_the_extra_and_its_fee(quantity: int, code: int) -> None:
    cash_units = notional(10_000, 1) + _one_lot_with_fee()
    market = _limited(NO_LIMITS, cash_units=cash_units, taker_fee_bps=10)
    order_id = market.buy(1, 10_000)

    assert _replaced(market.amend(order_id, quantity)) == code


@pytest.mark.parametrize(("price", "code"), [(10_500, 0), (10_501, rejects.INSUFFICIENT_BUYING_POWER)])
def test_amend_raising_a_buys_price_needs_buying_power_for_the_difference(price: int, code: int) -> None:
    market = _limited(NO_LIMITS, cash_units=notional(10_500, 2))
    order_id = market.buy(2, 10_000)

    assert _replaced(market.amend(order_id, 2, price)) == code


def test_amend_decreasing_a_buy_needs_no_buying_power() -> None:
    market = _limited(NO_LIMITS, cash_units=notional(10_000, 4))
    order_id = market.buy(4, 10_000)
    assert market.account(ALICE).buying_power == 0

    assert _replaced(market.amend(order_id, 3, 9_000)) == 0
    assert market.account(ALICE).open_buy_notional == notional(9_000, 3)


def test_a_rejected_amend_leaves_the_order_and_its_commitments_unchanged() -> None:
    market = _limited(RiskLimits(max_order_quantity=10 * LOT, max_position=10 * LOT))
    order_id = market.buy(5, 9_000)
    before = market.account(ALICE)

    assert _replaced(market.amend(order_id, 11)) == rejects.MAX_ORDER_QUANTITY

    after = market.account(ALICE)
    assert (after.open_buy_notional, after.open_orders) == (before.open_buy_notional, before.open_orders)
    assert market.position(ALICE).open_buy == 5
    assert market.exchange.engine.orders[order_id].quantity == 5
    assert after.reject_count == before.reject_count + 1


def test_an_amend_of_another_accounts_order_is_rejected_as_unknown(market: Market) -> None:
    order_id = market.buy(5, 9_000, account=BOB)

    assert market.rejected(market.amend(order_id, 6, account=ALICE)) == rejects.UNKNOWN_ORDER
    assert market.rejected(market.amend(order_id, 6, account=99)) == rejects.UNKNOWN_ORDER
    assert market.rejected(market.amend(10_000, 6, account=ALICE)) == rejects.UNKNOWN_ORDER
    assert market.account(ALICE).reject_count == 2


# -- orders that expired by the time of the check ---------------------------------------


def test_an_expired_gtd_order_no_longer_counts_against_max_open_orders() -> None:
    # Every engine command expires due GTD orders first; a risk check at the same time must not count them.
    market = _limited(RiskLimits(max_open_orders=1))
    market.buy(1, 9_000, time_in_force=GTD, expire_ts=5_000, ts=1_000)

    events = market.submit(BUY, 1, 9_000, ts=10_000)

    assert market.outcome(events) == 0, "the GTD order expired at 5_000 but still fills the only open-order slot"


def test_an_expired_gtd_buy_no_longer_holds_buying_power() -> None:
    market = _limited(NO_LIMITS, cash_units=notional(10_000, 1))
    market.buy(1, 10_000, time_in_force=GTD, expire_ts=5_000, ts=1_000)

    events = market.submit(BUY, 1, 10_000, ts=10_000)

    assert market.outcome(events) == 0, "the GTD order expired at 5_000 but still holds the account's buying power"


def test_an_expired_gtd_order_is_gone_once_any_engine_command_runs() -> None:
    market = _limited(RiskLimits(max_open_orders=1))
    market.buy(1, 9_000, time_in_force=GTD, expire_ts=5_000, ts=1_000)

    events = market.apply(ExpireOrders(), ts=10_000)

    assert market.kinds(events) == ["OrderCancelled", "BookLevelChanged"]
    assert market.account(ALICE).open_orders == 0
    assert market.outcome(market.submit(BUY, 1, 9_000)) == 0
