"""SqlStore.write on SQLite and PostgreSQL: exact, atomic, idempotent, never backwards, fast in bulk."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
import pytest
from tests.integration.adapters.sql.reading import decoded_batch, expected_tables, row_counts, table_rows
from tests.integration.adapters.sql.trading import ALICE, BOB, BTC, CAROL, Venue, busy_day, instruments

from hft.adapters.sql import RowBatch, SqlStore
from hft.domain.orders import BUY, SELL

T = TypeVar("T")


def _with_store(url: str, body: Callable[[SqlStore], Awaitable[T]]) -> T:
    async def run() -> T:
        store = SqlStore(url, instruments())
        await store.start()
        try:
            return await body(store)
        finally:
            await store.close()

    return asyncio.run(run())


async def _write_all(store: SqlStore, batches: list[RowBatch]) -> dict[str, list[dict[str, Any]]]:
    for batch in batches:
        await store.write(batch)
    return await table_rows(store)


def test_an_empty_database_is_written_up_to_sequence_zero_and_answers_pings(database_url: str) -> None:
    async def body(store: SqlStore) -> tuple[int, bool]:
        return await store.last_sequence(), await store.ping()

    assert _with_store(database_url, body) == (0, True)


def test_a_day_of_trading_reads_back_as_the_latest_state_of_everything(database_url: str) -> None:
    batches = busy_day(Venue())
    merged = RowBatch.merge(batches)

    stored = _with_store(database_url, lambda store: _write_all(store, batches))

    assert stored == expected_tables(batches)
    assert stored["orders"] == sorted(decoded_batch(merged)["orders"], key=lambda row: row["order_id"])
    assert stored["projection_state"] == [{"name": "history", "last_sequence": batches[-1].last_sequence}]
    accounts = {row["account_id"]: row for row in stored["accounts"]}
    assert (accounts[BOB]["state"], accounts[BOB]["cash"]) == ("REDUCING", Decimal("1015308.9376"))
    assert accounts[ALICE]["cash"] == Decimal("984683.4064")  # after her last fill, which no AccountChanged carries
    assert accounts[CAROL]["cash"] == Decimal("1000000.12345678")


def test_writing_the_same_batches_twice_leaves_the_tables_identical(database_url: str) -> None:
    batches = busy_day(Venue())

    async def body(store: SqlStore) -> tuple[Any, Any]:
        once = await _write_all(store, batches)
        return once, await _write_all(store, batches)

    once, twice = _with_store(database_url, body)
    assert twice == once


def test_replaying_overlapping_batches_never_duplicates_or_rewinds_a_row(database_url: str) -> None:
    batches = busy_day(Venue())
    replay = [RowBatch.merge(batches[1:4]), batches[0], batches[2], RowBatch.merge(batches)]

    async def body(store: SqlStore) -> tuple[Any, Any, int]:
        once = await _write_all(store, batches)
        replayed = await _write_all(store, replay)
        return once, replayed, await store.last_sequence()

    once, replayed, last_sequence = _with_store(database_url, body)
    assert replayed == once
    assert last_sequence == batches[-1].last_sequence


def test_an_older_state_never_overwrites_a_newer_one(database_url: str) -> None:
    venue = Venue()
    for account in (ALICE, BOB):
        venue.open_account(account)
    venue.submit(BOB, SELL, 10, 15_001)
    venue.submit(ALICE, BUY, 4, 15_001)
    partly_filled = venue.take_batch()
    venue.submit(ALICE, BUY, 6, 15_001)
    filled = venue.take_batch()

    async def body(store: SqlStore) -> tuple[Any, int]:
        await store.write(filled)
        await store.write(partly_filled)  # late and out of order, as a replay from an old sequence would be
        return await table_rows(store), await store.last_sequence()

    stored, last_sequence = _with_store(database_url, body)
    assert {row["status"] for row in stored["orders"]} == {"FILLED"}
    assert {row["quantity"] for row in stored["positions"]} == {Decimal(10), Decimal(-10)}
    assert len(stored["executions"]) == 4
    assert last_sequence == filled.last_sequence


def test_amounts_come_back_as_the_exact_decimals_written(database_url: str) -> None:
    venue = Venue()
    for account in (ALICE, BOB):
        venue.open_account(account, taker_fee_bps=3)
    venue.submit(BOB, SELL, 1, 15_001, symbol=BTC)  # 0.0001 BTC at 150.01
    venue.submit(ALICE, BUY, 1, 15_001, symbol=BTC)
    batch = venue.take_batch()

    stored = _with_store(database_url, lambda store: _write_all(store, [batch]))

    execution = stored["executions"][0]
    assert (execution["price"], execution["quantity"]) == (Decimal("150.01"), Decimal("0.0001"))
    assert execution["fee"] == Decimal("0.0000045")  # 3 bps of 0.015001, rounded down to cash units
    position = next(row for row in stored["positions"] if row["account_id"] == ALICE)
    assert position["open_cost"] == Decimal("0.015001")
    assert {type(execution["price"]), type(execution["fee"]), type(position["cash"])} == {Decimal}


def test_sqlite_keeps_amounts_as_plain_decimal_text(sqlite_url: str) -> None:
    batch = RowBatch.merge(busy_day(Venue()))
    _with_store(sqlite_url, lambda store: store.write(batch))

    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as connection:
        stored = connection.execute("SELECT price, quantity FROM executions WHERE symbol = 'BTC-USD'").fetchall()

    assert set(stored) == {("90000.00", "0.0001")}


def test_a_failed_write_leaves_nothing_of_its_batch(database_url: str) -> None:
    venue = Venue()
    for account in (ALICE, BOB):
        venue.open_account(account)
    venue.submit(BOB, SELL, 10, 15_001)
    venue.submit(ALICE, BUY, 10, 15_001)
    batch = venue.take_batch()
    last = batch.positions[-1]
    batch.positions[-1] = (*last[:2], None, *last[3:])  # its quantity violates NOT NULL, in the last table written

    async def body(store: SqlStore) -> tuple[dict[str, int], int]:
        with pytest.raises((sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError)):
            await store.write(batch)
        return await row_counts(store), await store.last_sequence()

    counts, last_sequence = _with_store(database_url, body)
    assert set(counts.values()) == {0}
    assert last_sequence == 0


def test_thousands_of_rows_are_written_in_one_quick_transaction(database_url: str) -> None:
    venue = Venue()
    for account in (ALICE, BOB):
        venue.open_account(account)
    for price in range(10_000, 11_500):
        venue.submit(BOB, SELL, 2, price)
        venue.submit(ALICE, BUY, 1, price)  # one trade per price: 2 executions, 2 orders, positions
    batch = venue.take_batch()
    assert batch.row_count > 6_000

    async def body(store: SqlStore) -> tuple[float, dict[str, int]]:
        started = time.perf_counter()
        await store.write(batch)
        return time.perf_counter() - started, await row_counts(store)

    seconds, counts = _with_store(database_url, body)
    assert (counts["orders"], counts["executions"]) == (3_000, 3_000)
    assert seconds < 3.0, f"{batch.row_count} rows took {seconds:.2f} s"


def test_the_store_refuses_to_write_before_it_is_started(sqlite_url: str) -> None:
    store = SqlStore(sqlite_url, instruments())

    with pytest.raises(RuntimeError, match="not started"):
        asyncio.run(store.write(RowBatch()))
    assert asyncio.run(store.ping()) is False
