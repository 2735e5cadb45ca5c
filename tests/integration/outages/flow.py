"""A steady order flow over REST from a background thread, counting what the venue accepted and what failed.

Two accounts send crossing limit orders on several symbols at a fixed rate
and now and then cancel one of their working orders. Every 201 counts; a 5xx,
a timeout or a refused connection is a failure: trading must never stop,
whatever a projection is doing.
"""

from __future__ import annotations

import random
import threading
import time
from decimal import Decimal
from typing import Final

import httpx

SYMBOLS: Final = ("AAPL", "MSFT", "GOOGL", "NVDA", "SPY")
CANCEL_SHARE: Final = 0.15
REQUEST_TIMEOUT_SECONDS: Final = 5.0
OPEN: Final = frozenset({"NEW", "PARTIALLY_FILLED"})


class OrderFlow(threading.Thread):
    """Submits and cancels orders at ``rate`` a second until ``close()``; ``pause()`` holds it between requests."""

    def __init__(self, url: str, api_keys: list[str], rate: float, seed: int) -> None:
        super().__init__(name="order-flow", daemon=True)
        self.url = url
        self.api_keys = api_keys
        self.interval = 1.0 / rate
        self.rng = random.Random(seed)
        self.accepted = 0  # 201 answers to submissions
        self.rejected = 0  # of which for orders the exchange refused
        self.cancelled = 0  # 200 answers to cancels
        self.failures: list[str] = []
        self.longest_gap = 0.0  # the longest time without a successful answer while the flow ran
        self._working: list[tuple[int, int]] = []
        self._running = threading.Event()
        self._closed = threading.Event()
        self._step_lock = threading.Lock()
        self._last_answer = time.monotonic()

    # -- what the test calls --------------------------------------------------

    def resume(self) -> None:
        """Start or resume sending."""
        self._last_answer = time.monotonic()
        self._running.set()

    def pause(self) -> None:
        """Stop sending and return once no request is in flight."""
        self._running.clear()
        with self._step_lock:
            pass

    def close(self) -> None:
        """Stop for good and wait for the thread."""
        self._closed.set()
        self._running.clear()
        self.join(REQUEST_TIMEOUT_SECONDS * 2)

    def __enter__(self) -> OrderFlow:
        self.start()
        self.resume()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the thread ---------------------------------------------------------------

    def run(self) -> None:
        """Send at the set rate while running; every client closes when the flow does."""
        clients = [
            httpx.Client(base_url=self.url, headers={"X-API-Key": key}, timeout=REQUEST_TIMEOUT_SECONDS)
            for key in self.api_keys
        ]
        try:
            next_send = time.monotonic()
            while not self._closed.is_set():
                if not self._running.wait(0.05):
                    next_send = time.monotonic()
                    continue
                with self._step_lock:
                    if self._running.is_set():
                        self._step(clients)
                next_send = max(next_send + self.interval, time.monotonic() - self.interval)
                time.sleep(max(0.0, next_send - time.monotonic()))
        finally:
            for client in clients:
                client.close()

    def _step(self, clients: list[httpx.Client]) -> None:
        try:
            if self._working and self.rng.random() < CANCEL_SHARE:
                self._cancel(clients)
            else:
                self._submit(clients)
        except httpx.HTTPError as error:
            self.failures.append(f"{type(error).__name__}: {error}")

    def _submit(self, clients: list[httpx.Client]) -> None:
        rng = self.rng
        account = rng.randrange(len(clients))
        side = "BUY" if account == 0 else "SELL"
        # The buyer bids a little above the seller's asks often enough for most orders to trade.
        ticks = rng.randint(-3, 5) if side == "BUY" else rng.randint(-5, 3)
        body = {
            "symbol": rng.choice(SYMBOLS),
            "side": side,
            "quantity": str(rng.randint(1, 20)),
            "price": f"{Decimal(10_000 + ticks) / 100:.2f}",
        }
        response = clients[account].post("/api/orders", json=body)
        if response.status_code != 201:
            self.failures.append(f"submit {body}: {response.status_code} {response.text[:200]}")
            return
        self.accepted += 1
        self._answered()
        order = response.json()
        if order["status"] == "REJECTED":
            self.rejected += 1
        elif order["status"] in OPEN:
            self._working.append((account, order["order_id"]))

    def _cancel(self, clients: list[httpx.Client]) -> None:
        account, order_id = self._working.pop(self.rng.randrange(len(self._working)))
        response = clients[account].delete(f"/api/orders/{order_id}")
        if response.status_code == 200:
            self.cancelled += 1
            self._answered()
        elif response.status_code != 409:  # 409: it filled in the meantime
            self.failures.append(f"cancel {order_id}: {response.status_code} {response.text[:200]}")

    def _answered(self) -> None:
        now = time.monotonic()
        self.longest_gap = max(self.longest_gap, now - self._last_answer)
        self._last_answer = now
