"""Fixtures for the REST API tests: the module's server (from the parent conftest) seen through HTTP clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.integration.service.rest.clients import Venue

from hft.testing.server import ServerProcess


@pytest.fixture
def venue(server: ServerProcess) -> Iterator[Venue]:
    """The module's running server; accounts opened through it have their working orders canceled afterwards.

    Tests of one module share the books, so a test leaves no working order behind for the next one to meet.
    """
    clients = Venue(server)
    yield clients
    clients.close()
