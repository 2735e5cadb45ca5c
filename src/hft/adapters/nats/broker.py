"""NATS JetStream as an event broker: one stream per event stream, one subject per key.

Stream ``orders`` takes subjects ``orders.>``; a message for AAPL goes to
``orders.AAPL``. Each message carries ``Nats-Msg-Id: <event sequence>`` (the
server drops a repeat inside the duplicate window, and consumers can
de-duplicate on it) and ``Nats-Expected-Last-Sequence``: the stream sequence
the previous message must have left. A message whose predecessor was lost is
therefore refused, so a stream never has a gap; the publisher then asks again
where the stream ends and resends from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Hashable, Sequence
from typing import Any, Final

import msgspec
import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from nats.js.errors import APIError, NotFoundError

from hft.streams.schema import SCHEMA_VERSION, STREAMS, Message

log = logging.getLogger("hft.nats")

CONNECT_TIMEOUT_SECONDS: Final = 2.0
ACK_TIMEOUT_SECONDS: Final = 10.0
DUPLICATE_WINDOW_SECONDS: Final = 120.0
SEQUENCE_HEADER: Final = "Nats-Msg-Id"


async def quiet(error: Exception) -> None:
    """Log a client error at debug level (the caller reports failures; nats-py would print tracebacks)."""
    log.debug("nats: %s", error)


# nats-py retries a first connection 60 times, 2 s apart, unless told otherwise; the caller decides about retries.
ONE_CONNECTION_ATTEMPT: Final[dict[str, Any]] = {
    "allow_reconnect": False,
    "max_reconnect_attempts": 1,  # nats-py reads 0 as "no limit"; 1 means one quick second try
    "reconnect_time_wait": 0.1,
    "connect_timeout": CONNECT_TIMEOUT_SECONDS,
    "error_cb": quiet,
}
SCHEMA_HEADER: Final = "Hft-Schema"
SCHEMA_TEXT: Final = str(SCHEMA_VERSION)


def stream_name(prefix: str, stream: str) -> str:
    """Return the JetStream stream name of ``stream`` (``orders``, or ``{prefix}-orders``)."""
    return f"{prefix}-{stream}" if prefix else stream


class NatsBroker:
    """Publishes to and reads positions from NATS JetStream (nats-py)."""

    name = "nats"

    def __init__(self, url: str, prefix: str = "") -> None:
        self.url: Final = url
        self.names: Final = {stream: stream_name(prefix, stream) for stream in STREAMS}
        self._client: Client | None = None
        self._jetstream: JetStreamContext | None = None
        # The stream sequence of the last message in each stream: what the next publish expects.
        self._last_stored: dict[str, int] = {}
        self._inbox = ""
        self._round = 0
        self._pending: _Round | None = None

    async def connect(self) -> None:
        """Connect (no automatic reconnect: the publisher decides) and create missing streams."""
        await self.close()
        client = await nats.connect(
            self.url, disconnected_cb=self._on_disconnected, name="hft-publisher", **ONE_CONNECTION_ATTEMPT
        )
        self._client = client
        self._inbox = client.new_inbox()
        await client.subscribe(f"{self._inbox}.>", cb=self._on_ack)
        jetstream = client.jetstream(timeout=ACK_TIMEOUT_SECONDS)
        self._jetstream = jetstream
        for stream, name in self.names.items():
            try:
                await jetstream.stream_info(name)
            except NotFoundError:
                await jetstream.add_stream(
                    name=name,
                    subjects=[f"{name}.>"],
                    storage=api.StorageType.FILE,
                    duplicate_window=DUPLICATE_WINDOW_SECONDS,
                )
                log.info("created JetStream stream %s for %s", name, stream)

    async def close(self) -> None:
        """Close the connection, if any."""
        client, self._client, self._jetstream = self._client, None, None
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), CONNECT_TIMEOUT_SECONDS)

    async def delete_streams(self) -> None:
        """Delete this prefix's streams and everything in them (benchmarks and tests clean up with it)."""
        jetstream = self._jetstream
        if jetstream is None:
            await self.connect()
        for name in self.names.values():
            with contextlib.suppress(NotFoundError):
                await self._connected().delete_stream(name)
        await self.close()

    def lane(self, stream: str, key: str) -> Hashable:
        """Every stream is one ordered lane."""
        return stream

    async def positions(self) -> dict[Hashable, int]:
        """Read the event sequence of each stream's last message (0 for an empty stream)."""
        jetstream = self._connected()
        positions: dict[Hashable, int] = {}
        for stream, name in self.names.items():
            info = await jetstream.stream_info(name)
            last = info.state.last_seq
            self._last_stored[stream] = last
            positions[stream] = 0 if last == 0 else await self._sequence_at(name, last)
        return positions

    async def _sequence_at(self, name: str, stream_sequence: int) -> int:
        message = await self._connected().get_msg(name, stream_sequence)
        headers = message.headers or {}
        return int(headers.get(SEQUENCE_HEADER, "0"))

    async def publish(self, messages: Sequence[Message]) -> None:
        """Send ``messages`` pipelined; raise unless the server stored every one exactly where expected.

        Every message asks for its acknowledgement on ``<inbox>.<round>.<index>``
        (one subscription per connection), so a round costs one write per
        message and one callback per acknowledgement, with no task or future
        per message. Raises the server's refusal, or ``TimeoutError``.
        """
        client = self._connected_client()
        self._round += 1
        pending = _Round(self._round, len(messages))
        self._pending = pending
        expected = dict(self._last_stored)
        reply_prefix = f"{self._inbox}.{self._round}."
        for index, message in enumerate(messages):
            headers = {
                SEQUENCE_HEADER: str(message.sequence),
                api.Header.EXPECTED_LAST_SEQUENCE: str(expected[message.stream]),
                SCHEMA_HEADER: SCHEMA_TEXT,
            }
            expected[message.stream] += 1
            subject = f"{self.names[message.stream]}.{message.key}"
            await client.publish(subject, message.payload, reply=f"{reply_prefix}{index}", headers=headers)
        try:
            await asyncio.wait_for(pending.done, ACK_TIMEOUT_SECONDS)
        finally:
            self._pending = None
        for message, ack in zip(messages, pending.acks, strict=True):
            if ack is None or ack.error is not None:
                raise _refusal(message, ack)
            if ack.duplicate:
                raise RuntimeError(f"{message.stream}: event {message.sequence} was already stored")
            self._last_stored[message.stream] = ack.seq

    async def _on_disconnected(self) -> None:
        # nats-py never answers a request whose connection is gone: fail the round now, not at ACK_TIMEOUT_SECONDS.
        pending = self._pending
        if pending is not None and not pending.done.done():
            pending.done.set_exception(ConnectionError("the connection to NATS was lost with acknowledgements pending"))

    async def _on_ack(self, reply: Msg) -> None:
        pending = self._pending
        round_, _, index = reply.subject.rpartition(".")
        if pending is None or not round_.endswith(f".{pending.number}"):
            return  # an acknowledgement of a round that already failed
        try:
            ack = _ack_decoder.decode(reply.data)
        except msgspec.DecodeError:
            ack = _Ack(error={"description": f"unreadable acknowledgement {reply.data[:100]!r}"})
        pending.record(int(index), ack)

    def _connected_client(self) -> Client:
        if self._client is None:
            raise ConnectionError("not connected to NATS")
        return self._client

    def _connected(self) -> JetStreamContext:
        if self._jetstream is None:
            raise ConnectionError("not connected to NATS")
        return self._jetstream


class _Ack(msgspec.Struct):
    """JetStream's answer to one publish: where it stored the message, or why not."""

    seq: int = 0
    duplicate: bool = False
    error: dict[str, Any] | None = None


_ack_decoder: Final = msgspec.json.Decoder(_Ack)


class _Round:
    """The acknowledgements of one publish round, filled in as they arrive."""

    def __init__(self, number: int, size: int) -> None:
        self.number: Final = number
        self.acks: list[_Ack | None] = [None] * size
        self.missing = size
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if size == 0:
            self.done.set_result(None)

    def record(self, index: int, ack: _Ack) -> None:
        if 0 <= index < len(self.acks) and self.acks[index] is None:
            self.acks[index] = ack
            self.missing -= 1
            if self.missing == 0 and not self.done.done():
                self.done.set_result(None)


def _refusal(message: Message, ack: _Ack | None) -> Exception:
    error = {} if ack is None or ack.error is None else ack.error
    return (
        APIError(code=error.get("code"), err_code=error.get("err_code"), description=error.get("description"))
        if error
        else RuntimeError(f"{message.stream}: no acknowledgement for event {message.sequence}")
    )
