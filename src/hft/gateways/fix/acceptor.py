"""The FIX 4.4 acceptor ``hft serve`` runs when ``fix_enabled``: TCP on ``host:fix_port``, one session per SenderCompID.

Each connection is an ``asyncio.Protocol``: bytes are framed and handled
synchronously as they arrive (no task per message), answers are written
after the session's store has made them durable. A connection must log on
within ``LOGON_TIMEOUT_SECONDS``; a SenderCompID that is not configured, or
that already has a connection, is disconnected without an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Final, cast

from hft.config.settings import Settings, SettingsError
from hft.gateways.fix.application import FixApplication
from hft.gateways.fix.codec import FixMessage, Framer
from hft.gateways.fix.config import load_sessions
from hft.gateways.fix.lifecycle import cancel_on_disconnect, catch_up
from hft.gateways.fix.session import Session
from hft.gateways.fix.store import SessionStore
from hft.service.venue import Venue

log = logging.getLogger("hft.fix")

LOGON_TIMEOUT_SECONDS: Final = 10.0
TICK_SECONDS: Final = 0.1
STOP_TIMEOUT_SECONDS: Final = 3.0
# A client that lets this much pile up unread is cut off: the venue never waits for a reader.
MAX_WRITE_BUFFER: Final = 64 * 1024 * 1024


class FixGateway:
    """The FIX acceptor: sessions from ``fix_sessions_file``, state under ``<data_dir>/fix/``."""

    def __init__(self, venue: Venue, settings: Settings) -> None:
        self.venue = venue
        self.settings = settings
        self.sessions: dict[str, Session] = {}
        self.connections: dict[str, FixConnection] = {}
        self.unbound: set[FixConnection] = set()
        self.application: FixApplication | None = None
        self.server: asyncio.Server | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._cancels: set[asyncio.Task[int]] = set()

    @property
    def port(self) -> int:
        """The port listened on (the configured one, or the one the OS chose for port 0)."""
        assert self.server is not None
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        """Open the session stores, catch their reports up with the journal, then listen.

        Raises ``SettingsError`` for a missing or malformed sessions file and ``OSError`` if the port is taken.
        """
        settings = self.settings
        if settings.fix_sessions_file is None:
            raise SettingsError("fix_enabled needs fix_sessions_file")
        configs = load_sessions(settings.fix_sessions_file, settings.fix_cancel_on_disconnect)
        root = settings.data_dir / "fix"
        for name, config in configs.items():
            store = SessionStore(root / name, fsync=settings.fsync)
            self.sessions[name] = Session(config, store, settings.fix_comp_id)
        application = self.application = FixApplication(self.venue, self.sessions, self.flush)
        await catch_up(application)
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            lambda: FixConnection(self), settings.host, settings.fix_port, reuse_address=True
        )
        self._ticker = loop.create_task(self._tick(), name="hft-fix-timers")
        for session in self.sessions.values():
            if session.config.cancel_on_disconnect:
                self._cancel_orders_of(session)
        log.info("FIX 4.4 acceptor on %s:%d, %d sessions", settings.host, self.port, len(self.sessions))

    async def stop(self) -> None:
        """Log every session out, close every connection, cancel on disconnect where configured, close the stores."""
        if self.server is not None:
            self.server.close()
        for connection in list(self.connections.values()):
            if connection.session is not None:
                connection.session.logout("the venue is shutting down")
                self.flush(connection.session)
        for connection in list(self.unbound):
            connection.close()
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while self.connections and time.monotonic() < deadline:
            await asyncio.sleep(0.02)  # the peers answer the Logout; each answer closes its connection
        for connection in list(self.connections.values()):
            connection.close()
        while self.connections and time.monotonic() < deadline + 1:
            await asyncio.sleep(0.01)
        if self.server is not None:
            await self.server.wait_closed()
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self._cancels:
            await asyncio.wait(self._cancels, timeout=STOP_TIMEOUT_SECONDS)
        if self.application is not None:
            self.venue.unsubscribe(self.application.on_update)
        for session in self.sessions.values():
            session.store.close()

    # -- output --------------------------------------------------------------------------------------------------

    def flush(self, session: Session) -> None:
        """Make the session's new state durable, then write what it queued; close if it asked to."""
        session.store.commit()
        connection = self.connections.get(session.name)
        output = session.output
        if connection is None:
            output.clear()
            return
        transport = connection.transport
        if output:
            transport.write(output[0] if len(output) == 1 else b"".join(output))
            output.clear()
            if transport.get_write_buffer_size() > MAX_WRITE_BUFFER:
                log.warning("fix %s: the client does not read; disconnecting", session.name)
                session.disconnect = True
        if session.disconnect:
            connection.close()

    # -- connections -------------------------------------------------------------------------------------------------

    def bind(self, connection: FixConnection, message: FixMessage) -> Session | None:
        """Give a new connection the session its first message (a Logon) names, or None to drop it."""
        sender = message.sender.decode("latin-1")
        session = self.sessions.get(sender)
        if message.msg_type != b"A" or session is None or message.target != self.settings.fix_comp_id.encode():
            log.warning("fix: dropped a connection whose first message was %r from %r", message.msg_type, sender)
            return None
        if sender in self.connections:
            log.warning("fix %s: a second connection tried to log on; dropped", sender)
            return None
        self.unbound.discard(connection)
        self.connections[sender] = connection
        session.attach()
        return session

    def closed(self, connection: FixConnection) -> None:
        """A connection ended: release its session and cancel its orders if configured."""
        self.unbound.discard(connection)
        session = connection.session
        if session is None or self.connections.get(session.name) is not connection:
            return
        del self.connections[session.name]
        was_logged_on = session.established
        session.detach()
        session.store.commit()
        if self.application is not None:
            self.application.marketdata.drop_session(session.name)
        log.info("fix %s: disconnected", session.name)
        if was_logged_on and session.config.cancel_on_disconnect:
            self._cancel_orders_of(session)

    def _cancel_orders_of(self, session: Session) -> None:
        assert self.application is not None
        task = asyncio.get_running_loop().create_task(cancel_on_disconnect(self.application, session))
        self._cancels.add(task)
        task.add_done_callback(self._cancel_done)

    def _cancel_done(self, task: asyncio.Task[int]) -> None:
        self._cancels.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("fix: cancel on disconnect failed: %s", task.exception())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            for connection in list(self.connections.values()):
                session = connection.session
                if session is not None:
                    session.tick()
                    if session.output or session.disconnect:
                        self.flush(session)
            now = time.monotonic()
            for connection in list(self.unbound):
                if now - connection.opened > LOGON_TIMEOUT_SECONDS:
                    connection.close()


class FixConnection(asyncio.Protocol):
    """One TCP connection: frames bytes into messages and hands them to its session."""

    def __init__(self, gateway: FixGateway) -> None:
        self.gateway = gateway
        self.framer = Framer()
        self.session: Session | None = None
        self.transport: asyncio.Transport
        self.opened = time.monotonic()
        self.closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass asyncio's
        self.gateway.unbound.add(self)

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        gateway = self.gateway
        application = gateway.application
        assert application is not None
        session = self.session
        for raw in self.framer.feed(data):
            message = FixMessage(raw)
            if session is None:
                session = self.session = gateway.bind(self, message)
                if session is None:
                    self.close()
                    return
            for accepted in session.receive(message):
                application.handle(session, accepted)
            if session.disconnect:
                break
        if self.framer.discarded:
            log.warning("fix: skipped %d bytes that were not FIX 4.4 messages", self.framer.discarded)
            self.framer.discarded = 0
        if session is not None:
            gateway.flush(session)

    def close(self) -> None:
        """Close after what was written is sent."""
        self.closing = True
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.gateway.closed(self)
