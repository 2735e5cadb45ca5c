"""Service URLs as they may appear in logs and health reports."""

from __future__ import annotations


def without_password(url: str) -> str:
    """Return ``url`` with its password, if any, replaced by ``***`` (``scheme://user:***@host/...``)."""
    scheme, _, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
