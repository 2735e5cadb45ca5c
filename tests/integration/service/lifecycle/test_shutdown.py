"""Starting and stopping ``hft serve``: graceful SIGTERM, restart from the snapshot, one process per data directory,
what it prints, and start-up refusing bad settings with a message that names them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.integration.service.lifecycle.api import Json, account_state, admin, client, hft, hft_environment

from hft.testing.server import ServerProcess, free_port

INFO = {"HFT_LOG_LEVEL": "info"}


def _trade(server: ServerProcess) -> dict[str, str]:
    """Open two accounts and leave fills, a cancel, resting orders and positions behind; return their keys."""
    keys = {name: server.create_account(name, "100000")["api_key"] for name in ("maker", "taker")}
    with client(server, keys["maker"]) as maker, client(server, keys["taker"]) as taker:
        for price in ("100.00", "100.01", "100.02"):
            assert maker.post("/api/orders", json={"symbol": "AAPL", "side": "SELL", "quantity": 10, "price": price})
        canceled = maker.post("/api/orders", json={"symbol": "MSFT", "side": "BUY", "quantity": 3, "price": "50"})
        assert maker.delete(f"/api/orders/{canceled.json()['order_id']}").status_code == 200
        filled = taker.post("/api/orders", json={"symbol": "AAPL", "side": "BUY", "quantity": 15, "price": "100.01"})
        assert filled.json()["status"] == "FILLED"
    return keys


def _venue_state(server: ServerProcess, keys: dict[str, str]) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for name, key in keys.items():
        with client(server, key) as http:
            state[name] = account_state(http)
            state["book"] = http.get("/api/book/AAPL").json()
            state["trades"] = http.get("/api/trades/AAPL").json()
            state["ticker"] = http.get("/api/ticker/AAPL").json()
    with admin(server) as http:
        state["accounts"] = http.get("/api/admin/accounts").json()
    return state


class Restart:
    """What one SIGTERM and restart did: exit code, logs, snapshot files, the venue's state before and after."""

    def __init__(self, server: ServerProcess, keys: dict[str, str]) -> None:
        self.before = _venue_state(server, keys)
        self.exit_code = server.stop()
        self.stopped_log = server.log()
        self.snapshots = sorted((server.data_dir / "snapshots").glob("*.snapshot"))
        started = time.monotonic()
        server.start()
        self.restart_seconds = time.monotonic() - started
        self.restart_log = server.log()[len(self.stopped_log) :]
        self.after = _venue_state(server, keys)


@pytest.fixture(scope="module")
def restart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restart]:
    """Trade a little, stop the server with SIGTERM, start it again on the same data directory."""
    server = ServerProcess(tmp_path_factory.mktemp("shutdown") / "data", env=INFO).start()
    try:
        yield Restart(server, _trade(server))
    finally:
        server.kill()


def test_sigterm_exits_zero_writes_a_snapshot_and_logs_stopped(restart: Restart) -> None:
    assert restart.exit_code == 0
    assert restart.snapshots, "no snapshot was written on SIGTERM"
    assert re.search(r"\bstopped$", restart.stopped_log, re.MULTILINE), restart.stopped_log[-2000:]


def test_restart_after_sigterm_starts_from_the_final_snapshot(restart: Restart) -> None:
    recovered = re.search(r"recovered to sequence (\d+): snapshot at (\d+), 0 commands replayed", restart.restart_log)

    assert recovered, f"the restart did not start from the final snapshot:\n{restart.restart_log}"
    assert int(recovered[1]) == int(recovered[2]) == int(restart.snapshots[-1].stem)
    assert restart.restart_seconds < 15


def test_restart_after_sigterm_keeps_orders_positions_accounts_and_market_data(restart: Restart) -> None:
    def without_book_sequence(state: dict[str, Any]) -> dict[str, Any]:
        return {**state, "book": {**state["book"], "sequence": None}}

    assert without_book_sequence(restart.after) == without_book_sequence(restart.before)


def test_book_sequence_never_goes_back_across_a_restart(restart: Restart) -> None:
    # Book subscribers detect gaps and stale data by this sequence (GET /api/book and the book channel).
    assert restart.after["book"]["sequence"] >= restart.before["book"]["sequence"]


def test_second_serve_on_the_same_data_dir_exits_non_zero_saying_it_is_in_use(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data") as server:
        second = hft(
            "serve",
            "--port",
            str(free_port()),
            "--data-dir",
            str(server.data_dir),
            env=hft_environment(HFT_ADMIN_TOKEN="another-admin-token-0123"),
        )
        with admin(server) as http:
            still_serving = http.get("/health").status_code

    assert second.returncode != 0
    assert "in use" in second.stderr
    assert str(server.data_dir) in second.stderr
    assert "Traceback" not in second.stderr
    assert still_serving == 200


def test_fresh_data_dir_prints_the_urls_and_a_demo_key_and_a_restart_prints_the_same_key(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data").start()
    try:
        first_log = server.log()
        key_file = server.data_dir / "demo-api-key.txt"
        key = server.demo_api_key
        with client(server, key) as http:
            demo = http.get("/api/account").json()
        assert server.stop() == 0
        key_file_before = (key_file.read_text(), key_file.stat().st_mtime_ns)

        server.start()
        restart_log = server.log()[len(first_log) :]
        with admin(server) as http:
            accounts: list[Json] = http.get("/api/admin/accounts").json()
        with client(server, key) as http:
            still_works = http.get("/api/account").status_code
    finally:
        server.kill()

    base = f"http://127.0.0.1:{server.port}"
    for expected in (f"serving on {base}", f"{base}/docs", f"{base}/health", f"ws://127.0.0.1:{server.port}/ws"):
        assert expected in first_log, first_log
    assert key.startswith("hft_")
    assert f"demo API key: {key}" in first_log
    assert demo["name"] == "demo"
    assert f"demo API key: {key}" in restart_log
    assert re.findall(r"demo API key: (\S+)", restart_log) == [key]
    assert (key_file.read_text(), key_file.stat().st_mtime_ns) == key_file_before
    assert [account["name"] for account in accounts] == ["demo"]
    assert still_works == 200


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("case", "named"),
    [
        ("unknown environment variable", "HFT_FOO"),
        ("malformed port", "port"),
        ("queue limit out of range", "ws_max_queue"),
        ("short admin token", "admin_token"),
        ("config with an unknown key", "colour"),
        ("config that is not TOML", "settings.toml"),
        ("config with a malformed value", "snapshot_every"),
        ("missing config file", "missing.toml"),
        ("missing config file from HFT_CONFIG", "elsewhere.toml"),
    ],
)
def test_bad_settings_stop_start_up_with_a_message_naming_them(tmp_path: Path, case: str, named: str) -> None:
    data_dir = tmp_path / "data"
    port = ["--port", str(free_port())]
    config: list[str] = []
    env = hft_environment()
    if case == "unknown environment variable":
        env["HFT_FOO"] = "1"
    elif case == "malformed port":
        env["HFT_PORT"] = "abc"
        port = []  # --port would override it
    elif case == "queue limit out of range":
        env["HFT_WS_MAX_QUEUE"] = "5"
    elif case == "short admin token":
        env["HFT_ADMIN_TOKEN"] = "short"
    elif case == "config with an unknown key":
        config = ["--config", str(_write(tmp_path / "settings.toml", 'colour = "red"\nfsync = false\n'))]
    elif case == "config that is not TOML":
        config = ["--config", str(_write(tmp_path / "settings.toml", "port = \n[unclosed\n"))]
    elif case == "config with a malformed value":
        config = ["--config", str(_write(tmp_path / "settings.toml", 'snapshot_every = "often"\n'))]
    elif case == "missing config file":
        config = ["--config", str(tmp_path / "missing.toml")]
    else:
        env["HFT_CONFIG"] = str(tmp_path / "elsewhere.toml")

    result = hft("serve", *port, "--data-dir", str(data_dir), *config, env=env, timeout=30)

    assert result.returncode != 0, result.stdout
    assert named in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (data_dir / "journal").exists(), "it started the venue before refusing the settings"
