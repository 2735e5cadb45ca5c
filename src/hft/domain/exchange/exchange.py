"""The exchange: one command in, events out, with accounts, risk and settlement around the engine.

``apply`` runs pre-trade risk, hands accepted commands to the matching
engine, then settles what the engine did: fills move cash and positions,
fees go to the venue, and live orders' commitments are kept current for the
next risk check. Deterministic: the same commands at the same times give the
same events and state hash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from mypy_extensions import i64

from hft.core import rejects
from hft.domain.book.order_book import OrderBook
from hft.domain.commands import AmendOrder, Command, ExpireOrders, SubmitOrder
from hft.domain.events import (
    BookLevelChanged,
    Event,
    OrderAccepted,
    OrderCancelled,
    OrderReduced,
    OrderRejected,
    OrderReplaced,
    TradeExecuted,
)
from hft.domain.exchange import administration
from hft.domain.exchange.accounts import HALTED, REDUCING, Account
from hft.domain.exchange.events import PositionChanged
from hft.domain.exchange.money import Scale
from hft.domain.exchange.orders import CANCELLED, FILLED, PARTIALLY_FILLED, OpenOrder, OrderRecord
from hft.domain.exchange.positions import Position
from hft.domain.exchange.risk import (
    BPS,
    NO_LIMITS,
    ONE_SECOND_NS,
    RiskLimits,
    check_collar,
    check_order_size,
    check_position,
    reduces_position,
    risk_price,
)
from hft.domain.instruments import Instrument
from hft.domain.matching.engine import MatchingEngine
from hft.domain.matching.validation import check_new_order
from hft.domain.orders import BUY

MAX_CLIENT_ORDER_ID_LENGTH = 64


class Exchange:
    """The whole trading state: books, accounts, positions, risk state and counters."""

    def __init__(self, instruments: Iterable[Instrument], default_limits: RiskLimits = NO_LIMITS) -> None:
        listed = list(instruments)
        self.engine = MatchingEngine(listed)
        self.scales: dict[str, Scale] = {instrument.symbol: Scale(instrument) for instrument in listed}
        self.accounts: dict[int, Account] = {}
        self.default_limits = default_limits
        self.venue_kill_switch = False
        self.halted: dict[str, bool] = {}
        self.mark_prices: dict[str, int] = {}
        self.client_orders: dict[tuple[int, str], OrderRecord] = {}
        # API key digest -> account id.
        self.api_keys: dict[str, int] = {}
        self.open_orders: dict[int, OpenOrder] = {}
        self.last_order_id: i64 = 0
        self.fees_collected: int = 0
        self._ts: i64 = 0
        self._events: list[Event] = []
        # The risk price of the order being submitted, for its OrderAccepted.
        self._submitted_risk_price: i64 = 0
        # Positions the current command's fills changed, in first-touch order.
        self._touched: list[tuple[Account, Position]] = []
        # A monotonic ns clock to measure the time spent in pre-trade risk checks (``risk_ns``), if set.
        # It only measures: no decision ever depends on it.
        self.risk_timer: Callable[[], int] | None = None
        self.risk_ns: int = 0

    # -- entry point ---------------------------------------------------------

    def apply(self, command: Command, ts: i64, events: list[Event] | None = None) -> list[Event]:
        """Apply ``command`` at engine time ``ts`` (ns); return (or append to ``events``) what happened.

        Cost: the engine's, plus O(1) per fill for settlement and O(1) for risk.
        """
        if events is None:
            events = []
        self._ts = ts
        self._events = events
        start = len(events)
        expiries = self.engine.gtd_expiries
        if expiries and expiries[0][0] <= ts:
            # Time has passed: expired GTD orders must not count in this command's risk checks.
            self.engine.execute(ExpireOrders(), ts, events)
            self.settle(start)
            start = len(events)
        if isinstance(command, SubmitOrder):
            self._submit(command)
        elif isinstance(command, AmendOrder):
            self._amend(command)
        elif not administration.apply(self, command):
            self.engine.execute(command, ts, events)
        self.settle(start)
        return events

    @property
    def ts(self) -> i64:
        """The engine time of the command being applied."""
        return self._ts

    def add_event(self, event: Event) -> None:
        """Emit ``event`` as one of the current command's (its sequence from ``next_sequence``)."""
        self._events.append(event)

    def run_engine(self, command: Command) -> None:
        """Hand ``command`` to the matching engine at the current command's time (settled by ``apply``)."""
        self.engine.execute(command, self._ts, self._events)

    # -- new orders ----------------------------------------------------------

    def _submit(self, command: SubmitOrder) -> None:
        order_id = self.last_order_id + 1
        self.last_order_id = order_id
        account = self.accounts.get(command.account)
        book = self.engine.books.get(command.symbol)
        if account is None:
            code = rejects.UNKNOWN_ACCOUNT
        elif book is None:
            code = rejects.UNKNOWN_SYMBOL
        else:
            code = check_new_order(command, book.instrument, self._ts)
            if code == 0:
                timer = self.risk_timer
                if timer is None:
                    code = self._check_submit(account, book, command)
                else:
                    started = timer()
                    code = self._check_submit(account, book, command)
                    self.risk_ns += timer() - started
        if code:
            self._reject(order_id, command.account, code)
            return
        self.engine.submit_with_id(command, order_id, self._ts, self._events)

    def _check_submit(self, account: Account, book: OrderBook, command: SubmitOrder) -> i64:
        code = self._check_trading_allowed(account, command.symbol)
        if code:
            return code
        client_order_id = command.client_order_id
        if client_order_id:
            if not _valid_client_order_id(client_order_id):
                return rejects.INVALID_CLIENT_ORDER_ID
            if (account.account_id, client_order_id) in self.client_orders:
                return rejects.DUPLICATE_CLIENT_ORDER_ID
        limits = self.limits_of(account)
        per_second = limits.max_orders_per_second
        recent = account.recent_orders
        if per_second and len(recent) >= per_second and recent[len(recent) - per_second] > self._ts - ONE_SECOND_NS:
            return rejects.ORDER_RATE_EXCEEDED
        side = command.side
        quantity = command.quantity
        scale = self.scales[command.symbol]
        price = risk_price(book, side, command.order_type, command.price, command.stop_price, limits.price_collar_bps)
        notional = scale.notional(price, quantity)
        code = check_order_size(limits, quantity * scale.units_per_lot, notional)
        if code == 0:
            code = check_collar(limits, book, command.order_type, command.price, command.stop_price)
        if code:
            return code
        if limits.max_open_orders and account.open_orders >= limits.max_open_orders:
            return rejects.MAX_OPEN_ORDERS
        position = account.positions.get(command.symbol)
        net: i64 = 0
        same_side: i64 = 0
        if position is not None:
            net = position.net
            same_side = position.open_buy if side == BUY else position.open_sell
        if account.state == REDUCING and not reduces_position(net, side, same_side, quantity):
            return rejects.REDUCE_ONLY
        worst = net + same_side + quantity if side == BUY else net - same_side - quantity
        code = check_position(limits, worst, scale.units_per_lot)
        if code:
            return code
        # int(): an i64 operand would make mypyc compute the product in i64, and a notional overflows it.
        if side == BUY and notional + notional * int(account.taker_fee_bps) // BPS > account.buying_power():
            return rejects.INSUFFICIENT_BUYING_POWER
        self._submitted_risk_price = price
        return 0

    def _check_trading_allowed(self, account: Account, symbol: str) -> i64:
        if self.venue_kill_switch or account.kill_switch:
            return rejects.KILL_SWITCH_ACTIVE
        if account.state == HALTED:
            return rejects.ACCOUNT_HALTED
        if symbol in self.halted:
            return rejects.INSTRUMENT_HALTED
        return 0

    def limits_of(self, account: Account) -> RiskLimits:
        """Return the risk limits that apply to ``account``: its own, else the venue defaults."""
        limits = account.limits
        return self.default_limits if limits is None else limits

    # -- amends --------------------------------------------------------------

    def _amend(self, command: AmendOrder) -> None:
        open_order = self.open_orders.get(command.order_id)
        live = self.engine.orders.get(command.order_id)
        account = self.accounts.get(command.account)
        if open_order is None or live is None or account is None or open_order.account is not account:
            self.engine.execute(command, self._ts, self._events)  # the engine rejects it as unknown
            return
        quantity = command.quantity if command.quantity else live.quantity
        price = command.price if command.price else live.price
        stop_price = command.stop_price if command.stop_price else live.stop_price
        new_leaves = quantity - live.filled
        code = self._check_trading_allowed(account, live.symbol)
        if code == 0 and new_leaves > 0:
            code = self._check_amend(account, open_order, live.symbol, live.order_type, price, stop_price, quantity)
        if code:
            self._reject(command.order_id, command.account, code)
        else:
            self.engine.execute(command, self._ts, self._events)

    def _check_amend(
        self,
        account: Account,
        open_order: OpenOrder,
        symbol: str,
        order_type: i64,
        price: i64,
        stop: i64,
        quantity: i64,
    ) -> i64:
        limits = self.limits_of(account)
        book = self.engine.books[symbol]
        scale = self.scales[symbol]
        side = open_order.side
        new_risk_price = price if price else stop
        live = self.engine.orders[open_order.order_id]
        new_leaves = quantity - live.filled
        code = check_order_size(limits, quantity * scale.units_per_lot, scale.notional(new_risk_price, quantity))
        if code == 0:
            # Only a changed price has to pass the collar: an unchanged one was checked on entry.
            new_price = price if price != live.price else 0
            new_stop = stop if stop != live.stop_price else 0
            code = check_collar(limits, book, order_type, new_price, new_stop)
        if code:
            return code
        added = new_leaves - open_order.leaves
        position = open_order.position
        same_side = position.open_buy if side == BUY else position.open_sell
        others = same_side - open_order.leaves
        if account.state == REDUCING and added > 0 and not reduces_position(position.net, side, others, new_leaves):
            return rejects.REDUCE_ONLY
        if added > 0:
            worst = position.net + same_side + added if side == BUY else position.net - same_side - added
            code = check_position(limits, worst, scale.units_per_lot)
            if code:
                return code
        if side == BUY:
            extra = scale.notional(new_risk_price, new_leaves) - scale.notional(
                open_order.risk_price, open_order.leaves
            )
            if extra > 0 and extra + extra * int(account.taker_fee_bps) // BPS > account.buying_power():
                return rejects.INSUFFICIENT_BUYING_POWER
        return 0

    # -- settlement ----------------------------------------------------------

    def settle(self, start: int) -> None:
        """Settle the engine events from ``start`` on, then report each position they changed."""
        events = self._events
        end = len(events)
        index = start
        while index < end:
            event = events[index]
            index += 1
            if isinstance(event, BookLevelChanged):
                continue
            if isinstance(event, TradeExecuted):
                self._on_trade(event)
            elif isinstance(event, OrderAccepted):
                self._on_accepted(event)
            elif isinstance(event, OrderCancelled):
                self._on_cancelled(event)
            elif isinstance(event, OrderReduced):
                open_order = self.open_orders[event.order_id]
                self._commit(open_order, -event.reduced_by)
                open_order.leaves -= event.reduced_by
                if open_order.record is not None:
                    open_order.record.quantity = event.quantity
            elif isinstance(event, OrderReplaced):
                self._on_replaced(event)
            elif isinstance(event, OrderRejected):
                account = self.accounts.get(event.account)
                if account is not None:
                    account.reject_count += 1
        if self._touched:
            self._report_positions()

    def _on_accepted(self, event: OrderAccepted) -> None:
        account = self.accounts[event.account]
        position = account.position(event.symbol)
        record: OrderRecord | None = None
        if event.client_order_id:
            record = OrderRecord(
                event.order_id,
                event.account,
                event.client_order_id,
                event.symbol,
                event.side,
                event.order_type,
                event.time_in_force,
                event.price,
                event.stop_price,
                event.quantity,
                event.ts,
            )
            self.client_orders[(event.account, event.client_order_id)] = record
        scale = self.scales[event.symbol]
        open_order = OpenOrder(
            event.order_id,
            account,
            position,
            event.side,
            self._submitted_risk_price,
            event.quantity,
            scale.cash_per_tick_lot,
            record,
        )
        self.open_orders[event.order_id] = open_order
        account.open_orders += 1
        self._commit(open_order, event.quantity)
        limits = self.limits_of(account)
        if limits.max_orders_per_second:
            recent = account.recent_orders
            recent.append(event.ts)
            while len(recent) > limits.max_orders_per_second:
                recent.popleft()

    def _on_trade(self, event: TradeExecuted) -> None:
        scale = self.scales[event.symbol]
        quantity = event.quantity
        notional = scale.notional(event.price, quantity)
        taker = self._filled(event.taker_order_id, quantity, notional)
        maker = self._filled(event.maker_order_id, quantity, notional)
        taker_fee = notional * int(taker.taker_fee_bps) // BPS  # int(): in arbitrary precision, as above
        maker_fee = notional * int(maker.maker_fee_bps) // BPS
        self._pay_fee(taker, event.symbol, taker_fee)
        self._pay_fee(maker, event.symbol, maker_fee)
        buyer, seller = (taker, maker) if event.aggressor_side == BUY else (maker, taker)
        buyer.cash -= notional
        seller.cash += notional
        bought = buyer.position(event.symbol)
        sold = seller.position(event.symbol)
        bought.fill(quantity, notional)
        sold.fill(-quantity, notional)
        self._touch(buyer, bought)
        self._touch(seller, sold)

    def _filled(self, order_id: i64, quantity: i64, notional: int) -> Account:
        open_order = self.open_orders[order_id]
        self._commit(open_order, -quantity)
        open_order.leaves -= quantity
        record = open_order.record
        if record is not None:
            record.filled += quantity
            record.filled_notional += notional
            record.status = FILLED if open_order.leaves == 0 else PARTIALLY_FILLED
        if open_order.leaves == 0:
            self._close(open_order)
        return open_order.account

    def _pay_fee(self, account: Account, symbol: str, fee: int) -> None:
        account.cash -= fee
        account.fees_paid += fee
        account.position(symbol).fees += fee
        self.fees_collected += fee

    def _on_cancelled(self, event: OrderCancelled) -> None:
        open_order = self.open_orders[event.order_id]
        self._commit(open_order, -open_order.leaves)
        open_order.leaves = 0
        record = open_order.record
        if record is not None:
            record.status = CANCELLED
            record.cancel_reason = event.reason
        self._close(open_order)

    def _on_replaced(self, event: OrderReplaced) -> None:
        open_order = self.open_orders[event.order_id]
        self._commit(open_order, -open_order.leaves)
        open_order.risk_price = event.price if event.price else event.stop_price
        open_order.leaves = event.leaves
        self._commit(open_order, event.leaves)
        record = open_order.record
        if record is not None:
            record.price = event.price
            record.stop_price = event.stop_price
            record.quantity = event.quantity

    def _commit(self, open_order: OpenOrder, lots: i64) -> None:
        """Add (or, negative, release) ``lots`` of an order's commitment to its account and position."""
        if open_order.side == BUY:
            # In arbitrary precision: an i64 operand would make mypyc multiply in 64 bits.
            notional = int(lots) * int(open_order.risk_price) * open_order.cash_per_tick_lot
            open_order.account.open_buy_notional += notional
            open_order.position.open_buy += lots
        else:
            open_order.position.open_sell += lots

    def _close(self, open_order: OpenOrder) -> None:
        del self.open_orders[open_order.order_id]
        open_order.account.open_orders -= 1

    def _touch(self, account: Account, position: Position) -> None:
        if not position.touched:
            position.touched = True
            self._touched.append((account, position))

    def _report_positions(self) -> None:
        for account, position in self._touched:
            position.touched = False
            self._events.append(
                PositionChanged(
                    self.next_sequence(),
                    self._ts,
                    account.account_id,
                    position.symbol,
                    position.net,
                    position.open_cost,
                    position.realized,
                    position.fees,
                    account.cash,
                )
            )
        self._touched.clear()

    # -- helpers -------------------------------------------------------------

    def _reject(self, order_id: i64, account_id: i64, code: i64) -> None:
        self._events.append(OrderRejected(self.next_sequence(), self._ts, order_id, account_id, code))

    def next_sequence(self) -> i64:
        """Take the next event sequence number (events of the exchange share the engine's counter)."""
        self.engine.sequence += 1
        return self.engine.sequence

    def mark_price(self, symbol: str) -> i64:
        """Return the mark price of ``symbol``: the one set, else the last trade, else 0."""
        marked = self.mark_prices.get(symbol, 0)
        if marked:
            return marked
        book = self.engine.books.get(symbol)
        return 0 if book is None else book.last_price


def _valid_client_order_id(client_order_id: str) -> bool:
    return (
        len(client_order_id) <= MAX_CLIENT_ORDER_ID_LENGTH
        and client_order_id.isascii()
        and client_order_id.isprintable()
        and " " not in client_order_id
    )
