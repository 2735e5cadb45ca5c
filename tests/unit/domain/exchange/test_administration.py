"""Account, risk and status commands: what each changes, and every way each is refused."""

from __future__ import annotations

import pytest
from tests.unit.domain.exchange.harness import AAPL, ALICE, BOB, LOT, RICH, Market, cash, fee, notional

from hft.core import rejects
from hft.domain.commands import Command, SubmitOrder
from hft.domain.events import OrderRejected
from hft.domain.exchange.accounts import ACTIVE, HALTED, MAX_FEE_BPS
from hft.domain.exchange.administration import MAX_ACCOUNT_NAME_LENGTH
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
from hft.domain.exchange.events import AccountChanged, CommandRejected, RiskLimitsSet
from hft.domain.exchange.money import MAX_CASH_UNITS
from hft.domain.exchange.risk import RiskLimits
from hft.domain.exchange.snapshot import export_exchange
from hft.domain.orders import BUY

# -- creating accounts -------------------------------------------------------------------


def test_creating_an_account_reports_it_and_records_its_cash_as_a_deposit(empty_market: Market) -> None:
    events = empty_market.apply(CreateAccount(ALICE, "Alice Ltd", cash(5_000), cash(1_000), 2, 5))

    empty_market.expect(
        events[0],
        AccountChanged,
        account=ALICE,
        name="Alice Ltd",
        cash=cash(5_000),
        credit_limit=cash(1_000),
        maker_fee_bps=2,
        taker_fee_bps=5,
        state=ACTIVE,
    )
    view = empty_market.account(ALICE)
    assert (view.cash, view.deposits, view.credit_limit, view.buying_power) == (
        cash(5_000),
        cash(5_000),
        cash(1_000),
        cash(6_000),
    )
    assert (view.name, view.state, view.kill_switch, view.fees_paid, view.reject_count) == (
        "Alice Ltd",
        ACTIVE,
        False,
        0,
        0,
    )
    assert (view.positions, view.open_orders, view.equity) == ([], 0, cash(5_000))


def test_creating_an_account_with_the_defaults_gives_an_empty_fee_free_account(empty_market: Market) -> None:
    empty_market.apply(CreateAccount(BOB, "b"))

    view = empty_market.account(BOB)
    assert (view.cash, view.credit_limit, view.maker_fee_bps, view.taker_fee_bps) == (0, 0, 0, 0)


def test_an_account_id_already_taken_is_refused(market: Market) -> None:
    events = market.apply(CreateAccount(ALICE, "again", cash(1)))

    assert market.rejected(events) == rejects.ACCOUNT_EXISTS
    market.expect(events[0], CommandRejected, account=ALICE, code=rejects.ACCOUNT_EXISTS)
    assert market.account(ALICE).cash == RICH


@pytest.mark.parametrize("account_id", [0, -1])
def test_an_account_id_that_is_not_positive_is_refused(empty_market: Market, account_id: int) -> None:
    assert empty_market.rejected(empty_market.apply(CreateAccount(account_id, "x"))) == rejects.INVALID_ACCOUNT
    assert empty_market.exchange.accounts == {}


@pytest.mark.parametrize(
    "command",
    [
        CreateAccount(ALICE, "a", cash=-1),
        CreateAccount(ALICE, "a", cash=MAX_CASH_UNITS + 1),
        CreateAccount(ALICE, "a", credit_limit=-1),
        CreateAccount(ALICE, "a", credit_limit=MAX_CASH_UNITS + 1),
        CreateAccount(ALICE, "a", maker_fee_bps=-1),
        CreateAccount(ALICE, "a", maker_fee_bps=MAX_FEE_BPS + 1),
        CreateAccount(ALICE, "a", taker_fee_bps=-1),
        CreateAccount(ALICE, "a", taker_fee_bps=MAX_FEE_BPS + 1),
        CreateAccount(ALICE, ""),
        CreateAccount(ALICE, "n" * (MAX_ACCOUNT_NAME_LENGTH + 1)),
        CreateAccount(ALICE, "line\nbreak"),
    ],
    ids=[
        "negative-cash",
        "too-much-cash",
        "negative-credit",
        "too-much-credit",
        "negative-maker-fee",
        "maker-fee-too-high",
        "negative-taker-fee",
        "taker-fee-too-high",
        "empty-name",
        "name-too-long",
        "unprintable-name",
    ],
)
def test_an_account_with_settings_out_of_range_is_refused(empty_market: Market, command: CreateAccount) -> None:
    assert empty_market.rejected(empty_market.apply(command)) == rejects.INVALID_ACCOUNT_SETTING
    assert empty_market.exchange.accounts == {}


def test_settings_at_their_limits_are_accepted(empty_market: Market) -> None:
    name = "n" * MAX_ACCOUNT_NAME_LENGTH
    events = empty_market.apply(CreateAccount(ALICE, name, MAX_CASH_UNITS, MAX_CASH_UNITS, MAX_FEE_BPS, MAX_FEE_BPS))

    empty_market.expect(events[0], AccountChanged, account=ALICE, name=name, cash=MAX_CASH_UNITS)


def test_an_order_for_an_account_that_does_not_exist_is_refused_and_uses_up_its_id(market: Market) -> None:
    events = market.submit(BUY, 1, 9_000, account=99)

    market.expect(events[0], OrderRejected, order_id=1, account=99, code=rejects.UNKNOWN_ACCOUNT)
    assert market.buy(1, 9_000) == 2


def test_an_order_for_a_symbol_that_is_not_listed_is_refused(market: Market) -> None:
    assert market.rejected(market.submit(BUY, 1, 9_000, symbol="NOPE")) == rejects.UNKNOWN_SYMBOL
    assert market.account(ALICE).reject_count == 1


# -- updating accounts ---------------------------------------------------------------------


def test_updating_an_account_changes_its_credit_and_fees_for_later_fills(market: Market) -> None:
    events = market.apply(UpdateAccount(ALICE, cash(500), 3, 9))

    market.expect(
        events[0], AccountChanged, account=ALICE, credit_limit=cash(500), maker_fee_bps=3, taker_fee_bps=9, cash=RICH
    )
    market.sell(1, 10_000, account=BOB)
    market.submit(BUY, 1, 10_000, account=ALICE)
    assert market.account(ALICE).fees_paid == fee(notional(10_000, 1), 9)
    assert market.account(ALICE).buying_power == RICH + cash(500) - notional(10_000, 1) - fee(notional(10_000, 1), 9)


@pytest.mark.parametrize(
    ("credit_limit", "maker_fee_bps", "taker_fee_bps"),
    [(-1, 0, 0), (MAX_CASH_UNITS + 1, 0, 0), (0, -1, 0), (0, MAX_FEE_BPS + 1, 0), (0, 0, -1), (0, 0, MAX_FEE_BPS + 1)],
)
def test_an_update_out_of_range_is_refused(
    market: Market, credit_limit: int, maker_fee_bps: int, taker_fee_bps: int
) -> None:
    events = market.apply(UpdateAccount(ALICE, credit_limit, maker_fee_bps, taker_fee_bps))

    assert market.rejected(events) == rejects.INVALID_ACCOUNT_SETTING
    view = market.account(ALICE)
    assert (view.credit_limit, view.maker_fee_bps, view.taker_fee_bps) == (0, 0, 0)


# -- cash ------------------------------------------------------------------------------------


def test_a_deposit_adds_to_cash_and_deposits(market: Market) -> None:
    events = market.apply(AdjustCash(ALICE, cash(250)))

    market.expect(events[0], AccountChanged, account=ALICE, cash=RICH + cash(250))
    view = market.account(ALICE)
    assert (view.cash, view.deposits) == (RICH + cash(250), RICH + cash(250))


@pytest.mark.parametrize(
    ("amount", "code"), [(cash(999), 0), (cash(1_000), 0), (cash(1_000) + 1, rejects.INSUFFICIENT_BUYING_POWER)]
)
def test_a_withdrawal_may_take_all_free_cash_but_no_more(empty_market: Market, amount: int, code: int) -> None:
    empty_market.open_account(ALICE, cash(1_000))

    events = empty_market.apply(AdjustCash(ALICE, -amount))

    if code:
        assert empty_market.rejected(events) == rejects.INSUFFICIENT_BUYING_POWER
        assert empty_market.account(ALICE).cash == cash(1_000)
    else:
        assert empty_market.account(ALICE).cash == cash(1_000) - amount
        assert empty_market.account(ALICE).deposits == cash(1_000) - amount


def test_a_withdrawal_may_not_take_cash_committed_to_open_buy_orders(empty_market: Market) -> None:
    empty_market.open_account(ALICE, cash(1_000))
    empty_market.buy(6, 10_000)  # commits 600.00

    assert (
        empty_market.rejected(empty_market.apply(AdjustCash(ALICE, -(cash(400) + 1))))
        == rejects.INSUFFICIENT_BUYING_POWER
    )
    empty_market.apply(AdjustCash(ALICE, -cash(400)))
    assert empty_market.account(ALICE).buying_power == 0


def test_a_withdrawal_may_not_take_credit(empty_market: Market) -> None:
    empty_market.open_account(ALICE, cash(100), credit_limit=cash(1_000))

    assert (
        empty_market.rejected(empty_market.apply(AdjustCash(ALICE, -(cash(100) + 1))))
        == rejects.INSUFFICIENT_BUYING_POWER
    )
    empty_market.apply(AdjustCash(ALICE, -cash(100)))
    assert empty_market.account(ALICE).cash == 0


@pytest.mark.parametrize("amount", [0, MAX_CASH_UNITS + 1, -(MAX_CASH_UNITS + 1)])
def test_a_cash_adjustment_of_nothing_or_too_much_is_refused(market: Market, amount: int) -> None:
    assert market.rejected(market.apply(AdjustCash(ALICE, amount))) == rejects.INVALID_ACCOUNT_SETTING


def test_cash_may_not_be_deposited_beyond_four_times_the_largest_amount(empty_market: Market) -> None:
    empty_market.open_account(ALICE, MAX_CASH_UNITS)
    for _ in range(3):
        empty_market.apply(AdjustCash(ALICE, MAX_CASH_UNITS))

    assert empty_market.account(ALICE).cash == 4 * MAX_CASH_UNITS
    assert empty_market.rejected(empty_market.apply(AdjustCash(ALICE, 1))) == rejects.INVALID_ACCOUNT_SETTING


# -- states, limits and switches -------------------------------------------------------------


@pytest.mark.parametrize("state", [0, HALTED + 1, -1])
def test_an_unknown_account_state_is_refused(market: Market, state: int) -> None:
    assert market.rejected(market.apply(SetAccountState(ALICE, state))) == rejects.INVALID_ACCOUNT_SETTING
    assert market.account(ALICE).state == ACTIVE


def test_setting_risk_limits_reports_them(market: Market) -> None:
    limits = RiskLimits(10 * LOT, cash(1_000), 500, 5, 20 * LOT, 10)

    events = market.apply(SetRiskLimits(ALICE, limits))

    market.expect(events[0], RiskLimitsSet, account=ALICE, limits=limits)
    assert market.account(ALICE).limits == limits
    market.expect(market.apply(SetRiskLimits(0, limits))[0], RiskLimitsSet, account=0, limits=limits)
    assert market.exchange.default_limits == limits
    market.expect(market.apply(SetRiskLimits(ALICE, None))[0], RiskLimitsSet, account=ALICE, limits=None)


@pytest.mark.parametrize("account_id", [ALICE, 0])
@pytest.mark.parametrize(
    "limits",
    [RiskLimits(max_order_quantity=-1), RiskLimits(price_collar_bps=10_001), RiskLimits(max_position=10**18 + 1)],
    ids=["negative", "collar-over-100-percent", "too-large"],
)
def test_invalid_risk_limits_are_refused(market: Market, account_id: int, limits: RiskLimits) -> None:
    events = market.apply(SetRiskLimits(account_id, limits))

    market.expect(events[0], CommandRejected, account=account_id, code=rejects.INVALID_ACCOUNT_SETTING)
    assert market.account(ALICE).limits == RiskLimits()


def test_the_venue_defaults_cannot_be_removed(market: Market) -> None:
    assert market.rejected(market.apply(SetRiskLimits(0, None))) == rejects.INVALID_ACCOUNT_SETTING


@pytest.mark.parametrize(
    "command",
    [
        UpdateAccount(99, 0, 0, 0),
        AdjustCash(99, cash(1)),
        AdjustCash(99, -cash(1)),
        SetAccountState(99, HALTED),
        SetRiskLimits(99, RiskLimits()),
        SetRiskLimits(99, None),
        SetKillSwitch(99, True),
        SetKillSwitch(-1, False),
    ],
    ids=["update", "deposit", "withdraw", "state", "limits", "no-limits", "kill-switch", "negative-kill-switch"],
)
def test_commands_for_an_account_that_does_not_exist_are_refused(market: Market, command: Command) -> None:
    before = export_exchange(market.exchange)

    events = market.apply(command)

    market.expect(events[0], CommandRejected, code=rejects.UNKNOWN_ACCOUNT)
    assert len(events) == 1
    after = export_exchange(market.exchange)
    after[0][0] = before[0][0]  # only the event sequence moved
    assert after == before


@pytest.mark.parametrize("command", [SetInstrumentHalt("NOPE", True), SetMarkPrice("NOPE", 100)])
def test_status_commands_for_a_symbol_that_is_not_listed_are_refused(market: Market, command: Command) -> None:
    events = market.apply(command)

    market.expect(events[0], CommandRejected, account=0, code=rejects.UNKNOWN_SYMBOL)
    assert market.exchange.halted == {}
    assert market.exchange.mark_prices == {}


@pytest.mark.parametrize(
    ("price", "code"), [(-1, rejects.INVALID_PRICE), (100_000_000, 0), (100_000_001, rejects.INVALID_PRICE)]
)
def test_a_mark_price_must_be_within_the_instruments_price_range(market: Market, price: int, code: int) -> None:
    events = market.apply(SetMarkPrice(AAPL, price))

    if code:
        assert market.rejected(events) == rejects.INVALID_PRICE
        assert market.exchange.mark_prices == {}
    else:
        assert market.exchange.mark_prices == {AAPL: price}


def test_a_command_rejection_names_its_reason() -> None:
    rejected = CommandRejected(1, 2, ALICE, rejects.ACCOUNT_EXISTS)

    assert rejected.reason == "ACCOUNT_EXISTS"
    assert rejected.text == "an account with this id already exists"


def test_an_engine_command_is_not_taken_for_an_administrative_one(market: Market) -> None:
    events = market.apply(SubmitOrder(0, ALICE, AAPL, BUY, 1, 9_000))

    assert market.kinds(events) == ["OrderAccepted", "BookLevelChanged"]
