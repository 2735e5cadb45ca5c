"""Order entry, the hot path: ``POST /api/orders`` (and ``/api/order``) straight from ASGI to the venue.

The Litestar route documents these paths in the OpenAPI schema and serves
them when the lane is not mounted; both call ``place_order``, so there is
one implementation. The lane only skips the framework's per-request work
(routing, dependency injection, response negotiation), which costs more
than matching the order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

import msgspec

from hft.engine.service import CoreUnavailableError
from hft.gateways.orders import enter_order
from hft.gateways.rest import schemas
from hft.gateways.rest.convert import InputError, decode_body, order_response
from hft.gateways.rest.security import check_signature, identify
from hft.service.venue import Venue

ORDER_PATHS: Final = frozenset({"/api/orders", "/api/order"})

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]

_encoder = msgspec.json.Encoder()
_JSON_HEADERS: Final = [(b"content-type", b"application/json")]


async def place_order(venue: Venue, account: int, body: bytes, content_type: str | None) -> schemas.OrderResponse:
    """Decode, validate, journal and match one order; return it as it stands after matching.

    Raises ``InputError``: 400/422 for a malformed order (nothing journaled), 409 for a repeated client order id.
    """
    started = time.perf_counter_ns()
    request = decode_body(body, content_type, schemas.OrderRequest)
    metrics = venue.metrics
    order, instrument = await enter_order(
        venue, account, request, started, metrics.orders_accepted, metrics.orders_rejected
    )
    response = order_response(order, instrument)
    metrics.rest_order_latency.observe((time.perf_counter_ns() - started) / 1000)
    return response


def error_body(code: str, message: str, details: Any = None) -> bytes:
    """Return the JSON error body every route answers with: ``{"error", "message"[, "details"]}``."""
    body: dict[str, Any] = {"error": code, "message": message}
    if details:
        body["details"] = details
    return _encoder.encode(body)


class OrderEntryLane:
    """ASGI middleware: serve order submission directly, hand every other request to ``app``."""

    def __init__(self, app: ASGIApp, venue: Venue) -> None:
        self.app = app
        self.venue = venue
        self.max_body = venue.settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in ORDER_PATHS:
            await self._submit(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _submit(self, scope: Scope, receive: Receive, send: Send) -> None:
        venue = self.venue
        try:
            headers = {name: value for name, value in scope["headers"] if name in _HEADERS_READ}
            api_key = _text(headers.get(b"x-api-key"))
            account = identify(venue, api_key)
            body = await self._read_body(receive)
            signature = _text(headers.get(b"x-signature"))
            if signature is not None and api_key is not None:
                query = scope["query_string"]
                path = scope["path"] + (f"?{query.decode('latin-1')}" if query else "")
                check_signature(venue, api_key, signature, _text(headers.get(b"x-timestamp")), "POST", path, body)
            order = await place_order(venue, account, body, _text(headers.get(b"content-type")))
        except InputError as error:
            await _respond(send, error.status, error_body(error.code, error.message), error.headers)
            return
        except Exception as error:  # the same answer the framework gives an unexpected error
            status, payload, extra_headers = venue_error(venue, error, "order entry")
            await _respond(send, status, payload, extra_headers)
            return
        await _respond(send, 201, _encoder.encode(order))

    async def _read_body(self, receive: Receive) -> bytes:
        chunks = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise InputError("CLIENT_DISCONNECTED", "the client went away", status=400)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                # The rest of the body is never read, so the connection cannot be reused.
                raise InputError(
                    "REQUEST_TOO_LARGE",
                    f"request body over {self.max_body} bytes",
                    status=413,
                    headers={"Connection": "close"},
                )
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)


_HEADERS_READ: Final = frozenset({b"x-api-key", b"x-signature", b"x-timestamp", b"content-type"})


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


def venue_error(venue: Venue, error: Exception, where: str) -> tuple[int, bytes, dict[str, str] | None]:
    """Map an exception that is not the client's fault to a status and body (the core stopping is 503)."""
    if isinstance(error, CoreUnavailableError):
        return 503, error_body("UNAVAILABLE", str(error)), {"Retry-After": "1"}
    logging.getLogger("hft.http").error("unexpected error on %s", where, exc_info=error)
    venue.metrics.execution_errors.labels("http").inc()
    return 500, error_body("INTERNAL_ERROR", "the server failed to answer; the error was logged"), None


async def _respond(send: Send, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    raw_headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    if headers:
        raw_headers.extend((name.lower().encode(), value.encode()) for name, value in headers.items())
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})
