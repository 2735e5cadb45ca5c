"""A projection's server stops mid-stream, again and again: trading goes on, and the projection ends equal the journal.

For each dependency (PostgreSQL, NATS, Redis, the Kafka broker) a private
server runs beside one ``hft serve`` while a thread sends orders. Every
cycle stops the server (a clean shutdown and SIGKILL in turn) while orders
flow, checks that ``/health`` reports it down and that orders are still
accepted, starts it again and waits for its content to equal what the
journal says, exactly, within ``RECOVERY_SECONDS`` of the restart.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any, Final

import httpx
from tests.integration.outages.dependencies import Dependency, Health
from tests.integration.outages.flow import OrderFlow
from tests.integration.outages.journal import Journal

from hft.testing.server import ServerProcess

ORDERS_PER_SECOND: Final = 150
DETECTION_SECONDS: Final = 2.0  # from the stop to /health reporting it down
OUTAGE_SECONDS: Final = 0.6  # orders flowing while the server is down, once /health has said so
RECOVERY_LOAD_SECONDS: Final = 0.3  # orders flowing after the restart, before the flow pauses to compare
RECOVERY_SECONDS: Final = 10.0  # from the restart to a projection equal to the journal
LONGEST_GAP_SECONDS: Final = 1.0  # the longest the flow may go without a successful answer
CASH: Final = "100000000"


def test_a_dependency_outage_never_stops_trading_and_the_projection_ends_equal_to_the_journal(
    dependency: Dependency, venue: ServerProcess, cycles: int
) -> None:
    seed = random.randrange(2**32)
    keys = [venue.create_account(name, CASH)["api_key"] for name in ("buyer", "seller")]
    recoveries: list[float] = []
    with (
        httpx.Client(base_url=venue.url, timeout=5) as http,
        OrderFlow(venue.url, keys, ORDERS_PER_SECOND, seed) as flow,
    ):
        for cycle in range(cycles):
            crash = cycle % 2 == 1
            try:
                _outage(dependency, http, flow, crash)
                recoveries.append(_recovery(dependency, venue, http, flow))
            except AssertionError as error:
                how = "SIGKILL" if crash else "clean stop"
                raise AssertionError(f"{dependency.name}, cycle {cycle} ({how}), seed {seed}: {error}") from error
        flow.pause()
    assert flow.failures == [], flow.failures[:10]
    assert flow.longest_gap < LONGEST_GAP_SECONDS, f"trading stalled for {flow.longest_gap:.2f} s"
    print(
        f"{dependency.name}: {cycles} outages, {flow.accepted} orders accepted ({flow.rejected} refused), "
        f"{flow.cancelled} cancelled, longest gap {flow.longest_gap:.3f} s, "
        f"equal to the journal {max(recoveries, default=0):.2f} s after a restart at most"
    )


def _outage(dependency: Dependency, http: httpx.Client, flow: OrderFlow, crash: bool) -> None:
    """Take the server away while orders flow; /health must say so, and orders must go on being accepted."""
    (dependency.server.kill if crash else dependency.server.stop)()
    _wait_for(http, lambda health: _status(dependency, health) == "down", DETECTION_SECONDS, "/health saying down")
    accepted = flow.accepted
    time.sleep(OUTAGE_SECONDS)
    response = http.get("/health")
    assert response.status_code == 200, f"/health answered {response.status_code}: trading looks impossible"
    body = response.json()
    assert body["status"] == "degraded", body
    assert _status(dependency, body["components"]) == "down", body["components"]
    assert flow.accepted - accepted >= ORDERS_PER_SECOND * OUTAGE_SECONDS / 3, "orders stopped being accepted"
    assert flow.failures == [], flow.failures[:10]


def _recovery(dependency: Dependency, venue: ServerProcess, http: httpx.Client, flow: OrderFlow) -> float:
    """Bring the server back under load, pause the flow, wait for the projection to equal the journal; time it."""
    dependency.server.start()
    restarted = time.monotonic()
    deadline = restarted + RECOVERY_SECONDS
    time.sleep(RECOVERY_LOAD_SECONDS)
    flow.pause()
    try:
        journal = Journal(venue.data_dir, _health(http)["engine"]["sequence"])
        _wait_for(
            http, lambda health: _status(dependency, health) == "up", deadline - time.monotonic(), "/health saying up"
        )
        _wait_until_equal(dependency, journal, deadline)
        return time.monotonic() - restarted
    finally:
        flow.resume()


def _wait_until_equal(dependency: Dependency, journal: Journal, deadline: float) -> None:
    """Compare the projection with the journal until they are equal; fail with the differences at ``deadline``."""
    while True:
        try:
            differences = asyncio.run(dependency.differences(journal))
        except Exception as error:  # a server just back may refuse a reader for a moment, in its client's own words
            differences = [f"reading it failed: {type(error).__name__}: {error}"]
        if not differences:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not equal to the journal {RECOVERY_SECONDS} s after the restart: {differences}")
        time.sleep(0.2)


def _health(http: httpx.Client) -> Health:
    components: Health = http.get("/health").json()["components"]
    return components


def _status(dependency: Dependency, components: Health) -> Any:
    return dependency.component(components)["status"]


def _wait_for(http: httpx.Client, condition: Callable[[Health], bool], timeout: float, what: str) -> None:
    """Poll /health until ``condition`` holds for its components; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition(components := _health(http)):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:.1f} s; last: {components}")
        time.sleep(0.02)
