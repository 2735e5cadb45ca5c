"""Who is calling: the API key (and, if sent, the request signature), the per-key rate limit, the admin token."""

from __future__ import annotations

import hmac
import math
import time
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from hft.gateways.rest.convert import InputError
from hft.service.auth import MAX_KEY_LENGTH
from hft.service.venue import Venue


def authenticate(
    venue: Venue,
    api_key: str | None,
    signature: str | None,
    timestamp: str | None,
    method: str,
    path_with_query: str,
    body: bytes,
) -> int:
    """Return the account of ``api_key``, checking the signature if one is sent and the rate limit.

    Raises ``InputError``: 401 for a missing or wrong key or a bad signature, 429 over the rate limit.
    """
    account = venue.authenticate(api_key) if api_key and len(api_key) <= MAX_KEY_LENGTH else None
    if account is None or api_key is None:
        raise InputError("UNAUTHORIZED", "missing or invalid X-API-Key header", status=401)
    if signature is not None:
        refused = venue.signatures.check(
            api_key, timestamp or "", signature, method, path_with_query, body, time.time()
        )
        if refused is not None:
            raise InputError("UNAUTHORIZED", refused, status=401)
    wait = venue.rate_limiter.retry_after(account, time.monotonic())
    if wait:
        retry_after = str(max(1, math.ceil(wait)))
        raise InputError(
            "RATE_LIMITED", "request rate limit exceeded", status=429, headers={"Retry-After": retry_after}
        )
    return account


async def provide_account(request: Request[Any, Any, Any], venue: Venue) -> int:
    """Return the account of the request's ``X-API-Key`` (see ``authenticate``)."""
    headers = request.headers
    signature = headers.get("x-signature")
    query = request.url.query
    return authenticate(
        venue,
        headers.get("x-api-key"),
        signature,
        headers.get("x-timestamp"),
        request.method,
        request.url.path + (f"?{query}" if query else ""),
        await request.body() if signature is not None else b"",
    )


async def admin_guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    """Allow the request only with ``Authorization: Bearer <admin token>`` (403 when no token is configured)."""
    venue: Venue = connection.app.state.venue
    token = venue.settings.admin_token
    if token is None:
        raise PermissionDeniedException("the admin API is disabled: set HFT_ADMIN_TOKEN to enable it")
    scheme, _separator, given = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
        raise NotAuthorizedException("missing or invalid admin bearer token")
