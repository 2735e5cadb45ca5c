"""Fixtures for the durable core tests: instruments, a deterministic trading flow, and a reference replay.

The flow uses every kind of command that changes state (accounts, deposits,
risk limits, orders that rest and trade, amends, cancels, halts, kill
switches, marks, expiries), so a replay that drops or reorders anything
shows up as a different ``state_hash``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import pytest

from hft.domain.commands import (
    AmendOrder,
    CancelOrder,
    Command,
    EndSession,
    ExpireOrders,
    MassCancel,
    SetSelfTradePrevention,
    SubmitOrder,
)
from hft.domain.exchange.commands import (
    AdjustCash,
    CreateAccount,
    SetInstrumentHalt,
    SetKillSwitch,
    SetMarkPrice,
    SetRiskLimits,
    UpdateAccount,
)
from hft.domain.exchange.exchange import Exchange
from hft.domain.exchange.money import CASH_SCALE, QUANTITY_SCALE
from hft.domain.exchange.risk import RiskLimits
from hft.domain.instruments import Instrument, default_instruments
from hft.domain.orders import BUY, DAY, GTD, IOC, MARKET, SELL, STP_CANCEL_OLDEST
from hft.engine.codec import encode
from hft.engine.core import DurableCore

ACCOUNTS = (1, 2, 3, 4, 5)
SYMBOLS = ("AAPL", "MSFT")
# The clock the flow is run with: one millisecond per command, so GTD orders really expire.
CLOCK_START = 1_700_000_000_000_000_000
CLOCK_STEP = 1_000_000

Flow = Callable[[int], list[Command]]
Run = Callable[[DurableCore, list[Command]], list[int]]
Replay = Callable[[list[Command], list[int]], Exchange]


def stepping_clock(start: int = CLOCK_START, step: int = CLOCK_STEP) -> Callable[[], int]:
    """Return a clock that moves ``step`` ns forward on every call."""
    ticks: Iterator[int] = iter(range(start, 2**62, step))
    return lambda: next(ticks)


def _setup_commands() -> list[Command]:
    commands: list[Command] = [
        CreateAccount(account, f"trader-{account}", 10**7 * CASH_SCALE, 0, 1, 2) for account in ACCOUNTS
    ]
    commands.append(SetRiskLimits(2, RiskLimits(max_order_quantity=50 * QUANTITY_SCALE, max_open_orders=40)))
    commands.append(SetSelfTradePrevention(3, STP_CANCEL_OLDEST))
    return commands


class _FlowBuilder:
    """Builds commands one at a time, remembering the order ids the exchange will assign."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.submitted = 0  # every SubmitOrder takes the next order id, accepted or not
        self.owners: dict[int, int] = {}
        self.commands: list[Command] = _setup_commands()

    def order(self) -> Command:
        rng = self.rng
        self.submitted += 1
        account = rng.choice(ACCOUNTS)
        self.owners[self.submitted] = account
        symbol = rng.choice(SYMBOLS)
        side = rng.choice((BUY, SELL))
        quantity = rng.randint(1, 30)
        price = 10_000 + rng.randint(-6, 6)
        kind = rng.random()
        if kind < 0.08:
            return SubmitOrder(0, account, symbol, side, quantity, 0, MARKET, IOC)
        if kind < 0.14:
            return SubmitOrder(0, account, symbol, side, quantity, price, time_in_force=DAY)
        if kind < 0.20:
            return SubmitOrder(0, account, symbol, side, quantity, price, time_in_force=GTD, expire_ts=self._soon())
        client_order_id = f"c{self.submitted}" if kind < 0.5 else ""
        return SubmitOrder(0, account, symbol, side, quantity, price, client_order_id=client_order_id)

    def _soon(self) -> int:
        return CLOCK_START + (len(self.commands) + self.rng.randint(2, 40)) * CLOCK_STEP

    def other(self) -> Command:
        rng = self.rng
        order_id = max(self.submitted - rng.randint(0, 8), 1)  # mostly recent orders, some still live
        # Mostly the owner; sometimes another account, which must be refused.
        account = self.owners.get(order_id, 1) if rng.random() < 0.85 else rng.choice(ACCOUNTS)
        choice = rng.randrange(10)
        if choice < 4:
            return CancelOrder(order_id, account)
        if choice < 6:
            return AmendOrder(order_id, account, rng.randint(1, 30), 10_000 + rng.randint(-6, 6))
        if choice == 6:
            return MassCancel(account, rng.choice(("", *SYMBOLS)), rng.choice((0, BUY, SELL)))
        if choice == 7:
            return AdjustCash(account, rng.randint(1, 1000) * CASH_SCALE)
        if choice == 8:
            return SetMarkPrice(rng.choice(SYMBOLS), 10_000 + rng.randint(-20, 20))
        return rng.choice((ExpireOrders(), UpdateAccount(account, 0, 1, 3)))

    def rare(self) -> list[Command]:
        rng = self.rng
        symbol = rng.choice(SYMBOLS)
        account = rng.choice(ACCOUNTS)
        choices: list[list[Command]] = [
            [SetInstrumentHalt(symbol, True), SetInstrumentHalt(symbol, False)],
            [SetKillSwitch(account, True), SetKillSwitch(account, False)],
            [EndSession(symbol)],
        ]
        return rng.choice(choices)

    def build(self, count: int) -> list[Command]:
        while len(self.commands) < count:
            draw = self.rng.random()
            if draw < 0.65:
                self.commands.append(self.order())
            elif draw < 0.97:
                self.commands.append(self.other())
            else:
                self.commands.extend(self.rare())
        return self.commands[:count]


def trading_flow(count: int, seed: int = 11) -> list[Command]:
    """Return ``count`` deterministic commands: account set-up first, then a busy two-symbol market."""
    return _FlowBuilder(seed).build(count)


def run_commands(core: DurableCore, commands: list[Command], batch: int = 7) -> list[int]:
    """Journal and apply ``commands`` through ``core`` in batches, as the service does; return their stamps."""
    stamps: list[int] = []
    for start in range(0, len(commands), batch):
        chunk = commands[start : start + batch]
        first_sequence = core.sequence + 1
        chunk_stamps = core.write([encode(command) for command in chunk])
        core.sync()
        core.apply(chunk, chunk_stamps, first_sequence)
        stamps.extend(chunk_stamps)
    return stamps


def replay_commands(commands: list[Command], stamps: list[int]) -> Exchange:
    """Apply ``commands`` at ``stamps`` to a fresh exchange: the reference every recovery is compared with."""
    exchange = Exchange(default_instruments())
    for command, ts in zip(commands, stamps, strict=True):
        exchange.apply(command, ts)
    return exchange


@pytest.fixture
def instruments() -> list[Instrument]:
    """The default listed instruments."""
    return default_instruments()


@pytest.fixture(scope="session")
def flow() -> Flow:
    """``flow(count)``: the deterministic trading flow."""
    return trading_flow


@pytest.fixture(scope="session")
def run() -> Run:
    """``run(core, commands)``: journal and apply commands through a ``DurableCore``; returns their stamps."""
    return run_commands


@pytest.fixture(scope="session")
def replay() -> Replay:
    """``replay(commands, stamps)``: the reference exchange after applying them to a fresh one."""
    return replay_commands


@pytest.fixture(scope="session")
def new_clock() -> Callable[[], Callable[[], int]]:
    """``new_clock()``: a fresh clock that moves one millisecond per call, starting at ``CLOCK_START``."""
    return stepping_clock


@pytest.fixture
def clock() -> Callable[[], int]:
    """A clock that moves one millisecond per call, starting at ``CLOCK_START``."""
    return stepping_clock()


def flow_stamps(count: int) -> list[int]:
    """Return the stamps a fresh ``stepping_clock`` gives ``count`` commands."""
    return [CLOCK_START + index * CLOCK_STEP for index in range(count)]


@pytest.fixture(scope="session")
def traded() -> Callable[[int], Exchange]:
    """``traded(count)``: a fresh exchange after the first ``count`` commands of the flow, one millisecond apart."""
    return lambda count: replay_commands(trading_flow(count), flow_stamps(count))
