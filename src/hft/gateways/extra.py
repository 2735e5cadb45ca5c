"""The gateways ``hft serve`` runs beside HTTP and WebSocket, each on its own port, when configured."""

from __future__ import annotations

from typing import Protocol

from hft.config.settings import Settings
from hft.service.venue import Venue


class Gateway(Protocol):
    """A network entry point into the venue: started after the venue, stopped before it."""

    async def start(self) -> None:
        """Bind and begin serving; raise if the port cannot be used."""
        ...

    async def stop(self) -> None:
        """Stop accepting, close every session (a few seconds at most)."""
        ...


def extra_gateways(venue: Venue, settings: Settings) -> list[Gateway]:
    """Return the configured gateways besides HTTP (gRPC, FIX), not yet started."""
    gateways: list[Gateway] = []
    if settings.grpc_enabled:
        from hft.gateways.grpc.server import GrpcGateway  # noqa: PLC0415 (optional gateways load only when enabled)

        gateways.append(GrpcGateway(venue, settings))
    if settings.fix_enabled:
        from hft.gateways.fix.acceptor import FixGateway  # noqa: PLC0415

        gateways.append(FixGateway(venue, settings))
    return gateways
