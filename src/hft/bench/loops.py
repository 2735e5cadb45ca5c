"""Tight loops that feed pre-built commands to an engine (compiled with the engine).

Engine time is the command's position in the flow, so every run is identical.
Counters are explicit ``i64`` rather than ``enumerate``, which mypyc does not
turn into a native loop.
"""

from __future__ import annotations

import hashlib
from time import perf_counter_ns

from mypy_extensions import i64

from hft.domain.commands import CancelOrder, Command
from hft.domain.events import Event, OrderCancelled, OrderRejected, TradeExecuted
from hft.domain.matching.engine import MatchingEngine


def execute_all(engine: MatchingEngine, commands: list[Command]) -> int:
    """Execute every command, handing each its events list as a pipeline does; return the number of events."""
    produced = 0
    ts: i64 = 0
    events: list[Event] = []
    for command in commands:
        ts += 1
        engine.execute(command, ts, events)
        produced += len(events)
        events.clear()
    return produced


def execute_each_timed(engine: MatchingEngine, commands: list[Command]) -> list[int]:
    """Execute every command and return each one's latency in nanoseconds."""
    latencies = [0] * len(commands)
    index: i64 = 0
    events: list[Event] = []
    for command in commands:
        start = perf_counter_ns()
        engine.execute(command, index + 1, events)
        latencies[index] = perf_counter_ns() - start
        events.clear()
        index += 1
    return latencies


def execute_for_digest(engine: MatchingEngine, commands: list[Command]) -> dict[str, int | str]:
    """Execute every command and summarise the result as the shared digest counts and trade hash."""
    trade_hash = hashlib.sha256()
    trades = volume = notional = cancels_accepted = cancels_rejected = 0
    ts: i64 = 0
    for command in commands:
        ts += 1
        events = engine.execute(command, ts)
        is_cancel = isinstance(command, CancelOrder)
        for event in events:
            if isinstance(event, TradeExecuted):
                trades += 1
                volume += event.quantity
                notional += event.price * event.quantity
                trade_hash.update(
                    f"{event.taker_order_id},{event.maker_order_id},{event.price},{event.quantity}\n".encode()
                )
            elif is_cancel and isinstance(event, OrderCancelled):
                cancels_accepted += 1
            elif is_cancel and isinstance(event, OrderRejected):
                cancels_rejected += 1
    return {
        "trades": trades,
        "volume": volume,
        "notional_ticks": notional,
        "cancels_accepted": cancels_accepted,
        "cancels_rejected": cancels_rejected,
        "trade_sha256": trade_hash.hexdigest(),
    }
