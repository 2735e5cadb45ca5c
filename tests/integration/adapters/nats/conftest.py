"""NATS JetStream for the adapter tests: the machine's server, with streams under a prefix no other test uses."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Iterator

import nats
import pytest
from nats.js.errors import NotFoundError

from hft.adapters.nats.broker import stream_name
from hft.streams.schema import STREAMS

NATS_URL = "nats://127.0.0.1:4222"


async def _delete_streams(prefix: str) -> None:
    client = await nats.connect(NATS_URL, allow_reconnect=False)
    try:
        jetstream = client.jetstream()
        for stream in STREAMS:
            with contextlib.suppress(NotFoundError):
                await jetstream.delete_stream(stream_name(prefix, stream))
    finally:
        await client.close()


@pytest.fixture
def prefix() -> Iterator[str]:
    """A fresh stream prefix; its streams are deleted after the test."""
    name = f"test{secrets.token_hex(4)}"
    yield name
    asyncio.run(_delete_streams(name))
