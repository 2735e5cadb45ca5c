"""Between the gRPC messages and the REST API's bodies: requests in, responses out.

Requests are turned into the JSON body REST would receive and decoded by the REST decoder, so every rule
(exact decimals, tick and lot grids, NaN, digit separators, lengths, enums, defaults) and every error code
and message are the same by construction. Responses are built from the REST responses, so amounts are
spelled the same way; only times differ: nanoseconds here, RFC 3339 there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar, cast

import msgspec
from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

from hft.domain.exchange.queries import AccountView, PositionView
from hft.domain.instruments import Instrument
from hft.domain.orders import SIDE_NAMES as DOMAIN_SIDE_NAMES
from hft.gateways.book import Levels
from hft.gateways.grpc.v1 import trading_pb2 as pb
from hft.gateways.rest import convert, schemas
from hft.gateways.rest.convert import InputError
from hft.service.history import Execution, OrderState
from hft.service.market import Trade

T = TypeVar("T")
E = TypeVar("E", bound=int)
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def _numbers(enum: type[E], prefix: str) -> dict[str, E]:
    """Map the REST name of each value of a proto enum but the unspecified one to it (``BUY`` -> ``SIDE_BUY``)."""
    values = cast(EnumTypeWrapper, enum).DESCRIPTOR.values  # (a generated enum is a wrapper at run time)
    return {value.name.removeprefix(prefix): cast(E, value.number) for value in values if value.number}


def _names(numbers: Mapping[str, int]) -> dict[int, str]:
    return {number: name for name, number in numbers.items()}


SIDES: Final = _numbers(pb.Side, "SIDE_")
ORDER_TYPES: Final = _numbers(pb.OrderType, "ORDER_TYPE_")
TIMES_IN_FORCE: Final = _numbers(pb.TimeInForce, "TIME_IN_FORCE_")
STATUSES: Final = _numbers(pb.OrderStatus, "ORDER_STATUS_")
LIQUIDITIES: Final = _numbers(pb.Liquidity, "LIQUIDITY_")
ACCOUNT_STATES: Final = _numbers(pb.AccountState, "ACCOUNT_STATE_")
SIDE_NAMES: Final = _names(SIDES)
ORDER_TYPE_NAMES: Final = _names(ORDER_TYPES)
TIME_IN_FORCE_NAMES: Final = _names(TIMES_IN_FORCE)
STP_NAMES: Final = _names(_numbers(pb.SelfTradePrevention, "SELF_TRADE_PREVENTION_"))
STATUS_NAMES: Final = _names(STATUSES)


# -- requests ------------------------------------------------------------------------------------------------------


def enum_name(names: Mapping[int, str], value: int, field: str) -> str | None:
    """Return the REST name of enum ``value`` (None for unspecified); raise ``InputError`` for an unknown number.

    The message is the one REST gives for an unknown name, with the number in its place.
    """
    if not value:
        return None
    name = names.get(value)
    if name is None:
        raise InputError("INVALID_REQUEST", f"Invalid enum value {value} - at `$.{field}`", status=400)
    return name


def order_request(request: pb.SubmitOrderRequest) -> schemas.OrderRequest:
    """Decode a SubmitOrderRequest as REST decodes its body; raise ``InputError`` with REST's code and message.

    An empty string or unspecified enum is a field not given: REST's default, or "missing required field".
    """
    body: dict[str, Any] = {}
    _put(body, "symbol", request.symbol)
    _put(body, "side", enum_name(SIDE_NAMES, request.side, "side"))
    _put(body, "quantity", request.quantity)
    _put(body, "order_type", enum_name(ORDER_TYPE_NAMES, request.order_type, "order_type"))
    _put(body, "client_order_id", request.client_order_id)
    _put(body, "time_in_force", enum_name(TIME_IN_FORCE_NAMES, request.time_in_force, "time_in_force"))
    _put(body, "stp", enum_name(STP_NAMES, request.stp, "stp"))
    for field in ("price", "stop_price", "display_quantity"):
        if request.HasField(field):
            body[field] = getattr(request, field)
    if request.post_only:
        body["post_only"] = True
    if request.HasField("expire_time_ns"):
        body["expire_time"] = _moment(request.expire_time_ns).isoformat()
    return _decode(body, schemas.OrderRequest)


def amend_request(request: pb.AmendOrderRequest) -> schemas.AmendRequest:
    """Decode an AmendOrderRequest's new values as REST decodes its body; raise ``InputError`` like REST."""
    body = {field: getattr(request, field) for field in ("quantity", "price", "stop_price") if request.HasField(field)}
    return _decode(body, schemas.AmendRequest)


def _put(body: dict[str, Any], field: str, value: str | None) -> None:
    if value:
        body[field] = value


def _moment(ns: int) -> datetime:
    if ns % 1000:
        raise InputError("INVALID_EXPIRE_TIME", "expire_time_ns must be a whole number of microseconds")
    return EPOCH + timedelta(microseconds=ns // 1000)


def _decode(body: dict[str, Any], kind: type[T]) -> T:
    # Through REST's own decoder, as JSON: the same rules and messages without a second implementation.
    return convert.decode_body(msgspec.json.encode(body), "application/json", kind)


def page_limit(limit: int, maximum: int) -> int:
    """Return a page size: 0 means the default (100); raise ``InputError`` outside 1..``maximum``."""
    if limit == 0:
        return 100
    if not 0 < limit <= maximum:
        raise InputError("INVALID_REQUEST", f"limit must be 1 to {maximum}", status=400)
    return limit


def page_before(before: int) -> int | None:
    """Return a paging cursor: 0 means from the newest; raise ``InputError`` for a negative one."""
    if before < 0:
        raise InputError("INVALID_REQUEST", "before must not be negative", status=400)
    return before or None


# -- responses -----------------------------------------------------------------------------------------------------


def order_message(order: OrderState, instrument: Instrument) -> pb.Order:
    """Describe ``order`` for its owner, spelled as REST spells it."""
    described = convert.order_response(order, instrument)
    return pb.Order(
        order_id=described.order_id,
        client_order_id=order.client_order_id,
        symbol=described.symbol,
        side=SIDES[described.side],
        order_type=ORDER_TYPES[described.order_type],
        time_in_force=TIMES_IN_FORCE[described.time_in_force],
        price=described.price,
        stop_price=described.stop_price,
        quantity=described.quantity,
        filled_quantity=described.filled_quantity,
        leaves_quantity=described.leaves_quantity,
        avg_fill_price=described.avg_fill_price,
        display_quantity=described.display_quantity,
        post_only=described.post_only,
        expire_time_ns=order.expire_ts or None,
        status=STATUSES[described.status],
        reject_reason=described.reject_reason,
        reject_message=described.reject_message,
        cancel_reason=described.cancel_reason,
        created_at_ns=order.created_ts,
        updated_at_ns=order.updated_ts,
    )


def execution_message(execution: Execution, instrument: Instrument) -> pb.Execution:
    """Describe one fill for its account."""
    described = convert.execution_response(execution, instrument)
    return pb.Execution(
        execution_id=described.execution_id,
        trade_id=described.trade_id,
        order_id=described.order_id,
        symbol=described.symbol,
        side=SIDES[described.side],
        price=described.price,
        quantity=described.quantity,
        liquidity=LIQUIDITIES[described.liquidity],
        fee=described.fee,
        timestamp_ns=execution.ts,
    )


def position_message(position: PositionView, instrument: Instrument) -> pb.Position:
    """Describe a position and its P&L."""
    return _position(convert.position_response(position, instrument))


def _position(described: schemas.PositionResponse) -> pb.Position:
    return pb.Position(
        symbol=described.symbol,
        quantity=described.quantity,
        avg_price=described.avg_price,
        realized_pnl=described.realized_pnl,
        unrealized_pnl=described.unrealized_pnl,
        mark_price=described.mark_price,
        fees=described.fees,
        volume=described.volume,
    )


def account_message(view: AccountView, by_symbol: dict[str, Instrument]) -> pb.Account:
    """Describe an account with its limits and positions."""
    described = convert.account_response(view, by_symbol)
    limits = described.risk_limits
    return pb.Account(
        account_id=described.account_id,
        name=described.name,
        state=ACCOUNT_STATES[described.state],
        cash=described.cash,
        credit_limit=described.credit_limit,
        buying_power=described.buying_power,
        equity=described.equity,
        realized_pnl=described.realized_pnl,
        unrealized_pnl=described.unrealized_pnl,
        fees_paid=described.fees_paid,
        maker_fee_bps=described.maker_fee_bps,
        taker_fee_bps=described.taker_fee_bps,
        open_orders=described.open_orders,
        kill_switch=described.kill_switch,
        risk_limits=pb.RiskLimits(
            max_order_quantity=str(limits.max_order_quantity),
            max_order_notional=str(limits.max_order_notional),
            price_collar_bps=limits.price_collar_bps,
            max_open_orders=limits.max_open_orders,
            max_position=str(limits.max_position),
            max_orders_per_second=limits.max_orders_per_second,
        ),
        positions=[_position(position) for position in described.positions],
    )


def levels(pairs: Levels) -> list[pb.Level]:
    """Turn ``(price, quantity)`` text pairs into Level messages."""
    return [pb.Level(price=price, quantity=quantity) for price, quantity in pairs]


def trades_event(symbol: str, trades: Iterable[Trade], instrument: Instrument) -> pb.MarketDataEvent:
    """Describe a batch's trades in ``symbol``, oldest first."""
    described = [
        pb.Trade(
            trade_id=trade.trade_id,
            price=convert.price_text(instrument, trade.price),
            quantity=convert.quantity_text(instrument, trade.quantity),
            aggressor_side=SIDES[DOMAIN_SIDE_NAMES[trade.aggressor_side]],
            timestamp_ns=trade.ts,
        )
        for trade in trades
    ]
    return pb.MarketDataEvent(symbol=symbol, trades=pb.TradeList(trades=described))
