"""Real crashes: a child process runs the service and SIGKILLs itself at each crash point; recovery keeps every ack.

The child (``child_main``, run from this file by path) journals a fixed list
of commands in batches with fsync on, printing the last sequence of each
batch once it is acknowledged. The parent then recovers the files: nothing
acknowledged may be missing, and the state must be exactly that of the
commands recovered, applied at the times the child's clock gave them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hft.domain.commands import CancelOrder, Command, SubmitOrder
from hft.domain.exchange.commands import CreateAccount
from hft.domain.exchange.exchange import Exchange
from hft.domain.exchange.queries import state_hash
from hft.domain.instruments import default_instruments
from hft.domain.orders import BUY, SELL
from hft.engine.core import DurableCore
from hft.engine.recovery import recover
from hft.engine.service import CoreService
from hft.engine.settings import CoreSettings

BATCH = 6
COMMANDS = 120
SNAPSHOT_EVERY = 25
START = 1_000_000_000
STEP = 1_000


def crash_commands() -> list[Command]:
    """Return the commands the child journals: accounts, then orders that rest, trade and get cancelled."""
    commands: list[Command] = [CreateAccount(account, f"crash-{account}", 10**15) for account in (1, 2, 3)]
    submitted = 0
    while len(commands) < COMMANDS:
        step = len(commands) % 5
        if step == 4 and submitted:
            commands.append(CancelOrder(submitted, (submitted % 3) + 1))
            continue
        submitted += 1
        side = BUY if submitted % 2 else SELL
        commands.append(SubmitOrder(0, (submitted % 3) + 1, "AAPL", side, 1 + submitted % 7, 10_000 + submitted % 3))
    return commands


async def _child(data_dir: Path) -> None:
    ticks = iter(range(START, 2**62, STEP))
    settings = CoreSettings(data_dir, fsync=True, snapshot_every=SNAPSHOT_EVERY)
    service = CoreService(DurableCore(settings, default_instruments(), clock=lambda: next(ticks)))
    await service.start()
    commands = crash_commands()
    for start in range(0, len(commands), BATCH):
        acks = await service.execute_many(commands[start : start + BATCH])
        print(acks[-1].sequence, flush=True)
    await service.stop()


def child_main(data_dir: str) -> None:
    """Run in the child process: journal every command, printing each acknowledged batch's last sequence."""
    asyncio.run(_child(Path(data_dir)))


CHILD = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("crash_child", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.child_main(sys.argv[2])
"""


def run_child(data_dir: Path, crash_at: str) -> tuple[int, list[int]]:
    """Run the child until it finishes or kills itself; return its exit code and the acknowledged sequences."""
    environment = {**os.environ, "HFT_CRASH_AT": crash_at}
    finished = subprocess.run(
        [sys.executable, "-c", CHILD, __file__, str(data_dir)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if finished.returncode not in (0, -signal.SIGKILL):
        pytest.fail(f"the child failed ({finished.returncode}): {finished.stderr}")
    return finished.returncode, [int(line) for line in finished.stdout.split()]


def reference_hash(count: int) -> str:
    exchange = Exchange(default_instruments())
    for index, command in enumerate(crash_commands()[:count]):
        exchange.apply(command, START + index * STEP)
    return state_hash(exchange)


@pytest.mark.parametrize(
    ("crash_at", "lost_at_most"),
    [
        ("before_write:7", BATCH),  # sequenced, nothing written: the batch is gone
        ("torn_write:7", BATCH),  # half the bytes written: the whole records among them may survive
        ("after_write:7", 0),  # written, not fsynced: the page cache still has it after a process crash
        ("after_sync:7", 0),
        ("after_apply:7", 0),
    ],
)
def test_a_crash_at_any_point_loses_nothing_acknowledged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, crash_at: str, lost_at_most: int
) -> None:
    returncode, acknowledged = run_child(tmp_path, crash_at)
    caplog.set_level(logging.WARNING, logger="hft.journal")

    recovery = recover(tmp_path / "journal", tmp_path / "snapshots", default_instruments())

    assert returncode == -signal.SIGKILL
    assert acknowledged == [BATCH * batch for batch in range(1, 7)]
    in_flight_end = acknowledged[-1] + BATCH
    assert in_flight_end - lost_at_most <= recovery.last_sequence <= in_flight_end
    assert state_hash(recovery.exchange) == reference_hash(recovery.last_sequence)
    torn = [record for record in caplog.records if "torn tail" in record.getMessage()]
    assert bool(torn) == crash_at.startswith("torn_write")
    assert bool(recovery.cut_bytes) == crash_at.startswith("torn_write")


def test_a_crash_while_a_snapshot_is_renamed_leaves_the_previous_snapshot_in_charge(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    returncode, acknowledged = run_child(tmp_path, "snapshot_written:2")
    caplog.set_level(logging.WARNING, logger="hft.snapshots")
    leftovers = list((tmp_path / "snapshots").glob("writing-*"))

    recovery = recover(tmp_path / "journal", tmp_path / "snapshots", default_instruments())

    assert returncode == -signal.SIGKILL
    assert len(leftovers) == 1
    assert not leftovers[0].exists()
    assert any("interrupted" in record.getMessage() for record in caplog.records)
    assert 0 < recovery.snapshot_sequence < int(leftovers[0].name.split("-")[1].split(".")[0])
    assert recovery.last_sequence >= (acknowledged[-1] if acknowledged else 0)
    assert state_hash(recovery.exchange) == reference_hash(recovery.last_sequence)


def test_the_child_without_a_crash_point_finishes_with_the_reference_state(tmp_path: Path) -> None:
    returncode, acknowledged = run_child(tmp_path, "")

    recovery = recover(tmp_path / "journal", tmp_path / "snapshots", default_instruments())

    assert returncode == 0
    assert acknowledged[-1] == COMMANDS
    assert (recovery.snapshot_sequence, recovery.last_sequence) == (COMMANDS, COMMANDS)
    assert state_hash(recovery.exchange) == reference_hash(COMMANDS)


@pytest.mark.parametrize("setting", ["nowhere:1", "after_sync", "after_sync:0", "after_sync:x"])
def test_a_bad_crash_setting_stops_the_process_at_import(setting: str) -> None:
    finished = subprocess.run(
        [sys.executable, "-c", "import hft.engine.crashpoints"],
        env={**os.environ, "HFT_CRASH_AT": setting},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert finished.returncode == 1
    assert f"HFT_CRASH_AT={setting!r}: expected NAME:N" in finished.stderr
