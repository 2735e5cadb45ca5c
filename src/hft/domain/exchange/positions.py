"""Positions: net quantity, cost of the open position, realized P&L and fees per account and symbol."""

from __future__ import annotations

from typing import Final

from mypy_extensions import i64, mypyc_attr


@mypyc_attr(acyclic=True)
class Position:
    """An account's position in one symbol. Quantities are lots, money cash units.

    ``open_cost`` is signed: what the open long cost, or minus what the open
    short received. Average price is ``open_cost / net``; unrealized P&L is
    ``net * mark - open_cost``. Realized P&L excludes fees, which are kept
    apart in ``fees``. ``open_buy``/``open_sell`` are the lots of live orders.
    """

    def __init__(self, symbol: str) -> None:
        self.symbol: Final = symbol
        self.net: i64 = 0
        self.open_cost: int = 0
        self.realized: int = 0
        self.fees: int = 0
        self.volume: i64 = 0
        self.open_buy: i64 = 0
        self.open_sell: i64 = 0
        # Set while the exchange collects the positions one command changed (never true between commands).
        self.touched = False

    def fill(self, lots: i64, notional: int) -> None:
        """Apply a fill of ``lots`` (positive bought, negative sold) worth ``notional`` cash units.

        Closing part of the position realizes P&L against its average cost; a
        fill through zero closes the old position and opens the rest anew.
        """
        net = self.net
        self.volume += lots if lots > 0 else -lots
        if net == 0 or (net > 0) == (lots > 0):
            self.open_cost += notional if lots > 0 else -notional
            self.net = net + lots
            return
        size = lots if lots > 0 else -lots
        held = net if net > 0 else -net
        closing = size if size < held else held
        # int(): with an i64 operand mypyc would compute these products of cash and lots in 64 bits, and overflow.
        closing_notional = notional if closing == size else notional * int(closing) // int(size)
        if closing == held:
            removed_cost = self.open_cost
        elif self.open_cost >= 0:
            removed_cost = self.open_cost * int(closing) // int(held)
        else:
            removed_cost = -(-self.open_cost * int(closing) // int(held))
        proceeds = closing_notional if lots < 0 else -closing_notional
        self.realized += proceeds - removed_cost
        self.open_cost -= removed_cost
        self.net = net + lots
        # A fill through zero opens a new position with the rest of the notional.
        opening_notional = notional - closing_notional
        self.open_cost += opening_notional if lots > 0 else -opening_notional

    def unrealized(self, mark_value: int) -> int:
        """Return unrealized P&L given ``mark_value``, the cash value of ``net`` at the mark price."""
        return mark_value - self.open_cost if self.net else 0
