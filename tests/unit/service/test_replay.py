"""Journal replay (the venue's start-up path for its read models) gives back exactly the live acks.

Commands go through a real ``DurableCore`` (fsync off, in a temporary
directory) the way the service drives it: write, sync, apply, batch by batch.
``hft.engine.replay.replay`` must then hand back the same acks: sequence,
ts, command and every event with its sequence number and fields.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hft.domain.commands import (
    AmendOrder,
    CancelOrder,
    Command,
    EndSession,
    ExpireOrders,
    MassCancel,
    SubmitOrder,
)
from hft.domain.exchange.commands import (
    AdjustCash,
    CreateAccount,
    SetApiKey,
    SetInstrumentHalt,
    SetKillSwitch,
    SetMarkPrice,
)
from hft.domain.exchange.money import CASH_SCALE
from hft.domain.instruments import default_instruments
from hft.domain.orders import BUY, DAY, GTD, IOC, MARKET, SELL
from hft.engine.codec import encode
from hft.engine.core import Ack, DurableCore
from hft.engine.errors import JournalCorruptedError
from hft.engine.replay import replay
from hft.engine.settings import CoreSettings
from hft.service.auth import key_digest
from hft.service.history import TradingHistory

START_TS = 1_767_225_600_000_000_000
STEP_NS = 1_000_000
ACCOUNTS = (1, 2, 3)


def _clock(start: int = START_TS) -> Callable[[], int]:
    ticks: Iterator[int] = iter(range(start, 2**62, STEP_NS))
    return lambda: next(ticks)


def _flow(count: int, seed: int = 5) -> list[Command]:
    """Accounts, then a busy market: orders that rest and trade, cancels, amends, expiries, halts, switches."""
    rng = random.Random(seed)
    commands: list[Command] = [CreateAccount(a, f"t{a}", 10**6 * CASH_SCALE, 0, 1, 3) for a in ACCOUNTS]
    commands += [SetApiKey(a, key_digest(f"hft_key-{a}")) for a in ACCOUNTS]
    submitted = 0
    while len(commands) < count:
        draw = rng.random()
        account = rng.choice(ACCOUNTS)
        if draw < 0.6:
            submitted += 1
            price = 10_000 + rng.randint(-5, 5)
            kind = rng.random()
            side = rng.choice((BUY, SELL))
            if kind < 0.1:
                commands.append(SubmitOrder(0, account, "AAPL", side, rng.randint(1, 20), 0, MARKET, IOC))
            elif kind < 0.2:
                expire = START_TS + (len(commands) + rng.randint(1, 30)) * STEP_NS
                commands.append(SubmitOrder(0, account, "MSFT", side, 5, price, time_in_force=GTD, expire_ts=expire))
            elif kind < 0.25:
                commands.append(SubmitOrder(0, account, "AAPL", side, 5, price, time_in_force=DAY))
            else:
                client_order_id = f"c{submitted % 40}" if kind < 0.5 else ""
                commands.append(
                    SubmitOrder(0, account, "AAPL", side, rng.randint(1, 20), price, client_order_id=client_order_id)
                )
        elif draw < 0.8:
            commands.append(CancelOrder(max(submitted - rng.randint(0, 5), 1), account))
        elif draw < 0.9:
            commands.append(AmendOrder(max(submitted - rng.randint(0, 5), 1), account, rng.randint(1, 25)))
        else:
            commands.append(
                rng.choice(
                    [
                        MassCancel(account, "AAPL"),
                        AdjustCash(account, 100 * CASH_SCALE),
                        SetMarkPrice("AAPL", 10_001),
                        ExpireOrders(),
                        EndSession("AAPL"),
                        SetInstrumentHalt("MSFT", rng.random() < 0.5),
                        SetKillSwitch(account, rng.random() < 0.3),
                    ]
                )
            )
    return commands


def _run(core: DurableCore, commands: list[Command], rng: random.Random) -> list[Ack]:
    """Drive ``core`` as the service does, in batches of random size; return the live acks."""
    acks: list[Ack] = []
    start = 0
    while start < len(commands):
        chunk = commands[start : start + rng.randint(1, 9)]
        first_sequence = core.sequence + 1
        stamps = core.write([encode(command) for command in chunk])
        core.sync()
        acks.extend(core.apply(chunk, stamps, first_sequence))
        start += len(chunk)
    return acks


def _fields(value: object) -> tuple[object, ...]:
    """A command or event as comparable data: its type and every attribute (compiled classes list theirs)."""
    names = getattr(type(value), "__mypyc_attrs__", None)
    if names is None:
        names = vars(value)
    return (type(value).__name__, *((name, getattr(value, name)) for name in sorted(names)))


def _data(acks: list[Ack]) -> list[tuple[object, ...]]:
    return [(ack.sequence, ack.ts, _fields(ack.command), tuple(_fields(event) for event in ack.events)) for ack in acks]


def _replayed(core: DurableCore, last_sequence: int | None = None, batch: int = 4096) -> tuple[list[Ack], list[int]]:
    acks: list[Ack] = []
    sizes: list[int] = []

    def sink(batch_acks: list[Ack]) -> None:
        sizes.append(len(batch_acks))
        acks.extend(batch_acks)

    count = replay(
        core.journal_dir,
        core.instruments,
        core.sequence if last_sequence is None else last_sequence,
        sink,
        batch=batch,
    )
    assert count == len(acks)
    return acks, sizes


@pytest.fixture
def settings(tmp_path: Path) -> CoreSettings:
    """Core files in a temporary directory, fsync off, small journal segments so replay crosses several."""
    return CoreSettings(tmp_path, fsync=False, segment_bytes=4096, snapshot_every=10**9)


def test_replay_gives_the_live_acks_back_event_for_event(settings: CoreSettings) -> None:
    core = DurableCore(settings, default_instruments(), clock=_clock())
    live = _run(core, _flow(600), random.Random(1))

    replayed, _ = _replayed(core)

    assert len(list(settings.data_dir.joinpath("journal").glob("*.journal"))) > 1
    assert [ack.sequence for ack in live] == list(range(1, 601))
    assert _data(replayed) == _data(live)
    event_sequences = [event.sequence for ack in replayed for event in ack.events]
    assert event_sequences == list(range(1, len(event_sequences) + 1))
    core.close()


def test_replay_after_a_restart_and_a_snapshot_still_starts_from_the_first_command(settings: CoreSettings) -> None:
    core = DurableCore(settings, default_instruments(), clock=_clock())
    live = _run(core, _flow(300), random.Random(2))
    core.close()  # writes a snapshot of the final state
    restarted = DurableCore(settings, default_instruments(), clock=_clock(START_TS + 10**12))
    live += _run(restarted, _flow(450, seed=6)[300:], random.Random(3))

    replayed, _ = _replayed(restarted)

    assert restarted.recovery.snapshot_sequence == 300
    assert _data(replayed) == _data(live)
    restarted.close()


def test_replay_stops_at_the_sequence_it_is_given_and_hands_over_batches_in_order(settings: CoreSettings) -> None:
    core = DurableCore(settings, default_instruments(), clock=_clock())
    live = _run(core, _flow(100), random.Random(4))

    replayed, sizes = _replayed(core, last_sequence=57, batch=10)

    assert _data(replayed) == _data(live[:57])
    assert sizes == [10, 10, 10, 10, 10, 7]
    core.close()


def test_replay_refuses_a_journal_that_ends_before_the_sequence_it_is_given(settings: CoreSettings) -> None:
    core = DurableCore(settings, default_instruments(), clock=_clock())
    _run(core, _flow(20), random.Random(5))

    with pytest.raises(JournalCorruptedError, match="ends at 20"):
        _replayed(core, last_sequence=25)
    core.close()


def test_read_models_rebuilt_by_replay_equal_the_live_ones(settings: CoreSettings) -> None:
    core = DurableCore(settings, default_instruments(), clock=_clock())
    live_history = TradingHistory(core.instruments)
    rng = random.Random(6)
    commands = _flow(500, seed=8)
    for start in range(0, len(commands), 50):
        live_history.apply(_run(core, commands[start : start + 50], rng))

    rebuilt = TradingHistory(core.instruments)

    def rebuild(acks: list[Ack]) -> None:
        rebuilt.apply(acks)

    replay(core.journal_dir, core.instruments, core.sequence, rebuild, batch=64)

    assert rebuilt.orders == live_history.orders
    assert rebuilt.executions_by_account == live_history.executions_by_account
    assert rebuilt.open_by_account == live_history.open_by_account
    assert rebuilt.client_ids == live_history.client_ids
    assert rebuilt.last_sequence == live_history.last_sequence
    core.close()
