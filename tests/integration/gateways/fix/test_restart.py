"""A venue killed under a live FIX session: after the restart the client gets every report once, none twice."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.gateways.fix.conftest import PASSWORD, Venue, fix_env, open_accounts, write_sessions
from tests.integration.gateways.fix.counterparty import QuickFixClient, fields

from hft.testing.server import ServerProcess

ORDERS = 30


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    sessions = write_sessions(tmp_path / "sessions.toml", {"PHOENIX": (2, False)})
    process = ServerProcess(tmp_path / "data", env=fix_env(sessions))
    try:
        yield process.start()
    finally:
        process.kill()


@pytest.fixture
def venue(server: ServerProcess) -> Iterator[Venue]:
    opened = Venue(server, open_accounts(server))
    try:
        yield opened
    finally:
        opened.close()


# QuickFIX registers sessions process-wide: this SenderCompID must differ from those the package's clients use.
@pytest.fixture
def client(server: ServerProcess, tmp_path: Path) -> Iterator[QuickFixClient]:
    # No ResetSeqNumFlag: after the restart the session resumes where the stores left it.
    started = QuickFixClient(tmp_path / "quickfix", server.fix_port, "PHOENIX", PASSWORD, reset=False)
    try:
        yield started
    finally:
        started.stop()
        assert started.rejects_sent == []


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_a_venue_killed_mid_session_resumes_without_lost_or_duplicated_reports(
    server: ServerProcess, venue: Venue, client: QuickFixClient
) -> None:
    client.start()
    for number in range(ORDERS):
        client.send("D", (11, f"S{number}"), (55, "AAPL"), (54, "2"), (60, "20260101-00:00:00"), (38, "1"), (40, "2"),
                    (44, f"{100 + number / 100:.2f}"))  # fmt: skip
    wait_for(lambda: len(client.drain(0.05)) == 0 and sum("\x01150=0\x01" in t for t in client.received) == ORDERS,
             10, "the orders were not all accepted")  # fmt: skip

    halfway = threading.Event()

    def buy() -> None:  # the other side, over REST, until the venue dies under it
        for number in range(ORDERS):
            if number == ORDERS // 3:
                halfway.set()
            try:
                venue.order("bob", symbol="AAPL", side="BUY", quantity="1", price="200.00", time_in_force="IOC")
            except Exception:
                return

    buyer = threading.Thread(target=buy)
    buyer.start()
    assert halfway.wait(10)
    server.kill()
    buyer.join()
    server.start()
    filled = len(venue.rest("alice", "GET", "/api/executions?limit=1000")["executions"])
    assert ORDERS // 3 <= filled < ORDERS  # the kill came in the middle of the flow
    wait_for(lambda: client.recorder.logons >= 2, 15, "QuickFIX did not log on again")
    while venue.rest("alice", "GET", "/api/orders?open=true&symbol=AAPL")["orders"]:
        venue.order("bob", symbol="AAPL", side="BUY", quantity="1", price="200.00", time_in_force="IOC")
    executions = venue.rest("alice", "GET", "/api/executions?limit=1000")["executions"]
    assert len(executions) == ORDERS

    def fills() -> list[dict[int, str]]:
        return [fields(text) for text in client.received if "\x01150=F\x01" in text]

    wait_for(lambda: (client.drain(0.1), len(fills()) >= ORDERS)[1], 15, "fills are missing")
    client.drain(0.3)
    reports = [fields(text) for text in client.received if "\x0135=8\x01" in text]
    assert Counter(report[17] for report in reports).most_common(1)[0][1] == 1, "an ExecID came twice"
    assert sorted(int(fill[527]) for fill in fills()) == sorted(execution["execution_id"] for execution in executions)
    accepted = Counter(report[37] for report in reports if report[150] == "0")
    assert len(accepted) == ORDERS
    assert set(accepted.values()) == {1}
    assert all(fill[39] == "2" for fill in fills())


def test_reports_lost_between_the_journal_and_the_session_store_are_rebuilt_from_the_journal(
    server: ServerProcess, venue: Venue, client: QuickFixClient
) -> None:
    server.stop()
    # Die right after the next batch is durable: the order is journaled, its report never produced.
    server.env["HFT_CRASH_AT"] = "after_sync:1"
    server.start()
    client.start()
    client.send("D", (11, "LOST-REPORT"), (55, "MSFT"), (54, "1"), (60, "20260101-00:00:00"), (38, "5"), (40, "2"),
                (44, "10.00"))  # fmt: skip
    assert server.process is not None
    wait_for(lambda: server.process is not None and server.process.poll() is not None, 10, "the venue did not crash")
    assert not client.drain(0.2)
    del server.env["HFT_CRASH_AT"]
    server.start()
    wait_for(lambda: client.recorder.logons >= 2, 15, "QuickFIX did not log on again")
    report = client.expect(lambda message: message.get(11) == "LOST-REPORT")
    order = venue.rest("alice", "GET", "/api/orders/by-client-id/LOST-REPORT")
    assert (report[150], report[39], report[37], report[43]) == ("0", "0", str(order["order_id"]), "Y")
    assert report[17].endswith(f"-{order['order_id']}")
    assert not [text for text in client.drain(0.3) if "LOST-REPORT" in text]  # exactly once
