"""Who is calling: the API key (and, if sent, the request signature), the per-key rate limit, the admin token."""

from __future__ import annotations

import hmac
import math
import time
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from hft.service.auth import MAX_KEY_LENGTH
from hft.service.venue import Venue


class TooManyRequestsError(HTTPException):
    """The account went over its request rate; retry after ``Retry-After`` seconds."""

    status_code = 429


async def provide_account(request: Request[Any, Any, Any], venue: Venue) -> int:
    """Return the account of the request's ``X-API-Key``; 401 if missing or wrong, 429 if over its rate."""
    headers = request.headers
    api_key = headers.get("x-api-key")
    if not api_key or len(api_key) > MAX_KEY_LENGTH:
        raise NotAuthorizedException("missing or invalid X-API-Key header")
    account = venue.authenticate(api_key)
    if account is None:
        raise NotAuthorizedException("missing or invalid X-API-Key header")
    given = headers.get("x-signature")
    if given is not None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        refused = venue.signatures.check(
            api_key, headers.get("x-timestamp", ""), given, request.method, path, await request.body(), time.time()
        )
        if refused is not None:
            raise NotAuthorizedException(refused)
    wait = venue.rate_limiter.retry_after(account, time.monotonic())
    if wait:
        raise TooManyRequestsError("request rate limit exceeded", headers={"Retry-After": str(max(1, math.ceil(wait)))})
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
