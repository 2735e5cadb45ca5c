"""Start-up is a replay: newest snapshot plus the journal after it gives the live state, or start-up refuses."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from hft.domain.commands import Command
from hft.domain.exchange.commands import SetRiskLimits
from hft.domain.exchange.exchange import Exchange
from hft.domain.exchange.money import QUANTITY_SCALE
from hft.domain.exchange.queries import state_hash
from hft.domain.exchange.risk import NO_LIMITS, RiskLimits
from hft.domain.instruments import Instrument, default_instruments
from hft.engine import snapshots
from hft.engine.codec import encode
from hft.engine.core import Ack, DurableCore
from hft.engine.errors import JournalCorruptedError
from hft.engine.journal import list_segments, read_segment
from hft.engine.recovery import Recovery, recover
from hft.engine.service import CoreService
from hft.engine.settings import CoreSettings

Flow = Callable[[int], list[Command]]
Run = Callable[[DurableCore, list[Command]], list[int]]
Replay = Callable[[list[Command], list[int]], Exchange]

FLOW_LENGTH = 320
SNAPSHOT_EVERY = 30


class ServiceRun:
    """A finished run of the flow through a ``CoreService``: its files, commands, acks and live state."""

    def __init__(self, data_dir: Path, commands: list[Command], acks: list[Ack], live_hash: str) -> None:
        self.data_dir = data_dir
        self.commands = commands
        self.acks = acks
        self.live_hash = live_hash

    def copy_to(self, target: Path) -> Path:
        """Copy the run's files to ``target`` (so a test can damage or delete them) and return it."""
        shutil.copytree(self.data_dir, target)
        return target


async def _drive(settings: CoreSettings, commands: list[Command], clock: Callable[[], int]) -> tuple[list[Ack], str]:
    service = CoreService(DurableCore(settings, default_instruments(), clock=clock))
    await service.start()
    snapshot_dir = settings.data_dir / "snapshots"
    acks: list[Ack] = []
    landed: set[int] = set()
    for start in range(0, len(commands), 9):
        acks.extend(await service.execute_many(commands[start : start + 9]))
        # Let a snapshot started after this batch land before the next, so the run leaves several
        # (the service skips a due snapshot while the previous one is still being written).
        started = service.core.snapshot_sequence
        if started and started not in landed:
            for _ in range(5000):  # at most about five seconds
                if (snapshot_dir / f"{started:020d}.snapshot").exists():
                    break
                await asyncio.sleep(0.001)
            await asyncio.sleep(0.02)  # the writer thread still syncs the folder and prunes
            landed.add(started)
    live_hash = state_hash(service.exchange)
    await service.stop()
    return acks, live_hash


@pytest.fixture(scope="module")
def service_run(
    tmp_path_factory: pytest.TempPathFactory, flow: Flow, new_clock: Callable[[], Callable[[], int]]
) -> ServiceRun:
    """The flow run through a service that snapshots every 30 commands and keeps every snapshot."""
    data_dir = tmp_path_factory.mktemp("service-run")
    settings = CoreSettings(data_dir, fsync=False, snapshot_every=SNAPSHOT_EVERY, keep_snapshots=1000)
    commands = flow(FLOW_LENGTH)
    acks, live_hash = asyncio.run(_drive(settings, commands, new_clock()))
    return ServiceRun(data_dir, commands, acks, live_hash)


def recover_dir(data_dir: Path, default_limits: RiskLimits = NO_LIMITS) -> Recovery:
    return recover(data_dir / "journal", data_dir / "snapshots", default_instruments(), default_limits)


def snapshot_sequences(data_dir: Path) -> list[int]:
    return [int(path.name.split(".")[0]) for path in snapshots.list_snapshots(data_dir / "snapshots")]


def record_ends(journal_dir: Path) -> list[tuple[Path, int, int]]:
    """Return (segment, sequence, end offset) of every record in the journal."""
    segments = list_segments(journal_dir)
    ends = []
    for index, segment in enumerate(segments):
        data_size = segment.path.stat().st_size
        records = list(read_segment(segment, index == len(segments) - 1))
        for record, following in zip(records, [*records[1:], None], strict=True):
            ends.append((segment.path, record.sequence, data_size if following is None else following.offset))
    return ends


def start_core(data_dir: Path, clock: Callable[[], int], segment_bytes: int = 1 << 26) -> DurableCore:
    settings = CoreSettings(data_dir, fsync=False, segment_bytes=segment_bytes)
    return DurableCore(settings, default_instruments(), clock=clock)


# -- the same state three ways ------------------------------------------------


def test_the_run_left_several_snapshots_and_a_final_one(service_run: ServiceRun) -> None:
    sequences = snapshot_sequences(service_run.data_dir)

    assert len(sequences) >= 3
    assert sequences[-1] == FLOW_LENGTH  # stop writes the final state
    assert [ack.sequence for ack in service_run.acks] == list(range(1, FLOW_LENGTH + 1))


def test_live_state_equals_a_reference_replay_of_the_commands(service_run: ServiceRun, replay: Replay) -> None:
    reference = replay(service_run.commands, [ack.ts for ack in service_run.acks])

    assert state_hash(reference) == service_run.live_hash


def test_newest_snapshot_recovers_the_live_state_without_replaying(service_run: ServiceRun, tmp_path: Path) -> None:
    data_dir = service_run.copy_to(tmp_path / "data")

    recovery = recover_dir(data_dir)

    assert (recovery.snapshot_sequence, recovery.last_sequence, recovery.replayed) == (FLOW_LENGTH, FLOW_LENGTH, 0)
    assert recovery.last_ts == service_run.acks[-1].ts
    assert state_hash(recovery.exchange) == service_run.live_hash


def test_every_snapshot_plus_the_journal_after_it_recovers_the_live_state(
    service_run: ServiceRun, tmp_path: Path
) -> None:
    data_dir = service_run.copy_to(tmp_path / "data")
    sequences = snapshot_sequences(data_dir)

    for newest in reversed(sequences):
        recovery = recover_dir(data_dir)

        assert recovery.snapshot_sequence == newest
        assert recovery.replayed == FLOW_LENGTH - newest
        assert recovery.last_sequence == FLOW_LENGTH
        assert recovery.last_ts == service_run.acks[-1].ts
        assert state_hash(recovery.exchange) == service_run.live_hash, f"from the snapshot at {newest}"
        (data_dir / "snapshots" / f"{newest:020d}.snapshot").unlink()


def test_replaying_the_whole_journal_recovers_the_live_state(service_run: ServiceRun, tmp_path: Path) -> None:
    data_dir = service_run.copy_to(tmp_path / "data")
    shutil.rmtree(data_dir / "snapshots")
    (data_dir / "snapshots").mkdir()

    recovery = recover_dir(data_dir)

    assert (recovery.snapshot_sequence, recovery.replayed, recovery.last_sequence) == (0, FLOW_LENGTH, FLOW_LENGTH)
    assert state_hash(recovery.exchange) == service_run.live_hash


def test_each_snapshot_holds_exactly_the_state_at_its_sequence(
    service_run: ServiceRun, instruments: list[Instrument]
) -> None:
    snapshot_dir = service_run.data_dir / "snapshots"
    wanted = set(snapshot_sequences(service_run.data_dir))
    reference = Exchange(instruments)
    expected: dict[int, str] = {}
    for command, ack in zip(service_run.commands, service_run.acks, strict=True):
        reference.apply(command, ack.ts)
        if ack.sequence in wanted:
            expected[ack.sequence] = state_hash(reference)

    for sequence, reference_hash in expected.items():
        snapshot, rebuilt = snapshots.read(snapshot_dir / f"{sequence:020d}.snapshot", instruments)
        assert snapshot.state_hash == state_hash(rebuilt) == reference_hash
        assert snapshot.ts == service_run.acks[sequence - 1].ts


def test_keep_snapshots_prunes_during_a_service_run(tmp_path: Path, flow: Flow, clock: Callable[[], int]) -> None:
    settings = CoreSettings(tmp_path, fsync=False, snapshot_every=25, keep_snapshots=2)

    asyncio.run(_drive(settings, flow(200), clock))

    sequences = snapshot_sequences(tmp_path)
    assert len(sequences) == 2
    assert sequences[-1] == 200


# -- restarts -----------------------------------------------------------------


def test_empty_directories_recover_a_fresh_exchange_with_the_given_default_limits(tmp_path: Path) -> None:
    (tmp_path / "journal").mkdir()
    (tmp_path / "snapshots").mkdir()
    limits = RiskLimits(max_open_orders=7)

    recovery = recover_dir(tmp_path, limits)

    assert (recovery.last_sequence, recovery.last_ts, recovery.snapshot_sequence) == (0, 0, 0)
    assert (recovery.replayed, recovery.cut_bytes) == (0, 0)
    assert recovery.exchange.default_limits == limits
    assert recovery.exchange.accounts == {}


def test_a_restart_continues_the_sequence_and_never_goes_back_in_time(
    tmp_path: Path, flow: Flow, run: Run, replay: Replay
) -> None:
    commands = flow(120)
    core = start_core(tmp_path, clock=iter(range(10_000, 10**9, 10)).__next__)
    first_stamps = run(core, commands[:80])
    core.journal.close()  # a crash after the last fsync: no final snapshot

    restarted = start_core(tmp_path, clock=lambda: 5)  # a clock behind the journal
    assert (restarted.sequence, restarted.last_ts) == (80, first_stamps[-1])
    second_stamps = run(restarted, commands[80:])
    restarted.close()

    assert second_stamps == [first_stamps[-1]] * 40
    recovery = recover_dir(tmp_path)
    assert recovery.last_sequence == 120
    assert state_hash(recovery.exchange) == state_hash(restarted.exchange)
    assert state_hash(recovery.exchange) == state_hash(replay(commands, first_stamps + second_stamps))


def test_a_torn_tail_after_the_snapshot_is_cut_and_the_whole_records_replayed(
    tmp_path: Path, flow: Flow, run: Run, replay: Replay, clock: Callable[[], int]
) -> None:
    commands = flow(100)
    core = start_core(tmp_path, clock)
    stamps = run(core, commands[:60])
    core.write_snapshot(core.capture())
    stamps += run(core, commands[60:])
    core.journal.close()
    path, _, end = record_ends(tmp_path / "journal")[-2]
    with path.open("r+b") as file:
        file.truncate(end + 11)

    recovery = recover_dir(tmp_path)

    assert (recovery.snapshot_sequence, recovery.last_sequence, recovery.replayed) == (60, 99, 39)
    assert recovery.cut_bytes == 11
    assert recovery.last_ts == stamps[98]
    assert state_hash(recovery.exchange) == state_hash(replay(commands[:99], stamps[:99]))


def test_venue_default_limits_set_by_a_command_survive_snapshot_and_replay(
    tmp_path: Path, clock: Callable[[], int]
) -> None:
    venue_limits = RiskLimits(max_order_quantity=5 * QUANTITY_SCALE)
    core = start_core(tmp_path, clock)
    stamps = core.write([encode(SetRiskLimits(0, venue_limits))])
    core.apply([SetRiskLimits(0, venue_limits)], stamps, 1)
    core.close()
    start_up_limits = RiskLimits(max_open_orders=1)

    from_snapshot = recover_dir(tmp_path, start_up_limits)
    shutil.rmtree(tmp_path / "snapshots")
    (tmp_path / "snapshots").mkdir()
    from_journal = recover_dir(tmp_path, start_up_limits)

    assert from_snapshot.exchange.default_limits == venue_limits
    assert from_journal.exchange.default_limits == venue_limits


def test_a_snapshot_lets_the_journal_start_after_sequence_one(
    tmp_path: Path, flow: Flow, run: Run, clock: Callable[[], int]
) -> None:
    core = start_core(tmp_path, clock, segment_bytes=4096)
    run(core, flow(300))
    live = state_hash(core.exchange)
    core.close()
    segments = list_segments(tmp_path / "journal")
    assert len(segments) >= 3
    segments[0].path.unlink()  # archived: the snapshot at 300 covers it

    recovery = recover_dir(tmp_path)

    assert recovery.last_sequence == 300
    assert state_hash(recovery.exchange) == live


def test_a_journal_that_starts_past_the_record_after_the_snapshot_is_refused(
    tmp_path: Path, flow: Flow, run: Run, replay: Replay, clock: Callable[[], int]
) -> None:
    commands = flow(300)
    core = start_core(tmp_path, clock, segment_bytes=4096)
    stamps = run(core, commands)
    core.journal.close()
    segments = list_segments(tmp_path / "journal")
    # The newest snapshot is two records short of where the second segment starts; the first segment is gone.
    covered = segments[1].first_sequence - 2
    at_snapshot = replay(commands[:covered], stamps[:covered])
    snapshots.write(tmp_path / "snapshots", snapshots.capture(at_snapshot, covered, stamps[covered - 1]), keep=1)
    segments[0].path.unlink()

    with pytest.raises(JournalCorruptedError) as raised:
        recover_dir(tmp_path)

    assert (raised.value.path, raised.value.offset) == (segments[1].path, 0)
    assert f"records from {covered + 1} are missing" in str(raised.value)


@pytest.mark.parametrize("kept", [0, 1, 49])
def test_a_journal_ending_before_the_newest_snapshot_is_refused(
    tmp_path: Path, flow: Flow, run: Run, clock: Callable[[], int], kept: int
) -> None:
    core = start_core(tmp_path, clock)
    run(core, flow(50))
    core.close()  # snapshot at 50
    journal = tmp_path / "journal"
    path = list_segments(journal)[0].path
    if kept == 0:
        path.unlink()
    else:
        _, _, end = record_ends(journal)[kept - 1]
        with path.open("r+b") as file:
            file.truncate(end)

    with pytest.raises(JournalCorruptedError) as raised:
        recover_dir(tmp_path)

    assert raised.value.path == (journal if kept == 0 else path)
    assert f"journal ends at sequence {kept}, before the snapshot at 50" in str(raised.value)


def test_a_torn_tail_below_the_newest_snapshot_is_refused_and_left_in_place(
    tmp_path: Path, flow: Flow, run: Run, clock: Callable[[], int]
) -> None:
    # The snapshot proves record 50 was applied, so its torn bytes are damage, not an unacknowledged write:
    # start-up refuses, and leaves the file as it found it for whoever repairs it.
    core = start_core(tmp_path, clock)
    run(core, flow(50))
    core.close()
    path, _, end = record_ends(tmp_path / "journal")[-1]
    with path.open("r+b") as file:
        file.truncate(end - 3)

    with pytest.raises(JournalCorruptedError, match="journal ends at sequence 49, before the snapshot at 50"):
        recover_dir(tmp_path)

    assert path.stat().st_size == end - 3
