"""Every reject code, and the promise that a rejected command changes nothing.

``state_hash`` covers the event sequence counter and the highest order id
seen, and a rejection legitimately moves both: it emits one event, and a new
order that got past the duplicate-id check uses up its id (ids must exceed
every earlier id, accepted or not). So a rejection is checked against a
control venue that ran the same setup without it: the query-visible state
must be equal, the two counters must differ exactly as described, and once
the control's counters are set to match, the state hashes must be equal too.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from hft.core import rejects
from hft.core.fixedpoint import Rejection
from hft.domain.commands import (
    AmendOrder,
    CancelOrder,
    Command,
    EndSession,
    MassCancel,
    SetSelfTradePrevention,
    SubmitOrder,
)
from hft.domain.events import OrderRejected
from hft.domain.instruments import Instrument, equity
from hft.domain.matching.queries import state_hash
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
    STP_CANCEL_OLDEST,
    STP_DECREMENT_AND_CANCEL,
)
from hft.testing.venue import AAPL, ALICE, BOB, CAROL, Venue

REJECT_TS = 500_000
FAR = 10**15


def _busy_book(venue: Venue) -> None:
    """Resting orders on both sides, an iceberg, a trade, a waiting stop, GTD, DAY, post-only and an STP mode."""
    venue.run(SetSelfTradePrevention(BOB, STP_CANCEL_OLDEST))
    venue.submit(1, BUY, 10, 9_900, account=ALICE)
    venue.submit(2, SELL, 10, 10_100, display_quantity=5, account=ALICE)
    venue.submit(3, SELL, 3, 10_000, account=BOB)
    venue.submit(4, BUY, 1, 10_000, account=CAROL)  # prints at 10_000; order 3 is partly filled
    venue.submit(5, BUY, 2, order_type=STOP, stop_price=10_500, account=ALICE)
    venue.submit(6, BUY, 4, 9_800, time_in_force=GTD, expire_ts=FAR, account=BOB)
    venue.submit(7, SELL, 2, 10_200, time_in_force=DAY, account=ALICE)
    venue.submit(8, BUY, 5, 9_950, post_only=True, account=ALICE)


def _order(
    order_id: int = 10,
    account: int = ALICE,
    symbol: str = AAPL,
    side: int = BUY,
    quantity: int = 5,
    price: int = 9_000,
    order_type: int = LIMIT,
    time_in_force: int = GTC,
    stop_price: int = 0,
    display_quantity: int = 0,
    post_only: bool = False,
    self_trade_prevention: int = 0,
    expire_ts: int = 0,
) -> SubmitOrder:
    return SubmitOrder(
        order_id,
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
    )


SUBMIT_REJECTS: list[tuple[str, SubmitOrder, int]] = [
    ("unknown symbol", _order(symbol="NOPE"), rejects.UNKNOWN_SYMBOL),
    ("symbols are case sensitive", _order(symbol="aapl"), rejects.UNKNOWN_SYMBOL),
    ("side zero", _order(side=0), rejects.INVALID_SIDE),
    ("side three", _order(side=3), rejects.INVALID_SIDE),
    ("order type zero", _order(order_type=0), rejects.INVALID_ORDER_TYPE),
    ("order type five", _order(order_type=5), rejects.INVALID_ORDER_TYPE),
    ("time in force zero", _order(time_in_force=0), rejects.INVALID_TIME_IN_FORCE),
    ("time in force six", _order(time_in_force=6), rejects.INVALID_TIME_IN_FORCE),
    ("market gtc", _order(order_type=MARKET, price=0, time_in_force=GTC), rejects.INVALID_TIME_IN_FORCE),
    ("market day", _order(order_type=MARKET, price=0, time_in_force=DAY), rejects.INVALID_TIME_IN_FORCE),
    (
        "market gtd",
        _order(order_type=MARKET, price=0, time_in_force=GTD, expire_ts=FAR),
        rejects.INVALID_TIME_IN_FORCE,
    ),
    ("limit without price", _order(price=0), rejects.INVALID_PRICE),
    ("limit with negative price", _order(price=-100), rejects.INVALID_PRICE),
    ("market with price", _order(order_type=MARKET, time_in_force=IOC, price=10_000), rejects.INVALID_PRICE),
    ("stop with price", _order(order_type=STOP, price=10_000, stop_price=10_500), rejects.INVALID_PRICE),
    ("stop limit without price", _order(order_type=STOP_LIMIT, price=0, stop_price=10_500), rejects.INVALID_PRICE),
    ("limit above max price", _order(price=100_000_001), rejects.PRICE_OUT_OF_RANGE),
    ("sell limit above max price", _order(side=SELL, price=100_000_001), rejects.PRICE_OUT_OF_RANGE),
    (
        "stop above max price",
        _order(order_type=STOP, price=0, stop_price=100_000_001),
        rejects.PRICE_OUT_OF_RANGE,
    ),
    (
        "stop limit above max price",
        _order(order_type=STOP_LIMIT, price=100_000_001, stop_price=10_500),
        rejects.PRICE_OUT_OF_RANGE,
    ),
    ("zero quantity", _order(quantity=0), rejects.INVALID_QUANTITY),
    ("negative quantity", _order(quantity=-5), rejects.INVALID_QUANTITY),
    ("quantity above max", _order(quantity=1_000_001), rejects.QUANTITY_OUT_OF_RANGE),
    ("stop without stop price", _order(order_type=STOP, price=0, stop_price=0), rejects.INVALID_STOP_PRICE),
    (
        "stop limit with negative stop",
        _order(order_type=STOP_LIMIT, price=10_000, stop_price=-1),
        rejects.INVALID_STOP_PRICE,
    ),
    ("limit with stop price", _order(stop_price=9_000), rejects.INVALID_STOP_PRICE),
    (
        "market with stop price",
        _order(order_type=MARKET, time_in_force=IOC, price=0, stop_price=9_000),
        rejects.INVALID_STOP_PRICE,
    ),
    ("display equal to quantity", _order(display_quantity=5), rejects.INVALID_DISPLAY_QUANTITY),
    ("display above quantity", _order(display_quantity=6), rejects.INVALID_DISPLAY_QUANTITY),
    ("negative display", _order(display_quantity=-1), rejects.INVALID_DISPLAY_QUANTITY),
    ("display on ioc", _order(time_in_force=IOC, display_quantity=1), rejects.INVALID_DISPLAY_QUANTITY),
    ("display on fok", _order(time_in_force=FOK, display_quantity=1), rejects.INVALID_DISPLAY_QUANTITY),
    (
        "display on market",
        _order(order_type=MARKET, time_in_force=IOC, price=0, display_quantity=1),
        rejects.INVALID_DISPLAY_QUANTITY,
    ),
    (
        "display on stop limit",
        _order(order_type=STOP_LIMIT, price=10_000, stop_price=10_500, display_quantity=1),
        rejects.INVALID_DISPLAY_QUANTITY,
    ),
    ("post only would take", _order(price=10_000, post_only=True), rejects.POST_ONLY_WOULD_TAKE),
    ("post only sell would take", _order(side=SELL, price=9_900, post_only=True), rejects.POST_ONLY_WOULD_TAKE),
    ("post only ioc", _order(time_in_force=IOC, post_only=True), rejects.INVALID_POST_ONLY),
    (
        "post only stop limit",
        _order(order_type=STOP_LIMIT, price=10_000, stop_price=10_500, post_only=True),
        rejects.INVALID_POST_ONLY,
    ),
    ("gtd without expire time", _order(time_in_force=GTD), rejects.INVALID_EXPIRE_TIME),
    ("gtd expiring now", _order(time_in_force=GTD, expire_ts=REJECT_TS), rejects.INVALID_EXPIRE_TIME),
    ("gtd expired already", _order(time_in_force=GTD, expire_ts=REJECT_TS - 1), rejects.INVALID_EXPIRE_TIME),
    ("gtc with expire time", _order(expire_ts=FAR), rejects.INVALID_EXPIRE_TIME),
    ("day with expire time", _order(time_in_force=DAY, expire_ts=FAR), rejects.INVALID_EXPIRE_TIME),
    ("id of a live order", _order(order_id=7), rejects.DUPLICATE_ORDER_ID),
    ("id of a filled order", _order(order_id=4), rejects.DUPLICATE_ORDER_ID),
    ("id below the last", _order(order_id=1), rejects.DUPLICATE_ORDER_ID),
    ("id zero", _order(order_id=0), rejects.DUPLICATE_ORDER_ID),
    ("negative prevention mode", _order(self_trade_prevention=-1), rejects.INVALID_SELF_TRADE_PREVENTION),
    (
        "unknown prevention mode",
        _order(self_trade_prevention=STP_DECREMENT_AND_CANCEL + 1),
        rejects.INVALID_SELF_TRADE_PREVENTION,
    ),
    ("account zero", _order(account=0), rejects.INVALID_ACCOUNT),
    ("negative account", _order(account=-1), rejects.INVALID_ACCOUNT),
]

OTHER_REJECTS: list[tuple[str, Command, int]] = [
    ("cancel of an unknown id", CancelOrder(999, ALICE), rejects.UNKNOWN_ORDER),
    ("cancel of another accounts order", CancelOrder(3, ALICE), rejects.UNKNOWN_ORDER),
    ("cancel of another accounts stop", CancelOrder(5, BOB), rejects.UNKNOWN_ORDER),
    ("cancel of a filled order", CancelOrder(4, CAROL), rejects.UNKNOWN_ORDER),
    ("amend of an unknown id", AmendOrder(999, ALICE, 5), rejects.UNKNOWN_ORDER),
    ("amend of another accounts order", AmendOrder(1, BOB, 5), rejects.UNKNOWN_ORDER),
    ("amend to zero", AmendOrder(1, ALICE, 0), rejects.INVALID_QUANTITY),
    ("amend to a negative quantity", AmendOrder(1, ALICE, -1), rejects.INVALID_QUANTITY),
    ("amend above max quantity", AmendOrder(1, ALICE, 1_000_001), rejects.QUANTITY_OUT_OF_RANGE),
    ("amend above max price", AmendOrder(1, ALICE, 10, price=100_000_001), rejects.PRICE_OUT_OF_RANGE),
    ("amend to a negative price", AmendOrder(1, ALICE, 10, price=-1), rejects.INVALID_PRICE),
    ("amend of a stops limit price", AmendOrder(5, ALICE, 2, price=10_600), rejects.INVALID_PRICE),
    ("amend of a limits stop price", AmendOrder(1, ALICE, 10, stop_price=9_000), rejects.INVALID_STOP_PRICE),
    ("amend to a negative stop price", AmendOrder(5, ALICE, 2, stop_price=-1), rejects.INVALID_STOP_PRICE),
    ("amend above max stop price", AmendOrder(5, ALICE, 2, stop_price=100_000_001), rejects.PRICE_OUT_OF_RANGE),
    ("amend to the filled quantity", AmendOrder(3, BOB, 1), rejects.AMEND_BELOW_FILLED),
    ("amend of nothing", AmendOrder(1, ALICE, 10), rejects.AMEND_CHANGES_NOTHING),
    ("amend of nothing on a stop", AmendOrder(5, ALICE, 2, stop_price=10_500), rejects.AMEND_CHANGES_NOTHING),
    ("post only amend would take", AmendOrder(8, ALICE, 5, price=10_000), rejects.POST_ONLY_WOULD_TAKE),
    ("mass cancel of account zero", MassCancel(0), rejects.INVALID_ACCOUNT),
    ("mass cancel of an unknown symbol", MassCancel(ALICE, symbol="NOPE"), rejects.UNKNOWN_SYMBOL),
    ("mass cancel of side three", MassCancel(ALICE, side=3), rejects.INVALID_SIDE),
    ("mass cancel of a negative side", MassCancel(ALICE, symbol=AAPL, side=-1), rejects.INVALID_SIDE),
    ("end of session of an unknown symbol", EndSession("NOPE"), rejects.UNKNOWN_SYMBOL),
    ("prevention mode of account zero", SetSelfTradePrevention(0, STP_CANCEL_OLDEST), rejects.INVALID_ACCOUNT),
    ("prevention mode default", SetSelfTradePrevention(ALICE, 0), rejects.INVALID_SELF_TRADE_PREVENTION),
    ("prevention mode six", SetSelfTradePrevention(ALICE, 6), rejects.INVALID_SELF_TRADE_PREVENTION),
    ("prevention mode negative", SetSelfTradePrevention(ALICE, -1), rejects.INVALID_SELF_TRADE_PREVENTION),
]

# Codes only the edge can produce: engine commands carry integer ticks and lots already.
EDGE_REJECTS: list[tuple[str, Callable[[Instrument], object], int]] = [
    ("price off tick", lambda instrument: instrument.price_to_ticks("100.005"), rejects.PRICE_OFF_TICK),
    ("quantity off lot", lambda instrument: instrument.quantity_to_lots("1.5"), rejects.QUANTITY_OFF_LOT),
    ("price NaN", lambda instrument: instrument.price_to_ticks("NaN"), rejects.INVALID_NUMBER),
    ("price infinite", lambda instrument: instrument.price_to_ticks(float("inf")), rejects.INVALID_NUMBER),
    ("quantity boolean", lambda instrument: instrument.quantity_to_lots(True), rejects.INVALID_NUMBER),
    ("price huge", lambda instrument: instrument.price_to_ticks("1e40"), rejects.PRICE_OUT_OF_RANGE),
    ("quantity huge", lambda instrument: instrument.quantity_to_lots("1e40"), rejects.QUANTITY_OUT_OF_RANGE),
]


def _command_ids(command: Command) -> tuple[int, int]:
    """Return the (order_id, account) an OrderRejected for ``command`` should echo."""
    if isinstance(command, (SubmitOrder, CancelOrder, AmendOrder)):
        return command.order_id, command.account
    if isinstance(command, (MassCancel, SetSelfTradePrevention)):
        return 0, command.account
    if isinstance(command, EndSession):
        return 0, 0
    raise AssertionError(f"no reject expected for {command!r}")


def assert_rejected_without_effect(
    new_venue: Callable[[], Venue], setup: Callable[[Venue], None], command: Command, code: int
) -> OrderRejected:
    """Run ``command`` after ``setup``; assert it was rejected with ``code`` and changed nothing."""
    venue = new_venue()
    setup(venue)
    events = venue.run(command, ts=REJECT_TS)

    assert venue.kinds(events) == ["OrderRejected"]
    order_id, account = _command_ids(command)
    rejected = venue.expect(events[0], OrderRejected, order_id=order_id, account=account, code=code)
    assert rejected.reason == rejects.REJECT_NAMES[code]
    assert rejected.text == rejects.REJECT_TEXTS[code]

    control = new_venue()
    setup(control)
    assert venue.snapshot() == control.snapshot()
    assert venue.engine.sequence == control.engine.sequence + 1
    used_id = isinstance(command, SubmitOrder) and code != rejects.DUPLICATE_ORDER_ID
    expected_last_id = max(control.engine.last_order_id, order_id) if used_id else control.engine.last_order_id
    assert venue.engine.last_order_id == expected_last_id
    control.engine.sequence = venue.engine.sequence
    control.engine.last_order_id = expected_last_id
    assert state_hash(venue.engine) == state_hash(control.engine)
    return rejected


@pytest.mark.parametrize(("command", "code"), [case[1:] for case in SUBMIT_REJECTS], ids=[c[0] for c in SUBMIT_REJECTS])
def test_invalid_new_order_is_rejected_with_its_code_and_changes_nothing(
    new_venue: Callable[[], Venue], command: SubmitOrder, code: int
) -> None:
    assert_rejected_without_effect(new_venue, _busy_book, command, code)


@pytest.mark.parametrize(("command", "code"), [case[1:] for case in OTHER_REJECTS], ids=[c[0] for c in OTHER_REJECTS])
def test_invalid_cancel_amend_or_setting_is_rejected_with_its_code_and_changes_nothing(
    new_venue: Callable[[], Venue], command: Command, code: int
) -> None:
    assert_rejected_without_effect(new_venue, _busy_book, command, code)


@pytest.mark.parametrize(("convert", "code"), [case[1:] for case in EDGE_REJECTS], ids=[c[0] for c in EDGE_REJECTS])
def test_edge_conversion_refuses_user_numbers_the_engine_never_sees(
    convert: Callable[[Instrument], object], code: int
) -> None:
    result = convert(equity(AAPL))
    assert isinstance(result, Rejection)
    assert result.code == code


def test_every_engine_reject_code_is_produced_by_the_engine_or_the_edge() -> None:
    exercised = {case[2] for case in SUBMIT_REJECTS} | {case[2] for case in OTHER_REJECTS}
    exercised |= {case[2] for case in EDGE_REJECTS}
    # Codes from DUPLICATE_CLIENT_ORDER_ID on belong to the exchange (accounts and risk) and are tested there.
    assert exercised == {code for code in rejects.REJECT_NAMES if code < rejects.DUPLICATE_CLIENT_ORDER_ID}


def test_a_quantity_below_the_instruments_minimum_is_out_of_range(new_venue: Callable[..., Venue]) -> None:
    venue = new_venue([Instrument("LOTS", Decimal("0.01"), Decimal(1), min_quantity=10)])

    events = venue.run(SubmitOrder(1, ALICE, "LOTS", BUY, 9, price=100))

    venue.expect(events[0], OrderRejected, order_id=1, code=rejects.QUANTITY_OUT_OF_RANGE)


def test_an_iceberg_slice_below_the_instruments_minimum_is_invalid(new_venue: Callable[..., Venue]) -> None:
    venue = new_venue([Instrument("LOTS", Decimal("0.01"), Decimal(1), min_quantity=10)])

    events = venue.run(SubmitOrder(1, ALICE, "LOTS", BUY, 100, price=100, display_quantity=9))
    accepted = venue.run(SubmitOrder(2, ALICE, "LOTS", BUY, 100, price=100, display_quantity=10))

    venue.expect(events[0], OrderRejected, order_id=1, code=rejects.INVALID_DISPLAY_QUANTITY)
    assert venue.kinds(accepted) == ["OrderAccepted", "BookLevelChanged"]


def test_an_amend_below_the_instruments_minimum_is_out_of_range(new_venue: Callable[..., Venue]) -> None:
    venue = new_venue([Instrument("LOTS", Decimal("0.01"), Decimal(1), min_quantity=10)])
    venue.run(SubmitOrder(1, ALICE, "LOTS", BUY, 20, price=100))

    events = venue.run(AmendOrder(1, ALICE, 9))

    venue.expect(events[0], OrderRejected, order_id=1, code=rejects.QUANTITY_OUT_OF_RANGE)


def test_an_order_at_exactly_the_limits_is_accepted(venue: Venue) -> None:
    events = venue.submit(1, SELL, 1_000_000, 100_000_000, account=ALICE)

    assert venue.kinds(events) == ["OrderAccepted", "BookLevelChanged"]


def test_a_rejected_orders_id_is_used_up(venue: Venue) -> None:
    venue.submit(5, BUY, 10, 0, account=ALICE)  # no price: rejected, but id 5 has been seen

    events = venue.submit(5, BUY, 10, 10_000, account=ALICE)

    venue.expect(events[0], OrderRejected, order_id=5, code=rejects.DUPLICATE_ORDER_ID)
    assert venue.kinds(venue.submit(6, BUY, 10, 10_000, account=ALICE)) == ["OrderAccepted", "BookLevelChanged"]


def test_a_duplicate_id_is_refused_before_the_symbol_is_looked_at(venue: Venue) -> None:
    venue.submit(5, BUY, 10, 10_000, account=ALICE)

    events = venue.run(_order(order_id=5, symbol="NOPE"))

    venue.expect(events[0], OrderRejected, code=rejects.DUPLICATE_ORDER_ID)


def test_ids_need_only_increase_not_be_consecutive(venue: Venue) -> None:
    assert venue.kinds(venue.submit(100, BUY, 1, 9_000)) == ["OrderAccepted", "BookLevelChanged"]
    assert venue.kinds(venue.submit(250, BUY, 1, 9_000)) == ["OrderAccepted", "BookLevelChanged"]


# -- unknown and foreign orders look the same ------------------------------------------------


def _without_order_id(rejected: OrderRejected) -> tuple[object, ...]:
    return (type(rejected).__name__, rejected.ts, rejected.account, rejected.code, rejected.reason, rejected.text)


def test_cancel_of_other_accounts_order_is_indistinguishable_from_unknown(new_venue: Callable[[], Venue]) -> None:
    foreign = assert_rejected_without_effect(new_venue, _busy_book, CancelOrder(3, ALICE), rejects.UNKNOWN_ORDER)
    unknown = assert_rejected_without_effect(new_venue, _busy_book, CancelOrder(998, ALICE), rejects.UNKNOWN_ORDER)

    assert (foreign.order_id, unknown.order_id) == (3, 998)
    assert _without_order_id(foreign) == _without_order_id(unknown)
    assert foreign.sequence == unknown.sequence


def test_amend_of_other_accounts_order_is_indistinguishable_from_unknown(new_venue: Callable[[], Venue]) -> None:
    foreign = assert_rejected_without_effect(new_venue, _busy_book, AmendOrder(6, ALICE, 1), rejects.UNKNOWN_ORDER)
    unknown = assert_rejected_without_effect(new_venue, _busy_book, AmendOrder(997, ALICE, 1), rejects.UNKNOWN_ORDER)

    assert _without_order_id(foreign) == _without_order_id(unknown)


def test_cancel_of_an_order_already_cancelled_is_unknown(venue: Venue) -> None:
    venue.submit(1, BUY, 10, 10_000, account=ALICE)
    venue.cancel(1, account=ALICE)

    events = venue.cancel(1, account=ALICE)

    venue.expect(events[0], OrderRejected, order_id=1, account=ALICE, code=rejects.UNKNOWN_ORDER)


def test_a_command_that_is_not_an_engine_command_is_a_bug_not_a_rejection(venue: Venue) -> None:
    with pytest.raises(TypeError, match="not an engine command"):
        venue.engine.execute(Command(), 1)
