"""The shared benchmark flow: the engine's digest against an independent minimal matcher.

The flow generator lives in the project's ``shared/`` folder, beside the
repository clone (``<repo>/../shared/bench/orderflow.py``); its README defines
the digest every engine must reproduce. This module feeds the flow through the
engine (``hft.bench.engine_bench.digest``) and through ``FlowMatcher``, a
matcher written here from the README alone, and checks that both agree and
that the result is still the pinned one. It also checks that the project's
own copy of the generator (``hft.bench.orderflow``) yields the same rows.
"""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
import sys
from bisect import bisect_left, insort
from collections import deque
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from hft.bench.engine_bench import digest
from hft.bench.orderflow import FlowRow, flow_instruments, generate, read_csv, to_command

REPOSITORY = Path(__file__).resolve().parents[2]
SHARED_GENERATOR = REPOSITORY.parent / "shared" / "bench" / "orderflow.py"

FLOW_COMMANDS = 100_000
FLOW_SEED = 7

# The digest of the first 100,000 commands of seed 7, as the engine and FlowMatcher both computed it.
PINNED_DIGEST: dict[str, Any] = {
    "commands": 100_000,
    "trades": 45_233,
    "volume": 2_248_817,
    "notional_ticks": 22_315_114_114,
    "cancels_accepted": 11_883,
    "cancels_rejected": 22_011,
    "resting_orders": 6_101,
    "best_bid": 9_867,
    "best_ask": 9_869,
    "trade_sha256": "71760cf27f766faee9bbd1f71c09118025b384cd1cef37678f90b6c9f7c95069",
}


def load_shared_generator() -> ModuleType:
    """Import ``shared/bench/orderflow.py`` from its path, or fail saying where it was expected."""
    if not SHARED_GENERATOR.is_file():
        pytest.fail(
            f"the shared flow generator is missing: expected {SHARED_GENERATOR} "
            f"(the project's shared/ folder must sit beside the repository clone {REPOSITORY})",
            pytrace=False,
        )
    spec = importlib.util.spec_from_file_location("shared_bench_orderflow", SHARED_GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def shared_generator() -> ModuleType:
    return load_shared_generator()


@pytest.fixture(scope="module")
def shared_rows(shared_generator: ModuleType) -> list[FlowRow]:
    return [FlowRow(*command) for command in shared_generator.commands(FLOW_COMMANDS, seed=FLOW_SEED)]


@pytest.fixture(scope="module")
def engine_digest(shared_rows: list[FlowRow]) -> dict[str, Any]:
    return digest(flow_instruments(shared_rows), [to_command(row) for row in shared_rows])


class FlowMatcher:
    """A minimal price-time matcher for the shared flow only: LIMIT and MARKET, GTC/IOC/FOK, cancels.

    Each side maps a price to a FIFO of order ids and keeps its prices in an
    ascending list. Cancelled ids stay in their FIFO and are skipped when they
    reach its head; ``live`` says which ids still rest and what they have left.
    """

    def __init__(self) -> None:
        self.queues: dict[str, dict[int, deque[int]]] = {"BUY": {}, "SELL": {}}
        self.prices: dict[str, list[int]] = {"BUY": [], "SELL": []}
        self.level_quantity: dict[str, dict[int, int]] = {"BUY": {}, "SELL": {}}
        self.level_orders: dict[str, dict[int, int]] = {"BUY": {}, "SELL": {}}
        self.live: dict[int, tuple[int, str, int]] = {}  # order id -> (account, side, price)
        self.leaves: dict[int, int] = {}
        self.commands = self.trades = self.volume = self.notional = 0
        self.cancels_accepted = self.cancels_rejected = 0
        self.trade_hash = hashlib.sha256()

    def run(self, rows: list[FlowRow]) -> dict[str, Any]:
        """Process every row and return the digest as shared/bench/README.md defines it."""
        for row in rows:
            self.commands += 1
            if row.op == "C":
                self.cancel(row.order_id, row.account)
            else:
                self.submit(row)
        bids, asks = self.prices["BUY"], self.prices["SELL"]
        return {
            "commands": self.commands,
            "trades": self.trades,
            "volume": self.volume,
            "notional_ticks": self.notional,
            "cancels_accepted": self.cancels_accepted,
            "cancels_rejected": self.cancels_rejected,
            "resting_orders": len(self.live),
            "best_bid": bids[-1] if bids else None,
            "best_ask": asks[0] if asks else None,
            "trade_sha256": self.trade_hash.hexdigest(),
        }

    def submit(self, row: FlowRow) -> None:
        contra = "SELL" if row.side == "BUY" else "BUY"
        limit = None if row.type == "MARKET" else row.price
        quantity = row.qty
        if row.tif == "FOK" and self.available(contra, limit, quantity) < quantity:
            return
        while quantity > 0:
            price = self.best_crossing(contra, limit)
            if price is None:
                break
            queue = self.queues[contra][price]
            while queue[0] not in self.live:
                queue.popleft()
            maker = queue[0]
            fill = min(quantity, self.leaves[maker])
            quantity -= fill
            self.leaves[maker] -= fill
            self.level_quantity[contra][price] -= fill
            self.trades += 1
            self.volume += fill
            self.notional += fill * price
            self.trade_hash.update(f"{row.order_id},{maker},{price},{fill}\n".encode())
            if self.leaves[maker] == 0:
                queue.popleft()
                self.remove(maker)
        if quantity > 0 and row.tif == "GTC" and limit is not None:
            self.rest(row.order_id, row.account, row.side, limit, quantity)

    def cancel(self, order_id: int, account: int) -> None:
        if order_id in self.live and self.live[order_id][0] == account:
            self.cancels_accepted += 1
            self.remove(order_id)
        else:
            self.cancels_rejected += 1

    def best_crossing(self, contra: str, limit: int | None) -> int | None:
        """Return the best contra price the taker accepts, or None."""
        prices = self.prices[contra]
        if not prices:
            return None
        best = prices[0] if contra == "SELL" else prices[-1]
        if limit is None or (best <= limit if contra == "SELL" else best >= limit):
            return best
        return None

    def available(self, contra: str, limit: int | None, wanted: int) -> int:
        """Return how much rests at crossing prices, counting only until ``wanted`` is reached."""
        prices = self.prices[contra] if contra == "SELL" else self.prices[contra][::-1]
        total = 0
        for price in prices:
            if total >= wanted or (limit is not None and (price > limit if contra == "SELL" else price < limit)):
                break
            total += self.level_quantity[contra][price]
        return total

    def rest(self, order_id: int, account: int, side: str, price: int, quantity: int) -> None:
        if price not in self.queues[side]:
            self.queues[side][price] = deque()
            self.level_quantity[side][price] = 0
            self.level_orders[side][price] = 0
            insort(self.prices[side], price)
        self.queues[side][price].append(order_id)
        self.level_quantity[side][price] += quantity
        self.level_orders[side][price] += 1
        self.live[order_id] = (account, side, price)
        self.leaves[order_id] = quantity

    def remove(self, order_id: int) -> None:
        """Forget a resting order (filled or cancelled); drop its level when it was the last one there."""
        _, side, price = self.live.pop(order_id)
        self.level_quantity[side][price] -= self.leaves.pop(order_id)
        self.level_orders[side][price] -= 1
        if self.level_orders[side][price] == 0:
            del self.queues[side][price], self.level_quantity[side][price], self.level_orders[side][price]
            prices = self.prices[side]
            del prices[bisect_left(prices, price)]


def test_engine_digest_equals_independent_matchers_on_the_shared_flow(
    shared_rows: list[FlowRow], engine_digest: dict[str, Any]
) -> None:
    assert len(shared_rows) == FLOW_COMMANDS
    assert engine_digest == FlowMatcher().run(shared_rows)


def test_engine_digest_of_the_shared_flow_is_the_pinned_one(engine_digest: dict[str, Any]) -> None:
    assert engine_digest == PINNED_DIGEST


@pytest.mark.parametrize("seed", [7, 11])
def test_project_generator_yields_the_shared_generators_rows(shared_generator: ModuleType, seed: int) -> None:
    ours = [tuple(row) for row in generate(50_000, seed)]
    shared = [tuple(command) for command in shared_generator.commands(50_000, seed=seed)]
    assert ours == shared


def test_reading_the_shared_generators_csv_gives_the_generated_rows(tmp_path: Path) -> None:
    load_shared_generator()  # fails clearly when shared/ is missing
    path = tmp_path / "flow.csv"
    with path.open("w") as output:
        subprocess.run(
            [sys.executable, str(SHARED_GENERATOR), "--orders", "50000", "--seed", "7"],
            stdout=output,
            check=True,
            timeout=120,
        )
    assert list(read_csv(path)) == list(generate(50_000, 7))
