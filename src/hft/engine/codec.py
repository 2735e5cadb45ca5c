"""Journal payloads: every command as a small msgpack array, ``[tag, field, ...]``.

The tags and field orders are the on-disk format (version 1): a tag is
never reused or renumbered, and new fields go at the end. Order ids are not
stored: the exchange assigns them in sequence, so replay assigns the same.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

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
    SetApiKey,
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
    if isinstance(command, SetApiKey):
        return [28, command.account_id, command.key_hash]
    raise TypeError(f"not a journaled command: {command!r}")


# What each tag carries, checked field by field in C by msgspec: exact types (a bool is not an int),
# 64-bit signed integers where the command holds an i64, any integer for money (the exchange checks it).
I64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
Cash = int  # also the quantity and notional risk limits: any msgpack integer
_SIGNATURES: Final[dict[int, Any]] = {
    1: tuple[I64, I64, str, I64, I64, I64, I64, I64, I64, I64, bool, I64, I64, str],
    2: tuple[I64, I64, I64],
    3: tuple[I64, I64, I64, I64, I64, I64],
    4: tuple[I64, I64, str, I64],
    5: tuple[I64, str],
    6: tuple[I64],
    7: tuple[I64, I64, I64],
    20: tuple[I64, I64, str, Cash, Cash, I64, I64],
    21: tuple[I64, I64, Cash, I64, I64],
    22: tuple[I64, I64, Cash],
    23: tuple[I64, I64, I64],
    24: tuple[I64, I64, tuple[Cash, Cash, I64, I64, Cash, I64] | None],
    25: tuple[I64, I64, bool],
    26: tuple[I64, str, bool],
    27: tuple[I64, str, I64],
    28: tuple[I64, I64, str],
}
_DECODERS: Final[dict[int, msgspec.msgpack.Decoder[Any]]] = {
    tag: msgspec.msgpack.Decoder(signature) for tag, signature in _SIGNATURES.items()
}
_FIXARRAY: Final = 0x90


def decode(payload: bytes | memoryview) -> Command:
    """Rebuild the command from a journal payload. Raises UndecodableCommandError if it is not one."""
    # Every payload is a short msgpack array whose first element, the tag, is a one-byte integer.
    if len(payload) < 2 or payload[0] & 0xF0 != _FIXARRAY or payload[1] not in _DECODERS:
        raise UndecodableCommandError(f"not a command: starts with {bytes(payload[:2])!r}")
    try:
        fields: Any = _DECODERS[payload[1]].decode(payload)
        return _build(fields[0], fields)
    except (msgspec.DecodeError, OverflowError, TypeError, ValueError) as error:
        raise UndecodableCommandError(str(error)) from error


def _build(tag: int, f: tuple[Any, ...]) -> Command:
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


def _build_account_command(tag: int, f: tuple[Any, ...]) -> Command:
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
    if tag == 28:
        return SetApiKey(f[1], f[2])
    raise ValueError(f"unknown command tag {tag!r}")
