"""The durable core benchmark: the shared flow through risk, journal (fsync on) and settlement.

A single producer keeps a window of commands in flight in flow order, in
chunks, as a busy gateway would; the core batches whatever is queued into
one journal write and one fsync. Acknowledgement latency is measured from
queueing a chunk to its acks. Afterwards the journal is recovered twice:
as start-up does (newest snapshot plus the rest) and by replaying all of it.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from hft.bench.engine_bench import percentile
from hft.bench.orderflow import FlowRow, flow_instruments, to_command
from hft.domain.commands import Command, SubmitOrder
from hft.domain.exchange.commands import CreateAccount
from hft.domain.exchange.money import CASH_SCALE, QUANTITY_SCALE
from hft.domain.exchange.queries import state_hash
from hft.domain.exchange.risk import RiskLimits
from hft.domain.instruments import Instrument
from hft.engine import memory
from hft.engine.core import Ack, DurableCore
from hft.engine.recovery import Recovery, recover
from hft.engine.service import CoreService
from hft.engine.settings import CoreSettings

# Every limit on, none binding for the flow: risk does all its work and rejects nothing.
GENEROUS_LIMITS = RiskLimits(
    max_order_quantity=10**7 * QUANTITY_SCALE,
    max_order_notional=10**10 * CASH_SCALE,
    price_collar_bps=5_000,
    max_open_orders=1_000_000,
    max_position=10**9 * QUANTITY_SCALE,
    max_orders_per_second=1_000_000,
)
STARTING_CASH = 10**9 * CASH_SCALE


def core_commands(rows: list[FlowRow]) -> tuple[list[Command], list[Command]]:
    """Return the account set-up commands and the flow's commands (new orders without ids: the core assigns them)."""
    accounts = sorted({row.account for row in rows})
    setup: list[Command] = [CreateAccount(account, f"flow-{account}", STARTING_CASH, 0, 1, 2) for account in accounts]
    commands = []
    for row in rows:
        command = to_command(row)
        if isinstance(command, SubmitOrder):
            command = to_command(row._replace(order_id=0))
        commands.append(command)
    return setup, commands


def run(
    rows: list[FlowRow], data_dir: Path, snapshot_every: int = 100_000, window: int = 8192, chunk: int = 64
) -> dict[str, Any]:
    """Run the flow through a durable core in ``data_dir`` (fsync on); return throughput, latency, recovery."""
    instruments = flow_instruments(rows)
    setup, commands = core_commands(rows)
    settings = CoreSettings(data_dir, fsync=True, snapshot_every=snapshot_every)
    memory.collect_less_often()
    result = asyncio.run(_drive(settings, instruments, setup, commands, window, chunk))
    gc.unfreeze()
    result.update(_recovery(settings, instruments, result.pop("final_state_hash")))
    return result


async def _drive(
    settings: CoreSettings,
    instruments: list[Instrument],
    setup: list[Command],
    commands: list[Command],
    window: int,
    chunk: int,
) -> dict[str, Any]:
    core = DurableCore(settings, instruments, GENEROUS_LIMITS)
    memory.freeze_long_lived_state()
    service = CoreService(core)
    await service.start()
    await service.execute_many(setup)
    syncs_before = core.journal.syncs
    batches_before = service.batches
    latencies: list[int] = []
    in_flight = asyncio.Semaphore(max(window // chunk, 1))
    clock = time.perf_counter_ns

    def acknowledged(future: asyncio.Future[list[Ack]], sent: int) -> None:
        elapsed = clock() - sent
        latencies.extend([elapsed] * len(future.result()))
        in_flight.release()

    started = time.perf_counter()
    for start in range(0, len(commands), chunk):
        await in_flight.acquire()
        sent = clock()
        future = service.submit_many(commands[start : start + chunk])
        future.add_done_callback(functools.partial(acknowledged, sent=sent))
    for _ in range(max(window // chunk, 1)):
        await in_flight.acquire()
    elapsed = time.perf_counter() - started
    syncs = core.journal.syncs - syncs_before
    batches = service.batches - batches_before
    exchange = service.exchange
    final_hash = state_hash(exchange)
    trades = exchange.engine.last_trade_id
    rejects = sum(account.reject_count for account in exchange.accounts.values())
    await service.stop()
    latencies.sort()
    return {
        "fsync": core.settings.fsync,
        "window": window,
        "commands": len(commands),
        "accounts": len(setup),
        "trades": trades,
        "rejects": rejects,
        "seconds": round(elapsed, 3),
        "commands_per_second": round(len(commands) / elapsed),
        "ack_p50_us": round(percentile(latencies, 0.50) / 1000, 1),
        "ack_p99_us": round(percentile(latencies, 0.99) / 1000, 1),
        "ack_p999_us": round(percentile(latencies, 0.999) / 1000, 1),
        "fsyncs": syncs,
        "fsyncs_per_second": round(syncs / elapsed),
        "commands_per_batch": round(len(commands) / max(batches, 1), 1),
        "final_state_hash": final_hash,
    }


def _recovery(settings: CoreSettings, instruments: list[Instrument], final_hash: str) -> dict[str, Any]:
    """Time three start-ups on the journal the run wrote; each must rebuild the final state."""
    journal_dir = settings.data_dir / "journal"
    snapshot_dir = settings.data_dir / "snapshots"
    restart_seconds, restarted = _timed_recovery(journal_dir, snapshot_dir, instruments)
    # After a crash there is no shutdown snapshot: the newest periodic one plus the journal after it.
    shutdown_snapshot = max(snapshot_dir.glob("*.snapshot"))
    shutdown_snapshot.unlink()
    crash_seconds, after_crash = _timed_recovery(journal_dir, snapshot_dir, instruments)
    with tempfile.TemporaryDirectory() as no_snapshots:
        replay_seconds, replayed = _timed_recovery(journal_dir, Path(no_snapshots), instruments)
    hashes = {state_hash(recovery.exchange) for recovery in (restarted, after_crash, replayed)}
    journal_bytes = sum(path.stat().st_size for path in journal_dir.iterdir())
    return {
        "journal_mb": round(journal_bytes / 2**20, 1),
        "restart_seconds": round(restart_seconds, 3),
        "recovery_after_crash_seconds": round(crash_seconds, 3),
        "recovery_after_crash_snapshot_sequence": after_crash.snapshot_sequence,
        "recovery_after_crash_replayed": after_crash.replayed,
        "full_replay_commands": replayed.replayed,
        "full_replay_seconds": round(replay_seconds, 3),
        "recovered_state_matches": hashes == {final_hash},
    }


def _timed_recovery(journal_dir: Path, snapshot_dir: Path, instruments: list[Instrument]) -> tuple[float, Recovery]:
    gc.collect()
    started = time.perf_counter()
    recovery = recover(journal_dir, snapshot_dir, instruments, GENEROUS_LIMITS)
    return time.perf_counter() - started, recovery


def temporary_data_dir(parent: Path | None) -> Path:
    """Make a fresh data directory for one benchmark run (on the disk of ``parent``, default: here)."""
    return Path(tempfile.mkdtemp(prefix="hft-bench-core-", dir=parent or Path.cwd()))


def remove(data_dir: Path) -> None:
    """Delete a benchmark data directory."""
    shutil.rmtree(data_dir, ignore_errors=True)
