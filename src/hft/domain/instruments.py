"""Instruments: what can be traded, and the grid its prices and sizes live on."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from mypy_extensions import mypyc_attr

from hft.core import rejects
from hft.core.fixedpoint import Rejection, from_units, to_units


@mypyc_attr(acyclic=True)
class Instrument:
    """A listed instrument. Prices are ticks and quantities lots inside the engine.

    ``min_quantity``/``max_quantity`` are in lots and ``max_price`` in ticks;
    ``tick_size`` and ``lot_size`` are the decimal sizes of one tick and one lot.
    """

    def __init__(
        self,
        symbol: str,
        tick_size: Decimal,
        lot_size: Decimal,
        min_quantity: int = 1,
        max_quantity: int = 1_000_000,
        max_price: int = 10**12,
    ) -> None:
        if not symbol or tick_size <= 0 or lot_size <= 0:
            raise ValueError("an instrument needs a symbol and positive tick and lot sizes")
        if not 0 < min_quantity <= max_quantity or max_price <= 0:
            raise ValueError("an instrument needs 0 < min_quantity <= max_quantity and max_price > 0")
        self.symbol: Final = symbol
        self.tick_size: Final = tick_size
        self.lot_size: Final = lot_size
        self.min_quantity: Final = min_quantity
        self.max_quantity: Final = max_quantity
        self.max_price: Final = max_price

    @property
    def price_precision(self) -> int:
        """Decimal places of a price (2 for a tick of 0.01)."""
        return _places(self.tick_size)

    @property
    def quantity_precision(self) -> int:
        """Decimal places of a quantity (4 for a lot of 0.0001)."""
        return _places(self.lot_size)

    def price_to_ticks(self, price: object) -> int | Rejection:
        """Convert a positive decimal price into ticks, or say why it cannot be one."""
        ticks = to_units(price, self.tick_size, rejects.PRICE_OFF_TICK, rejects.PRICE_OUT_OF_RANGE)
        if isinstance(ticks, Rejection):
            return ticks
        if ticks <= 0:
            return Rejection(rejects.INVALID_PRICE, "price must be positive")
        if ticks > self.max_price:
            return Rejection(rejects.PRICE_OUT_OF_RANGE)
        return ticks

    def quantity_to_lots(self, quantity: object) -> int | Rejection:
        """Convert a positive decimal quantity into lots, or say why it cannot be one."""
        lots = to_units(quantity, self.lot_size, rejects.QUANTITY_OFF_LOT, rejects.QUANTITY_OUT_OF_RANGE)
        if isinstance(lots, Rejection):
            return lots
        if lots <= 0:
            return Rejection(rejects.INVALID_QUANTITY, "quantity must be positive")
        if not self.min_quantity <= lots <= self.max_quantity:
            return Rejection(rejects.QUANTITY_OUT_OF_RANGE)
        return lots

    def ticks_to_price(self, ticks: int) -> Decimal:
        """Turn ticks back into the decimal price a user sees."""
        return from_units(ticks, self.tick_size)

    def lots_to_quantity(self, lots: int) -> Decimal:
        """Turn lots back into the decimal quantity a user sees."""
        return from_units(lots, self.lot_size)

    def __repr__(self) -> str:
        return f"Instrument({self.symbol!r}, tick={self.tick_size}, lot={self.lot_size})"


def _places(size: Decimal) -> int:
    exponent = size.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def equity(symbol: str) -> Instrument:
    """Return a US-equity style instrument: one-cent ticks, whole-share lots."""
    return Instrument(symbol, Decimal("0.01"), Decimal("1"), max_quantity=1_000_000, max_price=100_000_000)


def default_instruments() -> list[Instrument]:
    """Return the instruments a fresh venue lists: equities and crypto pairs."""
    return [
        *(equity(symbol) for symbol in ("AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "TSLA", "SPY")),
        Instrument("BTC-USD", Decimal("0.01"), Decimal("0.0001"), max_quantity=10_000_000, max_price=10**9),
        Instrument("ETH-USD", Decimal("0.01"), Decimal("0.001"), max_quantity=100_000_000, max_price=10**8),
    ]
