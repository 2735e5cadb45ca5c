"""Run ``hft serve`` as a real child process, for tests and benchmarks: start, wait until healthy, kill, restart."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ADMIN_TOKEN = "test-admin-token-0123456789"


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServerProcess:
    """One ``hft serve`` child process on its own port and data directory."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Every gateway gets a port of its own, so servers of parallel tests never collide (they serve if enabled).
        self.grpc_port = free_port()
        self.fix_port = free_port()
        self.env = {
            **os.environ,
            "HFT_ADMIN_TOKEN": ADMIN_TOKEN,
            "HFT_LOG_LEVEL": "warning",
            "HFT_GRPC_PORT": str(self.grpc_port),
            "HFT_FIX_PORT": str(self.fix_port),
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"{data_dir.name}-server.log"

    def start(self, timeout: float = 60.0) -> ServerProcess:
        """Start the server and wait until ``/health`` answers 200; raise with its log if it does not."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hft", "serve", "--port", str(self.port), "--data-dir", str(self.data_dir)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"hft serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"hft serve did not become healthy in {timeout} s:\n{self.log()}")

    def log(self) -> str:
        """Return what the server printed."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def demo_api_key(self) -> str:
        """The demo account's API key, written to the data directory on first start."""
        return (self.data_dir / "demo-api-key.txt").read_text().strip()

    def stop(self, timeout: float = 30.0) -> int:
        """Send SIGTERM and wait for a graceful exit; return the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL the server: no drain, no snapshot, no flush."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def create_account(self, name: str, cash: str = "10000000") -> dict[str, Any]:
        """Open an account through the admin API; return ``{"account_id", "name", "api_key"}``."""
        request = urllib.request.Request(
            f"{self.url}/api/admin/accounts",
            data=json.dumps({"name": name, "cash": cash}).encode(),
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            created: dict[str, Any] = json.loads(response.read())
            return created

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                self.stop()
            except subprocess.TimeoutExpired:
                self.kill()
