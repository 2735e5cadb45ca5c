"""The matching engine: price-time priority over every listed instrument.

Pure and synchronous. ``execute`` takes one command and the nanosecond time
the sequencer stamped on it and returns the events it caused; the same
commands with the same times always give the same events and the same state
hash. Business rejections are ``OrderRejected`` events, never exceptions.
"""

from __future__ import annotations

from collections.abc import Iterable
from heapq import heappop, heappush
from typing import Final

from mypy_extensions import i64

from hft.core import rejects
from hft.domain.book.level import Level
from hft.domain.book.order_book import OrderBook
from hft.domain.book.side import BookSide
from hft.domain.commands import (
    AmendOrder,
    CancelOrder,
    Command,
    EndSession,
    ExpireOrders,
    MassCancel,
    SetSelfTradePrevention,
    SubmitOrder,
)
from hft.domain.events import (
    CANCEL_REASON_EXPIRED,
    CANCEL_REASON_FOK_NOT_FILLED,
    CANCEL_REASON_IOC_REMAINDER,
    CANCEL_REASON_MARKET_REMAINDER,
    CANCEL_REASON_MASS_CANCEL,
    CANCEL_REASON_SELF_TRADE,
    CANCEL_REASON_USER,
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
from hft.domain.instruments import Instrument
from hft.domain.matching.crossing import cross_key, crosses, fills_completely
from hft.domain.matching.validation import check_amend, check_new_order
from hft.domain.orders import (
    BUY,
    DAY,
    FOK,
    GTD,
    IOC,
    MARKET,
    SELL,
    STOP,
    STOP_LIMIT,
    STP_CANCEL_BOTH,
    STP_CANCEL_NEWEST,
    STP_CANCEL_OLDEST,
    STP_DECREMENT_AND_CANCEL,
    STP_DEFAULT,
    STP_NONE,
    Order,
)

# Above every price (at most 10**15 ticks): the lowest trade price of a command
# before it trades. Small enough to stay an unboxed constant when compiled.
_NO_TRADE_LOW: Final = 2**60


class MatchingEngine:
    """Books for every instrument, and the one place orders change state."""

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        self.books: dict[str, OrderBook] = {}
        for instrument in instruments:
            self.books[instrument.symbol] = OrderBook(instrument)
        # Live orders: resting in a book or waiting as an untriggered stop.
        self.orders: dict[int, Order] = {}
        self.account_self_trade_prevention: dict[int, int] = {}
        self.gtd_expiries: list[tuple[int, int]] = []
        self.sequence: i64 = 0
        self.last_order_id: i64 = 0
        self.last_trade_id: i64 = 0
        self.last_priority: i64 = 0
        self._ts: i64 = 0
        # Lowest and highest trade price of the current command: stops trigger on every trade, not only the last.
        self._trade_low: i64 = _NO_TRADE_LOW
        self._trade_high: i64 = 0
        self._events: list[Event] = []
        self._last_book: OrderBook | None = None

    # -- entry point ---------------------------------------------------------

    def execute(self, command: Command, ts: i64, events: list[Event] | None = None) -> list[Event]:
        """Apply ``command`` at engine time ``ts`` (ns) and return the events it caused, in order.

        With ``events`` given, append to that list and return it, so a pipeline
        can gather a whole batch in one list. Expires due GTD orders first.
        Cost: O(1) amortised for a passive order or a cancel, plus O(1) per fill.
        """
        if events is None:
            events = []
        self._begin(ts, events)
        if isinstance(command, SubmitOrder):
            self._submit(command, command.order_id)
        elif isinstance(command, CancelOrder):
            self._cancel(command)
        elif isinstance(command, AmendOrder):
            self._amend(command)
        elif isinstance(command, MassCancel):
            self._mass_cancel(command)
        elif isinstance(command, EndSession):
            self._end_session(command)
        elif isinstance(command, SetSelfTradePrevention):
            self._set_self_trade_prevention(command)
        elif not isinstance(command, ExpireOrders):
            raise TypeError(f"not an engine command: {command!r}")
        # ExpireOrders needs nothing more: due GTD orders expired above.
        return events

    # -- new orders ----------------------------------------------------------

    def submit_with_id(self, command: SubmitOrder, order_id: i64, ts: i64, events: list[Event]) -> None:
        """Like ``execute(command, ts, events)``, but the new order gets ``order_id`` instead of ``command.order_id``.

        For a caller that assigns ids as it applies commands and has already
        checked the order with ``validation.check_new_order`` at ``ts``.
        """
        self._begin(ts, events)
        self._submit(command, order_id, True)

    def _begin(self, ts: i64, events: list[Event]) -> None:
        """Start a command at ``ts`` whose events go to ``events``: expire due GTD orders first."""
        self._ts = ts
        self._events = events
        self._trade_low = _NO_TRADE_LOW
        self._trade_high = 0
        expiries = self.gtd_expiries
        if expiries and expiries[0][0] <= ts:
            self._expire_due(ts)

    def _submit(self, command: SubmitOrder, order_id: i64, validated: bool = False) -> None:
        if order_id <= self.last_order_id:
            self._reject(order_id, command.account, rejects.DUPLICATE_ORDER_ID)
            return
        self.last_order_id = order_id
        book = self._book_of(command.symbol)
        if book is None:
            self._reject(order_id, command.account, rejects.UNKNOWN_SYMBOL)
            return
        code = 0 if validated else check_new_order(command, book.instrument, self._ts)
        if code == 0 and command.post_only and crosses(book.contra(command.side), command.side, command.price):
            code = rejects.POST_ONLY_WOULD_TAKE
        if code:
            self._reject(order_id, command.account, code)
            return
        order = self._new_order(command, order_id)
        self.sequence += 1
        self._events.append(
            OrderAccepted(
                self.sequence,
                self._ts,
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
                order.client_order_id,
            )
        )
        if order.order_type in (STOP, STOP_LIMIT):
            if book.stop_reached(order.side, order.stop_price):
                self._trigger(book, order, book.last_price)
            else:
                self._wait_for_trigger(book, order)
        else:
            self._take(book, order)
        if book.buy_stops or book.sell_stops:
            self._trigger_stops(book)

    def _book_of(self, symbol: str) -> OrderBook | None:
        # Flows repeat symbols; an identity check on the last one skips a dict lookup.
        book = self._last_book
        if book is not None and book.symbol is symbol:
            return book
        book = self.books.get(symbol)
        self._last_book = book
        return book

    def _new_order(self, command: SubmitOrder, order_id: i64) -> Order:
        stp = command.self_trade_prevention
        if stp == STP_DEFAULT:
            modes = self.account_self_trade_prevention
            stp = modes.get(command.account, STP_NONE) if modes else STP_NONE
        order = Order(
            order_id,
            command.account,
            command.symbol,
            command.side,
            command.order_type,
            command.time_in_force,
            command.price,
            command.quantity,
            command.stop_price,
            command.display_quantity,
            command.post_only,
            stp,
            command.expire_ts,
            command.client_order_id,
            self._ts,
        )
        order.priority = self._next_priority()
        return order

    def _take(self, book: OrderBook, order: Order) -> None:
        """Match an incoming (or re-priced, or triggered) order, then rest or cancel what is left."""
        if order.time_in_force == FOK and not fills_completely(book, order):
            self._cancelled(order, CANCEL_REASON_FOK_NOT_FILLED)
            return
        contra = book.contra(order.side)
        best = contra.best()
        if best is not None and best.key >= cross_key(order):
            self._match(book, contra, order)
        if order.leaves == 0:
            return
        if order.order_type in (MARKET, STOP):
            self._cancelled(order, CANCEL_REASON_MARKET_REMAINDER)
        elif order.time_in_force in (IOC, FOK):
            # A FOK that passed its fill check has no remainder; IOC_REMAINDER would name the bug.
            self._cancelled(order, CANCEL_REASON_IOC_REMAINDER)
        else:
            self._rest(book, order)

    def _rest(self, book: OrderBook, order: Order) -> None:
        # A taker's visible quantity is not kept up to date while it trades; set it as it joins the book.
        order.visible = order.slice_size()
        level = book.side(order.side).level_at(order.price)
        level.append(order)
        self.orders[order.order_id] = order
        if order.time_in_force == GTD:
            heappush(self.gtd_expiries, (order.expire_ts, order.order_id))
        self._level_changed(book, level, order.side)

    # -- matching ------------------------------------------------------------

    def _match(self, book: OrderBook, contra: BookSide, taker: Order) -> None:
        """Trade ``taker`` against ``contra`` in price-time priority while it crosses."""
        threshold = cross_key(taker)
        stp = taker.self_trade_prevention
        levels = contra.levels
        orders = self.orders
        events = self._events
        ts = self._ts
        symbol = book.symbol
        while taker.leaves > 0 and levels:
            level = levels[-1]
            if level.key < threshold:
                break
            price = level.price
            traded_here = False
            while taker.leaves > 0:
                maker = level.head
                if maker is None:
                    break
                if stp != STP_NONE and maker.account == taker.account:
                    self._prevent_self_trade(book, level, maker, taker, stp)
                    continue
                quantity = taker.leaves if taker.leaves < maker.visible else maker.visible
                maker.visible -= quantity
                maker.leaves -= quantity
                maker.filled += quantity
                taker.leaves -= quantity
                taker.filled += quantity
                level.visible -= quantity
                level.leaves -= quantity
                self.last_trade_id += 1
                self.sequence += 1
                events.append(
                    TradeExecuted(
                        self.sequence,
                        ts,
                        self.last_trade_id,
                        symbol,
                        price,
                        quantity,
                        taker.side,
                        taker.order_id,
                        taker.account,
                        taker.leaves,
                        maker.order_id,
                        maker.account,
                        maker.leaves,
                    )
                )
                traded_here = True
                if maker.visible == 0:
                    level.remove(maker)
                    if maker.leaves == 0:
                        del orders[maker.order_id]
                    else:
                        self._replenish(level, maker)
            if traded_here:
                book.last_price = price
                self._trade_low = min(self._trade_low, price)
                self._trade_high = max(self._trade_high, price)
                # One L2 delta per level per sweep, after its last fill.
                self.sequence += 1
                events.append(
                    BookLevelChanged(self.sequence, ts, symbol, contra.side, price, level.visible, level.count)
                )
            # Self-trade prevention may already have dropped the level it emptied.
            if level.count == 0 and levels and levels[-1] is level:
                contra.discard(level)

    def _replenish(self, level: Level, iceberg: Order) -> None:
        """Show an iceberg's next slice at the back of its level (it loses time priority)."""
        iceberg.visible = iceberg.slice_size()
        iceberg.priority = self._next_priority()
        level.append(iceberg)

    def _prevent_self_trade(self, book: OrderBook, level: Level, maker: Order, taker: Order, mode: i64) -> None:
        """Resolve a would-be self-trade by the taker's mode; always removes or shrinks one side."""
        if mode == STP_DECREMENT_AND_CANCEL:
            if maker.leaves > taker.leaves:
                self._reduce_resting(book, maker, taker.leaves)
                self._cancelled(taker, CANCEL_REASON_SELF_TRADE)
                return
            if taker.leaves > maker.leaves:
                self._reduce_taker(taker, maker.leaves)
                self._cancel_live(book, maker, CANCEL_REASON_SELF_TRADE)
                return
            mode = STP_CANCEL_BOTH
        if mode in (STP_CANCEL_OLDEST, STP_CANCEL_BOTH):
            self._cancel_live(book, maker, CANCEL_REASON_SELF_TRADE)
        if mode in (STP_CANCEL_NEWEST, STP_CANCEL_BOTH):
            self._cancelled(taker, CANCEL_REASON_SELF_TRADE)

    def _reduce_taker(self, taker: Order, by: i64) -> None:
        taker.quantity -= by
        taker.leaves -= by
        self.sequence += 1
        self._events.append(
            OrderReduced(
                self.sequence, self._ts, taker.order_id, taker.account, taker.symbol, by, taker.quantity, taker.leaves
            )
        )

    def _reduce_resting(self, book: OrderBook, order: Order, by: i64) -> None:
        level = order.level
        assert level is not None
        level.shrink(order, by)
        self.sequence += 1
        self._events.append(
            OrderReduced(
                self.sequence, self._ts, order.order_id, order.account, order.symbol, by, order.quantity, order.leaves
            )
        )
        self._level_changed(book, level, order.side)

    # -- stops ---------------------------------------------------------------

    def _wait_for_trigger(self, book: OrderBook, order: Order) -> None:
        self.orders[order.order_id] = order
        book.add_stop(order)
        if order.time_in_force == GTD:
            heappush(self.gtd_expiries, (order.expire_ts, order.order_id))

    def _trigger(self, book: OrderBook, order: Order, trigger_price: i64) -> None:
        order.triggered = True
        # From here on it competes as a new order: time priority starts now.
        order.priority = self._next_priority()
        self.sequence += 1
        self._events.append(
            StopTriggered(self.sequence, self._ts, order.order_id, order.account, order.symbol, trigger_price)
        )
        self._take(book, order)

    def _trigger_stops(self, book: OrderBook) -> None:
        """Fire every stop the command's trades have reached, one at a time, each re-checked after the last."""
        while True:
            order = book.pop_triggered_stop(self._trade_low, self._trade_high)
            if order is None:
                return
            del self.orders[order.order_id]
            self._trigger(book, order, self._trade_high if order.side == BUY else self._trade_low)

    # -- cancels, amends, expiry ---------------------------------------------

    def _cancel(self, command: CancelOrder) -> None:
        order = self.orders.get(command.order_id)
        if order is None or order.account != command.account:
            self._reject(command.order_id, command.account, rejects.UNKNOWN_ORDER)
            return
        self._cancel_live(self.books[order.symbol], order, CANCEL_REASON_USER)

    def _cancel_live(self, book: OrderBook, order: Order, reason: i64) -> None:
        """Remove a live order (resting or waiting stop) and report it cancelled."""
        del self.orders[order.order_id]
        level = order.level
        if level is None:
            book.remove_stop(order)
            self._cancelled(order, reason)
            return
        self._unlink_resting(book, order, level)
        self._cancelled(order, reason)
        self._level_changed(book, level, order.side)

    def _unlink_resting(self, book: OrderBook, order: Order, level: Level) -> None:
        """Take a resting order out of its level, dropping the level if that empties it."""
        level.remove(order)
        if level.count == 0:
            book.side(order.side).discard(level)

    def _amend(self, command: AmendOrder) -> None:
        order = self.orders.get(command.order_id)
        if order is None or order.account != command.account:
            self._reject(command.order_id, command.account, rejects.UNKNOWN_ORDER)
            return
        book = self.books[order.symbol]
        code = check_amend(command, order, book.instrument)
        price = command.price or order.price
        if (
            code == 0
            and order.post_only
            and price != order.price
            and crosses(book.contra(order.side), order.side, price)
        ):
            code = rejects.POST_ONLY_WOULD_TAKE
        if code:
            self._reject(command.order_id, command.account, code)
            return
        keeps_priority = (
            price == order.price
            and command.quantity <= order.quantity
            and (command.stop_price in (0, order.stop_price))
        )
        if order.level is None:
            self._amend_waiting_stop(book, order, command, keeps_priority)
        elif keeps_priority:
            self._shrink_in_place(book, order, command.quantity)
        else:
            self._reprice(book, order, price, command.quantity)
        if book.buy_stops or book.sell_stops:
            self._trigger_stops(book)

    def _amend_waiting_stop(self, book: OrderBook, order: Order, command: AmendOrder, keeps_priority: bool) -> None:
        book.remove_stop(order)
        order.price = command.price or order.price
        order.stop_price = command.stop_price or order.stop_price
        order.quantity = command.quantity
        order.leaves = command.quantity
        order.visible = command.quantity
        if not keeps_priority:
            order.priority = self._next_priority()
        self._replaced(order, keeps_priority)
        if book.stop_reached(order.side, order.stop_price):
            del self.orders[order.order_id]
            self._trigger(book, order, book.last_price)
        else:
            book.add_stop(order)

    def _shrink_in_place(self, book: OrderBook, order: Order, quantity: i64) -> None:
        level = order.level
        assert level is not None
        level.shrink(order, order.quantity - quantity)
        self._replaced(order, True)
        self._level_changed(book, level, order.side)

    def _reprice(self, book: OrderBook, order: Order, price: i64, quantity: i64) -> None:
        """Cancel-replace semantics: leave the level, take the new terms, re-enter as a taker."""
        level = order.level
        assert level is not None
        self._unlink_resting(book, order, level)
        del self.orders[order.order_id]
        self._level_changed(book, level, order.side)
        order.price = price
        order.quantity = quantity
        order.leaves = quantity - order.filled
        order.priority = self._next_priority()
        self._replaced(order, False)
        self._take(book, order)

    def _mass_cancel(self, command: MassCancel) -> None:
        code = 0
        if command.account <= 0:
            code = rejects.INVALID_ACCOUNT
        elif command.symbol and command.symbol not in self.books:
            code = rejects.UNKNOWN_SYMBOL
        elif command.side not in (0, BUY, SELL):
            code = rejects.INVALID_SIDE
        if code:
            self._reject(0, command.account, code)
            return
        for order in list(self.orders.values()):
            if (
                order.account == command.account
                and (not command.symbol or order.symbol == command.symbol)
                and (command.side in (0, order.side))
            ):
                self._cancel_live(self.books[order.symbol], order, CANCEL_REASON_MASS_CANCEL)

    def _end_session(self, command: EndSession) -> None:
        if command.symbol and command.symbol not in self.books:
            self._reject(0, 0, rejects.UNKNOWN_SYMBOL)
            return
        for order in list(self.orders.values()):
            if order.time_in_force == DAY and (not command.symbol or order.symbol == command.symbol):
                self._cancel_live(self.books[order.symbol], order, CANCEL_REASON_EXPIRED)

    def _expire_due(self, ts: i64) -> None:
        expiries = self.gtd_expiries
        while expiries and expiries[0][0] <= ts:
            expire_ts, order_id = heappop(expiries)
            order = self.orders.get(order_id)
            # Entries of orders that already left the book are skipped here, not searched for earlier.
            if order is not None and order.expire_ts == expire_ts:
                self._cancel_live(self.books[order.symbol], order, CANCEL_REASON_EXPIRED)

    def _set_self_trade_prevention(self, command: SetSelfTradePrevention) -> None:
        if command.account <= 0:
            self._reject(0, command.account, rejects.INVALID_ACCOUNT)
        elif command.mode <= STP_DEFAULT or command.mode > STP_DECREMENT_AND_CANCEL:
            self._reject(0, command.account, rejects.INVALID_SELF_TRADE_PREVENTION)
        else:
            self.account_self_trade_prevention[command.account] = command.mode
            self.sequence += 1
            self._events.append(SelfTradePreventionSet(self.sequence, self._ts, command.account, command.mode))

    # -- sequencing and event helpers ----------------------------------------

    def _next_priority(self) -> i64:
        self.last_priority += 1
        return self.last_priority

    def _reject(self, order_id: i64, account: i64, code: i64) -> None:
        self.sequence += 1
        self._events.append(OrderRejected(self.sequence, self._ts, order_id, account, code))

    def _cancelled(self, order: Order, reason: i64) -> None:
        self.sequence += 1
        self._events.append(
            OrderCancelled(self.sequence, self._ts, order.order_id, order.account, order.symbol, reason, order.leaves)
        )
        order.leaves = 0
        order.visible = 0

    def _replaced(self, order: Order, priority_kept: bool) -> None:
        self.sequence += 1
        self._events.append(
            OrderReplaced(
                self.sequence,
                self._ts,
                order.order_id,
                order.account,
                order.symbol,
                order.price,
                order.stop_price,
                order.quantity,
                order.leaves,
                priority_kept,
            )
        )

    def _level_changed(self, book: OrderBook, level: Level, side: i64) -> None:
        self.sequence += 1
        self._events.append(
            BookLevelChanged(self.sequence, self._ts, book.symbol, side, level.price, level.visible, level.count)
        )
