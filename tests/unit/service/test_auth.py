"""API keys, request signatures (good, stale, replayed, tampered) and the per-account token bucket."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from hft.service.auth import (
    KEY_PREFIX,
    MAX_KEY_LENGTH,
    RateLimiter,
    SignatureChecker,
    key_digest,
    new_api_key,
    signature,
)

KEY = "hft_test-key-0123456789"
NOW = 1_767_225_600.0
WINDOW = 5
BODY = b'{"symbol": "AAPL", "side": "BUY", "quantity": 1, "price": "100"}'


def _signed(timestamp: str, method: str = "POST", path: str = "/api/orders", body: bytes = BODY) -> str:
    """Sign as the documentation tells clients to, independently of the code under test."""
    secret = hashlib.sha256(KEY.encode()).hexdigest().encode()
    return hmac.new(secret, (timestamp + method + path).encode() + body, "sha256").hexdigest()


def _check(
    checker: SignatureChecker,
    timestamp: str,
    given: str,
    now: float = NOW,
    method: str = "POST",
    path: str = "/api/orders",
    body: bytes = BODY,
) -> str | None:
    return checker.check(KEY, timestamp, given, method, path, body, now)


# -- keys ---------------------------------------------------------------------------


def test_new_api_keys_are_prefixed_unique_and_within_the_accepted_length() -> None:
    keys = {new_api_key() for _ in range(1000)}

    assert len(keys) == 1000
    assert all(key.startswith(KEY_PREFIX) for key in keys)
    assert all(len(KEY_PREFIX) + 40 <= len(key) <= MAX_KEY_LENGTH for key in keys)
    assert all(key.isascii() and key.isprintable() and " " not in key for key in keys)


def test_key_digest_is_the_sha256_hex_of_the_key() -> None:
    assert key_digest(KEY) == hashlib.sha256(KEY.encode()).hexdigest()
    assert key_digest(KEY) != key_digest(KEY + "x")


def test_signature_follows_the_documented_recipe() -> None:
    assert signature(KEY, "1767225600", "post", "/api/orders", BODY) == _signed("1767225600")


# -- signatures ---------------------------------------------------------------------


def test_good_signature_is_accepted_once_and_its_replay_refused() -> None:
    checker = SignatureChecker(WINDOW)
    timestamp = str(int(NOW))

    first = _check(checker, timestamp, _signed(timestamp))
    replay = _check(checker, timestamp, _signed(timestamp), now=NOW + 1)

    assert first is None
    assert replay is not None
    assert "replay" in replay


def test_signature_in_upper_case_hex_is_accepted() -> None:
    timestamp = str(int(NOW))

    assert _check(SignatureChecker(WINDOW), timestamp, _signed(timestamp).upper()) is None


@pytest.mark.parametrize("offset", [-WINDOW, -1.5, 0, 2, WINDOW])
def test_timestamp_within_the_window_either_way_is_accepted(offset: float) -> None:
    timestamp = str(NOW + offset)

    assert _check(SignatureChecker(WINDOW), timestamp, _signed(timestamp)) is None


@pytest.mark.parametrize("offset", [-WINDOW - 0.001, -3600, WINDOW + 0.001, 10**9])
def test_stale_or_future_timestamp_is_refused_naming_the_window(offset: float) -> None:
    timestamp = str(NOW + offset)

    refused = _check(SignatureChecker(WINDOW), timestamp, _signed(timestamp))

    assert refused is not None
    assert f"{WINDOW} s" in refused


@pytest.mark.parametrize("timestamp", ["", "soon", "nan", "inf", "-inf", "1e400"])
def test_timestamp_that_is_not_a_finite_number_is_refused(timestamp: str) -> None:
    refused = _check(SignatureChecker(WINDOW), timestamp, _signed(timestamp))

    assert refused is not None
    assert "X-Timestamp" in refused


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("DELETE", "/api/orders", BODY), ("POST", "/api/orders/1", BODY), ("POST", "/api/orders", BODY + b" ")],
    ids=["method", "path", "body"],
)
def test_signature_of_another_request_is_refused(method: str, path: str, body: bytes) -> None:
    timestamp = str(int(NOW))

    refused = _check(SignatureChecker(WINDOW), timestamp, _signed(timestamp), method=method, path=path, body=body)

    assert refused is not None
    assert "X-Signature" in refused


@pytest.mark.parametrize(
    "given",
    ["", "0" * 64, "not hex at all", "\u00e9" * 64, "\xff"],
    ids=["empty", "zeros", "not-hex", "latin-1-letters", "byte-ff"],
)
def test_malformed_signature_is_refused_not_an_error(given: str) -> None:
    # Header values arrive as latin-1 text, so a client can send any byte: none may crash the check.
    refused = _check(SignatureChecker(WINDOW), str(int(NOW)), given)

    assert refused is not None
    assert "X-Signature" in refused


def test_refused_signature_does_not_use_up_the_request() -> None:
    checker = SignatureChecker(WINDOW)
    timestamp = str(int(NOW))
    _check(checker, timestamp, "0" * 64)

    assert _check(checker, timestamp, _signed(timestamp)) is None


def test_replay_is_caught_until_the_timestamp_itself_is_stale() -> None:
    checker = SignatureChecker(WINDOW)
    timestamp = str(NOW + WINDOW)  # sent from a clock running ahead by the whole window
    assert _check(checker, timestamp, _signed(timestamp), now=NOW) is None

    # Still fresh by its timestamp at the far edge of the window: must still be known as seen.
    at_the_edge = _check(checker, timestamp, _signed(timestamp), now=NOW + 2 * WINDOW)
    beyond = _check(checker, timestamp, _signed(timestamp), now=NOW + 2 * WINDOW + 0.5)

    assert at_the_edge is not None
    assert "replay" in at_the_edge
    assert beyond is not None
    assert "X-Timestamp" in beyond


def test_remembered_signatures_are_forgotten_once_they_cannot_be_replayed() -> None:
    checker = SignatureChecker(WINDOW)
    for second in range(100):
        timestamp = str(NOW + second)
        assert _check(checker, timestamp, _signed(timestamp), now=NOW + second) is None

    # Only the last 2 x WINDOW seconds' worth can still be replayed; older ones are dropped.
    assert len(checker._seen) <= 2 * WINDOW + 1
    assert len(checker._expiries) == len(checker._seen)


# -- rate limits ----------------------------------------------------------------------


def test_rate_zero_is_unlimited() -> None:
    limiter = RateLimiter(0)

    assert all(limiter.retry_after(1, NOW) == 0 for _ in range(10_000))


def test_burst_of_one_seconds_worth_then_refused_with_the_wait() -> None:
    limiter = RateLimiter(10)

    allowed = [limiter.retry_after(1, NOW) for _ in range(10)]
    refused = limiter.retry_after(1, NOW)

    assert allowed == [0.0] * 10
    assert refused == pytest.approx(0.1)


def test_tokens_refill_at_the_rate() -> None:
    limiter = RateLimiter(10)
    for _ in range(10):
        limiter.retry_after(1, NOW)

    half_second = [limiter.retry_after(1, NOW + 0.5) for _ in range(6)]

    assert half_second[:5] == [0.0] * 5
    assert half_second[5] > 0


def test_waiting_the_announced_time_is_enough() -> None:
    limiter = RateLimiter(4)
    for _ in range(4):
        limiter.retry_after(1, NOW)
    wait = limiter.retry_after(1, NOW)

    assert wait > 0
    assert limiter.retry_after(1, NOW + wait + 1e-9) == 0.0


def test_idle_time_does_not_bank_more_than_one_seconds_worth() -> None:
    limiter = RateLimiter(5)
    limiter.retry_after(1, NOW)

    after_an_hour = [limiter.retry_after(1, NOW + 3600) for _ in range(6)]

    assert after_an_hour[:5] == [0.0] * 5
    assert after_an_hour[5] > 0


def test_accounts_have_their_own_buckets() -> None:
    limiter = RateLimiter(2)
    for _ in range(2):
        limiter.retry_after(1, NOW)

    assert limiter.retry_after(1, NOW) > 0
    assert limiter.retry_after(2, NOW) == 0.0


def test_sustained_rate_is_what_was_configured() -> None:
    limiter = RateLimiter(50)
    allowed = 0
    # Ask 200 times a second for 10 seconds.
    for step in range(2000):
        if limiter.retry_after(7, NOW + step * 0.005) == 0:
            allowed += 1

    assert 50 * 10 <= allowed <= 50 * 10 + 50
