"""One side of a book: price levels kept sorted so the best is always last."""

from __future__ import annotations

from bisect import bisect_left
from typing import Final

from mypy_extensions import i64, mypyc_attr

from hft.domain.book.level import Level
from hft.domain.orders import BUY


@mypyc_attr(acyclic=True)
class BookSide:
    """Bids or asks. ``keys`` and ``levels`` are parallel lists sorted by level key.

    The best level sits at the end, so matching pops from the end in O(1);
    adding a new price level costs a binary search and a short memmove.
    """

    def __init__(self, side: int) -> None:
        self.side: Final = side
        self.keys: list[int] = []
        self.levels: list[Level] = []
        self.by_price: dict[int, Level] = {}

    def __del__(self) -> None:
        # Orders and levels link to each other and are invisible to the cycle
        # collector (acyclic), so a discarded book unlinks them itself.
        for level in self.levels:
            for order in level.orders():
                order.prev = None
                order.next = None
                order.level = None
            level.head = None
            level.tail = None

    def key_of(self, price: i64) -> i64:
        """Return the sort key of ``price``: larger is better on both sides."""
        return price if self.side == BUY else -price

    def best(self) -> Level | None:
        """Return the best level, or None when the side is empty."""
        levels = self.levels
        return levels[-1] if levels else None

    def level_at(self, price: i64) -> Level:
        """Return the level at ``price``, creating it in sorted position if needed."""
        level = self.by_price.get(price)
        if level is not None:
            return level
        key = self.key_of(price)
        level = Level(price, key)
        keys = self.keys
        if not keys or key > keys[-1]:
            keys.append(key)
            self.levels.append(level)
        else:
            index = bisect_left(keys, key)
            keys.insert(index, key)
            self.levels.insert(index, level)
        self.by_price[price] = level
        return level

    def discard(self, level: Level) -> None:
        """Drop an empty level. O(1) for the best level, O(log n + n) otherwise."""
        keys = self.keys
        if keys[-1] == level.key:
            keys.pop()
            self.levels.pop()
        else:
            index = bisect_left(keys, level.key)
            del keys[index]
            del self.levels[index]
        del self.by_price[level.price]
