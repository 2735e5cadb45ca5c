"""Tansu for the Kafka adapter tests: one broker for the session, topics under a prefix no other test uses."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from hft.testing.tansu import TansuBroker


def _running() -> Iterator[TansuBroker]:
    broker = TansuBroker()
    try:
        broker.start()
        yield broker
    finally:
        broker.close()


@pytest.fixture(scope="session")
def tansu() -> Iterator[TansuBroker]:
    """A Tansu broker on memory storage shared by the session's tests (never stopped by them)."""
    yield from _running()


@pytest.fixture
def private_tansu() -> Iterator[TansuBroker]:
    """A Tansu broker of the test's own, which it may stop, kill and restart."""
    yield from _running()


@pytest.fixture
def prefix() -> str:
    """A fresh topic prefix."""
    return f"test{secrets.token_hex(4)}"
