"""Who is calling: the API key (and, if sent, the request signature), the per-key rate limit, the admin token."""

from __future__ import annotations

import hmac
import math
import time
from typing import Any, Final

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from hft.gateways.rest.convert import InputError
from hft.service.auth import MAX_KEY_LENGTH
from hft.service.venue import Venue

ACCOUNT_SCOPE_KEY: Final = "hft.account"


def identify(venue: Venue, api_key: str | None) -> int:
    """Return the account of ``api_key`` and take a token of its rate limit.

    Raises ``InputError``: 401 for a missing or wrong key, 429 over the rate limit.
    """
    account = venue.authenticate(api_key) if api_key and len(api_key) <= MAX_KEY_LENGTH else None
    if account is None:
        raise InputError("UNAUTHORIZED", "missing or invalid X-API-Key header", status=401)
    wait = venue.rate_limiter.retry_after(account, time.monotonic())
    if wait:
        retry_after = str(max(1, math.ceil(wait)))
        raise InputError(
            "RATE_LIMITED", "request rate limit exceeded", status=429, headers={"Retry-After": retry_after}
        )
    return account


def check_signature(
    venue: Venue, api_key: str, signature: str, timestamp: str | None, method: str, path_with_query: str, body: bytes
) -> None:
    """Refuse (401) a signed request whose signature is wrong, stale or replayed."""
    refused = venue.signatures.check(api_key, timestamp or "", signature, method, path_with_query, body, time.time())
    if refused is not None:
        raise InputError("UNAUTHORIZED", refused, status=401)


async def api_key_guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    """Authenticate a private route before its body is even read (401 / 429 first)."""
    venue: Venue = connection.app.state.venue
    connection.scope[ACCOUNT_SCOPE_KEY] = identify(venue, connection.headers.get("x-api-key"))  # type: ignore[typeddict-unknown-key]


async def provide_account(request: Request[Any, Any, Any]) -> int:
    """Return the account ``api_key_guard`` identified, after checking the signature if one was sent."""
    headers = request.headers
    signature = headers.get("x-signature")
    if signature is not None:
        query = request.url.query
        check_signature(
            request.app.state.venue,
            headers.get("x-api-key", ""),
            signature,
            headers.get("x-timestamp"),
            request.method,
            request.url.path + (f"?{query}" if query else ""),
            await request.body(),
        )
    account: int = request.scope[ACCOUNT_SCOPE_KEY]  # type: ignore[typeddict-item]
    return account


async def admin_guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    """Allow the request only with ``Authorization: Bearer <admin token>`` (403 when no token is configured)."""
    venue: Venue = connection.app.state.venue
    token = venue.settings.admin_token
    if token is None:
        raise PermissionDeniedException("the admin API is disabled: set HFT_ADMIN_TOKEN to enable it")
    scheme, _separator, given = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
        raise NotAuthorizedException("missing or invalid admin bearer token")
