"""The exchange keeps its books: positions net to zero, cash is conserved, commitments follow live orders.

A Hypothesis state machine drives ``hft.domain.exchange.Exchange`` with three
accounts (random cash, credit and fees; a fourth may open later) on three
instruments of different tick and lot sizes, under random risk limits per
account and venue defaults (mostly generous, sometimes tight enough to bite).
Its rules submit orders of every type, time in force and flag with client
order ids (duplicates and malformed ones included), cancel, amend, mass cancel,
end the session, set account states, kill switches, instrument halts, mark
prices, risk limits, fees and credit, move cash in and out, let engine time
pass, and round-trip the whole state through a snapshot.

After every command it checks:

* event sequence numbers follow on without gaps and carry the command's time;
  each position a command's trades touched is reported once, after its other
  events, with the position and cash as they now are;
* a command answered only by rejections changed nothing but reject counts and
  the order ids it used up;
* every symbol's net positions sum to zero and cash is conserved (all cash
  plus collected fees equals all deposits); per account, cash equals deposits
  minus fees plus realized P&L minus the cost of the open positions;
* commitments equal a recomputation from the engine's live orders: open order
  counts, open buy and sell lots per position, open buy notional at each
  order's risk price (limit price, else stop price), the exchange's open
  orders are exactly the engine's;
* an independent model booked from the trades agrees on cash, fees, deposits,
  net positions, volumes, reject counts and client order records, and an
  exact (rational) average-cost P&L stays within rounding of the exchange's;
* risk verdicts: predictable rejects (unknown account, validation, kill switch,
  halted account, halted instrument, malformed or duplicate client order id,
  unknown order) carry the expected code; any other risk reject names a limit
  the order really breaks, and an accepted order breaks none.

At the end of a run, replaying every command at its time into a fresh exchange
must give the same state hash (so the snapshots taken on the way lost nothing).

``HYPOTHESIS_PROFILE=soak`` runs the machine far longer (see conftest.py).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import msgspec
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from hft.core import rejects
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
from hft.domain.events import (
    CANCEL_REASON_USER,
    Event,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
    OrderReplaced,
    TradeExecuted,
)
from hft.domain.exchange import queries
from hft.domain.exchange.accounts import ACTIVE, HALTED, REDUCING
from hft.domain.exchange.commands import (
    AdjustCash,
    CreateAccount,
    SetAccountState,
    SetInstrumentHalt,
    SetKillSwitch,
    SetMarkPrice,
    SetRiskLimits,
    UpdateAccount,
)
from hft.domain.exchange.events import (
    AccountChanged,
    CommandRejected,
    InstrumentHaltSet,
    KillSwitchSet,
    MarkPriceSet,
    PositionChanged,
    RiskLimitsSet,
)
from hft.domain.exchange.exchange import Exchange
from hft.domain.exchange.orders import CANCELLED, FILLED, NEW, PARTIALLY_FILLED
from hft.domain.exchange.risk import NO_LIMITS, RiskLimits
from hft.domain.exchange.snapshot import export_exchange, restore_exchange
from hft.domain.instruments import Instrument
from hft.domain.matching.engine import MatchingEngine
from hft.domain.orders import (
    BUY,
    DAY,
    FOK,
    GTC,
    GTD,
    IOC,
    LIMIT,
    MARKET,
    SELL,
    STOP,
    STOP_LIMIT,
    STP_CANCEL_BOTH,
    STP_CANCEL_NEWEST,
    STP_CANCEL_OLDEST,
    STP_DECREMENT_AND_CANCEL,
    STP_DEFAULT,
    STP_NONE,
)

MAX_PRICE = 150
MAX_QUANTITY = 40
# Three grids: cash units per tick-lot and quantity units per lot written out, not derived from Scale.
INSTRUMENTS = (
    Instrument("AAA", Decimal("0.01"), Decimal("1"), max_quantity=MAX_QUANTITY, max_price=MAX_PRICE),
    Instrument("BBB", Decimal("0.05"), Decimal("0.1"), max_quantity=MAX_QUANTITY, max_price=MAX_PRICE),
    Instrument("CCC", Decimal("0.5"), Decimal("0.001"), max_quantity=MAX_QUANTITY, max_price=MAX_PRICE),
)
CASH_PER_TICK_LOT = {"AAA": 1_000_000, "BBB": 500_000, "CCC": 50_000}
UNITS_PER_LOT = {"AAA": 10**8, "BBB": 10**7, "CCC": 10**5}
SYMBOLS = tuple(CASH_PER_TICK_LOT)
ACCOUNTS = (1, 2, 3)
LATE_ACCOUNT = 4  # may be opened by a rule
UNKNOWN_ACCOUNT = 5  # never opened
BPS = 10_000
ONE_SECOND = 1_000_000_000
MAX_CASH_UNITS = 10**18

# Exchange-level pre-trade risk codes: each names a limit the order must really break.
RISK_CODES = frozenset(
    {
        rejects.ORDER_RATE_EXCEEDED,
        rejects.MAX_ORDER_QUANTITY,
        rejects.MAX_ORDER_NOTIONAL,
        rejects.PRICE_OUTSIDE_COLLAR,
        rejects.MAX_OPEN_ORDERS,
        rejects.REDUCE_ONLY,
        rejects.MAX_POSITION,
        rejects.INSUFFICIENT_BUYING_POWER,
    }
)
VALID_CLIENT_IDS = ("a", "b", "c", "order-1", "x" * 64)
INVALID_CLIENT_IDS = ("two words", "x" * 65, "caf\u00e9", "tab\there")

# -- strategies ----------------------------------------------------------------

symbols = st.sampled_from([*SYMBOLS, SYMBOLS[0], SYMBOLS[0], SYMBOLS[0], SYMBOLS[1]])
# An index into the open accounts, so a late account trades too once it is open.
traders = st.integers(0, 3)
account_ids = st.sampled_from([*ACCOUNTS, *ACCOUNTS, LATE_ACCOUNT, UNKNOWN_ACCOUNT])
sides = st.sampled_from([BUY, SELL])
# Most prices near 100 so orders meet; a few far ones for the collars.
near_prices = st.integers(98, 102)
prices = st.one_of(near_prices, near_prices, near_prices, near_prices, near_prices, st.integers(80, 120))
client_ids = st.sampled_from(["", "", "", "", "", *VALID_CLIENT_IDS])
any_client_ids = st.sampled_from(["", "", *VALID_CLIENT_IDS, *INVALID_CLIENT_IDS])
# Engine time steps in nanoseconds: a little, under and over the throttle's one second.
time_steps = st.sampled_from([1, 1_000, 300_000_000, ONE_SECOND - 1, ONE_SECOND, 2_500_000_000])
expiry_offsets = st.sampled_from([1, 400_000_000, 1_500_000_000])
stp_modes = st.sampled_from(
    [
        STP_DEFAULT,
        STP_DEFAULT,
        STP_NONE,
        STP_CANCEL_NEWEST,
        STP_CANCEL_OLDEST,
        STP_CANCEL_BOTH,
        STP_DECREMENT_AND_CANCEL,
    ]
)


def _tight_or_none(*tight: int) -> st.SearchStrategy[int]:
    return st.sampled_from([0, 0, 0, 0, *tight])


# Quantity limits are in quantity units, the same for every grid: 8 * 10**8 is 8 AAA lots but 8000 CCC lots.
limits_tuples = st.tuples(
    _tight_or_none(8 * 10**8, 12 * 10**8),
    _tight_or_none(5 * 10**8, 2 * 10**9),
    st.sampled_from([0, 0, 100, 300]),  # collars of one and three ticks either side of 100
    _tight_or_none(2, 5),
    _tight_or_none(6 * 10**7, 10 * 10**8, 20 * 10**8),
    _tight_or_none(2, 5),
)
# Generous (none at all) two times in three.
risk_limits = st.one_of(st.just(NO_LIMITS), st.just(NO_LIMITS), limits_tuples.map(lambda values: RiskLimits(*values)))
invalid_limits = st.sampled_from(
    [RiskLimits(-1), RiskLimits(0, 0, BPS + 1), RiskLimits(0, 0, 0, 0, MAX_CASH_UNITS + 1)]
)
# An AAA order of 10 lots at 100 is worth 10**9 cash units.
cash_amounts = st.sampled_from([0, 3 * 10**8, 2 * 10**9, 10**10, 10**11, 10**12, 10**12])
credit_amounts = st.sampled_from([0, 0, 10**9, 10**11])
maker_fees = st.sampled_from([0, 0, 2, 10, 1_000])
taker_fees = st.sampled_from([0, 0, 5, 30, 1_000])


@dataclass(frozen=True)
class AccountTerms:
    """What an account opens with."""

    cash: int
    credit: int
    maker_fee_bps: int
    taker_fee_bps: int


account_terms = st.builds(AccountTerms, cash_amounts, credit_amounts, maker_fees, taker_fees)


@dataclass(frozen=True)
class OrderTerms:
    """A valid new order, less its account, symbol, client order id and expire time."""

    side: int
    quantity: int
    price: int
    order_type: int
    time_in_force: int
    stop_price: int
    display_quantity: int
    post_only: bool
    self_trade_prevention: int
    expire_in: int


ORDER_TYPES = {"resting": [LIMIT], "taking": [LIMIT, MARKET], "stop": [STOP, STOP_LIMIT]}
TIMES_IN_FORCE = {"resting": [GTC, GTC, DAY, GTD], "taking": [IOC, FOK, GTC], "stop": [GTC, GTC, IOC, FOK, DAY, GTD]}


@st.composite
def order_terms(draw: st.DrawFn, kind: str) -> OrderTerms:
    """Draw a valid order: resting near the touch, taking through it, a stop, or (kind "any") anything valid."""
    side = draw(sides)
    order_type = draw(st.sampled_from(ORDER_TYPES.get(kind, [LIMIT, LIMIT, MARKET, STOP, STOP_LIMIT])))
    if order_type == MARKET:
        time_in_force = draw(st.sampled_from([IOC, FOK]))
    else:
        time_in_force = draw(st.sampled_from(TIMES_IN_FORCE.get(kind, [GTC, GTC, IOC, FOK, DAY, GTD])))
    quantity = draw(st.integers(1, 20 if kind == "taking" else 12))
    price = 0
    if order_type in (LIMIT, STOP_LIMIT):
        # A taker prices through the other side; everyone else near 100.
        through = st.integers(100, 106) if side == BUY else st.integers(94, 100)
        price = draw(through if kind == "taking" else prices)
    stop_price = draw(prices) if order_type in (STOP, STOP_LIMIT) else 0
    rests = order_type == LIMIT and time_in_force in (GTC, DAY, GTD)
    iceberg = rests and quantity > 1 and draw(st.sampled_from([False, False, True]))
    display = draw(st.integers(1, quantity - 1)) if iceberg else 0
    post_only = rests and draw(st.sampled_from([False, False, False, True]))
    expire_in = draw(expiry_offsets) if time_in_force == GTD else 0
    stp = draw(stp_modes)
    return OrderTerms(side, quantity, price, order_type, time_in_force, stop_price, display, post_only, stp, expire_in)


# -- the reference model ---------------------------------------------------------


@dataclass
class ModelPosition:
    """One account's position in one symbol, booked from trades with exact average cost."""

    net: int = 0
    volume: int = 0
    fees: int = 0
    trade_cash: int = 0  # what sales brought in minus what purchases cost
    cost: Fraction = Fraction(0)  # signed cost of the open position
    realized: Fraction = Fraction(0)
    closes: int = 0  # fills that closed part of a position: each may round by a unit or two

    def fill(self, lots: int, notional: int) -> None:
        """Book a fill of ``lots`` (negative: sold) worth ``notional``, realizing P&L at exact average cost."""
        self.volume += abs(lots)
        self.trade_cash += -notional if lots > 0 else notional
        per_lot = Fraction(notional, abs(lots))
        if self.net == 0 or (self.net > 0) == (lots > 0):
            self.cost += per_lot * lots
            self.net += lots
            return
        closing = min(abs(lots), abs(self.net))
        average = self.cost / self.net  # positive: cost per lot held, long or short
        self.realized += closing * (per_lot - average if lots < 0 else average - per_lot)
        self.cost -= self.cost * closing / abs(self.net)
        self.closes += 1
        self.net += lots
        opening = abs(lots) - closing
        if opening:
            self.cost = per_lot * opening * (1 if lots > 0 else -1)


@dataclass
class ModelAccount:
    """What the model knows of an account: terms, status and money, kept from the commands and trades."""

    cash: int
    credit: int
    maker_fee_bps: int
    taker_fee_bps: int
    deposits: int
    state: int = ACTIVE
    kill_switch: bool = False
    limits: RiskLimits | None = None
    fees_paid: int = 0
    reject_count: int = 0
    accepted: list[int] = field(default_factory=list)  # engine times of its accepted orders
    # True while the throttle limit in force never changed, so the throttle's memory is exact.
    throttle_exact: bool = True
    positions: dict[str, ModelPosition] = field(default_factory=dict)

    def position(self, symbol: str) -> ModelPosition:
        return self.positions.setdefault(symbol, ModelPosition())


@dataclass
class OrderHistory:
    """What became of one accepted order, from its events."""

    filled: int = 0
    filled_notional: int = 0
    status: int = NEW
    cancel_reason: int = 0


@dataclass(frozen=True)
class RiskVerdict:
    """Which pre-trade limits an order breaks (``broken``), and which rejects it may get (``allowed``)."""

    broken: frozenset[int]
    allowed: frozenset[int]


# -- helpers -------------------------------------------------------------------


def comparable_state(exchange: Exchange) -> list[Any]:
    """Export the exchange with what a rejection may change neutralised.

    Reject counts and used-up order ids change; so do the event sequence and, in
    the engine, GTD expiry entries of orders already gone (pruned as time passes).
    """
    data = export_exchange(exchange)
    engine = data[0]
    live = exchange.engine.orders
    engine[0] = engine[1] = 0  # sequence, engine's last order id
    engine[5] = sorted(
        [expire_ts, order_id]
        for expire_ts, order_id in engine[5]
        if order_id in live and live[order_id].expire_ts == expire_ts
    )
    data[1] = 0  # the exchange's last order id
    for account_row in data[7]:
        account_row[11] = 0  # reject count
    return data


def reference_price(engine: MatchingEngine, symbol: str) -> int:
    """Return the last trade price, else the mid (rounded down), else 0."""
    book = engine.books[symbol]
    if book.last_price:
        return book.last_price
    bid, ask = book.bids.best(), book.asks.best()
    return (bid.price + ask.price) // 2 if bid is not None and ask is not None else 0


def market_risk_price(engine: MatchingEngine, symbol: str, side: int, collar_bps: int) -> int:
    """Return what a MARKET order is measured at: the collar's far edge, else the best contra, else the last."""
    reference = reference_price(engine, symbol)
    book = engine.books[symbol]
    if collar_bps and reference:
        offset = reference * collar_bps // BPS
        return reference + offset if side == BUY else max(reference - offset, 1)
    best = book.contra(side).best()
    return best.price if best is not None else book.last_price


def outside_collar(price: int, reference: int, collar_bps: int) -> bool:
    return bool(collar_bps and reference and price and abs(price - reference) * BPS > collar_bps * reference)


def reduces(net: int, side: int, lots: int) -> bool:
    """Say whether ``lots`` on ``side`` (all of an account's orders there) could at most flatten ``net``."""
    return net < 0 and lots <= -net if side == BUY else net > 0 and lots <= net


def valid_risk_limits(limits: RiskLimits) -> bool:
    values = limits.as_tuple()
    return min(values) >= 0 and max(values) <= MAX_CASH_UNITS and limits.price_collar_bps <= BPS


def event_about(events: list[Event], order_id: int) -> OrderAccepted | OrderRejected | None:
    """Return the acceptance or rejection of ``order_id`` among ``events``."""
    for event in events:
        if isinstance(event, OrderAccepted | OrderRejected) and event.order_id == order_id:
            return event
    return None


def only_rejections(events: list[Event]) -> bool:
    return all(isinstance(event, OrderRejected | CommandRejected) for event in events)


def rejection_codes(events: list[Event]) -> list[int]:
    return [event.code for event in events if isinstance(event, OrderRejected | CommandRejected)]


# -- the machine ---------------------------------------------------------------


class ExchangeMachine(RuleBasedStateMachine):
    """Drive one exchange with every kind of command; check its books against a model after every step."""

    def __init__(self) -> None:
        super().__init__()
        self.exchange = Exchange(INSTRUMENTS)
        self.ts = 1
        self.accounts: dict[int, ModelAccount] = {}
        self.default_limits = NO_LIMITS
        self.venue_kill_switch = False
        self.halted: set[str] = set()
        self.marks: dict[str, int] = {}
        self.client_ids: set[tuple[int, str]] = set()
        self.histories: dict[int, OrderHistory] = {}
        self.fees_collected = 0
        # Every command applied, with its time and the venue defaults it started from, for the replay at the end.
        self.journal: list[tuple[Command, int]] = []
        self.initial_limits = NO_LIMITS

    # -- running one command ---------------------------------------------------

    def run(self, command: Command) -> list[Event]:
        """Apply ``command`` at the current time, book its events in the model and check the event stream."""
        exchange = self.exchange
        before = comparable_state(exchange)
        first_sequence = exchange.engine.sequence + 1
        events = exchange.apply(command, self.ts)
        self.journal.append((command, self.ts))
        for offset, event in enumerate(events):
            assert (event.sequence, event.ts) == (first_sequence + offset, self.ts), f"event {offset} of {command!r}"
        for event in events:
            self.book(event)
        self.check_position_reports(events)
        if only_rejections(events):
            after = comparable_state(exchange)
            assert after == before, (
                f"{type(command).__name__} was only rejected ({rejection_codes(events)}) yet changed state"
            )
        return events

    def book(self, event: Event) -> None:
        """Book one event in the model."""
        if isinstance(event, OrderAccepted):
            self.accounts[event.account].accepted.append(event.ts)
            if event.client_order_id:
                self.client_ids.add((event.account, event.client_order_id))
            self.histories[event.order_id] = OrderHistory()
        elif isinstance(event, TradeExecuted):
            self.book_trade(event)
        elif isinstance(event, OrderCancelled):
            history = self.histories[event.order_id]
            history.status, history.cancel_reason = CANCELLED, event.reason
        elif isinstance(event, OrderRejected) and event.account in self.accounts:
            self.accounts[event.account].reject_count += 1

    def book_trade(self, trade: TradeExecuted) -> None:
        """Move cash, fees and positions for one trade, the way the venue's rules say."""
        notional = trade.price * trade.quantity * CASH_PER_TICK_LOT[trade.symbol]
        taker, maker = self.accounts[trade.taker_account], self.accounts[trade.maker_account]
        for account, fee_bps in ((taker, taker.taker_fee_bps), (maker, maker.maker_fee_bps)):
            fee = notional * fee_bps // BPS
            account.cash -= fee
            account.fees_paid += fee
            account.position(trade.symbol).fees += fee
            self.fees_collected += fee
        buyer, seller = (taker, maker) if trade.aggressor_side == BUY else (maker, taker)
        buyer.cash -= notional
        seller.cash += notional
        buyer.position(trade.symbol).fill(trade.quantity, notional)
        seller.position(trade.symbol).fill(-trade.quantity, notional)
        for order_id, leaves in (
            (trade.taker_order_id, trade.taker_leaves),
            (trade.maker_order_id, trade.maker_leaves),
        ):
            history = self.histories[order_id]
            history.filled += trade.quantity
            history.filled_notional += notional
            history.status = FILLED if leaves == 0 else PARTIALLY_FILLED

    def check_position_reports(self, events: list[Event]) -> None:
        """Check one PositionChanged per position the trades touched, last, showing the state as it is now."""
        touched = set()
        for event in events:
            if isinstance(event, TradeExecuted):
                touched.update({(event.taker_account, event.symbol), (event.maker_account, event.symbol)})
        reports = [event for event in events if isinstance(event, PositionChanged)]
        assert events[len(events) - len(reports) :] == reports, "a position report came before other events"
        assert [(report.account, report.symbol) for report in reports] == list(
            dict.fromkeys((report.account, report.symbol) for report in reports)
        ), "a position was reported twice"
        assert {(report.account, report.symbol) for report in reports} == touched
        for report in reports:
            account = self.exchange.accounts[report.account]
            position = account.positions[report.symbol]
            shown = (report.net_quantity, report.open_cost, report.realized_pnl, report.fees_paid, report.cash)
            assert shown == (position.net, position.open_cost, position.realized, position.fees, account.cash)

    def trader(self, pick: int) -> int:
        """Return one of the open accounts."""
        open_accounts = sorted(self.accounts)
        return open_accounts[pick % len(open_accounts)]

    def limits_of(self, account: ModelAccount) -> RiskLimits:
        return self.default_limits if account.limits is None else account.limits

    def live_orders_of(self, account_id: int) -> list[int]:
        return [order_id for order_id, order in self.exchange.engine.orders.items() if order.account == account_id]

    def open_buy_notional(self, account_id: int) -> int:
        """Recompute what the account's live buy orders commit, from the engine's orders."""
        return sum(
            order.leaves * (order.price or order.stop_price) * CASH_PER_TICK_LOT[order.symbol]
            for order in self.exchange.engine.orders.values()
            if order.account == account_id and order.side == BUY
        )

    def open_lots(self, account_id: int, symbol: str, side: int) -> int:
        return sum(
            order.leaves
            for order in self.exchange.engine.orders.values()
            if (order.account, order.symbol, order.side) == (account_id, symbol, side)
        )

    def trading_blocked(self, account_id: int, symbol: str) -> int:
        """Return the code refusing everything but cancels for this account and symbol, or 0."""
        account = self.accounts[account_id]
        if self.venue_kill_switch or account.kill_switch:
            return rejects.KILL_SWITCH_ACTIVE
        if account.state == HALTED:
            return rejects.ACCOUNT_HALTED
        if symbol in self.halted:
            return rejects.INSTRUMENT_HALTED
        return 0

    # -- accounts --------------------------------------------------------------

    @initialize(
        terms=st.lists(account_terms, min_size=len(ACCOUNTS), max_size=len(ACCOUNTS)),
        own_limits=st.lists(st.none() | risk_limits, min_size=len(ACCOUNTS), max_size=len(ACCOUNTS)),
        defaults=risk_limits,
        book=st.lists(st.tuples(traders, symbols, sides, st.integers(0, 3), st.integers(1, 10)), max_size=16),
    )
    def open_venue(
        self,
        terms: list[AccountTerms],
        own_limits: list[RiskLimits | None],
        defaults: RiskLimits,
        book: list[tuple[int, str, int, int, int]],
    ) -> None:
        """List the instruments under venue defaults, open three accounts (some with own limits), seed the books.

        The seed orders rest a few ticks deep: bids at 97..100 and asks at 100..103 (a 100 may trade).
        """
        self.exchange = Exchange(INSTRUMENTS, defaults)
        self.default_limits = self.initial_limits = defaults
        for account_id, account, limits in zip(ACCOUNTS, terms, own_limits, strict=True):
            self.create_account(account_id, account)
            if limits is not None:
                self.set_risk_limits(account_id, limits)
        for trader, symbol, side, depth, quantity in book:
            price = 100 - depth if side == BUY else 100 + depth
            seed = OrderTerms(side, quantity, price, LIMIT, GTC, 0, 0, False, STP_DEFAULT, 0)
            self.submit(self.trader(trader), symbol, seed, "")

    def create_account(self, account_id: int, terms: AccountTerms, name: str = "trader") -> None:
        command = CreateAccount(account_id, name, terms.cash, terms.credit, terms.maker_fee_bps, terms.taker_fee_bps)
        events = self.run(command)
        if account_id <= 0:
            assert rejection_codes(events) == [rejects.INVALID_ACCOUNT]
        elif account_id in self.accounts:
            assert rejection_codes(events) == [rejects.ACCOUNT_EXISTS]
        else:
            assert [type(event) for event in events] == [AccountChanged]
            fees = (terms.maker_fee_bps, terms.taker_fee_bps)
            self.accounts[account_id] = ModelAccount(terms.cash, terms.credit, *fees, deposits=terms.cash)

    def update_account(self, account_id: int, credit: int, maker_fee_bps: int, taker_fee_bps: int) -> None:
        events = self.run(UpdateAccount(account_id, credit, maker_fee_bps, taker_fee_bps))
        if account_id not in self.accounts:
            assert rejection_codes(events) == [rejects.UNKNOWN_ACCOUNT]
        elif credit < 0 or not (0 <= maker_fee_bps <= 1_000 and 0 <= taker_fee_bps <= 1_000):
            assert rejection_codes(events) == [rejects.INVALID_ACCOUNT_SETTING]
        else:
            assert [type(event) for event in events] == [AccountChanged]
            account = self.accounts[account_id]
            account.credit, account.maker_fee_bps, account.taker_fee_bps = credit, maker_fee_bps, taker_fee_bps

    def move_cash(self, account_id: int, amount: int) -> None:
        """Deposit or withdraw; a withdrawal may take neither more than the cash nor more than the buying power."""
        account = self.accounts.get(account_id)
        buying_power = 0
        if account is not None:
            buying_power = account.cash + account.credit - self.open_buy_notional(account_id)
        events = self.run(AdjustCash(account_id, amount))
        if account is None:
            assert rejection_codes(events) == [rejects.UNKNOWN_ACCOUNT]
        elif amount == 0 or abs(amount) > MAX_CASH_UNITS:
            assert rejection_codes(events) == [rejects.INVALID_ACCOUNT_SETTING]
        elif amount < 0 and -amount > min(buying_power, account.cash):
            assert rejection_codes(events) == [rejects.INSUFFICIENT_BUYING_POWER]
        else:
            assert [type(event) for event in events] == [AccountChanged]
            account.cash += amount
            account.deposits += amount

    def set_account_state(self, account_id: int, state: int) -> None:
        orders_before = dict(self.exchange.engine.orders)
        events = self.run(SetAccountState(account_id, state))
        if account_id not in self.accounts:
            assert rejection_codes(events) == [rejects.UNKNOWN_ACCOUNT]
        elif state == 0:
            assert rejection_codes(events) == [rejects.INVALID_ACCOUNT_SETTING]
        else:
            assert [type(event) for event in events] == [AccountChanged]
            self.accounts[account_id].state = state
        assert self.exchange.engine.orders == orders_before, "a state change touched live orders"

    def set_risk_limits(self, account_id: int, limits: RiskLimits | None) -> None:
        """Set an account's (or, for 0, the venue's) limits; note whose throttle memory stops being exact."""
        rates_before = {key: self.limits_of(account).max_orders_per_second for key, account in self.accounts.items()}
        events = self.run(SetRiskLimits(account_id, limits))
        if (limits is not None and not valid_risk_limits(limits)) or (account_id == 0 and limits is None):
            assert rejection_codes(events) == [rejects.INVALID_ACCOUNT_SETTING]
        elif account_id != 0 and account_id not in self.accounts:
            assert rejection_codes(events) == [rejects.UNKNOWN_ACCOUNT]
        else:
            assert [type(event) for event in events] == [RiskLimitsSet]
            if account_id == 0:
                assert limits is not None
                self.default_limits = limits
            else:
                self.accounts[account_id].limits = limits
        for key, account in self.accounts.items():
            if self.limits_of(account).max_orders_per_second != rates_before[key]:
                account.throttle_exact = False

    def set_kill_switch(self, account_id: int, engaged: bool) -> None:
        """Engage or release a kill switch; engaging leaves no live order in its scope."""
        events = self.run(SetKillSwitch(account_id, engaged))
        if account_id != 0 and account_id not in self.accounts:
            assert rejection_codes(events) == [rejects.UNKNOWN_ACCOUNT]
            return
        assert isinstance(events[0], KillSwitchSet)
        for event in events:
            assert not isinstance(event, OrderAccepted | TradeExecuted)
            if isinstance(event, OrderCancelled):
                assert engaged, f"releasing a kill switch cancelled order {event.order_id}"
                assert account_id in (0, event.account), f"kill switch cancelled order {event.order_id}"
        if account_id == 0:
            self.venue_kill_switch = engaged
            if engaged:
                assert not self.exchange.engine.orders
        else:
            self.accounts[account_id].kill_switch = engaged
            if engaged:
                assert not self.live_orders_of(account_id)

    def set_instrument_halt(self, symbol: str, halted: bool) -> None:
        orders_before = dict(self.exchange.engine.orders)
        events = self.run(SetInstrumentHalt(symbol, halted))
        if symbol not in SYMBOLS:
            assert rejection_codes(events) == [rejects.UNKNOWN_SYMBOL]
        else:
            assert [type(event) for event in events] == [InstrumentHaltSet]
            if halted:
                self.halted.add(symbol)
            else:
                self.halted.discard(symbol)
        assert self.exchange.engine.orders == orders_before, "a halt touched live orders"

    def set_mark_price(self, symbol: str, price: int) -> None:
        events = self.run(SetMarkPrice(symbol, price))
        if symbol not in SYMBOLS:
            assert rejection_codes(events) == [rejects.UNKNOWN_SYMBOL]
        elif not 0 <= price <= MAX_PRICE:
            assert rejection_codes(events) == [rejects.INVALID_PRICE]
        else:
            assert [type(event) for event in events] == [MarkPriceSet]
            if price:
                self.marks[symbol] = price
            else:
                self.marks.pop(symbol, None)

    @rule(
        action=st.sampled_from(["open", "update", "cash", "cash", "state", "state", "limits", "limits"]), data=st.data()
    )
    def administer_account(self, action: str, data: st.DataObject) -> None:
        """Open an account, change its credit and fees, move cash, set its trading state or its risk limits."""
        if action == "open":
            account_id = data.draw(st.sampled_from([LATE_ACCOUNT, LATE_ACCOUNT, ACCOUNTS[0], 0]), label="account_id")
            self.create_account(account_id, data.draw(account_terms, label="terms"))
        elif action == "update":
            credit = data.draw(st.sampled_from([0, 10**9, 10**11, -1]), label="credit")
            maker_fee = data.draw(st.sampled_from([0, 3, 1_000, 1_001]), label="maker_fee_bps")
            taker_fee = data.draw(st.sampled_from([0, 7, 1_000, -1]), label="taker_fee_bps")
            self.update_account(data.draw(account_ids, label="account_id"), credit, maker_fee, taker_fee)
        elif action == "cash":
            amounts = [10**9, 10**10, 10**12, -(10**8), -(10**9), -(10**10), -(10**12), 0, MAX_CASH_UNITS + 1]
            self.move_cash(
                data.draw(account_ids, label="account_id"), data.draw(st.sampled_from(amounts), label="amount")
            )
        elif action == "state":
            states = [ACTIVE, ACTIVE, REDUCING, REDUCING, HALTED, 0]
            self.set_account_state(data.draw(account_ids, label="account_id"), data.draw(st.sampled_from(states)))
        else:
            account_id = data.draw(st.sampled_from([0, 0, *ACCOUNTS, UNKNOWN_ACCOUNT]), label="account_id")
            limits = data.draw(st.one_of(risk_limits, risk_limits, st.none(), invalid_limits), label="limits")
            self.set_risk_limits(account_id, limits)

    @rule(action=st.sampled_from(["kill_switch", "halt", "halt", "mark", "mark"]), data=st.data())
    def administer_venue(self, action: str, data: st.DataObject) -> None:
        """Engage or release a kill switch, halt or resume an instrument, or set a mark price."""
        symbol = data.draw(st.sampled_from([*SYMBOLS, *SYMBOLS, "ZZZ"]), label="symbol")
        if action == "kill_switch":
            engaged = data.draw(st.sampled_from([True, False, False]), label="engaged")
            # Releases go mostly to the switches engaged, so the venue does not stay shut for the rest of a run.
            scope = [0, *ACCOUNTS, *ACCOUNTS, UNKNOWN_ACCOUNT]
            if not engaged:
                scope = [0] * self.venue_kill_switch + [key for key, held in self.accounts.items() if held.kill_switch]
            account_id = data.draw(st.sampled_from(scope or [0, *ACCOUNTS]), label="account_id")
            self.set_kill_switch(account_id, engaged)
        elif action == "halt":
            self.set_instrument_halt(symbol, data.draw(st.sampled_from([True, False, False]), label="halted"))
        else:
            price = data.draw(st.sampled_from([0, 1, 99, 100, 104, MAX_PRICE, -1, MAX_PRICE + 1]), label="price")
            self.set_mark_price(symbol, price)

    # -- orders ----------------------------------------------------------------

    @rule(trader=traders, symbol=symbols, terms=order_terms("resting"), client_order_id=client_ids)
    def submit_resting(self, trader: int, symbol: str, terms: OrderTerms, client_order_id: str) -> None:
        self.submit(self.trader(trader), symbol, terms, client_order_id)

    @rule(trader=traders, symbol=symbols, terms=order_terms("taking"), client_order_id=client_ids)
    def submit_taking(self, trader: int, symbol: str, terms: OrderTerms, client_order_id: str) -> None:
        self.submit(self.trader(trader), symbol, terms, client_order_id)

    @rule(trader=traders, symbol=symbols, terms=order_terms("stop"), client_order_id=client_ids)
    def submit_stop(self, trader: int, symbol: str, terms: OrderTerms, client_order_id: str) -> None:
        self.submit(self.trader(trader), symbol, terms, client_order_id)

    @rule(trader=traders, symbol=symbols, price=near_prices, slack=st.integers(-1, 1))
    def submit_to_buying_power(self, trader: int, symbol: str, price: int, slack: int) -> None:
        """Buy about as much as cash plus credit still covers, taker fee included: probes the buying-power edge."""
        account_id = self.trader(trader)
        account = self.accounts[account_id]
        buying_power = account.cash + account.credit - self.open_buy_notional(account_id)
        lot_cost = price * CASH_PER_TICK_LOT[symbol] * (BPS + account.taker_fee_bps) // BPS
        quantity = min(max(buying_power // lot_cost + slack, 1), MAX_QUANTITY)
        terms = OrderTerms(BUY, quantity, price, LIMIT, GTC, 0, 0, False, STP_DEFAULT, 0)
        self.submit(account_id, symbol, terms, "")

    @rule(trader=traders, symbol=symbols, slack=st.integers(-2, 2), rests=st.booleans())
    def submit_reducing(self, trader: int, symbol: str, slack: int, rests: bool) -> None:
        """Order about what would flatten the position, counting the orders already working on that side.

        Probes the reduce-only and position limits at their edges.
        """
        account_id = self.trader(trader)
        held = self.accounts[account_id].positions.get(symbol)
        net: int = held.net if held is not None else 0
        side = SELL if net > 0 else BUY
        quantity = min(max(abs(net) - self.open_lots(account_id, symbol, side) + slack, 1), MAX_QUANTITY)
        # A resting order waits away from the touch; otherwise it takes what it can and goes.
        price = (103 if side == SELL else 97) if rests else (90 if side == SELL else 110)
        terms = OrderTerms(side, quantity, price, LIMIT, GTC if rests else IOC, 0, 0, False, STP_DEFAULT, 0)
        self.submit(account_id, symbol, terms, "")

    @rule(
        trader=traders,
        symbol=symbols,
        side=sides,
        market=st.booleans(),
        slack=st.integers(-3, 3),
        stp=stp_modes,
    )
    def sweep(self, trader: int, symbol: str, side: int, market: bool, slack: int, stp: int) -> None:
        """Take about all the liquidity on the other side, so that trades are frequent and large."""
        resting = sum(
            order.leaves
            for order in self.exchange.engine.orders.values()
            if order.symbol == symbol and order.side != side and order.level is not None
        )
        quantity = min(max(resting + slack, 1), MAX_QUANTITY)
        price = 0 if market else (110 if side == BUY else 90)
        order_type = MARKET if market else LIMIT
        terms = OrderTerms(side, quantity, price, order_type, IOC, 0, 0, False, stp, 0)
        self.submit(self.trader(trader), symbol, terms, "")

    @rule(
        account_id=st.sampled_from([*ACCOUNTS, LATE_ACCOUNT, UNKNOWN_ACCOUNT, 0]),
        symbol=st.sampled_from([*SYMBOLS, "ZZZ"]),
        terms=order_terms("any"),
        client_order_id=any_client_ids,
        fault=st.sampled_from(["none", "none", "quantity", "side"]),
    )
    def submit_anything(
        self, account_id: int, symbol: str, terms: OrderTerms, client_order_id: str, fault: str
    ) -> None:
        """Submit whatever: unknown accounts and symbols, bad terms, malformed and reused client order ids."""
        self.submit(account_id, symbol, terms, client_order_id, fault)

    def submit(
        self, account_id: int, symbol: str, terms: OrderTerms, client_order_id: str, fault: str = "none"
    ) -> None:
        """Submit an order; predictable rejects carry their code, risk verdicts name limits really broken."""
        quantity = 0 if fault == "quantity" else terms.quantity
        side = 3 if fault == "side" else terms.side
        expire_ts = self.ts + terms.expire_in if terms.expire_in else 0
        command = SubmitOrder(
            0,
            account_id,
            symbol,
            side,
            quantity,
            terms.price,
            terms.order_type,
            terms.time_in_force,
            terms.stop_price,
            terms.display_quantity,
            terms.post_only,
            terms.self_trade_prevention,
            expire_ts,
            client_order_id,
        )
        expected = self.predicted_submit_reject(command, fault)
        verdict = RiskVerdict(frozenset(), frozenset()) if expected else self.risk_verdict(command)
        order_id = self.exchange.last_order_id + 1  # the exchange numbers every new order, refused ones too
        events = self.run(command)
        assert self.exchange.last_order_id == order_id
        outcome = event_about(events, order_id)
        assert outcome is not None, "a new order got neither an acceptance nor a rejection"
        if expected:
            assert isinstance(outcome, OrderRejected)
            assert (outcome.code, outcome.account) == (expected, account_id)
            return
        if isinstance(outcome, OrderAccepted):
            terms_seen = (outcome.account, outcome.symbol, outcome.side, outcome.order_type, outcome.time_in_force)
            assert terms_seen == (account_id, symbol, command.side, command.order_type, command.time_in_force)
            prices_seen = (outcome.price, outcome.stop_price, outcome.quantity, outcome.display_quantity)
            assert prices_seen == (command.price, command.stop_price, command.quantity, command.display_quantity)
            assert outcome.client_order_id == client_order_id
        if isinstance(outcome, OrderRejected) and outcome.code != rejects.POST_ONLY_WOULD_TAKE:
            assert outcome.code in verdict.allowed, f"rejected {rejects.reject_name(outcome.code)}: {verdict}"
        else:
            assert not verdict.broken, f"order {order_id} was let through but breaks {verdict}"

    def predicted_submit_reject(self, command: SubmitOrder, fault: str) -> int:
        """Return the reject code the order must get, or 0 where only the risk limits can tell."""
        account_id, symbol, client_order_id = command.account, command.symbol, command.client_order_id
        if account_id not in self.accounts:
            return rejects.UNKNOWN_ACCOUNT
        if symbol not in SYMBOLS:
            return rejects.UNKNOWN_SYMBOL
        if fault == "side":
            return rejects.INVALID_SIDE
        if fault == "quantity":
            return rejects.INVALID_QUANTITY
        blocked = self.trading_blocked(account_id, symbol)
        if blocked:
            return blocked
        if client_order_id in INVALID_CLIENT_IDS:
            return rejects.INVALID_CLIENT_ORDER_ID
        if (account_id, client_order_id) in self.client_ids:
            return rejects.DUPLICATE_CLIENT_ORDER_ID
        return 0

    def risk_verdict(self, command: SubmitOrder) -> RiskVerdict:
        """Say which limits ``command`` breaks now, recomputing every commitment from the engine's orders."""
        account = self.accounts[command.account]
        limits = self.limits_of(account)
        symbol, side, quantity = command.symbol, command.side, command.quantity
        engine = self.exchange.engine
        if command.order_type in (LIMIT, STOP_LIMIT):
            risk_price = command.price
        elif command.order_type == STOP:
            risk_price = command.stop_price
        else:
            risk_price = market_risk_price(engine, symbol, side, limits.price_collar_bps)
        notional = risk_price * quantity * CASH_PER_TICK_LOT[symbol]
        reference = reference_price(engine, symbol)
        held = account.positions.get(symbol)
        net: int = held.net if held is not None else 0
        same_side = self.open_lots(command.account, symbol, side)
        worst: int = net + same_side + quantity if side == BUY else net - same_side - quantity
        buying_power = account.cash + account.credit - self.open_buy_notional(command.account)
        collar = limits.price_collar_bps if command.order_type != MARKET else 0
        breaks = {
            rejects.MAX_ORDER_QUANTITY: 0 < limits.max_order_quantity < quantity * UNITS_PER_LOT[symbol],
            rejects.MAX_ORDER_NOTIONAL: 0 < limits.max_order_notional < notional,
            rejects.PRICE_OUTSIDE_COLLAR: outside_collar(command.price, reference, collar)
            or outside_collar(command.stop_price, reference, collar),
            rejects.MAX_OPEN_ORDERS: 0 < limits.max_open_orders <= len(self.live_orders_of(command.account)),
            rejects.REDUCE_ONLY: account.state == REDUCING and not reduces(net, side, same_side + quantity),
            rejects.MAX_POSITION: 0 < limits.max_position < abs(worst) * UNITS_PER_LOT[symbol],
            rejects.INSUFFICIENT_BUYING_POWER: side == BUY
            and notional + notional * account.taker_fee_bps // BPS > buying_power,
        }
        broken = {code for code, holds in breaks.items() if holds}
        allowed = set(broken)
        per_second = limits.max_orders_per_second
        if per_second and sum(1 for ts in account.accepted if ts > self.ts - ONE_SECOND) >= per_second:
            # The throttle only remembers accepts; with its limit unchanged since the start it remembers enough.
            allowed.add(rejects.ORDER_RATE_EXCEEDED)
            if account.throttle_exact:
                broken.add(rejects.ORDER_RATE_EXCEEDED)
        return RiskVerdict(frozenset(broken), frozenset(allowed))

    def pick_live_order(self, pick: int) -> int:
        """Return a live order id (0 if there is none)."""
        ids = sorted(self.exchange.engine.orders)
        return ids[pick % len(ids)] if ids else 0

    def account_for(self, order_id: int, foreign: bool) -> int:
        """Return the owner of ``order_id``, or (``foreign``) someone else."""
        order = self.exchange.engine.orders.get(order_id)
        owner = order.account if order is not None else ACCOUNTS[0]
        return (owner % len(ACCOUNTS)) + 1 if foreign else owner

    @precondition(lambda self: bool(self.exchange.engine.orders))
    @rule(
        pick=st.integers(0, 1_000),
        unknown=st.sampled_from([False] * 7 + [True]),
        foreign=st.sampled_from([False] * 7 + [True]),
    )
    def cancel(self, pick: int, unknown: bool, foreign: bool) -> None:
        """Cancel an order: only its owner can, whatever the kill switches and halts say."""
        order_id = self.exchange.last_order_id + 1 if unknown else self.pick_live_order(pick)
        account_id = self.account_for(order_id, foreign)
        live = self.exchange.engine.orders.get(order_id)
        events = self.run(CancelOrder(order_id, account_id))
        if live is None or live.account != account_id:
            assert rejection_codes(events) == [rejects.UNKNOWN_ORDER]
        else:
            cancelled = [event for event in events if isinstance(event, OrderCancelled)]
            assert [(event.order_id, event.reason) for event in cancelled] == [(order_id, CANCEL_REASON_USER)]
            assert order_id not in self.exchange.engine.orders

    @precondition(lambda self: bool(self.exchange.engine.orders))
    @rule(
        pick=st.integers(0, 1_000),
        unknown=st.sampled_from([False] * 9 + [True]),
        foreign=st.sampled_from([False] * 9 + [True]),
        change=st.integers(-5, 5),
        new_price=st.one_of(st.just(0), st.just(0), prices),
        new_stop=st.one_of(st.just(0), st.just(0), prices),
    )
    def amend(self, pick: int, unknown: bool, foreign: bool, change: int, new_price: int, new_stop: int) -> None:
        """Amend an order: blocked accounts and instruments get their code, risk verdicts name limits broken."""
        order_id = self.exchange.last_order_id + 1 if unknown else self.pick_live_order(pick)
        account_id = self.account_for(order_id, foreign)
        live = self.exchange.engine.orders.get(order_id)
        expected = rejects.UNKNOWN_ORDER
        quantity, price, stop_price, broken = 5 + change, 0, 0, frozenset[int]()
        if live is not None:
            quantity = live.quantity + change
            price = new_price if live.order_type in (LIMIT, STOP_LIMIT) else 0
            stop_price = new_stop if live.level is None else 0
            if live.account == account_id:
                expected = self.trading_blocked(account_id, live.symbol)
                broken = self.amend_verdict(order_id, quantity, price, stop_price)
        events = self.run(AmendOrder(order_id, account_id, quantity, price, stop_price))
        if expected:
            assert rejection_codes(events) == [expected]
            return
        assert live is not None
        replaced = [event.order_id for event in events if isinstance(event, OrderReplaced)]
        codes = rejection_codes(events)
        assert replaced == [order_id] or len(codes) == 1
        if codes and codes[0] in RISK_CODES:
            assert codes[0] in broken, f"amend rejected {rejects.reject_name(codes[0])}, but it breaks {set(broken)}"
        else:
            assert not broken, f"amend was let through but breaks {set(broken)}"

    def amend_verdict(self, order_id: int, quantity: int, price: int, stop_price: int) -> frozenset[int]:
        """Say which limits amending live order ``order_id`` to these terms breaks (none if the engine refuses it)."""
        order = self.exchange.engine.orders[order_id]
        account = self.accounts[order.account]
        limits = self.limits_of(account)
        symbol, side = order.symbol, order.side
        # The exchange checks a quantity of 0 as if unchanged (the engine then refuses it as invalid).
        quantity = quantity or order.quantity
        new_leaves = quantity - order.filled
        if new_leaves <= 0:
            return frozenset()
        new_price, new_stop = price or order.price, stop_price or order.stop_price
        risk_price = new_price or new_stop
        added = new_leaves - order.leaves
        held = account.positions.get(symbol)
        net: int = held.net if held is not None else 0
        same_side = self.open_lots(order.account, symbol, side)
        worst: int = net + same_side + added if side == BUY else net - same_side - added
        extra = (risk_price * new_leaves - (order.price or order.stop_price) * order.leaves) * CASH_PER_TICK_LOT[symbol]
        buying_power = account.cash + account.credit - self.open_buy_notional(order.account)
        reference, collar = reference_price(self.exchange.engine, symbol), limits.price_collar_bps
        breaks = {
            rejects.MAX_ORDER_QUANTITY: 0 < limits.max_order_quantity < quantity * UNITS_PER_LOT[symbol],
            rejects.MAX_ORDER_NOTIONAL: 0
            < limits.max_order_notional
            < risk_price * quantity * CASH_PER_TICK_LOT[symbol],
            # Only a changed price has to pass the collar.
            rejects.PRICE_OUTSIDE_COLLAR: (new_price != order.price and outside_collar(new_price, reference, collar))
            or (new_stop != order.stop_price and outside_collar(new_stop, reference, collar)),
            # A reducing account may add to an order only while all its orders on that side still reduce.
            rejects.REDUCE_ONLY: account.state == REDUCING
            and added > 0
            and not reduces(net, side, same_side - order.leaves + new_leaves),
            rejects.MAX_POSITION: added > 0 and 0 < limits.max_position < abs(worst) * UNITS_PER_LOT[symbol],
            rejects.INSUFFICIENT_BUYING_POWER: side == BUY
            and extra > 0
            and extra + extra * account.taker_fee_bps // BPS > buying_power,
        }
        return frozenset(code for code, holds in breaks.items() if holds)

    @rule(
        kind=st.sampled_from(["mass_cancel", "mass_cancel", "end_session", "self_trade_prevention"]),
        account_id=st.sampled_from([*ACCOUNTS, UNKNOWN_ACCOUNT, 0]),
        symbol=st.sampled_from(["", "", *SYMBOLS, "ZZZ"]),
        side=st.sampled_from([0, 0, BUY, SELL, 3]),
        mode=st.integers(0, 5),
    )
    def housekeeping(self, kind: str, account_id: int, symbol: str, side: int, mode: int) -> None:
        """Mass cancel, end the session (DAY orders expire) or set an account's self-trade prevention mode."""
        if kind == "mass_cancel":
            self.mass_cancel(account_id, symbol, side)
        elif kind == "end_session":
            events = self.run(EndSession(symbol))
            if symbol not in ("ZZZ", ""):
                assert not any(
                    order.time_in_force == DAY and symbol in ("", order.symbol)
                    for order in self.exchange.engine.orders.values()
                )
            assert rejection_codes(events) == ([rejects.UNKNOWN_SYMBOL] if symbol == "ZZZ" else [])
        else:
            self.run(SetSelfTradePrevention(account_id, mode))

    def mass_cancel(self, account_id: int, symbol: str, side: int) -> None:
        """Cancel an account's orders; none in scope may survive, whatever kill switches and halts say."""
        events = self.run(MassCancel(account_id, symbol, side))
        expected = []
        if account_id <= 0:
            expected = [rejects.INVALID_ACCOUNT]
        elif symbol and symbol not in SYMBOLS:
            expected = [rejects.UNKNOWN_SYMBOL]
        elif side not in (0, BUY, SELL):
            expected = [rejects.INVALID_SIDE]
        assert rejection_codes(events) == expected
        for order in self.exchange.engine.orders.values():
            in_scope = order.account == account_id and symbol in ("", order.symbol) and side in (0, order.side)
            assert not in_scope or expected, f"order {order.order_id} survived its mass cancel"

    @rule(step=time_steps)
    def let_time_pass(self, step: int) -> None:
        """Advance engine time; the GTD orders it reaches expire."""
        self.ts += step
        self.run(ExpireOrders())

    @rule()
    def snapshot_round_trip(self) -> None:
        """Write the state as a snapshot file would, read it back, and carry on with the copy."""
        payload = msgspec.msgpack.encode(export_exchange(self.exchange))
        restored = restore_exchange(INSTRUMENTS, msgspec.msgpack.decode(payload))
        assert queries.state_hash(restored) == queries.state_hash(self.exchange)
        self.exchange = restored

    def teardown(self) -> None:
        """Replay the journal into a fresh exchange: the same commands at the same times give the same state."""
        replayed = Exchange(INSTRUMENTS, self.initial_limits)
        for command, ts in self.journal:
            replayed.apply(command, ts)
        assert queries.state_hash(replayed) == queries.state_hash(self.exchange), "replay diverged"

    # -- invariants ------------------------------------------------------------

    @invariant()
    def positions_net_to_zero_and_cash_is_conserved(self) -> None:
        exchange = self.exchange
        assert all(net == 0 for net in queries.net_positions(exchange).values()), queries.net_positions(exchange)
        assert queries.cash_conserved(exchange)
        for account_id, account in exchange.accounts.items():
            positions = account.positions.values()
            pnl = sum(position.realized for position in positions) - sum(position.open_cost for position in positions)
            assert account.cash == account.deposits - account.fees_paid + pnl, f"account {account_id}'s cash"
            for position in positions:
                assert position.net != 0 or position.open_cost == 0, f"flat {position.symbol} still has a cost"

    @invariant()
    def commitments_follow_live_orders(self) -> None:
        exchange = self.exchange
        live = exchange.engine.orders
        assert set(exchange.open_orders) == set(live)
        counts: Counter[int] = Counter()
        lots: Counter[tuple[int, str, int]] = Counter()
        for order_id, order in live.items():
            assert order.time_in_force != GTD or order.expire_ts > self.ts, f"order {order_id} outlived its expiry"
            counts[order.account] += 1
            lots[(order.account, order.symbol, order.side)] += order.leaves
            committed = exchange.open_orders[order_id]
            expected = (order.account, order.side, order.leaves, order.price or order.stop_price)
            actual = (committed.account.account_id, committed.side, committed.leaves, committed.risk_price)
            assert actual == expected, f"order {order_id}'s commitment"
            assert committed.position is exchange.accounts[order.account].positions[order.symbol]
        for account_id, account in exchange.accounts.items():
            assert account.open_orders == counts[account_id], f"account {account_id}'s open order count"
            assert account.open_buy_notional == self.open_buy_notional(account_id)
            for symbol, position in account.positions.items():
                committed_lots = (position.open_buy, position.open_sell)
                assert committed_lots == (lots[(account_id, symbol, BUY)], lots[(account_id, symbol, SELL)])
        assert all(account_id in exchange.accounts for account_id, _, _ in lots)

    @invariant()
    def accounts_match_model(self) -> None:
        exchange = self.exchange
        assert set(exchange.accounts) == set(self.accounts)
        assert exchange.fees_collected == self.fees_collected
        assert exchange.venue_kill_switch == self.venue_kill_switch
        assert set(exchange.halted) == self.halted
        for account_id, model in self.accounts.items():
            account = exchange.accounts[account_id]
            terms = (account.cash, account.deposits, account.fees_paid, account.credit_limit, account.reject_count)
            assert terms == (model.cash, model.deposits, model.fees_paid, model.credit, model.reject_count)
            assert (account.state, account.kill_switch, account.limits) == (
                model.state,
                model.kill_switch,
                model.limits,
            )
            for symbol, position in model.positions.items():
                self.check_position(account_id, symbol, position)

    def check_position(self, account_id: int, symbol: str, model: ModelPosition) -> None:
        """Check one position against the trades booked in the model, P&L within rounding of exact average cost."""
        position = self.exchange.accounts[account_id].positions[symbol]
        assert (position.net, position.volume, position.fees) == (model.net, model.volume, model.fees)
        assert position.realized - position.open_cost == model.trade_cash
        assert abs(position.realized - model.realized) <= 2 * model.closes, f"{account_id}/{symbol} realized P&L"
        view = queries.position(self.exchange, account_id, symbol)
        assert view is not None
        mark = self.marks.get(symbol) or self.exchange.engine.books[symbol].last_price
        value = mark * model.net * CASH_PER_TICK_LOT[symbol]
        assert (view.mark, view.market_value) == (mark, value)
        assert view.unrealized == (value - position.open_cost if mark and model.net else 0)

    @invariant()
    def client_order_records_match_history(self) -> None:
        engine = self.exchange.engine
        records = self.exchange.client_orders
        assert set(records) == self.client_ids
        for (account_id, client_order_id), record in records.items():
            assert (record.account, record.client_order_id) == (account_id, client_order_id)
            history = self.histories[record.order_id]
            assert (record.filled, record.filled_notional) == (history.filled, history.filled_notional)
            live = engine.orders.get(record.order_id)
            if live is None:
                assert (record.status, record.cancel_reason) == (history.status, history.cancel_reason)
                assert record.status in (FILLED, CANCELLED)
            else:
                assert record.status == (PARTIALLY_FILLED if live.filled else NEW)
                assert (record.quantity, record.price, record.stop_price) == (
                    live.quantity,
                    live.price,
                    live.stop_price,
                )
                assert live.client_order_id == client_order_id

    @invariant()
    def account_views_add_up(self) -> None:
        for account_id in self.accounts:
            view = queries.account(self.exchange, account_id)
            assert view is not None
            account = self.accounts[account_id]
            assert view.buying_power == account.cash + account.credit - self.open_buy_notional(account_id)
            assert view.equity == view.cash + sum(position.market_value for position in view.positions)


SOAK = os.environ.get("HYPOTHESIS_PROFILE") == "soak"


# Room for Hypothesis to shrink a failure (it gives up after five minutes) before pytest-timeout steps in.
@pytest.mark.timeout(3_600 if SOAK else 900)
def test_exchange_keeps_its_books_under_any_command_sequence() -> None:
    run_state_machine_as_test(ExchangeMachine, settings=settings.get_profile("soak" if SOAK else "property-ci"))
