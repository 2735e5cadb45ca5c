"""The trading history read model: every order and execution, per account, kept current from the core's acks.

The exchange keeps only what matching and risk need; clients also want the
orders that left the book, their fills and fees. ``TradingHistory`` folds
acks into that view, on the event loop, in sequence order. It is rebuilt at
start-up by replaying the journal, so it never disagrees with the core.
Amounts stay integers (ticks, lots, cash units); gateways format them.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from typing import Final

import msgspec

from hft.core import rejects
from hft.domain.commands import SubmitOrder
from hft.domain.events import (
    CANCEL_REASON_EXPIRED,
    CANCEL_REASON_NAMES,
    Event,
    OrderAccepted,
    OrderCancelled,
    OrderReduced,
    OrderRejected,
    OrderReplaced,
    StopTriggered,
    TradeExecuted,
)
from hft.domain.exchange.events import AccountChanged, PositionChanged
from hft.domain.exchange.money import Scale
from hft.domain.exchange.risk import BPS
from hft.domain.instruments import Instrument
from hft.domain.orders import BUY, SELL
from hft.engine.core import Ack

# Order status as the API shows it.
NEW: Final = "NEW"
PARTIALLY_FILLED: Final = "PARTIALLY_FILLED"
FILLED: Final = "FILLED"
CANCELED: Final = "CANCELED"
REJECTED: Final = "REJECTED"
EXPIRED: Final = "EXPIRED"
OPEN_STATUSES: Final = frozenset({NEW, PARTIALLY_FILLED})
ORDER_STATUSES: Final = (NEW, PARTIALLY_FILLED, FILLED, CANCELED, REJECTED, EXPIRED)

MAKER: Final = "MAKER"
TAKER: Final = "TAKER"


class OrderState(msgspec.Struct, gc=False):
    """One order as its owner sees it. Prices in ticks, quantities in lots, times in ns.

    ``filled_notional`` is the sum of price x quantity of its fills, in ticks x lots.
    ``sequence`` is the event sequence of its latest change.
    """

    order_id: int
    account: int
    client_order_id: str
    symbol: str
    side: int
    order_type: int
    time_in_force: int
    price: int
    stop_price: int
    quantity: int
    display_quantity: int
    post_only: bool
    expire_ts: int
    status: str
    created_ts: int
    updated_ts: int
    sequence: int
    filled: int = 0
    filled_notional: int = 0
    reject_code: int = 0
    cancel_reason: int = 0
    triggered: bool = False

    @property
    def leaves(self) -> int:
        """Lots still working (0 once the order is done)."""
        return self.quantity - self.filled if self.status in OPEN_STATUSES else 0

    @property
    def is_open(self) -> bool:
        """Whether the order is still working (resting or a waiting stop)."""
        return self.status in OPEN_STATUSES

    @property
    def reject_reason(self) -> str | None:
        """The stable name of the reject code, for a REJECTED order."""
        return rejects.reject_name(self.reject_code) if self.reject_code else None

    @property
    def cancel_reason_name(self) -> str | None:
        """Why a CANCELED or EXPIRED order stopped working."""
        return CANCEL_REASON_NAMES.get(self.cancel_reason)


class Execution(msgspec.Struct, frozen=True, gc=False):
    """One side of one trade, as its account sees it (price ticks, quantity lots, fee cash units).

    ``execution_id`` is ``2 x trade_id - 1`` for the taker's side and ``2 x trade_id`` for the maker's.
    """

    execution_id: int
    trade_id: int
    order_id: int
    account: int
    symbol: str
    side: int
    price: int
    quantity: int
    liquidity: str
    fee: int
    ts: int
    sequence: int


class Changes:
    """What one batch of acks changed: for projections that persist or publish the history."""

    __slots__ = ("accounts", "executions", "last_sequence", "orders", "positions")

    def __init__(self) -> None:
        self.accounts: list[AccountChanged] = []
        self.orders: dict[int, OrderState] = {}
        self.executions: list[Execution] = []
        self.positions: dict[tuple[int, str], PositionChanged] = {}
        self.last_sequence = 0


class _Fees:
    __slots__ = ("maker_bps", "taker_bps")

    def __init__(self, maker_bps: int, taker_bps: int) -> None:
        self.maker_bps = maker_bps
        self.taker_bps = taker_bps


class TradingHistory:
    """Every order and execution since the venue began, indexed per account. Single-threaded, O(1) per event."""

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        self.scales = {instrument.symbol: Scale(instrument) for instrument in instruments}
        self.orders: dict[int, OrderState] = {}
        self.executions_by_account: dict[int, list[Execution]] = {}
        self.order_ids_by_account: dict[int, list[int]] = {}
        self.open_by_account: dict[int, set[int]] = {}
        self.client_ids: dict[tuple[int, str], int] = {}
        self.fees: dict[int, _Fees] = {}
        self.last_sequence = 0

    # -- folding acks in -------------------------------------------------------

    def apply(self, acks: list[Ack]) -> Changes:
        """Fold a batch of acks in, in order; return what changed."""
        changes = Changes()
        for ack in acks:
            command = ack.command
            for event in ack.events:
                self._apply_event(event, command, changes)
                changes.last_sequence = event.sequence
        self.last_sequence = max(self.last_sequence, changes.last_sequence)
        return changes

    def _apply_event(self, event: Event, command: object, changes: Changes) -> None:
        if isinstance(event, TradeExecuted):
            self._on_trade(event, changes)
        elif isinstance(event, OrderAccepted):
            self._on_accepted(event, command, changes)
        elif isinstance(event, OrderCancelled):
            order = self.orders[event.order_id]
            order.status = EXPIRED if event.reason == CANCEL_REASON_EXPIRED else CANCELED
            order.cancel_reason = event.reason
            self._closed(order)
            self._touch(order, event, changes)
        elif isinstance(event, OrderRejected):
            if isinstance(command, SubmitOrder) and event.order_id not in self.orders:
                self._on_rejected_submit(event, command, changes)
        elif isinstance(event, OrderReplaced):
            order = self.orders[event.order_id]
            order.price, order.stop_price, order.quantity = event.price, event.stop_price, event.quantity
            self._touch(order, event, changes)
        elif isinstance(event, OrderReduced):
            order = self.orders[event.order_id]
            order.quantity = event.quantity
            self._touch(order, event, changes)
        elif isinstance(event, StopTriggered):
            order = self.orders[event.order_id]
            order.triggered = True
            self._touch(order, event, changes)
        elif isinstance(event, AccountChanged):
            self.fees[event.account] = _Fees(event.maker_fee_bps, event.taker_fee_bps)
            changes.accounts.append(event)
        elif isinstance(event, PositionChanged):
            changes.positions[(event.account, event.symbol)] = event

    def _on_accepted(self, event: OrderAccepted, command: object, changes: Changes) -> None:
        submitted = command if isinstance(command, SubmitOrder) else None
        order = OrderState(
            order_id=event.order_id,
            account=event.account,
            client_order_id=event.client_order_id,
            symbol=event.symbol,
            side=event.side,
            order_type=event.order_type,
            time_in_force=event.time_in_force,
            price=event.price,
            stop_price=event.stop_price,
            quantity=event.quantity,
            display_quantity=event.display_quantity,
            post_only=submitted.post_only if submitted is not None else False,
            expire_ts=submitted.expire_ts if submitted is not None else 0,
            status=NEW,
            created_ts=event.ts,
            updated_ts=event.ts,
            sequence=event.sequence,
        )
        self._add(order)
        self.open_by_account.setdefault(order.account, set()).add(order.order_id)
        if order.client_order_id:
            self.client_ids[(order.account, order.client_order_id)] = order.order_id
        changes.orders[order.order_id] = order

    def _on_rejected_submit(self, event: OrderRejected, command: SubmitOrder, changes: Changes) -> None:
        if event.code == rejects.DUPLICATE_CLIENT_ORDER_ID:
            return  # the order it repeats is the one on record; this attempt created nothing
        order = OrderState(
            order_id=event.order_id,
            account=command.account,
            client_order_id=command.client_order_id,
            symbol=command.symbol,
            side=command.side,
            order_type=command.order_type,
            time_in_force=command.time_in_force,
            price=command.price,
            stop_price=command.stop_price,
            quantity=command.quantity,
            display_quantity=command.display_quantity,
            post_only=command.post_only,
            expire_ts=command.expire_ts,
            status=REJECTED,
            created_ts=event.ts,
            updated_ts=event.ts,
            sequence=event.sequence,
            reject_code=event.code,
        )
        self._add(order)
        key = (order.account, order.client_order_id)
        if order.client_order_id and key not in self.client_ids:
            self.client_ids[key] = order.order_id
        changes.orders[order.order_id] = order

    def _on_trade(self, event: TradeExecuted, changes: Changes) -> None:
        scale = self.scales[event.symbol]
        notional = scale.notional(event.price, event.quantity)
        taker_side = event.aggressor_side
        maker_side = SELL if taker_side == BUY else BUY
        for order_id, account, side, liquidity, leaves, execution_id in (
            (event.taker_order_id, event.taker_account, taker_side, TAKER, event.taker_leaves, 2 * event.trade_id - 1),
            (event.maker_order_id, event.maker_account, maker_side, MAKER, event.maker_leaves, 2 * event.trade_id),
        ):
            fees = self.fees.get(account)
            bps = 0 if fees is None else (fees.taker_bps if liquidity == TAKER else fees.maker_bps)
            execution = Execution(
                execution_id,
                event.trade_id,
                order_id,
                account,
                event.symbol,
                side,
                event.price,
                event.quantity,
                liquidity,
                notional * bps // BPS,
                event.ts,
                event.sequence,
            )
            self.executions_by_account.setdefault(account, []).append(execution)
            changes.executions.append(execution)
            order = self.orders[order_id]
            order.filled += event.quantity
            order.filled_notional += event.price * event.quantity
            if leaves == 0:
                order.status = FILLED
                self._closed(order)
            else:
                order.status = PARTIALLY_FILLED
            self._touch(order, event, changes)

    def _add(self, order: OrderState) -> None:
        self.orders[order.order_id] = order
        self.order_ids_by_account.setdefault(order.account, []).append(order.order_id)

    def _closed(self, order: OrderState) -> None:
        self.open_by_account.get(order.account, set()).discard(order.order_id)

    @staticmethod
    def _touch(order: OrderState, event: Event, changes: Changes) -> None:
        order.updated_ts = event.ts
        order.sequence = event.sequence
        changes.orders[order.order_id] = order

    # -- questions (each answers only for the asking account) ----------------

    def order(self, account: int, order_id: int) -> OrderState | None:
        """Return ``account``'s order ``order_id``; None if unknown or another account's."""
        order = self.orders.get(order_id)
        return order if order is not None and order.account == account else None

    def order_by_client_id(self, account: int, client_order_id: str) -> OrderState | None:
        """Return ``account``'s order with ``client_order_id`` (the accepted one if any), or None."""
        order_id = self.client_ids.get((account, client_order_id))
        return None if order_id is None else self.orders[order_id]

    def list_orders(
        self,
        account: int,
        *,
        status: str | None = None,
        symbol: str | None = None,
        open_only: bool = False,
        before: int | None = None,
        limit: int = 100,
    ) -> list[OrderState]:
        """Return ``account``'s orders newest first, ids below ``before``, filtered. O(orders scanned)."""
        ids = sorted(self.open_by_account.get(account, ())) if open_only else self.order_ids_by_account.get(account, [])
        end = len(ids) if before is None else bisect_left(ids, before)
        found: list[OrderState] = []
        for index in range(end - 1, -1, -1):
            order = self.orders[ids[index]]
            if (status is None or order.status == status) and (symbol is None or order.symbol == symbol):
                found.append(order)
                if len(found) >= limit:
                    break
        return found

    def open_orders(self, account: int) -> list[OrderState]:
        """Return ``account``'s working orders, oldest first."""
        return [self.orders[order_id] for order_id in sorted(self.open_by_account.get(account, ()))]

    def list_executions(
        self,
        account: int,
        *,
        symbol: str | None = None,
        order_id: int | None = None,
        before: int | None = None,
        limit: int = 100,
    ) -> list[Execution]:
        """Return ``account``'s executions newest first, ids below ``before``, filtered."""
        executions = self.executions_by_account.get(account, [])
        end = len(executions) if before is None else bisect_left(executions, before, key=_execution_id)
        found: list[Execution] = []
        for index in range(end - 1, -1, -1):
            execution = executions[index]
            if (symbol is None or execution.symbol == symbol) and (order_id is None or execution.order_id == order_id):
                found.append(execution)
                if len(found) >= limit:
                    break
        return found


def _execution_id(execution: Execution) -> int:
    return execution.execution_id
