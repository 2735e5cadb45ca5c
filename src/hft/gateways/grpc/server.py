"""``GrpcGateway``: the ``hft.v1.Trading`` service on ``host:grpc_port`` (50051), beside HTTP in ``hft serve``."""

from __future__ import annotations

import errno
import logging
from typing import Final

import grpc

from hft.config.settings import Settings
from hft.gateways.grpc.servicer import TradingServicer
from hft.gateways.grpc.streams import StreamHub
from hft.gateways.grpc.v1 import trading_pb2_grpc
from hft.service.venue import Venue

log = logging.getLogger("hft.grpc")

# In-flight calls get this long to finish at shutdown; streams are ended at once, with UNAVAILABLE.
STOP_GRACE_SECONDS: Final = 3.0


class GrpcGateway:
    """The gRPC server of one venue. ``await start()`` after the venue has started, ``await stop()`` before it stops."""

    def __init__(self, venue: Venue, settings: Settings, max_queue: int | None = None) -> None:
        """Prepare (not bind) the server; streams may fall ``max_queue`` messages behind (default ``ws_max_queue``)."""
        self.venue = venue
        self.settings = settings
        self.max_queue = max_queue or settings.ws_max_queue
        self.address = f"{_host(settings.host)}:{settings.grpc_port}"
        self.port: int | None = None
        self._server: grpc.aio.Server | None = None
        self._hub: StreamHub | None = None

    async def start(self) -> None:
        """Bind ``host:grpc_port`` and start serving; raise ``OSError`` if the port cannot be used."""
        server = grpc.aio.server(
            options=[
                # Refuse a port another process serves instead of sharing it (gRPC sets SO_REUSEPORT by default).
                ("grpc.so_reuseport", 0),
                # The same limit as an HTTP request body.
                ("grpc.max_receive_message_length", self.settings.max_body_bytes),
                # Ping idle connections, so streams of clients that vanished without a word are ended.
                ("grpc.keepalive_time_ms", 60_000),
                ("grpc.keepalive_timeout_ms", 20_000),
            ]
        )
        hub = StreamHub(self.venue, self.max_queue)
        servicer = TradingServicer(self.venue, hub)
        trading_pb2_grpc.add_TradingServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]  # generated
        try:
            self.port = server.add_insecure_port(self.address)
        except RuntimeError as error:
            hub.stop()
            # gRPC only says it failed; a taken port is by far the likeliest cause.
            raise OSError(errno.EADDRINUSE, f"cannot serve gRPC on {self.address}: {error}") from error
        await server.start()
        self._server, self._hub = server, hub
        log.info("gRPC on %s", self.address)

    async def stop(self) -> None:
        """End every stream (UNAVAILABLE), let unary calls finish for a few seconds, close the port."""
        if self._hub is not None:
            self._hub.stop()
        if self._server is not None:
            await self._server.stop(STOP_GRACE_SECONDS)
        self._server = self._hub = None


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
