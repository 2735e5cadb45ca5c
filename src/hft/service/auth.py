"""API keys, optional HMAC request signatures, and per-key rate limits.

Keys are random, shown once, and only their SHA-256 digest is kept (in the
journal, through ``SetApiKey``). A signed request adds ``X-Timestamp``
(Unix seconds) and ``X-Signature``: the hex HMAC-SHA256, keyed with the
SHA-256 digest of the API key, of ``timestamp + method + path + body``.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections import deque
from typing import Final

KEY_PREFIX: Final = "hft_"
MAX_KEY_LENGTH: Final = 100


def new_api_key() -> str:
    """Return a fresh random API key (256 bits of entropy)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_digest(api_key: str) -> str:
    """Return the SHA-256 hex digest under which a key is stored."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def signature(api_key: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    """Return the signature a client sends for this request (see the module docstring)."""
    secret = key_digest(api_key).encode()
    return hmac.new(secret, timestamp.encode() + method.upper().encode() + path.encode() + body, "sha256").hexdigest()


class SignatureChecker:
    """Verify signed requests: right signature, fresh timestamp, never seen before in the window."""

    def __init__(self, window_seconds: int) -> None:
        self.window_seconds = window_seconds
        self._seen: dict[str, float] = {}
        self._expiries: deque[tuple[float, str]] = deque()

    def check(
        self, api_key: str, timestamp: str, given: str, method: str, path: str, body: bytes, now: float
    ) -> str | None:
        """Return why the request's signature is refused, or None if it is good (and remember it)."""
        try:
            sent_at = float(timestamp)
        except ValueError:
            return "X-Timestamp must be Unix time in seconds"
        if not math.isfinite(sent_at) or abs(now - sent_at) > self.window_seconds:
            return f"X-Timestamp is more than {self.window_seconds} s away from the server's clock"
        expected = signature(api_key, timestamp, method, path, body)
        if not given.isascii() or not hmac.compare_digest(expected, given.lower()):
            return "X-Signature does not match the request"
        self._forget_before(now)
        if expected in self._seen:
            return "this signed request was already received (replay)"
        expiry = now + 2 * self.window_seconds
        self._seen[expected] = expiry
        self._expiries.append((expiry, expected))
        return None

    def _forget_before(self, now: float) -> None:
        expiries = self._expiries
        while expiries and expiries[0][0] < now:
            self._seen.pop(expiries.popleft()[1], None)


class RateLimiter:
    """A token bucket per account: ``rate`` requests per second, bursts up to one second's worth."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._buckets: dict[int, list[float]] = {}

    def retry_after(self, account: int, now: float) -> float:
        """Take a token for ``account``; return 0 if allowed, else the seconds until one is available."""
        if self.rate <= 0:
            return 0.0
        bucket = self._buckets.get(account)
        if bucket is None:
            bucket = self._buckets[account] = [float(self.rate), now]
        tokens = min(float(self.rate), bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return 0.0
        bucket[0] = tokens
        return (1.0 - tokens) / self.rate
