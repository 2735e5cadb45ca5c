"""``hft tail``: a user's check that a deployment's events reach the broker, run as the command it is."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from tests.integration.adapters.nats.conftest import NATS_URL
from tests.integration.adapters.nats.trading import published, trade

from hft.config.settings import Settings
from hft.service.venue import Venue


def _tail(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hft", "tail", *arguments], capture_output=True, text=True, timeout=60, check=False
    )


def test_tail_prints_a_streams_events_as_json_lines(tmp_path: Path, prefix: str) -> None:
    async def publish() -> None:
        venue = Venue(
            Settings(data_dir=tmp_path, fsync=False, demo_account=False, nats_url=NATS_URL, stream_prefix=prefix)
        )
        await venue.start()
        try:
            await trade(venue, rounds=4)
            await published(venue)
        finally:
            await venue.stop()

    asyncio.run(publish())
    result = _tail("executions", "--nats", NATS_URL, "--prefix", prefix, "--from-start", "--count", "2")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["type"] for line in lines] == ["TradeExecuted", "TradeExecuted"]
    assert lines[0]["sequence"] < lines[1]["sequence"]
    only_msft = _tail("orders", "--nats", NATS_URL, "--prefix", prefix, "--from-start", "--count", "3", "--key", "MSFT")
    assert {json.loads(line)["symbol"] for line in only_msft.stdout.splitlines()} == {"MSFT"}


def test_tail_explains_what_is_wrong() -> None:
    unknown = _tail("trades", "--nats", NATS_URL)
    assert unknown.returncode == 2
    assert "unknown stream 'trades'" in unknown.stderr
    unreachable = _tail("orders", "--nats", "nats://127.0.0.1:1")
    assert unreachable.returncode == 1
    assert "no NATS server answers at nats://127.0.0.1:1" in unreachable.stderr
    both = _tail("orders", "--nats", NATS_URL, "--kafka", "127.0.0.1:9092")
    assert both.returncode == 2
    missing = _tail("orders", "--nats", NATS_URL, "--prefix", "nosuchprefix")
    assert missing.returncode == 1
    assert "has the venue published to it yet?" in missing.stderr
