"""Execution reports from engine events: the working orders of FIX accounts, and the messages they cause.

``OrderTracker`` follows every working order of the accounts that have a FIX
session, event by event, so each report carries the quantities as they
stood right after its event (the read models only show the state after a
whole batch). An order leaves the tracker when it is done.

Each report has a *position*: its event's sequence x 4 plus its part (a
self-trade reports both sides of one event), so a restarted gateway knows
which reports a session already holds. Its ExecID is ``<event
sequence>-<order id>``: the same event always gives the same ExecID, so a
client can also de-duplicate.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from hft.core import rejects
from hft.domain.commands import Command, SubmitOrder
from hft.domain.events import (
    CANCEL_REASON_EXPIRED,
    CANCEL_REASON_NAMES,
    Event,
    OrderAccepted,
    OrderCancelled,
    OrderReduced,
    OrderRejected,
    OrderReplaced,
    TradeExecuted,
)
from hft.domain.instruments import Instrument
from hft.domain.orders import BUY, GTD, LIMIT, MARKET, STOP, STOP_LIMIT
from hft.gateways.fix.codec import UtcTimestamps, field
from hft.gateways.rest.convert import price_text, quantity_text
from hft.service.history import OrderState

# FIX OrdStatus (39) and ExecType (150) values.
NEW: Final = b"0"
PARTIALLY_FILLED: Final = b"1"
FILLED: Final = b"2"
CANCELED: Final = b"4"
REPLACED: Final = b"5"
REJECTED: Final = b"8"
EXPIRED: Final = b"C"
RESTATED: Final = b"D"
TRADE: Final = b"F"
ORDER_STATUS: Final = b"I"

STATUS_OF_STATE: Final = {
    "NEW": NEW,
    "PARTIALLY_FILLED": PARTIALLY_FILLED,
    "FILLED": FILLED,
    "CANCELED": CANCELED,
    "REJECTED": REJECTED,
    "EXPIRED": EXPIRED,
}
SIDE_CODES: Final = {BUY: b"1", 2: b"2"}
ORDER_TYPE_CODES: Final = {MARKET: b"1", LIMIT: b"2", STOP: b"3", STOP_LIMIT: b"4"}
TIME_IN_FORCE_CODES: Final = {1: b"1", 2: b"3", 3: b"4", 4: b"0", GTD: b"6"}

# OrdRejReason (103) for the venue's reject codes; anything else is 99 (other), with the code in Text.
ORDER_REJECT_REASONS: Final = {
    rejects.UNKNOWN_SYMBOL: b"1",
    rejects.INSTRUMENT_HALTED: b"2",
    rejects.DUPLICATE_CLIENT_ORDER_ID: b"6",
    rejects.UNKNOWN_ACCOUNT: b"15",
    rejects.UNKNOWN_ORDER: b"5",
    rejects.INVALID_QUANTITY: b"13",
    rejects.QUANTITY_OFF_LOT: b"13",
    rejects.QUANTITY_OUT_OF_RANGE: b"13",
    rejects.INVALID_ORDER_TYPE: b"11",
    rejects.INVALID_TIME_IN_FORCE: b"11",
    rejects.INVALID_DISPLAY_QUANTITY: b"11",
    rejects.INVALID_POST_ONLY: b"11",
    **dict.fromkeys(
        (
            rejects.MAX_ORDER_QUANTITY,
            rejects.MAX_ORDER_NOTIONAL,
            rejects.PRICE_OUTSIDE_COLLAR,
            rejects.MAX_OPEN_ORDERS,
            rejects.MAX_POSITION,
            rejects.INSUFFICIENT_BUYING_POWER,
            rejects.ORDER_RATE_EXCEEDED,
        ),
        b"3",
    ),
}
ORDER_REJECT_REASONS_BY_NAME: Final = {
    rejects.reject_name(code): reason for code, reason in ORDER_REJECT_REASONS.items()
}


class TrackedOrder:
    """A working order of a FIX account, as its latest event left it (ticks, lots)."""

    __slots__ = (
        "account",
        "client_order_id",
        "expire_ts",
        "filled",
        "filled_notional",
        "order_id",
        "order_type",
        "origin",
        "price",
        "quantity",
        "side",
        "stop_price",
        "symbol",
        "time_in_force",
    )

    def __init__(self, event: OrderAccepted, expire_ts: int) -> None:
        self.order_id = event.order_id
        self.account = event.account
        self.symbol = event.symbol
        self.side = event.side
        self.order_type = event.order_type
        self.time_in_force = event.time_in_force
        self.price = event.price
        self.stop_price = event.stop_price
        self.quantity = event.quantity
        self.filled = 0
        self.filled_notional = 0
        self.client_order_id = event.client_order_id
        self.expire_ts = expire_ts
        # The SenderCompID of the session that entered it ("" for another gateway), for cancel-on-disconnect.
        self.origin = ""

    @classmethod
    def from_state(cls, state: OrderState) -> TrackedOrder:
        """Track an order the read model already knows (at start-up)."""
        accepted = OrderAccepted(
            state.sequence,
            state.created_ts,
            state.order_id,
            state.account,
            state.symbol,
            state.side,
            state.order_type,
            state.time_in_force,
            state.price,
            state.quantity,
            state.stop_price,
            state.display_quantity,
            state.client_order_id,
        )
        order = cls(accepted, state.expire_ts)
        order.filled = state.filled
        order.filled_notional = state.filled_notional
        return order

    @property
    def status(self) -> bytes:
        """OrdStatus while working: New or Partially filled."""
        return PARTIALLY_FILLED if self.filled else NEW


class Context:
    """What a FIX request that became a command wants its answers to carry."""

    __slots__ = ("client_order_id", "kind", "order_id", "orig_client_order_id", "session")

    def __init__(
        self, session: str, kind: bytes, client_order_id: str, order_id: int = 0, orig_client_order_id: str = ""
    ) -> None:
        self.session = session
        self.kind = kind  # the request's MsgType: D, F, G or q
        self.client_order_id = client_order_id
        self.order_id = order_id  # the order a cancel or replace is about
        self.orig_client_order_id = orig_client_order_id


class Report:
    """One execution report for ``account``, to every session of that account."""

    __slots__ = ("account", "body", "order_id", "position")

    def __init__(self, account: int, position: int, body: bytes, order_id: int) -> None:
        self.account = account
        self.position = position
        self.body = body
        self.order_id = order_id


class OrderTracker:
    """The working orders of ``accounts``, kept from the event stream; turns events into reports."""

    def __init__(self, accounts: Iterable[int], instruments: dict[str, Instrument]) -> None:
        self.accounts = frozenset(accounts)
        self.instruments = instruments
        self.orders: dict[int, TrackedOrder] = {}
        self.timestamps = UtcTimestamps()
        # Reports at or below this position are not formatted (a start-up replay only folds them in).
        self.silent_through = 0

    def seed(self, states: Iterable[OrderState]) -> None:
        """Track orders that are working now (start-up without replay)."""
        for state in states:
            self.orders[state.order_id] = TrackedOrder.from_state(state)

    def apply(self, event: Event, command: Command, context: Context | None, reports: list[Report]) -> None:
        """Fold ``event`` in and append the reports it causes. O(1); events of other accounts cost a type check."""
        if isinstance(event, TradeExecuted):
            accounts = self.accounts
            if event.taker_account in accounts:
                self._fill(event, event.taker_order_id, event.taker_leaves, 0, reports)
            if event.maker_account in accounts:
                self._fill(event, event.maker_order_id, event.maker_leaves, 1, reports)
        elif isinstance(event, OrderAccepted):
            if event.account in self.accounts:
                expire_ts = command.expire_ts if isinstance(command, SubmitOrder) else 0
                order = self.orders[event.order_id] = TrackedOrder(event, expire_ts)
                if context is not None and context.kind == b"D":
                    order.origin = context.session
                self._report(order, event, NEW, NEW, reports)
        elif isinstance(event, OrderCancelled):
            cancelled = self.orders.pop(event.order_id, None) if event.account in self.accounts else None
            if cancelled is not None:
                order = cancelled
                expired = event.reason == CANCEL_REASON_EXPIRED
                status = EXPIRED if expired else CANCELED
                extra = field(58, CANCEL_REASON_NAMES.get(event.reason, "CANCELED"))
                if context is not None and context.kind == b"F" and context.order_id == order.order_id:
                    extra += field(41, order.client_order_id)
                    order.client_order_id = context.client_order_id
                self._report(order, event, status, status, reports, extra=extra, leaves=0)
        elif isinstance(event, OrderReplaced):
            replaced = self.orders.get(event.order_id) if event.account in self.accounts else None
            if replaced is not None:
                order = replaced
                order.price, order.stop_price, order.quantity = event.price, event.stop_price, event.quantity
                extra = b""
                if context is not None and context.kind == b"G" and context.order_id == order.order_id:
                    extra = field(41, order.client_order_id)
                    order.client_order_id = context.client_order_id
                self._report(order, event, REPLACED, order.status, reports, extra=extra)
        elif isinstance(event, OrderReduced):
            reduced = self.orders.get(event.order_id) if event.account in self.accounts else None
            if reduced is not None:
                order = reduced
                order.quantity = event.quantity
                self._report(order, event, RESTATED, order.status, reports, extra=b"378=99\x0158=SELF_TRADE\x01")
        elif isinstance(event, OrderRejected) and isinstance(command, SubmitOrder):
            position = event.sequence * 4
            if command.account in self.accounts and position > self.silent_through:
                reports.append(Report(command.account, position, self.rejected(event, command), 0))

    def _fill(self, event: TradeExecuted, order_id: int, leaves: int, part: int, reports: list[Report]) -> None:
        order = self.orders.get(order_id)
        if order is None:
            return
        order.filled += event.quantity
        order.filled_notional += event.price * event.quantity
        instrument = self.instruments[order.symbol]
        extra = (
            field(32, quantity_text(instrument, event.quantity))
            + field(31, price_text(instrument, event.price))
            + field(527, 2 * event.trade_id - 1 + part)  # SecondaryExecID: the REST API's execution_id
            + (b"851=1\x01" if part else b"851=2\x01")  # LastLiquidityInd: added (maker) or removed (taker)
        )
        status = PARTIALLY_FILLED
        if leaves == 0:
            status = FILLED
            del self.orders[order_id]
        self._report(order, event, TRADE, status, reports, extra=extra, leaves=leaves, part=part)

    def _report(
        self,
        order: TrackedOrder,
        event: Event,
        exec_type: bytes,
        status: bytes,
        reports: list[Report],
        extra: bytes = b"",
        leaves: int = -1,
        part: int = 0,
    ) -> None:
        position = event.sequence * 4 + part
        if position <= self.silent_through:
            return
        if leaves < 0:
            leaves = order.quantity - order.filled
        body = execution_report(
            self.instruments[order.symbol],
            order,
            f"{event.sequence}-{order.order_id}",
            exec_type,
            status,
            leaves,
            self.timestamps.format(event.ts),
            extra,
        )
        reports.append(Report(order.account, position, body, order.order_id))

    def rejected(self, event: OrderRejected, command: SubmitOrder) -> bytes:
        """Return the report of a refused new order (ExecType and OrdStatus Rejected)."""
        instrument = self.instruments.get(command.symbol)
        quantity = quantity_text(instrument, command.quantity) if instrument is not None else str(command.quantity)
        return rejected_report(
            order_id=str(event.order_id),
            exec_id=f"{event.sequence}-{event.order_id}",
            client_order_id=command.client_order_id,
            symbol=command.symbol,
            side=SIDE_CODES.get(command.side, b"1"),
            quantity=quantity,
            reason=ORDER_REJECT_REASONS.get(event.code, b"99"),
            text=f"{event.reason}: {event.text}",
            transact_time=self.timestamps.format(event.ts),
        )


def execution_report(
    instrument: Instrument,
    order: TrackedOrder | OrderState,
    exec_id: str,
    exec_type: bytes,
    status: bytes,
    leaves: int,
    transact_time: bytes,
    extra: bytes = b"",
) -> bytes:
    """Return the body of an ExecutionReport (35=8) about ``order``. Cost: a few dozen bytes of formatting."""
    body = field(37, order.order_id)
    if order.client_order_id:
        body += field(11, order.client_order_id)
    body += b"17=%b\x01150=%b\x0139=%b\x01" % (exec_id.encode(), exec_type, status)
    body += field(55, order.symbol) + b"54=%b\x01" % SIDE_CODES[order.side]
    body += field(38, quantity_text(instrument, order.quantity)) + b"40=%b\x01" % ORDER_TYPE_CODES[order.order_type]
    if order.price:
        body += field(44, price_text(instrument, order.price))
    if order.stop_price:
        body += field(99, price_text(instrument, order.stop_price))
    body += b"59=%b\x01" % TIME_IN_FORCE_CODES[order.time_in_force]
    if order.expire_ts:
        body += field(126, UtcTimestamps().format(order.expire_ts))
    body += field(151, quantity_text(instrument, leaves)) + field(14, quantity_text(instrument, order.filled))
    body += field(6, average_price(instrument, order.filled_notional, order.filled))
    return body + field(60, transact_time) + extra


def rejected_report(
    *,
    order_id: str,
    exec_id: str,
    client_order_id: str,
    symbol: str,
    side: bytes,
    quantity: str,
    reason: bytes,
    text: str,
    transact_time: bytes,
    exec_type: bytes = REJECTED,
    extra: bytes = b"",
) -> bytes:
    """Return the body of an ExecutionReport for an order that never worked (Rejected, or unknown on a status query)."""
    body = field(37, order_id)
    if client_order_id:
        body += field(11, client_order_id)
    body += b"17=%b\x01150=%b\x0139=8\x01103=%b\x01" % (exec_id.encode(), exec_type, reason)
    body += field(55, symbol) + b"54=%b\x01" % side + field(38, quantity)
    return body + b"151=0\x0114=0\x016=0\x01" + field(60, transact_time) + field(58, text) + extra


def average_price(instrument: Instrument, notional_ticks: int, filled: int) -> str:
    """Return the average fill price as decimal text ("0" before the first fill), to the tick precision + 4."""
    if not filled:
        return "0"
    places = instrument.price_precision + 4
    average = (Decimal(notional_ticks) * instrument.tick_size / filled).quantize(Decimal(1).scaleb(-places))
    return format(average.normalize(), "f")


def status_of(state: OrderState) -> bytes:
    """Return the FIX OrdStatus of an order in the read model."""
    return STATUS_OF_STATE[state.status]
