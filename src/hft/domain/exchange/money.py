"""Cash and quantity units shared by accounts, positions and risk.

Cash is an integer number of ``CASH_SCALE``-ths of the quote currency and
venue-wide quantities (risk limits) are integer ``QUANTITY_SCALE``-ths of an
instrument's unit, so every product of ticks and lots stays an exact integer.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from mypy_extensions import mypyc_attr

from hft.domain.instruments import Instrument

CASH_SCALE: Final = 10**8
QUANTITY_SCALE: Final = 10**8
# Larger cash amounts (1e10 in currency) are refused at the edge, so sums of them stay far from any overflow.
MAX_CASH_UNITS: Final = 10**18


@mypyc_attr(acyclic=True)
class Scale:
    """How one instrument's ticks and lots turn into cash and quantity units."""

    def __init__(self, instrument: Instrument) -> None:
        cash_per_tick_lot = instrument.tick_size * instrument.lot_size * CASH_SCALE
        units_per_lot = instrument.lot_size * QUANTITY_SCALE
        if (
            cash_per_tick_lot != cash_per_tick_lot.to_integral_value()
            or units_per_lot != units_per_lot.to_integral_value()
        ):
            raise ValueError(f"{instrument.symbol}: tick and lot sizes need at most 8 decimal places together")
        # Cash units of one lot traded at one tick.
        self.cash_per_tick_lot: Final[int] = int(cash_per_tick_lot)
        self.units_per_lot: Final[int] = int(units_per_lot)

    def notional(self, price: int, lots: int) -> int:
        """Return the cash units of ``lots`` at ``price`` ticks."""
        return price * lots * self.cash_per_tick_lot


def cash_to_decimal(units: int) -> Decimal:
    """Turn cash units into the decimal amount a user sees."""
    return Decimal(units).scaleb(-8).normalize() if units else Decimal(0)


def quantity_to_decimal(units: int) -> Decimal:
    """Turn quantity units into the decimal quantity a user sees."""
    return Decimal(units).scaleb(-8).normalize() if units else Decimal(0)


def average_price(open_cost: int, net: int, lot_size: Decimal) -> Decimal | None:
    """Return the open cost per unit of a position of ``net`` lots (None when flat): exact, without trailing zeros."""
    if not net:
        return None
    return (Decimal(abs(open_cost)) / abs(net) / CASH_SCALE / lot_size).normalize()
