"""The services the venue projects into, each with its private server, its settings, its health and its comparison.

Adding one is a factory here: start a private server, tell ``hft serve``
where it is, say where ``/health`` reports it and how to hold its content
against the journal.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from typing import Any

from tests.integration.outages.journal import Journal
from tests.integration.outages.postgres import PostgresServer
from tests.integration.outages.projections import (
    cache_differences,
    database_differences,
    stream_differences,
)

from hft.adapters.kafka import reader as kafka_reader
from hft.adapters.nats import reader as nats_reader
from hft.testing.services import NatsServer, PrivateServer, RedisServer
from hft.testing.tansu import TansuBroker

Health = dict[str, Any]
STREAM_PREFIX = "outage"
CACHE_PREFIX = "outage:"


@dataclass(frozen=True)
class Dependency:
    """One service the venue keeps a projection in, and what the outage test needs to know about it."""

    name: str
    server: PrivateServer
    env: dict[str, str]  # what ``hft serve`` is told
    component: Callable[[Health], dict[str, Any]]  # its entry in the /health components
    differences: Callable[[Journal], Coroutine[Any, Any, list[str]]]  # its content against the journal's


def postgresql() -> Dependency:
    """The SQL projection on a PostgreSQL server of our own."""
    server = PostgresServer()
    return Dependency(
        "postgresql",
        server,
        {"HFT_DATABASE_URL": server.url},
        lambda health: dict(health["database"]),
        lambda journal: database_differences(server.url, journal),
    )


def nats() -> Dependency:
    """The event streams on a NATS JetStream server of our own."""
    server = NatsServer()
    read = partial(nats_reader.read_stream, server.url, STREAM_PREFIX)
    return Dependency(
        "nats",
        server,
        {"HFT_NATS_URL": server.url, "HFT_STREAM_PREFIX": STREAM_PREFIX},
        lambda health: dict(health["stream"]["brokers"]["nats"]),
        lambda journal: stream_differences(read, journal),
    )


def redis() -> Dependency:
    """The cache on a Redis server of our own (empty after each restart: it keeps nothing on disk)."""
    server = RedisServer()
    return Dependency(
        "redis",
        server,
        {"HFT_REDIS_URL": server.url, "HFT_CACHE_PREFIX": CACHE_PREFIX},
        lambda health: dict(health["cache"]),
        lambda journal: cache_differences(server.url, CACHE_PREFIX, journal),
    )


def kafka() -> Dependency:
    """The event streams on a Kafka-compatible broker of our own (Tansu)."""
    server = TansuBroker()
    read = partial(kafka_reader.read_stream, server.bootstrap, STREAM_PREFIX)
    return Dependency(
        "kafka",
        server,
        {"HFT_KAFKA_BOOTSTRAP": server.bootstrap, "HFT_STREAM_PREFIX": STREAM_PREFIX},
        lambda health: dict(health["stream"]["brokers"]["kafka"]),
        lambda journal: stream_differences(read, journal),
    )


DEPENDENCIES: dict[str, Callable[[], Dependency]] = {
    "postgresql": postgresql,
    "nats": nats,
    "redis": redis,
    "kafka": kafka,
}
