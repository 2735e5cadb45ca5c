"""The counterparties the FIX tests use: QuickFIX/Python's initiator, validating strictly, and a raw socket.

QuickFIX is an independent FIX engine: with its FIX 4.4 DataDictionary it
rejects (35=3) any message of ours with a missing required field, an
unknown tag, a value outside its enumeration or a repeating group out of
order, and it runs its own session layer (sequence numbers, resends,
PossDup). ``QuickFixClient.rejects_sent`` must stay empty.
"""

from __future__ import annotations

import queue
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import quickfix as fix  # type: ignore[import-untyped]

SOH = "\x01"
SPEC = Path(sys.prefix) / "share" / "quickfix" / "FIX44.xml"


def fields(text: str) -> dict[int, str]:
    """Return a message's fields, first occurrence of each tag (read independently of the gateway's codec)."""
    found: dict[int, str] = {}
    for item in text.split(SOH):
        if "=" in item:
            tag, _, value = item.partition("=")
            found.setdefault(int(tag), value)
    return found


def all_values(text: str, tag: int) -> list[str]:
    """Return every value of ``tag`` in a message, in order (repeating groups)."""
    prefix = f"{tag}="
    return [item[len(prefix) :] for item in text.split(SOH) if item.startswith(prefix)]


class _Recorder(fix.Application):  # type: ignore[misc]
    """QuickFIX callbacks (on QuickFIX's threads): credentials on Logon, every message recorded."""

    def __init__(self, sender: str, password: str, reset: bool) -> None:
        super().__init__()
        self.sender = sender
        self.password = password
        self.reset = reset
        self.application: queue.Queue[str] = queue.Queue()
        self.admin_received: list[str] = []
        self.rejects_sent: list[str] = []
        self.logons = 0
        self.logged_on = threading.Event()
        self.lock = threading.Lock()

    def onCreate(self, session_id: Any) -> None:  # noqa: N802 (QuickFIX's names)
        self.session_id = session_id

    def onLogon(self, session_id: Any) -> None:  # noqa: N802
        with self.lock:
            self.logons += 1
        self.logged_on.set()

    def onLogout(self, session_id: Any) -> None:  # noqa: N802
        self.logged_on.clear()

    def toAdmin(self, message: Any, session_id: Any) -> None:  # noqa: N802
        msg_type = message.getHeader().getField(35)
        if msg_type == "A":
            message.setField(fix.StringField(553, self.sender))
            message.setField(fix.StringField(554, self.password))
            if self.reset:
                message.setField(fix.StringField(141, "Y"))
        elif msg_type == "3":
            with self.lock:
                self.rejects_sent.append(message.toString())

    def fromAdmin(self, message: Any, session_id: Any) -> None:  # noqa: N802
        with self.lock:
            self.admin_received.append(message.toString())

    def toApp(self, message: Any, session_id: Any) -> None:  # noqa: N802
        pass

    def fromApp(self, message: Any, session_id: Any) -> None:  # noqa: N802
        self.application.put(message.toString())


class QuickFixClient:
    """A QuickFIX initiator for one SenderCompID, validating what it receives against FIX 4.4."""

    def __init__(
        self,
        directory: Path,
        port: int,
        sender: str,
        password: str,
        reset: bool = True,
        heartbeat: int = 30,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        config = directory / f"{sender}.cfg"
        config.write_text(
            "\n".join(
                [
                    "[DEFAULT]",
                    "ConnectionType=initiator",
                    "ReconnectInterval=1",
                    "StartTime=00:00:00",
                    "EndTime=00:00:00",
                    f"HeartBtInt={heartbeat}",
                    "UseDataDictionary=Y",
                    f"DataDictionary={SPEC}",
                    "ValidateUserDefinedFields=Y",
                    "ValidateFieldsOutOfOrder=Y",
                    "ValidateFieldsHaveValues=Y",
                    "AllowUnknownMsgFields=N",
                    "CheckLatency=Y",
                    "MaxLatency=120",
                    f"FileLogPath={directory / 'log'}",
                    "SocketConnectHost=127.0.0.1",
                    f"SocketConnectPort={port}",
                    "[SESSION]",
                    "BeginString=FIX.4.4",
                    f"SenderCompID={sender}",
                    "TargetCompID=HFT",
                    "",
                ]
            )
        )
        self.recorder = _Recorder(sender, password, reset)
        self.settings = fix.SessionSettings(str(config))
        self.initiator = fix.SocketInitiator(
            self.recorder, fix.MemoryStoreFactory(), self.settings, fix.FileLogFactory(self.settings)
        )
        self.received: list[str] = []
        self.next_id = 0

    def start(self, timeout: float = 10.0) -> QuickFixClient:
        """Connect and wait for the Logon to be answered."""
        self.initiator.start()
        self.wait_logged_on(timeout)
        return self

    def wait_logged_on(self, timeout: float = 10.0) -> None:
        """Wait until the session is logged on; raise if it is not within ``timeout``."""
        if not self.recorder.logged_on.wait(timeout):
            raise AssertionError(f"QuickFIX did not log on; its log is in {self.settings}")

    @property
    def session(self) -> Any:
        return fix.Session.lookupSession(self.recorder.session_id)

    def send(self, msg_type: str, *pairs: tuple[int, str | int]) -> None:
        """Send an application message with these body fields, in order (QuickFIX numbers and stamps it)."""
        message = fix.Message()
        message.getHeader().setField(fix.BeginString("FIX.4.4"))
        message.getHeader().setField(fix.MsgType(msg_type))
        for tag, value in pairs:
            message.setField(fix.StringField(tag, str(value)))
        if not fix.Session.sendToTarget(message, self.recorder.session_id):
            raise AssertionError("QuickFIX did not send the message (not logged on?)")

    def send_group(self, msg_type: str, pairs: list[tuple[int, str]], groups: list[tuple[int, int, list[str]]]) -> None:
        """Send a message with repeating groups: each ``(count tag, field tag, values)``."""
        message = fix.Message()
        message.getHeader().setField(fix.BeginString("FIX.4.4"))
        message.getHeader().setField(fix.MsgType(msg_type))
        for tag, value in pairs:
            message.setField(fix.StringField(tag, value))
        for count_tag, field_tag, values in groups:
            for value in values:
                group = fix.Group(count_tag, field_tag)
                group.setField(fix.StringField(field_tag, value))
                message.addGroup(group)
        if not fix.Session.sendToTarget(message, self.recorder.session_id):
            raise AssertionError("QuickFIX did not send the message")

    def client_order_id(self, prefix: str = "O") -> str:
        """Return a new ClOrdID."""
        self.next_id += 1
        return f"{prefix}{self.next_id}-{time.monotonic_ns()}"

    def expect(self, predicate: Callable[[dict[int, str]], bool], timeout: float = 5.0) -> dict[int, str]:
        """Return the first application message received from now on that satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no matching message within {timeout} s; received {self.received[-5:]}")
            try:
                text = self.recorder.application.get(timeout=remaining)
            except queue.Empty:
                continue
            self.received.append(text)
            parsed = fields(text)
            if predicate(parsed):
                return parsed

    def drain(self, quiet: float = 0.3) -> list[str]:
        """Collect application messages until none arrives for ``quiet`` seconds; return the new ones."""
        new: list[str] = []
        while True:
            try:
                text = self.recorder.application.get(timeout=quiet)
            except queue.Empty:
                return new
            self.received.append(text)
            new.append(text)

    @property
    def rejects_sent(self) -> list[str]:
        """Session-level Rejects QuickFIX sent us: messages of ours it found invalid."""
        with self.recorder.lock:
            return list(self.recorder.rejects_sent)

    def stop(self) -> None:
        """Log out, wait for the answer, stop QuickFIX's threads (its own stop polls once a second)."""
        session = self.session
        if self.recorder.logged_on.is_set() and session is not None:
            session.logout("done")
            deadline = time.monotonic() + 3
            while self.recorder.logged_on.is_set() and time.monotonic() < deadline:
                time.sleep(0.01)
        self.initiator.stop(True)


class RawClient:
    """A FIX client on a plain socket, for what a well-behaved engine will not send: gaps, garbage, missing tags."""

    def __init__(self, port: int, sender: str, password: str) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sender = sender
        self.password = password
        self.next_seq = 1
        self.buffer = b""

    def close(self) -> None:
        self.socket.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @staticmethod
    def now() -> str:
        moment = time.time()
        return time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(moment)) + f".{int(moment * 1000) % 1000:03d}"

    def frame(self, msg_type: str, body: str = "", seq: int | None = None, header: str = "") -> bytes:
        """Return a whole message (BodyLength and CheckSum computed here, independently of the gateway)."""
        if seq is None:
            seq = self.next_seq
            self.next_seq += 1
        content = f"35={msg_type}{SOH}34={seq}{SOH}49={self.sender}{SOH}52={self.now()}{SOH}56=HFT{SOH}{header}{body}"
        text = f"8=FIX.4.4{SOH}9={len(content.encode())}{SOH}{content}"
        data = text.encode()
        return data + f"10={sum(data) % 256:03d}{SOH}".encode()

    def send(self, msg_type: str, body: str = "", seq: int | None = None, header: str = "") -> None:
        self.socket.sendall(self.frame(msg_type, body, seq, header))

    def send_bytes(self, data: bytes) -> None:
        self.socket.sendall(data)

    def logon(self, heartbeat: int = 30, extra: str = "") -> dict[int, str]:
        self.send("A", f"98=0{SOH}108={heartbeat}{SOH}553={self.sender}{SOH}554={self.password}{SOH}{extra}")
        return self.receive()

    def receive(self, timeout: float = 5.0) -> dict[int, str]:
        """Return the next message's fields; raise ``ConnectionError`` if the server closed the connection."""
        return fields(self.receive_text(timeout))

    def receive_text(self, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            end = self.buffer.find(b"\x0110=")
            if end >= 0 and len(self.buffer) >= end + 8:
                message, self.buffer = self.buffer[: end + 8], self.buffer[end + 8 :]
                return message.decode("latin-1")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no message from the server")
            self.socket.settimeout(remaining)
            data = self.socket.recv(65536)
            if not data:
                raise ConnectionError("the server closed the connection")
            self.buffer += data

    def closed_by_server(self, timeout: float = 5.0) -> bool:
        """Read until the server closes the connection; say whether it did within ``timeout``."""
        try:
            while True:
                self.receive_text(timeout)
        except ConnectionError:
            return True
        except TimeoutError:
            return False
