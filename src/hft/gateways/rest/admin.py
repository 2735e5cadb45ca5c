"""The admin API (``Authorization: Bearer <HFT_ADMIN_TOKEN>``): accounts, keys, cash, limits, kill switches, halts."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post, put
from litestar.exceptions import NotFoundException

from hft.domain.exchange import queries
from hft.domain.exchange.accounts import ACCOUNT_STATES_BY_NAME
from hft.domain.exchange.commands import (
    AdjustCash,
    SetAccountState,
    SetInstrumentHalt,
    SetKillSwitch,
    SetRiskLimits,
)
from hft.gateways.rest import schemas
from hft.gateways.rest.bodies import exact_body
from hft.gateways.rest.convert import InputError, account_response, cash_units, limits_body, limits_from
from hft.gateways.rest.security import admin_guard
from hft.service.venue import Venue


def _existing(venue: Venue, account_id: int) -> None:
    if account_id not in venue.core.exchange.accounts:
        raise NotFoundException(f"account {account_id} not found")


@post("/accounts", status_code=201, summary="Open an account")
async def create_account(
    request: Request[Any, Any, Any], data: schemas.NewAccountRequest, venue: Venue
) -> schemas.NewAccountResponse:
    """Open an account and return its API key (shown only this once)."""
    del data  # documents the body; read exactly below
    body = await exact_body(request, schemas.NewAccountRequest)
    account_id, api_key = await venue.create_account(
        body.name,
        cash_units(body.cash, "cash"),
        cash_units(body.credit_limit, "credit_limit"),
        body.maker_fee_bps,
        body.taker_fee_bps,
    )
    return schemas.NewAccountResponse(account_id=account_id, name=body.name, api_key=api_key)


@get("/accounts", summary="List accounts")
async def list_accounts(venue: Venue) -> list[schemas.AccountResponse]:
    """Return every account with its balances and positions."""
    exchange = venue.core.exchange
    views = [queries.account(exchange, account_id) for account_id in sorted(exchange.accounts)]
    return [account_response(view, venue.by_symbol) for view in views if view is not None]


@get("/accounts/{account_id:int}", summary="Get an account")
async def get_account(account_id: int, venue: Venue) -> schemas.AccountResponse:
    """Return one account with its balances and positions."""
    return _account(venue, account_id)


def _account(venue: Venue, account_id: int) -> schemas.AccountResponse:
    view = queries.account(venue.core.exchange, account_id)
    if view is None:
        raise NotFoundException(f"account {account_id} not found")
    return account_response(view, venue.by_symbol)


@post("/accounts/{account_id:int}/api-key", status_code=201, summary="Replace an account's API key")
async def rotate_api_key(account_id: int, venue: Venue) -> schemas.ApiKeyResponse:
    """Issue a new API key; the previous one stops working at once."""
    _existing(venue, account_id)
    return schemas.ApiKeyResponse(account_id=account_id, api_key=await venue.rotate_api_key(account_id))


@post("/accounts/{account_id:int}/cash", status_code=200, summary="Deposit or withdraw cash")
async def adjust_cash(
    request: Request[Any, Any, Any], account_id: int, data: schemas.CashRequest, venue: Venue
) -> schemas.AccountResponse:
    """Deposit (positive amount) or withdraw (negative, at most the buying power)."""
    del data  # documents the body; read exactly below
    body = await exact_body(request, schemas.CashRequest)
    _existing(venue, account_id)
    amount = cash_units(body.amount, "amount", allow_negative=True)
    if amount == 0:
        raise InputError("INVALID_AMOUNT", "amount: a deposit or withdrawal must not be zero")
    await venue.execute_admin(AdjustCash(account_id, amount))
    return _account(venue, account_id)


@put("/accounts/{account_id:int}/state", summary="Set an account's trading state")
async def set_account_state(
    request: Request[Any, Any, Any], account_id: int, data: schemas.AccountStateRequest, venue: Venue
) -> schemas.AccountResponse:
    """ACTIVE, REDUCING (only orders that reduce positions) or HALTED (only cancels)."""
    del data  # documents the body; read exactly below
    body = await exact_body(request, schemas.AccountStateRequest)
    _existing(venue, account_id)
    await venue.execute_admin(SetAccountState(account_id, ACCOUNT_STATES_BY_NAME[body.state]))
    return _account(venue, account_id)


@put("/accounts/{account_id:int}/risk-limits", summary="Set an account's risk limits")
async def set_account_limits(
    request: Request[Any, Any, Any], account_id: int, data: schemas.RiskLimitsBody, venue: Venue
) -> schemas.RiskLimitsBody:
    """Give the account its own limits (0 = no limit)."""
    del data  # documents the body; read exactly below
    body = await exact_body(request, schemas.RiskLimitsBody)
    _existing(venue, account_id)
    limits = limits_from(body)
    await venue.execute_admin(SetRiskLimits(account_id, limits))
    return limits_body(limits)


@put("/risk-limits", summary="Set the venue's default risk limits")
async def set_venue_limits(
    request: Request[Any, Any, Any], data: schemas.RiskLimitsBody, venue: Venue
) -> schemas.RiskLimitsBody:
    """Set the limits of every account that has none of its own."""
    del data  # documents the body; read exactly below
    body = await exact_body(request, schemas.RiskLimitsBody)
    limits = limits_from(body)
    await venue.execute_admin(SetRiskLimits(0, limits))
    return limits_body(limits)


@get("/risk-limits", summary="Get the venue's default risk limits")
async def get_venue_limits(venue: Venue) -> schemas.RiskLimitsBody:
    """Return the limits of accounts that have none of their own."""
    return limits_body(venue.core.exchange.default_limits)


@put("/accounts/{account_id:int}/kill-switch", summary="Engage or release an account's kill switch")
async def set_account_kill_switch(
    request: Request[Any, Any, Any], account_id: int, data: schemas.SwitchRequest, venue: Venue
) -> schemas.SwitchRequest:
    """Engaging cancels every working order of the account and then refuses all but cancels."""
    del data  # documents the body; read exactly below
    body = await exact_body(request, schemas.SwitchRequest)
    _existing(venue, account_id)
    await venue.execute_admin(SetKillSwitch(account_id, body.engaged))
    return body


@put("/kill-switch", summary="Engage or release the venue-wide kill switch")
async def set_venue_kill_switch(
    request: Request[Any, Any, Any], data: schemas.SwitchRequest, venue: Venue
) -> schemas.SwitchRequest:
    """Engaging cancels every working order on the venue and then refuses all but cancels."""
    del data  # documents the body; read exactly below
    body = await exact_body(request, schemas.SwitchRequest)
    await venue.execute_admin(SetKillSwitch(0, body.engaged))
    return body


@put("/instruments/{symbol:str}/halt", summary="Halt or resume a symbol")
async def set_halt(
    request: Request[Any, Any, Any], symbol: str, data: schemas.HaltRequest, venue: Venue
) -> schemas.HaltRequest:
    """While halted, orders stay in the book and only cancels are accepted."""
    del data  # documents the body; read exactly below
    body = await exact_body(request, schemas.HaltRequest)
    if symbol not in venue.by_symbol:
        raise NotFoundException(f"unknown symbol {symbol!r}")
    await venue.execute_admin(SetInstrumentHalt(symbol, body.halted))
    return body


admin_router = Router(
    path="/api/admin",
    route_handlers=[
        create_account,
        list_accounts,
        get_account,
        rotate_api_key,
        adjust_cash,
        set_account_state,
        set_account_limits,
        set_venue_limits,
        get_venue_limits,
        set_account_kill_switch,
        set_venue_kill_switch,
        set_halt,
    ],
    guards=[admin_guard],
    tags=["admin"],
)
