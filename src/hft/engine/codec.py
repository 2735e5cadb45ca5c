"""Journal payloads: every command as a small msgpack array, ``[tag, field, ...]``.

The tags and field orders are the on-disk format (version 1): a tag is
never reused or renumbered, and new fields go at the end. Order ids are not
stored: the exchange assigns them in sequence, so replay assigns the same.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

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
from hft.domain.exchange.risk import RiskLimits
from hft.engine.errors import UndecodableCommandError
from hft.engine.journal import MAX_PAYLOAD

FORMAT_VERSION: Final = 1

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(list[Any])


def encode(command: Command) -> bytes:
    """Return the journal payload of ``command``. Raises ValueError for values that cannot be stored."""
    try:
        payload = _encoder.encode(_fields(command))
    except OverflowError as error:
        raise ValueError(f"a number in {type(command).__name__} is out of range") from error
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"{type(command).__name__} is too large to journal ({len(payload)} bytes)")
    return payload


def _fields(command: Command) -> list[Any]:
    if isinstance(command, SubmitOrder):
        if command.order_id:
            raise ValueError("a new order's id is assigned by the exchange; submit it with order_id 0")
        return [
            1,
            command.account,
            command.symbol,
            command.side,
            command.quantity,
            command.price,
            command.order_type,
            command.time_in_force,
            command.stop_price,
            command.display_quantity,
            command.post_only,
            command.self_trade_prevention,
            command.expire_ts,
            command.client_order_id,
        ]
    if isinstance(command, CancelOrder):
        return [2, command.order_id, command.account]
    if isinstance(command, AmendOrder):
        return [3, command.order_id, command.account, command.quantity, command.price, command.stop_price]
    if isinstance(command, MassCancel):
        return [4, command.account, command.symbol, command.side]
    if isinstance(command, EndSession):
        return [5, command.symbol]
    if isinstance(command, ExpireOrders):
        return [6]
    if isinstance(command, SetSelfTradePrevention):
        return [7, command.account, command.mode]
    return _account_fields(command)


def _account_fields(command: Command) -> list[Any]:
    if isinstance(command, CreateAccount):
        return [
            20,
            command.account_id,
            command.name,
            command.cash,
            command.credit_limit,
            command.maker_fee_bps,
            command.taker_fee_bps,
        ]
    if isinstance(command, UpdateAccount):
        return [21, command.account_id, command.credit_limit, command.maker_fee_bps, command.taker_fee_bps]
    if isinstance(command, AdjustCash):
        return [22, command.account_id, command.amount]
    if isinstance(command, SetAccountState):
        return [23, command.account_id, command.state]
    if isinstance(command, SetRiskLimits):
        limits = command.limits
        return [24, command.account_id, None if limits is None else list(limits.as_tuple())]
    if isinstance(command, SetKillSwitch):
        return [25, command.account_id, command.engaged]
    if isinstance(command, SetInstrumentHalt):
        return [26, command.symbol, command.halted]
    if isinstance(command, SetMarkPrice):
        return [27, command.symbol, command.price]
    raise TypeError(f"not a journaled command: {command!r}")


class _Cash:
    """Signature marker: an integer amount of money (any msgpack integer; the exchange checks the range)."""


# The fields each tag carries after the tag itself: their number and exact types (bool is not an int here;
# int means a 64-bit signed integer).
_SIGNATURES: Final[dict[int, tuple[type, ...]]] = {
    1: (int, str, int, int, int, int, int, int, int, bool, int, int, str),
    2: (int, int),
    3: (int, int, int, int, int),
    4: (int, str, int),
    5: (str,),
    6: (),
    7: (int, int),
    20: (int, str, _Cash, _Cash, int, int),
    21: (int, _Cash, int, int),
    22: (int, _Cash),
    23: (int, int),
    24: (int, object),
    25: (int, bool),
    26: (str, bool),
    27: (str, int),
}
_SMALLEST: Final = -(2**63)
_LARGEST: Final = 2**63 - 1


def decode(payload: bytes | memoryview) -> Command:
    """Rebuild the command from a journal payload. Raises UndecodableCommandError if it is not one."""
    try:
        fields: list[Any] = _decoder.decode(payload)
    except msgspec.DecodeError as error:
        raise UndecodableCommandError(str(error)) from error
    problem = _check_fields(fields)
    if problem:
        raise UndecodableCommandError(problem)
    try:
        return _build(fields[0], fields)
    except (OverflowError, TypeError, ValueError) as error:
        raise UndecodableCommandError(str(error)) from error


def _check_fields(fields: list[Any]) -> str:
    if not fields or type(fields[0]) is not int or fields[0] not in _SIGNATURES:
        return f"not a command tag: {fields[:1]!r}"
    signature = _SIGNATURES[fields[0]]
    if len(fields) != len(signature) + 1:
        return f"tag {fields[0]} takes {len(signature)} fields, not {len(fields) - 1}"
    for index in range(len(signature)):
        value = fields[index + 1]
        kind = signature[index]
        if kind is object or (kind is _Cash and type(value) is int):
            continue
        if type(value) is not kind or (kind is int and not _SMALLEST <= fields[index + 1] <= _LARGEST):
            return f"tag {fields[0]} field {index + 1} is not a valid {kind.__name__}: {value!r}"
    if fields[0] == 24 and fields[2] is not None and not _are_limits(fields[2]):
        return f"risk limits must be six integers: {fields[2]!r}"
    return ""


def _are_limits(value: object) -> bool:
    return isinstance(value, list) and len(value) == 6 and all(type(limit) is int for limit in value)


def _build(tag: int, f: list[Any]) -> Command:
    if tag == 1:
        return SubmitOrder(0, f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11], f[12], f[13])
    if tag == 2:
        return CancelOrder(f[1], f[2])
    if tag == 3:
        return AmendOrder(f[1], f[2], f[3], f[4], f[5])
    if tag == 4:
        return MassCancel(f[1], f[2], f[3])
    if tag == 5:
        return EndSession(f[1])
    if tag == 6:
        return ExpireOrders()
    if tag == 7:
        return SetSelfTradePrevention(f[1], f[2])
    return _build_account_command(tag, f)


def _build_account_command(tag: int, f: list[Any]) -> Command:
    if tag == 20:
        return CreateAccount(f[1], f[2], f[3], f[4], f[5], f[6])
    if tag == 21:
        return UpdateAccount(f[1], f[2], f[3], f[4])
    if tag == 22:
        return AdjustCash(f[1], f[2])
    if tag == 23:
        return SetAccountState(f[1], f[2])
    if tag == 24:
        return SetRiskLimits(f[1], None if f[2] is None else RiskLimits(*f[2]))
    if tag == 25:
        return SetKillSwitch(f[1], f[2])
    if tag == 26:
        return SetInstrumentHalt(f[1], f[2])
    if tag == 27:
        return SetMarkPrice(f[1], f[2])
    raise ValueError(f"unknown command tag {tag!r}")
