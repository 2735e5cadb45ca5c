"""Request and response bodies of the REST API, as msgspec structs (they also make the OpenAPI schema).

Amounts are decimals: requests may send them as JSON numbers or strings,
responses always send strings so no precision is lost. Times are RFC 3339.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec

Side = Literal["BUY", "SELL"]
OrderType = Literal["LIMIT", "MARKET", "STOP", "STOP_LIMIT"]
TimeInForce = Literal["GTC", "IOC", "FOK", "DAY", "GTD"]
SelfTradePrevention = Literal[
    "DEFAULT", "NONE", "CANCEL_NEWEST", "CANCEL_OLDEST", "CANCEL_BOTH", "DECREMENT_AND_CANCEL"
]
OrderStatus = Literal["NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "REJECTED", "EXPIRED"]
ClientOrderId = Annotated[str, msgspec.Meta(max_length=64, pattern=r"^[!-~]*$")]
Symbol = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class OrderRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new order. ``price`` is required for LIMIT and STOP_LIMIT, ``stop_price`` for STOP and STOP_LIMIT."""

    symbol: Symbol
    side: Side
    quantity: Decimal
    order_type: OrderType = "LIMIT"
    price: Decimal | None = None
    client_order_id: ClientOrderId = ""
    time_in_force: TimeInForce = "GTC"
    stop_price: Decimal | None = None
    post_only: bool = False
    display_quantity: Decimal | None = None
    # Required for GTD, refused otherwise.
    expire_time: datetime | None = None
    stp: SelfTradePrevention = "DEFAULT"


class AmendRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """New values for a working order; at least one. ``quantity`` is the new total, filled part included."""

    quantity: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None


class OrderResponse(msgspec.Struct, kw_only=True):
    """An order as it stands after everything its command caused (an order that crossed comes back FILLED)."""

    order_id: int
    client_order_id: str | None
    symbol: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    price: str | None
    stop_price: str | None
    quantity: str
    filled_quantity: str
    leaves_quantity: str
    avg_fill_price: str | None
    display_quantity: str | None
    post_only: bool
    expire_time: datetime | None
    status: OrderStatus
    reject_reason: str | None
    reject_message: str | None
    cancel_reason: str | None
    created_at: datetime
    updated_at: datetime


class OrderList(msgspec.Struct):
    """A page of orders, newest first; pass ``next_before`` as ``before`` for the next page."""

    orders: list[OrderResponse]
    next_before: int | None


class MassCancelResult(msgspec.Struct):
    """The orders a mass cancel took out of the book."""

    canceled: int
    order_ids: list[int]


class ExecutionResponse(msgspec.Struct, kw_only=True):
    """One fill of one of the account's orders; ``fee`` is in the quote currency."""

    execution_id: int
    trade_id: int
    order_id: int
    symbol: str
    side: Side
    price: str
    quantity: str
    liquidity: Literal["MAKER", "TAKER"]
    fee: str
    timestamp: datetime


class ExecutionList(msgspec.Struct):
    """A page of executions, newest first; pass ``next_before`` as ``before`` for the next page."""

    executions: list[ExecutionResponse]
    next_before: int | None


class PositionResponse(msgspec.Struct, kw_only=True):
    """A position with its P&L (money in the quote currency); ``mark_price`` null until the symbol trades."""

    symbol: str
    quantity: str
    avg_price: str | None
    realized_pnl: str
    unrealized_pnl: str
    mark_price: str | None
    fees: str
    volume: str


class RiskLimitsBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Risk limits; 0 means no limit. Quantities in the instrument's unit, notional in the quote currency."""

    max_order_quantity: Decimal = Decimal(0)
    max_order_notional: Decimal = Decimal(0)
    price_collar_bps: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 0
    max_open_orders: Annotated[int, msgspec.Meta(ge=0, le=10**9)] = 0
    max_position: Decimal = Decimal(0)
    max_orders_per_second: Annotated[int, msgspec.Meta(ge=0, le=10**9)] = 0


class AccountResponse(msgspec.Struct, kw_only=True):
    """The account's balances, risk state and totals (money in the quote currency)."""

    account_id: int
    name: str
    state: Literal["ACTIVE", "REDUCING", "HALTED"]
    cash: str
    credit_limit: str
    buying_power: str
    equity: str
    realized_pnl: str
    unrealized_pnl: str
    fees_paid: str
    maker_fee_bps: int
    taker_fee_bps: int
    open_orders: int
    kill_switch: bool
    risk_limits: RiskLimitsBody
    positions: list[PositionResponse]


class InstrumentResponse(msgspec.Struct, kw_only=True):
    """A listed instrument and its price and size grid."""

    symbol: str
    tick_size: str
    lot_size: str
    min_quantity: str
    max_quantity: str
    max_price: str
    halted: bool


class BookResponse(msgspec.Struct, kw_only=True):
    """L2 depth, best first: ``[price, quantity]`` pairs; ``sequence`` matches the WebSocket book channel."""

    symbol: str
    bids: list[tuple[str, str]]
    asks: list[tuple[str, str]]
    sequence: int


class TradeResponse(msgspec.Struct, kw_only=True):
    """A public trade print; ``side`` is the aggressor's."""

    trade_id: int
    symbol: str
    price: str
    quantity: str
    side: Side
    timestamp: datetime


class TickerResponse(msgspec.Struct, kw_only=True):
    """Best bid and ask, last trade and the figures since the venue started."""

    symbol: str
    bid: str | None
    bid_quantity: str | None
    ask: str | None
    ask_quantity: str | None
    last: str | None
    open: str | None
    high: str | None
    low: str | None
    volume: str
    trades: int


class ErrorResponse(msgspec.Struct, kw_only=True):
    """What went wrong: a stable ``error`` code and a human ``message``."""

    error: str
    message: str
    details: list[dict[str, str]] | None = None


class NewAccountRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An account to open: a name, and optionally a starting cash balance, credit and fees."""

    name: Name
    cash: Decimal = Decimal(0)
    credit_limit: Decimal = Decimal(0)
    maker_fee_bps: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 0
    taker_fee_bps: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 0


class NewAccountResponse(msgspec.Struct, kw_only=True):
    """The new account and its API key: store the key now, it is never shown again."""

    account_id: int
    name: str
    api_key: str


class ApiKeyResponse(msgspec.Struct, kw_only=True):
    """A new API key for the account; the old one no longer works."""

    account_id: int
    api_key: str


class SwitchRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Engage (true) or release (false)."""

    engaged: bool


class HaltRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Halt (true) or resume (false) trading in a symbol."""

    halted: bool


class CashRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A deposit (positive) or withdrawal (negative), in the quote currency."""

    amount: Decimal


class AccountStateRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The account's trading state: ACTIVE, REDUCING (only orders that reduce positions) or HALTED."""

    state: Literal["ACTIVE", "REDUCING", "HALTED"]


class HealthResponse(msgspec.Struct, kw_only=True):
    """``status`` is ok when trading is possible; each component reports its own."""

    status: Literal["ok", "degraded", "down"]
    components: dict[str, dict[str, object]]
    uptime_seconds: float
