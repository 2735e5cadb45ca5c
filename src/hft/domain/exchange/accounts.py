"""Accounts: cash, credit, fees, trading state, and what their open orders commit."""

from __future__ import annotations

from collections import deque
from typing import Final

from mypy_extensions import i64, mypyc_attr

from hft.domain.exchange.positions import Position
from hft.domain.exchange.risk import RiskLimits

# Trading states: what an account may still do.
ACTIVE: Final = 1
REDUCING: Final = 2  # only orders that reduce the position, and cancels
HALTED: Final = 3  # only cancels
ACCOUNT_STATE_NAMES: Final[dict[int, str]] = {ACTIVE: "ACTIVE", REDUCING: "REDUCING", HALTED: "HALTED"}
ACCOUNT_STATES_BY_NAME: Final[dict[str, int]] = {name: value for value, name in ACCOUNT_STATE_NAMES.items()}

MAX_FEE_BPS: Final = 1000


@mypyc_attr(acyclic=True)
class Account:
    """One trading account. Cash is in cash units; fees are basis points of notional.

    ``open_orders`` and ``open_buy_notional`` are what the account's live
    orders commit; ``recent_orders`` holds the engine times of its orders in
    the last second, for the throttle.
    """

    def __init__(
        self,
        account_id: i64,
        name: str,
        cash: int,
        credit_limit: int,
        maker_fee_bps: i64,
        taker_fee_bps: i64,
    ) -> None:
        self.account_id: Final = account_id
        self.name = name
        self.cash = cash
        self.credit_limit = credit_limit
        self.maker_fee_bps = maker_fee_bps
        self.taker_fee_bps = taker_fee_bps
        self.state: i64 = ACTIVE
        self.kill_switch = False
        self.limits: RiskLimits | None = None
        self.deposits: int = cash
        self.fees_paid: int = 0
        self.reject_count: i64 = 0
        self.open_orders: i64 = 0
        self.open_buy_notional: int = 0
        self.recent_orders: deque[int] = deque()
        self.positions: dict[str, Position] = {}
        # SHA-256 hex digest of the account's API key ("" until it has one).
        self.api_key_hash = ""

    def position(self, symbol: str) -> Position:
        """Return the account's position in ``symbol``, creating a flat one on first use."""
        position = self.positions.get(symbol)
        if position is None:
            position = Position(symbol)
            self.positions[symbol] = position
        return position

    def buying_power(self) -> int:
        """Return cash plus credit not yet committed to open buy orders (cash units)."""
        return self.cash + self.credit_limit - self.open_buy_notional
