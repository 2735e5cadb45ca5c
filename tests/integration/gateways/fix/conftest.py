"""Fixtures: a real ``hft serve`` with the FIX acceptor on, its sessions, accounts, and clients for both sides."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.gateways.fix.counterparty import QuickFixClient, RawClient

from hft.testing.server import ServerProcess

# Accounts the fixture opens, in order (the demo account is 1): name -> account id.
ACCOUNTS = {"alice": 2, "bob": 3, "carol": 4, "dave": 5, "erin": 6}
# SenderCompID -> (account, cancel on disconnect). RAW sessions are for the raw-socket tests, one per test.
SESSIONS: dict[str, tuple[int, bool]] = {
    "ALICE": (2, False),
    "BOB": (3, False),
    "CAROL": (4, True),
    "DAVE": (5, False),
    **{f"RAW{number}": (6, False) for number in range(1, 25)},
}
PASSWORD = "fix-secret"


def write_sessions(path: Path, sessions: dict[str, tuple[int, bool]]) -> Path:
    lines = []
    for name, (account, cancel) in sessions.items():
        lines += [
            f"[sessions.{name}]",
            f"account = {account}",
            f'password = "{PASSWORD}"',
            f"cancel_on_disconnect = {'true' if cancel else 'false'}",
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


class Venue:
    """The running server, its accounts' API keys, and a REST client for the other side of trades."""

    def __init__(self, server: ServerProcess, keys: dict[str, str]) -> None:
        self.server = server
        self.keys = keys
        self.http = httpx.Client(base_url=server.url, timeout=10)

    def rest(self, account: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call the REST API as ``account``; return the decoded JSON answer."""
        response = self.http.request(method, path, json=body, headers={"X-API-Key": self.keys[account]})
        assert response.status_code < 500, response.text
        return response.json()

    def order(self, account: str, **fields: Any) -> dict[str, Any]:
        """Submit an order over REST (quantities and prices as strings)."""
        answer: dict[str, Any] = self.rest(account, "POST", "/api/orders", fields)
        return answer

    def close(self) -> None:
        self.http.close()


def open_accounts(server: ServerProcess) -> dict[str, str]:
    keys = {}
    for name, expected in ACCOUNTS.items():
        created = server.create_account(name)
        assert created["account_id"] == expected
        keys[name] = created["api_key"]
    return keys


def fix_env(sessions_file: Path) -> dict[str, str]:
    return {"HFT_FIX_ENABLED": "true", "HFT_FIX_SESSIONS_FILE": str(sessions_file), "HFT_LOG_LEVEL": "info"}


@pytest.fixture(scope="package")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venue]:
    """One server with the FIX acceptor for the package's tests (fsync on: the stores are under test too)."""
    directory = tmp_path_factory.mktemp("fix")
    sessions = write_sessions(directory / "sessions.toml", SESSIONS)
    with ServerProcess(directory / "data", env=fix_env(sessions)) as server:
        running = Venue(server, open_accounts(server))
        yield running
        running.close()


@pytest.fixture(scope="package")
def quickfix_sessions(venue: Venue, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, QuickFixClient]]:
    """QuickFIX initiators kept for the package (QuickFIX takes about a second to log out and stop)."""
    clients: dict[str, QuickFixClient] = {}
    yield clients
    stop_all(list(clients.values()))


@pytest.fixture
def quickfix(venue: Venue, quickfix_sessions: dict[str, QuickFixClient], tmp_path: Path) -> Iterator[Any]:
    """Return a logged-on QuickFIX initiator for a SenderCompID (shared by the package unless ``own``).

    After the test, check that QuickFIX found none of our messages invalid; stop the ``own`` ones.
    """
    used: list[QuickFixClient] = []
    own: list[QuickFixClient] = []

    def start(sender: str, own_client: bool = False, **options: Any) -> QuickFixClient:
        client = None if own_client else quickfix_sessions.get(sender)
        if client is None:
            client = QuickFixClient(tmp_path / sender, venue.server.fix_port, sender, PASSWORD, **options).start()
            (own if own_client else []).append(client)
            if not own_client:
                quickfix_sessions[sender] = client
        client.drain(quiet=0.05)  # what earlier tests left unread
        used.append(client)
        return client

    yield start
    stop_all(own)
    for client in used:
        assert client.rejects_sent == [], "QuickFIX found messages of ours invalid"


def stop_all(clients: list[QuickFixClient]) -> None:
    """Stop QuickFIX initiators in parallel."""
    threads = [threading.Thread(target=client.stop) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.fixture
def raw(venue: Venue) -> Iterator[Any]:
    """Open raw-socket connections for a RAW session; close them after the test."""
    opened: list[RawClient] = []

    def connect(sender: str, password: str = PASSWORD) -> RawClient:
        client = RawClient(venue.server.fix_port, sender, password)
        opened.append(client)
        return client

    yield connect
    for client in opened:
        client.close()
