"""Order entry and the account's own orders: submit, query, cancel, amend, mass cancel."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, delete, get, patch, post
from litestar.params import Parameter

from hft.gateways import orders
from hft.gateways.orders import MAX_PAGE
from hft.gateways.rest import schemas
from hft.gateways.rest.bodies import exact_body
from hft.gateways.rest.convert import order_response
from hft.gateways.rest.order_entry import place_order
from hft.service.venue import Venue


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
    found, next_before = orders.list_orders(
        venue, account, status=status, symbol=symbol, open_only=open_only, before=before, limit=limit
    )
    return schemas.OrderList([order_response(order, venue.by_symbol[order.symbol]) for order in found], next_before)


@get("/api/orders/{order_id:int}", summary="Get one order", tags=["orders"])
async def get_order(order_id: int, account: int, venue: Venue) -> schemas.OrderResponse:
    """Return the account's order; another account's order is 404, like an unknown one."""
    order = orders.owned_order(venue, account, order_id)
    return order_response(order, venue.by_symbol[order.symbol])


@get("/api/orders/by-client-id/{client_order_id:str}", summary="Get an order by client order id", tags=["orders"])
async def get_order_by_client_id(client_order_id: str, account: int, venue: Venue) -> schemas.OrderResponse:
    """Return the account's order with this client order id (find out what happened to a lost answer)."""
    order = orders.order_by_client_id(venue, account, client_order_id)
    return order_response(order, venue.by_symbol[order.symbol])


@delete("/api/orders/{order_id:int}", status_code=200, summary="Cancel an order", tags=["orders"])
async def cancel_order(order_id: int, account: int, venue: Venue) -> schemas.OrderResponse:
    """Cancel a working order; 409 if it is no longer working."""
    order = await orders.cancel_order(venue, account, order_id)
    return order_response(order, venue.by_symbol[order.symbol])


@patch("/api/orders/{order_id:int}", summary="Amend an order's price and/or quantity", tags=["orders"])
async def amend_order(
    request: Request[Any, Any, Any], order_id: int, data: schemas.AmendRequest, account: int, venue: Venue
) -> schemas.OrderResponse:
    """Change a working order in place; keeping the price and lowering the quantity keeps its time priority."""
    del data  # documents the body; read exactly below
    amend = await exact_body(request, schemas.AmendRequest)
    order = await orders.amend_order(venue, account, order_id, amend)
    return order_response(order, venue.by_symbol[order.symbol])


@delete("/api/orders", status_code=200, summary="Cancel all working orders", tags=["orders"])
async def mass_cancel(
    account: int,
    venue: Venue,
    symbol: Annotated[str | None, Parameter(max_length=32)] = None,
    side: Annotated[str | None, Parameter(description="BUY or SELL")] = None,
) -> schemas.MassCancelResult:
    """Cancel every working order of the account, optionally of one symbol and side."""
    canceled = await orders.cancel_all(venue, account, symbol, side)
    return schemas.MassCancelResult(len(canceled), canceled)
