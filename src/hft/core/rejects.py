"""Stable reject codes: business rejections are values, never exceptions.

The numbers are part of the public contract (journals, FIX and gateways map
them), so a code is never renumbered or reused; new codes take new numbers.
"""

from __future__ import annotations

from typing import Final

UNKNOWN_SYMBOL: Final = 1
INVALID_SIDE: Final = 2
INVALID_ORDER_TYPE: Final = 3
INVALID_TIME_IN_FORCE: Final = 4
INVALID_PRICE: Final = 5
PRICE_OFF_TICK: Final = 6
PRICE_OUT_OF_RANGE: Final = 7
INVALID_QUANTITY: Final = 8
QUANTITY_OFF_LOT: Final = 9
QUANTITY_OUT_OF_RANGE: Final = 10
INVALID_STOP_PRICE: Final = 11
INVALID_DISPLAY_QUANTITY: Final = 12
POST_ONLY_WOULD_TAKE: Final = 13
INVALID_POST_ONLY: Final = 14
INVALID_EXPIRE_TIME: Final = 15
DUPLICATE_ORDER_ID: Final = 16
UNKNOWN_ORDER: Final = 17
AMEND_CHANGES_NOTHING: Final = 18
AMEND_BELOW_FILLED: Final = 19
INVALID_SELF_TRADE_PREVENTION: Final = 20
INVALID_ACCOUNT: Final = 21
INVALID_NUMBER: Final = 22
DUPLICATE_CLIENT_ORDER_ID: Final = 23
UNKNOWN_ACCOUNT: Final = 24
ACCOUNT_HALTED: Final = 25
REDUCE_ONLY: Final = 26
MAX_ORDER_QUANTITY: Final = 27
MAX_ORDER_NOTIONAL: Final = 28
PRICE_OUTSIDE_COLLAR: Final = 29
MAX_OPEN_ORDERS: Final = 30
MAX_POSITION: Final = 31
INSUFFICIENT_BUYING_POWER: Final = 32
ORDER_RATE_EXCEEDED: Final = 33
KILL_SWITCH_ACTIVE: Final = 34
INSTRUMENT_HALTED: Final = 35
ACCOUNT_EXISTS: Final = 36
INVALID_ACCOUNT_SETTING: Final = 37
INVALID_CLIENT_ORDER_ID: Final = 38

REJECT_NAMES: Final[dict[int, str]] = {
    UNKNOWN_SYMBOL: "UNKNOWN_SYMBOL",
    INVALID_SIDE: "INVALID_SIDE",
    INVALID_ORDER_TYPE: "INVALID_ORDER_TYPE",
    INVALID_TIME_IN_FORCE: "INVALID_TIME_IN_FORCE",
    INVALID_PRICE: "INVALID_PRICE",
    PRICE_OFF_TICK: "PRICE_OFF_TICK",
    PRICE_OUT_OF_RANGE: "PRICE_OUT_OF_RANGE",
    INVALID_QUANTITY: "INVALID_QUANTITY",
    QUANTITY_OFF_LOT: "QUANTITY_OFF_LOT",
    QUANTITY_OUT_OF_RANGE: "QUANTITY_OUT_OF_RANGE",
    INVALID_STOP_PRICE: "INVALID_STOP_PRICE",
    INVALID_DISPLAY_QUANTITY: "INVALID_DISPLAY_QUANTITY",
    POST_ONLY_WOULD_TAKE: "POST_ONLY_WOULD_TAKE",
    INVALID_POST_ONLY: "INVALID_POST_ONLY",
    INVALID_EXPIRE_TIME: "INVALID_EXPIRE_TIME",
    DUPLICATE_ORDER_ID: "DUPLICATE_ORDER_ID",
    UNKNOWN_ORDER: "UNKNOWN_ORDER",
    AMEND_CHANGES_NOTHING: "AMEND_CHANGES_NOTHING",
    AMEND_BELOW_FILLED: "AMEND_BELOW_FILLED",
    INVALID_SELF_TRADE_PREVENTION: "INVALID_SELF_TRADE_PREVENTION",
    INVALID_ACCOUNT: "INVALID_ACCOUNT",
    INVALID_NUMBER: "INVALID_NUMBER",
    DUPLICATE_CLIENT_ORDER_ID: "DUPLICATE_CLIENT_ORDER_ID",
    UNKNOWN_ACCOUNT: "UNKNOWN_ACCOUNT",
    ACCOUNT_HALTED: "ACCOUNT_HALTED",
    REDUCE_ONLY: "REDUCE_ONLY",
    MAX_ORDER_QUANTITY: "MAX_ORDER_QUANTITY",
    MAX_ORDER_NOTIONAL: "MAX_ORDER_NOTIONAL",
    PRICE_OUTSIDE_COLLAR: "PRICE_OUTSIDE_COLLAR",
    MAX_OPEN_ORDERS: "MAX_OPEN_ORDERS",
    MAX_POSITION: "MAX_POSITION",
    INSUFFICIENT_BUYING_POWER: "INSUFFICIENT_BUYING_POWER",
    ORDER_RATE_EXCEEDED: "ORDER_RATE_EXCEEDED",
    KILL_SWITCH_ACTIVE: "KILL_SWITCH_ACTIVE",
    INSTRUMENT_HALTED: "INSTRUMENT_HALTED",
    ACCOUNT_EXISTS: "ACCOUNT_EXISTS",
    INVALID_ACCOUNT_SETTING: "INVALID_ACCOUNT_SETTING",
    INVALID_CLIENT_ORDER_ID: "INVALID_CLIENT_ORDER_ID",
}

REJECT_TEXTS: Final[dict[int, str]] = {
    UNKNOWN_SYMBOL: "the symbol is not a listed instrument",
    INVALID_SIDE: "side must be BUY or SELL",
    INVALID_ORDER_TYPE: "order type must be LIMIT, MARKET, STOP or STOP_LIMIT",
    INVALID_TIME_IN_FORCE: "time in force is not valid for this order type",
    INVALID_PRICE: "LIMIT and STOP_LIMIT orders need a positive price; MARKET and STOP orders take none",
    PRICE_OFF_TICK: "price is not a multiple of the instrument's tick size",
    PRICE_OUT_OF_RANGE: "price is above the instrument's maximum price",
    INVALID_QUANTITY: "quantity must be a positive whole number of lots",
    QUANTITY_OFF_LOT: "quantity is not a multiple of the instrument's lot size",
    QUANTITY_OUT_OF_RANGE: "quantity is outside the instrument's minimum and maximum",
    INVALID_STOP_PRICE: "STOP and STOP_LIMIT orders need a positive stop price; other types take none",
    INVALID_DISPLAY_QUANTITY: "display quantity must be positive and below the quantity, on a resting LIMIT order",
    POST_ONLY_WOULD_TAKE: "post-only order would take liquidity",
    INVALID_POST_ONLY: "post-only applies only to LIMIT orders that can rest (GTC, DAY, GTD)",
    INVALID_EXPIRE_TIME: "GTD orders need an expire time after now; other orders take none",
    DUPLICATE_ORDER_ID: "order id must be greater than every earlier order id",
    UNKNOWN_ORDER: "no live order with this id belongs to the account",
    AMEND_CHANGES_NOTHING: "amend changes neither price, quantity nor stop price",
    AMEND_BELOW_FILLED: "amended quantity must exceed the quantity already filled",
    INVALID_SELF_TRADE_PREVENTION: "self-trade prevention mode is not known",
    INVALID_ACCOUNT: "account id must be a positive integer",
    INVALID_NUMBER: "value is not a finite decimal number",
    DUPLICATE_CLIENT_ORDER_ID: "the account already used this client order id",
    UNKNOWN_ACCOUNT: "no account with this id exists",
    ACCOUNT_HALTED: "the account is halted: only cancels are accepted",
    REDUCE_ONLY: "the account may only reduce its position, and this order would not",
    MAX_ORDER_QUANTITY: "order quantity is above the account's maximum order quantity",
    MAX_ORDER_NOTIONAL: "order notional is above the account's maximum order notional",
    PRICE_OUTSIDE_COLLAR: "price is too far from the reference price (price collar)",
    MAX_OPEN_ORDERS: "the account has its maximum number of open orders",
    MAX_POSITION: "the order could take the position above the account's maximum position",
    INSUFFICIENT_BUYING_POWER: "cash plus credit does not cover the open buy orders and this one",
    ORDER_RATE_EXCEEDED: "the account sent more orders in the last second than its throttle allows",
    KILL_SWITCH_ACTIVE: "a kill switch is engaged: only cancels are accepted",
    INSTRUMENT_HALTED: "trading in the instrument is halted: only cancels are accepted",
    ACCOUNT_EXISTS: "an account with this id already exists",
    INVALID_ACCOUNT_SETTING: "an account or risk setting is out of range",
    INVALID_CLIENT_ORDER_ID: "client order id must be 1 to 64 printable ASCII characters without spaces",
}


def reject_name(code: int) -> str:
    """Return the stable name of a reject code (``"UNKNOWN_ORDER"``)."""
    return REJECT_NAMES.get(code, f"REJECT_{code}")


def reject_text(code: int) -> str:
    """Return the human explanation of a reject code."""
    return REJECT_TEXTS.get(code, "rejected")
