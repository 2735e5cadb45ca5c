"""Events: immutable facts the engine emits, named in the past tense.

Every event carries the engine ``sequence`` (one counter over all events,
strictly increasing) and the ``ts`` the sequencer stamped on the command
that caused it. Prices are ticks, quantities lots.
"""

from __future__ import annotations

from typing import Final

from mypy_extensions import i64, mypyc_attr

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

    def __init__(self, sequence: i64, ts: i64) -> None:
        self.sequence: Final = sequence
        self.ts: Final = ts


@mypyc_attr(acyclic=True, free_list_len=1)
class OrderAccepted(Event):
    """A new order passed validation and is live (it may trade at once)."""

    def __init__(
        self,
        sequence: i64,
        ts: i64,
        order_id: i64,
        account: i64,
        symbol: str,
        side: i64,
        order_type: i64,
        time_in_force: i64,
        price: i64,
        quantity: i64,
        stop_price: i64,
        display_quantity: i64,
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


@mypyc_attr(acyclic=True, free_list_len=1)
class OrderRejected(Event):
    """A command was refused and changed nothing.

    ``order_id`` is the one it named (0 if none). A refused new order still
    uses up its id: ids only ever increase.
    """

    def __init__(self, sequence: i64, ts: i64, order_id: i64, account: i64, code: i64) -> None:
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


@mypyc_attr(acyclic=True, free_list_len=1)
class TradeExecuted(Event):
    """A taker matched a resting maker at the maker's price.

    ``taker_leaves``/``maker_leaves`` are what remains of each order after
    this fill: 0 means the order is completely filled.
    """

    def __init__(
        self,
        sequence: i64,
        ts: i64,
        trade_id: i64,
        symbol: str,
        price: i64,
        quantity: i64,
        aggressor_side: i64,
        taker_order_id: i64,
        taker_account: i64,
        taker_leaves: i64,
        maker_order_id: i64,
        maker_account: i64,
        maker_leaves: i64,
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


@mypyc_attr(acyclic=True, free_list_len=1)
class OrderCancelled(Event):
    """An order left the book unfilled (``cancelled_quantity`` of it); see CANCEL_REASON_*."""

    def __init__(
        self, sequence: i64, ts: i64, order_id: i64, account: i64, symbol: str, reason: i64, cancelled_quantity: i64
    ) -> None:
        super().__init__(sequence, ts)
        self.order_id: Final = order_id
        self.account: Final = account
        self.symbol: Final = symbol
        self.reason: Final = reason
        self.cancelled_quantity: Final = cancelled_quantity


@mypyc_attr(acyclic=True)
class OrderReduced(Event):
    """Self-trade prevention (decrement-and-cancel) took ``reduced_by`` off a live order's quantity."""

    def __init__(
        self,
        sequence: i64,
        ts: i64,
        order_id: i64,
        account: i64,
        symbol: str,
        reduced_by: i64,
        quantity: i64,
        leaves: i64,
    ) -> None:
        super().__init__(sequence, ts)
        self.order_id: Final = order_id
        self.account: Final = account
        self.symbol: Final = symbol
        self.reduced_by: Final = reduced_by
        self.quantity: Final = quantity
        self.leaves: Final = leaves


@mypyc_attr(acyclic=True)
class OrderReplaced(Event):
    """An amend took effect: the order now has this price, stop price and total quantity."""

    def __init__(
        self,
        sequence: i64,
        ts: i64,
        order_id: i64,
        account: i64,
        symbol: str,
        price: i64,
        stop_price: i64,
        quantity: i64,
        leaves: i64,
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
    """A stop order's trigger was reached and it now acts as a MARKET or LIMIT order.

    ``trigger_price`` is the trade price that reached the stop: the last price
    when the stop was already reached on entry, else the highest (buy stop) or
    lowest (sell stop) trade price of the command that set it off.
    """

    def __init__(self, sequence: i64, ts: i64, order_id: i64, account: i64, symbol: str, trigger_price: i64) -> None:
        super().__init__(sequence, ts)
        self.order_id: Final = order_id
        self.account: Final = account
        self.symbol: Final = symbol
        self.trigger_price: Final = trigger_price


@mypyc_attr(acyclic=True, free_list_len=1)
class BookLevelChanged(Event):
    """L2 delta: the visible quantity and order count at one price level is now this (0 = level gone)."""

    def __init__(
        self, sequence: i64, ts: i64, symbol: str, side: i64, price: i64, quantity: i64, order_count: i64
    ) -> None:
        super().__init__(sequence, ts)
        self.symbol: Final = symbol
        self.side: Final = side
        self.price: Final = price
        self.quantity: Final = quantity
        self.order_count: Final = order_count


@mypyc_attr(acyclic=True)
class SelfTradePreventionSet(Event):
    """``account``'s orders that name no self-trade prevention mode now use ``mode``."""

    def __init__(self, sequence: i64, ts: i64, account: i64, mode: i64) -> None:
        super().__init__(sequence, ts)
        self.account: Final = account
        self.mode: Final = mode
