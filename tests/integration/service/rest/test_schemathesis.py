"""Schemathesis over the live OpenAPI schema: generated requests against every operation, zero server errors.

The ``schemathesis run`` CLI runs in a subprocess (its own Hypothesis settings, no interference with this
session's warnings filter), once for the trading and market-data operations with an account's API key and once
for the admin operations with the admin token, each bounded in examples and time so the module fits in CI.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
from tests.integration.service.rest.clients import Venue

from hft.testing.server import ADMIN_TOKEN, ServerProcess

MAX_EXAMPLES = 25
SEED = 20_261_122
RUN_TIMEOUT_SECONDS = 150


def _schemathesis(
    server: ServerProcess, report: Path, *options: str, parameters: str = ""
) -> tuple[int, str, int, list[str]]:
    """Run the CLI against ``server``; return its exit code, its output, how many operations its report lists
    and the failing test cases (operations, or the stateful scenarios).

    ``parameters`` is the TOML body of a ``[parameters]`` table: values used for those parameters in every case.
    """
    config = report.with_suffix(".toml")
    config.write_text(f"[parameters]\n{parameters}\n")
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "run",
        f"{server.url}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "10",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
        *options,
    ]
    finished = subprocess.run(
        command, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS, cwd=report.parent, check=False
    )
    output = finished.stdout + finished.stderr
    assert report.exists(), output[-6000:]
    cases = list(ElementTree.parse(report).getroot().iter("testcase"))
    operations = [case for case in cases if " /" in str(case.get("name"))]  # "METHOD /path"; also "Stateful tests"
    failing = []
    for case in cases:
        problems = [child for child in case if child.tag in ("failure", "error")]
        if problems:
            text = problems[0].get("message") or problems[0].text or ""
            failing.append(f"{case.get('name')}: {text[:500]}")
    return finished.returncode, output, len(operations), failing


@pytest.fixture(scope="module")
def seeded(server: ServerProcess) -> ServerProcess:
    """The module's server with resting orders and trades in the books, so generated requests meet real state."""
    venue = Venue(server)
    maker, taker = venue.open_account(), venue.open_account()
    for symbol in ("AAPL", "BTC-USD"):
        maker.limit(symbol, "BUY", "1", "100.00")
        maker.limit(symbol, "SELL", "2", "101.00")
        taker.limit(symbol, "BUY", "1", "101.00")
    venue.leave_orders_working()
    venue.close()
    return server


def test_trading_and_market_data_operations_never_answer_a_server_error(seeded: ServerProcess, tmp_path: Path) -> None:
    venue = Venue(seeded)
    trader = venue.open_account(cash="1000000")
    order = trader.limit("MSFT", "BUY", "1", "10.00", client_order_id="SEEDED")
    venue.leave_orders_working()
    venue.close()
    code, output, operations, failing = _schemathesis(
        seeded,
        tmp_path / "trading.xml",
        "--exclude-path-regex",
        "^/api/admin",
        "--header",
        f"X-API-Key: {trader.api_key}",
        # Aim the order-id operations at a real order of the account, not only at ids that are 404.
        parameters=f'"path.order_id" = {order["order_id"]}\n"path.client_order_id" = "SEEDED"\n"path.symbol" = "AAPL"',
    )
    assert operations >= 15, output[-6000:]  # orders, account and market data, health, metrics
    assert not failing, "\n".join(failing) + "\n" + output[-4000:]
    assert code == 0, output[-6000:]


def test_admin_operations_never_answer_a_server_error(seeded: ServerProcess, tmp_path: Path) -> None:
    code, output, operations, failing = _schemathesis(
        seeded,
        tmp_path / "admin.xml",
        "--include-path-regex",
        "^/api/admin",
        "--header",
        f"Authorization: Bearer {ADMIN_TOKEN}",
        parameters='"path.symbol" = "AAPL"',
    )
    assert operations == 12, output[-6000:]  # every admin operation
    assert not failing, "\n".join(failing) + "\n" + output[-4000:]
    assert code == 0, output[-6000:]
