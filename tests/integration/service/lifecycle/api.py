"""What the life-cycle tests read from a running venue: every order, execution, position and account, over REST.

Also ``hft(...)``: the command line as a real child process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from hft.testing.server import ADMIN_TOKEN, ServerProcess

T = TypeVar("T")
Json = dict[str, Any]


def client(server: ServerProcess, api_key: str) -> httpx.Client:
    """Return an HTTP client for ``server`` that sends ``api_key``."""
    return httpx.Client(base_url=server.url, headers={"X-API-Key": api_key}, timeout=30)


def admin(server: ServerProcess) -> httpx.Client:
    """Return an HTTP client for ``server``'s admin API."""
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30)


def _get(http: httpx.Client, path: str, **params: Any) -> Any:
    response = http.get(path, params=params)
    assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
    return response.json()


def all_orders(http: httpx.Client) -> list[Json]:
    """Return every order of the client's account, following the pages."""
    return _pages(http, "/api/orders", "orders")


def all_executions(http: httpx.Client) -> list[Json]:
    """Return every execution of the client's account, following the pages."""
    return _pages(http, "/api/executions", "executions")


def _pages(http: httpx.Client, path: str, key: str) -> list[Json]:
    found: list[Json] = []
    params: dict[str, Any] = {"limit": 1000}
    while True:
        page = _get(http, path, **params)
        found.extend(page[key])
        if page["next_before"] is None:
            return found
        params["before"] = page["next_before"]


def account_state(http: httpx.Client) -> Json:
    """Return the account's orders, executions, positions and balances: everything a restart must keep."""
    return {
        "orders": all_orders(http),
        "executions": all_executions(http),
        "positions": _get(http, "/api/positions"),
        "account": _get(http, "/api/account"),
    }


def eventually(probe: Callable[[], T], done: Callable[[T], bool], timeout: float, what: str) -> T:
    """Call ``probe`` until ``done`` holds for its result; return that result, fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s; last: {result!r}"[:2000])
        time.sleep(0.1)


def hft_environment(**changes: str | None) -> dict[str, str]:
    """Return this process's environment without any HFT_ setting, with ``changes`` applied (None removes)."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("HFT_") or name == "HFT_EXPECT_COMPILED"
    }
    environment.pop("DATABASE_URL", None)
    for name, value in changes.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return environment


def hft(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``hft ARGS`` as a child process; return what it did (it must finish within ``timeout`` s)."""
    return subprocess.run(
        [sys.executable, "-m", "hft", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env if env is not None else hft_environment(),
    )
