"""The account's own executions, positions and balances."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import Parameter

from hft.domain.exchange import queries
from hft.gateways.rest import schemas
from hft.gateways.rest.convert import account_response, execution_response, position_response
from hft.service.venue import Venue


@get("/api/executions", summary="List the account's executions", tags=["account"])
async def list_executions(
    account: int,
    venue: Venue,
    symbol: Annotated[str | None, Parameter(max_length=32)] = None,
    order_id: Annotated[int | None, Parameter(ge=1, le=2**62)] = None,
    before: Annotated[int | None, Parameter(ge=1, le=2**62, description="Execution ids below this (paging).")] = None,
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
) -> schemas.ExecutionList:
    """Return the account's fills, newest first, a page at a time."""
    found = venue.history.list_executions(account, symbol=symbol, order_id=order_id, before=before, limit=limit)
    page = [execution_response(execution, venue.by_symbol[execution.symbol]) for execution in found]
    return schemas.ExecutionList(page, found[-1].execution_id if len(found) == limit else None)


@get("/api/positions", summary="List the account's positions", tags=["account"])
async def list_positions(account: int, venue: Venue) -> list[schemas.PositionResponse]:
    """Return every symbol the account has traded, with average price and P&L against the mark."""
    view = queries.account(venue.core.exchange, account)
    if view is None:
        return []
    traded = [position for position in view.positions if position.volume]
    return [position_response(position, venue.by_symbol[position.symbol]) for position in traded]


@get("/api/account", summary="Get the account", tags=["account"])
async def get_account(account: int, venue: Venue) -> schemas.AccountResponse:
    """Return balances, buying power, P&L totals, risk limits and positions."""
    view = queries.account(venue.core.exchange, account)
    assert view is not None  # an authenticated account exists
    return account_response(view, venue.by_symbol)
