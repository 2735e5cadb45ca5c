"""A rejected command changes nothing but the counters a rejection is meant to move.

A rejected new order still uses up its order id (ids only ever increase),
emits one event (so the event sequence moves) and adds one to its account's
reject count. Everything else, books, cash, positions, commitments, client
order ids, throttle windows, must be exactly as before. Each case is checked
twice: against the exported state with those counters blanked out, and
against a control market that ran the same setup without the rejected
command, whose counters are then set to match: the state hashes must agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.unit.domain.exchange.harness import (
    AAPL,
    ALICE,
    BOB,
    BTC,
    CAROL,
    DAVE,
    EVE,
    FRANK,
    GRACE,
    HEIDI,
    LOT,
    MSFT,
    RICH,
    Market,
    busy_market,
    cash,
)

from hft.core import rejects
from hft.domain.commands import AmendOrder, CancelOrder, Command, MassCancel, SubmitOrder
from hft.domain.events import OrderAccepted, OrderRejected
from hft.domain.exchange import queries
from hft.domain.exchange.accounts import REDUCING
from hft.domain.exchange.commands import (
    AdjustCash,
    CreateAccount,
    SetAccountState,
    SetMarkPrice,
    SetRiskLimits,
    UpdateAccount,
)
from hft.domain.exchange.events import CommandRejected
from hft.domain.exchange.exchange import Exchange
from hft.domain.exchange.risk import RiskLimits
from hft.domain.exchange.snapshot import export_exchange
from hft.domain.orders import BUY, GTD, LIMIT, MARKET, SELL, STOP


def _order(account: int, side: int, quantity: int, price: int = 0, **options: Any) -> SubmitOrder:
    return SubmitOrder(0, account, options.pop("symbol", AAPL), side, quantity, price, **options)


def _live_order(client_order_id: str) -> Callable[[Exchange], int]:
    def find(exchange: Exchange) -> int:
        return exchange.client_orders[(ALICE, client_order_id)].order_id

    return find


# (command or a function of the exchange giving one, the account it counts against, the code)
CommandOf = Command | Callable[[Exchange], Command]

ORDER_REJECTIONS: list[tuple[str, CommandOf, int, int]] = [
    ("unknown-account", _order(99, BUY, 1, 9_900), 99, rejects.UNKNOWN_ACCOUNT),
    ("unknown-symbol", _order(ALICE, BUY, 1, 9_900, symbol="NOPE"), ALICE, rejects.UNKNOWN_SYMBOL),
    ("invalid-side", _order(ALICE, 3, 1, 9_900), ALICE, rejects.INVALID_SIDE),
    ("invalid-price", _order(ALICE, BUY, 1, 0), ALICE, rejects.INVALID_PRICE),
    ("invalid-quantity", _order(ALICE, BUY, 0, 9_900), ALICE, rejects.INVALID_QUANTITY),
    ("market-gtc", _order(ALICE, BUY, 1, order_type=MARKET), ALICE, rejects.INVALID_TIME_IN_FORCE),
    ("expired-gtd", _order(ALICE, BUY, 1, 9_900, time_in_force=GTD, expire_ts=1), ALICE, rejects.INVALID_EXPIRE_TIME),
    ("post-only-takes", _order(ALICE, BUY, 1, 10_100, post_only=True), ALICE, rejects.POST_ONLY_WOULD_TAKE),
    (
        "duplicate-client-id",
        _order(ALICE, BUY, 1, 9_900, client_order_id="alice-bid"),
        ALICE,
        rejects.DUPLICATE_CLIENT_ORDER_ID,
    ),
    ("invalid-client-id", _order(ALICE, BUY, 1, 9_900, client_order_id="a b"), ALICE, rejects.INVALID_CLIENT_ORDER_ID),
    ("max-order-quantity", _order(ALICE, SELL, 51, 10_000), ALICE, rejects.MAX_ORDER_QUANTITY),
    ("max-order-notional", _order(ALICE, SELL, 50, 40_100), ALICE, rejects.MAX_ORDER_NOTIONAL),
    ("collar", _order(ALICE, SELL, 1, 11_200), ALICE, rejects.PRICE_OUTSIDE_COLLAR),
    ("collar-stop", _order(ALICE, SELL, 1, order_type=STOP, stop_price=9_000), ALICE, rejects.PRICE_OUTSIDE_COLLAR),
    ("max-position", _order(ALICE, SELL, 23, 10_500), ALICE, rejects.MAX_POSITION),
    ("buying-power", _order(ALICE, BUY, 30, 9_900), ALICE, rejects.INSUFFICIENT_BUYING_POWER),
    ("max-open-orders", _order(CAROL, BUY, 1, 9_000), CAROL, rejects.MAX_OPEN_ORDERS),
    ("account-halted", _order(DAVE, SELL, 1, 11_000), DAVE, rejects.ACCOUNT_HALTED),
    ("kill-switch", _order(EVE, SELL, 1, 11_000), EVE, rejects.KILL_SWITCH_ACTIVE),
    ("reduce-only", _order(FRANK, SELL, 1, 11_000), FRANK, rejects.REDUCE_ONLY),
    ("grace-buying-power", _order(GRACE, BUY, 1, 1_001), GRACE, rejects.INSUFFICIENT_BUYING_POWER),
    ("order-rate", _order(HEIDI, BUY, 1, 9_000), HEIDI, rejects.ORDER_RATE_EXCEEDED),
    ("instrument-halted", _order(BOB, BUY, 1, 20_000, symbol=MSFT), BOB, rejects.INSTRUMENT_HALTED),
]

OTHER_REJECTIONS: list[tuple[str, CommandOf, int, int]] = [
    ("cancel-unknown", CancelOrder(10_000, ALICE), ALICE, rejects.UNKNOWN_ORDER),
    ("cancel-of-another-account", lambda x: CancelOrder(_live_order("alice-bid")(x), BOB), BOB, rejects.UNKNOWN_ORDER),
    ("amend-unknown", AmendOrder(10_000, ALICE, 5), ALICE, rejects.UNKNOWN_ORDER),
    (
        "amend-nothing",
        lambda x: AmendOrder(_live_order("alice-bid")(x), ALICE, 10),
        ALICE,
        rejects.AMEND_CHANGES_NOTHING,
    ),
    (
        "amend-below-filled",
        lambda x: AmendOrder(_live_order("alice-bid")(x), ALICE, 7),
        ALICE,
        rejects.AMEND_BELOW_FILLED,
    ),
    (
        "amend-quantity",
        lambda x: AmendOrder(_live_order("alice-iceberg")(x), ALICE, 51),
        ALICE,
        rejects.MAX_ORDER_QUANTITY,
    ),
    (
        "amend-collar",
        lambda x: AmendOrder(_live_order("alice-bid")(x), ALICE, 10, 8_000),
        ALICE,
        rejects.PRICE_OUTSIDE_COLLAR,
    ),
    ("amend-position", lambda x: AmendOrder(_live_order("alice-bid")(x), ALICE, 50), ALICE, rejects.MAX_POSITION),
    (
        "amend-stop-collar",
        lambda x: AmendOrder(_live_order("alice-stop")(x), ALICE, 5, 0, 8_000),
        ALICE,
        rejects.PRICE_OUTSIDE_COLLAR,
    ),
    ("mass-cancel-unknown-symbol", MassCancel(ALICE, "NOPE"), ALICE, rejects.UNKNOWN_SYMBOL),
]

ADMIN_REJECTIONS: list[tuple[str, CommandOf, int, int]] = [
    ("account-exists", CreateAccount(ALICE, "again"), ALICE, rejects.ACCOUNT_EXISTS),
    ("bad-fee", UpdateAccount(ALICE, 0, 1_001, 0), ALICE, rejects.INVALID_ACCOUNT_SETTING),
    ("withdraw-too-much", AdjustCash(GRACE, -cash(11)), GRACE, rejects.INSUFFICIENT_BUYING_POWER),
    ("bad-limits", SetRiskLimits(ALICE, RiskLimits(max_open_orders=-1)), ALICE, rejects.INVALID_ACCOUNT_SETTING),
    ("bad-mark", SetMarkPrice(BTC, -1), 0, rejects.INVALID_PRICE),
]


def _command(command: CommandOf, exchange: Exchange) -> Command:
    return command if isinstance(command, Command) else command(exchange)


def _without_counters(exchange: Exchange) -> list[Any]:
    data = export_exchange(exchange)
    data[0][0] = None  # the engine's event sequence
    data[0][1] = None  # the highest order id the engine has seen
    data[1] = None  # the exchange's last order id
    for account in data[7]:
        account[11] = None  # reject count
    return data


def _case_ids(cases: list[tuple[str, CommandOf, int, int]]) -> list[str]:
    return [case[0] for case in cases]


@pytest.mark.parametrize(("name", "command", "account", "code"), ORDER_REJECTIONS, ids=_case_ids(ORDER_REJECTIONS))
def test_a_rejected_new_order_uses_its_id_and_counts_but_changes_nothing_else(
    name: str, command: CommandOf, account: int, code: int
) -> None:
    market = busy_market()
    before = _without_counters(market.exchange)
    last_order_id = market.exchange.last_order_id
    rejects_before = {key: holder.reject_count for key, holder in market.exchange.accounts.items()}

    events = market.apply(_command(command, market.exchange))

    market.expect(events[0], OrderRejected, order_id=last_order_id + 1, account=account, code=code)
    assert len(events) == 1
    assert market.exchange.last_order_id == last_order_id + 1
    assert _without_counters(market.exchange) == before
    expected = dict(rejects_before)
    if account in expected:
        expected[account] += 1
    assert {key: holder.reject_count for key, holder in market.exchange.accounts.items()} == expected


@pytest.mark.parametrize(("name", "command", "account", "code"), OTHER_REJECTIONS, ids=_case_ids(OTHER_REJECTIONS))
def test_a_rejected_cancel_or_amend_counts_and_changes_nothing_else(
    name: str, command: CommandOf, account: int, code: int
) -> None:
    market = busy_market()
    before = export_exchange(market.exchange)

    events = market.apply(_command(command, market.exchange))

    assert market.rejected(events) == code
    after = export_exchange(market.exchange)
    assert after[1] == before[1]  # no order id used up
    assert market.exchange.accounts[account].reject_count == 1
    after[0][0] = before[0][0]
    next(row for row in after[7] if row[0] == account)[11] = 0
    assert after == before


@pytest.mark.parametrize(("name", "command", "account", "code"), ADMIN_REJECTIONS, ids=_case_ids(ADMIN_REJECTIONS))
def test_a_rejected_administrative_command_changes_nothing_but_the_event_sequence(
    name: str, command: CommandOf, account: int, code: int
) -> None:
    market = busy_market()
    before = export_exchange(market.exchange)

    events = market.apply(_command(command, market.exchange))

    market.expect(events[0], CommandRejected, account=account, code=code)
    after = export_exchange(market.exchange)
    after[0][0] = before[0][0]
    assert after == before


@pytest.mark.parametrize(
    ("name", "command", "account", "code"),
    ORDER_REJECTIONS + OTHER_REJECTIONS,
    ids=_case_ids(ORDER_REJECTIONS + OTHER_REJECTIONS),
)
def test_a_rejection_leaves_the_state_hash_of_a_market_that_never_saw_it_once_the_counters_agree(
    name: str, command: CommandOf, account: int, code: int
) -> None:
    rejected, control = busy_market(), busy_market()
    assert rejected.hash() == control.hash()

    rejected.apply(_command(command, rejected.exchange))
    assert rejected.hash() != control.hash()

    control.exchange.last_order_id = rejected.exchange.last_order_id
    control.exchange.engine.sequence = rejected.exchange.engine.sequence
    control.exchange.engine.last_order_id = rejected.exchange.engine.last_order_id
    for account_id, holder in rejected.exchange.accounts.items():
        control.exchange.accounts[account_id].reject_count = holder.reject_count
    assert rejected.hash() == control.hash()


def test_rejections_of_every_kind_add_up_in_the_reject_count() -> None:
    market = busy_market()

    for _, command, account, _ in ORDER_REJECTIONS + OTHER_REJECTIONS:
        if account == ALICE:
            market.apply(_command(command, market.exchange))

    alice = sum(1 for case in ORDER_REJECTIONS + OTHER_REJECTIONS if case[2] == ALICE)
    assert market.account(ALICE).reject_count == alice


def test_an_accepted_order_after_rejected_ones_gets_the_next_unused_id(market: Market) -> None:
    first = market.buy(1, 9_000)
    market.submit(BUY, 0, 9_000)
    market.submit(BUY, 1, 9_000, account=99)

    assert market.buy(1, 9_000) == first + 3


def test_the_exchange_assigns_ids_whatever_id_the_command_carries(market: Market) -> None:
    events = market.apply(SubmitOrder(777, ALICE, AAPL, BUY, 1, 9_000, LIMIT))

    assert market.one(events, OrderAccepted).order_id == 1
    assert market.exchange.last_order_id == 1


@pytest.mark.parametrize(
    ("limits", "cash_units", "side", "code"),
    [
        (RiskLimits(max_position=LOT), RICH, SELL, rejects.MAX_POSITION),
        (RiskLimits(), 0, BUY, rejects.INSUFFICIENT_BUYING_POWER),
        (RiskLimits(), RICH, SELL, rejects.REDUCE_ONLY),
    ],
    ids=["max-position", "buying-power", "reduce-only"],
)
def test_a_rejected_order_in_a_symbol_the_account_never_traded_leaves_it_without_a_position(
    empty_market: Market, limits: RiskLimits, cash_units: int, side: int, code: int
) -> None:
    empty_market.open_account(ALICE, cash_units, limits=limits)
    if code == rejects.REDUCE_ONLY:
        empty_market.apply(SetAccountState(ALICE, REDUCING))

    assert empty_market.rejected(empty_market.submit(side, 2, 9_000)) == code

    assert queries.position(empty_market.exchange, ALICE, AAPL) is None, "a rejected order opened a flat position"
    assert empty_market.account(ALICE).positions == []
