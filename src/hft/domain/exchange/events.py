"""Events about accounts, positions, risk and trading status.

They share the engine's event sequence. ``PositionChanged`` events of a
command follow all of its engine events, one per account and symbol touched.
"""

from __future__ import annotations

from typing import Final

from mypy_extensions import i64, mypyc_attr

from hft.core.rejects import reject_name, reject_text
from hft.domain.events import Event
from hft.domain.exchange.risk import RiskLimits


@mypyc_attr(acyclic=True)
class CommandRejected(Event):
    """An account, risk or status command was refused and changed nothing."""

    def __init__(self, sequence: i64, ts: i64, account: i64, code: i64) -> None:
        super().__init__(sequence, ts)
        self.account: Final = account
        self.code: Final = code

    @property
    def reason(self) -> str:
        """The stable name of the reject code."""
        return reject_name(self.code)

    @property
    def text(self) -> str:
        """A human explanation of the rejection."""
        return reject_text(self.code)


@mypyc_attr(acyclic=True)
class AccountChanged(Event):
    """An account was created or its cash, credit, fees or trading state changed; this is its new state."""

    def __init__(
        self,
        sequence: i64,
        ts: i64,
        account: i64,
        name: str,
        cash: int,
        credit_limit: int,
        maker_fee_bps: i64,
        taker_fee_bps: i64,
        state: i64,
    ) -> None:
        super().__init__(sequence, ts)
        self.account: Final = account
        self.name: Final = name
        self.cash: Final = cash
        self.credit_limit: Final = credit_limit
        self.maker_fee_bps: Final = maker_fee_bps
        self.taker_fee_bps: Final = taker_fee_bps
        self.state: Final = state


@mypyc_attr(acyclic=True)
class ApiKeyChanged(Event):
    """``account`` got a new API key (the event does not carry it, nor its digest)."""

    def __init__(self, sequence: i64, ts: i64, account: i64) -> None:
        super().__init__(sequence, ts)
        self.account: Final = account


@mypyc_attr(acyclic=True)
class RiskLimitsSet(Event):
    """An account's (or, for account 0, the venue's default) risk limits changed; None: venue defaults."""

    def __init__(self, sequence: i64, ts: i64, account: i64, limits: RiskLimits | None) -> None:
        super().__init__(sequence, ts)
        self.account: Final = account
        self.limits: Final = limits


@mypyc_attr(acyclic=True)
class KillSwitchSet(Event):
    """A kill switch for one account or (account 0) the venue was engaged or released."""

    def __init__(self, sequence: i64, ts: i64, account: i64, engaged: bool) -> None:
        super().__init__(sequence, ts)
        self.account: Final = account
        self.engaged: Final = engaged


@mypyc_attr(acyclic=True)
class InstrumentHaltSet(Event):
    """Trading in ``symbol`` was halted or resumed."""

    def __init__(self, sequence: i64, ts: i64, symbol: str, halted: bool) -> None:
        super().__init__(sequence, ts)
        self.symbol: Final = symbol
        self.halted: Final = halted


@mypyc_attr(acyclic=True)
class MarkPriceSet(Event):
    """``symbol`` is now marked at ``price`` ticks (0: at the last trade price)."""

    def __init__(self, sequence: i64, ts: i64, symbol: str, price: i64) -> None:
        super().__init__(sequence, ts)
        self.symbol: Final = symbol
        self.price: Final = price


@mypyc_attr(acyclic=True, free_list_len=1)
class PositionChanged(Event):
    """A fill changed an account's position and cash; this is the new state (lots and cash units)."""

    def __init__(
        self,
        sequence: i64,
        ts: i64,
        account: i64,
        symbol: str,
        net_quantity: i64,
        open_cost: int,
        realized_pnl: int,
        fees_paid: int,
        cash: int,
    ) -> None:
        super().__init__(sequence, ts)
        self.account: Final = account
        self.symbol: Final = symbol
        self.net_quantity: Final = net_quantity
        self.open_cost: Final = open_cost
        self.realized_pnl: Final = realized_pnl
        self.fees_paid: Final = fees_paid
        self.cash: Final = cash
