"""Position.fill: average-cost accounting in exact integers, long and short, through zero."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hft.domain.exchange.positions import Position

Fill = tuple[int, int]  # (lots, price per lot); notional = |lots| * price


def _position(*fills: Fill) -> Position:
    position = Position("AAPL")
    for lots, price in fills:
        position.fill(lots, abs(lots) * price)
    return position


def _state(position: Position) -> tuple[int, int, int, int]:
    return (position.net, position.open_cost, position.realized, position.volume)


def test_a_new_position_is_flat() -> None:
    position = Position("AAPL")

    assert _state(position) == (0, 0, 0, 0)
    assert (position.fees, position.open_buy, position.open_sell) == (0, 0, 0)
    assert position.unrealized(12_345) == 0


def test_buying_opens_a_long_at_its_cost() -> None:
    assert _state(_position((10, 100))) == (10, 1_000, 0, 10)


def test_buying_more_adds_to_the_cost_and_moves_the_average() -> None:
    position = _position((10, 100), (5, 120))

    assert _state(position) == (15, 1_600, 0, 15)


def test_selling_part_of_a_long_realizes_against_the_average_cost() -> None:
    position = _position((10, 100), (-4, 120))

    # 4 lots that cost 100 each sold at 120: 80 realized; 6 lots at 100 remain.
    assert _state(position) == (6, 600, 80, 14)


def test_selling_part_of_a_long_at_a_loss_realizes_a_loss() -> None:
    position = _position((10, 100), (-4, 90))

    assert _state(position) == (6, 600, -40, 14)


def test_closing_a_long_completely_realizes_exactly_what_it_made_despite_rounding() -> None:
    position = Position("AAPL")
    position.fill(3, 1_000)  # an average of 333.33... per lot
    position.fill(-1, 400)
    # The removed cost rounds down: 1000 * 1 // 3 = 333.
    assert _state(position) == (2, 667, 67, 4)

    position.fill(-2, 800)

    assert _state(position) == (0, 0, 200, 6)


def test_selling_opens_a_short_with_a_negative_open_cost() -> None:
    assert _state(_position((-10, 100))) == (-10, -1_000, 0, 10)


def test_selling_more_adds_to_the_short() -> None:
    assert _state(_position((-10, 100), (-10, 80))) == (-20, -1_800, 0, 20)


def test_buying_back_part_of_a_short_below_its_average_realizes_a_gain() -> None:
    position = _position((-10, 100), (4, 90))

    assert _state(position) == (-6, -600, 40, 14)


def test_buying_back_part_of_a_short_above_its_average_realizes_a_loss() -> None:
    position = _position((-10, 100), (4, 110))

    assert _state(position) == (-6, -600, -40, 14)


def test_covering_a_short_with_an_uneven_average_rounds_toward_zero_and_closes_exactly() -> None:
    position = Position("AAPL")
    position.fill(-3, 1_000)
    position.fill(1, 300)
    # The removed cost is -(1000 * 1 // 3) = -333: a short's cost rounds toward zero too.
    assert _state(position) == (-2, -667, 33, 4)

    position.fill(2, 500)

    assert _state(position) == (0, 0, 200, 6)


def test_selling_through_zero_closes_the_long_and_opens_a_short_with_the_rest() -> None:
    position = _position((10, 100), (-15, 120))

    # 10 closed at 120 (+200), 5 opened short at 120.
    assert _state(position) == (-5, -600, 200, 25)


def test_buying_through_zero_closes_the_short_and_opens_a_long_with_the_rest() -> None:
    position = _position((-10, 100), (15, 120))

    assert _state(position) == (5, 600, -200, 25)


def test_a_flip_with_an_uneven_split_gives_the_remainder_of_the_notional_to_the_new_position() -> None:
    position = Position("AAPL")
    position.fill(1, 100)
    position.fill(-3, 1_000)

    # 1000 * 1 // 3 = 333 closes the long (+233); the other 667 opens the short.
    assert _state(position) == (-2, -667, 233, 4)


def test_a_fill_landing_exactly_on_zero_leaves_no_cost() -> None:
    position = _position((7, 13), (-7, 11))

    assert _state(position) == (0, 0, -14, 14)


def test_unrealized_pnl_is_the_mark_value_minus_the_open_cost() -> None:
    long = _position((10, 100))
    short = _position((-10, 100))

    assert long.unrealized(10 * 120) == 200
    assert long.unrealized(10 * 90) == -100
    # A short's mark value is negative: minus what buying it back costs.
    assert short.unrealized(-10 * 90) == 100
    assert short.unrealized(-10 * 120) == -200


fills = st.lists(
    st.tuples(st.integers(-25, 25).filter(bool), st.integers(1, 2_000)),
    min_size=1,
    max_size=40,
)


@settings(max_examples=300, deadline=None, database=None)
@given(fills)
def test_realized_minus_open_cost_is_always_the_cash_the_fills_moved(sequence: list[Fill]) -> None:
    position = Position("AAPL")
    cash_flow = 0
    for lots, price in sequence:
        position.fill(lots, abs(lots) * price)
        cash_flow += -lots * price  # paid for buys, received for sells
        assert position.realized - position.open_cost == cash_flow

    assert position.net == sum(lots for lots, _ in sequence)
    assert position.volume == sum(abs(lots) for lots, _ in sequence)
    if position.net == 0:
        assert position.open_cost == 0
        assert position.realized == cash_flow
    else:
        assert (position.open_cost > 0) == (position.net > 0)


@settings(max_examples=300, deadline=None, database=None)
@given(fills)
def test_the_average_cost_stays_within_the_prices_that_built_the_position(sequence: list[Fill]) -> None:
    position = Position("AAPL")
    low = high = closes = 0
    for lots, price in sequence:
        net = position.net
        if net == 0 or (net > 0) != (net + lots > 0):
            low, high, closes = price, price, 0  # a new position opens (or one flips)
        elif (net > 0) == (lots > 0):
            low, high = min(low, price), max(high, price)
        else:
            closes += 1
        position.fill(lots, abs(lots) * price)
        if position.net:
            held = position.net if position.net > 0 else -position.net
            cost = position.open_cost if position.open_cost > 0 else -position.open_cost
            # Closing rounds the removed cost down, so each closing fill may leave up to one unit too much.
            assert low * held <= cost <= high * held + closes


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.integers(-25, 25).filter(bool), min_size=1, max_size=40), st.integers(1, 2_000))
def test_trading_at_one_price_never_realizes_anything(lots: list[int], price: int) -> None:
    position = Position("AAPL")
    for size in lots:
        position.fill(size, abs(size) * price)
        assert position.realized == 0
        assert position.open_cost == position.net * price
