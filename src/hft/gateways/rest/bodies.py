"""Request bodies, decoded exactly.

Litestar decodes a ``data`` parameter through Python floats, which would
round ``3.0000000000000001`` to 3 and let keys named twice pass. Routes keep
``data`` so the OpenAPI schema documents the body, and read it with
``exact_body`` instead.
"""

from __future__ import annotations

from typing import Any, TypeVar

from litestar import Request

from hft.gateways.rest.convert import decode_body

T = TypeVar("T")


async def exact_body(request: Request[Any, Any, Any], kind: type[T]) -> T:
    """Return the request's JSON body as ``kind``; raise ``InputError`` (400, 415) if it is malformed."""
    return decode_body(await request.body(), request.headers.get("content-type"), kind)
