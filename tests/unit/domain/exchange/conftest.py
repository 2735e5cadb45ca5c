"""Fixtures for the exchange tests; ``harness`` holds the ``Market`` driver and its invariant checks."""

from __future__ import annotations

import pytest
from tests.unit.domain.exchange.harness import ALICE, BOB, CAROL, DAVE, Market


@pytest.fixture
def market() -> Market:
    """A fresh market with four rich, fee-free accounts and no risk limits."""
    fresh = Market()
    for account_id in (ALICE, BOB, CAROL, DAVE):
        fresh.open_account(account_id)
    return fresh


@pytest.fixture
def empty_market() -> Market:
    """A fresh market without any account."""
    return Market()
