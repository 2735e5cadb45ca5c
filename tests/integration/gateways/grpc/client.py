"""Clients for the gRPC tests: accounts opened through the admin API, and ``grpc.aio`` calls made with their keys.

Everything goes over real sockets to an ``hft serve`` child process. grpc.aio channels belong to the event
loop that made them, so each test runs its scenario in one ``asyncio.run`` and opens its channels inside.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import grpc
import httpx

from hft.gateways.grpc.v1 import trading_pb2 as pb
from hft.gateways.grpc.v1 import trading_pb2_grpc
from hft.testing.server import ServerProcess

_names = itertools.count(1)
Metadata = tuple[tuple[str, str], ...]


class Trader:
    """One fresh account: its id, its API key, and a REST client for setting the scene and comparing answers."""

    def __init__(self, server: ServerProcess, name: str) -> None:
        created = server.create_account(f"{name}-{next(_names)}")
        self.account_id: int = created["account_id"]
        self.api_key: str = created["api_key"]
        self.metadata: Metadata = (("x-api-key", self.api_key),)
        self.http = httpx.Client(base_url=server.url, headers={"X-API-Key": self.api_key}, timeout=30)

    def rest_order(self, **fields: Any) -> httpx.Response:
        """POST /api/orders with ``fields`` as the JSON body."""
        return self.http.post("/api/orders", json=fields)

    def close(self) -> None:
        """Cancel the account's working orders (so the shared books stay clean) and close the REST client."""
        self.http.delete("/api/orders")
        self.http.close()


@asynccontextmanager
async def trading(server: ServerProcess, **options: Any) -> AsyncIterator[Any]:
    """Open a channel to the server's gRPC port; yield the ``hft.v1.Trading`` stub (channel options as keywords)."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}", options=list(options.items())) as channel:
        yield trading_pb2_grpc.TradingStub(channel)  # type: ignore[no-untyped-call]  # generated, untyped


def limit(symbol: str, side: pb.Side, quantity: str, price: str, **fields: Any) -> pb.SubmitOrderRequest:
    """A LIMIT order request."""
    return pb.SubmitOrderRequest(symbol=symbol, side=side, quantity=quantity, price=price, **fields)


async def refused(call: Any) -> grpc.aio.AioRpcError:
    """Await ``call`` and return the error it ends with (failing if it succeeds)."""
    try:
        answer = await call
    except grpc.aio.AioRpcError as error:
        return error
    raise AssertionError(f"expected a refusal, got {answer}")


def error_code(error: grpc.aio.AioRpcError) -> str | None:
    """The REST error code the server put in the trailing metadata."""
    for key, value in error.trailing_metadata() or ():
        if key == "error-code":
            return str(value)
    return None


async def next_message(stream: Any, timeout: float = 5.0) -> Any:
    """Read the stream's next message; fail if none comes within ``timeout`` seconds."""
    return await asyncio.wait_for(stream.read(), timeout)


async def read_until(stream: Any, wanted: Callable[[Any], bool], timeout: float = 5.0) -> list[Any]:
    """Read messages until one satisfies ``wanted``; return all read, that one last."""
    read: list[Any] = []
    async with asyncio.timeout(timeout):
        while True:
            message = await stream.read()
            assert message is not grpc.aio.EOF, f"the stream ended; read {read}"
            read.append(message)
            if wanted(message):
                return read
