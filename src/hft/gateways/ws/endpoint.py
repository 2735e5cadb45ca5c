"""``GET /ws``: authenticate, subscribe to channels, receive live updates and heartbeats.

Client messages are JSON objects with an ``op``: ``auth`` (``api_key``),
``subscribe`` / ``unsubscribe`` (``channels``), ``ping``. The key may also
come as the ``api_key`` query parameter. See docs/api/websocket.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, Final, Literal

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from hft.gateways.ws.hub import PRIVATE_CHANNELS, Hub, Session, encoder
from hft.service.auth import MAX_KEY_LENGTH
from hft.service.venue import Venue

log = logging.getLogger("hft.websocket")

MAX_CLIENT_MESSAGE: Final = 16 * 1024
MAX_CHANNELS: Final = 200
CLOSE_POLICY: Final = 1008
CLOSE_TRY_AGAIN: Final = 1013
# A send that the operating system cannot take for this long means the client stopped reading.
SEND_TIMEOUT_SECONDS: Final = 5.0
CLOSE_GRACE_SECONDS: Final = 10.0


class ClientMessage(msgspec.Struct, forbid_unknown_fields=True):
    """What a client may send."""

    op: Literal["auth", "subscribe", "unsubscribe", "ping"]
    api_key: str | None = None
    channels: list[str] = []


decoder = msgspec.json.Decoder(ClientMessage)


@websocket("/ws")
async def websocket_endpoint(socket: WebSocket[Any, Any, Any], venue: Venue) -> None:
    """Serve one WebSocket client until it leaves, falls too far behind, or the server stops."""
    await socket.accept()
    hub: Hub = socket.app.state.hub
    session = Session(venue.settings.ws_max_queue)
    api_key = socket.query_params.get("api_key")
    if api_key is not None and not await _authenticate(socket, venue, session, api_key):
        return
    hub.add(session)
    sender = asyncio.get_running_loop().create_task(_send_loop(socket, session, venue))
    receiver = asyncio.get_running_loop().create_task(_receive_loop(socket, venue, hub, session))
    try:
        # Whichever ends first ends the session: the client left, or it stopped reading and was cut off.
        await asyncio.wait((sender, receiver), return_when=asyncio.FIRST_COMPLETED)
        if sender.done() and not sender.cancelled() and sender.result() and not receiver.done():
            # A close frame was sent: give the client time to read up to it and answer before hanging up.
            await asyncio.wait((receiver,), timeout=CLOSE_GRACE_SECONDS)
    finally:
        hub.remove(session)
        for task in (sender, receiver):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, Exception):
                await task


async def _receive_loop(socket: WebSocket[Any, Any, Any], venue: Venue, hub: Hub, session: Session) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while await _handle(socket, venue, hub, session, await socket.receive_data(mode="text")):
            pass


async def _handle(socket: WebSocket[Any, Any, Any], venue: Venue, hub: Hub, session: Session, raw: str | bytes) -> bool:
    """Act on one client message; return False to end the session."""
    if len(raw) > MAX_CLIENT_MESSAGE:
        await _close(socket, CLOSE_POLICY, "message too large")
        return False
    try:
        message = decoder.decode(raw)
    except msgspec.DecodeError as error:
        session.push(_error("INVALID_MESSAGE", str(error)))
        return True
    if message.op == "ping":
        session.push(encoder.encode({"type": "pong", "ts": time.time_ns()}))
    elif message.op == "auth":
        return await _authenticate(socket, venue, session, message.api_key or "")
    elif message.op == "subscribe":
        _subscribe(hub, session, message.channels)
    else:
        removed = [channel for channel in message.channels if channel in session.channels]
        session.channels.difference_update(removed)
        session.push(encoder.encode({"type": "unsubscribed", "channels": removed}))
    return True


async def _authenticate(socket: WebSocket[Any, Any, Any], venue: Venue, session: Session, api_key: str) -> bool:
    account = venue.authenticate(api_key) if 0 < len(api_key) <= MAX_KEY_LENGTH else None
    if account is None:
        await socket.send_data(_error("UNAUTHORIZED", "invalid API key"))
        await _close(socket, CLOSE_POLICY, "invalid API key")
        return False
    session.account = account
    await socket.send_data(encoder.encode({"type": "authenticated", "account_id": account}))
    return True


def _subscribe(hub: Hub, session: Session, channels: list[str]) -> None:
    accepted: list[str] = []
    for channel in channels:
        if not hub.valid_channel(channel):
            session.push(_error("UNKNOWN_CHANNEL", f"no channel {channel[:60]!r}"))
        elif channel in PRIVATE_CHANNELS and session.account is None:
            session.push(_error("UNAUTHORIZED", f"authenticate before subscribing to {channel}"))
        elif len(session.channels) >= MAX_CHANNELS:
            session.push(_error("TOO_MANY_CHANNELS", f"at most {MAX_CHANNELS} channels per connection"))
        elif channel not in session.channels:
            session.channels.add(channel)
            accepted.append(channel)
    session.push(encoder.encode({"type": "subscribed", "channels": accepted}))
    for channel in accepted:
        first = hub.snapshot(channel)
        if first is not None:
            session.push(first)


async def _send_loop(socket: WebSocket[Any, Any, Any], session: Session, venue: Venue) -> bool:
    """Send queued messages, a heartbeat when idle, and close with a reason when the session is too slow.

    Messages first fill the operating system's socket buffers (up to a few MiB), then the session's queue:
    ``ws_max_queue`` bounds the latter. Returns True if it sent a close frame, False if it hung up without one
    (a client that has not taken a single message for ``SEND_TIMEOUT_SECONDS`` cannot be told anything).
    """
    heartbeat = venue.settings.ws_heartbeat_seconds
    while True:
        if not session.queue and session.closed_reason is None:
            session.ready.clear()
            try:
                await asyncio.wait_for(session.ready.wait(), heartbeat)
            except TimeoutError:
                session.push(encoder.encode({"type": "heartbeat", "ts": time.time_ns()}))
        if session.closed_reason is not None:
            log.warning("websocket client of account %s cut off: %s", session.account, session.closed_reason)
            if not await _send_within(socket, _error("SLOW_CONSUMER", session.closed_reason)):
                return False
            await _close(socket, CLOSE_TRY_AGAIN, "slow consumer")
            return True
        while session.queue:
            if not await _send_within(socket, session.queue.popleft()):
                log.warning("websocket client of account %s cut off: it stopped reading", session.account)
                return False
            if session.closed_reason is not None:
                break


async def _send_within(socket: WebSocket[Any, Any, Any], message: bytes) -> bool:
    """Send ``message``; return False if the client has not taken it within ``SEND_TIMEOUT_SECONDS``.

    The send is left behind, not cancelled: the server's send cannot be interrupted, and waiting for it to
    notice a cancellation would keep the session alive as long as the client keeps not reading.
    """
    sending = asyncio.ensure_future(socket.send_data(message))
    done, _ = await asyncio.wait((sending,), timeout=SEND_TIMEOUT_SECONDS)
    if done:
        sending.result()
        return True
    sending.add_done_callback(_ignore_outcome)
    return False


def _ignore_outcome(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()


async def _close(socket: WebSocket[Any, Any, Any], code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await socket.close(code=code, reason=reason)


def _error(code: str, message: str) -> bytes:
    return encoder.encode({"type": "error", "error": code, "message": message})
