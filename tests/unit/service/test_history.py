"""TradingHistory: every order and execution per account, folded from the acks of a real exchange.

Commands run through ``Exchange.apply`` as the durable core runs them; their
events, wrapped in ``Ack``s, are folded into the history, so every status,
fill and fee comes from real events.
"""

from __future__ import annotations

import random
from collections import defaultdict

from tests.unit.service.tape import ALICE, BOB, CAROL, CASH_PER_TICK_LOT, RICH, STEP_NS, Tape

from hft.core import rejects
from hft.domain.commands import (
    AmendOrder,
    CancelOrder,
    Command,
    EndSession,
    ExpireOrders,
    SetSelfTradePrevention,
    SubmitOrder,
)
from hft.domain.events import (
    CANCEL_REASON_EXPIRED,
    CANCEL_REASON_FOK_NOT_FILLED,
    CANCEL_REASON_IOC_REMAINDER,
    CANCEL_REASON_MARKET_REMAINDER,
    CANCEL_REASON_SELF_TRADE,
    CANCEL_REASON_USER,
    OrderRejected,
)
from hft.domain.exchange.commands import CreateAccount, UpdateAccount
from hft.domain.exchange.money import CASH_SCALE
from hft.domain.orders import (
    BUY,
    DAY,
    FOK,
    GTD,
    IOC,
    LIMIT,
    MARKET,
    SELL,
    STOP,
    STP_DECREMENT_AND_CANCEL,
)
from hft.service.history import (
    CANCELED,
    EXPIRED,
    FILLED,
    MAKER,
    NEW,
    PARTIALLY_FILLED,
    REJECTED,
    TAKER,
    TradingHistory,
)


def test_resting_order_is_new_open_and_visible_only_to_its_account() -> None:
    tape = Tape()
    tape.accounts(ALICE, BOB)

    order_id = tape.submit(ALICE, BUY, 10, 10_000, client_order_id="a-1")

    order = tape.history.order(ALICE, order_id)
    assert order is not None
    assert (order.status, order.filled, order.leaves, order.is_open) == (NEW, 0, 10, True)
    assert (order.symbol, order.side, order.price, order.quantity, order.client_order_id) == (
        "AAPL",
        BUY,
        10_000,
        10,
        "a-1",
    )
    assert order.created_ts == order.updated_ts == tape.ts
    assert tape.history.order(BOB, order_id) is None
    assert tape.history.order(ALICE, order_id + 100) is None
    assert tape.history.open_orders(ALICE) == [order]
    assert tape.history.open_orders(BOB) == []


def test_partial_then_full_fill_move_the_status_and_add_up_the_fills() -> None:
    tape = Tape()
    tape.accounts(ALICE, BOB)
    resting = tape.submit(ALICE, SELL, 10, 10_000)

    tape.submit(BOB, BUY, 4, 10_000)
    partial = tape.history.order(ALICE, resting)
    assert partial is not None
    assert (partial.status, partial.filled, partial.leaves, partial.is_open) == (PARTIALLY_FILLED, 4, 6, True)

    tape.submit(BOB, BUY, 6, 10_001)
    done = tape.history.order(ALICE, resting)
    assert done is not None
    assert (done.status, done.filled, done.leaves, done.is_open) == (FILLED, 10, 0, False)
    assert done.filled_notional == 10 * 10_000  # both fills at the maker's price
    assert done.updated_ts == tape.ts > done.created_ts
    assert tape.history.open_orders(ALICE) == []


def test_an_order_that_crosses_at_once_is_filled_by_its_own_ack() -> None:
    tape = Tape()
    tape.accounts(ALICE, BOB)
    tape.submit(ALICE, SELL, 5, 10_000)

    taker = tape.submit(BOB, BUY, 5, 10_100)

    order = tape.history.order(BOB, taker)
    assert order is not None
    assert (order.status, order.filled, order.filled_notional) == (FILLED, 5, 5 * 10_000)
    assert tape.history.open_orders(BOB) == []


def test_each_fill_gives_both_sides_an_execution_with_their_liquidity_and_fee() -> None:
    tape = Tape()
    tape.accounts(ALICE, BOB, maker_fee_bps=1, taker_fee_bps=3)
    maker_order = tape.submit(ALICE, SELL, 7, 12_345)

    changes = tape.run(SubmitOrder(0, BOB, "AAPL", BUY, 7, 12_345))

    notional = 7 * 12_345 * CASH_PER_TICK_LOT
    [taker_side, maker_side] = changes.executions
    assert (taker_side.account, taker_side.side, taker_side.liquidity) == (BOB, BUY, TAKER)
    assert (maker_side.account, maker_side.side, maker_side.liquidity) == (ALICE, SELL, MAKER)
    assert maker_side.order_id == maker_order
    assert taker_side.trade_id == maker_side.trade_id == 1
    assert (taker_side.execution_id, maker_side.execution_id) == (1, 2)
    assert (taker_side.price, taker_side.quantity) == (maker_side.price, maker_side.quantity) == (12_345, 7)
    assert taker_side.fee == notional * 3 // 10_000
    assert maker_side.fee == notional * 1 // 10_000
    assert tape.history.list_executions(ALICE) == [maker_side]
    assert tape.history.list_executions(BOB) == [taker_side]


def test_a_fee_change_applies_to_later_fills_only() -> None:
    tape = Tape()
    tape.accounts(ALICE, BOB, taker_fee_bps=10)
    tape.submit(ALICE, SELL, 2, 10_000)
    tape.submit(BOB, BUY, 1, 10_000)
    tape.run(UpdateAccount(BOB, 0, 0, 20))

    tape.submit(BOB, BUY, 1, 10_000)

    fees = [execution.fee for execution in reversed(tape.history.list_executions(BOB))]
    notional = 10_000 * CASH_PER_TICK_LOT
    assert fees == [notional * 10 // 10_000, notional * 20 // 10_000]


def test_execution_fees_and_fills_agree_with_the_exchange_over_a_busy_session() -> None:
    tape = Tape()
    tape.accounts(ALICE, BOB, CAROL, maker_fee_bps=2, taker_fee_bps=7)
    rng = random.Random(7)
    submitted: list[tuple[int, int]] = []
    for _ in range(400):
        account = rng.choice((ALICE, BOB, CAROL))
        if submitted and rng.random() < 0.2:
            owner, order_id = rng.choice(submitted)
            tape.run(CancelOrder(order_id, owner))
            continue
        side = rng.choice((BUY, SELL))
        order_id = tape.submit(account, side, rng.randint(1, 30), 10_000 + rng.randint(-5, 5))
        submitted.append((account, order_id))

    for account_id, trader in tape.exchange.accounts.items():
        executions = tape.history.list_executions(account_id, limit=10_000)
        assert sum(execution.fee for execution in executions) == trader.fees_paid
        net: dict[str, int] = defaultdict(int)
        for execution in executions:
            net[execution.symbol] += execution.quantity if execution.side == BUY else -execution.quantity
        assert {symbol: position.net for symbol, position in trader.positions.items()} == {
            symbol: net[symbol] for symbol in trader.positions
        }
    open_in_exchange = set(tape.exchange.open_orders)
    open_in_history = {
        order_id for account in (ALICE, BOB, CAROL) for order_id in tape.history.open_by_account.get(account, ())
    }
    assert open_in_history == open_in_exchange
    for order in tape.history.orders.values():
        fills = tape.history.list_executions(order.account, order_id=order.order_id, limit=10_000)
        assert order.filled == sum(fill.quantity for fill in fills)


def test_cancel_makes_the_order_canceled_with_the_user_reason() -> None:
    tape = Tape()
    tape.accounts(ALICE)
    order_id = tape.submit(ALICE, BUY, 3, 9_000)

    tape.run(CancelOrder(order_id, ALICE))

    order = tape.history.order(ALICE, order_id)
    assert order is not None
    assert (order.status, order.cancel_reason, order.cancel_reason_name, order.leaves) == (
        CANCELED,
        CANCEL_REASON_USER,
        "USER",
        0,
    )
    assert tape.history.open_orders(ALICE) == []


def test_refused_cancel_of_another_accounts_order_changes_nothing() -> None:
    tape = Tape()
    tape.accounts(ALICE, BOB)
    order_id = tape.submit(ALICE, BUY, 3, 9_000)

    changes = tape.run(CancelOrder(order_id, BOB))

    order = tape.history.order(ALICE, order_id)
    assert order is not None
    assert order.status == NEW
    assert changes.orders == {}
    assert tape.history.order(BOB, order_id) is None


def test_ioc_remainder_market_remainder_and_fok_are_canceled_with_their_reasons() -> None:
    tape = Tape()
    tape.accounts(ALICE, BOB)
    tape.submit(ALICE, SELL, 2, 10_000)

    ioc = tape.submit(BOB, BUY, 5, 10_000, time_in_force=IOC)
    market = tape.submit(BOB, BUY, 5, 0, order_type=MARKET, time_in_force=IOC)
    fok = tape.submit(BOB, BUY, 5, 10_000, time_in_force=FOK)

    found = {order_id: tape.history.order(BOB, order_id) for order_id in (ioc, market, fok)}
    assert {order_id: (o.status, o.filled, o.cancel_reason) for order_id, o in found.items() if o} == {
        ioc: (CANCELED, 2, CANCEL_REASON_IOC_REMAINDER),
        market: (CANCELED, 0, CANCEL_REASON_MARKET_REMAINDER),
        fok: (CANCELED, 0, CANCEL_REASON_FOK_NOT_FILLED),
    }


def test_gtd_order_expires_as_expired_when_its_time_passes() -> None:
    tape = Tape()
    tape.accounts(ALICE)
    expire_ts = tape.ts + 5 * STEP_NS
    order_id = tape.submit(ALICE, BUY, 3, 9_000, time_in_force=GTD, expire_ts=expire_ts)
    assert tape.history.open_orders(ALICE) != []

    tape.ts = expire_ts
    changes = tape.run(ExpireOrders())

    order = tape.history.order(ALICE, order_id)
    assert order is not None
    assert (order.status, order.cancel_reason, order.expire_ts, order.is_open) == (
        EXPIRED,
        CANCEL_REASON_EXPIRED,
        expire_ts,
        False,
    )
    assert list(changes.orders) == [order_id]
    assert tape.history.open_orders(ALICE) == []


def test_day_order_expires_at_the_end_of_the_session() -> None:
    tape = Tape()
    tape.accounts(ALICE)
    day = tape.submit(ALICE, BUY, 3, 9_000, time_in_force=DAY)
    good_till_canceled = tape.submit(ALICE, BUY, 3, 9_001)

    tape.run(EndSession())

    statuses = {order.order_id: order.status for order in tape.history.list_orders(ALICE)}
    assert statuses == {day: EXPIRED, good_till_canceled: NEW}


def test_rejected_submit_is_recorded_as_rejected_with_its_code() -> None:
    tape = Tape()
    tape.accounts(ALICE, cash=100 * CASH_SCALE)

    order_id = tape.submit(ALICE, BUY, 100, 10_000, client_order_id="too-big")

    order = tape.history.order(ALICE, order_id)
    assert order is not None
    assert (order.status, order.reject_code, order.reject_reason, order.is_open, order.leaves) == (
        REJECTED,
        rejects.INSUFFICIENT_BUYING_POWER,
        "INSUFFICIENT_BUYING_POWER",
        False,
        0,
    )
    assert (order.quantity, order.price, order.client_order_id) == (100, 10_000, "too-big")
    assert tape.history.open_orders(ALICE) == []
    assert tape.history.list_orders(ALICE) == [order]


def test_duplicate_client_order_id_attempt_creates_nothing_and_keeps_the_first_order() -> None:
    tape = Tape()
    tape.accounts(ALICE, BOB)
    first = tape.submit(ALICE, BUY, 1, 9_000, client_order_id="same")

    [ack] = tape.acks(SubmitOrder(0, ALICE, "AAPL", SELL, 5, 9_500, client_order_id="same"))
    changes = tape.history.apply([ack])

    [event] = [e for e in ack.events if isinstance(e, OrderRejected)]
    assert event.code == rejects.DUPLICATE_CLIENT_ORDER_ID
    assert changes.orders == {}
    assert tape.history.order(ALICE, event.order_id) is None
    assert [order.order_id for order in tape.history.list_orders(ALICE)] == [first]
    found = tape.history.order_by_client_id(ALICE, "same")
    assert found is not None
    assert (found.order_id, found.side, found.status) == (first, BUY, NEW)
    # Client order ids belong to their account.
    other = tape.submit(BOB, BUY, 1, 9_000, client_order_id="same")
    found_for_bob = tape.history.order_by_client_id(BOB, "same")
    assert found_for_bob is not None
    assert found_for_bob.order_id == other


def test_client_order_id_of_a_rejected_order_goes_to_the_accepted_one_that_reuses_it() -> None:
    tape = Tape()
    tape.accounts(ALICE, cash=100 * CASH_SCALE)
    rejected = tape.submit(ALICE, BUY, 100, 10_000, client_order_id="retry")
    by_id = tape.history.order_by_client_id(ALICE, "retry")
    assert by_id is not None
    assert by_id.order_id == rejected

    accepted = tape.submit(ALICE, BUY, 1, 10_000, client_order_id="retry")

    found = tape.history.order_by_client_id(ALICE, "retry")
    assert found is not None
    assert (found.order_id, found.status) == (accepted, NEW)
    assert tape.history.order_by_client_id(ALICE, "unknown") is None


def test_amend_changes_price_and_quantity_and_a_refused_amend_changes_nothing() -> None:
    tape = Tape()
    tape.accounts(ALICE)
    order_id = tape.submit(ALICE, BUY, 10, 9_000)

    tape.run(AmendOrder(order_id, ALICE, 6, 9_100))
    refused = tape.run(AmendOrder(order_id, ALICE, 6, 9_100))  # changes nothing: refused

    order = tape.history.order(ALICE, order_id)
    assert order is not None
    assert (order.price, order.quantity, order.status, order.leaves) == (9_100, 6, NEW, 6)
    assert refused.orders == {}


def test_triggered_stop_is_marked_and_fills() -> None:
    tape = Tape()
    tape.accounts(ALICE, BOB, CAROL)
    stop = tape.submit(ALICE, BUY, 2, 0, order_type=STOP, stop_price=10_050)
    waiting = tape.history.order(ALICE, stop)
    assert waiting is not None
    assert (waiting.status, waiting.triggered, waiting.stop_price) == (NEW, False, 10_050)

    tape.submit(BOB, SELL, 10, 10_050)
    tape.submit(CAROL, BUY, 1, 10_050)  # trades at 10_050: the stop fires and buys from BOB

    fired = tape.history.order(ALICE, stop)
    assert fired is not None
    assert (fired.triggered, fired.status, fired.filled) == (True, FILLED, 2)


def test_self_trade_decrement_reduces_the_resting_order() -> None:
    tape = Tape()
    tape.accounts(ALICE)
    tape.run(SetSelfTradePrevention(ALICE, STP_DECREMENT_AND_CANCEL))
    resting = tape.submit(ALICE, SELL, 10, 10_000)

    taker = tape.submit(ALICE, BUY, 4, 10_000)

    kept = tape.history.order(ALICE, resting)
    canceled = tape.history.order(ALICE, taker)
    assert kept is not None
    assert canceled is not None
    assert (kept.status, kept.quantity, kept.leaves) == (NEW, 6, 6)
    assert (canceled.status, canceled.cancel_reason) == (CANCELED, CANCEL_REASON_SELF_TRADE)
    assert tape.history.list_executions(ALICE) == []


def test_list_orders_pages_newest_first_and_filters() -> None:
    tape = Tape()
    tape.accounts(ALICE, BOB)
    ids = [tape.submit(ALICE, BUY, 1, 9_000 + index, symbol="AAPL" if index % 2 else "MSFT") for index in range(7)]
    tape.submit(BOB, BUY, 1, 9_000)
    tape.run(CancelOrder(ids[2], ALICE))

    history = tape.history
    first_page = history.list_orders(ALICE, limit=3)
    second_page = history.list_orders(ALICE, limit=3, before=first_page[-1].order_id)
    last_page = history.list_orders(ALICE, limit=3, before=second_page[-1].order_id)

    assert [o.order_id for o in first_page + second_page + last_page] == list(reversed(ids))
    assert len(last_page) == 1
    assert history.list_orders(ALICE, before=ids[0]) == []
    assert [o.order_id for o in history.list_orders(ALICE, status=CANCELED)] == [ids[2]]
    assert [o.order_id for o in history.list_orders(ALICE, symbol="AAPL")] == [ids[5], ids[3], ids[1]]
    assert ids[2] not in [o.order_id for o in history.list_orders(ALICE, open_only=True)]
    assert [o.order_id for o in history.list_orders(ALICE, open_only=True, limit=2)] == [ids[6], ids[5]]
    assert [o.order_id for o in history.list_orders(ALICE, open_only=True, before=ids[3])] == [ids[1], ids[0]]
    assert [o.order_id for o in history.open_orders(ALICE)] == [i for i in ids if i != ids[2]]
    assert history.list_orders(CAROL) == []


def test_list_executions_pages_newest_first_and_filters() -> None:
    tape = Tape()
    tape.accounts(ALICE, BOB)
    sells = [tape.submit(ALICE, SELL, 1, 10_000, symbol=symbol) for symbol in ("AAPL", "MSFT", "AAPL")]
    for symbol in ("AAPL", "MSFT", "AAPL"):
        tape.submit(BOB, BUY, 1, 10_000, symbol=symbol)

    history = tape.history
    everything = history.list_executions(ALICE)
    first = history.list_executions(ALICE, limit=2)
    rest = history.list_executions(ALICE, before=first[-1].execution_id)

    assert [e.order_id for e in everything] == list(reversed(sells))
    assert first + rest == everything
    assert [e.execution_id for e in everything] == sorted((e.execution_id for e in everything), reverse=True)
    assert [e.symbol for e in history.list_executions(ALICE, symbol="MSFT")] == ["MSFT"]
    assert [e.order_id for e in history.list_executions(ALICE, order_id=sells[0])] == [sells[0]]
    assert history.list_executions(ALICE, order_id=999) == []
    assert history.list_executions(CAROL) == []


def test_changes_report_what_one_batch_changed() -> None:
    tape = Tape()
    tape.accounts(ALICE)
    changes = tape.run(CreateAccount(BOB, "bob", RICH), SubmitOrder(0, ALICE, "AAPL", SELL, 3, 10_000))
    assert [account.account for account in changes.accounts] == [BOB]
    [resting] = changes.orders

    changes = tape.run(SubmitOrder(0, BOB, "AAPL", BUY, 3, 10_000), CancelOrder(12345, BOB))

    assert set(changes.orders) == {resting, resting + 1}
    assert len(changes.executions) == 2
    assert set(changes.positions) == {(ALICE, "AAPL"), (BOB, "AAPL")}
    assert changes.positions[(BOB, "AAPL")].net_quantity == 3
    assert changes.last_sequence == tape.history.last_sequence == tape.exchange.engine.sequence


def test_one_batch_or_one_ack_at_a_time_give_the_same_history() -> None:
    together, one_by_one = Tape(), Tape()
    rng = random.Random(3)
    commands: list[Command] = [CreateAccount(account, "t", RICH, 0, 1, 2) for account in (ALICE, BOB)]
    for _ in range(200):
        price = 10_000 + rng.randint(-3, 3)
        commands.append(SubmitOrder(0, rng.choice((ALICE, BOB)), "AAPL", rng.choice((BUY, SELL)), 3, price, LIMIT))

    together.run(*commands)
    for command in commands:
        one_by_one.run(command)

    def snapshot(history: TradingHistory) -> object:
        return (
            history.orders,
            history.executions_by_account,
            history.open_by_account,
            history.last_sequence,
        )

    assert snapshot(together.history) == snapshot(one_by_one.history)
