"""Order vocabulary (sides, types, time in force, self-trade prevention) and the live order.

The vocabulary is small integers so the compiled engine compares constants,
not objects; ``*_NAMES`` and ``parse_*`` translate at the edges.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from mypy_extensions import i64, mypyc_attr

if TYPE_CHECKING:
    from hft.domain.book.level import Level

BUY: Final = 1
SELL: Final = 2
SIDE_NAMES: Final[dict[int, str]] = {BUY: "BUY", SELL: "SELL"}

LIMIT: Final = 1
MARKET: Final = 2
STOP: Final = 3
STOP_LIMIT: Final = 4
ORDER_TYPE_NAMES: Final[dict[int, str]] = {LIMIT: "LIMIT", MARKET: "MARKET", STOP: "STOP", STOP_LIMIT: "STOP_LIMIT"}

GTC: Final = 1
IOC: Final = 2
FOK: Final = 3
DAY: Final = 4
GTD: Final = 5
TIME_IN_FORCE_NAMES: Final[dict[int, str]] = {GTC: "GTC", IOC: "IOC", FOK: "FOK", DAY: "DAY", GTD: "GTD"}

# Self-trade prevention. DEFAULT on an order means "use the account's mode".
STP_DEFAULT: Final = 0
STP_NONE: Final = 1
STP_CANCEL_NEWEST: Final = 2
STP_CANCEL_OLDEST: Final = 3
STP_CANCEL_BOTH: Final = 4
STP_DECREMENT_AND_CANCEL: Final = 5
STP_NAMES: Final[dict[int, str]] = {
    STP_DEFAULT: "DEFAULT",
    STP_NONE: "NONE",
    STP_CANCEL_NEWEST: "CANCEL_NEWEST",
    STP_CANCEL_OLDEST: "CANCEL_OLDEST",
    STP_CANCEL_BOTH: "CANCEL_BOTH",
    STP_DECREMENT_AND_CANCEL: "DECREMENT_AND_CANCEL",
}


def _parser(names: dict[int, str]) -> dict[str, int]:
    return {name: value for value, name in names.items()}


SIDES_BY_NAME: Final = _parser(SIDE_NAMES)
ORDER_TYPES_BY_NAME: Final = _parser(ORDER_TYPE_NAMES)
TIMES_IN_FORCE_BY_NAME: Final = _parser(TIME_IN_FORCE_NAMES)
STP_BY_NAME: Final = _parser(STP_NAMES)


@mypyc_attr(acyclic=True, free_list_len=1)
class Order:
    """A live order owned by the engine: resting in a book or waiting as a stop.

    Mutable engine state; the outside world sees ``OrderView`` copies. Not
    tracked by the cycle collector: the engine breaks every link (``prev``,
    ``next``, ``level``) when an order leaves the book.
    """

    def __init__(
        self,
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
        post_only: bool,
        self_trade_prevention: i64,
        expire_ts: i64,
        client_order_id: str,
        ts_accepted: i64,
    ) -> None:
        self.order_id = order_id
        self.account = account
        self.symbol = symbol
        self.side = side
        self.order_type = order_type
        self.time_in_force = time_in_force
        self.price = price
        self.quantity = quantity
        self.stop_price = stop_price
        self.display_quantity = display_quantity
        self.post_only = post_only
        self.self_trade_prevention = self_trade_prevention
        self.expire_ts = expire_ts
        self.client_order_id = client_order_id
        self.ts_accepted = ts_accepted
        self.filled: i64 = 0
        self.leaves = quantity
        # Quantity shown in the book: all of it, or an iceberg's current slice.
        self.visible = self.slice_size()
        # Time priority among orders at one price, and among stops.
        self.priority: i64 = 0
        self.triggered = False
        self.prev: Order | None = None
        self.next: Order | None = None
        self.level: Level | None = None

    def slice_size(self) -> i64:
        """Return how much of ``leaves`` the book shows: all of it, or an iceberg's next slice."""
        display = self.display_quantity
        return self.leaves if display == 0 or display > self.leaves else display
