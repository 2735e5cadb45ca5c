"""Events: immutable facts the engine emits, named in the past tense.

Every event carries the engine ``sequence`` (one counter over all events,
strictly increasing) and the ``ts`` the sequencer stamped on the command
that caused it. Prices are ticks, quantities lots.
"""

from __future__ import annotations

from typing import Final

from mypy_extensions import mypyc_attr

from hft.core.rejects import reject_name, reject_text

# Why an order stopped being live without filling completely.
CANCEL_REASON_USER: Final = 1
CANCEL_REASON_IOC_REMAINDER: Final = 2
CANCEL_REASON_MARKET_REMAINDER: Final = 3
CANCEL_REASON_FOK_NOT_FILLED: Final = 4
CANCEL_REASON_SELF_TRADE: Final = 5
CANCEL_REASON_EXPIRED: Final = 6
CANCEL_REASON_MASS_CANCEL: Final = 7
CANCEL_REASON_NAMES: Final[dict[int, str]] = {
    CANCEL_REASON_USER: "USER",
    CANCEL_REASON_IOC_REMAINDER: "IOC_REMAINDER",
    CANCEL_REASON_MARKET_REMAINDER: "MARKET_REMAINDER",
    CANCEL_REASON_FOK_NOT_FILLED: "FOK_NOT_FILLED",
    CANCEL_REASON_SELF_TRADE: "SELF_TRADE",
    CANCEL_REASON_EXPIRED: "EXPIRED",
    CANCEL_REASON_MASS_CANCEL: "MASS_CANCEL",
}


@mypyc_attr(acyclic=True)
class Event:
    """Base of every engine event."""

    def __init__(self, sequence: int, ts: int) -> None:
        self.sequence: Final = sequence
        self.ts: Final = ts


@mypyc_attr(acyclic=True)
class OrderAccepted(Event):
    """A new order passed validation and is live (it may trade at once)."""

    def __init__(
        self,
        sequence: int,
        ts: int,
        order_id: int,
        account: int,
        symbol: str,
        side: int,
        order_type: int,
        time_in_force: int,
        price: int,
        quantity: int,
        stop_price: int,
        display_quantity: int,
        client_order_id: str,
    ) -> None:
        super().__init__(sequence, ts)
        self.order_id: Final = order_id
        self.account: Final = account
        self.symbol: Final = symbol
        self.side: Final = side
        self.order_type: Final = order_type
        self.time_in_force: Final = time_in_force
        self.price: Final = price
        self.quantity: Final = quantity
        self.stop_price: Final = stop_price
        self.display_quantity: Final = display_quantity
        self.client_order_id: Final = client_order_id


@mypyc_attr(acyclic=True)
class OrderRejected(Event):
    """A command was refused and changed nothing. ``order_id`` is the one it named (0 if none)."""

    def __init__(self, sequence: int, ts: int, order_id: int, account: int, code: int) -> None:
        super().__init__(sequence, ts)
        self.order_id: Final = order_id
        self.account: Final = account
        self.code: Final = code

    @property
    def reason(self) -> str:
        """The stable name of the reject code."""
        return reject_name(self.code)

    @property
    def text(self) -> str:
        """A human explanation of the rejection."""
        return reject_text(self.code)


@mypyc_attr(acyclic=True)
class TradeExecuted(Event):
    """A taker matched a resting maker at the maker's price.

    ``taker_leaves``/``maker_leaves`` are what remains of each order after
    this fill: 0 means the order is completely filled.
    """

    def __init__(
        self,
        sequence: int,
        ts: int,
        trade_id: int,
        symbol: str,
        price: int,
        quantity: int,
        aggressor_side: int,
        taker_order_id: int,
        taker_account: int,
        taker_leaves: int,
        maker_order_id: int,
        maker_account: int,
        maker_leaves: int,
    ) -> None:
        super().__init__(sequence, ts)
        self.trade_id: Final = trade_id
        self.symbol: Final = symbol
        self.price: Final = price
        self.quantity: Final = quantity
        self.aggressor_side: Final = aggressor_side
        self.taker_order_id: Final = taker_order_id
        self.taker_account: Final = taker_account
        self.taker_leaves: Final = taker_leaves
        self.maker_order_id: Final = maker_order_id
        self.maker_account: Final = maker_account
        self.maker_leaves: Final = maker_leaves


@mypyc_attr(acyclic=True)
class OrderCancelled(Event):
    """An order left the book unfilled (``cancelled_quantity`` of it); see CANCEL_REASON_*."""

    def __init__(
        self, sequence: int, ts: int, order_id: int, account: int, symbol: str, reason: int, cancelled_quantity: int
    ) -> None:
        super().__init__(sequence, ts)
        self.order_id: Final = order_id
        self.account: Final = account
        self.symbol: Final = symbol
        self.reason: Final = reason
        self.cancelled_quantity: Final = cancelled_quantity


@mypyc_attr(acyclic=True)
class OrderReduced(Event):
    """Self-trade prevention (decrement-and-cancel) took ``reduced_by`` off a live order."""

    def __init__(
        self, sequence: int, ts: int, order_id: int, account: int, symbol: str, reduced_by: int, leaves: int
    ) -> None:
        super().__init__(sequence, ts)
        self.order_id: Final = order_id
        self.account: Final = account
        self.symbol: Final = symbol
        self.reduced_by: Final = reduced_by
        self.leaves: Final = leaves


@mypyc_attr(acyclic=True)
class OrderReplaced(Event):
    """An amend took effect: the order now has this price, stop price and total quantity."""

    def __init__(
        self,
        sequence: int,
        ts: int,
        order_id: int,
        account: int,
        symbol: str,
        price: int,
        stop_price: int,
        quantity: int,
        leaves: int,
        priority_kept: bool,
    ) -> None:
        super().__init__(sequence, ts)
        self.order_id: Final = order_id
        self.account: Final = account
        self.symbol: Final = symbol
        self.price: Final = price
        self.stop_price: Final = stop_price
        self.quantity: Final = quantity
        self.leaves: Final = leaves
        self.priority_kept: Final = priority_kept


@mypyc_attr(acyclic=True)
class StopTriggered(Event):
    """A stop order's trigger was reached by ``last_price`` and it now acts as a MARKET or LIMIT order."""

    def __init__(self, sequence: int, ts: int, order_id: int, account: int, symbol: str, last_price: int) -> None:
        super().__init__(sequence, ts)
        self.order_id: Final = order_id
        self.account: Final = account
        self.symbol: Final = symbol
        self.last_price: Final = last_price


@mypyc_attr(acyclic=True)
class BookLevelChanged(Event):
    """L2 delta: the visible quantity and order count at one price level is now this (0 = level gone)."""

    def __init__(
        self, sequence: int, ts: int, symbol: str, side: int, price: int, quantity: int, order_count: int
    ) -> None:
        super().__init__(sequence, ts)
        self.symbol: Final = symbol
        self.side: Final = side
        self.price: Final = price
        self.quantity: Final = quantity
        self.order_count: Final = order_count
