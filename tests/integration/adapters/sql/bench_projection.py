"""A micro-benchmark of the SQL projection's hot path (not a test): event-loop CPU per row, per database.

Run from the repository root (PostgreSQL on 127.0.0.1:5432, user postgres, trust; skipped if unreachable)::

    PYTHONPATH=src:. python -m tests.integration.adapters.sql.bench_projection [--orders 20000] [--rows-per-write 500]

It drives the pure-Python exchange through steady trading, keeps what each
``TradingHistory.apply`` changed, then measures on a uvloop event loop, for
SQLite (a temporary WAL file) and PostgreSQL (a database of its own, dropped after),
with the venue's garbage-collector settings (``hft.engine.memory``):

- ``rows``: ``rows_from_changes`` for every ack batch (what the ack listener runs),
- ``merge``: ``RowBatch.merge`` of the batches of one write (what the writer runs),
- ``write``: ``SqlStore.write`` of the merged batch,

each as CPU time of the event-loop thread (``time.thread_time``) per row, and
for ``write`` also the CPU time of the whole process (driver threads included)
and the rows written per second of wall time.
"""

from __future__ import annotations

import argparse
import gc
import secrets
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import uvloop
from sqlalchemy.ext.asyncio import create_async_engine
from tests.integration.adapters.sql.trading import AAPL, ALICE, BOB, BTC, CAROL, Venue

from hft.adapters.sql.rows import RowBatch, rows_from_changes
from hft.adapters.sql.store import SqlStore
from hft.adapters.sql.urls import async_url
from hft.domain.commands import CancelOrder
from hft.domain.orders import BUY, SELL
from hft.engine.memory import collect_less_often, freeze_long_lived_state

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class Flow:
    """What every ack batch changed, ready for ``rows_from_changes``."""

    changes: list[Any]
    instruments: dict[str, Any]


class BusyVenue(Venue):
    """A venue taking 10,000 commands a second (the test venue's are a second apart)."""

    STEP = 100_003


def trading_flow(orders: int, commands_per_batch: int = 6) -> Flow:
    """Return the changes of ``orders`` orders of steady trading: resting offers, crossing bids, cancels."""
    venue = BusyVenue()
    for account in (ALICE, BOB, CAROL):
        venue.open_account(account, maker_fee_bps=1, taker_fee_bps=2)
    kept: list[Any] = []

    def take() -> None:
        acks, venue.acks = venue.acks, []
        kept.append(venue.history.apply(acks))

    take()
    for step in range(1, orders + 1):
        price = 15_000 + step % 17
        if step % 3 == 0:
            venue.submit(ALICE, BUY, 1 + step % 4, price)
        elif step % 3 == 1:
            venue.submit(BOB, SELL, 1 + step % 5, price, symbol=BTC if step % 2 else AAPL)
        else:
            order = venue.submit(CAROL, BUY, 2, price - 30)
            venue.apply(CancelOrder(order, CAROL))
        if step % commands_per_batch == 0:
            take()
    take()
    return Flow(kept, {instrument.symbol: instrument for instrument in venue.instruments})


def build_rows(flow: Flow) -> tuple[list[RowBatch], float]:
    """Return the row batches of ``flow`` and the event-loop CPU seconds building them took."""
    gc.collect(0)
    started = time.thread_time()
    batches = [rows_from_changes(changes, flow.instruments) for changes in flow.changes]
    return batches, time.thread_time() - started


def groups(batches: list[RowBatch], rows_per_write: int) -> Iterator[list[RowBatch]]:
    """Yield runs of ``batches`` of about ``rows_per_write`` rows, as the writer takes them off its queue."""
    group: list[RowBatch] = []
    rows = 0
    for batch in batches:
        group.append(batch)
        rows += batch.row_count
        if rows >= rows_per_write:
            yield group
            group, rows = [], 0
    if group:
        yield group


async def measure_writes(url: str, flow: Flow, batches: list[RowBatch], rows_per_write: int) -> dict[str, float]:
    """Write ``batches`` through a fresh store in writes of ``rows_per_write`` rows; return the costs."""
    store = SqlStore(url, flow.instruments.values())
    await store.start()
    try:
        merge_cpu = write_cpu = process_cpu = wall = 0.0
        rows = writes = 0
        for group in groups(batches, rows_per_write):
            thread0, process0, wall0 = time.thread_time(), time.process_time(), time.perf_counter()
            merged = RowBatch.merge(group)
            thread1 = time.thread_time()
            await store.write(merged)
            thread2, process2, wall2 = time.thread_time(), time.process_time(), time.perf_counter()
            merge_cpu += thread1 - thread0
            write_cpu += thread2 - thread1
            process_cpu += process2 - process0 - (thread1 - thread0)
            wall += wall2 - wall0
            rows += merged.row_count
            writes += 1
        assert await store.last_sequence() == batches[-1].last_sequence
    finally:
        await store.close()
    return {
        "rows": rows,
        "writes": writes,
        "merge": merge_cpu,
        "write": write_cpu,
        "write_process": process_cpu,
        "wall": wall,
    }


async def _admin(statement: str) -> None:
    engine = create_async_engine(async_url(ADMIN_URL), isolation_level="AUTOCOMMIT", connect_args={"timeout": 3})
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text(statement))
    finally:
        await engine.dispose()


def report(name: str, built_rows: int, build_cpu: float, costs: dict[str, float]) -> None:
    """Print the microseconds of CPU per row of each step."""
    rows = costs["rows"]
    per_built = build_cpu / built_rows * 1e6
    merge = costs["merge"] / rows * 1e6
    write = costs["write"] / rows * 1e6
    print(
        f"{name:<10} {int(rows):>7} rows in {int(costs['writes']):>4} writes | loop CPU us/row: "
        f"rows {per_built:5.2f} + merge {merge:5.2f} + write {write:5.2f} = {per_built + merge + write:5.2f}"
        f" | write process CPU {costs['write_process'] / rows * 1e6:5.2f} us/row"
        f" | {rows / costs['wall']:>9,.0f} rows/s written"
    )


def main() -> None:
    """Run the benchmark and print one line per database."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--rows-per-write", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3, help="runs per database; the best is reported")
    parser.add_argument("--no-postgres", action="store_true")
    options = parser.parse_args()

    collect_less_often()  # the collector settings of the venue
    flow = trading_flow(options.orders)
    freeze_long_lived_state()
    databases: list[str] = ["sqlite"] + ([] if options.no_postgres else ["postgresql"])
    for database in databases:
        best: tuple[float, int, float, dict[str, float]] | None = None
        for _ in range(options.repeat):
            batches, build_cpu = build_rows(flow)
            built_rows = sum(batch.row_count for batch in batches)
            if database == "sqlite":
                with tempfile.TemporaryDirectory() as directory:
                    url = f"sqlite:///{Path(directory) / 'bench.db'}"
                    costs = uvloop.run(measure_writes(url, flow, batches, options.rows_per_write))
            else:
                name = f"hft_bench_{secrets.token_hex(4)}"
                try:
                    uvloop.run(_admin(f'CREATE DATABASE "{name}"'))
                except OSError as error:
                    print(f"postgresql skipped: {error}")
                    break
                try:
                    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
                    costs = uvloop.run(measure_writes(url, flow, batches, options.rows_per_write))
                finally:
                    uvloop.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            total = build_cpu / built_rows + (costs["merge"] + costs["write"]) / costs["rows"]
            if best is None or total < best[0]:
                best = (total, built_rows, build_cpu, costs)
        if best is not None:
            report(database, best[1], best[2], best[3])


if __name__ == "__main__":
    main()
