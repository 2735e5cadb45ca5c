"""``hft bench engine``: the shared flow through the matching engine, timed.

Commands are built before any timer starts. Throughput is the median of
several runs on fresh engines; latency percentiles come from a separate run
so that reading the clock per command does not slow the throughput figure.
"""

from __future__ import annotations

import gc
import resource
import statistics
import time
from typing import Any

from hft.bench.loops import execute_all, execute_each_timed, execute_for_digest
from hft.bench.orderflow import FlowRow, flow_instruments, to_command
from hft.domain.commands import Command
from hft.domain.instruments import Instrument
from hft.domain.matching import queries
from hft.domain.matching.engine import MatchingEngine


def digest(instruments: list[Instrument], commands: list[Command]) -> dict[str, Any]:
    """Run the flow once and return the shared digest (see shared/bench/README.md)."""
    engine = MatchingEngine(instruments)
    counts = execute_for_digest(engine, commands)
    resting = sum(
        level.count for book in engine.books.values() for side in (book.bids, book.asks) for level in side.levels
    )
    tops = [queries.top_of_book(engine, instrument.symbol) for instrument in instruments]
    top = tops[0] if len(tops) == 1 else None
    return {
        "commands": len(commands),
        "trades": counts["trades"],
        "volume": counts["volume"],
        "notional_ticks": counts["notional_ticks"],
        "cancels_accepted": counts["cancels_accepted"],
        "cancels_rejected": counts["cancels_rejected"],
        "resting_orders": resting,
        "best_bid": top.bid.price if top is not None and top.bid is not None else None,
        "best_ask": top.ask.price if top is not None and top.ask is not None else None,
        "trade_sha256": counts["trade_sha256"],
    }


def percentile(sorted_values: list[int], fraction: float) -> int:
    """Return the nearest-rank percentile of an ascending list."""
    index = min(len(sorted_values) - 1, max(0, int(fraction * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def run(rows: list[FlowRow], runs: int = 5) -> dict[str, Any]:
    """Verify the digest, then time ``runs`` throughput runs and one latency run."""
    commands = [to_command(row) for row in rows]
    instruments = flow_instruments(rows)
    result = digest(instruments, commands)
    # The commands live for the whole benchmark; move them out of the collector's sight,
    # as a long-running engine process does with its start-up state.
    gc.collect()
    gc.freeze()
    seconds = []
    for _ in range(runs):
        engine = MatchingEngine(instruments)
        start = time.perf_counter()
        events = execute_all(engine, commands)
        seconds.append(time.perf_counter() - start)
        del engine
        gc.collect()
    latencies = sorted(execute_each_timed(MatchingEngine(instruments), commands))
    gc.unfreeze()
    result.update(
        {
            "events": events,
            "runs": runs,
            "commands_per_second": round(len(commands) / statistics.median(seconds)),
            "p50_us": round(percentile(latencies, 0.50) / 1000, 3),
            "p99_us": round(percentile(latencies, 0.99) / 1000, 3),
            "p999_us": round(percentile(latencies, 0.999) / 1000, 3),
            "max_us": round(latencies[-1] / 1000, 3),
            # The whole benchmark process, pre-built commands included.
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
    )
    return result
