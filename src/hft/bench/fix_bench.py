"""``hft bench fix``: NewOrderSingle -> ExecutionReport over FIX 4.4, against ``hft serve`` in another process.

The server runs as a user runs it (fsync on, SQLite projection on, the FIX
acceptor enabled) with two sessions for two accounts; this process logs both
on over loopback and sends limit orders for AAPL at one price, buys on one
session and sells on the other, so half of them trade. An order's latency
runs from the moment it was due to the first ExecutionReport naming its
ClOrdID (New, or Trade when it filled at once).

- throughput: a closed loop keeping ``window`` orders unanswered, flat out;
- latency: an open loop at ``rate`` orders a second, whose order *i* is due
  at ``t0 + i/rate`` (a stalled server shows up as latency, not as fewer orders).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from hft.bench.api_bench import ServerProcess, create_accounts
from hft.bench.core_bench import remove, temporary_data_dir
from hft.bench.loadgen import LatencyHistogram
from hft.gateways.fix.codec import Framer, UtcTimestamps, encode, field
from hft.testing.server import free_port

PASSWORD: Final = "bench"
SESSIONS: Final = (b"BENCHBUY", b"BENCHSELL")
TARGET: Final = b"HFT"
LOGON_TIMEOUT_SECONDS: Final = 10.0


@dataclass(frozen=True)
class FixBenchSettings:
    """How long each phase runs, the open-loop rate, the closed-loop window, where the server's files go."""

    seconds: int = 10
    rate: int = 5_000
    window: int = 512
    data_dir: Path | None = None


def run(settings: FixBenchSettings) -> dict[str, Any]:
    """Serve the venue with FIX on, measure throughput then latency; return both."""
    directory = temporary_data_dir(settings.data_dir)
    try:
        sessions = directory / "fix-sessions.toml"
        # The server opens the demo account (1) first; the bench's accounts are 2 and 3.
        sessions.write_text(
            "".join(
                f'[sessions.{name.decode()}]\naccount = {account}\npassword = "{PASSWORD}"\n'
                for account, name in enumerate(SESSIONS, start=2)
            )
        )
        port = free_port()
        environment = {"HFT_FIX_ENABLED": "true", "HFT_FIX_PORT": str(port), "HFT_FIX_SESSIONS_FILE": str(sessions)}
        with ServerProcess(directory, environment) as server:
            create_accounts(server, len(SESSIONS))
            throughput = asyncio.run(_measure(port, settings, closed_loop=True))
            latency = asyncio.run(_measure(port, settings, closed_loop=False))
        return {"throughput": throughput, "latency": latency}
    finally:
        remove(directory)


class FixClient(asyncio.Protocol):
    """One logged-on session: sends NewOrderSingles, notes when each ClOrdID is first answered."""

    def __init__(self, sender: bytes, due: dict[bytes, int], answered: dict[bytes, int], rejected: list[bytes]) -> None:
        self.sender = sender
        self.due = due  # this phase's orders: reports about earlier phases' resting orders do not count
        self.answered = answered
        self.rejected = rejected
        self.sequence = 1
        self.framer = Framer()
        self.clock = UtcTimestamps()
        self.logged_on = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        # ResetSeqNumFlag: each phase starts a fresh sequence (the acceptor keeps them across connections).
        body = field(98, 0) + field(108, 30) + field(141, b"Y") + field(553, self.sender) + field(554, PASSWORD)
        self._send(b"A", body)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter_ns()
        for message in self.framer.feed(data):
            kind = _value(message, b"\x0135=")
            if kind == b"8":
                client_order_id = _value(message, b"\x0111=")
                if client_order_id in self.due and client_order_id not in self.answered:
                    self.answered[client_order_id] = now
            elif kind == b"A" and not self.logged_on.done():
                self.logged_on.set_result(None)
            elif kind == b"1":  # TestRequest: answer, or the server ends the session
                self._send(b"0", field(112, _value(message, b"\x01112=") or b""))
            elif kind in (b"3", b"j", b"5"):
                self.rejected.append(message)

    def connection_lost(self, error: Exception | None) -> None:
        if not self.logged_on.done():
            self.logged_on.set_exception(ConnectionError(f"{self.sender.decode()}: the server closed the session"))

    def order(self, client_order_id: bytes, buy: bool) -> None:
        """Send one limit order for 1 AAPL at 100.00 (a buy or a sell)."""
        body = (
            field(11, client_order_id) + field(55, b"AAPL") + field(54, b"1" if buy else b"2")
            + field(60, self.clock.format(time.time_ns())) + field(38, b"1") + field(40, b"2")
            + field(44, b"100.00") + field(59, b"1")
        )  # fmt: skip
        self._send(b"D", body)

    def _send(self, kind: bytes, body: bytes) -> None:
        assert self.transport is not None
        stamp = self.clock.format(time.time_ns())
        self.transport.write(encode(kind, self.sequence, self.sender, TARGET, stamp, body))
        self.sequence += 1


async def _measure(port: int, settings: FixBenchSettings, closed_loop: bool) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    answered: dict[bytes, int] = {}
    rejected: list[bytes] = []
    due: dict[bytes, int] = {}
    clients: list[FixClient] = []
    for name in SESSIONS:
        client = FixClient(name, due, answered, rejected)
        await loop.create_connection(lambda client=client: client, "127.0.0.1", port)  # type: ignore[misc]
        await asyncio.wait_for(client.logged_on, LOGON_TIMEOUT_SECONDS)
        clients.append(client)
    prefix = b"T" if closed_loop else b"L"
    started = time.perf_counter_ns()
    if closed_loop:
        await _closed_loop(clients, due, answered, prefix, settings)
    else:
        await _open_loop(clients, due, prefix, settings)
    sent = len(due)
    deadline = time.monotonic() + 10
    while len(answered) < sent and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    elapsed = (time.perf_counter_ns() - started) / 1e9
    for client in clients:
        assert client.transport is not None
        client.transport.close()
    histogram = LatencyHistogram()
    for key, due_ns in due.items():
        if key in answered:
            histogram.record((answered[key] - due_ns) // 1000)
    result: dict[str, Any] = {
        "orders": sent,
        "answered": histogram.count,
        "rejects": len(rejected),
        "latency_us": histogram.summary(),
    }
    if closed_loop:
        result["window"] = settings.window
        result["orders_per_second"] = round(histogram.count / elapsed)
    else:
        result["offered_per_second"] = settings.rate
    return result


async def _closed_loop(
    clients: list[FixClient],
    due: dict[bytes, int],
    answered: dict[bytes, int],
    prefix: bytes,
    settings: FixBenchSettings,
) -> None:
    end = time.monotonic() + settings.seconds
    number = 0
    while time.monotonic() < end:
        while number - len(answered) < settings.window:
            _send(clients, due, prefix, number)
            number += 1
        await asyncio.sleep(0)


async def _open_loop(
    clients: list[FixClient], due: dict[bytes, int], prefix: bytes, settings: FixBenchSettings
) -> None:
    total = settings.rate * settings.seconds
    started = time.perf_counter_ns()
    step_ns = 1_000_000_000 / settings.rate
    number = 0
    while number < total:
        elapsed = time.perf_counter_ns() - started
        while number < total and number * step_ns <= elapsed:
            _send(clients, due, prefix, number, started + int(number * step_ns))
            number += 1
        await asyncio.sleep(0.0005)


def _send(clients: list[FixClient], due: dict[bytes, int], prefix: bytes, number: int, due_ns: int = 0) -> None:
    client_order_id = b"%b%d" % (prefix, number)
    due[client_order_id] = due_ns or time.perf_counter_ns()
    buy = number % 2 == 0
    clients[0 if buy else 1].order(client_order_id, buy)


def _value(message: bytes, needle: bytes) -> bytes | None:
    start = message.find(needle)
    if start < 0:
        return None
    start += len(needle)
    return message[start : message.index(b"\x01", start)]
