"""An open-loop HTTP load generator for the order API, free of coordinated omission.

Request ``i`` is scheduled at ``t0 + i / rate`` whatever happened before it,
and its latency runs from that scheduled instant to the last byte of its
response. A server that stalls therefore shows up as latency (every request
scheduled during the stall waits for it), not as fewer requests sent. Each
request goes to an idle keep-alive connection of a fixed pool; when none is
idle it waits in a FIFO, still on the clock.

Run it as its own process, so that it does not share a GIL with the server::

    python -m hft.bench.loadgen --url http://127.0.0.1:8000 --rate 2600 --seconds 10 --keys KEY1,KEY2

It prints one JSON object (see ``LoadGenerator.result``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import json
import math
import os
import random
import resource
import secrets
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, cast
from urllib.parse import urlsplit

# 2**SUB_BUCKET_BITS buckets per power of two: every recorded value is kept within 1/128 (< 0.8%).
SUB_BUCKET_BITS: Final = 7
SUB_BUCKETS: Final = 1 << SUB_BUCKET_BITS
EXACT_LIMIT: Final = SUB_BUCKETS << 1
BUCKETS: Final = (64 - SUB_BUCKET_BITS + 1) << SUB_BUCKET_BITS
PERCENTILES: Final = (("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("p99.9", 0.999))
# Mid prices (in cents) of the symbols the mix trades; tick 0.01, lot 1.
MID_PRICES: Final = {
    "AAPL": 19_000,
    "MSFT": 42_000,
    "GOOGL": 17_000,
    "AMZN": 18_000,
    "NVDA": 12_000,
    "TSLA": 25_000,
    "SPY": 55_000,
}
QUANTITIES: Final = (1, 2, 5, 10, 10, 20, 50)
TEMPLATES: Final = 1024
CLOCK_MONOTONIC: Final = 1  # the clock of time.monotonic_ns on Linux
TFD_TIMER_ABSTIME: Final = 1
PR_SET_TIMERSLACK: Final = 29
COUNTER_DIGITS: Final = 9
Request = tuple[int, int]  # (index, scheduled ns)


class LatencyHistogram:
    """Count non-negative integers in log-linear buckets (HdrHistogram-like, 2 significant digits).

    Values below 256 are exact; above, each power of two is split in 128
    buckets, so a reported percentile is at most 0.8% above the true value.
    Recording costs a few operations and no allocation.
    """

    def __init__(self) -> None:
        self.counts = [0] * BUCKETS
        self.count = 0
        self.total = 0
        self.max = 0

    def record(self, value: int) -> None:
        """Add one value (negative values count as zero)."""
        if value < EXACT_LIMIT:
            index = value if value > 0 else 0
        else:
            shift = value.bit_length() - SUB_BUCKET_BITS - 1
            index = (shift << SUB_BUCKET_BITS) + (value >> shift)
        self.counts[index] += 1
        self.count += 1
        self.total += value
        self.max = max(self.max, value)

    def percentile(self, quantile: float) -> int:
        """Return the highest value equivalent to the ``quantile`` (0..1) of what was recorded (0 when empty)."""
        if not self.count:
            return 0
        rank = max(1, math.ceil(quantile * self.count))
        seen = 0
        for index, bucket_count in enumerate(self.counts):
            seen += bucket_count
            if seen >= rank:
                return min(_bucket_upper(index), self.max)
        return self.max

    def summary(self) -> dict[str, float]:
        """Return p50, p90, p99, p99.9, max and mean."""
        figures: dict[str, float] = {name: self.percentile(quantile) for name, quantile in PERCENTILES}
        figures["max"] = self.max
        figures["mean"] = round(self.total / self.count, 1) if self.count else 0
        return figures


def _bucket_upper(index: int) -> int:
    if index < EXACT_LIMIT:
        return index
    shift = (index >> SUB_BUCKET_BITS) - 1
    top = index - (shift << SUB_BUCKET_BITS)
    return ((top + 1) << shift) - 1


@dataclass(frozen=True)
class LoadConfig:
    """What to offer, where, and for how long."""

    url: str
    rate: float
    seconds: float
    keys: Sequence[str]
    connections: int = 64
    seed: int = 1
    tag: str = field(default_factory=lambda: secrets.token_hex(4))
    drain_seconds: float = 2.0
    path: str = "/api/orders"

    @property
    def total(self) -> int:
        """Return how many requests the run schedules."""
        return max(1, round(self.rate * self.seconds))

    @property
    def address(self) -> tuple[str, int]:
        """Return the host and port of ``url``."""
        parts = urlsplit(self.url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"only http://host:port URLs are supported, not {self.url!r}")
        return parts.hostname, parts.port or 80


def order_templates(config: LoadConfig) -> list[tuple[bytes, bytes]]:
    """Pre-build requests as (head, tail) around a fixed-width client order id counter.

    The mix, on both sides of seven symbols: 55% passive GTC limits 1-5
    ticks behind a fixed mid, 45% IOC limits 0-5 ticks through it that take
    what rests there. The book stays shallow, so a long run neither piles up
    open orders nor runs the accounts out of buying power.
    """
    host, port = config.address
    rng = random.Random(config.seed)
    prefix = f'{{"client_order_id":"{config.tag}-'
    templates = []
    for _ in range(TEMPLATES):
        symbol = rng.choice(list(MID_PRICES))
        side = rng.choice(("BUY", "SELL"))
        passive = rng.random() < 0.55
        away = rng.randint(1, 5) if passive else -rng.randint(0, 5)
        ticks = MID_PRICES[symbol] - away if side == "BUY" else MID_PRICES[symbol] + away
        tif = "GTC" if passive else "IOC"
        tail = (
            f'","symbol":"{symbol}","side":"{side}","quantity":{rng.choice(QUANTITIES)},'
            f'"price":"{ticks // 100}.{ticks % 100:02d}","order_type":"LIMIT","time_in_force":"{tif}"}}'
        )
        length = len(prefix) + COUNTER_DIGITS + len(tail)
        head = (
            f"POST {config.path} HTTP/1.1\r\nHost: {host}:{port}\r\nX-API-Key: {rng.choice(config.keys)}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n{prefix}"
        )
        templates.append((head.encode(), tail.encode()))
    return templates


def parse_head(head: bytes) -> tuple[int, int, bool]:
    """Return status, Content-Length and whether the connection stays open; raise ValueError if malformed."""
    if not head.startswith(b"HTTP/1."):
        raise ValueError("not an HTTP/1.x response")
    status = int(head[9:12])
    lower = head.lower()
    start = lower.find(b"\r\ncontent-length:")
    if start < 0:
        raise ValueError("response without Content-Length")
    end = lower.index(b"\r\n", start + 17)
    keep_alive = b"\r\nconnection: close" not in lower and not head.startswith(b"HTTP/1.0")
    return status, int(lower[start + 17 : end]), keep_alive


class _Connection(asyncio.Protocol):
    """One keep-alive connection, one request at a time, parsed as bytes arrive (no stream layers)."""

    def __init__(self, generator: LoadGenerator) -> None:
        self.generator = generator
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.request: Request | None = None
        self.sent = 0
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass asyncio's

    def send(self, request: Request) -> None:
        """Write request ``request`` (index, scheduled ns); its answer comes to ``data_received``."""
        assert self.transport is not None
        index = request[0]
        head, tail = self.generator.templates[index % TEMPLATES]
        self.request = request
        self.sent = time.monotonic_ns()
        self.transport.write(b"%s%09d%s" % (head, index, tail))

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if self.request is None:
            self._drop("protocol", ValueError("bytes the server was not asked for"))
            return
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        try:
            status, length, keep_alive = parse_head(bytes(buffer[: end + 4]))
        except ValueError as error:
            self._drop("protocol", error)
            return
        if len(buffer) < end + 4 + length:
            return
        body = bytes(buffer[end + 4 : end + 4 + length])
        del buffer[: end + 4 + length]
        request, self.request = self.request, None
        self.generator._record(status, body, request[1], self.sent, time.monotonic_ns())
        if keep_alive:
            self.generator._idle(self)
        else:
            self._drop(None, None)

    def connection_lost(self, error: Exception | None) -> None:
        if self.request is not None:
            self.generator._fail("connection", error or ConnectionResetError("closed by the server"))
            self.request = None
        if not self.lost.done():
            self.lost.set_result(None)
        self.generator._replace(self)

    def _drop(self, kind: str | None, error: Exception | None) -> None:
        if kind is not None and self.request is not None:
            self.generator._fail(kind, error)
            self.request = None
        if self.transport is not None:
            self.transport.close()


class LoadGenerator:
    """One open-loop run: a scheduler, a FIFO of due requests and a pool of keep-alive connections."""

    def __init__(self, config: LoadConfig) -> None:
        self.config = config
        self.templates = order_templates(config)
        self.interval_ns = 1e9 / config.rate
        self.latency = LatencyHistogram()
        self.service = LatencyHistogram()
        self.schedule_lag = LatencyHistogram()
        self.statuses: dict[int, int] = {}
        self.errors: dict[str, int] = {}
        self.reject_reasons: dict[str, int] = {}
        self.error_samples: dict[str, str] = {}
        self.pending: deque[Request] = deque()
        self.idle: deque[_Connection] = deque()
        self.connections: set[_Connection] = set()
        self.connecting = 0
        self.completed = 0
        self.finished = 0
        self.started_ns = 0
        self.last_done_ns = 0
        self.all_done: asyncio.Future[None] | None = None
        self.closing = False

    async def run(self) -> dict[str, Any]:
        """Open the pool, offer every request on schedule, drain, and return the result."""
        self.all_done = asyncio.get_running_loop().create_future()
        for _ in range(self.config.connections):
            connection = await self._connect_quietly()
            if connection is not None:
                self.idle.append(connection)
        cpu_before = _cpu_seconds()
        self.started_ns = time.monotonic_ns() + 1_000_000
        sleeper = Sleeper()
        try:
            await self._schedule(sleeper)
        finally:
            sleeper.close()
        deadline = self.started_ns / 1e9 + self.config.seconds + self.config.drain_seconds
        if self.finished < self.config.total:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.all_done), max(0.0, deadline - time.monotonic()))
        wall = (time.monotonic_ns() - self.started_ns) / 1e9
        self.closing = True
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.close()
        return self.result(_cpu_seconds() - cpu_before, wall)

    async def _schedule(self, sleeper: Sleeper) -> None:
        clock = time.monotonic_ns
        started, interval, total = self.started_ns, self.interval_ns, self.config.total
        index = 0
        while index < total:
            now = clock()
            scheduled = started + int(index * interval)
            while scheduled <= now:
                self.schedule_lag.record((now - scheduled) // 1000)
                self._dispatch((index, scheduled))
                index += 1
                if index == total:
                    break
                scheduled = started + int(index * interval)
            else:
                await sleeper.until(scheduled)

    def _dispatch(self, request: Request) -> None:
        if self.idle:
            self.idle.popleft().send(request)
            return
        self.pending.append(request)
        if not self.connections and not self.connecting:
            self._reconnect()

    def _idle(self, connection: _Connection) -> None:
        if self.pending:
            connection.send(self.pending.popleft())
        else:
            self.idle.append(connection)

    def _replace(self, connection: _Connection) -> None:
        """A connection closed: forget it and open another in its place while requests still come."""
        self.connections.discard(connection)
        with contextlib.suppress(ValueError):
            self.idle.remove(connection)
        if self.finished < self.config.total and not self.closing:
            self._reconnect()

    def _reconnect(self) -> None:
        self.connecting += 1

        async def connect() -> None:
            connection = await self._connect_quietly()
            self.connecting -= 1
            if connection is not None:
                self._idle(connection)
            elif self.pending:
                self.pending.popleft()
                self._fail("connect")
                if self.pending:
                    self._reconnect()

        asyncio.get_running_loop().create_task(connect())

    async def _connect_quietly(self) -> _Connection | None:
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(lambda: _Connection(self), *self.config.address)
        except OSError as error:
            self.error_samples.setdefault("connect", repr(error))
            return None
        self.connections.add(connection)
        return connection

    def _record(self, status: int, body: bytes, scheduled: int, sent: int, done: int) -> None:
        self._finish_one()
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status != 201:
            self.errors[f"http_{status}"] = self.errors.get(f"http_{status}", 0) + 1
            return
        self.completed += 1
        self.last_done_ns = done
        self.latency.record((done - scheduled) // 1000)
        self.service.record((done - sent) // 1000)
        if b'"REJECTED"' in body:
            reason = _reject_reason(body)
            self.reject_reasons[reason] = self.reject_reasons.get(reason, 0) + 1

    def _finish_one(self) -> None:
        self.finished += 1
        if self.finished >= self.config.total and self.all_done is not None and not self.all_done.done():
            self.all_done.set_result(None)

    def _fail(self, kind: str, error: BaseException | None = None) -> None:
        self._finish_one()
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if error is not None:
            self.error_samples.setdefault(kind, repr(error))

    def result(self, cpu_seconds: float, wall_seconds: float) -> dict[str, Any]:
        """Return the run's figures; latencies in microseconds, from schedule (``latency_us``) and from send."""
        errors = dict(self.errors)
        unfinished = self.config.total - self.finished
        if unfinished:
            errors["timeout"] = unfinished
        elapsed = max(self.config.seconds, (self.last_done_ns - self.started_ns) / 1e9)
        return {
            "offered_rate": self.config.rate,
            "seconds": self.config.seconds,
            "connections": self.config.connections,
            "scheduled": self.config.total,
            "completed": self.completed,
            "elapsed_seconds": round(elapsed, 3),
            "achieved_rate": round(self.completed / elapsed, 1),
            "errors": errors,
            "error_count": sum(errors.values()),
            "error_samples": self.error_samples,
            "statuses": {str(status): count for status, count in sorted(self.statuses.items())},
            "rejected": sum(self.reject_reasons.values()),
            "reject_reasons": self.reject_reasons,
            "latency_us": self.latency.summary(),
            "service_time_us": self.service.summary(),
            "schedule_lag_us": self.schedule_lag.summary(),
            "generator_cpu_percent": round(100 * cpu_seconds / max(wall_seconds, 1e-9), 1),
            "event_loop": _loop_name(),
        }


class _Timespec(ctypes.Structure):
    _fields_ = (("seconds", ctypes.c_long), ("nanoseconds", ctypes.c_long))


class _Itimerspec(ctypes.Structure):
    _fields_ = (("interval", _Timespec), ("value", _Timespec))


class Sleeper:
    """Sleep until an absolute ``time.monotonic_ns`` instant, to ~0.1 ms, without spinning.

    Event loops time out in whole milliseconds (uvloop rounds a shorter
    sleep to zero and spins). On Linux a one-shot ``timerfd`` watched by the
    loop wakes it at the instant itself; elsewhere the sleep is rounded up to
    a millisecond. Costs one system call to arm and one read per wake.
    """

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._waiter: asyncio.Future[None] | None = None
        self._fd = -1
        libc = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None
        if libc is not None and hasattr(libc, "timerfd_create"):
            libc.prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0)  # wake on time, not up to 50 us late
            self._settime = libc.timerfd_settime
            self._fd = libc.timerfd_create(CLOCK_MONOTONIC, os.O_NONBLOCK | os.O_CLOEXEC)
        if self._fd >= 0:
            self._loop.add_reader(self._fd, self._woken)

    async def until(self, when_ns: int) -> None:
        """Return at ``when_ns`` or soon after (immediately if it has passed)."""
        delay = when_ns - time.monotonic_ns()
        if delay <= 0:
            return
        if self._fd < 0:
            await asyncio.sleep(max(delay / 1e9, 0.001))
            return
        spec = _Itimerspec(_Timespec(0, 0), _Timespec(when_ns // 1_000_000_000, when_ns % 1_000_000_000))
        if self._settime(self._fd, TFD_TIMER_ABSTIME, ctypes.byref(spec), None) != 0:
            await asyncio.sleep(max(delay / 1e9, 0.001))
            return
        self._waiter = self._loop.create_future()
        await self._waiter

    def _woken(self) -> None:
        try:
            os.read(self._fd, 8)
        except BlockingIOError:
            return
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def close(self) -> None:
        """Release the timer."""
        if self._fd >= 0:
            self._loop.remove_reader(self._fd)
            os.close(self._fd)
            self._fd = -1


def _reject_reason(body: bytes) -> str:
    start = body.find(b'"reject_reason":')
    if start < 0:
        return "unknown"
    value = body[start + 16 :].lstrip(b' "')
    return value[: value.find(b'"')].decode(errors="replace") or "unknown"


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop  # noqa: PLC0415  # optional: the fastest loop when installed
    except ImportError:
        return None
    return uvloop.new_event_loop


def _loop_name() -> str:
    return type(asyncio.get_running_loop()).__module__.split(".")[0]


def run(config: LoadConfig) -> dict[str, Any]:
    """Run one load test to completion (about ``seconds`` plus at most ``drain_seconds``) and return its figures.

    Uses uvloop when it is installed. Blocks the calling thread.
    """
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(LoadGenerator(config).run())


def parse_arguments(argv: Sequence[str]) -> LoadConfig:
    """Read the command line into a ``LoadConfig``."""
    parser = argparse.ArgumentParser(prog="python -m hft.bench.loadgen", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="Base URL of the server, e.g. http://127.0.0.1:8000.")
    parser.add_argument("--rate", type=float, required=True, help="Requests offered per second.")
    parser.add_argument("--seconds", type=float, required=True, help="How long to offer them.")
    parser.add_argument("--keys", required=True, help="Comma-separated API keys; requests spread over them.")
    parser.add_argument("--connections", type=int, default=64, help="Keep-alive connections in the pool.")
    parser.add_argument("--seed", type=int, default=1, help="Seed of the order mix.")
    parser.add_argument("--tag", default=None, help="Client order id prefix; unique per run against one server.")
    parser.add_argument("--drain-seconds", type=float, default=2.0, help="Wait this long for stragglers.")
    parser.add_argument("--path", default="/api/orders", help="Path the orders are posted to.")
    arguments = parser.parse_args(argv)
    keys = [key for key in arguments.keys.split(",") if key]
    if arguments.rate <= 0 or arguments.seconds <= 0 or arguments.connections < 1 or not keys:
        parser.error("--rate and --seconds must be positive, --connections at least 1, --keys not empty")
    return LoadConfig(
        url=arguments.url,
        rate=arguments.rate,
        seconds=arguments.seconds,
        keys=keys,
        connections=arguments.connections,
        seed=arguments.seed,
        tag=arguments.tag or secrets.token_hex(4),
        drain_seconds=arguments.drain_seconds,
        path=arguments.path,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the generator from the command line and print its figures as one JSON object."""
    config = parse_arguments(sys.argv[1:] if argv is None else argv)
    print(json.dumps(run(config)))


if __name__ == "__main__":
    main()
