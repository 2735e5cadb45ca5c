"""The asyncio shell: acks after durability, in sequence, with group commit; a clean stop; fail-stop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hft.domain.commands import Command, SubmitOrder
from hft.domain.events import TradeExecuted
from hft.domain.exchange.commands import CreateAccount
from hft.domain.exchange.events import AccountChanged
from hft.domain.exchange.queries import state_hash
from hft.domain.instruments import default_instruments
from hft.domain.orders import BUY, SELL
from hft.engine import snapshots
from hft.engine.core import Ack, DurableCore
from hft.engine.journal import MAX_PAYLOAD
from hft.engine.recovery import recover
from hft.engine.service import CoreService, CoreUnavailableError
from hft.engine.settings import CoreSettings

Flow = Callable[[int], list[Command]]


def create(account: int) -> CreateAccount:
    return CreateAccount(account, f"trader-{account}", 10**15)


def new_service(
    data_dir: Path,
    clock: Callable[[], int],
    *,
    fsync: bool = False,
    max_batch: int = 4096,
    snapshot_every: int = 100_000,
) -> CoreService:
    settings = CoreSettings(data_dir, fsync=fsync, max_batch=max_batch, snapshot_every=snapshot_every)
    return CoreService(DurableCore(settings, default_instruments(), clock=clock))


def backwards_clock() -> Callable[[], int]:
    """A clock that jumps back now and then (an NTP step, a VM migration)."""
    values: Iterator[int] = iter([500, 400, 600, 100, 700, 700, 50, 800, 799, 900] * 50)
    return lambda: next(values)


def recovered_hash(data_dir: Path) -> str:
    recovery = recover(data_dir / "journal", data_dir / "snapshots", default_instruments())
    return state_hash(recovery.exchange)


def assert_consecutive(acks: list[Ack], first: int = 1) -> None:
    assert [ack.sequence for ack in acks] == list(range(first, first + len(acks)))


# -- sequences and time -------------------------------------------------------


def test_acks_carry_consecutive_sequences_and_time_that_never_goes_back(tmp_path: Path) -> None:
    async def scenario() -> list[Ack]:
        service = new_service(tmp_path, backwards_clock())
        await service.start()
        acks = [await service.execute(create(1)), await service.execute(create(2))]
        acks += await service.execute_many([create(account) for account in range(3, 8)])
        acks += await asyncio.gather(*(service.execute(create(account)) for account in range(8, 21)))
        await service.stop()
        return acks

    acks = asyncio.run(scenario())

    assert_consecutive(acks)
    clock_values = [500, 400, 600, 100, 700, 700, 50, 800, 799, 900] * 2
    running_max = [max(clock_values[: index + 1]) for index in range(20)]
    assert [ack.ts for ack in acks] == running_max


def test_a_restart_continues_sequences_and_time_even_with_a_clock_behind(tmp_path: Path) -> None:
    async def first_run() -> list[Ack]:
        service = new_service(tmp_path, lambda: 1_000_000)
        await service.start()
        acks = await service.execute_many([create(1), create(2)])
        await service.stop()
        return acks

    async def second_run() -> list[Ack]:
        service = new_service(tmp_path, lambda: 3)
        await service.start()
        acks = [await service.execute(create(3))]
        await service.stop()
        return acks

    before = asyncio.run(first_run())
    after = asyncio.run(second_run())

    assert_consecutive(before + after)
    assert [ack.ts for ack in after] == [1_000_000]


def test_acks_carry_the_events_of_their_own_command(tmp_path: Path) -> None:
    async def scenario() -> list[Ack]:
        service = new_service(tmp_path, lambda: 10)
        await service.start()
        acks = await asyncio.gather(*(service.execute(create(account)) for account in range(1, 11)))
        trade = await service.execute_many(
            [SubmitOrder(0, 1, "AAPL", SELL, 5, 10_000), SubmitOrder(0, 2, "AAPL", BUY, 5, 10_000)]
        )
        await service.stop()
        return [*acks, *trade]

    acks = asyncio.run(scenario())

    for account, ack in enumerate(acks[:10], start=1):
        [event] = ack.events
        assert isinstance(event, AccountChanged)
        assert (event.account, event.ts) == (account, ack.ts)
    trades = [event for event in acks[-1].events if isinstance(event, TradeExecuted)]
    assert [(trade.price, trade.quantity, trade.maker_order_id, trade.taker_order_id) for trade in trades] == [
        (10_000, 5, 1, 2)
    ]


# -- group commit -------------------------------------------------------------


def test_concurrent_commands_share_fsyncs(tmp_path: Path) -> None:
    async def scenario() -> tuple[list[Ack], int, int]:
        service = new_service(tmp_path, lambda: 10, fsync=True)
        await service.start()
        syncs_before = service.core.journal.syncs
        acks = await asyncio.gather(*(service.execute(create(account)) for account in range(1, 201)))
        syncs = service.core.journal.syncs - syncs_before
        batches = service.batches
        await service.stop()
        return acks, syncs, batches

    acks, syncs, batches = asyncio.run(scenario())

    assert_consecutive(acks)
    assert 1 <= syncs < 200
    assert syncs == batches  # one fsync per batch, however many commands it holds
    for account, ack in enumerate(acks, start=1):
        [event] = ack.events
        assert isinstance(event, AccountChanged)
        assert (event.account, event.ts) == (account, ack.ts)  # each caller gets the ack of its own command


def test_a_batch_never_exceeds_max_batch_and_requests_stay_whole(tmp_path: Path) -> None:
    batches: list[list[int]] = []

    async def scenario() -> list[list[Ack]]:
        service = new_service(tmp_path, lambda: 10, max_batch=8)
        service.subscribe(lambda acks: batches.append([ack.sequence for ack in acks]))
        await service.start()
        requests: list[list[Command]] = [[create(5 * group + index) for index in range(1, 6)] for group in range(20)]
        results = await asyncio.gather(*(service.execute_many(request) for request in requests))
        await service.stop()
        return results

    results = asyncio.run(scenario())

    assert all(len(batch) <= 8 for batch in batches)
    assert len(batches) >= 100 // 8
    assert [sequence for batch in batches for sequence in batch] == list(range(1, 101))
    for result in results:
        assert_consecutive(result, result[0].sequence)  # a request's commands are adjacent in the sequence
    assert sorted(ack.sequence for result in results for ack in result) == list(range(1, 101))


# -- listeners ----------------------------------------------------------------


def test_listeners_get_every_ack_in_sequence_order(tmp_path: Path, flow: Flow) -> None:
    first: list[Ack] = []
    second: list[Ack] = []

    async def scenario() -> list[Ack]:
        service = new_service(tmp_path, lambda: 10, max_batch=16)
        service.subscribe(first.extend)
        service.subscribe(second.extend)
        await service.start()
        commands = flow(150)
        results = await asyncio.gather(*(service.execute(command) for command in commands))
        await service.stop()
        return list(results)

    returned = asyncio.run(scenario())

    assert_consecutive(first)
    assert len(first) == 150
    assert [id(ack) for ack in first] == [id(ack) for ack in second] == [id(ack) for ack in returned]


# -- stopping -----------------------------------------------------------------


def test_stop_finishes_queued_commands_and_writes_a_final_snapshot(tmp_path: Path, flow: Flow) -> None:
    async def scenario() -> tuple[list[asyncio.Future[list[Ack]]], str]:
        service = new_service(tmp_path, lambda: 10, max_batch=10)
        await service.start()
        commands = flow(95)
        queued = [service.submit_many(commands[start : start + 5]) for start in range(0, 95, 5)]
        await service.stop()
        return queued, state_hash(service.exchange)

    queued, live_hash = asyncio.run(scenario())

    assert all(future.done() and future.exception() is None for future in queued)
    assert_consecutive([ack for future in queued for ack in future.result()])
    [final] = snapshots.list_snapshots(tmp_path / "snapshots")
    assert final.name == "00000000000000000095.snapshot"
    recovery = recover(tmp_path / "journal", tmp_path / "snapshots", default_instruments())
    assert (recovery.snapshot_sequence, recovery.replayed) == (95, 0)
    assert state_hash(recovery.exchange) == live_hash == recovered_hash(tmp_path)


def test_commands_after_stop_raise_core_unavailable(tmp_path: Path) -> None:
    async def scenario() -> None:
        service = new_service(tmp_path, lambda: 10)
        await service.start()
        await service.execute(create(1))
        await service.stop()
        with pytest.raises(CoreUnavailableError):
            await service.execute(create(2))
        with pytest.raises(CoreUnavailableError):
            service.submit_many([create(3)])

    asyncio.run(scenario())

    assert snapshots.list_snapshots(tmp_path / "snapshots")[-1].name == "00000000000000000001.snapshot"


def test_commands_before_start_raise_core_unavailable(tmp_path: Path) -> None:
    async def scenario() -> None:
        service = new_service(tmp_path, lambda: 10)
        with pytest.raises(CoreUnavailableError):
            await service.execute(create(1))
        await service.stop()

    asyncio.run(scenario())


def test_commands_sent_while_stopping_raise_core_unavailable(tmp_path: Path) -> None:
    async def scenario() -> list[Ack]:
        service = new_service(tmp_path, lambda: 10, fsync=True)
        await service.start()
        queued = service.submit_many([create(1), create(2)])
        stopping = asyncio.ensure_future(service.stop())
        await asyncio.sleep(0)
        with pytest.raises(CoreUnavailableError):
            service.submit_many([create(3)])
        await stopping
        return await queued

    assert_consecutive(asyncio.run(scenario()))


# -- bad commands -------------------------------------------------------------


def test_an_unencodable_command_raises_value_error_and_harms_no_other(tmp_path: Path) -> None:
    async def scenario() -> tuple[list[Ack], str]:
        service = new_service(tmp_path, lambda: 10)
        await service.start()
        good = [asyncio.ensure_future(service.execute(create(account))) for account in (1, 2)]
        with pytest.raises(ValueError, match="out of range"):
            await service.execute(CreateAccount(9, "too rich", cash=2**64))
        with pytest.raises(ValueError, match="out of range"):
            await service.execute_many([create(3), CreateAccount(9, "too rich", cash=2**64)])
        acks = [*(await asyncio.gather(*good)), await service.execute(create(4))]
        live = state_hash(service.exchange)
        assert sorted(service.exchange.accounts) == [1, 2, 4]  # nothing of the refused request ran
        await service.stop()
        return acks, live

    acks, live = asyncio.run(scenario())

    assert_consecutive(acks)  # the refused commands took no sequence number
    assert recovered_hash(tmp_path) == live


def test_a_command_too_large_for_a_journal_record_is_refused_before_it_is_journaled(tmp_path: Path) -> None:
    # The reader refuses any record longer than MAX_PAYLOAD; if the writer takes one, the journal
    # holds an acknowledged command that makes every later start-up fail.
    huge = SubmitOrder(0, 1, "AAPL", BUY, 1, 10_000, client_order_id="x" * (MAX_PAYLOAD + 1))

    async def scenario() -> tuple[bool, str]:
        service = new_service(tmp_path, lambda: 10)
        await service.start()
        await service.execute(create(1))
        try:
            await service.execute(huge)
        except ValueError:
            refused = True
        else:
            refused = False
        await service.execute(create(2))
        live = state_hash(service.exchange)
        await service.stop()
        return refused, live

    refused, live = asyncio.run(scenario())

    remove_snapshots(tmp_path)
    assert recovered_hash(tmp_path) == live
    assert refused


def remove_snapshots(data_dir: Path) -> None:
    """Remove the snapshots so recovery has to replay the whole journal."""
    for path in snapshots.list_snapshots(data_dir / "snapshots"):
        path.unlink()


# -- failure ------------------------------------------------------------------


def test_a_failing_listener_is_logged_and_the_core_goes_on(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    class ListenerBugError(Exception):
        pass

    seen: list[int] = []

    def listener(acks: list[Ack]) -> None:
        seen.extend(ack.sequence for ack in acks)
        if any(ack.sequence == 3 for ack in acks):
            raise ListenerBugError("publish stage bug")

    async def scenario() -> tuple[list[Ack], CoreService]:
        service = new_service(tmp_path, lambda: 10)
        service.subscribe(listener)
        await service.start()
        acks = [await service.execute(create(account)) for account in (1, 2, 3, 4)]
        await service.stop()
        return acks, service

    acks, service = asyncio.run(scenario())

    assert_consecutive(acks)
    assert service.failure is None
    assert seen == [1, 2, 3, 4]
    assert any("listener" in record.getMessage() and record.levelname == "ERROR" for record in caplog.records)
    recovery = recover(tmp_path / "journal", tmp_path / "snapshots", default_instruments())
    assert recovery.last_sequence == 4
    assert sorted(recovery.exchange.accounts) == [1, 2, 3, 4]
