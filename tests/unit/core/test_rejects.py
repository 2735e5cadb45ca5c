"""Reject codes are a public contract: stable numbers, stable names, an explanation each."""

from __future__ import annotations

from hft.core import rejects

# The published numbering. A code is never renumbered or reused.
PUBLISHED = {
    "UNKNOWN_SYMBOL": 1,
    "INVALID_SIDE": 2,
    "INVALID_ORDER_TYPE": 3,
    "INVALID_TIME_IN_FORCE": 4,
    "INVALID_PRICE": 5,
    "PRICE_OFF_TICK": 6,
    "PRICE_OUT_OF_RANGE": 7,
    "INVALID_QUANTITY": 8,
    "QUANTITY_OFF_LOT": 9,
    "QUANTITY_OUT_OF_RANGE": 10,
    "INVALID_STOP_PRICE": 11,
    "INVALID_DISPLAY_QUANTITY": 12,
    "POST_ONLY_WOULD_TAKE": 13,
    "INVALID_POST_ONLY": 14,
    "INVALID_EXPIRE_TIME": 15,
    "DUPLICATE_ORDER_ID": 16,
    "UNKNOWN_ORDER": 17,
    "AMEND_CHANGES_NOTHING": 18,
    "AMEND_BELOW_FILLED": 19,
    "INVALID_SELF_TRADE_PREVENTION": 20,
    "INVALID_ACCOUNT": 21,
    "INVALID_NUMBER": 22,
    "DUPLICATE_CLIENT_ORDER_ID": 23,
    "UNKNOWN_ACCOUNT": 24,
    "ACCOUNT_HALTED": 25,
    "REDUCE_ONLY": 26,
    "MAX_ORDER_QUANTITY": 27,
    "MAX_ORDER_NOTIONAL": 28,
    "PRICE_OUTSIDE_COLLAR": 29,
    "MAX_OPEN_ORDERS": 30,
    "MAX_POSITION": 31,
    "INSUFFICIENT_BUYING_POWER": 32,
    "ORDER_RATE_EXCEEDED": 33,
    "KILL_SWITCH_ACTIVE": 34,
    "INSTRUMENT_HALTED": 35,
    "ACCOUNT_EXISTS": 36,
    "INVALID_ACCOUNT_SETTING": 37,
    "INVALID_CLIENT_ORDER_ID": 38,
}


def test_every_published_code_keeps_its_number() -> None:
    for name, number in PUBLISHED.items():
        assert getattr(rejects, name) == number, name


def test_names_cover_exactly_the_published_codes_and_name_each_after_its_constant() -> None:
    assert {number: name for name, number in PUBLISHED.items()} == rejects.REJECT_NAMES


def test_every_code_has_a_distinct_non_empty_explanation() -> None:
    assert set(rejects.REJECT_TEXTS) == set(PUBLISHED.values())
    texts = list(rejects.REJECT_TEXTS.values())
    assert all(text.strip() for text in texts)
    assert len(set(texts)) == len(texts)


def test_reject_name_and_text_of_a_known_code() -> None:
    assert rejects.reject_name(rejects.UNKNOWN_ORDER) == "UNKNOWN_ORDER"
    assert rejects.reject_text(rejects.UNKNOWN_ORDER) == "no live order with this id belongs to the account"


def test_reject_name_and_text_of_an_unknown_code_fall_back_without_failing() -> None:
    assert rejects.reject_name(99) == "REJECT_99"
    assert rejects.reject_name(0) == "REJECT_0"
    assert rejects.reject_text(99) == "rejected"
