"""The book of one instrument: two sides, the waiting stops and the last trade."""

from __future__ import annotations

from bisect import insort
from typing import Final

from mypy_extensions import i64, mypyc_attr

from hft.domain.book.side import BookSide
from hft.domain.instruments import Instrument
from hft.domain.orders import BUY, SELL, Order


def _buy_stop_key(order: Order) -> tuple[int, int]:
    # Buy stops fire as the price rises: the lowest stop first, then the oldest.
    return (order.stop_price, order.priority)


def _sell_stop_key(order: Order) -> tuple[int, int]:
    # Sell stops fire as the price falls: the highest stop first, then the oldest.
    return (-order.stop_price, order.priority)


@mypyc_attr(acyclic=True)
class OrderBook:
    """Resting orders, waiting stop orders and the last trade price of one instrument."""

    def __init__(self, instrument: Instrument) -> None:
        self.instrument: Final = instrument
        self.symbol: Final = instrument.symbol
        self.bids: Final = BookSide(BUY)
        self.asks: Final = BookSide(SELL)
        self.buy_stops: list[Order] = []
        self.sell_stops: list[Order] = []
        self.last_price: i64 = 0

    def side(self, side: i64) -> BookSide:
        """Return the side an order of ``side`` rests on."""
        return self.bids if side == BUY else self.asks

    def contra(self, side: i64) -> BookSide:
        """Return the side an order of ``side`` trades against."""
        return self.asks if side == BUY else self.bids

    def add_stop(self, order: Order) -> None:
        """Queue a waiting stop in trigger order. O(log n + n)."""
        if order.side == BUY:
            insort(self.buy_stops, order, key=_buy_stop_key)
        else:
            insort(self.sell_stops, order, key=_sell_stop_key)

    def remove_stop(self, order: Order) -> None:
        """Take a waiting stop out of its queue. O(n)."""
        (self.buy_stops if order.side == BUY else self.sell_stops).remove(order)

    def pop_triggered_stop(self, trade_low: i64, trade_high: i64) -> Order | None:
        """Remove and return the next stop reached by trades between ``trade_low`` and ``trade_high``.

        Buy stops fire lowest first and sell stops highest first: the order in
        which a moving price reaches them.
        """
        if self.buy_stops and self.buy_stops[0].stop_price <= trade_high:
            return self.buy_stops.pop(0)
        if self.sell_stops and self.sell_stops[0].stop_price >= trade_low:
            return self.sell_stops.pop(0)
        return None

    def stop_reached(self, side: i64, stop_price: i64) -> bool:
        """Say whether a stop of ``side`` at ``stop_price`` would trigger at the last price."""
        last = self.last_price
        if last == 0:
            return False
        return last >= stop_price if side == BUY else last <= stop_price
