"""Instruments: the grid prices and sizes live on, and the edge conversion onto it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hft.core import rejects
from hft.core.fixedpoint import Rejection
from hft.domain.instruments import Instrument, default_instruments, equity

BTC = Instrument("BTC-USD", Decimal("0.01"), Decimal("0.0001"), max_quantity=10_000_000, max_price=10**9)


def _code(result: object) -> int:
    assert isinstance(result, Rejection), f"expected a rejection, got {result!r}"
    return result.code


# -- construction -------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments",
    [
        {"symbol": "", "tick_size": Decimal("0.01"), "lot_size": Decimal(1)},
        {"symbol": "X", "tick_size": Decimal(0), "lot_size": Decimal(1)},
        {"symbol": "X", "tick_size": Decimal("-0.01"), "lot_size": Decimal(1)},
        {"symbol": "X", "tick_size": Decimal("0.01"), "lot_size": Decimal(0)},
        {"symbol": "X", "tick_size": Decimal("0.01"), "lot_size": Decimal(1), "min_quantity": 0},
        {"symbol": "X", "tick_size": Decimal("0.01"), "lot_size": Decimal(1), "min_quantity": 5, "max_quantity": 4},
        {"symbol": "X", "tick_size": Decimal("0.01"), "lot_size": Decimal(1), "max_price": 0},
    ],
)
def test_an_instrument_off_any_sensible_grid_cannot_be_listed(arguments: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="an instrument needs"):
        Instrument(**arguments)  # type: ignore[arg-type]


def test_precision_is_the_number_of_decimal_places_of_tick_and_lot() -> None:
    assert (BTC.price_precision, BTC.quantity_precision) == (2, 4)
    assert (equity("AAPL").price_precision, equity("AAPL").quantity_precision) == (2, 0)
    trailing_zero = Instrument("X", Decimal("0.010"), Decimal("10"))
    assert (trailing_zero.price_precision, trailing_zero.quantity_precision) == (2, 0)


def test_default_instruments_list_equities_and_crypto_pairs_once_each() -> None:
    instruments = default_instruments()
    symbols = [instrument.symbol for instrument in instruments]
    assert symbols == ["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "TSLA", "SPY", "BTC-USD", "ETH-USD"]
    aapl = instruments[0]
    assert (aapl.tick_size, aapl.lot_size, aapl.min_quantity, aapl.max_quantity, aapl.max_price) == (
        Decimal("0.01"),
        Decimal(1),
        1,
        1_000_000,
        100_000_000,
    )
    eth = instruments[-1]
    assert (eth.tick_size, eth.lot_size, eth.max_quantity, eth.max_price) == (
        Decimal("0.01"),
        Decimal("0.001"),
        100_000_000,
        10**8,
    )


def test_repr_names_symbol_tick_and_lot() -> None:
    assert repr(BTC) == "Instrument('BTC-USD', tick=0.01, lot=0.0001)"


# -- prices ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "ticks"),
    [("150.10", 15010), (150.1, 15010), (Decimal("0.01"), 1), (64000, 6_400_000), ("1e3", 100_000)],
)
def test_price_to_ticks_converts_prices_on_the_tick_grid(price: object, ticks: int) -> None:
    assert BTC.price_to_ticks(price) == ticks


def test_price_to_ticks_accepts_exactly_the_maximum_price() -> None:
    assert BTC.price_to_ticks("10000000.00") == 10**9


@pytest.mark.parametrize(
    ("price", "code"),
    [
        ("150.105", rejects.PRICE_OFF_TICK),
        (0.1 + 0.2, rejects.PRICE_OFF_TICK),
        ("0.001", rejects.PRICE_OFF_TICK),
        ("0", rejects.INVALID_PRICE),
        ("0.00", rejects.INVALID_PRICE),
        ("-0", rejects.INVALID_PRICE),
        ("-150.10", rejects.INVALID_PRICE),
        ("10000000.01", rejects.PRICE_OUT_OF_RANGE),
        ("1e30", rejects.PRICE_OUT_OF_RANGE),
        (10**40, rejects.PRICE_OUT_OF_RANGE),
        ("NaN", rejects.INVALID_NUMBER),
        (float("nan"), rejects.INVALID_NUMBER),
        ("Infinity", rejects.INVALID_NUMBER),
        (float("-inf"), rejects.INVALID_NUMBER),
        (True, rejects.INVALID_NUMBER),
        ("abc", rejects.INVALID_NUMBER),
        (None, rejects.INVALID_NUMBER),
    ],
)
def test_price_to_ticks_says_why_a_price_is_refused(price: object, code: int) -> None:
    assert _code(BTC.price_to_ticks(price)) == code


def test_price_to_ticks_explains_an_off_tick_price() -> None:
    result = BTC.price_to_ticks("150.105")
    assert isinstance(result, Rejection)
    assert result.text == "150.105 is not a multiple of 0.01"


def test_price_with_a_huge_exponent_is_refused_as_out_of_range() -> None:
    assert _code(BTC.price_to_ticks("1e999999999")) == rejects.PRICE_OUT_OF_RANGE


def test_positive_price_with_a_tiny_exponent_is_refused_as_off_tick_not_as_non_positive() -> None:
    assert _code(BTC.price_to_ticks("1E-999999999")) == rejects.PRICE_OFF_TICK


def test_ticks_to_price_shows_the_tick_precision() -> None:
    assert str(BTC.ticks_to_price(15010)) == "150.10"
    assert BTC.ticks_to_price(BTC.price_to_ticks("64123.45")) == Decimal("64123.45")  # type: ignore[arg-type]


# -- quantities -------------------------------------------------------------------------


@pytest.mark.parametrize(("quantity", "lots"), [("0.0001", 1), ("1.5", 15000), (2, 20000), ("1000", 10_000_000)])
def test_quantity_to_lots_converts_quantities_on_the_lot_grid(quantity: object, lots: int) -> None:
    assert BTC.quantity_to_lots(quantity) == lots


@pytest.mark.parametrize(
    ("quantity", "code"),
    [
        ("0.00005", rejects.QUANTITY_OFF_LOT),
        ("1.00001", rejects.QUANTITY_OFF_LOT),
        ("0", rejects.INVALID_QUANTITY),
        ("-1", rejects.INVALID_QUANTITY),
        ("1000.0001", rejects.QUANTITY_OUT_OF_RANGE),
        ("1e30", rejects.QUANTITY_OUT_OF_RANGE),
        ("1e999999999", rejects.QUANTITY_OUT_OF_RANGE),
        ("nan", rejects.INVALID_NUMBER),
        (float("inf"), rejects.INVALID_NUMBER),
        (False, rejects.INVALID_NUMBER),
        ("", rejects.INVALID_NUMBER),
    ],
)
def test_quantity_to_lots_says_why_a_quantity_is_refused(quantity: object, code: int) -> None:
    assert _code(BTC.quantity_to_lots(quantity)) == code


def test_quantity_below_the_instruments_minimum_is_out_of_range() -> None:
    board_lots = Instrument("7203.T", Decimal(1), Decimal(1), min_quantity=100, max_quantity=10_000)
    assert _code(board_lots.quantity_to_lots(99)) == rejects.QUANTITY_OUT_OF_RANGE
    assert board_lots.quantity_to_lots(100) == 100
    assert board_lots.quantity_to_lots(10_000) == 10_000
    assert _code(board_lots.quantity_to_lots(10_001)) == rejects.QUANTITY_OUT_OF_RANGE


def test_quantity_off_a_lot_larger_than_one_is_off_lot() -> None:
    round_lots = Instrument("X", Decimal("0.01"), Decimal(100))
    assert round_lots.quantity_to_lots(300) == 3
    assert _code(round_lots.quantity_to_lots(250)) == rejects.QUANTITY_OFF_LOT


def test_lots_to_quantity_shows_the_lot_precision() -> None:
    assert str(BTC.lots_to_quantity(15000)) == "1.5000"
    assert str(equity("AAPL").lots_to_quantity(7)) == "7"
