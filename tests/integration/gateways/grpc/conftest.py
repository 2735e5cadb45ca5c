"""Fixtures: one real ``hft serve`` with the gRPC gateway for the package, and fresh accounts for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.integration.gateways.grpc.client import Trader

from hft.testing.server import ServerProcess

GRPC_ON = {"HFT_GRPC_ENABLED": "true", "HFT_FSYNC": "false"}  # fsync off: these tests are about the protocol


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A running server with the gRPC gateway on, shared by the package's tests."""
    with ServerProcess(tmp_path_factory.mktemp("grpc") / "data", env=GRPC_ON) as running:
        yield running


@pytest.fixture
def traders(server: ServerProcess) -> Iterator[list[Trader]]:
    """Three fresh accounts (alice, bob, carol); their working orders are canceled afterwards."""
    created = [Trader(server, name) for name in ("alice", "bob", "carol")]
    yield created
    for trader in created:
        trader.close()
