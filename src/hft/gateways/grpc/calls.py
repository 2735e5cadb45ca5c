"""What every call goes through: the API key, the rate limit, and errors mapped to gRPC status codes as REST maps them.

A refusal ends the call with the status that matches REST's HTTP status, the REST message as the details,
and the REST error code in the trailing metadata ``error-code`` (plus ``retry-after`` when rate limited).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final, NoReturn, TypeVar

import grpc

from hft.engine.service import CoreUnavailableError
from hft.gateways.rest.convert import InputError
from hft.gateways.rest.security import identify
from hft.service.venue import Venue

log = logging.getLogger("hft.grpc")

API_KEY_METADATA: Final = "x-api-key"
ERROR_CODE_METADATA: Final = "error-code"
INVALID_ARGUMENT: Final = grpc.StatusCode.INVALID_ARGUMENT
RETRY_AFTER_METADATA: Final = "retry-after"

# REST's HTTP status -> the gRPC status of the same refusal.
STATUS_BY_HTTP: Final = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.FAILED_PRECONDITION,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    422: grpc.StatusCode.INVALID_ARGUMENT,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
}
# Where one HTTP status covers refusals gRPC tells apart.
STATUS_BY_ERROR: Final = {"DUPLICATE_CLIENT_ORDER_ID": grpc.StatusCode.ALREADY_EXISTS}

RequestT = TypeVar("RequestT")
ResponseT = TypeVar("ResponseT")
ServicerT = TypeVar("ServicerT", bound="Servicer")
Context = grpc.aio.ServicerContext[Any, Any]


class CallRefusedError(Exception):
    """Why a call ends without an answer: a gRPC status, a stable error code and a message."""

    def __init__(self, status: grpc.StatusCode, code: str, message: str, retry_after: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    async def end(self, context: Context) -> NoReturn:
        """End the call with this refusal (raises, as ``context.abort`` does)."""
        metadata = [(ERROR_CODE_METADATA, self.code)]
        if self.retry_after is not None:
            metadata.append((RETRY_AFTER_METADATA, self.retry_after))
        await context.abort(self.status, self.message, tuple(metadata))


class Servicer:
    """The venue and the bookkeeping every call of the gateway needs."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.internal_errors = venue.metrics.execution_errors.labels("grpc")

    def authenticate(self, context: Context) -> int:
        """Return the caller's account from ``x-api-key`` and take a token of its rate limit; raise ``InputError``."""
        api_key = None
        for key, value in context.invocation_metadata() or ():
            if key == API_KEY_METADATA and isinstance(value, str):
                api_key = value
        return identify(self.venue, api_key)

    def refusal(self, error: Exception, where: str) -> CallRefusedError:
        """Map an exception raised while serving ``where`` to the refusal the client gets; log the unexpected."""
        if isinstance(error, InputError):
            status = STATUS_BY_ERROR.get(error.code) or STATUS_BY_HTTP.get(
                error.status, grpc.StatusCode.INVALID_ARGUMENT
            )
            retry_after = (error.headers or {}).get("Retry-After")
            return CallRefusedError(status, error.code, error.message, retry_after)
        if isinstance(error, CoreUnavailableError):
            return CallRefusedError(grpc.StatusCode.UNAVAILABLE, "UNAVAILABLE", str(error))
        log.error("unexpected error in %s", where, exc_info=error)
        self.internal_errors.inc()
        return CallRefusedError(
            grpc.StatusCode.INTERNAL, "INTERNAL_ERROR", "the server failed to answer; the error was logged"
        )


def unary(
    method: Callable[[ServicerT, RequestT, int], Awaitable[ResponseT]],
) -> Callable[[ServicerT, RequestT, Context], Awaitable[ResponseT]]:
    """Make ``method(self, request, account)`` a unary gRPC handler: authenticate first, map every refusal."""

    @functools.wraps(method)
    async def handle(self: ServicerT, request: RequestT, context: Context) -> ResponseT:
        try:
            return await method(self, request, self.authenticate(context))
        except Exception as error:  # (the abort below raises grpc's own exception, outside this block)
            refusal = self.refusal(error, method.__name__)
        return await refusal.end(context)

    return handle
