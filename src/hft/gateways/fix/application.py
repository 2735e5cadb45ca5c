"""FIX application messages in, venue commands out; the venue's durable updates back out as FIX.

Requests are translated with the REST gateway's own validation and
conversion (``submit_command``, ``amend_command``), so an order means the
same whichever gateway it came through. A command is queued on the core
without waiting for it: its answers (ExecutionReports, OrderCancelReject,
OrderMassCancelReport) are produced by ``on_update`` from the durable
batch that holds it, like the reports of orders entered elsewhere. A
request about an order whose own request is still in the core waits for it
(and so does everything the session sends after it), so pipelined
new-then-cancel works.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final, cast

from hft.domain.commands import CancelOrder, Command, MassCancel
from hft.domain.events import CANCEL_REASON_MASS_CANCEL, OrderAccepted, OrderCancelled, OrderRejected
from hft.domain.orders import BUY, SELL
from hft.engine.core import Ack
from hft.engine.service import CoreUnavailableError
from hft.gateways.fix import codec
from hft.gateways.fix.codec import FieldError, FixMessage, field
from hft.gateways.fix.marketdata import MarketDataFeed
from hft.gateways.fix.reports import (
    ORDER_REJECT_REASONS_BY_NAME,
    ORDER_STATUS,
    ORDER_TYPE_CODES,
    SIDE_CODES,
    Context,
    OrderTracker,
    Report,
    execution_report,
    rejected_report,
    status_of,
)
from hft.gateways.fix.session import Session
from hft.gateways.fix.store import ENTERED, REPLACED
from hft.gateways.rest import schemas
from hft.gateways.rest.convert import InputError, amend_command, submit_command
from hft.service.history import OrderState
from hft.service.venue import Update, Venue

log = logging.getLogger("hft.fix")

VALID_SIDES: Final = frozenset(bytes([code]) for code in b"123456789ABCDEFG")
SIDES: Final = {b"1": "BUY", b"2": "SELL"}
VALID_ORDER_TYPES: Final = frozenset({b"1", b"2", b"3", b"4", b"6", b"7", b"8", b"9", b"D", b"E", b"G", b"I", b"J"})
ORDER_TYPES: Final = {b"1": "MARKET", b"2": "LIMIT", b"3": "STOP", b"4": "STOP_LIMIT"}
TIMES_IN_FORCE: Final = {b"0": "DAY", b"1": "GTC", b"3": "IOC", b"4": "FOK", b"6": "GTD"}
VALID_TIMES_IN_FORCE: Final = frozenset(bytes([code]) for code in b"01234567")
TOO_LATE: Final = b"0"
UNKNOWN_ORDER: Final = b"1"
DUPLICATE_CLIENT_ORDER_ID: Final = b"6"
OTHER: Final = b"99"

Flush = Callable[[Session], None]


class WaitForRequest(Exception):  # noqa: N818 (control flow, not an error)
    """The message names a ClOrdID whose request is still in the core: handle it once that one is done."""

    def __init__(self, future: asyncio.Future[list[Ack]]) -> None:
        super().__init__("waiting for an earlier request")
        self.future = future


class FixApplication:
    """The application layer shared by every session: handlers, pending requests, the order tracker."""

    def __init__(self, venue: Venue, sessions: dict[str, Session], flush: Flush) -> None:
        self.venue = venue
        self.sessions = sessions
        self.flush = flush
        self.by_account: dict[int, list[Session]] = {}
        for session in sessions.values():
            self.by_account.setdefault(session.config.account, []).append(session)
        self.tracker = OrderTracker(self.by_account, venue.by_symbol)
        self.marketdata = MarketDataFeed(venue, self._send_unstored)
        self.pending: dict[Command, Context] = {}
        self.in_flight: dict[tuple[int, str], asyncio.Future[list[Ack]]] = {}
        self.session_futures: dict[str, set[asyncio.Future[list[Ack]]]] = {name: set() for name in sessions}
        self.blocked: dict[str, asyncio.Future[list[Ack]]] = {}
        self.backlog: dict[str, deque[FixMessage]] = {name: deque() for name in sessions}
        # ClOrdIDs that replaced an order's earlier one (a new order's own ClOrdID is in the read model).
        self.aliases: dict[tuple[int, str], int] = {}
        # Updates that arrive while the start-up catch-up runs, applied after it (None once caught up).
        self.waiting: list[Update] | None = None
        self.timestamps = codec.UtcTimestamps()
        processed = venue.metrics.orders_processed
        self.accepted_metric = processed.labels("fix", "accepted")
        self.rejected_metric = processed.labels("fix", "rejected")
        self.handlers: dict[bytes, Callable[[Session, FixMessage], None]] = {
            b"D": self._new_order,
            b"F": self._cancel,
            b"G": self._replace,
            b"q": self._mass_cancel,
            b"H": self._status,
            b"V": self.marketdata.request,
            b"x": self.marketdata.security_list,
        }

    # -- requests ----------------------------------------------------------------------------------------------------

    def handle(self, session: Session, message: FixMessage) -> None:
        """Act on one application message, or queue it behind a request of this session that it must follow."""
        if session.name in self.blocked:
            self.backlog[session.name].append(message)
        else:
            self._dispatch(session, message)

    def _dispatch(self, session: Session, message: FixMessage) -> None:
        handler = self.handlers.get(message.msg_type)
        try:
            if handler is None:
                self._business_reject(session, message, b"3", "unsupported message type")
            else:
                handler(session, message)
        except FieldError as error:
            session.reject(message, error.reason, error.text, error.tag)
        except CoreUnavailableError:
            self._business_reject(session, message, b"4", "the venue is not accepting commands")
        except WaitForRequest as wait:
            name = session.name
            self.blocked[name] = wait.future
            self.backlog[name].appendleft(message)
            wait.future.add_done_callback(lambda _: self._unblock(session))

    def _unblock(self, session: Session) -> None:
        name = session.name
        self.blocked.pop(name, None)
        backlog = self.backlog[name]
        while backlog and name not in self.blocked:
            self._dispatch(session, backlog.popleft())
        self.flush(session)

    def _submit(self, session: Session, command: Command, context: Context, key: tuple[int, str] | None) -> None:
        future = self.venue.core.submit_many([command])
        self.pending[command] = context
        futures = self.session_futures[session.name]
        futures.add(future)
        if key is not None:
            self.in_flight[key] = future

        def done(finished: asyncio.Future[list[Ack]]) -> None:
            futures.discard(finished)
            self.pending.pop(command, None)
            if key is not None and self.in_flight.get(key) is finished:
                del self.in_flight[key]
            if not finished.cancelled() and finished.exception() is not None:
                log.error("fix %s: %s was not executed: %s", session.name, context.kind, finished.exception())

        future.add_done_callback(done)

    def _new_order(self, session: Session, message: FixMessage) -> None:
        account = session.config.account
        client_order_id = message.text(11) or ""
        symbol = message.text(55) or ""
        side = _enumerated(message, 54, VALID_SIDES)
        order_type = _enumerated(message, 40, VALID_ORDER_TYPES)
        time_in_force = message.get(59)
        if time_in_force is not None and time_in_force not in VALID_TIMES_IN_FORCE:
            raise FieldError(59, codec.VALUE_INCORRECT, f"TimeInForce {time_in_force!r} is not a FIX 4.4 value")
        quantity = message.decimal(38)
        price, stop_price, display = message.decimal(44), message.decimal(99), message.decimal(111)
        expire_time = _expire_time(message)
        post_only = b"6" in (message.get(18) or b"").split(b" ")  # ExecInst 6: participate, do not initiate

        def refuse(reason: bytes, text: str) -> None:
            self.rejected_metric.inc()
            body = rejected_report(
                order_id="NONE",
                exec_id=f"R{time.time_ns()}",
                client_order_id=client_order_id,
                symbol=symbol,
                side=side,
                quantity=message.text(38) or "0",
                reason=reason,
                text=text,
                transact_time=self.timestamps.format(time.time_ns()),
            )
            session.send_application(b"8", body, 0)

        key = (account, client_order_id)
        instrument = self.venue.by_symbol.get(symbol)
        if key in self.aliases or key in self.in_flight:
            refuse(DUPLICATE_CLIENT_ORDER_ID, f"DUPLICATE_CLIENT_ORDER_ID: ClOrdID {client_order_id!r} is in use")
        elif instrument is None:
            refuse(b"1", f"UNKNOWN_SYMBOL: unknown symbol {symbol!r}")
        elif side not in SIDES or order_type not in ORDER_TYPES:
            refuse(b"11", "UNSUPPORTED: Side must be 1 or 2 and OrdType 1 to 4")
        elif time_in_force is not None and time_in_force not in TIMES_IN_FORCE:
            refuse(b"11", "UNSUPPORTED: TimeInForce must be 0, 1, 3, 4 or 6")
        elif quantity is None:
            refuse(b"13", "INVALID_QUANTITY: OrderQty (38) is required")
        else:
            # FIX's default time in force is Day; a market order can only be IOC or FOK here, so it defaults to IOC.
            default = "IOC" if order_type == b"1" else "DAY"
            try:
                order = schemas.OrderRequest(
                    symbol=symbol,
                    side=cast(schemas.Side, SIDES[side]),
                    quantity=quantity,
                    order_type=cast(schemas.OrderType, ORDER_TYPES[order_type]),
                    client_order_id=client_order_id,
                    time_in_force=cast(schemas.TimeInForce, TIMES_IN_FORCE.get(time_in_force or b"", default)),
                    price=price,
                    stop_price=stop_price,
                    display_quantity=display,
                    post_only=post_only,
                    expire_time=expire_time,
                )
                command = submit_command(order, account, instrument, time.time_ns())
            except InputError as error:
                refuse(ORDER_REJECT_REASONS_BY_NAME.get(error.code, OTHER), f"{error.code}: {error.message}")
                return
            self._submit(session, command, Context(session.name, b"D", client_order_id), key)

    def _resolve(self, account: int, client_order_id: str, order_id: bytes | None) -> OrderState | None:
        """Find the account's order by a ClOrdID it had (or its OrderID); wait if that request is in the core."""
        key = (account, client_order_id)
        future = self.in_flight.get(key)
        if future is not None and not future.done():
            raise WaitForRequest(future)
        history = self.venue.history
        aliased = self.aliases.get(key)
        state = history.order(account, aliased) if aliased is not None else None
        if state is None and client_order_id:
            state = history.order_by_client_id(account, client_order_id)
        if state is None and order_id is not None and order_id.isdigit() and len(order_id) < 19:
            state = history.order(account, int(order_id))
        return state

    def _cancel(self, session: Session, message: FixMessage) -> None:
        account = session.config.account
        client_order_id = message.text(11) or ""
        original = message.text(41) or ""
        state = self._resolve(account, original, message.get(37))
        if state is None or not state.is_open:
            self._cancel_reject(session, b"1", client_order_id, original, state)
            return
        context = Context(session.name, b"F", client_order_id, state.order_id, original)
        self._submit(session, CancelOrder(state.order_id, account), context, None)

    def _replace(self, session: Session, message: FixMessage) -> None:
        account = session.config.account
        client_order_id = message.text(11) or ""
        original = message.text(41) or ""
        state = self._resolve(account, original, message.get(37))
        if state is None or not state.is_open:
            self._cancel_reject(session, b"2", client_order_id, original, state)
            return
        key = (account, client_order_id)
        if key in self.aliases or key in self.in_flight or self.venue.history.order_by_client_id(*key) is not None:
            self._cancel_reject(session, b"2", client_order_id, original, state, DUPLICATE_CLIENT_ORDER_ID)
            return
        ours = (state.symbol, SIDE_CODES[state.side], ORDER_TYPE_CODES[state.order_type])
        if (message.text(55), message.get(54), message.get(40)) != ours:
            text = "Symbol, Side and OrdType must be those of the order"
            self._cancel_reject(session, b"2", client_order_id, original, state, OTHER, text)
            return
        instrument = self.venue.by_symbol[state.symbol]
        amend = schemas.AmendRequest(
            quantity=message.decimal(38), price=message.decimal(44), stop_price=message.decimal(99)
        )
        try:
            command = amend_command(amend, state, instrument)
        except InputError as error:
            self._cancel_reject(
                session, b"2", client_order_id, original, state, OTHER, f"{error.code}: {error.message}"
            )
            return
        context = Context(session.name, b"G", client_order_id, state.order_id, original)
        self._submit(session, command, context, key)

    def _cancel_reject(
        self,
        session: Session,
        response_to: bytes,
        client_order_id: str,
        original: str,
        state: OrderState | None,
        reason: bytes | None = None,
        text: str | None = None,
    ) -> None:
        """Send an OrderCancelReject: unknown order, too late (the order is done), or ``reason``."""
        if reason is None:
            reason = UNKNOWN_ORDER if state is None else TOO_LATE
            text = "unknown order" if state is None else f"order is {state.status}, no longer working"
        body = field(37, state.order_id if state is not None else "NONE")
        body += field(11, client_order_id) + field(41, original)
        body += b"39=%b\x01434=%b\x01102=%b\x01" % (status_of(state) if state else b"8", response_to, reason)
        body += field(60, self.timestamps.format(time.time_ns())) + field(58, text or "rejected")
        session.send_application(b"9", body, 0)

    def _mass_cancel(self, session: Session, message: FixMessage) -> None:
        kind = message.get(530)
        client_order_id = message.text(11) or ""
        symbol = message.text(55) or ""
        side = message.get(54)
        echo = b"530=%b\x01" % (kind or b"")
        problem = None
        if kind == b"1" and not symbol:
            self._business_reject(session, message, b"5", "Symbol (55) is required with MassCancelRequestType 1")
            return
        if kind not in (b"1", b"7"):
            problem = b"0"  # mass cancel not supported for this request type
        elif kind == b"1" and symbol not in self.venue.by_symbol:
            problem = b"1"
        elif side not in (None, b"1", b"2"):
            problem = b"99"
        if problem is not None:
            body = field(11, client_order_id) + field(37, "NONE") + echo + b"531=0\x01532=%b\x01" % problem
            session.send_application(b"r", body, 0)
            return
        if kind == b"1":
            echo += field(55, symbol)
        if side is not None:
            echo += b"54=%b\x01" % side
        side_code = {None: 0, b"1": BUY, b"2": SELL}[side]
        command = MassCancel(session.config.account, symbol if kind == b"1" else "", side_code)
        # The report echoes the request's type, symbol and side: kept where a cancel keeps its OrigClOrdID.
        self._submit(session, command, Context(session.name, b"q", client_order_id, 0, echo.decode()), None)

    def _status(self, session: Session, message: FixMessage) -> None:
        account = session.config.account
        client_order_id = message.text(11) or ""
        state = self._resolve(account, client_order_id, message.get(37))
        request_id = message.get(790)
        extra = b"790=%b\x01" % request_id if request_id else b""
        now = self.timestamps.format(time.time_ns())
        if state is None:
            body = rejected_report(
                order_id="NONE",
                exec_id=f"S{time.time_ns()}",
                client_order_id=client_order_id,
                symbol=message.text(55) or "",
                side=message.get(54) or b"1",
                quantity="0",
                reason=b"5",
                text="unknown order",
                transact_time=now,
                exec_type=ORDER_STATUS,
                extra=extra,
            )
        else:
            tracked = self.tracker.orders.get(state.order_id)
            body = execution_report(
                self.venue.by_symbol[state.symbol],
                tracked if tracked is not None else state,
                f"S{time.time_ns()}",
                ORDER_STATUS,
                status_of(state),
                state.leaves,
                self.timestamps.format(state.updated_ts),
                extra,
            )
        session.send_application(b"8", body, 0)

    def _business_reject(self, session: Session, message: FixMessage, reason: bytes, text: str) -> None:
        body = field(45, message.msg_seq_num) + b"372=%b\x01380=%b\x01" % (message.msg_type, reason)
        reference = message.get(11) or message.get(262) or message.get(320)
        if reference:
            body += b"379=%b\x01" % reference
        session.send_application(b"j", body + field(58, text), 0)

    def _send_unstored(self, session: Session, msg_type: bytes, body: bytes) -> None:
        session.send_application(msg_type, body, 0, resendable=False)

    # -- the venue's durable updates -----------------------------------------------------------------------------

    def on_update(self, update: Update) -> None:
        """Turn one durable batch into reports for every session of the accounts it touched, then send them."""
        if self.waiting is not None:
            self.waiting.append(update)
            return
        self.process(update.acks, live=True)
        self.marketdata.on_update(update)
        last = update.changes.last_sequence * 4 + 3
        for session in self.sessions.values():
            session.store.cursor = max(session.store.cursor, last)
            self.flush(session)

    def process(self, acks: list[Ack], live: bool) -> None:
        """Fold acks into the tracker and hand each session its reports (those beyond its cursor)."""
        tracker = self.tracker
        pending = self.pending
        reports: list[Report] = []
        for ack in acks:
            command = ack.command
            context = pending.pop(command, None) if live and pending else None
            for event in ack.events:
                tracker.apply(event, command, context, reports)
            if reports:
                self.deliver(reports)
                reports.clear()
            if context is not None:
                self._answer(context, ack)

    def deliver(self, reports: list[Report]) -> None:
        """Send each report to every session of its account that does not hold it yet."""
        by_account = self.by_account
        for report in reports:
            for session in by_account.get(report.account, ()):
                if report.position > session.store.cursor:
                    session.send_application(b"8", report.body, report.position)

    def _answer(self, context: Context, ack: Ack) -> None:
        """Send what only the requesting session gets: a cancel reject, a mass cancel report; note new orders."""
        session = self.sessions[context.session]
        kind = context.kind
        if kind == b"D":
            for event in ack.events:
                if isinstance(event, OrderAccepted):
                    self.accepted_metric.inc()
                    if session.config.cancel_on_disconnect:
                        session.store.add_order_note(ENTERED, event.order_id, context.client_order_id)
                elif isinstance(event, OrderRejected):
                    self.rejected_metric.inc()
            return
        if kind == b"q":
            count = sum(
                1
                for event in ack.events
                if isinstance(event, OrderCancelled) and event.reason == CANCEL_REASON_MASS_CANCEL
            )
            echo = context.orig_client_order_id.encode()
            body = field(11, context.client_order_id) + field(37, f"MC{ack.sequence}") + echo
            body += b"531=%b\x01" % echo[4:5] + field(
                533, count
            )  # MassCancelResponse: the type it carried out + field(60, self.timestamps.format(ack.ts))
            session.send_application(b"r", body, 0)
            return
        refused = next((e for e in ack.events if isinstance(e, OrderRejected) and e.order_id == context.order_id), None)
        account = session.config.account
        if refused is not None:
            state = self.venue.history.order(account, context.order_id)
            reason = TOO_LATE if refused.reason == "UNKNOWN_ORDER" else OTHER
            self._cancel_reject(
                session,
                b"1" if kind == b"F" else b"2",
                context.client_order_id,
                context.orig_client_order_id,
                state,
                reason,
                f"{refused.reason}: {refused.text}",
            )
        elif kind == b"G":
            self.aliases[(account, context.client_order_id)] = context.order_id
            session.store.add_order_note(REPLACED, context.order_id, context.client_order_id)


def _enumerated(message: FixMessage, tag: int, valid: frozenset[bytes]) -> bytes:
    value = message.get(tag) or b""
    if value not in valid:
        raise FieldError(tag, codec.VALUE_INCORRECT, f"tag {tag}: {value.decode('latin-1')!r} is not a FIX 4.4 value")
    return value


def _expire_time(message: FixMessage) -> datetime | None:
    value = message.get(126)
    if value is None:
        return None
    ns = codec.parse_utc_timestamp(value)
    if ns is None:
        raise FieldError(126, codec.INCORRECT_DATA_FORMAT, "ExpireTime (126) must be a UTCTimestamp")
    return datetime.fromtimestamp(ns // 1_000 / 1_000_000, UTC)
