"""SIGKILL in the middle of a stream of orders: every acknowledged order survives, and the database catches up.

A client thread submits (and sometimes cancels) orders as fast as the server
answers and remembers every acknowledgement. The test kills the server with
SIGKILL at a random moment, starts it again on the same data directory, and
checks what was acknowledged against what the restarted venue reports.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from tests.integration.service.lifecycle.api import Json, all_executions, all_orders, client, eventually

from hft.testing.server import ServerProcess

CASH = "1000000"
OPEN = frozenset({"NEW", "PARTIALLY_FILLED"})
# What an acknowledged status may have become by the time the order is read again.
LATER = {
    "NEW": {"NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "EXPIRED"},
    "PARTIALLY_FILLED": {"PARTIALLY_FILLED", "FILLED", "CANCELED", "EXPIRED"},
}
SYMBOLS = ("AAPL", "MSFT")


class OrderFlow(threading.Thread):
    """Submits and cancels orders for two accounts until told to stop or the server dies.

    ``acknowledged`` maps each order id to (account, the last answer the server gave for it):
    a 201 for the submission, or a 200 for a cancel that came later.
    """

    def __init__(self, server: ServerProcess, keys: dict[int, str], seed: int) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.keys = keys
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.acknowledged: dict[int, tuple[int, Json]] = {}
        self.working: list[tuple[int, int]] = []
        self.errors: list[str] = []

    def run(self) -> None:
        clients = {account: client(self.server, key) for account, key in self.keys.items()}
        try:
            while not self.stop.is_set():
                self._step(clients)
        except httpx.TransportError:
            pass  # the server was killed
        finally:
            for http in clients.values():
                http.close()

    def _step(self, clients: dict[int, httpx.Client]) -> None:
        rng = self.rng
        if self.working and rng.random() < 0.15:
            account, order_id = self.working.pop(rng.randrange(len(self.working)))
            response = clients[account].delete(f"/api/orders/{order_id}")
            if response.status_code == 200:
                self.acknowledged[order_id] = (account, response.json())
            elif response.status_code != 409:  # 409: it filled in the meantime
                self.errors.append(f"cancel {order_id}: {response.status_code} {response.text}")
            return
        account = rng.choice(list(clients))
        body = {
            "symbol": rng.choice(SYMBOLS),
            "side": rng.choice(("BUY", "SELL")),
            "quantity": str(rng.randint(1, 10)),
            "price": f"{Decimal(10_000 + rng.randint(-4, 4)) / 100:.2f}",
        }
        if rng.random() < 0.1:
            body["time_in_force"] = "IOC"
        response = clients[account].post("/api/orders", json=body)
        if response.status_code != 201:
            self.errors.append(f"submit {body}: {response.status_code} {response.text}")
            return
        answer = response.json()
        self.acknowledged[answer["order_id"]] = (account, answer)
        if answer["status"] in OPEN:
            self.working.append((account, answer["order_id"]))


def _open_accounts(server: ServerProcess) -> dict[int, str]:
    created = [server.create_account(name, CASH) for name in ("buyer", "seller")]
    return {account["account_id"]: account["api_key"] for account in created}


def _run_until_killed(server: ServerProcess, keys: dict[int, str], rng: random.Random) -> dict[int, tuple[int, Json]]:
    flow = OrderFlow(server, keys, rng.randrange(2**32))
    flow.start()
    time.sleep(rng.uniform(0.3, 1.2))
    server.kill()
    flow.stop.set()
    flow.join(30)
    assert not flow.is_alive()
    assert flow.errors == []
    assert flow.acknowledged, "the flow got no order acknowledged before the kill"
    return flow.acknowledged


def _check_acknowledged(server: ServerProcess, keys: dict[int, str], acknowledged: dict[int, tuple[int, Json]]) -> None:
    listed: dict[int, Json] = {}
    for key in keys.values():
        with client(server, key) as http:
            listed.update((order["order_id"], order) for order in all_orders(http))
    for order_id, (_, answered) in acknowledged.items():
        now = listed.get(order_id)
        assert now is not None, f"acknowledged order {order_id} is gone"
        if answered["status"] in OPEN:
            fixed = ("symbol", "side", "price", "quantity", "order_type", "time_in_force", "created_at")
            assert {key: now[key] for key in fixed} == {key: answered[key] for key in fixed}
            assert now["status"] in LATER[answered["status"]], (answered, now)
            assert Decimal(now["filled_quantity"]) >= Decimal(answered["filled_quantity"]), (answered, now)
        else:
            assert now == answered, "a finished order changed across the restart"
    # The list and the single-order route read the same history; spot-check the latter on the newest orders.
    for order_id, (account, _) in sorted(acknowledged.items())[-20:]:
        with client(server, keys[account]) as http:
            response = http.get(f"/api/orders/{order_id}")
        assert response.status_code == 200, response.text
        assert response.json() == listed[order_id]


def _check_books_balance(server: ServerProcess, keys: dict[int, str]) -> None:
    """Every account's fills add up to its orders' filled quantities, its positions and the cash it moved."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    cash = Decimal(0)
    for key in keys.values():
        with client(server, key) as http:
            orders = all_orders(http)
            executions = all_executions(http)
            positions = http.get("/api/positions").json()
            account = http.get("/api/account").json()
        ids = [execution["execution_id"] for execution in executions]
        assert len(ids) == len(set(ids)), "an execution is listed twice"
        filled: dict[int, Decimal] = defaultdict(Decimal)
        net: dict[str, Decimal] = defaultdict(Decimal)
        for execution in executions:
            quantity = Decimal(execution["quantity"])
            filled[execution["order_id"]] += quantity
            net[execution["symbol"]] += quantity if execution["side"] == "BUY" else -quantity
        for order in orders:
            assert Decimal(order["filled_quantity"]) == filled[order["order_id"]], order
        assert {p["symbol"]: Decimal(p["quantity"]) for p in positions} == {
            symbol: net.get(symbol, Decimal(0)) for symbol in (p["symbol"] for p in positions)
        }
        for symbol, quantity in net.items():
            totals[symbol] += quantity
        cash += Decimal(account["cash"])
    assert all(quantity == 0 for quantity in totals.values()), f"the two accounts' positions do not net out: {totals}"
    assert cash == Decimal(CASH) * len(keys), "cash appeared or vanished (no fees are charged)"


def test_sigkill_mid_stream_loses_no_acknowledged_order(tmp_path: Path) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    server = ServerProcess(tmp_path / "data").start()
    try:
        keys = _open_accounts(server)
        acknowledged: dict[int, tuple[int, Json]] = {}
        for cycle in range(5):
            acknowledged.update(_run_until_killed(server, keys, rng))
            server.start()
            try:
                _check_acknowledged(server, keys, acknowledged)
                _check_books_balance(server, keys)
            except AssertionError as error:
                raise AssertionError(f"cycle {cycle}, seed {seed}: {error}") from error
    finally:
        server.kill()


def _database_counts(path: Path) -> dict[str, Any]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as database:
        counts: dict[str, Any] = {}
        for table, key in (("orders", "order_id"), ("executions", "execution_id")):
            rows, distinct = database.execute(f"SELECT count(*), count(DISTINCT {key}) FROM {table}").fetchone()
            counts[table] = rows
            counts[f"{table} distinct"] = distinct
        counts["statuses"] = dict(database.execute("SELECT order_id, status FROM orders").fetchall())
    return counts


def _api_counts(server: ServerProcess, keys: dict[int, str]) -> dict[str, Any]:
    counts: dict[str, Any] = {"orders": 0, "executions": 0, "statuses": {}}
    for key in keys.values():
        with client(server, key) as http:
            orders = all_orders(http)
            counts["orders"] += len(orders)
            counts["executions"] += len(all_executions(http))
        counts["statuses"].update({order["order_id"]: order["status"] for order in orders})
    counts["orders distinct"] = counts["orders"]
    counts["executions distinct"] = counts["executions"]
    return counts


def test_database_catches_up_with_the_journal_after_sigkill(tmp_path: Path) -> None:
    rng = random.Random()
    server = ServerProcess(tmp_path / "data").start()
    try:
        keys = _open_accounts(server)
        _run_until_killed(server, keys, rng)
        server.start()
        expected = _api_counts(server, keys)
        assert expected["orders"] > 0
        eventually(
            lambda: _database_counts(server.data_dir / "hft.sqlite3"),
            lambda counts: counts == expected,
            timeout=10,
            what="the SQLite tables catching up with the journal",
        )
    finally:
        server.kill()
