"""One price level: a FIFO of orders in time priority, as a doubly linked list."""

from __future__ import annotations

from mypy_extensions import i64, mypyc_attr

from hft.domain.orders import Order


@mypyc_attr(acyclic=True)
class Level:
    """The orders resting at one price, oldest first.

    ``key`` orders levels so that the best level has the largest key on both
    sides (the price for bids, minus the price for asks). ``visible`` is the
    quantity shown in L2 data; ``leaves`` adds iceberg reserves.
    """

    def __init__(self, price: i64, key: i64) -> None:
        self.price = price
        self.key = key
        self.visible: i64 = 0
        self.leaves: i64 = 0
        self.count: i64 = 0
        self.head: Order | None = None
        self.tail: Order | None = None

    def append(self, order: Order) -> None:
        """Put ``order`` at the back of the queue. O(1)."""
        tail = self.tail
        order.prev = tail
        order.next = None
        order.level = self
        if tail is None:
            self.head = order
        else:
            tail.next = order
        self.tail = order
        self.visible += order.visible
        self.leaves += order.leaves
        self.count += 1

    def remove(self, order: Order) -> None:
        """Take ``order`` out of the queue and break its links. O(1)."""
        prev = order.prev
        nxt = order.next
        if prev is None:
            self.head = nxt
        else:
            prev.next = nxt
        if nxt is None:
            self.tail = prev
        else:
            nxt.prev = prev
        order.prev = None
        order.next = None
        order.level = None
        self.visible -= order.visible
        self.leaves -= order.leaves
        self.count -= 1

    def shrink(self, order: Order, by: i64) -> None:
        """Take ``by`` off a resting order's quantity in place, keeping its time priority. O(1)."""
        new_leaves = order.leaves - by
        new_visible = order.visible if order.visible < new_leaves else new_leaves
        self.visible -= order.visible - new_visible
        self.leaves -= by
        order.quantity -= by
        order.leaves = new_leaves
        order.visible = new_visible

    def orders(self) -> list[Order]:
        """Return the orders in priority order (a new list; O(n))."""
        result: list[Order] = []
        order = self.head
        while order is not None:
            result.append(order)
            order = order.next
        return result
