"""Read-only copies of engine state handed to the outside world."""

from __future__ import annotations

from typing import Final

from mypy_extensions import mypyc_attr

from hft.domain.orders import Order


@mypyc_attr(acyclic=True)
class OrderView:
    """A snapshot of one live order. ``status`` is NEW, PARTIALLY_FILLED or WAITING_TRIGGER."""

    def __init__(self, order: Order) -> None:
        self.order_id: Final = order.order_id
        self.account: Final = order.account
        self.symbol: Final = order.symbol
        self.side: Final = order.side
        self.order_type: Final = order.order_type
        self.time_in_force: Final = order.time_in_force
        self.price: Final = order.price
        self.stop_price: Final = order.stop_price
        self.quantity: Final = order.quantity
        self.filled: Final = order.filled
        self.leaves: Final = order.leaves
        self.visible: Final = order.visible
        self.display_quantity: Final = order.display_quantity
        self.post_only: Final = order.post_only
        self.self_trade_prevention: Final = order.self_trade_prevention
        self.expire_ts: Final = order.expire_ts
        self.client_order_id: Final = order.client_order_id
        self.ts_accepted: Final = order.ts_accepted
        self.priority: Final = order.priority
        status = "PARTIALLY_FILLED" if order.filled else "NEW"
        self.status: Final = "WAITING_TRIGGER" if order.level is None else status

    def __repr__(self) -> str:
        return f"OrderView(order_id={self.order_id}, {self.status}, leaves={self.leaves}@{self.price})"


@mypyc_attr(acyclic=True)
class LevelView:
    """One L2 level: price in ticks, visible quantity in lots, number of orders."""

    def __init__(self, price: int, quantity: int, order_count: int) -> None:
        self.price: Final = price
        self.quantity: Final = quantity
        self.order_count: Final = order_count

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LevelView):
            return NotImplemented
        return (self.price, self.quantity, self.order_count) == (other.price, other.quantity, other.order_count)

    def __hash__(self) -> int:
        return hash((self.price, self.quantity, self.order_count))

    def __repr__(self) -> str:
        return f"LevelView({self.price}, {self.quantity}, {self.order_count})"


@mypyc_attr(acyclic=True)
class TopOfBook:
    """Best bid and ask (None when a side is empty) and the last trade price (None before any trade)."""

    def __init__(self, symbol: str, bid: LevelView | None, ask: LevelView | None, last_price: int | None) -> None:
        self.symbol: Final = symbol
        self.bid: Final = bid
        self.ask: Final = ask
        self.last_price: Final = last_price


@mypyc_attr(acyclic=True)
class Depth:
    """L2 depth: levels best first on each side."""

    def __init__(self, symbol: str, bids: list[LevelView], asks: list[LevelView]) -> None:
        self.symbol: Final = symbol
        self.bids: Final = bids
        self.asks: Final = asks
