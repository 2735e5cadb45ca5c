"""A matching engine with an injected clock that checks engine-wide invariants after every command.

Every command a ``Venue`` runs is checked for the engine-wide invariants, so
each test also checks them: events carry the injected ``ts`` and a sequence
that grows by exactly one per event, and replaying every ``BookLevelChanged``
delta ever emitted reproduces the L2 depth the queries report.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from hft.domain.commands import AmendOrder, CancelOrder, Command, SubmitOrder
from hft.domain.events import (
    BookLevelChanged,
    Event,
    OrderAccepted,
    OrderCancelled,
    OrderReduced,
    OrderRejected,
    OrderReplaced,
    SelfTradePreventionSet,
    StopTriggered,
    TradeExecuted,
)
from hft.domain.instruments import Instrument, default_instruments
from hft.domain.matching.engine import MatchingEngine
from hft.domain.matching.queries import depth, level_orders, live_orders, order, state_hash, top_of_book
from hft.domain.orders import BUY, GTC, LIMIT, SELL, STP_DEFAULT
from hft.domain.views import OrderView

EventT = TypeVar("EventT", bound=Event)

# The accounts and the symbol most tests use.
ALICE, BOB, CAROL = 1, 2, 3
AAPL, MSFT = "AAPL", "MSFT"

# Field names of every event type, so events compare as plain data whether or
# not the domain is compiled with mypyc (compiled classes have no __dict__).
EVENT_FIELDS: dict[type[Event], tuple[str, ...]] = {
    OrderAccepted: (
        "order_id",
        "account",
        "symbol",
        "side",
        "order_type",
        "time_in_force",
        "price",
        "quantity",
        "stop_price",
        "display_quantity",
        "client_order_id",
    ),
    OrderRejected: ("order_id", "account", "code"),
    TradeExecuted: (
        "trade_id",
        "symbol",
        "price",
        "quantity",
        "aggressor_side",
        "taker_order_id",
        "taker_account",
        "taker_leaves",
        "maker_order_id",
        "maker_account",
        "maker_leaves",
    ),
    OrderCancelled: ("order_id", "account", "symbol", "reason", "cancelled_quantity"),
    OrderReduced: ("order_id", "account", "symbol", "reduced_by", "quantity", "leaves"),
    OrderReplaced: ("order_id", "account", "symbol", "price", "stop_price", "quantity", "leaves", "priority_kept"),
    StopTriggered: ("order_id", "account", "symbol", "trigger_price"),
    BookLevelChanged: ("symbol", "side", "price", "quantity", "order_count"),
    SelfTradePreventionSet: ("account", "mode"),
}

ORDER_VIEW_FIELDS: tuple[str, ...] = (
    "order_id",
    "account",
    "symbol",
    "side",
    "order_type",
    "time_in_force",
    "price",
    "stop_price",
    "quantity",
    "filled",
    "leaves",
    "visible",
    "display_quantity",
    "post_only",
    "self_trade_prevention",
    "expire_ts",
    "client_order_id",
    "ts_accepted",
    "priority",
    "status",
)

# One L2 level as (price, visible quantity, order count).
L2Level = tuple[int, int, int]


def event_data(event: Event, with_sequence: bool = True) -> tuple[object, ...]:
    """Return an event as comparable data: its type name, sequence (unless told not to), ts, then its fields."""
    head: tuple[object, ...] = (type(event).__name__,)
    if with_sequence:
        head += (event.sequence,)
    head += (event.ts,)
    return head + tuple(getattr(event, name) for name in EVENT_FIELDS[type(event)])


def view_data(view: OrderView) -> dict[str, object]:
    """Return every field of an order view as a dict."""
    return {name: getattr(view, name) for name in ORDER_VIEW_FIELDS}


class Venue:
    """A matching engine over the default instruments, driven by an injected clock.

    ``run`` stamps each command with the next ts (1_000 ns apart unless told)
    and checks the invariants described in the module docstring.
    """

    SYMBOL = "AAPL"
    STEP = 1_000

    def __init__(self, instruments: Iterable[Instrument] | None = None) -> None:
        listed = list(default_instruments() if instruments is None else instruments)
        self.symbols = [instrument.symbol for instrument in listed]
        self.engine = MatchingEngine(listed)
        self.ts = 0
        self.events: list[Event] = []
        self._l2: dict[tuple[str, int, int], tuple[int, int]] = {}

    # -- driving the engine ---------------------------------------------------

    def run(self, command: Command, ts: int | None = None) -> list[Event]:
        """Execute ``command`` at ``ts`` (default: the previous ts plus STEP) and return its events."""
        self.ts = self.ts + self.STEP if ts is None else ts
        first_sequence = self.engine.sequence + 1
        events = self.engine.execute(command, self.ts)
        for offset, event in enumerate(events):
            assert type(event) in EVENT_FIELDS
            assert event.sequence == first_sequence + offset
            assert event.ts == self.ts
            if isinstance(event, BookLevelChanged):
                assert event.quantity >= 0
                assert event.order_count >= 0
                assert (event.quantity == 0) == (event.order_count == 0)
                self._l2[(event.symbol, event.side, event.price)] = (event.quantity, event.order_count)
        self.events.extend(events)
        self._check_l2_matches_depth()
        return events

    def _check_l2_matches_depth(self) -> None:
        for symbol in self.symbols:
            book = depth(self.engine, symbol, 10**6)
            assert book is not None
            for side, levels in ((BUY, book.bids), (SELL, book.asks)):
                from_deltas = sorted(
                    (price, quantity, count)
                    for (level_symbol, level_side, price), (quantity, count) in self._l2.items()
                    if level_symbol == symbol and level_side == side and count > 0
                )
                reported = sorted((level.price, level.quantity, level.order_count) for level in levels)
                assert from_deltas == reported, f"L2 deltas disagree with depth for {symbol} side {side}"

    def submit(
        self,
        order_id: int,
        side: int,
        quantity: int,
        price: int = 0,
        *,
        account: int = 1,
        symbol: str = SYMBOL,
        order_type: int = LIMIT,
        time_in_force: int = GTC,
        stop_price: int = 0,
        display_quantity: int = 0,
        post_only: bool = False,
        self_trade_prevention: int = STP_DEFAULT,
        expire_ts: int = 0,
        client_order_id: str = "",
        ts: int | None = None,
    ) -> list[Event]:
        """Submit an order (a GTC limit on AAPL for account 1 unless told otherwise)."""
        command = SubmitOrder(
            order_id,
            account,
            symbol,
            side,
            quantity,
            price=price,
            order_type=order_type,
            time_in_force=time_in_force,
            stop_price=stop_price,
            display_quantity=display_quantity,
            post_only=post_only,
            self_trade_prevention=self_trade_prevention,
            expire_ts=expire_ts,
            client_order_id=client_order_id,
        )
        return self.run(command, ts)

    def cancel(self, order_id: int, account: int = 1) -> list[Event]:
        """Cancel one order."""
        return self.run(CancelOrder(order_id, account))

    def amend(self, order_id: int, quantity: int, price: int = 0, stop_price: int = 0, account: int = 1) -> list[Event]:
        """Amend one order."""
        return self.run(AmendOrder(order_id, account, quantity, price=price, stop_price=stop_price))

    # -- reading state ----------------------------------------------------------

    def bids(self, symbol: str = SYMBOL) -> list[L2Level]:
        """Return L2 bids, best first, as (price, visible quantity, order count)."""
        book = depth(self.engine, symbol, 10**6)
        assert book is not None
        return [(level.price, level.quantity, level.order_count) for level in book.bids]

    def asks(self, symbol: str = SYMBOL) -> list[L2Level]:
        """Return L2 asks, best first, as (price, visible quantity, order count)."""
        book = depth(self.engine, symbol, 10**6)
        assert book is not None
        return [(level.price, level.quantity, level.order_count) for level in book.asks]

    def queue(self, side: int, price: int, symbol: str = SYMBOL) -> list[int]:
        """Return the ids of the orders resting at one level, in priority order (L3)."""
        return [view.order_id for view in level_orders(self.engine, symbol, side, price)]

    def order(self, order_id: int) -> OrderView | None:
        """Return the view of a live order, or None."""
        return order(self.engine, order_id)

    def live(self, account: int = 1) -> list[int]:
        """Return the ids of an account's live orders, as ``live_orders`` lists them."""
        return [view.order_id for view in live_orders(self.engine, account)]

    def last_price(self, symbol: str = SYMBOL) -> int | None:
        """Return the last trade price of ``symbol`` (None before any trade)."""
        top = top_of_book(self.engine, symbol)
        assert top is not None
        return top.last_price

    def hash(self) -> str:
        """Return the engine's state hash."""
        return state_hash(self.engine)

    def snapshot(self) -> tuple[object, ...]:
        """Return everything the queries can say about the venue, for before/after comparisons.

        Covers L2 and L3 of every symbol, the last prices, and every live
        order of accounts 1..9 (resting or waiting stops) with all its fields.
        """
        books = []
        for symbol in self.symbols:
            levels = []
            for side, side_levels in ((BUY, self.bids(symbol)), (SELL, self.asks(symbol))):
                for price, quantity, count in side_levels:
                    queue = [view_data(view) for view in level_orders(self.engine, symbol, side, price)]
                    levels.append((side, price, quantity, count, queue))
            books.append((symbol, self.last_price(symbol), levels))
        accounts = [[view_data(view) for view in live_orders(self.engine, account)] for account in range(1, 10)]
        return (books, accounts)

    # -- picking events -----------------------------------------------------------

    @staticmethod
    def kinds(events: list[Event]) -> list[str]:
        """Return the type names of ``events``, in order."""
        return [type(event).__name__ for event in events]

    @staticmethod
    def of_type(events: list[Event], kind: type[EventT]) -> list[EventT]:
        """Return the events of exactly type ``kind``, in order."""
        return [event for event in events if type(event) is kind]

    @staticmethod
    def one(events: list[Event], kind: type[EventT]) -> EventT:
        """Return the only event of type ``kind``; fail if there is not exactly one."""
        found = [event for event in events if type(event) is kind]
        assert len(found) == 1, f"expected one {kind.__name__}, got {Venue.kinds(events)}"
        return found[0]

    @staticmethod
    def expect(event: Event, kind: type[EventT], **fields: Any) -> EventT:
        """Assert ``event`` is exactly a ``kind`` whose named fields have these values; return it."""
        assert type(event) is kind, f"expected {kind.__name__}, got {type(event).__name__}"
        actual = {name: getattr(event, name) for name in fields}
        assert actual == fields
        return event
