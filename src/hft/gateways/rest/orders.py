"""Order entry and the account's own orders: submit, query, cancel, amend, mass cancel."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, delete, get, patch, post
from litestar.exceptions import NotFoundException
from litestar.params import Parameter

from hft.core import rejects
from hft.domain.commands import CancelOrder, MassCancel
from hft.domain.events import OrderCancelled, OrderRejected
from hft.domain.orders import SIDES_BY_NAME
from hft.gateways.rest import schemas
from hft.gateways.rest.bodies import exact_body
from hft.gateways.rest.convert import InputError, amend_command, order_response
from hft.gateways.rest.order_entry import place_order
from hft.service.history import ORDER_STATUSES, OrderState
from hft.service.venue import Venue

MAX_PAGE = 1000


def _instrument_of(venue: Venue, symbol: str) -> Any:
    instrument = venue.by_symbol.get(symbol)
    if instrument is None:
        raise InputError("UNKNOWN_SYMBOL", f"unknown symbol {symbol!r}; see GET /api/instruments")
    return instrument


def _owned_order(venue: Venue, account: int, order_id: int) -> OrderState:
    order = venue.history.order(account, order_id)
    if order is None:
        raise NotFoundException(f"order {order_id} not found")
    return order


@post("/api/orders", status_code=201, summary="Submit an order", tags=["orders"])
async def submit_order(
    request: Request[Any, Any, Any], data: schemas.OrderRequest, account: int, venue: Venue
) -> schemas.OrderResponse:
    """Submit a new order; the answer reflects matching already done (a crossing order comes back FILLED).

    A risk or matching refusal is still a 201 with status REJECTED and its reason; malformed input is a 4xx.
    Served by ``OrderEntryLane`` when it is mounted (as ``hft serve`` does); ``data`` documents the body.
    """
    del data
    return await place_order(venue, account, await request.body(), request.headers.get("content-type"))


@post("/api/order", status_code=201, summary="Submit an order (the design documents' path)", tags=["orders"])
async def submit_order_singular(
    request: Request[Any, Any, Any], data: schemas.OrderRequest, account: int, venue: Venue
) -> schemas.OrderResponse:
    """Same as ``POST /api/orders``."""
    del data
    return await place_order(venue, account, await request.body(), request.headers.get("content-type"))


@get("/api/orders", summary="List the account's orders", tags=["orders"])
async def list_orders(
    account: int,
    venue: Venue,
    status: Annotated[str | None, Parameter(description="Only orders with this status.")] = None,
    symbol: Annotated[str | None, Parameter(max_length=32)] = None,
    open_only: Annotated[bool, Parameter(query="open", description="Only working orders.")] = False,
    before: Annotated[int | None, Parameter(ge=1, le=2**62, description="Order ids below this (paging).")] = None,
    limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE)] = 100,
) -> schemas.OrderList:
    """Return the account's orders, newest first, a page at a time."""
    if status is not None and status not in ORDER_STATUSES:
        raise InputError("INVALID_STATUS", f"status must be one of {', '.join(ORDER_STATUSES)}")
    orders = venue.history.list_orders(
        account, status=status, symbol=symbol, open_only=open_only, before=before, limit=limit
    )
    page = [order_response(order, venue.by_symbol[order.symbol]) for order in orders]
    return schemas.OrderList(page, orders[-1].order_id if len(orders) == limit else None)


@get("/api/orders/{order_id:int}", summary="Get one order", tags=["orders"])
async def get_order(order_id: int, account: int, venue: Venue) -> schemas.OrderResponse:
    """Return the account's order; another account's order is 404, like an unknown one."""
    order = _owned_order(venue, account, order_id)
    return order_response(order, venue.by_symbol[order.symbol])


@get("/api/orders/by-client-id/{client_order_id:str}", summary="Get an order by client order id", tags=["orders"])
async def get_order_by_client_id(client_order_id: str, account: int, venue: Venue) -> schemas.OrderResponse:
    """Return the account's order with this client order id (find out what happened to a lost answer)."""
    order = venue.history.order_by_client_id(account, client_order_id)
    if order is None:
        raise NotFoundException(f"no order with client_order_id {client_order_id!r}")
    return order_response(order, venue.by_symbol[order.symbol])


@delete("/api/orders/{order_id:int}", status_code=200, summary="Cancel an order", tags=["orders"])
async def cancel_order(order_id: int, account: int, venue: Venue) -> schemas.OrderResponse:
    """Cancel a working order; 409 if it is no longer working."""
    order = _owned_order(venue, account, order_id)
    _raise_if_done(order)
    ack = await venue.execute(CancelOrder(order_id, account))
    _raise_refusal(ack.events, order)
    return order_response(order, venue.by_symbol[order.symbol])


@patch("/api/orders/{order_id:int}", summary="Amend an order's price and/or quantity", tags=["orders"])
async def amend_order(
    request: Request[Any, Any, Any], order_id: int, data: schemas.AmendRequest, account: int, venue: Venue
) -> schemas.OrderResponse:
    """Change a working order in place; keeping the price and lowering the quantity keeps its time priority."""
    del data  # documents the body; read exactly below
    amend = await exact_body(request, schemas.AmendRequest)
    order = _owned_order(venue, account, order_id)
    instrument = venue.by_symbol[order.symbol]
    command = amend_command(amend, order, instrument)
    _raise_if_done(order)
    ack = await venue.execute(command)
    _raise_refusal(ack.events, order)
    return order_response(order, instrument)


@delete("/api/orders", status_code=200, summary="Cancel all working orders", tags=["orders"])
async def mass_cancel(
    account: int,
    venue: Venue,
    symbol: Annotated[str | None, Parameter(max_length=32)] = None,
    side: Annotated[str | None, Parameter(description="BUY or SELL")] = None,
) -> schemas.MassCancelResult:
    """Cancel every working order of the account, optionally of one symbol and side."""
    if symbol is not None:
        _instrument_of(venue, symbol)
    if side is not None and side not in SIDES_BY_NAME:
        raise InputError("INVALID_SIDE", "side must be BUY or SELL")
    ack = await venue.execute(MassCancel(account, symbol or "", SIDES_BY_NAME[side] if side else 0))
    canceled = [
        event.order_id for event in ack.events if isinstance(event, OrderCancelled) and event.account == account
    ]
    return schemas.MassCancelResult(len(canceled), canceled)


def _raise_if_done(order: OrderState) -> None:
    """Refuse to cancel or amend an order that is no longer working (409, with its status)."""
    if not order.is_open:
        raise InputError(
            "ORDER_NOT_WORKING", f"order {order.order_id} is {order.status}, no longer working", status=409
        )


def _raise_refusal(events: list[Any], order: OrderState) -> None:
    for event in events:
        if isinstance(event, OrderRejected) and event.order_id == order.order_id:
            if event.code == rejects.UNKNOWN_ORDER:
                _raise_if_done(order)  # it was filled or canceled while the request waited
            raise InputError(event.reason, event.text)
