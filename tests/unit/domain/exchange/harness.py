"""An exchange driven by an injected clock that checks the exchange-wide invariants after every command.

Every command a ``Market`` applies is checked: its events carry the injected
``ts`` and consecutive sequence numbers, ``PositionChanged`` events come last
and once per account and symbol; for every symbol the net positions sum to
zero; cash plus collected fees equals deposits; every account's cash equals
deposits - fees + realized - open cost; and the exchange's record of live
orders (counts, open lots, committed buy notional) agrees with the engine's.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

from hft.domain.commands import AmendOrder, CancelOrder, Command, SetSelfTradePrevention, SubmitOrder
from hft.domain.events import Event, OrderAccepted, OrderRejected, TradeExecuted
from hft.domain.exchange import queries
from hft.domain.exchange.accounts import HALTED, REDUCING
from hft.domain.exchange.commands import (
    CreateAccount,
    SetAccountState,
    SetInstrumentHalt,
    SetKillSwitch,
    SetMarkPrice,
    SetRiskLimits,
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
from hft.domain.exchange.money import CASH_SCALE, QUANTITY_SCALE
from hft.domain.exchange.queries import AccountView, PositionView
from hft.domain.exchange.risk import NO_LIMITS, RiskLimits
from hft.domain.instruments import Instrument, equity
from hft.domain.orders import BUY, GTC, GTD, LIMIT, SELL, STOP, STOP_LIMIT, STP_CANCEL_OLDEST, STP_DEFAULT
from hft.testing.venue import EVENT_FIELDS as ENGINE_EVENT_FIELDS

EventT = TypeVar("EventT", bound=Event)

ALICE, BOB, CAROL, DAVE = 1, 2, 3, 4
AAPL, MSFT, BTC = "AAPL", "MSFT", "BTC-USD"

# AAPL and MSFT: one-cent ticks and one-share lots, so one lot at one tick is 0.01 in cash, 10**6 cash units.
CASH_PER_TICK_LOT = 10**6
# One lot of AAPL in QUANTITY_SCALE units (risk limits).
LOT = QUANTITY_SCALE
# BTC-USD: one-cent ticks, lots of 0.0001 BTC.
BTC_CASH_PER_TICK_LOT = 100
BTC_LOT = QUANTITY_SCALE // 10_000

# Plenty of cash for tests that are not about money: one million in the quote currency.
RICH = 1_000_000 * CASH_SCALE

EVENT_FIELDS: dict[type[Event], tuple[str, ...]] = {
    **ENGINE_EVENT_FIELDS,
    CommandRejected: ("account", "code"),
    AccountChanged: (
        "account",
        "name",
        "cash",
        "credit_limit",
        "maker_fee_bps",
        "taker_fee_bps",
        "state",
    ),
    RiskLimitsSet: ("account", "limits"),
    KillSwitchSet: ("account", "engaged"),
    InstrumentHaltSet: ("symbol", "halted"),
    MarkPriceSet: ("symbol", "price"),
    PositionChanged: (
        "account",
        "symbol",
        "net_quantity",
        "open_cost",
        "realized_pnl",
        "fees_paid",
        "cash",
    ),
}


def instruments() -> list[Instrument]:
    """Return the instruments every test market lists: two equities and a crypto pair with small lots."""
    return [
        equity(AAPL),
        equity(MSFT),
        Instrument(BTC, Decimal("0.01"), Decimal("0.0001"), max_quantity=10_000_000, max_price=10**9),
    ]


def cash(amount: int | str) -> int:
    """Return ``amount`` of the quote currency in cash units."""
    return int(Decimal(amount) * CASH_SCALE)


def notional(price: int, lots: int) -> int:
    """Return the cash units of ``lots`` AAPL (or MSFT) at ``price`` ticks."""
    return price * lots * CASH_PER_TICK_LOT


def fee(amount: int, bps: int) -> int:
    """Return the fee on ``amount`` cash units at ``bps`` basis points, rounded down as the venue does."""
    return amount * bps // 10_000


def event_data(event: Event, with_sequence: bool = True) -> tuple[object, ...]:
    """Return an event as comparable data: type name, sequence (unless told not to), ts, fields."""
    head: tuple[object, ...] = (type(event).__name__,)
    if with_sequence:
        head += (event.sequence,)
    head += (event.ts,)
    return head + tuple(getattr(event, name) for name in EVENT_FIELDS[type(event)])


class Market:
    """An ``Exchange`` over ``instruments()``, stamped with a clock that moves ``STEP`` ns per command.

    Given an ``exchange`` (a restored one, say) it drives that one instead, its clock starting at ``ts``.
    """

    STEP = 1_000

    def __init__(self, default_limits: RiskLimits = NO_LIMITS, exchange: Exchange | None = None, ts: int = 0) -> None:
        self.instruments = instruments()
        self.exchange = Exchange(self.instruments, default_limits) if exchange is None else exchange
        self.ts = ts
        self.events: list[Event] = []

    # -- driving the exchange -------------------------------------------------------

    def apply(self, command: Command, ts: int | None = None) -> list[Event]:
        """Apply ``command`` at ``ts`` (default: previous ts + STEP), check the invariants, return its events."""
        self.ts = self.ts + self.STEP if ts is None else ts
        first_sequence = self.exchange.engine.sequence + 1
        events = self.exchange.apply(command, self.ts)
        self._check_events(events, first_sequence)
        self.events.extend(events)
        check_invariants(self.exchange)
        return events

    def _check_events(self, events: list[Event], first_sequence: int) -> None:
        seen_positions: set[tuple[int, str]] = set()
        tail = False
        for offset, event in enumerate(events):
            assert type(event) in EVENT_FIELDS, type(event).__name__
            assert event.sequence == first_sequence + offset
            assert event.ts == self.ts
            if isinstance(event, PositionChanged):
                tail = True
                key = (event.account, event.symbol)
                assert key not in seen_positions, f"two PositionChanged for {key}"
                seen_positions.add(key)
            else:
                assert not tail, "PositionChanged must follow every other event of the command"
        traded = {
            (account, event.symbol)
            for event in events
            if isinstance(event, TradeExecuted)
            for account in (event.taker_account, event.maker_account)
        }
        assert seen_positions == traded

    def open_account(
        self,
        account_id: int,
        cash_units: int = RICH,
        credit_limit: int = 0,
        maker_fee_bps: int = 0,
        taker_fee_bps: int = 0,
        limits: RiskLimits | None = None,
    ) -> None:
        """Create an account (rich and fee-free unless told otherwise), with its own limits if given."""
        events = self.apply(
            CreateAccount(account_id, f"account {account_id}", cash_units, credit_limit, maker_fee_bps, taker_fee_bps)
        )
        assert [type(event) for event in events] == [AccountChanged]
        if limits is not None:
            self.set_limits(account_id, limits)

    def set_limits(self, account_id: int, limits: RiskLimits | None) -> None:
        """Set an account's (account 0: the venue's) risk limits; they must be accepted."""
        assert [type(event) for event in self.apply(SetRiskLimits(account_id, limits))] == [RiskLimitsSet]

    def submit(
        self,
        side: int,
        quantity: int,
        price: int = 0,
        *,
        account: int = ALICE,
        symbol: str = AAPL,
        order_type: int = LIMIT,
        time_in_force: int = GTC,
        stop_price: int = 0,
        display_quantity: int = 0,
        post_only: bool = False,
        self_trade_prevention: int = STP_DEFAULT,
        expire_ts: int = 0,
        client_order_id: str = "",
        ts: int | None = None,
    ) -> list[Event]:
        """Submit an order (a GTC limit on AAPL for ALICE unless told); the exchange assigns its id."""
        command = SubmitOrder(
            0,
            account,
            symbol,
            side,
            quantity,
            price=price,
            order_type=order_type,
            time_in_force=time_in_force,
            stop_price=stop_price,
            display_quantity=display_quantity,
            post_only=post_only,
            self_trade_prevention=self_trade_prevention,
            expire_ts=expire_ts,
            client_order_id=client_order_id,
        )
        return self.apply(command, ts)

    def place(self, side: int, quantity: int, price: int = 0, **options: Any) -> int:
        """Submit an order that must be accepted; return its id."""
        events = self.submit(side, quantity, price, **options)
        return self.one(events, OrderAccepted).order_id

    def buy(self, quantity: int, price: int, **options: Any) -> int:
        """Place a buy limit order; return its id."""
        return self.place(BUY, quantity, price, **options)

    def sell(self, quantity: int, price: int, **options: Any) -> int:
        """Place a sell limit order; return its id."""
        return self.place(SELL, quantity, price, **options)

    def trade(
        self, price: int, quantity: int = 1, *, buyer: int = CAROL, seller: int = DAVE, symbol: str = AAPL
    ) -> None:
        """Make ``seller`` rest and ``buyer`` take ``quantity`` at ``price`` (sets the last trade price)."""
        self.sell(quantity, price, account=seller, symbol=symbol)
        trades = self.of_type(self.submit(BUY, quantity, price, account=buyer, symbol=symbol), TradeExecuted)
        assert sum(trade.quantity for trade in trades) == quantity

    def cancel(self, order_id: int, account: int = ALICE) -> list[Event]:
        """Cancel one order."""
        return self.apply(CancelOrder(order_id, account))

    def amend(
        self, order_id: int, quantity: int, price: int = 0, stop_price: int = 0, account: int = ALICE
    ) -> list[Event]:
        """Amend one order."""
        return self.apply(AmendOrder(order_id, account, quantity, price=price, stop_price=stop_price))

    # -- reading state ------------------------------------------------------------------

    def account(self, account_id: int = ALICE) -> AccountView:
        """Return the view of an existing account."""
        view = queries.account(self.exchange, account_id)
        assert view is not None
        return view

    def position(self, account_id: int = ALICE, symbol: str = AAPL) -> PositionView:
        """Return the view of an existing position."""
        view = queries.position(self.exchange, account_id, symbol)
        assert view is not None
        return view

    def hash(self) -> str:
        """Return the exchange's state hash."""
        return queries.state_hash(self.exchange)

    # -- picking events ---------------------------------------------------------------

    @staticmethod
    def kinds(events: list[Event]) -> list[str]:
        """Return the type names of ``events``, in order."""
        return [type(event).__name__ for event in events]

    @staticmethod
    def of_type(events: list[Event], kind: type[EventT]) -> list[EventT]:
        """Return the events of exactly type ``kind``, in order."""
        return [event for event in events if type(event) is kind]

    @staticmethod
    def one(events: list[Event], kind: type[EventT]) -> EventT:
        """Return the only event of type ``kind``; fail if there is not exactly one."""
        found = [event for event in events if type(event) is kind]
        assert len(found) == 1, f"expected one {kind.__name__}, got {Market.kinds(events)}"
        return found[0]

    @staticmethod
    def rejected(events: list[Event]) -> int:
        """Return the code of the only event, which must be an OrderRejected or CommandRejected."""
        assert len(events) == 1, Market.kinds(events)
        event = events[0]
        assert isinstance(event, OrderRejected | CommandRejected), type(event).__name__
        return event.code

    @staticmethod
    def outcome(events: list[Event]) -> int:
        """Return 0 if the events accept a new order, else the code of the one OrderRejected."""
        if any(isinstance(event, OrderAccepted) for event in events):
            return 0
        return Market.rejected(events)

    @staticmethod
    def expect(event: Event, kind: type[EventT], **fields: Any) -> EventT:
        """Assert ``event`` is exactly a ``kind`` whose named fields have these values; return it."""
        assert type(event) is kind, f"expected {kind.__name__}, got {type(event).__name__}"
        assert {name: getattr(event, name) for name in fields} == fields
        return event


def check_invariants(exchange: Exchange) -> None:
    """Assert every exchange-wide invariant (see the module docstring)."""
    for symbol, total in queries.net_positions(exchange).items():
        assert total == 0, f"net positions in {symbol} sum to {total}"
    assert queries.cash_conserved(exchange)
    assert sum(account.fees_paid for account in exchange.accounts.values()) == exchange.fees_collected
    engine_orders = exchange.engine.orders
    assert set(exchange.open_orders) == set(engine_orders)
    for account in exchange.accounts.values():
        positions = account.positions.values()
        realized = sum(position.realized for position in positions)
        open_cost = sum(position.open_cost for position in positions)
        assert account.cash == account.deposits - account.fees_paid + realized - open_cost
        assert account.fees_paid == sum(position.fees for position in positions)
        live = [order for order in engine_orders.values() if order.account == account.account_id]
        assert account.open_orders == len(live)
        committed = sum(
            open_order.risk_price * open_order.leaves * open_order.cash_per_tick_lot
            for open_order in exchange.open_orders.values()
            if open_order.account is account and open_order.side == BUY
        )
        assert account.open_buy_notional == committed
        for position in positions:
            if position.net > 0:
                assert position.open_cost > 0
            elif position.net < 0:
                assert position.open_cost < 0
            else:
                assert position.open_cost == 0
            for side, held in ((BUY, position.open_buy), (SELL, position.open_sell)):
                lots = sum(order.leaves for order in live if order.symbol == position.symbol and order.side == side)
                assert held == lots, f"account {account.account_id} {position.symbol} side {side}"
    for open_order in exchange.open_orders.values():
        assert open_order.leaves == engine_orders[open_order.order_id].leaves


# Accounts of the busy market, each in a state one kind of rejection needs.
EVE, FRANK, GRACE, HEIDI = 5, 6, 7, 8
FAR_FUTURE = 10**15


def busy_market() -> Market:
    """Return a market with a bit of everything, for before/after comparisons and snapshots.

    ALICE trades with limits, fees and client order ids: a partly filled bid,
    a partly filled iceberg offer, a waiting stop, a GTD order and a position.
    BOB and FRANK trade with her. CAROL is at her open-order limit; DAVE is
    HALTED with an order resting; EVE's kill switch is on; FRANK is REDUCING a
    short; GRACE has almost no buying power and an offer out; HEIDI has used
    her one order a second. MSFT is halted with an order in its book, BTC-USD
    is marked, and BOB has a self-trade prevention mode.
    """
    market = Market(RiskLimits(max_order_quantity=1_000 * LOT))
    market.open_account(
        ALICE,
        cash(2_000),
        credit_limit=cash(1_000),
        maker_fee_bps=2,
        taker_fee_bps=5,
        limits=RiskLimits(
            max_order_quantity=50 * LOT,
            max_order_notional=cash(20_000),
            price_collar_bps=1_000,
            max_open_orders=10,
            max_position=40 * LOT,
            max_orders_per_second=100,
        ),
    )
    market.open_account(BOB, RICH, maker_fee_bps=1, taker_fee_bps=3)
    market.open_account(CAROL, RICH, limits=RiskLimits(max_open_orders=1))
    for account_id in (DAVE, EVE, FRANK):
        market.open_account(account_id)
    market.open_account(GRACE, cash(10))
    market.open_account(HEIDI, RICH, limits=RiskLimits(max_orders_per_second=1))
    market.apply(SetSelfTradePrevention(BOB, STP_CANCEL_OLDEST))

    market.buy(10, 9_900, client_order_id="alice-bid")
    market.sell(20, 10_100, display_quantity=5, client_order_id="alice-iceberg")
    market.submit(SELL, 4, 9_900, account=BOB)  # ALICE's bid: 4 of 10 filled at 9_900
    market.submit(BUY, 7, 10_100, account=BOB)  # ALICE's iceberg: 7 of 20 filled at 10_100
    market.place(SELL, 5, order_type=STOP, stop_price=9_500, client_order_id="alice-stop")
    market.place(BUY, 2, 10_500, order_type=STOP_LIMIT, stop_price=10_400)
    market.buy(3, 9_800, time_in_force=GTD, expire_ts=FAR_FUTURE, client_order_id="alice-gtd")
    market.buy(1, 9_700, account=CAROL, client_order_id="carol-1")
    market.buy(2, 9_600, account=DAVE)
    market.apply(SetAccountState(DAVE, HALTED))
    market.buy(1, 9_500, account=EVE)
    market.apply(SetKillSwitch(EVE, True))
    market.submit(SELL, 3, 9_900, account=FRANK)  # FRANK sells to ALICE's bid
    market.trade(10_100, 2, buyer=FRANK, seller=BOB)
    market.apply(SetAccountState(FRANK, REDUCING))
    market.sell(5, 21_000, account=BOB, symbol=MSFT)
    market.apply(SetInstrumentHalt(MSFT, True))
    market.apply(SetMarkPrice(BTC, 3_000_000))
    market.sell(1, 11_000, account=GRACE)
    market.buy(1, 9_000, account=HEIDI)
    return market
