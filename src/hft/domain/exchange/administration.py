"""Account, risk and status commands: applied by the exchange, outside the matching engine.

Each handler validates first and changes nothing when it rejects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mypy_extensions import i64

from hft.core import rejects
from hft.domain.commands import Command, MassCancel
from hft.domain.exchange.accounts import ACCOUNT_STATE_NAMES, MAX_FEE_BPS, Account
from hft.domain.exchange.commands import (
    AdjustCash,
    CreateAccount,
    SetAccountState,
    SetApiKey,
    SetInstrumentHalt,
    SetKillSwitch,
    SetMarkPrice,
    SetRiskLimits,
    UpdateAccount,
)
from hft.domain.exchange.events import (
    AccountChanged,
    ApiKeyChanged,
    CommandRejected,
    InstrumentHaltSet,
    KillSwitchSet,
    MarkPriceSet,
    RiskLimitsSet,
)
from hft.domain.exchange.money import MAX_CASH_UNITS

if TYPE_CHECKING:
    from hft.domain.exchange.exchange import Exchange

MAX_ACCOUNT_NAME_LENGTH = 100
API_KEY_HASH_LENGTH = 64  # a SHA-256 hex digest


def apply(exchange: Exchange, command: Command) -> bool:
    """Apply ``command`` if it is an account, risk or status command; return False if it is not one."""
    if isinstance(command, CreateAccount):
        _create_account(exchange, command)
    elif isinstance(command, UpdateAccount):
        _update_account(exchange, command)
    elif isinstance(command, AdjustCash):
        _adjust_cash(exchange, command)
    elif isinstance(command, SetAccountState):
        _set_account_state(exchange, command)
    elif isinstance(command, SetRiskLimits):
        _set_risk_limits(exchange, command)
    elif isinstance(command, SetKillSwitch):
        _set_kill_switch(exchange, command)
    elif isinstance(command, SetInstrumentHalt):
        _set_instrument_halt(exchange, command)
    elif isinstance(command, SetMarkPrice):
        _set_mark_price(exchange, command)
    elif isinstance(command, SetApiKey):
        _set_api_key(exchange, command)
    else:
        return False
    return True


def _reject(exchange: Exchange, account_id: i64, code: i64) -> None:
    exchange.add_event(CommandRejected(exchange.next_sequence(), exchange.ts, account_id, code))


def _valid_terms(credit_limit: int, maker_fee_bps: i64, taker_fee_bps: i64) -> bool:
    return (
        0 <= credit_limit <= MAX_CASH_UNITS and 0 <= maker_fee_bps <= MAX_FEE_BPS and 0 <= taker_fee_bps <= MAX_FEE_BPS
    )


def _account_changed(exchange: Exchange, account: Account) -> None:
    exchange.add_event(
        AccountChanged(
            exchange.next_sequence(),
            exchange.ts,
            account.account_id,
            account.name,
            account.cash,
            account.credit_limit,
            account.maker_fee_bps,
            account.taker_fee_bps,
            account.state,
        )
    )


def _create_account(exchange: Exchange, command: CreateAccount) -> None:
    name = command.name
    if command.account_id <= 0:
        _reject(exchange, command.account_id, rejects.INVALID_ACCOUNT)
    elif command.account_id in exchange.accounts:
        _reject(exchange, command.account_id, rejects.ACCOUNT_EXISTS)
    elif (
        not 0 <= command.cash <= MAX_CASH_UNITS
        or not _valid_terms(command.credit_limit, command.maker_fee_bps, command.taker_fee_bps)
        or not 0 < len(name) <= MAX_ACCOUNT_NAME_LENGTH
        or not name.isprintable()
    ):
        _reject(exchange, command.account_id, rejects.INVALID_ACCOUNT_SETTING)
    else:
        account = Account(
            command.account_id,
            name,
            command.cash,
            command.credit_limit,
            command.maker_fee_bps,
            command.taker_fee_bps,
        )
        exchange.accounts[command.account_id] = account
        _account_changed(exchange, account)


def _update_account(exchange: Exchange, command: UpdateAccount) -> None:
    account = exchange.accounts.get(command.account_id)
    if account is None:
        _reject(exchange, command.account_id, rejects.UNKNOWN_ACCOUNT)
    elif not _valid_terms(command.credit_limit, command.maker_fee_bps, command.taker_fee_bps):
        _reject(exchange, command.account_id, rejects.INVALID_ACCOUNT_SETTING)
    else:
        account.credit_limit = command.credit_limit
        account.maker_fee_bps = command.maker_fee_bps
        account.taker_fee_bps = command.taker_fee_bps
        _account_changed(exchange, account)


def _adjust_cash(exchange: Exchange, command: AdjustCash) -> None:
    account = exchange.accounts.get(command.account_id)
    amount = command.amount
    if account is None:
        _reject(exchange, command.account_id, rejects.UNKNOWN_ACCOUNT)
    elif amount == 0 or abs(amount) > MAX_CASH_UNITS or abs(account.cash + amount) > MAX_CASH_UNITS * 4:
        _reject(exchange, command.account_id, rejects.INVALID_ACCOUNT_SETTING)
    elif amount < 0 and -amount > min(account.buying_power(), account.cash):
        _reject(exchange, command.account_id, rejects.INSUFFICIENT_BUYING_POWER)
    else:
        account.cash += amount
        account.deposits += amount
        _account_changed(exchange, account)


def _set_account_state(exchange: Exchange, command: SetAccountState) -> None:
    account = exchange.accounts.get(command.account_id)
    if account is None:
        _reject(exchange, command.account_id, rejects.UNKNOWN_ACCOUNT)
    elif command.state not in ACCOUNT_STATE_NAMES:
        _reject(exchange, command.account_id, rejects.INVALID_ACCOUNT_SETTING)
    else:
        account.state = command.state
        _account_changed(exchange, account)


def _set_risk_limits(exchange: Exchange, command: SetRiskLimits) -> None:
    limits = command.limits
    if limits is not None and not limits.is_valid():
        _reject(exchange, command.account_id, rejects.INVALID_ACCOUNT_SETTING)
        return
    if command.account_id == 0:
        if limits is None:
            _reject(exchange, 0, rejects.INVALID_ACCOUNT_SETTING)
            return
        exchange.default_limits = limits
    else:
        account = exchange.accounts.get(command.account_id)
        if account is None:
            _reject(exchange, command.account_id, rejects.UNKNOWN_ACCOUNT)
            return
        account.limits = limits
    exchange.add_event(RiskLimitsSet(exchange.next_sequence(), exchange.ts, command.account_id, limits))


def _set_kill_switch(exchange: Exchange, command: SetKillSwitch) -> None:
    engaged = command.engaged
    if command.account_id == 0:
        exchange.venue_kill_switch = engaged
        targets = sorted(exchange.accounts) if engaged else []
    else:
        account = exchange.accounts.get(command.account_id)
        if account is None:
            _reject(exchange, command.account_id, rejects.UNKNOWN_ACCOUNT)
            return
        account.kill_switch = engaged
        targets = [command.account_id] if engaged else []
    exchange.add_event(KillSwitchSet(exchange.next_sequence(), exchange.ts, command.account_id, engaged))
    for account_id in targets:
        if exchange.accounts[account_id].open_orders:
            exchange.run_engine(MassCancel(account_id))


def _set_instrument_halt(exchange: Exchange, command: SetInstrumentHalt) -> None:
    if command.symbol not in exchange.engine.books:
        _reject(exchange, 0, rejects.UNKNOWN_SYMBOL)
        return
    if command.halted:
        exchange.halted[command.symbol] = True
    else:
        exchange.halted.pop(command.symbol, None)
    exchange.add_event(InstrumentHaltSet(exchange.next_sequence(), exchange.ts, command.symbol, command.halted))


def _set_mark_price(exchange: Exchange, command: SetMarkPrice) -> None:
    book = exchange.engine.books.get(command.symbol)
    if book is None:
        _reject(exchange, 0, rejects.UNKNOWN_SYMBOL)
    elif not 0 <= command.price <= book.instrument.max_price:
        _reject(exchange, 0, rejects.INVALID_PRICE)
    else:
        if command.price:
            exchange.mark_prices[command.symbol] = command.price
        else:
            exchange.mark_prices.pop(command.symbol, None)
        exchange.add_event(MarkPriceSet(exchange.next_sequence(), exchange.ts, command.symbol, command.price))


def _set_api_key(exchange: Exchange, command: SetApiKey) -> None:
    account = exchange.accounts.get(command.account_id)
    key_hash = command.key_hash
    if account is None:
        _reject(exchange, command.account_id, rejects.UNKNOWN_ACCOUNT)
    elif (
        len(key_hash) != API_KEY_HASH_LENGTH
        or not all(c in "0123456789abcdef" for c in key_hash)
        or key_hash in exchange.api_keys
    ):
        _reject(exchange, command.account_id, rejects.INVALID_ACCOUNT_SETTING)
    else:
        exchange.api_keys.pop(account.api_key_hash, None)
        account.api_key_hash = key_hash
        exchange.api_keys[key_hash] = account.account_id
        exchange.add_event(ApiKeyChanged(exchange.next_sequence(), exchange.ts, account.account_id))


def _is_digest(key_hash: str) -> bool:
    return len(key_hash) == API_KEY_HASH_LENGTH and all(c in "0123456789abcdef" for c in key_hash)
