"""Commands that manage accounts, risk and trading status (the engine's own commands are in hft.domain.commands).

Money is in cash units (``money.CASH_SCALE``), account 0 means "the venue"
where a command says so.
"""

from __future__ import annotations

from typing import Final

from mypy_extensions import i64, mypyc_attr

from hft.domain.commands import Command
from hft.domain.exchange.risk import RiskLimits


@mypyc_attr(acyclic=True)
class CreateAccount(Command):
    """Open account ``account_id`` with a starting cash balance, a credit limit and fees in basis points."""

    def __init__(
        self,
        account_id: i64,
        name: str,
        cash: int = 0,
        credit_limit: int = 0,
        maker_fee_bps: i64 = 0,
        taker_fee_bps: i64 = 0,
    ) -> None:
        self.account_id: Final = account_id
        self.name: Final = name
        self.cash: Final = cash
        self.credit_limit: Final = credit_limit
        self.maker_fee_bps: Final = maker_fee_bps
        self.taker_fee_bps: Final = taker_fee_bps


@mypyc_attr(acyclic=True)
class UpdateAccount(Command):
    """Change an account's credit limit and fees."""

    def __init__(self, account_id: i64, credit_limit: int, maker_fee_bps: i64, taker_fee_bps: i64) -> None:
        self.account_id: Final = account_id
        self.credit_limit: Final = credit_limit
        self.maker_fee_bps: Final = maker_fee_bps
        self.taker_fee_bps: Final = taker_fee_bps


@mypyc_attr(acyclic=True)
class AdjustCash(Command):
    """Deposit (positive ``amount``) or withdraw (negative) cash; a withdrawal may not exceed buying power."""

    def __init__(self, account_id: i64, amount: int) -> None:
        self.account_id: Final = account_id
        self.amount: Final = amount


@mypyc_attr(acyclic=True)
class SetAccountState(Command):
    """Set an account's trading state: ACTIVE, REDUCING or HALTED (see ``accounts``)."""

    def __init__(self, account_id: i64, state: i64) -> None:
        self.account_id: Final = account_id
        self.state: Final = state


@mypyc_attr(acyclic=True)
class SetRiskLimits(Command):
    """Set an account's risk limits (``limits`` None: use the venue's), or the venue defaults (account 0)."""

    def __init__(self, account_id: i64, limits: RiskLimits | None) -> None:
        self.account_id: Final = account_id
        self.limits: Final = limits


@mypyc_attr(acyclic=True)
class SetKillSwitch(Command):
    """Engage or release a kill switch for one account or (account 0) the whole venue.

    Engaging cancels every open order in its scope, then refuses everything
    but cancels until released.
    """

    def __init__(self, account_id: i64, engaged: bool) -> None:
        self.account_id: Final = account_id
        self.engaged: Final = engaged


@mypyc_attr(acyclic=True)
class SetInstrumentHalt(Command):
    """Halt or resume trading in one symbol; while halted only cancels are accepted and orders stay."""

    def __init__(self, symbol: str, halted: bool) -> None:
        self.symbol: Final = symbol
        self.halted: Final = halted


@mypyc_attr(acyclic=True)
class SetMarkPrice(Command):
    """Mark ``symbol`` at ``price`` ticks for unrealized P&L; 0 goes back to the last trade price."""

    def __init__(self, symbol: str, price: i64) -> None:
        self.symbol: Final = symbol
        self.price: Final = price


@mypyc_attr(acyclic=True)
class SetApiKey(Command):
    """Give ``account_id`` the API key whose SHA-256 hex digest is ``key_hash``, replacing any previous key.

    Only the digest is journaled: the key itself never reaches the disk.
    """

    def __init__(self, account_id: i64, key_hash: str) -> None:
        self.account_id: Final = account_id
        self.key_hash: Final = key_hash
