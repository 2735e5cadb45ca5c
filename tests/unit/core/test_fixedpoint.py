"""Decimal <-> integer-unit conversion at the edges: every way a number can be wrong has its code."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hft.core import rejects
from hft.core.fixedpoint import MAX_UNITS, Rejection, from_units, parse_decimal, to_units

CENT = Decimal("0.01")


def _units(value: object, unit: Decimal = CENT) -> int | Rejection:
    return to_units(value, unit, rejects.PRICE_OFF_TICK, rejects.PRICE_OUT_OF_RANGE)


def _code(result: object) -> int:
    assert isinstance(result, Rejection), f"expected a rejection, got {result!r}"
    return result.code


# -- parse_decimal --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("150.10", Decimal("150.10")),
        (" 150.1 ", Decimal("150.1")),
        ("-3", Decimal(-3)),
        ("1e2", Decimal(100)),
        (7, Decimal(7)),
        (Decimal("0.0001"), Decimal("0.0001")),
    ],
)
def test_parse_decimal_accepts_finite_numbers_and_numeric_strings(value: object, expected: Decimal) -> None:
    assert parse_decimal(value) == expected


def test_parse_decimal_reads_a_float_through_its_shortest_repr_not_its_binary_value() -> None:
    parsed = parse_decimal(150.1)
    assert isinstance(parsed, Decimal)
    assert parsed == Decimal("150.1")
    assert parsed != Decimal.from_float(150.1)  # exactly 150.099999999999994315658...


def test_parse_decimal_keeps_the_float_sum_that_is_not_three_tenths() -> None:
    assert parse_decimal(0.1 + 0.2) == Decimal("0.30000000000000004")


@pytest.mark.parametrize("value", [True, False])
def test_parse_decimal_refuses_booleans_although_they_are_ints(value: bool) -> None:
    result = parse_decimal(value)
    assert _code(result) == rejects.INVALID_NUMBER
    assert isinstance(result, Rejection)
    assert "boolean" in result.text


@pytest.mark.parametrize(
    "value",
    ["NaN", "nan", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", float("nan"), float("inf"), float("-inf")],
)
def test_parse_decimal_refuses_nan_and_infinity(value: object) -> None:
    assert _code(parse_decimal(value)) == rejects.INVALID_NUMBER


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("sNaN"), Decimal("-Infinity")])
def test_parse_decimal_refuses_non_finite_decimals(value: Decimal) -> None:
    assert _code(parse_decimal(value)) == rejects.INVALID_NUMBER


@pytest.mark.parametrize("value", ["", "abc", "1.2.3", "1,5", "0x10", "1" * 65, None, [1], {"price": 1}, b"1", 1j])
def test_parse_decimal_refuses_what_is_not_a_decimal_number(value: object) -> None:
    assert _code(parse_decimal(value)) == rejects.INVALID_NUMBER


def test_parse_decimal_accepts_a_string_of_exactly_sixty_four_characters() -> None:
    value = "1" + "0" * 63
    assert len(value) == 64
    assert parse_decimal(value) == Decimal(10**63)


# -- Rejection --------------------------------------------------------------------


def test_rejection_defaults_its_text_to_the_code_explanation() -> None:
    rejection = Rejection(rejects.PRICE_OFF_TICK)
    assert rejection.code == rejects.PRICE_OFF_TICK
    assert rejection.text == rejects.REJECT_TEXTS[rejects.PRICE_OFF_TICK]


def test_rejections_compare_and_hash_by_code_only() -> None:
    first = Rejection(rejects.INVALID_NUMBER, "one text")
    second = Rejection(rejects.INVALID_NUMBER, "another text")
    assert first == second
    assert hash(first) == hash(second)
    assert first != Rejection(rejects.PRICE_OFF_TICK)
    assert first != rejects.INVALID_NUMBER


def test_rejection_repr_names_the_code() -> None:
    assert repr(Rejection(rejects.PRICE_OFF_TICK, "1.001 is not a multiple of 0.01")) == (
        "Rejection(PRICE_OFF_TICK, '1.001 is not a multiple of 0.01')"
    )


# -- to_units -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("150.10", 15010), ("0.01", 1), (150.1, 15010), (100, 10000), (Decimal("1.50"), 150), ("0", 0), ("-2.5", -250)],
)
def test_to_units_converts_exact_multiples_including_zero_and_negatives(value: object, expected: int) -> None:
    assert _units(value) == expected


@pytest.mark.parametrize("value", ["150.001", "0.005", 0.1 + 0.2, "-0.001", "1E-30"])
def test_to_units_refuses_a_value_off_the_grid_with_the_callers_code(value: object) -> None:
    result = _units(value)
    assert _code(result) == rejects.PRICE_OFF_TICK
    assert isinstance(result, Rejection)
    assert "not a multiple of 0.01" in result.text


def test_to_units_uses_the_off_grid_and_range_codes_it_is_given() -> None:
    lot = Decimal("0.001")
    assert _code(to_units("0.0005", lot, rejects.QUANTITY_OFF_LOT, rejects.QUANTITY_OUT_OF_RANGE)) == (
        rejects.QUANTITY_OFF_LOT
    )
    assert _code(to_units("1e20", lot, rejects.QUANTITY_OFF_LOT, rejects.QUANTITY_OUT_OF_RANGE)) == (
        rejects.QUANTITY_OUT_OF_RANGE
    )


def test_to_units_accepts_exactly_max_units_and_refuses_one_unit_more() -> None:
    assert _units(CENT * MAX_UNITS) == MAX_UNITS
    assert _units(-CENT * MAX_UNITS) == -MAX_UNITS
    assert _code(_units(CENT * (MAX_UNITS + 1))) == rejects.PRICE_OUT_OF_RANGE
    assert _code(_units(-CENT * (MAX_UNITS + 1))) == rejects.PRICE_OUT_OF_RANGE


@pytest.mark.parametrize("value", ["1e30", "-1e30", 1e300, 10**40, "9" * 64])
def test_to_units_refuses_absurdly_large_values_with_the_range_code(value: object) -> None:
    result = _units(value)
    assert _code(result) == rejects.PRICE_OUT_OF_RANGE
    assert isinstance(result, Rejection)
    assert "absurdly large" in result.text


@pytest.mark.parametrize("value", ["1e999999999", "-1E+999999999", "1E+1000000"])
def test_to_units_refuses_a_huge_exponent_with_the_range_code_instead_of_raising(value: str) -> None:
    # Such a string is a valid Decimal, but taking its absolute value overflows
    # the default decimal context; a malformed request must be a rejection.
    assert _code(_units(value)) == rejects.PRICE_OUT_OF_RANGE


def test_to_units_refuses_a_positive_value_too_small_to_be_on_the_grid() -> None:
    # 1E-999999999 is positive and not a multiple of a cent; it must not round to zero units.
    assert _code(_units("1E-999999999")) == rejects.PRICE_OFF_TICK


def test_to_units_passes_the_number_rejection_through() -> None:
    assert _code(_units("NaN")) == rejects.INVALID_NUMBER
    assert _code(_units(True)) == rejects.INVALID_NUMBER


# -- from_units ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("units", "unit", "text"),
    [
        (15010, CENT, "150.10"),
        (1, CENT, "0.01"),
        (0, CENT, "0.00"),
        (-250, CENT, "-2.50"),
        (5, Decimal(1), "5"),
        (12345, Decimal("0.0001"), "1.2345"),
        (3, Decimal("0.001"), "0.003"),
    ],
)
def test_from_units_gives_an_exact_decimal_with_the_units_places(units: int, unit: Decimal, text: str) -> None:
    assert str(from_units(units, unit)) == text


def test_from_units_inverts_to_units() -> None:
    for units in (1, 99, 15010, MAX_UNITS):
        assert _units(from_units(units, CENT)) == units
