"""Rows for the SQL projection, built from what a batch of acks changed.

``rows_from_changes`` runs on the event loop right after ``TradingHistory.apply``:
it copies every value into plain dicts at once (the ``OrderState`` objects go
on changing with later acks), turning ticks, lots and cash units into exact
``Decimal`` amounts and nanosecond times into aware UTC datetimes. The dict
keys are the column names of ``hft.adapters.sql.tables``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

from hft.domain.exchange.accounts import ACCOUNT_STATE_NAMES
from hft.domain.exchange.events import AccountChanged, PositionChanged
from hft.domain.exchange.money import cash_to_decimal
from hft.domain.instruments import Instrument
from hft.domain.orders import ORDER_TYPE_NAMES, SIDE_NAMES, TIME_IN_FORCE_NAMES

if TYPE_CHECKING:
    # Types only: the venue's service layer imports this adapter, so importing it back at run time would be a cycle.
    from hft.engine.core import Ack
    from hft.service.history import Changes, Execution, OrderState

Row = dict[str, Any]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
# Average fill prices are rounded to 8 places; 60 digits keep the division exact up to there for any sum of fills.
AVERAGE_PRICE_PLACES: Final = 8
_AVERAGE_QUANTUM: Final = Decimal(1).scaleb(-AVERAGE_PRICE_PLACES)
_AVERAGE_CONTEXT: Final = Context(prec=60)


class RowBatch:
    """The rows one write puts in the database: plain lists of dicts, safe to hand to another task.

    ``account_cash`` rows (``account_id``, ``cash``, ``sequence``, ``updated_at``)
    carry the cash a fill left an account with, so ``accounts.cash`` stays current
    between ``AccountChanged`` events. ``last_sequence`` is the last event
    sequence the rows cover; it may exceed every row's sequence.
    """

    __slots__ = ("account_cash", "accounts", "executions", "last_sequence", "orders", "positions")

    def __init__(
        self,
        *,
        orders: list[Row] | None = None,
        executions: list[Row] | None = None,
        positions: list[Row] | None = None,
        accounts: list[Row] | None = None,
        account_cash: list[Row] | None = None,
        last_sequence: int = 0,
    ) -> None:
        self.orders: list[Row] = orders or []
        self.executions: list[Row] = executions or []
        self.positions: list[Row] = positions or []
        self.accounts: list[Row] = accounts or []
        self.account_cash: list[Row] = account_cash or []
        self.last_sequence = last_sequence

    @property
    def row_count(self) -> int:
        """Return how many rows the batch holds (its weight in a write and in memory)."""
        return (
            len(self.orders) + len(self.executions) + len(self.positions) + len(self.accounts) + len(self.account_cash)
        )

    @classmethod
    def merge(cls, batches: Iterable[RowBatch]) -> RowBatch:
        """Return one batch with the rows of ``batches`` (oldest first): the newest row per key, every execution.

        Rows of one key keep only the highest sequence, so a single statement
        never touches a row twice and a merged write ends where the separate
        writes would have. O(rows).
        """
        orders: dict[int, Row] = {}
        positions: dict[tuple[int, str], Row] = {}
        accounts: dict[int, Row] = {}
        account_cash: dict[int, Row] = {}
        executions: list[Row] = []
        last_sequence = 0
        for batch in batches:
            _keep_newest(orders, batch.orders, lambda row: row["order_id"])
            _keep_newest(positions, batch.positions, lambda row: (row["account_id"], row["symbol"]))
            _keep_newest(accounts, batch.accounts, lambda row: row["account_id"])
            _keep_newest(account_cash, batch.account_cash, lambda row: row["account_id"])
            executions.extend(batch.executions)
            last_sequence = max(last_sequence, batch.last_sequence)
        return cls(
            orders=list(orders.values()),
            executions=executions,
            positions=list(positions.values()),
            accounts=list(accounts.values()),
            account_cash=list(account_cash.values()),
            last_sequence=last_sequence,
        )


def _keep_newest(newest: dict[Any, Row], rows: list[Row], key: Any) -> None:
    for row in rows:
        row_key = key(row)
        kept = newest.get(row_key)
        if kept is None or kept["sequence"] < row["sequence"]:
            newest[row_key] = row


def account_changes(acks: Iterable[Ack]) -> list[AccountChanged]:
    """Return the ``AccountChanged`` events of ``acks``, in order (what ``rows_from_changes`` wants besides changes)."""
    return [event for ack in acks for event in ack.events if isinstance(event, AccountChanged)]


def rows_from_changes(
    changes: Changes,
    account_events: Iterable[AccountChanged],
    instruments: Mapping[str, Instrument] | Iterable[Instrument],
) -> RowBatch:
    """Copy what one ``TradingHistory.apply`` changed, plus its ``AccountChanged`` events, into rows. O(rows).

    ``instruments`` (by symbol, or a list) give the tick and lot sizes; an order
    rejected for an unknown symbol has NULL prices and its raw lot count as quantity.
    """
    by_symbol = instruments if isinstance(instruments, Mapping) else {item.symbol: item for item in instruments}
    accounts: dict[int, Row] = {}
    last_sequence = changes.last_sequence
    for event in account_events:
        accounts[event.account] = account_row(event)
        last_sequence = max(last_sequence, event.sequence)
    return RowBatch(
        orders=[order_row(order, by_symbol.get(order.symbol)) for order in changes.orders.values()],
        executions=[execution_row(execution, by_symbol[execution.symbol]) for execution in changes.executions],
        positions=[position_row(event, by_symbol[event.symbol]) for event in changes.positions.values()],
        accounts=list(accounts.values()),
        account_cash=_account_cash_rows(changes.positions.values()),
        last_sequence=last_sequence,
    )


@lru_cache(maxsize=4_096)  # every event of a command shares its ts: most rows of a batch hit
def timestamp(ts: int) -> datetime:
    """Return the aware UTC datetime of ``ts`` nanoseconds since the epoch (truncated to microseconds)."""
    return _EPOCH + timedelta(microseconds=ts // 1_000)


class _Scale:
    """An instrument's ticks and lots to decimals, equal to ``ticks_to_price`` and ``lots_to_quantity``, faster."""

    __slots__ = ("price", "quantity", "tick_size")

    def __init__(self, instrument: Instrument) -> None:
        self.tick_size = instrument.tick_size
        self.price = _to_decimal(instrument.tick_size, instrument.ticks_to_price)
        self.quantity = _to_decimal(instrument.lot_size, instrument.lots_to_quantity)


def _to_decimal(unit: Decimal, exact: Callable[[int], Decimal]) -> Callable[[int], Decimal]:
    # Rows are built on the event loop: for the usual units (0.01, 0.0001, 1) shifting the point is 4x quicker
    # than multiplying and quantising, with the same digits and exponent.
    sign, digits, exponent = unit.normalize().as_tuple()
    if sign == 0 and digits == (1,) and isinstance(exponent, int) and exponent <= 0:
        return lambda units: Decimal(units).scaleb(exponent)
    return exact


@lru_cache(maxsize=256)
def _scale(instrument: Instrument) -> _Scale:
    return _Scale(instrument)


def order_row(order: OrderState, instrument: Instrument | None) -> Row:
    """Return the ``orders`` row of ``order`` as it is now."""
    scale = _scale(instrument) if instrument is not None else None
    return {
        "order_id": order.order_id,
        "account_id": order.account,
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "side": SIDE_NAMES.get(order.side, str(order.side)),
        "order_type": ORDER_TYPE_NAMES.get(order.order_type, str(order.order_type)),
        "time_in_force": TIME_IN_FORCE_NAMES.get(order.time_in_force, str(order.time_in_force)),
        "price": _price(scale, order.price),
        "stop_price": _price(scale, order.stop_price),
        "quantity": _quantity(scale, order.quantity),
        "filled_quantity": _quantity(scale, order.filled),
        "leaves_quantity": _quantity(scale, order.leaves),
        "avg_fill_price": _average_price(scale, order.filled_notional, order.filled),
        "status": order.status,
        "reject_reason": order.reject_reason,
        "created_at": timestamp(order.created_ts),
        "updated_at": timestamp(order.updated_ts),
        "sequence": order.sequence,
    }


def execution_row(execution: Execution, instrument: Instrument) -> Row:
    """Return the ``executions`` row of ``execution``."""
    scale = _scale(instrument)
    return {
        "execution_id": execution.execution_id,
        "trade_id": execution.trade_id,
        "order_id": execution.order_id,
        "account_id": execution.account,
        "symbol": execution.symbol,
        "side": SIDE_NAMES[execution.side],
        "price": scale.price(execution.price),
        "quantity": scale.quantity(execution.quantity),
        "liquidity": execution.liquidity,
        "fee": cash_to_decimal(execution.fee),
        "executed_at": timestamp(execution.ts),
        "sequence": execution.sequence,
    }


def position_row(event: PositionChanged, instrument: Instrument) -> Row:
    """Return the ``positions`` row that ``event`` leaves."""
    return {
        "account_id": event.account,
        "symbol": event.symbol,
        "quantity": _scale(instrument).quantity(event.net_quantity),
        "open_cost": cash_to_decimal(event.open_cost),
        "realized_pnl": cash_to_decimal(event.realized_pnl),
        "fees": cash_to_decimal(event.fees_paid),
        "cash": cash_to_decimal(event.cash),
        "sequence": event.sequence,
        "updated_at": timestamp(event.ts),
    }


def account_row(event: AccountChanged) -> Row:
    """Return the ``accounts`` row that ``event`` leaves."""
    return {
        "account_id": event.account,
        "name": event.name,
        "state": ACCOUNT_STATE_NAMES.get(event.state, str(event.state)),
        "maker_fee_bps": event.maker_fee_bps,
        "taker_fee_bps": event.taker_fee_bps,
        "cash": cash_to_decimal(event.cash),
        "sequence": event.sequence,
        "updated_at": timestamp(event.ts),
    }


def _account_cash_rows(events: Iterable[PositionChanged]) -> list[Row]:
    newest: dict[int, PositionChanged] = {}
    for event in events:
        kept = newest.get(event.account)
        if kept is None or kept.sequence < event.sequence:
            newest[event.account] = event
    return [
        {
            "account_id": event.account,
            "cash": cash_to_decimal(event.cash),
            "sequence": event.sequence,
            "updated_at": timestamp(event.ts),
        }
        for event in newest.values()
    ]


def _price(scale: _Scale | None, ticks: int) -> Decimal | None:
    # 0 ticks is no price at all: a market order's limit, a plain order's stop.
    if not ticks or scale is None:
        return None
    return scale.price(ticks)


def _quantity(scale: _Scale | None, lots: int) -> Decimal:
    # Without an instrument there is no lot size: keep the count the command carried.
    return scale.quantity(lots) if scale is not None else Decimal(lots)


def _average_price(scale: _Scale | None, notional: int, filled: int) -> Decimal | None:
    if not filled or scale is None:
        return None
    average = _AVERAGE_CONTEXT.divide(_AVERAGE_CONTEXT.multiply(Decimal(notional), scale.tick_size), filled)
    return average.quantize(_AVERAGE_QUANTUM, context=_AVERAGE_CONTEXT)
