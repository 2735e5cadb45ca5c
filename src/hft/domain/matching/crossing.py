"""Whether and how far an incoming order crosses the book: pure functions over book state."""

from __future__ import annotations

from typing import Final

from mypy_extensions import i64

from hft.domain.book.level import Level
from hft.domain.book.order_book import OrderBook
from hft.domain.book.side import BookSide
from hft.domain.orders import BUY, MARKET, STOP, STP_CANCEL_OLDEST, STP_NONE, Order

# Below every level key (prices are at most 10**15 ticks), so a market order
# crosses every level. Small enough to stay an unboxed constant when compiled.
_CROSSES_EVERYTHING: Final = -(2**60)


def cross_key(taker: Order) -> i64:
    """The smallest contra level key ``taker`` trades with (see ``BookSide.key_of``)."""
    if taker.order_type in (MARKET, STOP):
        return _CROSSES_EVERYTHING
    return -taker.price if taker.side == BUY else taker.price


def crosses(contra: BookSide, side: i64, price: i64) -> bool:
    """Say whether an order of ``side`` at ``price`` would trade with the best level of ``contra``."""
    best = contra.best()
    if best is None:
        return False
    return best.key >= (-price if side == BUY else price)


def fills_completely(book: OrderBook, taker: Order) -> bool:
    """Say whether a FOK order would fill in full, counting iceberg reserves.

    Under self-trade prevention the taker's own orders count as nothing. Under
    every mode but cancel-oldest, reaching one of them cuts the taker short;
    at a level holding one, only the visible quantity queued ahead of it can be
    taken first (iceberg refills join the back, behind it).
    """
    needed = taker.leaves
    threshold = cross_key(taker)
    levels = book.contra(taker.side).levels
    stp = taker.self_trade_prevention
    index = len(levels) - 1
    while index >= 0 and needed > 0:
        level = levels[index]
        if level.key < threshold:
            return False
        if stp == STP_NONE:
            needed -= level.leaves
        elif stp == STP_CANCEL_OLDEST:
            needed -= _others_leaves(level, taker.account)
        else:
            ahead = _visible_ahead_of_own(level, taker.account)
            if ahead < 0:
                needed -= level.leaves
            else:
                return needed <= ahead
        index -= 1
    return needed <= 0


def _others_leaves(level: Level, account: i64) -> i64:
    total: i64 = 0
    maker = level.head
    while maker is not None:
        if maker.account != account:
            total += maker.leaves
        maker = maker.next
    return total


def _visible_ahead_of_own(level: Level, account: i64) -> i64:
    """Visible quantity queued before ``account``'s first order at ``level``; -1 if it has none there."""
    ahead: i64 = 0
    maker = level.head
    while maker is not None:
        if maker.account == account:
            return ahead
        ahead += maker.visible
        maker = maker.next
    return -1
