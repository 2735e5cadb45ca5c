"""Health, metrics and the OpenAPI schema: what operators and tools poll."""

from __future__ import annotations

import time
from typing import Any, Literal

from litestar import MediaType, Request, Response, get

from hft.gateways.rest import schemas
from hft.service.venue import Venue


@get("/health", summary="Component health", tags=["system"], sync_to_thread=False)
def health(venue: Venue) -> Response[schemas.HealthResponse]:
    """Report every component; 200 while trading is possible, 503 when it is not."""
    components = venue.health()
    trading = components["engine"]["status"] == "up" and components["journal"]["status"] == "up"
    degraded = any(component["status"] == "down" for component in components.values())
    status: Literal["ok", "degraded", "down"] = "down" if not trading else "degraded" if degraded else "ok"
    body = schemas.HealthResponse(
        status=status, components=components, uptime_seconds=round(time.time() - venue.started_at, 3)
    )
    return Response(body, status_code=200 if trading else 503)


@get("/metrics", summary="Prometheus metrics", tags=["system"], media_type=MediaType.TEXT, sync_to_thread=False)
def metrics(venue: Venue) -> Response[bytes]:
    """Return the metrics in the Prometheus text format."""
    venue.health()  # refreshes component_up
    return Response(venue.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


@get("/openapi.json", summary="OpenAPI schema", tags=["system"], include_in_schema=False, sync_to_thread=False)
def openapi_schema(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Return the OpenAPI 3.1 schema of this API (also at /docs/openapi.json)."""
    schema: dict[str, Any] = request.app.openapi_schema.to_schema()
    return schema
