"""Copy the whole exchange state into plain data and back (what snapshot files hold).

``restore_exchange(instruments, export_exchange(x))`` has the same state
hash as ``x`` and behaves identically from then on.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

from hft.domain.exchange.accounts import Account
from hft.domain.exchange.exchange import Exchange
from hft.domain.exchange.orders import OpenOrder, OrderRecord
from hft.domain.exchange.positions import Position
from hft.domain.exchange.risk import RiskLimits
from hft.domain.instruments import Instrument
from hft.domain.matching.snapshot import export_engine, restore_engine

PlainData = list[Any]


def export_exchange(exchange: Exchange) -> PlainData:
    """Return the exchange state, engine included, as plain data. O(state)."""
    return [
        export_engine(exchange.engine),
        exchange.last_order_id,
        exchange.fees_collected,
        exchange.venue_kill_switch,
        list(exchange.default_limits.as_tuple()),
        list(exchange.halted),
        [[symbol, price] for symbol, price in exchange.mark_prices.items()],
        [_account_data(account) for account in exchange.accounts.values()],
        [_record_data(record) for record in exchange.client_orders.values()],
        [_open_order_data(open_order) for open_order in exchange.open_orders.values()],
    ]


def restore_exchange(instruments: Iterable[Instrument], data: PlainData) -> Exchange:
    """Build an exchange from ``export_exchange`` data. Raises ValueError (or KeyError) on inconsistent data."""
    listed = list(instruments)
    engine, last_order_id, fees, venue_kill, limits, halted, marks, accounts, records, open_orders = data
    exchange = Exchange(listed, RiskLimits(*limits))
    exchange.engine = restore_engine(listed, engine)
    exchange.last_order_id = last_order_id
    exchange.fees_collected = fees
    exchange.venue_kill_switch = venue_kill
    exchange.halted = dict.fromkeys(halted, True)
    exchange.mark_prices = dict(marks)
    for account_data in accounts:
        account = _account_from(account_data)
        exchange.accounts[account.account_id] = account
        if account.api_key_hash:
            exchange.api_keys[account.api_key_hash] = account.account_id
    for record_data in records:
        restored = OrderRecord(*record_data[:11])
        restored.filled, restored.filled_notional, restored.status, restored.cancel_reason = record_data[11:]
        exchange.client_orders[(restored.account, restored.client_order_id)] = restored
    for order_id, account_id, symbol, side, price, leaves, client_order_id in open_orders:
        account = exchange.accounts[account_id]
        record = exchange.client_orders[(account_id, client_order_id)] if client_order_id else None
        scale = exchange.scales[symbol]
        position = account.positions[symbol]
        exchange.open_orders[order_id] = OpenOrder(
            order_id, account, position, side, price, leaves, scale.cash_per_tick_lot, record
        )
    if set(exchange.open_orders) != set(exchange.engine.orders):
        raise ValueError("snapshot's open orders do not match the engine's live orders")
    return exchange


def _account_data(account: Account) -> PlainData:
    limits = account.limits
    return [
        account.account_id,
        account.name,
        account.cash,
        account.credit_limit,
        account.maker_fee_bps,
        account.taker_fee_bps,
        account.state,
        account.kill_switch,
        None if limits is None else list(limits.as_tuple()),
        account.deposits,
        account.fees_paid,
        account.reject_count,
        account.open_orders,
        account.open_buy_notional,
        list(account.recent_orders),
        [
            [p.symbol, p.net, p.open_cost, p.realized, p.fees, p.volume, p.open_buy, p.open_sell]
            for p in account.positions.values()
        ],
        account.api_key_hash,
    ]


def _account_from(data: PlainData) -> Account:
    account = Account(*data[:6])
    (
        account.state,
        account.kill_switch,
        limits,
        account.deposits,
        account.fees_paid,
        account.reject_count,
        account.open_orders,
        account.open_buy_notional,
        recent,
        positions,
        account.api_key_hash,
    ) = data[6:]
    account.limits = None if limits is None else RiskLimits(*limits)
    account.recent_orders = deque(recent)
    for symbol, *values in positions:
        position = Position(symbol)
        (
            position.net,
            position.open_cost,
            position.realized,
            position.fees,
            position.volume,
            position.open_buy,
            position.open_sell,
        ) = values
        account.positions[symbol] = position
    return account


def _record_data(record: OrderRecord) -> PlainData:
    return [
        record.order_id,
        record.account,
        record.client_order_id,
        record.symbol,
        record.side,
        record.order_type,
        record.time_in_force,
        record.price,
        record.stop_price,
        record.quantity,
        record.ts_accepted,
        record.filled,
        record.filled_notional,
        record.status,
        record.cancel_reason,
    ]


def _open_order_data(open_order: OpenOrder) -> PlainData:
    record = open_order.record
    return [
        open_order.order_id,
        open_order.account.account_id,
        open_order.position.symbol,
        open_order.side,
        open_order.risk_price,
        open_order.leaves,
        "" if record is None else record.client_order_id,
    ]
