"""Fixtures for the matching engine tests; ``hft.testing.venue`` holds the shared helpers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hft.domain.matching.engine import MatchingEngine
from hft.testing.venue import Venue


@pytest.fixture
def venue() -> Venue:
    """A fresh venue listing the default instruments."""
    return Venue()


@pytest.fixture
def engine(venue: Venue) -> MatchingEngine:
    """The engine of ``venue``."""
    return venue.engine


@pytest.fixture
def new_venue() -> Callable[..., Venue]:
    """A factory of further independent venues (optionally with other instruments)."""
    return Venue
