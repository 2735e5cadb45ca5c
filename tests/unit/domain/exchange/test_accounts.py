"""Account: positions made on first use, and buying power as cash plus credit less open buys."""

from __future__ import annotations

from hft.domain.exchange.accounts import ACCOUNT_STATE_NAMES, ACCOUNT_STATES_BY_NAME, ACTIVE, HALTED, REDUCING, Account


def test_a_new_account_is_active_with_its_cash_as_its_deposits() -> None:
    account = Account(7, "seven", 1_000, 500, 1, 2)

    assert (account.state, account.kill_switch, account.limits) == (ACTIVE, False, None)
    assert (account.deposits, account.fees_paid, account.reject_count) == (1_000, 0, 0)
    assert (account.open_orders, account.open_buy_notional, account.positions) == (0, 0, {})


def test_a_position_is_created_flat_on_first_use_and_then_reused() -> None:
    account = Account(7, "seven", 0, 0, 0, 0)

    position = account.position("AAPL")

    assert (position.symbol, position.net) == ("AAPL", 0)
    assert account.position("AAPL") is position
    assert list(account.positions) == ["AAPL"]


def test_buying_power_is_cash_plus_credit_less_what_open_buys_commit() -> None:
    account = Account(7, "seven", 1_000, 500, 0, 0)
    account.open_buy_notional = 1_200

    assert account.buying_power() == 300

    account.cash = -400  # spent into its credit
    assert account.buying_power() == -1_100


def test_account_states_have_names_both_ways() -> None:
    assert ACCOUNT_STATE_NAMES == {ACTIVE: "ACTIVE", REDUCING: "REDUCING", HALTED: "HALTED"}
    assert {value: name for name, value in ACCOUNT_STATES_BY_NAME.items()} == ACCOUNT_STATE_NAMES
