"""Reading a JetStream event stream back: all of it (tests, audits) or as it grows (``hft tail``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Final

import nats
from nats.js import api
from nats.js.errors import NotFoundError

from hft.adapters.nats.broker import CONNECT_TIMEOUT_SECONDS, ONE_CONNECTION_ATTEMPT, SEQUENCE_HEADER, stream_name
from hft.streams.schema import Message, decode

FETCH_BATCH: Final = 1_000
FETCH_WAIT_SECONDS: Final = 1.0


async def read_stream(url: str, prefix: str, stream: str) -> list[Message]:
    """Return every message of ``stream`` in stream order (empty if the stream does not exist). O(messages)."""
    messages: list[Message] = []
    async for message in _messages(url, prefix, stream, from_start=True, until_end=True):
        messages.append(message)
    return messages


async def follow(url: str, prefix: str, stream: str, from_start: bool) -> AsyncIterator[Message]:
    """Yield the messages of ``stream`` as they arrive (after the existing ones when ``from_start``). Never ends."""
    async for message in _messages(url, prefix, stream, from_start=from_start, until_end=False):
        yield message


async def _messages(url: str, prefix: str, stream: str, from_start: bool, until_end: bool) -> AsyncIterator[Message]:
    name = stream_name(prefix, stream)
    try:
        client = await nats.connect(url, **ONE_CONNECTION_ATTEMPT)
    except nats.errors.NoServersError as error:
        raise ConnectionError(f"no NATS server answers at {url}") from error
    try:
        jetstream = client.jetstream()
        try:
            info = await jetstream.stream_info(name)
        except NotFoundError:
            if until_end:
                return
            raise LookupError(f"NATS has no stream {name}: has the venue published to it yet?") from None
        end = info.state.last_seq
        if until_end and end == 0:
            return
        policy = api.DeliverPolicy.ALL if from_start else api.DeliverPolicy.NEW
        # An ephemeral pull consumer: nothing is left behind on the server once the reader goes.
        subscription = await jetstream.pull_subscribe(
            f"{name}.>",
            stream=name,
            config=api.ConsumerConfig(deliver_policy=policy, ack_policy=api.AckPolicy.NONE, inactive_threshold=30.0),
        )
        while True:
            try:
                batch = await subscription.fetch(FETCH_BATCH, timeout=FETCH_WAIT_SECONDS)
            except (TimeoutError, nats.errors.TimeoutError):
                if until_end:
                    return
                continue
            for raw in batch:
                yield _message(stream, name, raw.subject, raw.headers or {}, raw.data)
                if until_end and raw.metadata.sequence.stream >= end:
                    return
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.close(), CONNECT_TIMEOUT_SECONDS)


def _message(stream: str, name: str, subject: str, headers: dict[str, str], payload: bytes) -> Message:
    event = decode(payload)
    sequence = int(headers.get(SEQUENCE_HEADER, event.sequence))
    return Message(stream, subject[len(name) + 1 :], sequence, event.ts, payload)
