"""The REST edge: decimals to ticks, lots and cash units, order requests to commands, state back to decimal text."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from tests.unit.service.tape import ALICE, BOB, CAROL, Tape

from hft.domain.commands import SubmitOrder
from hft.domain.exchange import queries
from hft.domain.exchange.money import CASH_SCALE, QUANTITY_SCALE
from hft.domain.exchange.risk import RiskLimits
from hft.domain.instruments import Instrument, default_instruments, equity
from hft.domain.orders import BUY, GTD, IOC, MARKET, SELL, STOP_LIMIT, STP_CANCEL_BOTH
from hft.gateways.rest import schemas
from hft.gateways.rest.convert import (
    InputError,
    account_response,
    amend_command,
    cash_units,
    execution_response,
    limits_body,
    limits_from,
    moment,
    order_response,
    position_response,
    price_ticks,
    quantity_lots,
    read_json,
    submit_command,
    trade_response,
)
from hft.service.history import Execution, OrderState
from hft.service.market import Trade

AAPL = equity("AAPL")
BTC = next(instrument for instrument in default_instruments() if instrument.symbol == "BTC-USD")
NOW_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
PLAIN_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")


def _refused(call: Any, *args: Any, **kwargs: Any) -> InputError:
    with pytest.raises(InputError) as raised:
        call(*args, **kwargs)
    return raised.value


def _order(**fields: Any) -> schemas.OrderRequest:
    defaults: dict[str, Any] = {"symbol": "AAPL", "side": "BUY", "quantity": Decimal(10), "price": Decimal("150.25")}
    return schemas.OrderRequest(**{**defaults, **fields})


# -- prices, quantities and cash -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ticks"),
    [("150.25", 15_025), ("0.01", 1), ("150.250000", 15_025), ("1.5E+2", 15_000), ("1000000.00", 100_000_000)],
)
def test_price_becomes_ticks_exactly(text: str, ticks: int) -> None:
    assert price_ticks(AAPL, Decimal(text)) == ticks


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("150.255", "PRICE_OFF_TICK"),
        ("0", "INVALID_PRICE"),
        ("-1.00", "INVALID_PRICE"),
        ("1000000.01", "PRICE_OUT_OF_RANGE"),
        ("1E+30", "PRICE_OUT_OF_RANGE"),
        ("1E+999999", "PRICE_OUT_OF_RANGE"),
        ("1E-999999", "PRICE_OFF_TICK"),
        ("NaN", "INVALID_NUMBER"),
        ("Infinity", "INVALID_NUMBER"),
        ("-Infinity", "INVALID_NUMBER"),
        ("sNaN", "INVALID_NUMBER"),
    ],
)
def test_bad_price_is_refused_with_its_code_and_field(text: str, code: str) -> None:
    error = _refused(price_ticks, AAPL, Decimal(text), "stop_price")

    assert error.code == code
    assert error.message.startswith("stop_price: ")
    assert error.status == 422


@pytest.mark.parametrize(
    ("instrument", "text", "lots"), [(AAPL, "10", 10), (AAPL, "1E+3", 1000), (BTC, "0.0001", 1), (BTC, "1.5", 15_000)]
)
def test_quantity_becomes_lots_exactly(instrument: Instrument, text: str, lots: int) -> None:
    assert quantity_lots(instrument, Decimal(text)) == lots


@pytest.mark.parametrize(
    ("instrument", "text", "code"),
    [
        (AAPL, "1.5", "QUANTITY_OFF_LOT"),
        (AAPL, "0", "INVALID_QUANTITY"),
        (AAPL, "-3", "INVALID_QUANTITY"),
        (AAPL, "1000001", "QUANTITY_OUT_OF_RANGE"),
        (BTC, "0.00001", "QUANTITY_OFF_LOT"),
        (AAPL, "NaN", "INVALID_NUMBER"),
    ],
)
def test_bad_quantity_is_refused_with_its_code(instrument: Instrument, text: str, code: str) -> None:
    error = _refused(quantity_lots, instrument, Decimal(text))

    assert error.code == code
    assert error.message.startswith("quantity: ")


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("1000", 1000 * CASH_SCALE),
        ("0.00000001", 1),
        ("1E+3", 1000 * CASH_SCALE),
        ("-0", 0),
        ("0.10000000", CASH_SCALE // 10),
        ("9999999999.99999999", 10**10 * CASH_SCALE - 1),
    ],
)
def test_cash_becomes_exact_units(text: str, units: int) -> None:
    assert cash_units(Decimal(text), "cash") == units


@pytest.mark.parametrize(
    "text", ["0.000000001", "-5", "NaN", "Infinity", "10000000001", "1E+999999", "1E-999999", "sNaN"]
)
def test_bad_cash_is_refused_naming_the_field(text: str) -> None:
    error = _refused(cash_units, Decimal(text), "deposit")

    assert error.code == "INVALID_AMOUNT"
    assert error.message.startswith("deposit: ")


def test_negative_cash_is_allowed_only_when_asked() -> None:
    assert cash_units(Decimal("-12.5"), "amount", allow_negative=True) == -1_250_000_000


# -- duplicate keys --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"price": 1, "price": 2}',
        b'{"symbol": "AAPL", "symbol": "MSFT"}',
        b'{"a": {"b": 1, "b": 1}}',
        b'[{"x": "y"}, {"x": "y", "x": "z"}]',
        b'{"quantity": 1, "quantity": "1", "price": "\\u0031"}',
    ],
)
def test_a_key_named_twice_is_refused(body: bytes) -> None:
    error = _refused(read_json, body)

    assert (error.code, error.status) == ("DUPLICATE_KEY", 400)


@pytest.mark.parametrize(
    "body",
    [
        b'{"symbol": "AAPL", "side": "BUY", "quantity": 1}',
        b'{"a": "\\"quoted\\"", "b": "x"}',
        b'{"a": {"a": {"a": 1}}}',
        b"{not json",
        b"",
        b"[" * 100_000,
    ],
)
def test_bodies_without_repeated_keys_pass_and_malformed_json_is_left_to_the_decoder(body: bytes) -> None:
    read_json(body)


def test_nan_in_the_body_is_refused_as_not_a_number() -> None:
    error = _refused(read_json, b'{"price": NaN, "quantity": "\\u0031"}')

    assert error.code == "INVALID_NUMBER"


# -- order requests --------------------------------------------------------------------------


def test_full_order_request_becomes_the_command() -> None:
    expire = datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    request = _order(
        side="SELL",
        order_type="STOP_LIMIT",
        price=Decimal("150.25"),
        stop_price=Decimal("151"),
        time_in_force="GTD",
        expire_time=expire,
        stp="CANCEL_BOTH",
        client_order_id="my-1",
    )

    command = submit_command(request, 7, AAPL, NOW_NS)

    assert isinstance(command, SubmitOrder)
    assert (command.order_id, command.account, command.symbol, command.side) == (0, 7, "AAPL", SELL)
    assert (command.quantity, command.price, command.stop_price) == (10, 15_025, 15_100)
    assert (command.order_type, command.time_in_force) == (STOP_LIMIT, GTD)
    assert command.self_trade_prevention == STP_CANCEL_BOTH
    assert command.client_order_id == "my-1"
    assert command.expire_ts == 1_893_553_445_123_456_000


def test_expire_time_in_another_zone_is_the_same_instant() -> None:
    here = datetime(2030, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))
    utc = datetime(2030, 1, 1, 0, 0, tzinfo=UTC)

    local = submit_command(_order(time_in_force="GTD", expire_time=here), 1, AAPL, NOW_NS)
    universal = submit_command(_order(time_in_force="GTD", expire_time=utc), 1, AAPL, NOW_NS)

    assert local.expire_ts == universal.expire_ts == 1_893_456_000 * 10**9


def test_market_order_has_no_price() -> None:
    command = submit_command(_order(order_type="MARKET", price=None, time_in_force="IOC"), 1, AAPL, NOW_NS)

    assert (command.order_type, command.price, command.time_in_force) == (MARKET, 0, IOC)


@pytest.mark.parametrize(
    ("fields", "code", "says"),
    [
        ({"price": None}, "INVALID_PRICE", ""),
        ({"order_type": "MARKET"}, "INVALID_TIME_IN_FORCE", ""),
        ({"order_type": "MARKET", "time_in_force": "IOC"}, "INVALID_PRICE", ""),
        ({"order_type": "STOP", "price": None}, "INVALID_STOP_PRICE", ""),
        ({"stop_price": Decimal("150")}, "INVALID_STOP_PRICE", ""),
        ({"time_in_force": "GTD"}, "INVALID_EXPIRE_TIME", "required"),
        ({"time_in_force": "GTD", "expire_time": datetime(2030, 1, 1)}, "INVALID_EXPIRE_TIME", "time zone"),
        ({"expire_time": datetime(2030, 1, 1, tzinfo=UTC)}, "INVALID_EXPIRE_TIME", ""),
        ({"time_in_force": "GTD", "expire_time": datetime(2025, 1, 1, tzinfo=UTC)}, "INVALID_EXPIRE_TIME", ""),
        ({"time_in_force": "GTD", "expire_time": datetime(2300, 1, 1, tzinfo=UTC)}, "INVALID_EXPIRE_TIME", "range"),
        ({"time_in_force": "GTD", "expire_time": datetime(1960, 1, 1, tzinfo=UTC)}, "INVALID_EXPIRE_TIME", "range"),
        ({"display_quantity": Decimal(10)}, "INVALID_DISPLAY_QUANTITY", ""),
        ({"display_quantity": Decimal(5), "time_in_force": "IOC"}, "INVALID_DISPLAY_QUANTITY", ""),
        ({"post_only": True, "time_in_force": "IOC"}, "INVALID_POST_ONLY", ""),
        ({"quantity": Decimal("0.5")}, "QUANTITY_OFF_LOT", "quantity"),
        ({"display_quantity": Decimal("0.5")}, "QUANTITY_OFF_LOT", "display_quantity"),
        ({"price": Decimal("150.001")}, "PRICE_OFF_TICK", "price"),
    ],
)
def test_order_request_the_engine_would_refuse_is_refused_before_it_is_journaled(
    fields: dict[str, Any], code: str, says: str
) -> None:
    error = _refused(submit_command, _order(**fields), 1, AAPL, NOW_NS)

    assert error.code == code
    assert says in error.message
    assert error.status == 422


def test_amend_changes_what_it_names_and_keeps_the_rest() -> None:
    order = _order_state(order_id=9, account=4, quantity=10, price=15_000)

    price_only = amend_command(schemas.AmendRequest(price=Decimal("151")), order, AAPL)
    quantity_only = amend_command(schemas.AmendRequest(quantity=Decimal(6)), order, AAPL)

    assert (price_only.order_id, price_only.account) == (9, 4)
    assert (price_only.quantity, price_only.price, price_only.stop_price) == (10, 15_100, 0)
    assert (quantity_only.quantity, quantity_only.price) == (6, 15_000)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({}, "AMEND_CHANGES_NOTHING"),
        ({"quantity": Decimal(10), "price": Decimal("150")}, "AMEND_CHANGES_NOTHING"),
        ({"quantity": Decimal("2.5")}, "QUANTITY_OFF_LOT"),
        ({"price": Decimal("150.001")}, "PRICE_OFF_TICK"),
    ],
)
def test_amend_that_changes_nothing_or_is_off_the_grid_is_refused(fields: dict[str, Any], code: str) -> None:
    order = _order_state(quantity=10, price=15_000)

    assert _refused(amend_command, schemas.AmendRequest(**fields), order, AAPL).code == code


# -- responses -------------------------------------------------------------------------------


def _order_state(**fields: Any) -> OrderState:
    defaults: dict[str, Any] = {
        "order_id": 1,
        "account": 1,
        "client_order_id": "",
        "symbol": "AAPL",
        "side": BUY,
        "order_type": 1,
        "time_in_force": 1,
        "price": 10_000,
        "stop_price": 0,
        "quantity": 10,
        "display_quantity": 0,
        "post_only": False,
        "expire_ts": 0,
        "status": "NEW",
        "created_ts": NOW_NS,
        "updated_ts": NOW_NS,
        "sequence": 1,
    }
    return OrderState(**{**defaults, **fields})


def test_moment_is_utc_with_microseconds() -> None:
    assert moment(NOW_NS + 123_456_789) == datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)


def test_order_response_spells_prices_and_quantities_on_the_instruments_grid() -> None:
    order = _order_state(price=15_025, quantity=10, filled=4, filled_notional=4 * 15_025, status="PARTIALLY_FILLED")

    response = order_response(order, AAPL)

    assert (response.price, response.quantity, response.filled_quantity, response.leaves_quantity) == (
        "150.25",
        "10",
        "4",
        "6",
    )
    assert response.avg_fill_price is not None
    assert Decimal(response.avg_fill_price) == Decimal("150.25")
    assert response.client_order_id is None
    assert response.created_at == moment(NOW_NS)


def test_order_response_uses_each_instruments_own_grid() -> None:
    nickel = Instrument("AAPL", Decimal("0.05"), Decimal("10"))
    order = _order_state(price=3, quantity=2)

    assert (order_response(order, AAPL).price, order_response(order, AAPL).quantity) == ("0.03", "2")
    assert (order_response(order, nickel).price, order_response(order, nickel).quantity) == ("0.15", "20")


def test_round_amounts_are_plain_decimals_never_exponent_notation() -> None:
    tape = Tape()
    tape.accounts(ALICE, BOB, CAROL, maker_fee_bps=100, taker_fee_bps=100, cash=1000 * CASH_SCALE)
    resting = tape.submit(ALICE, SELL, 5, 10_000)  # 100.00
    tape.submit(BOB, BUY, 5, 10_000)
    instrument = AAPL
    order = tape.history.order(ALICE, resting)
    assert order is not None
    [execution] = tape.history.list_executions(BOB)
    buyer = queries.account(tape.exchange, BOB)
    untouched = queries.account(tape.exchange, CAROL)
    assert buyer is not None
    assert untouched is not None
    [position] = buyer.positions

    texts = {
        "avg_fill_price": order_response(order, instrument).avg_fill_price,  # 100
        "fee": execution_response(execution, instrument).fee,  # 5
        "trade price": trade_response(_trade(execution), instrument).price,
        "position avg_price": position_response(position, instrument).avg_price,  # 100
        "cash": account_response(untouched, {"AAPL": instrument}).cash,  # 1000
        "max_order_quantity": msgspec.json.decode(
            msgspec.json.encode(limits_body(RiskLimits(max_order_quantity=100 * QUANTITY_SCALE)))
        )["max_order_quantity"],
    }

    assert {name: text for name, text in texts.items() if not PLAIN_DECIMAL.match(str(text))} == {}


def _trade(execution: Execution) -> Trade:
    return Trade(execution.trade_id, execution.symbol, execution.price, execution.quantity, BUY, execution.ts)


# -- risk limits -----------------------------------------------------------------------------


def test_limits_round_trip_through_user_units() -> None:
    body = schemas.RiskLimitsBody(
        max_order_quantity=Decimal("250.5"),
        max_order_notional=Decimal("1000000"),
        price_collar_bps=500,
        max_open_orders=20,
        max_position=Decimal("0.00000001"),
        max_orders_per_second=5,
    )

    limits = limits_from(body)

    assert limits.max_order_quantity == 25_050_000_000
    assert limits.max_position == 1
    assert limits.max_order_notional == 1_000_000 * CASH_SCALE
    assert limits_body(limits) == body


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"max_order_quantity": Decimal(-1)}, "max_order_quantity"),
        ({"max_order_quantity": Decimal("0.000000001")}, "max_order_quantity"),
        ({"max_position": Decimal("NaN")}, "max_position"),
        ({"max_order_notional": Decimal(-5)}, "max_order_notional"),
    ],
)
def test_bad_limits_are_refused_naming_the_field(fields: dict[str, Any], says: str) -> None:
    error = _refused(limits_from, schemas.RiskLimitsBody(**fields))

    assert says in error.message
