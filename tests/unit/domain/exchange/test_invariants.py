"""Exchange-wide invariants after realistic and random sequences of commands.

For every symbol the net positions sum to zero; all cash plus the fees the
venue collected equals all deposits; and every account's cash equals its
deposits - fees paid + realized P&L - the cost of its open positions. The
``Market`` driver asserts these (and that the exchange's view of live orders
matches the engine's) after every command; the tests here also state them.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.domain.exchange.harness import (
    AAPL,
    ALICE,
    BOB,
    BTC,
    CAROL,
    DAVE,
    LOT,
    MSFT,
    Market,
    busy_market,
    cash,
    instruments,
)

from hft.domain.commands import AmendOrder, CancelOrder, Command, EndSession, ExpireOrders, MassCancel, SubmitOrder
from hft.domain.exchange import queries
from hft.domain.exchange.commands import (
    AdjustCash,
    SetAccountState,
    SetInstrumentHalt,
    SetKillSwitch,
    SetMarkPrice,
    SetRiskLimits,
    UpdateAccount,
)
from hft.domain.exchange.exchange import Exchange
from hft.domain.exchange.risk import RiskLimits
from hft.domain.exchange.snapshot import export_exchange, restore_exchange
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
    STP_DECREMENT_AND_CANCEL,
    STP_DEFAULT,
)

ACCOUNTS = (ALICE, BOB, CAROL, DAVE)


def _assert_books_balance(exchange: Exchange) -> None:
    assert all(total == 0 for total in queries.net_positions(exchange).values())
    assert queries.cash_conserved(exchange)
    for account in exchange.accounts.values():
        positions = account.positions.values()
        realized = sum(position.realized for position in positions)
        open_cost = sum(position.open_cost for position in positions)
        assert account.cash == account.deposits - account.fees_paid + realized - open_cost


def _fee_paying_market() -> Market:
    market = Market()
    market.open_account(ALICE, cash(100_000), credit_limit=cash(20_000), maker_fee_bps=1, taker_fee_bps=4)
    market.open_account(BOB, cash(80_000), maker_fee_bps=0, taker_fee_bps=7)
    market.open_account(CAROL, cash(60_000), credit_limit=cash(5_000), maker_fee_bps=3, taker_fee_bps=3)
    market.open_account(DAVE, cash(40_000), maker_fee_bps=2, taker_fee_bps=9)
    return market


def test_a_day_of_trading_keeps_the_books_balanced_and_closing_out_realizes_everything() -> None:
    market = _fee_paying_market()
    market.sell(10, 10_000, account=BOB, display_quantity=3)
    market.buy(5, 9_950, account=CAROL)
    market.place(SELL, 4, order_type=STOP, stop_price=9_900, account=DAVE)
    market.submit(BUY, 7, 10_000, account=ALICE)  # takes iceberg slices
    market.submit(SELL, 8, 9_900, account=ALICE)  # flips ALICE short; sets off DAVE's stop
    market.buy(6, 9_990, account=DAVE, client_order_id="dave-bid")
    market.submit(SELL, 6, 9_990, account=CAROL)
    market.apply(SetMarkPrice(AAPL, 9_975))
    market.trade(21_000, 3, buyer=BOB, seller=CAROL, symbol=MSFT)
    market.trade(3_000_000, 2_500, buyer=DAVE, seller=ALICE, symbol=BTC)
    market.apply(AdjustCash(BOB, cash(1_000)))
    market.apply(AdjustCash(CAROL, -cash(500)))
    _assert_books_balance(market.exchange)
    assert market.exchange.fees_collected > 0

    # Cancel what is left, then close every position against a market maker at one price per symbol.
    for account_id in ACCOUNTS:
        market.apply(MassCancel(account_id))
    market.open_account(99, cash(1_000_000))
    for symbol, price in ((AAPL, 10_020), (MSFT, 20_900), (BTC, 3_010_000)):
        for account_id in ACCOUNTS:
            held = queries.position(market.exchange, account_id, symbol)
            net = 0 if held is None else held.net
            if net > 0:
                market.buy(net, price, account=99, symbol=symbol)
                market.submit(SELL, net, price, account=account_id, symbol=symbol)
            elif net < 0:
                market.sell(-net, price, account=99, symbol=symbol)
                market.submit(BUY, -net, price, account=account_id, symbol=symbol)

    _assert_books_balance(market.exchange)
    for account_id in ACCOUNTS:
        account = market.exchange.accounts[account_id]
        assert all(position.net == 0 and position.open_cost == 0 for position in account.positions.values())
        realized = sum(position.realized for position in account.positions.values())
        assert account.cash == account.deposits - account.fees_paid + realized
    assert sum(account.fees_paid for account in market.exchange.accounts.values()) == market.exchange.fees_collected


def test_the_busy_market_is_balanced() -> None:
    _assert_books_balance(busy_market().exchange)


prices = st.integers(9_995, 10_005)
quantities = st.integers(1, 12)
accounts = st.sampled_from(ACCOUNTS)
symbols = st.sampled_from((AAPL, MSFT))
order_ids = st.integers(1, 30)


@st.composite
def _orders(draw: st.DrawFn) -> Command:
    kind = draw(st.sampled_from(("limit", "limit", "limit", "iceberg", "market", "stop", "stop-limit", "gtd")))
    account = draw(accounts)
    symbol = draw(symbols)
    side = draw(st.sampled_from((BUY, SELL)))
    quantity = draw(quantities)
    stp = draw(st.sampled_from((STP_DEFAULT, STP_DEFAULT, STP_CANCEL_BOTH, STP_DECREMENT_AND_CANCEL)))
    client_order_id = draw(st.sampled_from(("", "", "c1", "c2", "c3")))
    if kind == "market":
        tif = draw(st.sampled_from((IOC, FOK)))
        return SubmitOrder(0, account, symbol, side, quantity, 0, MARKET, tif, self_trade_prevention=stp)
    if kind == "stop":
        return SubmitOrder(0, account, symbol, side, quantity, 0, STOP, IOC, draw(prices))
    if kind == "stop-limit":
        return SubmitOrder(0, account, symbol, side, quantity, draw(prices), STOP_LIMIT, GTC, draw(prices))
    if kind == "gtd":
        expire = draw(st.integers(1, 40)) * 10_000_000
        return SubmitOrder(0, account, symbol, side, quantity, draw(prices), LIMIT, GTD, expire_ts=expire)
    display = draw(st.integers(1, quantity - 1)) if kind == "iceberg" and quantity > 1 else 0
    tif = draw(st.sampled_from((GTC, GTC, DAY, IOC, FOK))) if display == 0 else GTC
    return SubmitOrder(
        0,
        account,
        symbol,
        side,
        quantity,
        draw(prices),
        LIMIT,
        tif,
        display_quantity=display,
        self_trade_prevention=stp,
        client_order_id=client_order_id,
    )


OTHER_KINDS = (
    *("cancel", "cancel", "amend", "amend", "amend", "mass-cancel"),
    *("mark", "kill", "halt", "state", "cash", "fees", "limits", "end"),
)


@st.composite
def _others(draw: st.DrawFn) -> Command:
    kind = draw(st.sampled_from(OTHER_KINDS))
    account = draw(accounts)
    if kind == "cancel":
        return CancelOrder(draw(order_ids), account)
    if kind == "amend":
        return AmendOrder(draw(order_ids), account, draw(quantities), draw(st.sampled_from((0, 9_995, 10_005))))
    if kind == "mass-cancel":
        return MassCancel(account)
    if kind == "mark":
        return SetMarkPrice(draw(symbols), draw(st.sampled_from((0, 9_000, 11_000))))
    if kind == "kill":
        return SetKillSwitch(draw(st.sampled_from((0, account))), draw(st.sampled_from((True, False, False))))
    if kind == "halt":
        return SetInstrumentHalt(draw(symbols), draw(st.sampled_from((True, False, False))))
    if kind == "state":
        return SetAccountState(account, draw(st.sampled_from((1, 1, 2, 3))))
    if kind == "cash":
        return AdjustCash(account, draw(st.sampled_from((cash(1_000), -cash(1_000), -cash(100_000)))))
    if kind == "fees":
        return UpdateAccount(account, cash(draw(st.sampled_from((0, 10_000)))), draw(st.integers(0, 5)), 5)
    if kind == "limits":
        limits = RiskLimits(
            max_order_quantity=draw(st.sampled_from((0, 8 * LOT))),
            price_collar_bps=draw(st.sampled_from((0, 5, 50))),
            max_open_orders=draw(st.sampled_from((0, 3))),
            max_position=draw(st.sampled_from((0, 15 * LOT))),
            max_orders_per_second=draw(st.sampled_from((0, 4))),
        )
        return SetRiskLimits(draw(st.sampled_from((0, account))), limits)
    return EndSession(draw(st.sampled_from(("", AAPL))))


steps = st.lists(
    st.tuples(st.one_of(_orders(), _orders(), _orders(), _others()), st.integers(0, 5_000_000)),
    min_size=10,
    max_size=50,
)


@settings(max_examples=150, deadline=None, database=None)
@given(steps)
def test_random_trading_keeps_every_invariant_and_survives_a_snapshot(sequence: list[tuple[Command, int]]) -> None:
    market = _fee_paying_market()
    ts = market.ts
    for command, pause in sequence:
        ts += 1 + pause
        market.apply(command, ts)  # asserts the invariants after each command
    market.apply(ExpireOrders(), ts + 10**9)

    _assert_books_balance(market.exchange)
    restored = restore_exchange(instruments(), export_exchange(market.exchange))
    assert queries.state_hash(restored) == market.hash()
