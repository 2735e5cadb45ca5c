"""The event-stream schema: one message per engine event, versioned JSON, keyed for per-symbol order.

Every message is a JSON object with ``schema`` (this version, 1), ``type``
(the event's name), ``sequence`` (the engine's event sequence: strictly
increasing over all events, the message id brokers and consumers
de-duplicate on), ``command_sequence`` (the journaled command that caused
it) and ``ts`` (nanoseconds since the epoch, stamped by the sequencer), then
the event's own fields. Prices, quantities and cash are decimal strings;
sides, order types and reasons are names. Version 1 only ever gains
fields; a change that removes or re-types one is version 2.

Streams: ``orders`` (order life cycle), ``executions`` (every fill, with both
accounts), ``market-data`` (book levels, public trades, halts, marks) and
``accounts`` (balances, positions, keys, limits, kill switches, refusals).
A trade appears twice, in full on ``executions`` and without accounts as a
``Trade`` on ``market-data``, with the same sequence. Keys are the symbol,
except on ``accounts`` (the account id) and for refusals of commands that
name no symbol (``_``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Final, NamedTuple

import msgspec

from hft.core.fixedpoint import UnitText
from hft.domain import events as engine
from hft.domain.exchange import events as exchange
from hft.domain.exchange.accounts import ACCOUNT_STATE_NAMES
from hft.domain.exchange.money import cash_to_decimal, quantity_to_decimal
from hft.domain.exchange.risk import RiskLimits as Limits
from hft.domain.instruments import Instrument
from hft.domain.orders import ORDER_TYPE_NAMES, SIDE_NAMES, STP_NAMES, TIME_IN_FORCE_NAMES
from hft.engine.core import Ack

SCHEMA_VERSION: Final = 1
ORDERS: Final = "orders"
EXECUTIONS: Final = "executions"
MARKET_DATA: Final = "market-data"
ACCOUNTS: Final = "accounts"
STREAMS: Final = (ORDERS, EXECUTIONS, MARKET_DATA, ACCOUNTS)
NO_SYMBOL_KEY: Final = "_"


class Message(NamedTuple):
    """One encoded event on its way to a stream."""

    stream: str
    key: str
    sequence: int  # the event sequence: the message id
    ts: int  # when the sequencer stamped the command (ns since the epoch)
    payload: bytes


Keep = Callable[[str, str, int], bool]


class StreamEvent(msgspec.Struct, tag_field="type", kw_only=True, omit_defaults=False):
    """Fields every message has."""

    schema: int = SCHEMA_VERSION
    sequence: int
    command_sequence: int
    ts: int


class OrderAccepted(StreamEvent, tag=True):
    order_id: int
    account: int
    symbol: str
    client_order_id: str
    side: str
    order_type: str
    time_in_force: str
    price: str | None
    quantity: str
    stop_price: str | None
    display_quantity: str | None


class OrderRejected(StreamEvent, tag=True):
    order_id: int
    account: int
    symbol: str | None
    client_order_id: str | None
    reason: str
    text: str


class OrderCancelled(StreamEvent, tag=True):
    order_id: int
    account: int
    symbol: str
    reason: str
    cancelled_quantity: str


class OrderReduced(StreamEvent, tag=True):
    order_id: int
    account: int
    symbol: str
    reduced_by: str
    quantity: str
    leaves_quantity: str


class OrderReplaced(StreamEvent, tag=True):
    order_id: int
    account: int
    symbol: str
    price: str | None
    stop_price: str | None
    quantity: str
    leaves_quantity: str
    priority_kept: bool


class StopTriggered(StreamEvent, tag=True):
    order_id: int
    account: int
    symbol: str
    trigger_price: str


class TradeExecuted(StreamEvent, tag=True):
    trade_id: int
    symbol: str
    price: str
    quantity: str
    aggressor_side: str
    taker_order_id: int
    taker_account: int
    taker_leaves_quantity: str
    maker_order_id: int
    maker_account: int
    maker_leaves_quantity: str


class Trade(StreamEvent, tag=True):
    trade_id: int
    symbol: str
    price: str
    quantity: str
    aggressor_side: str


class BookLevelChanged(StreamEvent, tag=True):
    symbol: str
    side: str
    price: str
    quantity: str
    order_count: int


class InstrumentHaltSet(StreamEvent, tag=True):
    symbol: str
    halted: bool


class MarkPriceSet(StreamEvent, tag=True):
    symbol: str
    price: str | None


class AccountChanged(StreamEvent, tag=True):
    account: int
    name: str
    cash: str
    credit_limit: str
    maker_fee_bps: int
    taker_fee_bps: int
    state: str


class PositionChanged(StreamEvent, tag=True):
    account: int
    symbol: str
    net_quantity: str
    open_cost: str
    realized_pnl: str
    fees_paid: str
    cash: str


class ApiKeyChanged(StreamEvent, tag=True):
    account: int


class RiskLimitsSet(StreamEvent, tag=True):
    account: int
    limits: dict[str, str | int] | None


class KillSwitchSet(StreamEvent, tag=True):
    account: int
    engaged: bool


class SelfTradePreventionSet(StreamEvent, tag=True):
    account: int
    mode: str


class CommandRejected(StreamEvent, tag=True):
    account: int
    reason: str
    text: str


AnyEvent = (
    OrderAccepted
    | OrderRejected
    | OrderCancelled
    | OrderReduced
    | OrderReplaced
    | StopTriggered
    | TradeExecuted
    | Trade
    | BookLevelChanged
    | InstrumentHaltSet
    | MarkPriceSet
    | AccountChanged
    | PositionChanged
    | ApiKeyChanged
    | RiskLimitsSet
    | KillSwitchSet
    | SelfTradePreventionSet
    | CommandRejected
)

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(AnyEvent)


def decode(payload: bytes) -> AnyEvent:
    """Decode one message (raises ``msgspec.ValidationError`` or ``msgspec.DecodeError`` if it is not one)."""
    event: AnyEvent = _decoder.decode(payload)
    return event


def json_schema() -> dict[str, object]:
    """Return the JSON Schema of every message type (what ``docs/concepts/streams.md`` documents)."""
    return msgspec.json.schema(AnyEvent)


class MessageEncoder:
    """Turns ack batches into stream messages, in event-sequence order. O(events)."""

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        self._formats: Mapping[str, tuple[UnitText, UnitText]] = {
            instrument.symbol: (UnitText(instrument.tick_size), UnitText(instrument.lot_size))
            for instrument in instruments
        }

    def encode(self, acks: Iterable[Ack], keep: Keep | None = None) -> list[Message]:
        """Return the messages of ``acks`` in order; only those ``keep(stream, key, sequence)`` accepts, if given."""
        messages: list[Message] = []
        append = messages.append
        encode = _encoder.encode
        for ack in acks:
            for event in ack.events:
                for stream, key, record in self._records(ack, event):
                    if keep is None or keep(stream, key, event.sequence):
                        append(Message(stream, key, event.sequence, ack.ts, encode(record)))
        return messages

    def _records(self, ack: Ack, event: engine.Event) -> list[tuple[str, str, StreamEvent]]:
        common = {"sequence": event.sequence, "command_sequence": ack.sequence, "ts": ack.ts}
        if isinstance(event, engine.TradeExecuted):
            return self._trade(event, common)
        if isinstance(event, engine.BookLevelChanged):
            prices, lots = self._formats[event.symbol]
            level = BookLevelChanged(
                **common,
                symbol=event.symbol,
                side=SIDE_NAMES[event.side],
                price=prices.text(event.price),
                quantity=lots.text(event.quantity),
                order_count=event.order_count,
            )
            return [(MARKET_DATA, event.symbol, level)]
        if isinstance(event, engine.OrderAccepted | engine.OrderRejected | engine.OrderCancelled):
            return [self._order_record(ack, event, common)]
        if isinstance(event, engine.OrderReduced | engine.OrderReplaced | engine.StopTriggered):
            return [self._order_change_record(event, common)]
        if isinstance(event, exchange.PositionChanged):
            lots = self._formats[event.symbol][1]
            position = PositionChanged(
                **common,
                account=event.account,
                symbol=event.symbol,
                net_quantity=lots.text(event.net_quantity),
                open_cost=_cash(event.open_cost),
                realized_pnl=_cash(event.realized_pnl),
                fees_paid=_cash(event.fees_paid),
                cash=_cash(event.cash),
            )
            return [(ACCOUNTS, str(event.account), position)]
        return [self._status_record(event, common)]

    def _trade(self, event: engine.TradeExecuted, common: dict[str, int]) -> list[tuple[str, str, StreamEvent]]:
        prices, lots = self._formats[event.symbol]
        price = prices.text(event.price)
        quantity = lots.text(event.quantity)
        side = SIDE_NAMES[event.aggressor_side]
        full = TradeExecuted(
            **common,
            trade_id=event.trade_id,
            symbol=event.symbol,
            price=price,
            quantity=quantity,
            aggressor_side=side,
            taker_order_id=event.taker_order_id,
            taker_account=event.taker_account,
            taker_leaves_quantity=lots.text(event.taker_leaves),
            maker_order_id=event.maker_order_id,
            maker_account=event.maker_account,
            maker_leaves_quantity=lots.text(event.maker_leaves),
        )
        public = Trade(
            **common, trade_id=event.trade_id, symbol=event.symbol, price=price, quantity=quantity, aggressor_side=side
        )
        return [(EXECUTIONS, event.symbol, full), (MARKET_DATA, event.symbol, public)]

    def _order_record(
        self,
        ack: Ack,
        event: engine.OrderAccepted | engine.OrderRejected | engine.OrderCancelled,
        common: dict[str, int],
    ) -> tuple[str, str, StreamEvent]:
        if isinstance(event, engine.OrderAccepted):
            prices, lots = self._formats[event.symbol]
            accepted = OrderAccepted(
                **common,
                order_id=event.order_id,
                account=event.account,
                symbol=event.symbol,
                client_order_id=event.client_order_id,
                side=SIDE_NAMES[event.side],
                order_type=ORDER_TYPE_NAMES[event.order_type],
                time_in_force=TIME_IN_FORCE_NAMES[event.time_in_force],
                price=prices.text(event.price) if event.price else None,
                quantity=lots.text(event.quantity),
                stop_price=prices.text(event.stop_price) if event.stop_price else None,
                display_quantity=lots.text(event.display_quantity) if event.display_quantity else None,
            )
            return ORDERS, event.symbol, accepted
        if isinstance(event, engine.OrderCancelled):
            cancelled = OrderCancelled(
                **common,
                order_id=event.order_id,
                account=event.account,
                symbol=event.symbol,
                reason=engine.CANCEL_REASON_NAMES.get(event.reason, str(event.reason)),
                cancelled_quantity=self._formats[event.symbol][1].text(event.cancelled_quantity),
            )
            return ORDERS, event.symbol, cancelled
        symbol = getattr(ack.command, "symbol", "") or None
        client_order_id = getattr(ack.command, "client_order_id", "") or None
        rejected = OrderRejected(
            **common,
            order_id=event.order_id,
            account=event.account,
            symbol=symbol,
            client_order_id=client_order_id,
            reason=event.reason,
            text=event.text,
        )
        return ORDERS, symbol or NO_SYMBOL_KEY, rejected

    def _order_change_record(
        self, event: engine.OrderReduced | engine.OrderReplaced | engine.StopTriggered, common: dict[str, int]
    ) -> tuple[str, str, StreamEvent]:
        prices, lots = self._formats[event.symbol]
        record: StreamEvent
        if isinstance(event, engine.OrderReduced):
            record = OrderReduced(
                **common,
                order_id=event.order_id,
                account=event.account,
                symbol=event.symbol,
                reduced_by=lots.text(event.reduced_by),
                quantity=lots.text(event.quantity),
                leaves_quantity=lots.text(event.leaves),
            )
        elif isinstance(event, engine.OrderReplaced):
            record = OrderReplaced(
                **common,
                order_id=event.order_id,
                account=event.account,
                symbol=event.symbol,
                price=prices.text(event.price) if event.price else None,
                stop_price=prices.text(event.stop_price) if event.stop_price else None,
                quantity=lots.text(event.quantity),
                leaves_quantity=lots.text(event.leaves),
                priority_kept=event.priority_kept,
            )
        else:
            record = StopTriggered(
                **common,
                order_id=event.order_id,
                account=event.account,
                symbol=event.symbol,
                trigger_price=prices.text(event.trigger_price),
            )
        return ORDERS, event.symbol, record

    def _status_record(self, event: engine.Event, common: dict[str, int]) -> tuple[str, str, StreamEvent]:
        if isinstance(event, exchange.InstrumentHaltSet):
            return MARKET_DATA, event.symbol, InstrumentHaltSet(**common, symbol=event.symbol, halted=event.halted)
        if isinstance(event, exchange.MarkPriceSet):
            price = self._formats[event.symbol][0].text(event.price) if event.price else None
            return MARKET_DATA, event.symbol, MarkPriceSet(**common, symbol=event.symbol, price=price)
        record: StreamEvent
        if isinstance(event, exchange.AccountChanged):
            record = AccountChanged(
                **common,
                account=event.account,
                name=event.name,
                cash=_cash(event.cash),
                credit_limit=_cash(event.credit_limit),
                maker_fee_bps=event.maker_fee_bps,
                taker_fee_bps=event.taker_fee_bps,
                state=ACCOUNT_STATE_NAMES.get(event.state, str(event.state)),
            )
        elif isinstance(event, exchange.ApiKeyChanged):
            record = ApiKeyChanged(**common, account=event.account)
        elif isinstance(event, exchange.RiskLimitsSet):
            record = RiskLimitsSet(**common, account=event.account, limits=_limits(event.limits))
        elif isinstance(event, exchange.KillSwitchSet):
            record = KillSwitchSet(**common, account=event.account, engaged=event.engaged)
        elif isinstance(event, engine.SelfTradePreventionSet):
            record = SelfTradePreventionSet(**common, account=event.account, mode=STP_NAMES[event.mode])
        elif isinstance(event, exchange.CommandRejected):
            record = CommandRejected(**common, account=event.account, reason=event.reason, text=event.text)
        else:
            raise TypeError(f"no stream message for {type(event).__name__}")
        return ACCOUNTS, str(record.account), record


def _cash(units: int) -> str:
    return _plain(cash_to_decimal(units))


def _plain(value: Decimal) -> str:
    return format(value, "f")


def _limits(limits: Limits | None) -> dict[str, str | int] | None:
    if limits is None:
        return None
    return {
        "max_order_quantity": _plain(quantity_to_decimal(limits.max_order_quantity)),
        "max_order_notional": _cash(limits.max_order_notional),
        "price_collar_bps": limits.price_collar_bps,
        "max_open_orders": limits.max_open_orders,
        "max_position": _plain(quantity_to_decimal(limits.max_position)),
        "max_orders_per_second": limits.max_orders_per_second,
    }
