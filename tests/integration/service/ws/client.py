"""Clients for the WebSocket tests: a WebSocket session that keeps what it reads, and a REST trader.

Both talk to a real ``hft serve`` child process. The WebSocket client skips
heartbeats (it counts them) so tests read only the messages they are about.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

from hft.testing.server import ServerProcess

Message = dict[str, Any]
Book = dict[str, dict[Decimal, Decimal]]


class Session:
    """One WebSocket connection to ``/ws``; ``received`` holds every non-heartbeat message read so far."""

    def __init__(self, server: ServerProcess, query: str = "") -> None:
        self.connection: ClientConnection = connect(
            f"ws://127.0.0.1:{server.port}/ws{query}", open_timeout=10, legacy=True
        )
        self.received: list[Message] = []
        self.heartbeats: list[Message] = []

    def send(self, message: Message | str) -> None:
        """Send a JSON object (or raw text as is)."""
        self.connection.send(message if isinstance(message, str) else json.dumps(message))

    def next(self, timeout: float = 5.0) -> Message:
        """Return the next message that is not a heartbeat; raise ``TimeoutError`` if none comes in time."""
        deadline = time.monotonic() + timeout
        while True:
            raw = self.connection.recv(timeout=max(deadline - time.monotonic(), 0.001))
            message: Message = json.loads(raw)
            if message.get("type") == "heartbeat":
                self.heartbeats.append(message)
                continue
            self.received.append(message)
            return message

    def wait_for(self, wanted: Callable[[Message], bool], timeout: float = 5.0, what: str = "message") -> Message:
        """Read until a message satisfies ``wanted``; return it (what came before stays in ``received``)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {what} within {timeout} s; received {self.received[-10:]}")
            try:
                message = self.next(remaining)
            except TimeoutError:
                continue
            if wanted(message):
                return message

    def subscribe(self, *channels: str) -> Message:
        """Subscribe and return the ``subscribed`` answer."""
        self.send({"op": "subscribe", "channels": list(channels)})
        return self.wait_for(lambda message: message.get("type") == "subscribed", what="subscribed")

    def authenticate(self, api_key: str) -> Message:
        """Send ``auth`` and return the answer."""
        self.send({"op": "auth", "api_key": api_key})
        return self.next()

    def on(self, channel: str) -> list[Message]:
        """Return what has been received on ``channel`` so far."""
        return [message for message in self.received if message.get("channel") == channel]

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class Trader:
    """One account on the server, trading over REST with its API key."""

    def __init__(self, server: ServerProcess, name: str, cash: str = "10000000") -> None:
        created = server.create_account(name, cash)
        self.account_id: int = created["account_id"]
        self.api_key: str = created["api_key"]
        self.http = httpx.Client(base_url=server.url, headers={"X-API-Key": self.api_key}, timeout=30)

    def order(self, symbol: str, side: str, quantity: int | str, price: str, **extra: Any) -> Message:
        """Submit a limit order; return the 201 answer."""
        body = {"symbol": symbol, "side": side, "quantity": str(quantity), "price": price, **extra}
        response = self.http.post("/api/orders", json=body)
        assert response.status_code == 201, response.text
        answer: Message = response.json()
        return answer

    def cancel(self, order_id: int) -> Message:
        """Cancel an order; return the answer."""
        response = self.http.delete(f"/api/orders/{order_id}")
        assert response.status_code == 200, response.text
        answer: Message = response.json()
        return answer

    def get(self, path: str) -> Any:
        """GET ``path`` and return the JSON of the 200 answer."""
        response = self.http.get(path)
        assert response.status_code == 200, response.text
        return response.json()

    def close(self) -> None:
        """Close the HTTP client."""
        self.http.close()


def levels(pairs: list[list[str]]) -> dict[Decimal, Decimal]:
    """Turn ``[[price, quantity], ...]`` into a dict of decimals."""
    return {Decimal(price): Decimal(quantity) for price, quantity in pairs}


def apply_update(book: Book, update: Message) -> None:
    """Apply a book ``update`` to a local book: a quantity of 0 removes the level."""
    for side in ("bids", "asks"):
        for price, quantity in levels(update[side]).items():
            if quantity:
                book[side][price] = quantity
            else:
                book[side].pop(price, None)
