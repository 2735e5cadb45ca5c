"""Copy the whole engine state into plain data (lists, ints, strings) and back.

The plain data is what snapshots store. ``restore_engine(export_engine(e))``
has the same state hash as ``e`` and behaves identically from then on: live
orders keep their dict order, queue positions and priorities.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hft.domain.book.side import BookSide
from hft.domain.instruments import Instrument
from hft.domain.matching.engine import MatchingEngine
from hft.domain.orders import Order

PlainData = list[Any]


def export_engine(engine: MatchingEngine) -> PlainData:
    """Return the engine state as plain data. O(state)."""
    books = []
    for symbol, book in engine.books.items():
        books.append(
            [
                symbol,
                book.last_price,
                _queues(book.bids),
                _queues(book.asks),
                [order.order_id for order in book.buy_stops],
                [order.order_id for order in book.sell_stops],
            ]
        )
    return [
        engine.sequence,
        engine.last_order_id,
        engine.last_trade_id,
        engine.last_priority,
        [[account, mode] for account, mode in engine.account_self_trade_prevention.items()],
        [[expire_ts, order_id] for expire_ts, order_id in engine.gtd_expiries],
        books,
        [_order_data(order) for order in engine.orders.values()],
    ]


def restore_engine(instruments: Iterable[Instrument], data: PlainData) -> MatchingEngine:
    """Build an engine from ``export_engine`` data. Raises ValueError if the data does not fit together."""
    engine = MatchingEngine(instruments)
    sequence, last_order_id, last_trade_id, last_priority, modes, expiries, books, orders = data
    engine.sequence = sequence
    engine.last_order_id = last_order_id
    engine.last_trade_id = last_trade_id
    engine.last_priority = last_priority
    engine.account_self_trade_prevention = dict(modes)
    engine.gtd_expiries = [(expire_ts, order_id) for expire_ts, order_id in expiries]
    for order_data in orders:
        order = _order_from(order_data)
        engine.orders[order.order_id] = order
    placed = 0
    for symbol, last_price, bids, asks, buy_stops, sell_stops in books:
        book = engine.books.get(symbol)
        if book is None:
            raise ValueError(f"snapshot has a book for {symbol!r}, which is not a listed instrument")
        book.last_price = last_price
        placed += _fill_side(engine, book.bids, bids) + _fill_side(engine, book.asks, asks)
        book.buy_stops = [engine.orders[order_id] for order_id in buy_stops]
        book.sell_stops = [engine.orders[order_id] for order_id in sell_stops]
        placed += len(buy_stops) + len(sell_stops)
    if placed != len(engine.orders):
        raise ValueError(f"snapshot places {placed} orders but lists {len(engine.orders)} live orders")
    return engine


def _queues(side: BookSide) -> PlainData:
    return [[level.price, [order.order_id for order in level.orders()]] for level in side.levels]


def _fill_side(engine: MatchingEngine, side: BookSide, queues: PlainData) -> int:
    count = 0
    for price, order_ids in queues:
        level = side.level_at(price)
        for order_id in order_ids:
            level.append(engine.orders[order_id])
            count += 1
    return count


def _order_data(order: Order) -> PlainData:
    return [
        order.order_id,
        order.account,
        order.symbol,
        order.side,
        order.order_type,
        order.time_in_force,
        order.price,
        order.quantity,
        order.stop_price,
        order.display_quantity,
        order.post_only,
        order.self_trade_prevention,
        order.expire_ts,
        order.client_order_id,
        order.ts_accepted,
        order.filled,
        order.leaves,
        order.visible,
        order.priority,
        order.triggered,
    ]


def _order_from(data: PlainData) -> Order:
    order = Order(*data[:15])
    order.filled, order.leaves, order.visible, order.priority, order.triggered = data[15:]
    return order
