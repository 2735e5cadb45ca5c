"""Cash and quantity units: exact integer products of ticks and lots, decimals only at the edge."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hft.domain.exchange.money import CASH_SCALE, QUANTITY_SCALE, Scale, cash_to_decimal, quantity_to_decimal
from hft.domain.instruments import Instrument, equity


def test_an_equity_tick_and_lot_is_a_cent_of_cash() -> None:
    scale = Scale(equity("AAPL"))

    assert scale.cash_per_tick_lot == CASH_SCALE // 100
    assert scale.units_per_lot == QUANTITY_SCALE
    assert scale.notional(10_000, 3) == 300 * CASH_SCALE  # 3 shares at 100.00


def test_small_lots_scale_down_exactly() -> None:
    scale = Scale(Instrument("BTC-USD", Decimal("0.01"), Decimal("0.0001")))

    assert scale.cash_per_tick_lot == 100  # 0.01 * 0.0001 = 0.000001 of cash
    assert scale.units_per_lot == 10_000
    assert cash_to_decimal(scale.notional(6_543_210, 2_500)) == Decimal("16358.025")


def test_tick_and_lot_sizes_finer_than_eight_places_together_are_refused() -> None:
    with pytest.raises(ValueError, match="8 decimal places"):
        Scale(Instrument("DUST", Decimal("0.00001"), Decimal("0.0001")))
    with pytest.raises(ValueError, match="8 decimal places"):
        Scale(Instrument("DUST", Decimal("1"), Decimal("0.000000001")))


def test_at_exactly_eight_places_together_a_tick_lot_is_one_cash_unit() -> None:
    scale = Scale(Instrument("FINE", Decimal("0.0001"), Decimal("0.0001")))

    assert scale.cash_per_tick_lot == 1


@pytest.mark.parametrize(
    ("units", "shown"),
    [(0, "0"), (1, "1E-8"), (CASH_SCALE, "1"), (-250 * CASH_SCALE, "-2.5E+2"), (123_456_789, "1.23456789")],
)
def test_cash_units_turn_into_the_decimal_a_user_sees(units: int, shown: str) -> None:
    assert cash_to_decimal(units) == Decimal(shown)


def test_quantity_units_turn_into_the_decimal_a_user_sees() -> None:
    assert quantity_to_decimal(0) == 0
    assert quantity_to_decimal(QUANTITY_SCALE // 4) == Decimal("0.25")
    assert quantity_to_decimal(7 * QUANTITY_SCALE) == 7
