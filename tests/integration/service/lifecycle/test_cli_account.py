"""``hft account create``: offline on a stopped venue's data directory, online through a running server's admin API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.integration.service.lifecycle.api import admin, client, hft, hft_environment

from hft.testing.server import ADMIN_TOKEN, ServerProcess


class ServedDirectory:
    """A data directory with an account opened offline, then served."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.offline = hft("account", "create", "alice", "--cash", "1000", "--data-dir", str(data_dir))
        self.server = ServerProcess(data_dir)


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedDirectory]:
    """Open an account offline on a fresh data directory, then start ``hft serve`` on it."""
    created = ServedDirectory(tmp_path_factory.mktemp("cli") / "data")
    assert created.offline.returncode == 0, created.offline.stderr
    with created.server:
        yield created


def _account(server: ServerProcess, api_key: str) -> tuple[int, Any]:
    with client(server, api_key) as http:
        response = http.get("/api/account")
    return response.status_code, response.json()


def test_offline_create_prints_a_key_that_works_once_the_venue_serves(venue: ServedDirectory) -> None:
    created = json.loads(venue.offline.stdout)

    status, account = _account(venue.server, created["api_key"])

    assert set(created) == {"account_id", "name", "api_key"}
    assert created["name"] == "alice"
    assert status == 200
    assert (account["account_id"], account["name"]) == (created["account_id"], "alice")
    assert Decimal(account["cash"]) == 1000


def test_offline_create_while_the_server_runs_fails_saying_it_is_in_use(venue: ServedDirectory) -> None:
    result = hft("account", "create", "bob", "--cash", "5", "--data-dir", str(venue.data_dir))

    assert result.returncode != 0
    assert "in use" in result.stderr
    assert "--url" in result.stderr
    assert "Traceback" not in result.stderr


def test_create_through_the_url_with_the_admin_token_works(venue: ServedDirectory) -> None:
    result = hft(
        "account",
        "create",
        "carol",
        "--cash",
        "250.5",
        "--url",
        venue.server.url + "/",
        env=hft_environment(HFT_ADMIN_TOKEN=ADMIN_TOKEN),
    )

    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    status, account = _account(venue.server, created["api_key"])
    assert status == 200
    assert (account["name"], Decimal(account["cash"])) == ("carol", Decimal("250.5"))


@pytest.mark.parametrize(("token", "says"), [(None, "HFT_ADMIN_TOKEN"), ("wrong-token-0123456789", "401")])
def test_create_through_the_url_without_the_right_token_fails_clearly(
    venue: ServedDirectory, token: str | None, says: str
) -> None:
    result = hft("account", "create", "dave", "--url", venue.server.url, env=hft_environment(HFT_ADMIN_TOKEN=token))

    assert result.returncode != 0
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_create_through_an_unreachable_url_fails_clearly() -> None:
    result = hft(
        "account", "create", "erin", "--url", "http://127.0.0.1:9", env=hft_environment(HFT_ADMIN_TOKEN=ADMIN_TOKEN)
    )

    assert result.returncode != 0
    assert "cannot reach" in result.stderr


@pytest.mark.parametrize("cash", ["abc", "-5", "0.000000001"])
def test_bad_cash_offline_fails_naming_cash_and_creates_nothing(tmp_path: Path, cash: str) -> None:
    data_dir = tmp_path / "data"

    result = hft("account", "create", "frank", f"--cash={cash}", "--data-dir", str(data_dir))

    assert result.returncode != 0
    assert "cash" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (data_dir / "journal").exists()


@pytest.mark.parametrize("cash", ["abc", "1e11"])
def test_bad_cash_through_the_url_fails_naming_cash_and_creates_nothing(venue: ServedDirectory, cash: str) -> None:
    with admin(venue.server) as http:
        before = http.get("/api/admin/accounts").json()

    result = hft(
        "account",
        "create",
        "grace",
        f"--cash={cash}",
        "--url",
        venue.server.url,
        env=hft_environment(HFT_ADMIN_TOKEN=ADMIN_TOKEN),
    )

    with admin(venue.server) as http:
        after = http.get("/api/admin/accounts").json()
    assert result.returncode != 0
    assert "cash" in result.stderr, result.stderr
    assert after == before
