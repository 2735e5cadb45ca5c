"""Decimal <-> integer-unit conversion, used only at the edges.

Inside the platform every price is an integer number of ticks and every
quantity an integer number of lots. Gateways turn user decimals into those
integers here, and every way a number can be wrong has its own reject code.
"""

from __future__ import annotations

from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, DecimalException, Inexact, InvalidOperation
from typing import Final

from hft.core import rejects

# Far beyond any real price or size, small enough that no arithmetic on it
# can surprise anyone (prices times quantities stay well inside 2**127).
MAX_UNITS: Final = 10**15

# Arithmetic on user input must be exact whatever its exponent: no rounding,
# no overflow to infinity, no underflow to zero. Inputs have at most 64
# characters, so 200 digits of precision always suffice for divmod by a unit.
_EXACT: Final = Context(prec=200, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation, Inexact])


class Rejection:
    """A value that says why an input was refused: a stable code and a text."""

    __slots__ = ("code", "text")

    def __init__(self, code: int, text: str = "") -> None:
        self.code: Final = code
        self.text: Final = text or rejects.reject_text(code)

    def __repr__(self) -> str:
        return f"Rejection({rejects.reject_name(self.code)}, {self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rejection) and other.code == self.code

    def __hash__(self) -> int:
        return hash(self.code)


def parse_decimal(value: object) -> Decimal | Rejection:
    """Parse a JSON number or string into a finite Decimal without binary rounding.

    Floats are converted through their shortest repr, so ``150.1`` means
    ``Decimal("150.1")``, not the binary approximation. Booleans, NaN,
    infinities and non-numeric strings are refused.
    """
    if isinstance(value, bool):
        return Rejection(rejects.INVALID_NUMBER, "a boolean is not a number")
    try:
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, int):
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(repr(value))
        elif isinstance(value, str) and 0 < len(value) <= 64 and "_" not in value:
            number = Decimal(value.strip())
        else:
            return Rejection(rejects.INVALID_NUMBER)
    except InvalidOperation:
        return Rejection(rejects.INVALID_NUMBER, f"{value!r} is not a decimal number")
    if not number.is_finite():
        return Rejection(rejects.INVALID_NUMBER, "NaN and infinity are not prices or quantities")
    return number


def to_units(
    value: object, unit: Decimal, off_grid_code: int, range_code: int, max_units: int = MAX_UNITS
) -> int | Rejection:
    """Convert a decimal amount into a whole number of ``unit`` (ticks, lots, cash units).

    Refuse values that are not exact multiples of ``unit`` (``off_grid_code``)
    and values whose unit count exceeds ``max_units`` (``range_code``).
    Zero and negative values convert; the caller decides whether they are allowed.
    """
    number = parse_decimal(value)
    if isinstance(number, Rejection):
        return number
    try:
        # The exact context's own methods: no localcontext switch, which costs more than the arithmetic.
        if _EXACT.compare(number.copy_abs(), _EXACT.multiply(unit, max_units)) > 0:
            return Rejection(range_code, f"{value} is absurdly large")
        units, remainder = _EXACT.divmod(number, unit)
    except DecimalException:
        return Rejection(rejects.INVALID_NUMBER, f"{value} cannot be converted exactly")
    if remainder != 0:
        return Rejection(off_grid_code, f"{number} is not a multiple of {unit}")
    return int(units)


class UnitText:
    """Whole numbers of one unit (a tick, a lot) as plain decimal text, in integer arithmetic.

    ``text(count)`` has the digits of ``from_units(count, unit)`` with exactly
    the unit's decimal places and never an exponent: the hot-path formatter of
    gateways and projections.
    """

    def __init__(self, unit: Decimal) -> None:
        exponent = unit.normalize().as_tuple().exponent
        if not isinstance(exponent, int) or unit <= 0:
            raise ValueError(f"a unit is a positive finite decimal, not {unit}")
        self.places: Final = max(-exponent, 0)
        self.multiplier: Final = int(unit.scaleb(self.places))

    def text(self, count: int) -> str:
        """Return ``count`` units as text (``-1.50`` for -150 ticks of 0.01)."""
        return decimal_text(count * self.multiplier, self.places)


def decimal_text(scaled: int, places: int) -> str:
    """Return ``scaled`` x 10**-``places`` in plain notation with exactly ``places`` decimals."""
    if not places:
        return str(scaled)
    whole, fraction = divmod(abs(scaled), 10**places)
    return f"{'-' if scaled < 0 else ''}{whole}.{fraction:0{places}d}"


def from_units(units: int, unit: Decimal) -> Decimal:
    """Turn an integer count of ``unit`` back into an exact, normalised Decimal."""
    exponent = unit.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return (Decimal(units) * unit).quantize(Decimal(1).scaleb(-places))
