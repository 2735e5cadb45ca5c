"""Pre-trade risk limits and the checks that apply them.

Each check returns a reject code from ``hft.core.rejects`` or 0. A limit of
0 means "no limit". Quantities are ``QUANTITY_SCALE`` units so one set of
limits fits instruments with different lot sizes; notionals are cash units.
"""

from __future__ import annotations

from typing import Final

from mypy_extensions import i64, mypyc_attr

from hft.core import rejects
from hft.domain.book.order_book import OrderBook
from hft.domain.exchange.money import MAX_CASH_UNITS
from hft.domain.orders import BUY, LIMIT, MARKET, STOP, STOP_LIMIT

ONE_SECOND_NS: Final = 1_000_000_000
BPS: Final = 10_000


@mypyc_attr(acyclic=True)
class RiskLimits:
    """Limits for one account, or the venue defaults for accounts without their own."""

    def __init__(
        self,
        max_order_quantity: int = 0,
        max_order_notional: int = 0,
        price_collar_bps: i64 = 0,
        max_open_orders: i64 = 0,
        max_position: int = 0,
        max_orders_per_second: i64 = 0,
    ) -> None:
        self.max_order_quantity: Final = max_order_quantity
        self.max_order_notional: Final = max_order_notional
        self.price_collar_bps: Final = price_collar_bps
        self.max_open_orders: Final = max_open_orders
        self.max_position: Final = max_position
        self.max_orders_per_second: Final = max_orders_per_second

    def as_tuple(self) -> tuple[int, int, int, int, int, int]:
        """Return the limits in field order (for snapshots, hashes and equality)."""
        return (
            self.max_order_quantity,
            self.max_order_notional,
            self.price_collar_bps,
            self.max_open_orders,
            self.max_position,
            self.max_orders_per_second,
        )

    def is_valid(self) -> bool:
        """Say whether every limit is within range (none negative, collar at most 100%)."""
        values = self.as_tuple()
        return min(values) >= 0 and max(values) <= MAX_CASH_UNITS and self.price_collar_bps <= BPS

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RiskLimits) and other.as_tuple() == self.as_tuple()

    def __hash__(self) -> int:
        return hash(self.as_tuple())

    def __repr__(self) -> str:
        return f"RiskLimits{self.as_tuple()}"


NO_LIMITS: Final = RiskLimits()


def reference_price(book: OrderBook) -> i64:
    """Return the price collars are measured from: last trade, else mid, else 0 (none)."""
    if book.last_price:
        return book.last_price
    bid = book.bids.best()
    ask = book.asks.best()
    if bid is not None and ask is not None:
        return (bid.price + ask.price) // 2
    return 0


def outside_collar(price: i64, reference: i64, collar_bps: i64) -> bool:
    """Say whether ``price`` is further than ``collar_bps`` from ``reference`` (never, without either)."""
    if collar_bps == 0 or reference == 0:
        return False
    distance = price - reference if price > reference else reference - price
    return distance * BPS > collar_bps * reference


def risk_price(book: OrderBook, side: i64, order_type: i64, price: i64, stop_price: i64, collar_bps: i64) -> i64:
    """Return the price an order's notional is measured at.

    LIMIT and STOP_LIMIT orders use their limit price and STOP orders their
    stop price. A MARKET order uses the far edge of the collar when there is
    one, else the best opposite price, else the last price, else 0.
    """
    if order_type in (LIMIT, STOP_LIMIT):
        return price
    if order_type == STOP:
        return stop_price
    reference = reference_price(book)
    if collar_bps and reference:
        offset = reference * collar_bps // BPS
        return reference + offset if side == BUY else max(reference - offset, 1)
    best = book.contra(side).best()
    if best is not None:
        return best.price
    return book.last_price


def check_order_size(limits: RiskLimits, quantity_units: int, notional: int) -> i64:
    """Check an order's quantity and notional against the account's limits."""
    if limits.max_order_quantity and quantity_units > limits.max_order_quantity:
        return rejects.MAX_ORDER_QUANTITY
    if limits.max_order_notional and notional > limits.max_order_notional:
        return rejects.MAX_ORDER_NOTIONAL
    return 0


def check_collar(limits: RiskLimits, book: OrderBook, order_type: i64, price: i64, stop_price: i64) -> i64:
    """Check an order's limit and stop prices against the price collar."""
    collar = limits.price_collar_bps
    if collar == 0 or order_type == MARKET:
        return 0
    reference = reference_price(book)
    if price and outside_collar(price, reference, collar):
        return rejects.PRICE_OUTSIDE_COLLAR
    if stop_price and outside_collar(stop_price, reference, collar):
        return rejects.PRICE_OUTSIDE_COLLAR
    return 0


def check_position(limits: RiskLimits, worst_case_lots: i64, units_per_lot: int) -> i64:
    """Check the largest net position the account could reach if its orders on one side all filled."""
    size = worst_case_lots if worst_case_lots >= 0 else -worst_case_lots
    if limits.max_position and int(size) * units_per_lot > limits.max_position:  # int(): not in 64 bits
        return rejects.MAX_POSITION
    return 0


def reduces_position(net: i64, side: i64, open_same_side: i64, quantity: i64) -> bool:
    """Say whether an order only reduces the position, counting the account's other orders on its side."""
    if side == BUY:
        return net < 0 and open_same_side + quantity <= -net
    return net > 0 and open_same_side + quantity <= net
