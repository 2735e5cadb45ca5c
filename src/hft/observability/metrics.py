"""Prometheus metrics, with the names the design documents give them.

One ``Metrics`` object per venue, on its own registry (so tests can build
several venues in one process). ``/metrics`` renders it.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest

# The *_created series only double the output; scrapers do not need them.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Microsecond buckets from 10 µs to 1 s.
LATENCY_BUCKETS_US: Final = (
    10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000,
)  # fmt: skip
STAGES: Final = ("gateway", "risk", "match", "journal", "publish")


class Metrics:
    """The venue's metrics. Every method is cheap enough for the order path."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.order_latency = Histogram(
            "order_latency_microseconds",
            "Order entry latency: request received to response ready, in microseconds.",
            ["gateway"],
            buckets=LATENCY_BUCKETS_US,
            registry=registry,
        )
        self.stage_latency = Histogram(
            "stage_latency_microseconds",
            "Time per command in each stage of the pipeline, in microseconds (batch stages: mean per command).",
            ["stage"],
            buckets=LATENCY_BUCKETS_US,
            registry=registry,
        )
        self.orders_processed = Counter(
            "orders_processed",
            "Orders entered, by gateway and outcome (accepted or rejected).",
            ["gateway", "outcome"],
            registry=registry,
        )
        self.execution_errors = Counter(
            "execution_errors",
            "Requests that failed inside the platform (not the client's fault), by component.",
            ["component"],
            registry=registry,
        )
        self.active_positions = Gauge(
            "active_positions", "Account and symbol pairs with a non-zero position.", registry=registry
        )
        self.trades = Counter("trades", "Trades executed.", registry=registry)
        self.journal_sequence = Gauge("journal_sequence", "Last journaled command sequence.", registry=registry)
        self.batch_size = Histogram(
            "journal_batch_commands",
            "Commands per journal write and fsync (group commit).",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096),
            registry=registry,
        )
        self.projection_lag = Gauge(
            "projection_lag_events", "Events acknowledged but not yet written, by projection.", ["projection"],
            registry=registry,
        )  # fmt: skip
        self.stream_messages = Counter(
            "stream_messages_published", "Messages the broker acknowledged, by broker.", ["broker"], registry=registry
        )
        self.stream_lag = Histogram(
            "stream_publish_lag_microseconds",
            "Engine event to broker acknowledgement, in microseconds (the oldest message of each round), by broker.",
            ["broker"],
            buckets=LATENCY_BUCKETS_US,
            registry=registry,
        )
        self.cache_writes = Counter("cache_writes", "Keys written to the cache.", registry=registry)
        self.websocket_clients = Gauge("websocket_clients", "Open WebSocket connections.", registry=registry)
        self.http_requests = Counter(
            "http_requests", "HTTP requests answered, by status class.", ["status"], registry=registry
        )
        self.component_up = Gauge(
            "component_up", "1 when a component is healthy, 0 when not.", ["component"], registry=registry
        )
        for stage in STAGES:
            self.stage_latency.labels(stage)
        # Children used on every order, looked up once.
        self.gateway_stage = self.stage_latency.labels("gateway")
        self.orders_accepted = self.orders_processed.labels("rest", "accepted")
        self.orders_rejected = self.orders_processed.labels("rest", "rejected")
        self.rest_order_latency = self.order_latency.labels("rest")

    def render(self) -> bytes:
        """Return the metrics in the Prometheus text format."""
        return generate_latest(self.registry)
