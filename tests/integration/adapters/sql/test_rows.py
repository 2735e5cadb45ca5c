"""Rows built from real acks: copied at once, exact decimals, NULL where there is no price."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from tests.integration.adapters.sql.reading import decoded, decoded_batch
from tests.integration.adapters.sql.trading import ALICE, BOB, BTC, CAROL, Venue, busy_day

from hft.adapters.sql import tables
from hft.adapters.sql.columns import Amount
from hft.adapters.sql.rows import (
    ACCOUNT_CASH_COLUMNS,
    ACCOUNT_COLUMNS,
    CASH_COLUMNS,
    EXECUTION_COLUMNS,
    ORDER_COLUMNS,
    POSITION_COLUMNS,
    RowBatch,
    execution_row,
)
from hft.domain.instruments import Instrument
from hft.domain.orders import BUY, SELL
from hft.service.history import Execution


def _trading_venue() -> Venue:
    venue = Venue()
    for account in (ALICE, BOB, CAROL):
        venue.open_account(account)
    venue.take_batch()
    return venue


def test_rows_are_copies_taken_when_built_not_views_of_live_orders() -> None:
    venue = _trading_venue()
    ask = venue.submit(BOB, SELL, 10, 15_001)
    venue.submit(ALICE, BUY, 4, 15_001)
    partly = venue.take_batch()

    venue.submit(ALICE, BUY, 6, 15_001)
    venue.take_batch()

    row = next(row for row in decoded_batch(partly)["orders"] if row["order_id"] == ask)
    assert (row["status"], row["filled_quantity"], row["leaves_quantity"]) == ("PARTIALLY_FILLED", 4, 6)
    assert venue.history.orders[ask].status == "FILLED"


def test_average_fill_price_is_the_quantity_weighted_mean_rounded_to_eight_places() -> None:
    venue = _trading_venue()
    venue.submit(BOB, SELL, 1, 10_000)
    venue.submit(CAROL, SELL, 2, 10_001)
    bid = venue.submit(ALICE, BUY, 3, 10_001)

    row = next(row for row in decoded_batch(venue.take_batch())["orders"] if row["order_id"] == bid)

    assert row["avg_fill_price"] == Decimal("100.00666667")  # (100.00 + 2 x 100.01) / 3
    assert row["price"] == Decimal("100.01")


def test_amounts_are_exact_decimals_in_the_instruments_units() -> None:
    venue = _trading_venue()
    venue.submit(BOB, SELL, 1, 15_001, symbol=BTC)
    venue.submit(ALICE, BUY, 1, 15_001, symbol=BTC)

    batch = decoded_batch(venue.take_batch())

    assert {(row["price"], row["quantity"]) for row in batch["executions"]} == {(Decimal("150.01"), Decimal("0.0001"))}
    position = next(row for row in batch["positions"] if row["account_id"] == ALICE)
    assert position["open_cost"] == Decimal("0.015001")  # 150.01 x 0.0001, not a float's 0.015000999...


def test_orders_without_a_limit_or_stop_price_have_null_there() -> None:
    batches = busy_day(Venue())
    orders = {row["order_type"]: row for batch in batches for row in decoded_batch(batch)["orders"]}

    assert orders["MARKET"]["price"] is None
    assert orders["MARKET"]["stop_price"] is None
    assert orders["STOP"]["price"] is None
    assert orders["STOP"]["stop_price"] == Decimal("140.00")
    assert orders["LIMIT"]["stop_price"] is None


def test_an_order_rejected_for_an_unknown_symbol_has_no_price_and_its_raw_quantity() -> None:
    batches = busy_day(Venue())

    rejected = next(row for batch in batches for row in decoded_batch(batch)["orders"] if row["status"] == "REJECTED")

    assert rejected["symbol"] == "NOPE"
    assert rejected["reject_reason"] == "UNKNOWN_SYMBOL"
    assert (rejected["price"], rejected["quantity"], rejected["avg_fill_price"]) == (None, Decimal(1), None)


def test_account_cash_rows_follow_the_cash_a_fill_leaves() -> None:
    venue = _trading_venue()
    venue.submit(BOB, SELL, 10, 15_001)
    venue.submit(ALICE, BUY, 10, 15_001)

    batch = decoded_batch(venue.take_batch())

    cash = {row["account_id"]: row["cash"] for row in batch["account_cash"]}
    assert cash == {ALICE: Decimal("998499.9"), BOB: Decimal("1001500.1")}


def test_rows_are_tuples_in_the_column_order_of_the_tables() -> None:
    batch = RowBatch.merge(busy_day(Venue()))

    for table, rows in (
        (tables.orders, batch.orders),
        (tables.executions, batch.executions),
        (tables.positions, batch.positions),
        (tables.accounts, batch.accounts),
    ):
        assert rows, table.name
        assert {len(row) for row in rows} == {len(table.columns)}, table.name
    assert tuple(tables.orders.columns.keys()) == ORDER_COLUMNS
    assert tuple(tables.executions.columns.keys()) == EXECUTION_COLUMNS
    assert tuple(tables.positions.columns.keys()) == POSITION_COLUMNS
    assert tuple(tables.accounts.columns.keys()) == ACCOUNT_COLUMNS
    assert set(ACCOUNT_CASH_COLUMNS) <= set(tables.accounts.columns.keys())
    assert all(
        set(CASH_COLUMNS[name])
        <= {column.name for column in tables.metadata.tables[name].columns if isinstance(column.type, Amount)}
        for name in CASH_COLUMNS
    )


def test_times_are_the_events_nanoseconds_and_cash_their_units() -> None:
    venue = _trading_venue()
    venue.submit(BOB, SELL, 1, 15_001)
    venue.submit(ALICE, BUY, 1, 15_001)

    batch = venue.take_batch()

    execution = dict(zip(EXECUTION_COLUMNS, batch.executions[0], strict=True))
    assert execution["executed_at"] == venue.ts  # the fill happened at the last command's ts
    assert execution["price"] == "150.01"  # decimal text, as stored
    position = dict(zip(POSITION_COLUMNS, batch.positions[0], strict=True))
    assert isinstance(position["cash"], int)
    assert decoded("positions", batch.positions[0])["updated_at"] == datetime(2026, 1, 1, 0, 0, 5, 0, tzinfo=UTC)


def test_merging_batches_keeps_the_newest_row_of_each_key_and_every_execution() -> None:
    batches = busy_day(Venue())

    merged = RowBatch.merge(batches)

    newest_orders: dict[int, int] = {}
    for batch in batches:
        for row in decoded_batch(batch)["orders"]:
            newest_orders[row["order_id"]] = max(newest_orders.get(row["order_id"], 0), row["sequence"])
    orders = decoded_batch(merged)["orders"]
    assert {row["order_id"]: row["sequence"] for row in orders} == newest_orders
    assert len(merged.executions) == sum(len(batch.executions) for batch in batches)
    assert merged.last_sequence == batches[-1].last_sequence
    backwards = RowBatch.merge(reversed(batches))
    assert {row[0]: row for row in backwards.orders} == {row[0]: row for row in merged.orders}
    assert {row[:2]: row for row in backwards.positions} == {row[:2]: row for row in merged.positions}
    assert {row[0]: row for row in backwards.account_cash} == {row[0]: row for row in merged.account_cash}
    assert RowBatch.merge([batches[0]]) is batches[0]


def test_merging_keeps_the_newest_row_of_a_key_even_when_one_batch_repeats_it() -> None:
    old, new, newer = (1, "a", 5), (1, "b", 7), (1, "c", 7)
    first = RowBatch(account_cash=[new, old], last_sequence=7)
    second = RowBatch(account_cash=[old, newer], last_sequence=7)

    assert RowBatch.merge([first, second]).account_cash == [new]  # the first of equal sequences stays
    assert RowBatch.merge([second, first]).account_cash == [newer]


@given(
    units=st.integers(min_value=-(2**63), max_value=2**63 - 1),
    sizes=st.sampled_from(
        [("0.01", "1"), ("0.01", "0.0001"), ("0.05", "0.001"), ("1", "10"), ("0.25", "0.5"), ("100", "0.00000001")]
    ),
)
def test_row_amounts_have_the_digits_and_exponent_the_instrument_gives(units: int, sizes: tuple[str, str]) -> None:
    instrument = Instrument("X", Decimal(sizes[0]), Decimal(sizes[1]))
    execution = Execution(1, 1, 1, ALICE, "X", BUY, units, units, "TAKER", 0, 0, 1)

    row = decoded("executions", execution_row(execution, instrument))

    assert row["price"].as_tuple() == instrument.ticks_to_price(units).as_tuple()
    assert row["quantity"].as_tuple() == instrument.lots_to_quantity(units).as_tuple()
