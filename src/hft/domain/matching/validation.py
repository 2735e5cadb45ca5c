"""Stateless checks of new orders and amends against their instrument.

Each check returns a reject code from ``hft.core.rejects``, or 0 when the
command is acceptable. Checks that need the book (post-only, duplicate ids,
ownership) live in the engine.
"""

from __future__ import annotations

from mypy_extensions import i64

from hft.core import rejects
from hft.domain.commands import AmendOrder, SubmitOrder
from hft.domain.instruments import Instrument
from hft.domain.orders import (
    BUY,
    DAY,
    FOK,
    GTC,
    GTD,
    IOC,
    LIMIT,
    MARKET,
    SELL,
    STOP,
    STOP_LIMIT,
    STP_DECREMENT_AND_CANCEL,
    STP_DEFAULT,
    Order,
)


def check_new_order(command: SubmitOrder, instrument: Instrument, ts: i64) -> i64:
    """Return the reject code for ``command``, or 0 if it may enter the book."""
    order_type = command.order_type
    tif = command.time_in_force
    if command.account <= 0:
        return rejects.INVALID_ACCOUNT
    if command.side not in (BUY, SELL):
        return rejects.INVALID_SIDE
    if order_type < LIMIT or order_type > STOP_LIMIT:
        return rejects.INVALID_ORDER_TYPE
    if tif < GTC or tif > GTD:
        return rejects.INVALID_TIME_IN_FORCE
    if order_type == MARKET and tif not in (IOC, FOK):
        return rejects.INVALID_TIME_IN_FORCE
    code = check_quantity(command.quantity, instrument)
    if code:
        return code
    code = check_prices(order_type, command.price, command.stop_price, instrument)
    if code:
        return code
    if (tif == GTD) != (command.expire_ts != 0) or (tif == GTD and command.expire_ts <= ts):
        return rejects.INVALID_EXPIRE_TIME
    rests = order_type == LIMIT and (tif in (GTC, DAY, GTD))
    display = command.display_quantity
    if display < 0 or (display > 0 and (not rests or display >= command.quantity or display < instrument.min_quantity)):
        return rejects.INVALID_DISPLAY_QUANTITY
    if command.post_only and not rests:
        return rejects.INVALID_POST_ONLY
    if command.self_trade_prevention < STP_DEFAULT or command.self_trade_prevention > STP_DECREMENT_AND_CANCEL:
        return rejects.INVALID_SELF_TRADE_PREVENTION
    return 0


def check_quantity(quantity: i64, instrument: Instrument) -> i64:
    """Return the reject code for a quantity in lots, or 0."""
    if quantity <= 0:
        return rejects.INVALID_QUANTITY
    if quantity < instrument.min_quantity or quantity > instrument.max_quantity:
        return rejects.QUANTITY_OUT_OF_RANGE
    return 0


def check_prices(order_type: i64, price: i64, stop_price: i64, instrument: Instrument) -> i64:
    """Return the reject code for the limit and stop prices of ``order_type``, or 0."""
    if order_type in (LIMIT, STOP_LIMIT):
        if price <= 0:
            return rejects.INVALID_PRICE
        if price > instrument.max_price:
            return rejects.PRICE_OUT_OF_RANGE
    elif price != 0:
        return rejects.INVALID_PRICE
    if order_type in (STOP, STOP_LIMIT):
        if stop_price <= 0:
            return rejects.INVALID_STOP_PRICE
        if stop_price > instrument.max_price:
            return rejects.PRICE_OUT_OF_RANGE
    elif stop_price != 0:
        return rejects.INVALID_STOP_PRICE
    return 0


def check_amend(command: AmendOrder, order: Order, instrument: Instrument) -> i64:
    """Return the reject code for amending the live ``order`` as ``command`` asks, or 0."""
    code = check_quantity(command.quantity, instrument)
    if code:
        return code
    if command.quantity <= order.filled:
        return rejects.AMEND_BELOW_FILLED
    waiting_stop = order.level is None
    if command.price != 0 and order.order_type not in (LIMIT, STOP_LIMIT):
        return rejects.INVALID_PRICE
    if command.stop_price != 0 and not waiting_stop:
        return rejects.INVALID_STOP_PRICE
    price = command.price or order.price
    stop_price = command.stop_price or order.stop_price
    code = check_prices(order.order_type, price, stop_price if waiting_stop else order.stop_price, instrument)
    if code:
        return code
    if price == order.price and stop_price == order.stop_price and command.quantity == order.quantity:
        return rejects.AMEND_CHANGES_NOTHING
    return 0
