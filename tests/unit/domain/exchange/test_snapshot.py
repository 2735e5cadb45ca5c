"""export_exchange / restore_exchange: a restored exchange has the same state hash and behaves identically."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from tests.unit.domain.exchange.harness import (
    AAPL,
    ALICE,
    BOB,
    BTC,
    CAROL,
    DAVE,
    EVE,
    FAR_FUTURE,
    FRANK,
    GRACE,
    HEIDI,
    MSFT,
    Market,
    busy_market,
    cash,
    event_data,
    instruments,
)

from hft.core import rejects
from hft.domain.commands import AmendOrder, CancelOrder, Command, EndSession, ExpireOrders, SubmitOrder
from hft.domain.events import OrderRejected
from hft.domain.exchange import queries
from hft.domain.exchange.accounts import ACTIVE
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
from hft.domain.orders import BUY, DAY, GTD, IOC, MARKET, SELL, STOP, STOP_LIMIT

ACCOUNT_FIELDS = (
    "account_id",
    "name",
    "cash",
    "credit_limit",
    "maker_fee_bps",
    "taker_fee_bps",
    "state",
    "kill_switch",
    "limits",
    "has_own_limits",
    "open_orders",
    "open_buy_notional",
    "buying_power",
    "fees_paid",
    "deposits",
    "reject_count",
    "realized",
    "unrealized",
    "equity",
)
POSITION_FIELDS = (
    "symbol",
    "net",
    "open_cost",
    "realized",
    "mark",
    "market_value",
    "unrealized",
    "fees",
    "volume",
    "open_buy",
    "open_sell",
)
RECORD_FIELDS = (
    "order_id",
    "account",
    "client_order_id",
    "symbol",
    "side",
    "order_type",
    "time_in_force",
    "price",
    "stop_price",
    "quantity",
    "ts_accepted",
    "filled",
    "filled_notional",
    "status",
    "cancel_reason",
)


def _everything_queries_say(exchange: Exchange) -> list[object]:
    said: list[object] = []
    for account_id in sorted(exchange.accounts):
        view = queries.account(exchange, account_id)
        assert view is not None
        said.append([getattr(view, name) for name in ACCOUNT_FIELDS])
        said.append(sorted([getattr(held, name) for name in POSITION_FIELDS] for held in view.positions))
    for account_id, client_order_id in sorted(exchange.client_orders):
        record = queries.order_by_client_id(exchange, account_id, client_order_id)
        assert record is not None
        said.append([getattr(record, name) for name in RECORD_FIELDS])
    said.append(sorted(queries.net_positions(exchange).items()))
    return said


def _restored(market: Market) -> Market:
    return Market(exchange=restore_exchange(instruments(), export_exchange(market.exchange)), ts=market.ts)


def _client_order(client_order_id: str, account: int = ALICE) -> Callable[[Exchange], int]:
    return lambda exchange: exchange.client_orders[(account, client_order_id)].order_id


def _further_commands(exchange: Exchange) -> list[Command]:
    """Commands that exercise every part of the busy market's state, built from the original's ids."""
    iceberg = _client_order("alice-iceberg")(exchange)
    stop_limit = next(
        order.order_id
        for order in exchange.engine.orders.values()
        if order.account == ALICE and order.order_type == STOP_LIMIT
    )
    return [
        SubmitOrder(0, HEIDI, AAPL, BUY, 1, 9_000),  # her throttle window is part of the state
        SetInstrumentHalt(MSFT, False),
        SubmitOrder(0, BOB, MSFT, BUY, 5, 21_000),  # meets BOB's own offer: his STP mode decides
        SetKillSwitch(EVE, False),
        SubmitOrder(0, EVE, AAPL, BUY, 1, 9_500),
        SubmitOrder(0, CAROL, AAPL, BUY, 1, 9_000),  # still at her open-order limit
        AmendOrder(iceberg, ALICE, 18),
        AmendOrder(stop_limit, ALICE, 3, 10_600, 10_450),
        SubmitOrder(0, BOB, AAPL, SELL, 12, 9_400),  # sweeps the bids and sets off ALICE's stop
        SubmitOrder(0, FRANK, AAPL, BUY, 1, 10_100, client_order_id="frank-1"),
        SubmitOrder(0, BOB, AAPL, BUY, 8, 10_100, time_in_force=IOC),  # takes iceberg slices
        SubmitOrder(0, GRACE, AAPL, BUY, 1, 1_001),
        AdjustCash(GRACE, cash(100)),
        SubmitOrder(0, GRACE, AAPL, BUY, 1, 1_001),
        SubmitOrder(0, ALICE, AAPL, SELL, 1, 10_000, client_order_id="alice-bid"),  # a duplicate
        SubmitOrder(0, ALICE, BTC, BUY, 10, 3_000_000, time_in_force=DAY, client_order_id="alice-btc"),
        SubmitOrder(0, BOB, BTC, SELL, 4, order_type=STOP, stop_price=3_000_000),
        SubmitOrder(0, BOB, BTC, SELL, 2, 3_000_000),  # prints 3_000_000: BOB's stop sells to ALICE
        SetMarkPrice(AAPL, 9_999),
        SetRiskLimits(ALICE, RiskLimits(max_open_orders=2)),
        SubmitOrder(0, ALICE, AAPL, BUY, 1, 9_000),
        UpdateAccount(ALICE, cash(5_000), 0, 1),
        SetAccountState(DAVE, ACTIVE),
        CancelOrder(iceberg, ALICE),
        SubmitOrder(0, DAVE, AAPL, SELL, 3, order_type=MARKET, time_in_force=IOC),
        EndSession(BTC),
        SetKillSwitch(0, True),
        SubmitOrder(0, BOB, AAPL, BUY, 1, 9_000),
        SetKillSwitch(0, False),
        SubmitOrder(0, ALICE, AAPL, BUY, 2, 9_000, time_in_force=GTD, expire_ts=FAR_FUTURE + 1),
        ExpireOrders(),  # applied at FAR_FUTURE + 1: expires the GTD orders
    ]


def _ts_of(command: Command) -> int | None:
    return FAR_FUTURE + 1 if isinstance(command, ExpireOrders) else None


def test_a_restored_exchange_has_the_same_state_hash_and_answers_every_query_the_same() -> None:
    original = busy_market()

    restored = _restored(original)

    assert restored.hash() == original.hash()
    assert _everything_queries_say(restored.exchange) == _everything_queries_say(original.exchange)
    assert export_exchange(restored.exchange) == export_exchange(original.exchange)


def test_a_restored_exchange_behaves_identically_from_then_on() -> None:
    original = busy_market()
    restored = _restored(original)

    for command in _further_commands(original.exchange):
        events = original.apply(command, _ts_of(command))
        assert [event_data(event) for event in restored.apply(command, _ts_of(command))] == [
            event_data(event) for event in events
        ]
        assert restored.hash() == original.hash()

    assert _everything_queries_say(restored.exchange) == _everything_queries_say(original.exchange)
    kinds = set(original.kinds(original.events))
    # The further commands really did exercise the state the snapshot carried.
    assert {"StopTriggered", "OrderReplaced", "OrderCancelled", "PositionChanged", "KillSwitchSet"} <= kinds


def test_the_further_commands_reach_throttles_limits_and_status_carried_by_the_snapshot() -> None:
    market = busy_market()
    codes: list[int] = []
    for command in _further_commands(market.exchange):
        events = market.apply(command, _ts_of(command))
        codes.extend(event.code for event in events if isinstance(event, OrderRejected))

    assert codes == [
        rejects.ORDER_RATE_EXCEEDED,  # HEIDI's window came through the snapshot
        rejects.MAX_OPEN_ORDERS,  # CAROL's resting order still counts
        rejects.INSUFFICIENT_BUYING_POWER,  # GRACE before her deposit
        rejects.DUPLICATE_CLIENT_ORDER_ID,  # ALICE's client order ids
        rejects.MAX_OPEN_ORDERS,  # ALICE's new limits
        rejects.KILL_SWITCH_ACTIVE,  # the venue's switch
    ]


def test_exported_state_survives_a_json_round_trip() -> None:
    original = busy_market()

    data = json.loads(json.dumps(export_exchange(original.exchange)))
    restored = Market(exchange=restore_exchange(instruments(), data), ts=original.ts)

    assert restored.hash() == original.hash()
    command = SubmitOrder(0, BOB, AAPL, SELL, 12, 9_400)
    assert [event_data(event) for event in restored.apply(command)] == [
        event_data(event) for event in original.apply(command)
    ]


def test_the_state_hash_is_the_hash_of_the_exported_state() -> None:
    original = busy_market()

    data = json.loads(json.dumps(export_exchange(original.exchange)))

    assert queries.plain_state_hash(data) == original.hash()


def test_the_state_hash_changes_with_any_part_of_the_state() -> None:
    market = busy_market()
    seen = {market.hash()}
    for command in (
        SetMarkPrice(BTC, 3_000_001),
        SetInstrumentHalt(AAPL, True),
        SetKillSwitch(ALICE, True),
        SetRiskLimits(0, RiskLimits(max_open_orders=7)),
        AdjustCash(BOB, 1),
    ):
        market.apply(command)
        seen.add(market.hash())

    assert len(seen) == 6


def test_restoring_open_orders_that_the_engine_does_not_hold_is_refused() -> None:
    data = export_exchange(busy_market().exchange)
    data[9] = data[9][1:]

    with pytest.raises(ValueError, match="open orders"):
        restore_exchange(instruments(), data)


def test_an_empty_exchange_round_trips() -> None:
    empty = Exchange(instruments(), RiskLimits(max_open_orders=3))

    restored = restore_exchange(instruments(), export_exchange(empty))

    assert queries.state_hash(restored) == queries.state_hash(empty)
    assert restored.default_limits == RiskLimits(max_open_orders=3)
