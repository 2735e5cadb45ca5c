"""Read-only questions about the exchange: accounts, positions with P&L, orders by client id, state hash.

Every answer is a copy in integer units (ticks, lots, cash units); gateways
turn them into decimals.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
from mypy_extensions import mypyc_attr

from hft.domain.exchange.accounts import Account
from hft.domain.exchange.exchange import Exchange
from hft.domain.exchange.orders import OrderRecord
from hft.domain.exchange.positions import Position
from hft.domain.exchange.snapshot import export_exchange


@mypyc_attr(acyclic=True)
class PositionView:
    """A position with its P&L: ``net`` in lots, money in cash units, ``mark`` in ticks (0: none yet)."""

    def __init__(self, exchange: Exchange, account: Account, position: Position) -> None:
        scale = exchange.scales[position.symbol]
        mark = exchange.mark_price(position.symbol)
        self.account = account.account_id
        self.symbol = position.symbol
        self.net = position.net
        self.open_cost = position.open_cost
        self.realized = position.realized
        self.mark = mark
        self.market_value = scale.notional(mark, position.net)
        self.unrealized = position.unrealized(self.market_value) if mark else 0
        self.fees = position.fees
        self.volume = position.volume
        self.open_buy = position.open_buy
        self.open_sell = position.open_sell


@mypyc_attr(acyclic=True)
class AccountView:
    """An account's balances, commitments, risk state and positions (money in cash units)."""

    def __init__(self, exchange: Exchange, account: Account) -> None:
        self.account_id = account.account_id
        self.name = account.name
        self.cash = account.cash
        self.credit_limit = account.credit_limit
        self.maker_fee_bps = account.maker_fee_bps
        self.taker_fee_bps = account.taker_fee_bps
        self.state = account.state
        self.kill_switch = account.kill_switch
        self.limits = exchange.limits_of(account)
        self.has_own_limits = account.limits is not None
        self.open_orders = account.open_orders
        self.open_buy_notional = account.open_buy_notional
        self.buying_power = account.buying_power()
        self.fees_paid = account.fees_paid
        self.deposits = account.deposits
        self.reject_count = account.reject_count
        self.positions = [PositionView(exchange, account, position) for position in account.positions.values()]
        self.realized = sum(position.realized for position in self.positions)
        self.unrealized = sum(position.unrealized for position in self.positions)
        self.equity = self.cash + sum(position.market_value for position in self.positions)


def account(exchange: Exchange, account_id: int) -> AccountView | None:
    """Return account ``account_id`` with its positions, or None. O(positions)."""
    found = exchange.accounts.get(account_id)
    return None if found is None else AccountView(exchange, found)


def position(exchange: Exchange, account_id: int, symbol: str) -> PositionView | None:
    """Return the account's position in ``symbol`` (None if it never had one)."""
    found = exchange.accounts.get(account_id)
    if found is None or symbol not in found.positions:
        return None
    return PositionView(exchange, found, found.positions[symbol])


def order_by_client_id(exchange: Exchange, account_id: int, client_order_id: str) -> OrderRecord | None:
    """Return what happened to the account's order with ``client_order_id`` (None: never accepted).

    The record is live state: read it, do not change it.
    """
    return exchange.client_orders.get((account_id, client_order_id))


def net_positions(exchange: Exchange) -> dict[str, int]:
    """Return the sum of every account's net position per symbol (zero for every symbol, always)."""
    totals: dict[str, int] = {}
    for holder in exchange.accounts.values():
        for held in holder.positions.values():
            totals[held.symbol] = totals.get(held.symbol, 0) + held.net
    return totals


def cash_conserved(exchange: Exchange) -> bool:
    """Say whether all cash plus collected fees equals all deposits (cash is only ever moved)."""
    cash = sum(holder.cash for holder in exchange.accounts.values())
    deposits = sum(holder.deposits for holder in exchange.accounts.values())
    return cash + exchange.fees_collected == deposits


def state_hash(exchange: Exchange) -> str:
    """Return a sha256 over the whole exchange state, engine included. O(state).

    Two exchanges have the same hash when they hold the same state built in
    the same order (which replay and snapshots both preserve).
    """
    return plain_state_hash(export_exchange(exchange))


def plain_state_hash(state: list[Any]) -> str:
    """Return the state hash of exchange state already exported with ``export_exchange``."""
    return encoded_state_hash(msgspec.msgpack.encode(state))


def encoded_state_hash(encoded_state: bytes) -> str:
    """Return the state hash of exported state already encoded as msgpack (what snapshots store)."""
    return hashlib.sha256(encoded_state).hexdigest()
