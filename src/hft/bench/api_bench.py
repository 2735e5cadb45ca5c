"""The order API benchmark: ``hft serve`` as deployed (fsync on), driven open-loop over HTTP.

The server runs in its own process on a fresh data directory; the load
generator (``hft.bench.loadgen``) runs in another, so neither shares a GIL
with the other. After a warm-up, one run measures latency at a fixed offered
rate; then the offered rate climbs a ladder and is bisected between the last
sustained and the first failed step. A step is *sustained* when it has no
errors at all (every order answered 201, none lost or timed out), at least
97% of the offered rate was achieved, and the p99 latency from the scheduled
send time stayed at or under 100 ms.
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final

SERVER: Final = "granian+litestar"
ACCOUNTS: Final = 8
ACCOUNT_CASH: Final = "1000000000"  # one billion: no bench order ever runs out of buying power
WARM_UP_SECONDS: Final = 3.0
STEP_SECONDS: Final = 4.0
PAUSE_SECONDS: Final = 1.0
LADDER_STEP: Final = 2000
RESOLUTION: Final = 250
MIN_ACHIEVED_RATIO: Final = 0.97
MAX_P99_US: Final = 100_000
CRITERION: Final = (
    f"zero errors, achieved >= {MIN_ACHIEVED_RATIO} x offered, p99 from scheduled send <= {MAX_P99_US // 1000} ms, "
    f"{STEP_SECONDS:g} s per step"
)
START_TIMEOUT_SECONDS: Final = 60.0
STOP_TIMEOUT_SECONDS: Final = 30.0


@dataclass(frozen=True)
class ApiBenchSettings:
    """What the benchmark offers and where it keeps the server's files."""

    seconds: float = 10.0
    rate: float = 2600.0
    max_rate: int = 30_000
    connections: int = 64
    data_dir: Path | None = None


class ServerProcess:
    """``python -m hft serve`` on a free local port with an admin token and fsync on; a context manager.

    Entering starts it and waits for ``/health``; leaving sends SIGTERM and
    waits for it to exit (killing it after 30 s). Its output goes to
    ``server.log`` beside its data directory.
    """

    def __init__(self, directory: Path, environment: dict[str, str] | None = None) -> None:
        self.directory = directory
        self.environment = environment or {}
        self.token = secrets.token_urlsafe(24)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = directory / "server.log"
        self.exit_code: int | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ServerProcess:
        environment = {name: value for name, value in os.environ.items() if not name.startswith("HFT_")}
        environment.update(HFT_ADMIN_TOKEN=self.token, HFT_FSYNC="true", HFT_GRPC_ENABLED="false", **self.environment)
        command = [sys.executable, "-m", "hft", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log.open("wb") as log:
            self._process = subprocess.Popen(
                [*command, "--data-dir", str(self.directory / "data")],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=environment,
            )
        try:
            self._wait_until_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _wait_until_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"hft serve exited with {self._process.returncode}:\n{self.log_tail()}")
            if health(self.url):
                return
            time.sleep(0.1)
        raise RuntimeError(f"hft serve did not answer /health within {START_TIMEOUT_SECONDS:g} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Send SIGTERM, wait for the exit (kill after 30 s) and keep the exit code."""
        if self._process is None or self.exit_code is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self.exit_code = self._process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self.exit_code = self._process.wait()

    def log_tail(self, lines: int = 30) -> str:
        """Return the last lines the server printed."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def free_port() -> int:
    """Return a local TCP port that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def health(url: str) -> bool:
    """Say whether ``GET /health`` answers 200 within a second."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


def journal_fsync(url: str) -> bool | None:
    """Return whether the server's journal fsyncs, as ``/health`` reports it (None if it does not say)."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
            fsync = json.load(response)["components"]["journal"]["fsync"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return fsync if isinstance(fsync, bool) else None


def create_accounts(server: ServerProcess, count: int) -> list[str]:
    """Create ``count`` accounts with ample cash through the admin API; return their API keys."""
    keys = []
    for number in range(1, count + 1):
        body = json.dumps({"name": f"bench-{number}", "cash": ACCOUNT_CASH}).encode()
        request = urllib.request.Request(
            f"{server.url}/api/admin/accounts",
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {server.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                keys.append(str(json.load(response)["api_key"]))
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"creating account bench-{number}: HTTP {error.code} {error.read()[:500]!r}") from error
    return keys


def offer(url: str, keys: list[str], rate: float, seconds: float, connections: int, tag: str) -> dict[str, Any]:
    """Run the load generator in its own process for ``seconds`` (plus start-up and drain); return its figures."""
    command = [sys.executable, "-m", "hft.bench.loadgen", "--url", url, "--rate", f"{rate:g}", "--seconds"]
    command += [f"{seconds:g}", "--keys", ",".join(keys), "--connections", str(connections), "--tag", tag]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, check=False)
    if finished.returncode != 0:
        raise RuntimeError(f"the load generator failed ({finished.returncode}):\n{finished.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(finished.stdout)
    return result


def is_sustained(result: dict[str, Any]) -> bool:
    """Say whether a run met the criterion: no errors, >= 97% of the offered rate, p99 <= 100 ms."""
    return bool(
        result["error_count"] == 0
        and result["achieved_rate"] >= MIN_ACHIEVED_RATIO * result["offered_rate"]
        and result["latency_us"]["p99"] <= MAX_P99_US
    )


def step_summary(result: dict[str, Any]) -> dict[str, Any]:
    """Return the figures of one throughput step worth printing."""
    latency = result["latency_us"]
    return {
        "offered_rate": result["offered_rate"],
        "achieved_rate": result["achieved_rate"],
        "completed": result["completed"],
        "errors": result["errors"],
        "error_samples": result["error_samples"],
        "rejected": result["rejected"],
        "p50_us": latency["p50"],
        "p99_us": latency["p99"],
        "p99.9_us": latency["p99.9"],
        "max_us": latency["max"],
        "generator_cpu_percent": result["generator_cpu_percent"],
        "sustained": is_sustained(result),
    }


def search_throughput(run_step: Callable[[int], dict[str, Any]], max_rate: int) -> tuple[int, list[dict[str, Any]]]:
    """Climb the ladder (2,000/s steps up to ``max_rate``) until a step fails, then bisect to 250/s.

    Return the highest sustained offered rate (0 if none) and every step's summary, in the order run.
    """
    steps: list[dict[str, Any]] = []
    best, failed = 0, 0
    for rate in [*range(LADDER_STEP, max_rate, LADDER_STEP), max_rate]:
        steps.append(step_summary(run_step(rate)))
        if not steps[-1]["sustained"]:
            failed = rate
            break
        best = rate
    while failed and (rate := (best + failed) // 2 // RESOLUTION * RESOLUTION) > best:
        steps.append(step_summary(run_step(rate)))
        best, failed = (rate, failed) if steps[-1]["sustained"] else (best, rate)
    return best, steps


def latency_summary(result: dict[str, Any]) -> dict[str, Any]:
    """Return the latency run's figures, without the generator's bookkeeping."""
    keep = "offered_rate achieved_rate seconds completed errors error_samples rejected reject_reasons"
    summary = {name: result[name] for name in keep.split()}
    summary.update(
        latency_us=result["latency_us"],
        service_time_us=result["service_time_us"],
        schedule_lag_p99_us=result["schedule_lag_us"]["p99"],
        generator_cpu_percent=result["generator_cpu_percent"],
    )
    return summary


def run(settings: ApiBenchSettings) -> dict[str, Any]:
    """Start a server on a temporary data directory, measure latency and throughput, stop it, delete the directory.

    Takes about 15 s plus ``seconds`` plus ~6 s per throughput step. Raises
    ``RuntimeError`` with the server's last output when it cannot be started
    or an account cannot be created.
    """
    directory = Path(tempfile.mkdtemp(prefix="hft-bench-api-", dir=settings.data_dir or Path.cwd()))
    try:
        with ServerProcess(directory) as server:
            result = _measure(server, settings)
        result["server_exit_code"] = server.exit_code
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return result


def _measure(server: ServerProcess, settings: ApiBenchSettings) -> dict[str, Any]:
    keys = create_accounts(server, ACCOUNTS)
    runs = itertools.count(1)

    def load(rate: float, seconds: float) -> dict[str, Any]:
        time.sleep(PAUSE_SECONDS)
        return offer(server.url, keys, rate, seconds, settings.connections, f"run{next(runs)}")

    load(settings.rate, WARM_UP_SECONDS)
    latency = load(settings.rate, settings.seconds)
    sustained, steps = search_throughput(lambda rate: load(rate, STEP_SECONDS), settings.max_rate)
    unreachable = any("connect" in run["errors"] for run in [latency, *steps])
    return {
        "sustained_orders_per_second": sustained,
        "criterion": CRITERION,
        f"latency_at_{settings.rate:g}": latency_summary(latency),
        "steps": steps,
        "connections": settings.connections,
        "accounts": ACCOUNTS,
        "event_loop": latency["event_loop"],
        "machine": f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs",
        "server": SERVER,
        "fsync": journal_fsync(server.url),
        "server_log_tail": server.log_tail() if unreachable else None,
    }
