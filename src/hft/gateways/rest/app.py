"""The HTTP application: every REST route, the WebSocket endpoint, errors as JSON, OpenAPI at /docs."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Litestar, MediaType, Request, Response, Router
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from hft import __version__
from hft.dashboard import dashboard_router
from hft.gateways.rest import account, market, orders, system
from hft.gateways.rest.admin import admin_router
from hft.gateways.rest.convert import InputError
from hft.gateways.rest.order_entry import ASGIApp, OrderEntryLane, error_body, venue_error
from hft.gateways.rest.security import api_key_guard, provide_account
from hft.gateways.ws.endpoint import websocket_endpoint
from hft.gateways.ws.hub import Hub
from hft.service.venue import CommandRefusedError, Venue

log = logging.getLogger("hft.http")

PRIVATE_ROUTES: list[Any] = [
    orders.submit_order,
    orders.submit_order_singular,
    orders.list_orders,
    orders.get_order,
    orders.get_order_by_client_id,
    orders.cancel_order,
    orders.amend_order,
    orders.mass_cancel,
    account.list_executions,
    account.list_positions,
    account.get_account,
]
PUBLIC_ROUTES: list[Any] = [
    market.list_instruments,
    market.get_book,
    market.get_trades,
    market.get_ticker,
    system.health,
    system.metrics,
    system.openapi_schema,
    admin_router,
    websocket_endpoint,
    dashboard_router(),
]


def _error(status: int, code: str, message: str, details: Any = None, headers: Any = None) -> Response[bytes]:
    return Response(error_body(code, message, details), status_code=status, media_type=MediaType.JSON, headers=headers)


def _on_input_error(_: Request[Any, Any, Any], error: InputError) -> Response[Any]:
    return _error(error.status, error.code, error.message, headers=error.headers)


def _on_refused(_: Request[Any, Any, Any], error: CommandRefusedError) -> Response[Any]:
    return _error(422, error.reason, str(error))


def _on_validation(_: Request[Any, Any, Any], error: ValidationException) -> Response[Any]:
    details = error.extra if isinstance(error.extra, list) else None
    return _error(400, "INVALID_REQUEST", _validation_message(error), details)


def _validation_message(error: ValidationException) -> str:
    if isinstance(error.extra, list) and error.extra and isinstance(error.extra[0], dict):
        first = error.extra[0]
        return str(first.get("message", error.detail))
    return str(error.detail)


_HTTP_CODES = {
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "REQUEST_TOO_LARGE",
    429: "RATE_LIMITED",
}


def _on_http(_: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    extra = error.extra if isinstance(error.extra, dict) else {}
    code = str(extra.get("error", _HTTP_CODES.get(error.status_code, "BAD_REQUEST")))
    details = [{key: str(value) for key, value in extra.items()}] if extra else None
    headers = dict(error.headers or {})
    if error.status_code == 413:
        headers["Connection"] = "close"  # the unread rest of the body makes the connection unusable
    return _error(error.status_code, code, str(error.detail), details, headers=headers or None)


def _on_malformed(_: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    message = (
        "the body is not valid UTF-8" if isinstance(error, UnicodeDecodeError) else "the body is nested too deeply"
    )
    return _error(400, "INVALID_REQUEST", message)


def _on_unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    status, body, headers = venue_error(request.app.state.venue, error, f"{request.method} {request.url.path}")
    return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)


def create_app(venue: Venue) -> Litestar:
    """Build the ASGI application around a started (or about to start) venue."""
    app = Litestar(
        route_handlers=[Router(path="/", route_handlers=PRIVATE_ROUTES, guards=[api_key_guard]), *PUBLIC_ROUTES],
        dependencies={
            "venue": Provide(lambda: venue, use_cache=True, sync_to_thread=False),
            "account": Provide(provide_account),
        },
        exception_handlers={
            InputError: _on_input_error,
            CommandRefusedError: _on_refused,
            ValidationException: _on_validation,
            HTTPException: _on_http,
            UnicodeDecodeError: _on_malformed,
            RecursionError: _on_malformed,
            Exception: _on_unexpected,
        },
        openapi_config=OpenAPIConfig(
            title="hft",
            version=__version__,
            description="An electronic trading venue: order entry, account, market data and admin API.",
            path="/docs",
            render_plugins=[SwaggerRenderPlugin(path="/"), JsonRenderPlugin(path="/openapi.json")],
            components=Components(
                security_schemes={
                    "apiKey": SecurityScheme(type="apiKey", name="X-API-Key", security_scheme_in="header"),
                    "admin": SecurityScheme(type="http", scheme="bearer"),
                }
            ),
        ),
        request_max_body_size=venue.settings.max_body_bytes,
        debug=False,
    )
    app.state.venue = venue
    app.state.hub = Hub(venue)
    return app


def create_asgi_app(venue: Venue) -> ASGIApp:
    """Return what the server runs: the order-entry lane in front of the Litestar application."""
    return OrderEntryLane(create_app(venue), venue)
