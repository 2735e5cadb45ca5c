"""What every gateway does with orders: enter, look up, list, cancel, amend, mass cancel; one set of rules.

Each function decides the same way whichever protocol asked (REST, gRPC) and raises ``InputError`` with
the REST status and a stable code when the request cannot be served; a gateway maps that to its own
protocol. Another account's order is indistinguishable from an unknown one.
"""

from __future__ import annotations

import time
from typing import Any, Final

from prometheus_client import Counter

from hft.core import rejects
from hft.domain.commands import CancelOrder, MassCancel
from hft.domain.events import OrderAccepted, OrderCancelled, OrderRejected
from hft.domain.instruments import Instrument
from hft.domain.orders import SIDES_BY_NAME
from hft.gateways.rest import schemas
from hft.gateways.rest.convert import InputError, amend_command, submit_command
from hft.service.history import ORDER_STATUSES, OrderState
from hft.service.venue import Venue

MAX_PAGE: Final = 1000


def instrument_of(venue: Venue, symbol: str) -> Instrument:
    """Return the listed instrument ``symbol``; raise ``InputError`` UNKNOWN_SYMBOL (422) if there is none."""
    instrument = venue.by_symbol.get(symbol)
    if instrument is None:
        raise InputError("UNKNOWN_SYMBOL", f"unknown symbol {symbol!r}; see GET /api/instruments")
    return instrument


async def enter_order(
    venue: Venue,
    account: int,
    request: schemas.OrderRequest,
    started_ns: int,
    accepted: Counter,
    rejected: Counter,
) -> tuple[OrderState, Instrument]:
    """Validate, journal and match one order; return it as it stands after matching, and its instrument.

    Counts the order in ``accepted`` or ``rejected`` (the gateway's children of ``orders_processed``) and the
    time since ``started_ns`` (``time.perf_counter_ns``) in the gateway stage. Raises ``InputError``: 422 for a
    malformed order (nothing journaled), 409 DUPLICATE_CLIENT_ORDER_ID for a repeated client order id.
    """
    instrument = instrument_of(venue, request.symbol)
    command = submit_command(request, account, instrument, time.time_ns())
    venue.metrics.gateway_stage.observe((time.perf_counter_ns() - started_ns) / 1000)
    ack = await venue.execute(command)
    # The first acceptance or refusal is this order's: only expiries of older orders can come before it.
    order_id = next(event.order_id for event in ack.events if isinstance(event, OrderAccepted | OrderRejected))
    order = venue.history.order(account, order_id)
    if order is None:  # only a repeated client order id creates no order
        rejected.inc()
        existing = venue.history.order_by_client_id(account, request.client_order_id)
        raise InputError(
            rejects.reject_name(rejects.DUPLICATE_CLIENT_ORDER_ID),
            f"client_order_id {request.client_order_id!r} is already used by order "
            f"{existing.order_id if existing else 'unknown'}",
            status=409,
        )
    (rejected if order.reject_code else accepted).inc()
    return order, instrument


def owned_order(venue: Venue, account: int, order_id: int) -> OrderState:
    """Return the account's order ``order_id``; raise ``InputError`` NOT_FOUND (404) if unknown or another's."""
    order = venue.history.order(account, order_id)
    if order is None:
        raise InputError("NOT_FOUND", f"order {order_id} not found", status=404)
    return order


def order_by_client_id(venue: Venue, account: int, client_order_id: str) -> OrderState:
    """Return the account's order with ``client_order_id``; raise ``InputError`` NOT_FOUND (404) if none."""
    order = venue.history.order_by_client_id(account, client_order_id)
    if order is None:
        raise InputError("NOT_FOUND", f"no order with client_order_id {client_order_id!r}", status=404)
    return order


def list_orders(
    venue: Venue,
    account: int,
    *,
    status: str | None = None,
    symbol: str | None = None,
    open_only: bool = False,
    before: int | None = None,
    limit: int = 100,
) -> tuple[list[OrderState], int | None]:
    """Return a page of the account's orders, newest first, and the ``before`` of the next page (None: last page).

    Raises ``InputError`` INVALID_STATUS (422) for a status that does not exist. O(orders scanned).
    """
    if status is not None and status not in ORDER_STATUSES:
        raise InputError("INVALID_STATUS", f"status must be one of {', '.join(ORDER_STATUSES)}")
    orders = venue.history.list_orders(
        account, status=status, symbol=symbol, open_only=open_only, before=before, limit=limit
    )
    return orders, orders[-1].order_id if len(orders) == limit else None


async def cancel_order(venue: Venue, account: int, order_id: int) -> OrderState:
    """Cancel the account's working order (journaled); return it as it stands after.

    Raises ``InputError``: 404 if it is not the account's, 409 ORDER_NOT_WORKING if it is no longer working.
    """
    order = owned_order(venue, account, order_id)
    raise_if_done(order)
    ack = await venue.execute(CancelOrder(order_id, account))
    raise_refusal(ack.events, order)
    return order


async def amend_order(venue: Venue, account: int, order_id: int, request: schemas.AmendRequest) -> OrderState:
    """Change the account's working order in place (journaled); return it as it stands after.

    Keeping the price and lowering the quantity keeps its time priority. Raises ``InputError``: 404 if it is
    not the account's, 422 for malformed or unchanged values, 409 if it is no longer working.
    """
    order = owned_order(venue, account, order_id)
    command = amend_command(request, order, venue.by_symbol[order.symbol])
    raise_if_done(order)
    ack = await venue.execute(command)
    raise_refusal(ack.events, order)
    return order


async def cancel_all(venue: Venue, account: int, symbol: str | None, side: str | None) -> list[int]:
    """Cancel every working order of the account, optionally of one symbol and side (one journaled command).

    Returns the ids of the orders canceled. Raises ``InputError`` for an unknown symbol or side (422).
    """
    if symbol is not None:
        instrument_of(venue, symbol)
    if side is not None and side not in SIDES_BY_NAME:
        raise InputError("INVALID_SIDE", "side must be BUY or SELL")
    ack = await venue.execute(MassCancel(account, symbol or "", SIDES_BY_NAME[side] if side else 0))
    return [event.order_id for event in ack.events if isinstance(event, OrderCancelled) and event.account == account]


def raise_if_done(order: OrderState) -> None:
    """Refuse to cancel or amend an order that is no longer working (409 ORDER_NOT_WORKING, with its status)."""
    if not order.is_open:
        raise InputError(
            "ORDER_NOT_WORKING", f"order {order.order_id} is {order.status}, no longer working", status=409
        )


def raise_refusal(events: list[Any], order: OrderState) -> None:
    """Raise ``InputError`` with the engine's code if it refused the command on ``order``."""
    for event in events:
        if isinstance(event, OrderRejected) and event.order_id == order.order_id:
            if event.code == rejects.UNKNOWN_ORDER:
                raise_if_done(order)  # it was filled or canceled while the request waited
            raise InputError(event.reason, event.text)
