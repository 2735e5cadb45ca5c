"""Private instances of the services ``hft serve`` can use (Redis, NATS), for tests that stop them at will.

Each one is a child process of the test on a free loopback port chosen once,
so a restart listens where the venue already points, with its files in a
temporary directory of its own. All share one interface: ``start()`` (and wait
until it serves), ``stop()`` (a clean shutdown), ``kill()`` (SIGKILL, as a
crash), ``close()`` (kill if running and delete the files) and an address
property. The machine's shared services are never touched.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Final, Protocol

from hft.testing.server import free_port

START_TIMEOUT_SECONDS: Final = 15.0
STOP_TIMEOUT_SECONDS: Final = 15.0
# Where Debian installs the daemons, for a PATH without the sbin directories.
EXTRA_BIN_DIRS: Final = ("/usr/sbin", "/usr/local/sbin", "/sbin")


class ServiceUnavailableError(RuntimeError):
    """The service's program is not installed on this machine."""


class PrivateServer(Protocol):
    """What an outage test needs of a server it owns."""

    def start(self) -> None:
        """Start the server and return once it serves."""
        ...

    def stop(self) -> None:
        """Shut the server down cleanly and wait for it to exit."""
        ...

    def kill(self) -> None:
        """SIGKILL the server and wait for it to exit."""
        ...

    def close(self) -> None:
        """Kill the server if it runs and delete its files."""
        ...


def find_program(name: str) -> str:
    """Return the path of the executable ``name``, or raise ``ServiceUnavailableError``."""
    path = shutil.which(name) or shutil.which(name, path=os.pathsep.join(EXTRA_BIN_DIRS))
    if path is None:
        raise ServiceUnavailableError(f"{name} is not installed (looked in PATH and {', '.join(EXTRA_BIN_DIRS)})")
    return path


class ChildServer:
    """A server run as a child process in its own session, on a fixed port, logging into its directory."""

    name = "server"

    def __init__(self, program: str) -> None:
        self.executable = find_program(program)
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix=f"hft-{self.name}-"))
        self.log_path = self.directory / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        """Return the command line that runs the server."""
        raise NotImplementedError

    def ready(self) -> bool:
        """Return whether the server serves now (by default: its port accepts a connection)."""
        return port_accepts(self.port)

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start the process and wait until ``ready()``; raise with its log if it exits or takes too long."""
        if self.running:
            raise RuntimeError(f"{self.name} is already running")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self.ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"{self.name} did not serve within {START_TIMEOUT_SECONDS} s:\n{self.log()}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Send SIGTERM (every server here shuts down cleanly on it) and wait; SIGKILL if it hangs, then raise."""
        self._signal(signal.SIGTERM)
        try:
            self._wait()
        except subprocess.TimeoutExpired:
            self.kill()
            raise RuntimeError(f"{self.name} ignored SIGTERM for {STOP_TIMEOUT_SECONDS} s:\n{self.log()}") from None

    def kill(self) -> None:
        """SIGKILL the process and wait for it: nothing is flushed, no client is told."""
        self._signal(signal.SIGKILL)
        self._wait()

    def close(self) -> None:
        """Kill the process if it runs and delete the directory. Never raises for a process already gone."""
        if self.running:
            self.kill()
        shutil.rmtree(self.directory, ignore_errors=True)

    def log(self) -> str:
        """Return what the server printed (the last 4,000 characters)."""
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def _signal(self, signum: signal.Signals) -> None:
        if self.running:
            assert self.process is not None
            self.process.send_signal(signum)

    def _wait(self) -> None:
        if self.process is not None:
            self.process.wait(STOP_TIMEOUT_SECONDS)

    def __enter__(self) -> ChildServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class RedisServer(ChildServer):
    """``redis-server`` without persistence: a restart comes back empty, as a cache may."""

    name = "redis"

    def __init__(self) -> None:
        super().__init__("redis-server")

    @property
    def url(self) -> str:
        """The ``redis://`` URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        """Listen on loopback only; keep nothing on disk."""
        return [
            self.executable,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.directory),
        ]  # fmt: skip


class NatsServer(ChildServer):
    """``nats-server`` with JetStream; the streams are files in the directory and survive restarts."""

    name = "nats"

    def __init__(self) -> None:
        super().__init__("nats-server")
        self.monitor_port = free_port()

    @property
    def url(self) -> str:
        """The ``nats://`` URL clients connect to."""
        return f"nats://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """Listen on loopback only, JetStream stored under the directory, monitoring for the readiness probe."""
        return [
            self.executable,
            "-a", "127.0.0.1",
            "-p", str(self.port),
            "-m", str(self.monitor_port),
            "-js",
            "-sd", str(self.directory / "jetstream"),
        ]  # fmt: skip

    def ready(self) -> bool:
        """Return whether ``/healthz`` answers 200: JetStream has recovered its streams and serves."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.monitor_port}/healthz", timeout=1) as response:
                return bool(response.status == 200) and port_accepts(self.port)
        except (urllib.error.URLError, OSError):
            return False


def port_accepts(port: int) -> bool:
    """Return whether something accepts TCP connections on 127.0.0.1:``port`` now."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
