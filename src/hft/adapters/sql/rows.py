"""Rows for the SQL projection, built from what a batch of acks changed.

``rows_from_changes`` runs on the event loop right after ``TradingHistory.apply``:
it copies every value at once (the ``OrderState`` objects go on changing with
later acks) into plain tuples in the column order of ``hft.adapters.sql.tables``
(``*_COLUMNS`` below), which the drivers bind as they are (``bulk.py``):

- ids, sequences and fee rates are ``int``, names ``str``, missing values ``None``;
- prices, quantities and average prices are exact decimal text in plain notation
  (``"150.01"``, ``"0.0001"``, ``"-3"``), in the instrument's units: integer
  arithmetic, memoised per instrument. This is byte for byte what the ``Amount``
  column type stores on SQLite; PostgreSQL casts it to ``NUMERIC``;
- cash amounts (``CASH_COLUMNS``) stay integer cash units and times stay integer
  nanoseconds since the epoch: the SQL turns them into exactly what the column
  types store (``"1000000.12345678"``; ``"2026-01-01 00:00:04.123456"`` on SQLite,
  the ``TIMESTAMPTZ`` on PostgreSQL), inside the database, off the event loop.

Reading a table back through SQLAlchemy gives ``Decimal`` and aware ``datetime``
values as before; these tuples are only the wire form.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from hft.core.fixedpoint import UnitText, decimal_text
from hft.domain.exchange.accounts import ACCOUNT_STATE_NAMES
from hft.domain.exchange.events import AccountChanged, PositionChanged
from hft.domain.instruments import Instrument
from hft.domain.orders import ORDER_TYPE_NAMES, SIDE_NAMES, TIME_IN_FORCE_NAMES

if TYPE_CHECKING:
    # Types only: the venue's service layer imports this adapter, so importing it back at run time would be a cycle.
    from hft.service.history import Changes, Execution, OrderState

Row = tuple[Any, ...]

# The column order of every row: the tables' own order (a test holds them equal).
ORDER_COLUMNS: Final = (
    "order_id", "account_id", "client_order_id", "symbol", "side", "order_type", "time_in_force", "price",
    "stop_price", "quantity", "filled_quantity", "leaves_quantity", "avg_fill_price", "status", "reject_reason",
    "created_at", "updated_at", "sequence",
)  # fmt: skip
EXECUTION_COLUMNS: Final = (
    "execution_id", "trade_id", "order_id", "account_id", "symbol", "side", "price", "quantity", "liquidity", "fee",
    "executed_at", "sequence",
)  # fmt: skip
POSITION_COLUMNS: Final = (
    "account_id", "symbol", "quantity", "open_cost", "realized_pnl", "fees", "cash", "sequence", "updated_at",
)  # fmt: skip
ACCOUNT_COLUMNS: Final = (
    "account_id", "name", "state", "maker_fee_bps", "taker_fee_bps", "cash", "sequence", "updated_at",
)  # fmt: skip
# The cash a fill leaves an account with: an UPDATE of these accounts columns.
ACCOUNT_CASH_COLUMNS: Final = ("account_id", "cash", "sequence", "updated_at")
# The amounts that travel as integer cash units (10**-8 of the quote currency, ``CASH_SCALE``), by table. Every
# other amount is decimal text; every time (``UtcTimestamp`` column) is integer nanoseconds since the epoch.
CASH_COLUMNS: Final = {
    "orders": frozenset[str](),
    "executions": frozenset({"fee"}),
    "positions": frozenset({"open_cost", "realized_pnl", "fees", "cash"}),
    "accounts": frozenset({"cash"}),
}

# Where each kind of row keeps its sequence; its key is its first column (positions: the first two).
ORDER_SEQUENCE: Final = ORDER_COLUMNS.index("sequence")
POSITION_SEQUENCE: Final = POSITION_COLUMNS.index("sequence")
ACCOUNT_SEQUENCE: Final = ACCOUNT_COLUMNS.index("sequence")
ACCOUNT_CASH_SEQUENCE: Final = ACCOUNT_CASH_COLUMNS.index("sequence")

# Average fill prices are rounded (half to even) to 8 places.
AVERAGE_PRICE_PLACES: Final = 8
# Memoised texts per instrument (prices, lot counts, averages): enough for the levels in play, bounded.
_MEMO_SIZE: Final = 4_096


class RowBatch:
    """The rows one write puts in the database: plain lists of tuples, safe to hand to another task.

    At most one row per key (an execution may repeat: it is inserted once).
    ``account_cash`` rows (``ACCOUNT_CASH_COLUMNS``) carry the cash a fill left an
    account with, so ``accounts.cash`` stays current between ``AccountChanged``
    events. ``last_sequence`` is the last event sequence the rows cover; it may
    exceed every row's sequence.
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

        Rows of one key keep only the highest sequence (the first seen of equal
        ones), so a single statement never touches a row twice and a merged write
        ends where the separate writes would have. One batch comes back as it is. O(rows).
        """
        listed = list(batches)
        if len(listed) == 1:
            return listed[0]
        executions: list[Row] = []
        last_sequence = 0
        for batch in listed:
            executions += batch.executions
            last_sequence = max(last_sequence, batch.last_sequence)
        return cls(
            orders=_newest([batch.orders for batch in listed], ORDER_SEQUENCE),
            executions=executions,
            positions=_newest_positions([batch.positions for batch in listed]),
            accounts=_newest([batch.accounts for batch in listed], ACCOUNT_SEQUENCE),
            account_cash=_newest([batch.account_cash for batch in listed], ACCOUNT_CASH_SEQUENCE),
            last_sequence=last_sequence,
        )


def _newest(runs: list[list[Row]], sequence: int) -> list[Row]:
    """Return the row of highest ``sequence`` (the first of equal ones) of each key (first column) in ``runs``."""
    newest: dict[Any, Row] = {}
    kept_row = newest.get
    for rows in runs:
        for row in rows:
            kept = kept_row(row[0])
            if kept is None or kept[sequence] < row[sequence]:
                newest[row[0]] = row
    return list(newest.values())


def _newest_positions(runs: list[list[Row]]) -> list[Row]:
    """``_newest`` for positions, whose key is their first two columns."""
    newest: dict[Any, Row] = {}
    kept_row = newest.get
    for rows in runs:
        for row in rows:
            key = row[0], row[1]
            kept = kept_row(key)
            if kept is None or kept[POSITION_SEQUENCE] < row[POSITION_SEQUENCE]:
                newest[key] = row
    return list(newest.values())


# -- amounts as text ---------------------------------------------------


class _Units(dict[int, str]):
    """The decimal text of whole numbers of one unit (ticks, lots): ``units[count]``, memoised.

    The digits and exponent of ``Instrument.ticks_to_price`` / ``lots_to_quantity``:
    the unit's decimal places, after normalising it.
    """

    __slots__ = ("multiplier", "places", "unit")

    def __init__(self, unit: Decimal) -> None:
        super().__init__()
        self.unit: Final = UnitText(unit)
        self.places: Final = self.unit.places
        self.multiplier: Final = self.unit.multiplier

    def __missing__(self, count: int) -> str:
        text = self.unit.text(count)
        if len(self) < _MEMO_SIZE:
            self[count] = text
        return text


class _Formats:
    """One instrument's prices and quantities as text."""

    __slots__ = ("average_divisor", "average_multiplier", "exact_averages", "prices", "quantities")

    def __init__(self, instrument: Instrument) -> None:
        self.prices: Final = _Units(instrument.tick_size)
        self.quantities: Final = _Units(instrument.lot_size)
        # notional x tick size / filled, in units of 10**-8: notional x multiplier / (filled x divisor).
        exponent = self.prices.places - AVERAGE_PRICE_PLACES
        self.average_multiplier: Final = self.prices.multiplier * 10 ** max(-exponent, 0)
        self.average_divisor: Final = 10 ** max(exponent, 0)
        # Averages that are a whole number of ticks (every fill at one price: the usual case), by ticks.
        self.exact_averages: Final[dict[int, str]] = {}

    def average(self, notional: int, filled: int) -> str:
        """Return the mean price of ``filled`` lots worth ``notional`` ticks x lots, rounded half to even to 8 places.

        The digits of ``(notional x tick size / filled).quantize(Decimal("1E-8"))``.
        """
        ticks, rest = divmod(notional, filled)
        if rest:
            return self._average(notional, filled)
        text = self.exact_averages.get(ticks)
        if text is None:
            text = self._average(notional, filled)
            if len(self.exact_averages) < _MEMO_SIZE:
                self.exact_averages[ticks] = text
        return text

    def _average(self, notional: int, filled: int) -> str:
        numerator = notional * self.average_multiplier
        denominator = filled * self.average_divisor
        negative = (numerator < 0) != (denominator < 0)
        numerator, denominator = abs(numerator), abs(denominator)
        quotient, remainder = divmod(numerator, denominator)
        twice = 2 * remainder
        if twice > denominator or (twice == denominator and quotient & 1):
            quotient += 1
        return ("-" if negative else "") + decimal_text(quotient, AVERAGE_PRICE_PLACES)


class _Names(dict[int, str]):
    """Codes to API names; a code without a name shows as its number."""

    def __missing__(self, code: int) -> str:
        return str(code)


_SIDES: Final = _Names(SIDE_NAMES)
_ORDER_TYPES: Final = _Names(ORDER_TYPE_NAMES)
_TIMES_IN_FORCE: Final = _Names(TIME_IN_FORCE_NAMES)
_ACCOUNT_STATES: Final = _Names(ACCOUNT_STATE_NAMES)
# By the instruments of a call (compared by identity): the venue passes the same ones every time.
_FORMATS_BY_INSTRUMENTS: dict[tuple[Instrument, ...], dict[str, _Formats]] = {}
_FORMATS: dict[Instrument, _Formats] = {}


def _formats(instrument: Instrument) -> _Formats:
    found = _FORMATS.get(instrument)
    if found is None:
        if len(_FORMATS) >= _MEMO_SIZE:
            _FORMATS.clear()
        found = _FORMATS[instrument] = _Formats(instrument)
    return found


def _formats_by_symbol(instruments: Mapping[str, Instrument] | Iterable[Instrument]) -> dict[str, _Formats]:
    listed = tuple(instruments.values() if isinstance(instruments, Mapping) else instruments)
    found = _FORMATS_BY_INSTRUMENTS.get(listed)
    if found is None:
        if len(_FORMATS_BY_INSTRUMENTS) >= 64:
            _FORMATS_BY_INSTRUMENTS.clear()
        found = _FORMATS_BY_INSTRUMENTS[listed] = {item.symbol: _formats(item) for item in listed}
    return found


# -- rows --------------------------------------------------------------------------


def rows_from_changes(changes: Changes, instruments: Mapping[str, Instrument] | Iterable[Instrument]) -> RowBatch:
    """Copy what one ``TradingHistory.apply`` changed (accounts included) into rows. O(rows).

    ``instruments`` (by symbol, or a list) give the tick and lot sizes; an order
    rejected for an unknown symbol has NULL prices and its raw lot count as quantity.
    """
    formats = _formats_by_symbol(instruments)
    accounts: dict[int, Row] = {}
    last_sequence = changes.last_sequence
    for event in changes.accounts:
        accounts[event.account] = _account_row(event)
        last_sequence = max(last_sequence, event.sequence)
    positions = changes.positions.values()
    return RowBatch(
        orders=[_order_row(order, formats.get(order.symbol)) for order in changes.orders.values()],
        executions=[_execution_row(execution, formats[execution.symbol]) for execution in changes.executions],
        positions=[_position_row(event, formats[event.symbol]) for event in positions],
        accounts=list(accounts.values()),
        account_cash=_account_cash_rows(positions) if positions else [],
        last_sequence=last_sequence,
    )


def order_row(order: OrderState, instrument: Instrument | None) -> Row:
    """Return the ``orders`` row of ``order`` as it is now."""
    return _order_row(order, _formats(instrument) if instrument is not None else None)


def execution_row(execution: Execution, instrument: Instrument) -> Row:
    """Return the ``executions`` row of ``execution``."""
    return _execution_row(execution, _formats(instrument))


def position_row(event: PositionChanged, instrument: Instrument) -> Row:
    """Return the ``positions`` row that ``event`` leaves."""
    return _position_row(event, _formats(instrument))


def account_row(event: AccountChanged) -> Row:
    """Return the ``accounts`` row that ``event`` leaves."""
    return _account_row(event)


def _order_row(order: OrderState, formats: _Formats | None) -> Row:
    filled = order.filled
    if formats is None:
        # No instrument, no tick or lot size: no prices, and the lot counts the command carried.
        price = stop_price = average = None
        quantity, filled_quantity, leaves = str(order.quantity), str(filled), str(order.leaves)
    else:
        prices = formats.prices
        quantities = formats.quantities
        # 0 ticks is no price at all: a market order's limit, a plain order's stop.
        price = prices[order.price] if order.price else None
        stop_price = prices[order.stop_price] if order.stop_price else None
        quantity, filled_quantity, leaves = quantities[order.quantity], quantities[filled], quantities[order.leaves]
        average = formats.average(order.filled_notional, filled) if filled else None
    return (
        order.order_id,
        order.account,
        order.client_order_id,
        order.symbol,
        _SIDES[order.side],
        _ORDER_TYPES[order.order_type],
        _TIMES_IN_FORCE[order.time_in_force],
        price,
        stop_price,
        quantity,
        filled_quantity,
        leaves,
        average,
        order.status,
        order.reject_reason,
        order.created_ts,
        order.updated_ts,
        order.sequence,
    )


def _execution_row(execution: Execution, formats: _Formats) -> Row:
    return (
        execution.execution_id,
        execution.trade_id,
        execution.order_id,
        execution.account,
        execution.symbol,
        _SIDES[execution.side],
        formats.prices[execution.price],
        formats.quantities[execution.quantity],
        execution.liquidity,
        execution.fee,
        execution.ts,
        execution.sequence,
    )


def _position_row(event: PositionChanged, formats: _Formats) -> Row:
    return (
        event.account,
        event.symbol,
        formats.quantities[event.net_quantity],
        event.open_cost,
        event.realized_pnl,
        event.fees_paid,
        event.cash,
        event.sequence,
        event.ts,
    )


def _account_row(event: AccountChanged) -> Row:
    return (
        event.account,
        event.name,
        _ACCOUNT_STATES[event.state],
        event.maker_fee_bps,
        event.taker_fee_bps,
        event.cash,
        event.sequence,
        event.ts,
    )


def _account_cash_rows(events: Iterable[PositionChanged]) -> list[Row]:
    newest: dict[int, PositionChanged] = {}
    for event in events:
        kept = newest.get(event.account)
        if kept is None or kept.sequence < event.sequence:
            newest[event.account] = event
    return [(event.account, event.cash, event.sequence, event.ts) for event in newest.values()]
