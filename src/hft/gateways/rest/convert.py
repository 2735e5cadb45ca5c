"""Between the API's decimals and names and the core's integers: requests in, responses out.

Every way a request can be malformed ends here as an ``InputError`` with a
stable code and a message, before anything is journaled.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final, TypeVar, cast

import msgspec

from hft.core import rejects
from hft.core.fixedpoint import Rejection, UnitText, to_units
from hft.domain.commands import AmendOrder, SubmitOrder
from hft.domain.exchange.money import MAX_CASH_UNITS, QUANTITY_SCALE, average_price, cash_to_decimal
from hft.domain.exchange.queries import AccountView, PositionView
from hft.domain.exchange.risk import RiskLimits
from hft.domain.instruments import Instrument
from hft.domain.matching.validation import check_new_order
from hft.domain.orders import (
    GTD,
    ORDER_TYPE_NAMES,
    ORDER_TYPES_BY_NAME,
    SIDE_NAMES,
    SIDES_BY_NAME,
    STP_BY_NAME,
    TIME_IN_FORCE_NAMES,
    TIMES_IN_FORCE_BY_NAME,
)
from hft.domain.views import LevelView
from hft.gateways.rest import schemas
from hft.service.history import Execution, OrderState
from hft.service.market import Trade

CASH_UNIT: Final = Decimal(1).scaleb(-8)
T = TypeVar("T")


class InputError(Exception):
    """A request the API refuses before it reaches the core: ``status`` 4xx, a stable ``code``, a message."""

    def __init__(self, code: str, message: str, status: int = 422, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.headers = headers


def _refuse(rejection: Rejection, field: str) -> InputError:
    return InputError(rejects.reject_name(rejection.code), f"{field}: {rejection.text}")


def price_ticks(instrument: Instrument, value: Decimal, field: str = "price") -> int:
    """Return ``value`` in ticks of ``instrument``, or raise ``InputError``."""
    ticks = instrument.price_to_ticks(value)
    if isinstance(ticks, Rejection):
        raise _refuse(ticks, field)
    return ticks


def quantity_lots(instrument: Instrument, value: Decimal, field: str = "quantity") -> int:
    """Return ``value`` in lots of ``instrument``, or raise ``InputError``."""
    lots = instrument.quantity_to_lots(value)
    if isinstance(lots, Rejection):
        raise _refuse(lots, field)
    return lots


def cash_units(value: Decimal, field: str, allow_negative: bool = False) -> int:
    """Return a money amount in cash units (8 decimals, at most 1e10 in size), or raise ``InputError``."""
    units = to_units(value, CASH_UNIT, rejects.INVALID_NUMBER, rejects.INVALID_NUMBER, MAX_CASH_UNITS)
    if isinstance(units, Rejection):
        raise InputError("INVALID_AMOUNT", f"{field}: a number with at most 8 decimals, at most 1e10 in size")
    if units < 0 and not allow_negative:
        raise InputError("INVALID_AMOUNT", f"{field}: must not be negative")
    return units


def decode_body(body: bytes, content_type: str | None, kind: type[T]) -> T:
    """Decode a JSON request body exactly (decimals never pass through a float); raise ``InputError`` if malformed.

    Refuses a content type other than JSON (415), keys named twice, amounts written with digit separators, and
    anything ``kind`` does not accept (400/422).
    """
    if content_type is not None and not content_type.lower().startswith("application/json"):
        raise InputError("UNSUPPORTED_MEDIA_TYPE", "send the body as Content-Type: application/json", status=415)
    written = read_json(body)
    try:
        decoded = msgspec.json.decode(body, type=kind)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as error:
        raise InputError("INVALID_REQUEST", _decode_message(error), status=400) from error
    if b"_" in body and isinstance(written, dict):
        _refuse_digit_separators(written, decoded)
    return decoded


def _refuse_digit_separators(written: dict[str, Any], decoded: Any) -> None:
    """Refuse ``"1_000"`` as an amount: Python's Decimal reads it as 1000, which no client means to send."""
    for name in decoded.__struct_fields__:  # (msgspec.structs.fields evaluates every annotation on each call)
        value = written.get(name)
        if isinstance(value, str) and "_" in value and isinstance(getattr(decoded, name), Decimal):
            raise InputError("INVALID_NUMBER", f"{name}: write numbers without digit separators")


def _decode_message(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return "the body is not valid UTF-8"
    if isinstance(error, RecursionError):
        return "the body is nested too deeply"
    return str(error)


def read_json(body: bytes) -> Any:
    """Return the body as plain JSON values, refusing (400) an object that names a key twice; None if malformed.

    Quick when the body has no escapes: every key and string value is a JSON
    string, so if the decoded body holds as many strings as the text has
    pairs of quotes, no key was dropped as a duplicate. Otherwise the
    standard library's parser reports each object's pairs.
    """
    if b"\\" not in body:
        try:
            decoded = msgspec.json.decode(body)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            pass  # numbers beyond a float, say: the standard library's parser takes them
        else:
            if body.count(b'"') == 2 * _strings_in(decoded):
                return decoded

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        if len(keys) != len(set(keys)):
            raise InputError("DUPLICATE_KEY", "the JSON body names a key twice", status=400)
        return dict(pairs)

    try:
        return json.loads(body, object_pairs_hook=pairs_hook, parse_constant=_no_constant)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None  # malformed JSON is reported by the typed decoder, with its position


def _strings_in(value: Any) -> int:
    if isinstance(value, str):
        return 1
    if isinstance(value, dict):
        return len(value) + sum(_strings_in(item) for item in value.values())
    if isinstance(value, list):
        return sum(_strings_in(item) for item in value)
    return 0


def _no_constant(name: str) -> None:
    raise InputError("INVALID_NUMBER", f"{name} is not a number", status=400)


def submit_command(request: schemas.OrderRequest, account: int, instrument: Instrument, now_ns: int) -> SubmitOrder:
    """Build the ``SubmitOrder`` for ``request``; raise ``InputError`` for whatever the engine refuses statically."""
    order_type = ORDER_TYPES_BY_NAME[request.order_type]
    quantity = quantity_lots(instrument, request.quantity)
    price = 0 if request.price is None else price_ticks(instrument, request.price)
    stop_price = 0 if request.stop_price is None else price_ticks(instrument, request.stop_price, "stop_price")
    display = 0
    if request.display_quantity is not None:
        display = quantity_lots(instrument, request.display_quantity, "display_quantity")
    expire_ts = 0
    if request.expire_time is not None:
        expire_ts = _timestamp_ns(request.expire_time)
    time_in_force = TIMES_IN_FORCE_BY_NAME[request.time_in_force]
    if time_in_force == GTD and request.expire_time is None:
        raise InputError("INVALID_EXPIRE_TIME", "expire_time is required for GTD orders")
    command = SubmitOrder(
        0,
        account,
        request.symbol,
        SIDES_BY_NAME[request.side],
        quantity,
        price,
        order_type,
        time_in_force,
        stop_price,
        display,
        request.post_only,
        STP_BY_NAME[request.stp],
        expire_ts,
        request.client_order_id,
    )
    code = check_new_order(command, instrument, now_ns)
    if code:
        raise InputError(rejects.reject_name(code), rejects.reject_text(code))
    return command


def amend_command(request: schemas.AmendRequest, order: OrderState, instrument: Instrument) -> AmendOrder:
    """Build the ``AmendOrder`` for ``request`` on ``order`` (what it leaves out stays); raise ``InputError``."""
    quantity = order.quantity if request.quantity is None else quantity_lots(instrument, request.quantity)
    price = order.price if request.price is None else price_ticks(instrument, request.price)
    stop_price = order.stop_price
    if request.stop_price is not None:
        stop_price = price_ticks(instrument, request.stop_price, "stop_price")
    if (quantity, price, stop_price) == (order.quantity, order.price, order.stop_price):
        raise InputError("AMEND_CHANGES_NOTHING", "give a quantity, price or stop_price different from the order's")
    return AmendOrder(order.order_id, order.account, quantity, price, stop_price)


def _timestamp_ns(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise InputError("INVALID_EXPIRE_TIME", "expire_time needs a time zone (for example 2030-01-01T00:00:00Z)")
    if not datetime(1970, 1, 1, tzinfo=UTC) < moment < datetime(2262, 1, 1, tzinfo=UTC):
        raise InputError("INVALID_EXPIRE_TIME", "expire_time is out of range")
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def moment(ts: int) -> datetime:
    """Turn engine nanoseconds into an aware UTC datetime (microsecond precision)."""
    return datetime.fromtimestamp(ts // 1_000 / 1_000_000, UTC)


def _text(value: Decimal) -> str:
    return format(value, "f")  # never exponent notation


_FORMATS: dict[tuple[Decimal, Decimal], tuple[UnitText, UnitText]] = {}


def _formats(instrument: Instrument) -> tuple[UnitText, UnitText]:
    grid = (instrument.tick_size, instrument.lot_size)
    found = _FORMATS.get(grid)
    if found is None:
        found = _FORMATS[grid] = (UnitText(instrument.tick_size), UnitText(instrument.lot_size))
    return found


def price_text(instrument: Instrument, ticks: int) -> str:
    """Return ``ticks`` of ``instrument`` as decimal price text."""
    return _formats(instrument)[0].text(ticks)


def quantity_text(instrument: Instrument, lots: int) -> str:
    """Return ``lots`` of ``instrument`` as decimal quantity text."""
    return _formats(instrument)[1].text(lots)


def levels_text(instrument: Instrument, levels: Iterable[LevelView]) -> list[tuple[str, str]]:
    """Return L2 levels as ``(price, quantity)`` text pairs."""
    prices, quantities = _formats(instrument)
    return [(prices.text(level.price), quantities.text(level.quantity)) for level in levels]


def order_response(order: OrderState, instrument: Instrument) -> schemas.OrderResponse:
    """Describe ``order`` for its owner."""
    prices, quantities = _formats(instrument)
    price = prices.text
    lots = quantities.text
    average = None
    if order.filled:
        average = _text((Decimal(order.filled_notional) / order.filled * instrument.tick_size).normalize())
    return schemas.OrderResponse(
        order_id=order.order_id,
        client_order_id=order.client_order_id or None,
        symbol=order.symbol,
        side=cast(schemas.Side, SIDE_NAMES[order.side]),
        order_type=cast(schemas.OrderType, ORDER_TYPE_NAMES[order.order_type]),
        time_in_force=cast(schemas.TimeInForce, TIME_IN_FORCE_NAMES[order.time_in_force]),
        price=price(order.price) if order.price else None,
        stop_price=price(order.stop_price) if order.stop_price else None,
        quantity=lots(order.quantity),
        filled_quantity=lots(order.filled),
        leaves_quantity=lots(order.leaves),
        avg_fill_price=average,
        display_quantity=lots(order.display_quantity) if order.display_quantity else None,
        post_only=order.post_only,
        expire_time=moment(order.expire_ts) if order.expire_ts else None,
        status=cast(schemas.OrderStatus, order.status),
        reject_reason=order.reject_reason,
        reject_message=rejects.reject_text(order.reject_code) if order.reject_code else None,
        cancel_reason=order.cancel_reason_name,
        created_at=moment(order.created_ts),
        updated_at=moment(order.updated_ts),
    )


def execution_response(execution: Execution, instrument: Instrument) -> schemas.ExecutionResponse:
    """Describe one fill for its account."""
    return schemas.ExecutionResponse(
        execution_id=execution.execution_id,
        trade_id=execution.trade_id,
        order_id=execution.order_id,
        symbol=execution.symbol,
        side=cast(schemas.Side, SIDE_NAMES[execution.side]),
        price=price_text(instrument, execution.price),
        quantity=quantity_text(instrument, execution.quantity),
        liquidity=cast(Any, execution.liquidity),
        fee=_text(cash_to_decimal(execution.fee)),
        timestamp=moment(execution.ts),
    )


def trade_response(trade: Trade, instrument: Instrument) -> schemas.TradeResponse:
    """Describe a public trade print."""
    return schemas.TradeResponse(
        trade_id=trade.trade_id,
        symbol=trade.symbol,
        price=price_text(instrument, trade.price),
        quantity=quantity_text(instrument, trade.quantity),
        side=cast(schemas.Side, SIDE_NAMES[trade.aggressor_side]),
        timestamp=moment(trade.ts),
    )


def position_response(position: PositionView, instrument: Instrument) -> schemas.PositionResponse:
    """Describe a position and its P&L."""
    average = average_price(position.open_cost, position.net, instrument.lot_size)
    return schemas.PositionResponse(
        symbol=position.symbol,
        quantity=_text(instrument.lots_to_quantity(position.net)),
        avg_price=None if average is None else _text(average),
        realized_pnl=_text(cash_to_decimal(position.realized)),
        unrealized_pnl=_text(cash_to_decimal(position.unrealized)),
        mark_price=_text(instrument.ticks_to_price(position.mark)) if position.mark else None,
        fees=_text(cash_to_decimal(position.fees)),
        volume=_text(instrument.lots_to_quantity(position.volume)),
    )


def _plain(value: Decimal) -> Decimal:
    """The same number without trailing zeros and without an exponent (it is sent as text)."""
    return Decimal(format(value.normalize(), "f"))


def limits_body(limits: RiskLimits) -> schemas.RiskLimitsBody:
    """Describe risk limits in user units."""
    return schemas.RiskLimitsBody(
        max_order_quantity=_plain(Decimal(limits.max_order_quantity).scaleb(-8)),
        max_order_notional=_plain(cash_to_decimal(limits.max_order_notional)),
        price_collar_bps=limits.price_collar_bps,
        max_open_orders=limits.max_open_orders,
        max_position=_plain(Decimal(limits.max_position).scaleb(-8)),
        max_orders_per_second=limits.max_orders_per_second,
    )


def limits_from(body: schemas.RiskLimitsBody) -> RiskLimits:
    """Turn user-unit limits into core units, or raise ``InputError``."""
    quantity = to_units(body.max_order_quantity, Decimal(1) / QUANTITY_SCALE, 0, 0)
    position = to_units(body.max_position, Decimal(1) / QUANTITY_SCALE, 0, 0)
    if isinstance(quantity, Rejection) or quantity < 0:
        raise InputError("INVALID_LIMIT", "max_order_quantity must be a non-negative number with at most 8 decimals")
    if isinstance(position, Rejection) or position < 0:
        raise InputError("INVALID_LIMIT", "max_position must be a non-negative number with at most 8 decimals")
    return RiskLimits(
        quantity,
        cash_units(body.max_order_notional, "max_order_notional"),
        body.price_collar_bps,
        body.max_open_orders,
        position,
        body.max_orders_per_second,
    )


def account_response(view: AccountView, by_symbol: dict[str, Instrument]) -> schemas.AccountResponse:
    """Describe an account with its positions."""
    return schemas.AccountResponse(
        account_id=view.account_id,
        name=view.name,
        state=cast(Any, {1: "ACTIVE", 2: "REDUCING", 3: "HALTED"}[view.state]),
        cash=_text(cash_to_decimal(view.cash)),
        credit_limit=_text(cash_to_decimal(view.credit_limit)),
        buying_power=_text(cash_to_decimal(view.buying_power)),
        equity=_text(cash_to_decimal(view.equity)),
        realized_pnl=_text(cash_to_decimal(view.realized)),
        unrealized_pnl=_text(cash_to_decimal(view.unrealized)),
        fees_paid=_text(cash_to_decimal(view.fees_paid)),
        maker_fee_bps=view.maker_fee_bps,
        taker_fee_bps=view.taker_fee_bps,
        open_orders=view.open_orders,
        kill_switch=view.kill_switch,
        risk_limits=limits_body(view.limits),
        positions=[
            position_response(position, by_symbol[position.symbol]) for position in view.positions if position.volume
        ],
    )
