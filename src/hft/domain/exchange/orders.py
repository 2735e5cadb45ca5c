"""What the exchange remembers about orders: the risk exposure of live ones, and client-order-id records."""

from __future__ import annotations

from typing import Final

from mypy_extensions import i64, mypyc_attr

from hft.domain.exchange.accounts import Account
from hft.domain.exchange.positions import Position

# Order status as a client sees it.
NEW: Final = 1
PARTIALLY_FILLED: Final = 2
FILLED: Final = 3
CANCELLED: Final = 4
ORDER_STATUS_NAMES: Final[dict[int, str]] = {
    NEW: "NEW",
    PARTIALLY_FILLED: "PARTIALLY_FILLED",
    FILLED: "FILLED",
    CANCELLED: "CANCELLED",
}


@mypyc_attr(acyclic=True)
class OrderRecord:
    """The life of an order that has a client order id, kept after it leaves the book.

    A client that lost an acknowledgement looks its order up by client order
    id and finds out what happened. ``filled_notional`` is in cash units.
    """

    def __init__(
        self,
        order_id: i64,
        account: i64,
        client_order_id: str,
        symbol: str,
        side: i64,
        order_type: i64,
        time_in_force: i64,
        price: i64,
        stop_price: i64,
        quantity: i64,
        ts_accepted: i64,
    ) -> None:
        self.order_id: Final = order_id
        self.account: Final = account
        self.client_order_id: Final = client_order_id
        self.symbol: Final = symbol
        self.side: Final = side
        self.order_type: Final = order_type
        self.time_in_force: Final = time_in_force
        self.price = price
        self.stop_price = stop_price
        self.quantity = quantity
        self.ts_accepted: Final = ts_accepted
        self.filled: i64 = 0
        self.filled_notional: int = 0
        self.status: i64 = NEW
        # Why a CANCELLED order left (an events.CANCEL_REASON_*), else 0.
        self.cancel_reason: i64 = 0


@mypyc_attr(acyclic=True)
class OpenOrder:
    """A live order's commitment: ``leaves`` lots at ``risk_price`` ticks, held against its account."""

    def __init__(
        self,
        order_id: i64,
        account: Account,
        position: Position,
        side: i64,
        risk_price: i64,
        leaves: i64,
        cash_per_tick_lot: int,
        record: OrderRecord | None,
    ) -> None:
        self.order_id: Final = order_id
        self.account: Final = account
        self.position: Final = position
        self.side: Final = side
        self.risk_price = risk_price
        self.leaves = leaves
        self.cash_per_tick_lot: Final = cash_per_tick_lot
        self.record: Final = record
