"""The journal codec: every command survives encode/decode field for field; garbage never becomes a command."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from hft.domain import commands as engine_commands
from hft.domain.commands import (
    AmendOrder,
    CancelOrder,
    Command,
    EndSession,
    ExpireOrders,
    MassCancel,
    SetSelfTradePrevention,
    SubmitOrder,
)
from hft.domain.exchange import commands as exchange_commands
from hft.domain.exchange.commands import (
    AdjustCash,
    CreateAccount,
    SetAccountState,
    SetApiKey,
    SetInstrumentHalt,
    SetKillSwitch,
    SetMarkPrice,
    SetRiskLimits,
    UpdateAccount,
)
from hft.domain.exchange.risk import RiskLimits
from hft.domain.orders import BUY, DAY, FOK, GTD, MARKET, SELL, STOP_LIMIT, STP_DECREMENT_AND_CANCEL
from hft.engine.codec import decode, encode
from hft.engine.errors import UndecodableCommandError

I64_MIN = -(2**63)
I64_MAX = 2**63 - 1
# Fields typed ``int`` (not i64) may hold anything msgpack can: down to -2**63, up to 2**64 - 1.
UINT64_MAX = 2**64 - 1

# Every field of every journaled command: compiled classes have no __dict__ to compare.
FIELDS: dict[type[Command], tuple[str, ...]] = {
    SubmitOrder: (
        "order_id",
        "account",
        "symbol",
        "side",
        "quantity",
        "price",
        "order_type",
        "time_in_force",
        "stop_price",
        "display_quantity",
        "post_only",
        "self_trade_prevention",
        "expire_ts",
        "client_order_id",
    ),
    CancelOrder: ("order_id", "account"),
    AmendOrder: ("order_id", "account", "quantity", "price", "stop_price"),
    MassCancel: ("account", "symbol", "side"),
    EndSession: ("symbol",),
    ExpireOrders: (),
    SetSelfTradePrevention: ("account", "mode"),
    CreateAccount: ("account_id", "name", "cash", "credit_limit", "maker_fee_bps", "taker_fee_bps"),
    UpdateAccount: ("account_id", "credit_limit", "maker_fee_bps", "taker_fee_bps"),
    AdjustCash: ("account_id", "amount"),
    SetAccountState: ("account_id", "state"),
    SetRiskLimits: ("account_id", "limits"),
    SetKillSwitch: ("account_id", "engaged"),
    SetInstrumentHalt: ("symbol", "halted"),
    SetMarkPrice: ("symbol", "price"),
    SetApiKey: ("account_id", "key_hash"),
}

# The on-disk tags (format version 1): never renumbered, never reused.
TAGS: dict[type[Command], int] = {
    SubmitOrder: 1,
    CancelOrder: 2,
    AmendOrder: 3,
    MassCancel: 4,
    EndSession: 5,
    ExpireOrders: 6,
    SetSelfTradePrevention: 7,
    CreateAccount: 20,
    UpdateAccount: 21,
    AdjustCash: 22,
    SetAccountState: 23,
    SetRiskLimits: 24,
    SetKillSwitch: 25,
    SetInstrumentHalt: 26,
    SetMarkPrice: 27,
    SetApiKey: 28,
}

ROUND_TRIPS: list[Command] = [
    SubmitOrder(0, 1, "AAPL", BUY, 10, 10_000),
    SubmitOrder(
        0,
        I64_MAX,
        "BTC-USD",
        SELL,
        I64_MAX,
        I64_MIN,
        STOP_LIMIT,
        GTD,
        I64_MAX,
        I64_MIN,
        True,
        STP_DECREMENT_AND_CANCEL,
        I64_MAX,
        "client-\u00e9\u20ac\U0001d11e",
    ),
    SubmitOrder(0, I64_MIN, "", 0, 0, 0, MARKET, FOK, 0, 0, False, 0, I64_MIN, ""),
    CancelOrder(I64_MAX, I64_MIN),
    CancelOrder(0, 0),
    AmendOrder(I64_MAX, 1, I64_MIN, I64_MAX, I64_MIN),
    AmendOrder(7, 2, 5),
    MassCancel(3),
    MassCancel(I64_MIN, "ETH-USD", SELL),
    EndSession(),
    EndSession("\U0001f4c8 symbol with spaces"),
    ExpireOrders(),
    SetSelfTradePrevention(I64_MAX, I64_MIN),
    CreateAccount(1, "a"),
    CreateAccount(I64_MAX, "n\u00e4me \u540d\u524d", UINT64_MAX, I64_MIN, I64_MIN, I64_MAX),
    CreateAccount(I64_MIN, "", I64_MIN, UINT64_MAX, 0, 0),
    UpdateAccount(2, UINT64_MAX, 0, I64_MAX),
    UpdateAccount(I64_MIN, I64_MIN, I64_MIN, 0),
    AdjustCash(1, UINT64_MAX),
    AdjustCash(1, I64_MIN),
    SetAccountState(I64_MAX, I64_MIN),
    SetRiskLimits(0, None),
    SetRiskLimits(4, RiskLimits()),
    SetRiskLimits(I64_MAX, RiskLimits(UINT64_MAX, I64_MIN, I64_MAX, I64_MIN, UINT64_MAX, I64_MAX)),
    SetKillSwitch(0, True),
    SetKillSwitch(I64_MIN, False),
    SetInstrumentHalt("MSFT", True),
    SetInstrumentHalt("", False),
    SetMarkPrice("AAPL", I64_MAX),
    SetMarkPrice("SPY", I64_MIN),
    SetApiKey(1, "0" * 64),
    SetApiKey(I64_MAX, ""),
]


def fields_of(command: Command) -> dict[str, Any]:
    """Return every field of ``command`` by name (risk limits as their tuple)."""
    values = {name: getattr(command, name) for name in FIELDS[type(command)]}
    limits = values.get("limits")
    if isinstance(limits, RiskLimits):
        values["limits"] = limits.as_tuple()
    return values


def journaled_command_types() -> set[type[Command]]:
    """Return every concrete command class the domain defines."""
    found: set[type[Command]] = set()
    for module in (engine_commands, exchange_commands):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Command) and value is not Command:
                found.add(value)
    return found


@pytest.mark.parametrize("command", ROUND_TRIPS, ids=lambda command: type(command).__name__)
def test_every_field_survives_a_round_trip(command: Command) -> None:
    decoded = decode(encode(command))

    assert type(decoded) is type(command)
    assert fields_of(decoded) == fields_of(command)
    for name, value in fields_of(decoded).items():
        assert type(value) is type(fields_of(command)[name]), name


def test_round_trip_cases_cover_every_command_type() -> None:
    covered = {type(command) for command in ROUND_TRIPS}

    assert covered == journaled_command_types() == set(FIELDS) == set(TAGS)


@pytest.mark.parametrize("command", ROUND_TRIPS, ids=lambda command: type(command).__name__)
def test_payload_is_a_msgpack_array_led_by_the_pinned_tag(command: Command) -> None:
    raw = msgspec.msgpack.decode(encode(command))

    assert isinstance(raw, list)
    assert raw[0] == TAGS[type(command)]


def test_order_id_is_not_stored_and_decodes_as_zero() -> None:
    command = SubmitOrder(0, 1, "AAPL", BUY, 5, 10_000, time_in_force=DAY, client_order_id="x")

    raw = msgspec.msgpack.decode(encode(command))

    assert raw == [1, 1, "AAPL", BUY, 5, 10_000, 1, DAY, 0, 0, False, 0, 0, "x"]
    decoded = decode(encode(command))
    assert isinstance(decoded, SubmitOrder)
    assert decoded.order_id == 0


def test_decode_accepts_a_memoryview_of_the_journal() -> None:
    payload = b"padding" + encode(CancelOrder(12, 3)) + b"more"
    view = memoryview(payload)[7:-4]

    decoded = decode(view)

    assert isinstance(decoded, CancelOrder)
    assert (decoded.order_id, decoded.account) == (12, 3)


@pytest.mark.parametrize("order_id", [1, -1, I64_MAX])
def test_submit_order_with_an_order_id_is_refused(order_id: int) -> None:
    with pytest.raises(ValueError, match="order_id 0"):
        encode(SubmitOrder(order_id, 1, "AAPL", BUY, 1, 10_000))


@pytest.mark.parametrize(
    "command",
    [
        CreateAccount(1, "a", cash=2**64),
        CreateAccount(1, "a", cash=-(2**63) - 1),
        CreateAccount(1, "a", credit_limit=10**30),
        UpdateAccount(1, 2**64, 0, 0),
        AdjustCash(1, -(2**64)),
        AdjustCash(1, 2**100),
        SetRiskLimits(1, RiskLimits(max_order_quantity=2**64)),
        SetRiskLimits(1, RiskLimits(max_order_notional=-(2**63) - 1)),
        SetRiskLimits(1, RiskLimits(max_position=2**70)),
    ],
    ids=lambda command: type(command).__name__,
)
def test_numbers_msgpack_cannot_hold_raise_value_error(command: Command) -> None:
    with pytest.raises(ValueError, match=f"a number in {type(command).__name__} is out of range"):
        encode(command)


def test_a_command_that_is_not_journaled_raises_type_error() -> None:
    with pytest.raises(TypeError, match="not a journaled command"):
        encode(Command())


def _packed(*fields: Any) -> bytes:
    return msgspec.msgpack.encode(list(fields))


GARBAGE: dict[str, bytes] = {
    "empty": b"",
    "invalid msgpack opcode": b"\xc1",
    "nil": b"\xc0",
    "bare integer": b"\x01",
    "map instead of array": msgspec.msgpack.encode({"tag": 2}),
    "empty array": _packed(),
    "unknown tag": _packed(99, 1, 2),
    "negative tag": _packed(-1),
    "tag as text": _packed("CancelOrder", 1, 2),
    "tag as array": _packed([2], 1, 2),
    "too few fields": _packed(2, 1),
    "too many risk limits": _packed(24, 1, [0, 0, 0, 0, 0, 0, 0]),
    "risk limits not an array": _packed(24, 1, 5),
    "truncated payload": encode(CreateAccount(1, "alice", 100))[:-1],
    "trailing bytes": encode(CancelOrder(1, 2)) + b"\x00",
    "random bytes": bytes(range(256))[::7],
}


@pytest.mark.parametrize("payload", list(GARBAGE.values()), ids=list(GARBAGE))
def test_garbage_raises_undecodable_command_error(payload: bytes) -> None:
    with pytest.raises(UndecodableCommandError):
        decode(payload)


def test_undecodable_command_error_is_a_value_error() -> None:
    assert issubclass(UndecodableCommandError, ValueError)


# The command classes do not check these in every build (pure Python checks no types), so the codec
# has to. A field more than version 1 wrote is not a newer format either: that would have a new version.
MALFORMED_FIELDS: dict[str, bytes] = {
    "text order id": _packed(2, "seven", 1),
    "order id beyond i64": _packed(2, 2**63, 1),
    "account as float": _packed(2, 1, 1.5),
    "kill switch engaged as integer": _packed(25, 1, 1),
    "halted as text": _packed(26, "AAPL", "yes"),
    "symbol as integer": _packed(5, 42),
    "arguments to expire orders": _packed(6, 1),
    "a field more than the command has": _packed(2, 1, 2, 3),
}


@pytest.mark.parametrize("payload", list(MALFORMED_FIELDS.values()), ids=list(MALFORMED_FIELDS))
def test_fields_of_the_wrong_type_or_number_raise_undecodable_command_error(payload: bytes) -> None:
    # Such a payload is not one this version wrote; replaying it would give a state that differs
    # between the builds (one refuses it, the other applies a command with a text order id).
    with pytest.raises(UndecodableCommandError):
        decode(payload)
