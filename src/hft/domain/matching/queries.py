"""Read-only questions about engine state: top of book, L2, L3, orders, state hash.

Every answer is a copy; nothing returned here can change the engine.
"""

from __future__ import annotations

import hashlib

from hft.domain.book.level import Level
from hft.domain.book.side import BookSide
from hft.domain.matching.engine import MatchingEngine
from hft.domain.orders import BUY, SELL, Order
from hft.domain.views import Depth, LevelView, OrderView, TopOfBook


def _level_view(level: Level | None) -> LevelView | None:
    return None if level is None else LevelView(level.price, level.visible, level.count)


def top_of_book(engine: MatchingEngine, symbol: str) -> TopOfBook | None:
    """Return best bid, best ask and last price of ``symbol``; None for an unknown symbol. O(1)."""
    book = engine.books.get(symbol)
    if book is None:
        return None
    last = book.last_price if book.last_price else None
    return TopOfBook(symbol, _level_view(book.bids.best()), _level_view(book.asks.best()), last)


def depth(engine: MatchingEngine, symbol: str, levels: int = 10) -> Depth | None:
    """Return up to ``levels`` L2 levels per side, best first; None for an unknown symbol. O(levels)."""
    book = engine.books.get(symbol)
    if book is None:
        return None
    return Depth(symbol, _best_levels(book.bids, levels), _best_levels(book.asks, levels))


def _best_levels(side: BookSide, count: int) -> list[LevelView]:
    best_first = side.levels[::-1][: max(count, 0)]
    return [LevelView(level.price, level.visible, level.count) for level in best_first]


def level_orders(engine: MatchingEngine, symbol: str, side: int, price: int) -> list[OrderView]:
    """Return L3: the orders resting at ``price`` on ``side``, in priority order (empty if none)."""
    book = engine.books.get(symbol)
    if book is None or side not in (BUY, SELL):
        return []
    level = book.side(side).by_price.get(price)
    return [] if level is None else [OrderView(order) for order in level.orders()]


def order(engine: MatchingEngine, order_id: int) -> OrderView | None:
    """Return the live order ``order_id`` (resting or waiting stop), or None."""
    live = engine.orders.get(order_id)
    return None if live is None else OrderView(live)


def live_orders(engine: MatchingEngine, account: int) -> list[OrderView]:
    """Return every live order of ``account`` in order-id order. O(live orders)."""
    mine = [OrderView(live) for live in engine.orders.values() if live.account == account]
    return sorted(mine, key=lambda view: view.order_id)


def state_hash(engine: MatchingEngine) -> str:
    """Return a sha256 over the whole engine state, so replicas and replays can be compared. O(state)."""
    digest = hashlib.sha256()
    digest.update(
        f"seq={engine.sequence};oid={engine.last_order_id};tid={engine.last_trade_id};"
        f"pri={engine.last_priority};stp={sorted(engine.account_self_trade_prevention.items())};"
        f"gtd={sorted(engine.gtd_expiries)}\n".encode()
    )
    for symbol in sorted(engine.books):
        book = engine.books[symbol]
        digest.update(f"book={symbol};last={book.last_price}\n".encode())
        for side in (book.bids, book.asks):
            for level in reversed(side.levels):
                digest.update(f"L{side.side}:{level.price}:{level.visible}:{level.leaves}:{level.count}\n".encode())
                for resting in level.orders():
                    digest.update(_order_line(resting))
        for stop in book.buy_stops + book.sell_stops:
            digest.update(_order_line(stop))
    return digest.hexdigest()


def _order_line(live: Order) -> bytes:
    return (
        f"O{live.order_id}:{live.account}:{live.side}:{live.order_type}:{live.time_in_force}:{live.price}:"
        f"{live.stop_price}:{live.quantity}:{live.filled}:{live.leaves}:{live.visible}:{live.display_quantity}:"
        f"{live.post_only}:{live.self_trade_prevention}:{live.expire_ts}:{live.client_order_id}:"
        f"{live.ts_accepted}:{live.priority}:{live.triggered}\n"
    ).encode()
