"""The stream schema: every engine event becomes a versioned message on its stream, with exact decimal text."""

from __future__ import annotations

import msgspec
from tests.unit.service.tape import ALICE, BOB, RICH, Tape

from hft.domain.commands import AmendOrder, CancelOrder, SetSelfTradePrevention, SubmitOrder
from hft.domain.exchange.commands import (
    CreateAccount,
    SetApiKey,
    SetInstrumentHalt,
    SetKillSwitch,
    SetMarkPrice,
    SetRiskLimits,
)
from hft.domain.exchange.risk import RiskLimits
from hft.domain.orders import BUY, SELL, STOP, STP_CANCEL_NEWEST, STP_DECREMENT_AND_CANCEL
from hft.engine.core import Ack
from hft.streams import schema
from hft.streams.schema import MessageEncoder, decode


def _every_kind_of_event() -> list[Ack]:
    tape = Tape()
    return tape.acks(
        CreateAccount(ALICE, "alice", RICH, 0, 0, 0),
        CreateAccount(BOB, "bob", RICH, 0, 0, 0),
        SetApiKey(ALICE, "0" * 64),
        SetRiskLimits(BOB, RiskLimits(max_order_quantity=10**12, max_open_orders=50)),
        SetKillSwitch(BOB, True),
        SetKillSwitch(BOB, False),
        SetSelfTradePrevention(ALICE, STP_DECREMENT_AND_CANCEL),
        SubmitOrder(0, ALICE, "AAPL", SELL, 10, 15_050, client_order_id="ask"),  # order 1
        SubmitOrder(0, BOB, "AAPL", SELL, 3, 0, order_type=STOP, stop_price=14_000),  # order 2, a sell stop
        SubmitOrder(0, BOB, "AAPL", BUY, 4, 15_050),  # trades 4 of order 1
        AmendOrder(1, ALICE, 9, 15_060),
        SubmitOrder(0, ALICE, "AAPL", BUY, 2, 15_060),  # STP: decrements her own ask
        CancelOrder(1, ALICE),
        CancelOrder(99, ALICE),  # refused: unknown order
        SubmitOrder(0, ALICE, "NOPE", BUY, 1, 100, client_order_id="bad"),  # refused: unknown symbol
        SubmitOrder(0, ALICE, "AAPL", BUY, 1, 13_000),
        SubmitOrder(0, BOB, "AAPL", SELL, 1, 13_000, self_trade_prevention=STP_CANCEL_NEWEST),  # trades, triggers stop
        SetInstrumentHalt("MSFT", True),
        SetMarkPrice("MSFT", 30_000),
        SetKillSwitch(777, True),  # refused: unknown account
    )


def test_every_event_of_a_trading_day_has_a_message_that_decodes_to_its_type() -> None:
    acks = _every_kind_of_event()
    messages = MessageEncoder(Tape().instruments).encode(acks)
    kinds = {type(decode(message.payload)).__name__ for message in messages}
    assert kinds == {
        "AccountChanged", "ApiKeyChanged", "RiskLimitsSet", "KillSwitchSet", "SelfTradePreventionSet",
        "OrderAccepted", "OrderRejected", "OrderCancelled", "OrderReduced", "OrderReplaced", "StopTriggered",
        "TradeExecuted", "Trade", "BookLevelChanged", "PositionChanged", "InstrumentHaltSet", "MarkPriceSet",
        "CommandRejected",
    }  # fmt: skip
    events = sum(len(ack.events) for ack in acks)
    trades = sum(1 for message in messages if message.stream == schema.EXECUTIONS)
    assert len(messages) == events + trades  # one message per event, plus the public copy of each trade
    assert [message.sequence for message in messages] == sorted(message.sequence for message in messages)


def test_messages_carry_decimal_text_names_and_their_command() -> None:
    acks = _every_kind_of_event()
    messages = MessageEncoder(Tape().instruments).encode(acks)
    decoded = [decode(message.payload) for message in messages]
    accepted = next(event for event in decoded if isinstance(event, schema.OrderAccepted))
    assert (accepted.price, accepted.quantity, accepted.side, accepted.client_order_id) == (
        "150.50",
        "10",
        "SELL",
        "ask",
    )
    assert accepted.schema == schema.SCHEMA_VERSION == 1
    assert accepted.command_sequence == 8
    trade = next(event for event in decoded if isinstance(event, schema.TradeExecuted))
    assert (trade.price, trade.quantity, trade.taker_account, trade.maker_account) == ("150.50", "4", BOB, ALICE)
    refused = [event for event in decoded if isinstance(event, schema.OrderRejected)]
    assert [(event.symbol, event.reason) for event in refused] == [(None, "UNKNOWN_ORDER"), ("NOPE", "UNKNOWN_SYMBOL")]
    limits = next(event for event in decoded if isinstance(event, schema.RiskLimitsSet))
    assert limits.limits is not None
    assert limits.limits["max_order_quantity"] == "10000"
    mark = next(event for event in decoded if isinstance(event, schema.MarkPriceSet))
    assert (mark.symbol, mark.price) == ("MSFT", "300.00")


def test_keys_are_symbols_except_accounts_and_refusals_naming_no_symbol() -> None:
    messages = MessageEncoder(Tape().instruments).encode(_every_kind_of_event())
    keys = {(message.stream, message.key) for message in messages}
    assert {key for stream, key in keys if stream == schema.ACCOUNTS} == {"1", "2", "777"}
    assert {key for stream, key in keys if stream == schema.ORDERS} == {"AAPL", "NOPE", "_"}
    assert {key for stream, key in keys if stream == schema.MARKET_DATA} == {"AAPL", "MSFT"}


def test_keep_filters_messages_before_they_are_encoded() -> None:
    acks = _every_kind_of_event()
    encoder = MessageEncoder(Tape().instruments)
    everything = encoder.encode(acks)
    orders_after_20 = encoder.encode(acks, lambda stream, _key, sequence: stream == schema.ORDERS and sequence > 20)
    assert orders_after_20 == [m for m in everything if m.stream == schema.ORDERS and m.sequence > 20]


def test_the_json_schema_documents_every_message_type() -> None:
    document = schema.json_schema()
    assert {"OrderAccepted", "TradeExecuted", "PositionChanged"} <= set(document["$defs"])  # type: ignore[call-overload]
    msgspec.json.encode(document)
