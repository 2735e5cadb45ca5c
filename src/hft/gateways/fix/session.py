"""The FIX 4.4 session layer of one SenderCompID: a state machine with no sockets and no clock.

The acceptor feeds it framed messages and the time (``receive``, ``tick``)
and writes out whatever it leaves in ``output``, after ``store.commit()``
(nothing leaves before it is durable); ``disconnect`` asks the acceptor to
close the connection once that is written. What is left for the
application comes back from ``receive``, in order.

It implements Logon (with credentials and ResetSeqNumFlag), Heartbeat and
TestRequest, ResendRequest answered with the stored application messages
(PossDupFlag, OrigSendingTime) and SequenceReset-GapFill for the rest,
SequenceReset, gap detection (one ResendRequest; messages beyond the gap
are dropped until the peer fills it), a too-low MsgSeqNum without PossDupFlag
ending in Logout, session-level Reject, and Logout.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final

from hft.gateways.fix import codec
from hft.gateways.fix.codec import FixMessage, field
from hft.gateways.fix.config import SessionConfig
from hft.gateways.fix.store import SessionStore, StoredMessage

log = logging.getLogger("hft.fix")

SECOND: Final = 1_000_000_000
# How far a peer's SendingTime may be from our clock.
MAX_CLOCK_SKEW_NS: Final = 120 * SECOND
# A Logout we sent is followed by closing the connection after this long if the peer does not answer.
LOGOUT_TIMEOUT_NS: Final = 2 * SECOND
MAX_HEARTBEAT_SECONDS: Final = 3600

_SINGLE_TYPES: Final = frozenset(b"0123456789ABCDEFGHJKLMNPQRSTVWXYZabcdefghijklmnopqrstuvwxyz")


def is_fix44_msg_type(msg_type: bytes) -> bool:
    """Say whether ``msg_type`` is a MsgType the FIX 4.4 specification defines."""
    if len(msg_type) == 1:
        return msg_type[0] in _SINGLE_TYPES
    return len(msg_type) == 2 and (
        (msg_type[:1] == b"A" and msg_type[1:].isupper()) or (msg_type[:1] == b"B" and b"A" <= msg_type[1:] <= b"H")
    )


class Session:
    """Sequence numbers, logon state, timers and resends of one session; the acceptor does the I/O."""

    def __init__(
        self,
        config: SessionConfig,
        store: SessionStore,
        comp_id: str,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.config = config
        self.clock = clock
        self.store = store
        self.sender = comp_id.encode()
        self.target = config.comp_id.encode()
        self.timestamps = codec.UtcTimestamps()
        self.output: list[bytes] = []
        self.attached = False
        self.logged_on = False
        self.established = False
        self.disconnect = False
        self.heartbeat_ns = 30 * SECOND
        self.last_sent_ns = 0
        self.last_received_ns = 0
        self.test_request_ns = 0
        self.logout_sent_ns = 0
        # While we wait for the peer to fill a gap: the highest MsgSeqNum seen beyond it (0: no gap).
        self.resend_high = 0
        # (their SendingTime's second, our second) last found within the allowed skew.
        self._checked_second: tuple[bytes, int] = (b"", 0)

    @property
    def name(self) -> str:
        """The client's SenderCompID."""
        return self.config.comp_id

    # -- the connection -------------------------------------------------------------------------------------------

    def attach(self) -> None:
        """A connection now speaks for this session (its Logon comes next)."""
        now_ns = self.clock()
        self.attached = True
        self.logged_on = False
        # Whether this connection ever logged on (cancel-on-disconnect applies only then).
        self.established = False
        self.disconnect = False
        self.output.clear()
        self.last_received_ns = self.last_sent_ns = now_ns
        self.test_request_ns = self.logout_sent_ns = 0
        self.resend_high = 0

    def detach(self) -> None:
        """The connection is gone: forget what was not written, keep the sequence numbers."""
        self.attached = False
        self.logged_on = False
        self.output.clear()

    # -- incoming ------------------------------------------------------------------------------------------------

    def receive(self, message: FixMessage) -> list[FixMessage]:
        """Apply the session rules to one message; return it if the application should act on it.

        Side effects: may queue answers in ``output``, advance the incoming sequence, set ``disconnect``.
        """
        if not self.attached or self.disconnect:
            return []
        now_ns = self.clock()
        self.last_received_ns = now_ns
        self.test_request_ns = 0
        if not self.logged_on:
            if message.msg_type == b"A" and self.logout_sent_ns == 0:
                self._logon(message, now_ns)
            else:
                log.warning("fix %s: %r before Logon; disconnecting", self.name, message.msg_type)
                self.disconnect = True
            return []
        if message.msg_seq_num == 0:
            self._logout("MsgSeqNum (34) missing or not a number", now_ns)
            self.disconnect = True
            return []
        if not self._header_acceptable(message, now_ns):
            return []
        msg_type = message.msg_type
        if msg_type == b"4" and message.get(123) != b"Y":
            self._sequence_reset(message, now_ns)
            return []
        seq = message.msg_seq_num
        expected = self.store.next_in
        if seq > expected:
            self._gap(message, expected, now_ns)
            return []
        if seq < expected:
            if not message.poss_dup:
                self._logout(f"MsgSeqNum too low, expecting {expected} but received {seq}", now_ns)
                self.disconnect = True
            return []  # a duplicate we already processed
        self.store.next_in = seq + 1
        accepted: list[FixMessage] = []
        if msg_type in codec.SESSION_TYPES:
            self._administrative(message, now_ns)
        elif (problem := message.missing_tag()) is not None:
            tag, reason = problem
            self.reject(message, reason, f"required tag {tag} missing or empty", tag)
        elif not is_fix44_msg_type(msg_type):
            self.reject(message, codec.INVALID_MSG_TYPE, f"invalid MsgType {msg_type.decode('latin-1')!r}", 35)
        else:
            accepted.append(message)
        if self.resend_high and self.store.next_in > self.resend_high:
            self.resend_high = 0
        return accepted

    def _header_acceptable(self, message: FixMessage, now_ns: int) -> bool:
        """Check CompIDs, SendingTime and the header's shape; answer a failure and return False."""
        if message.header_error is not None:
            tag, reason = message.header_error
            self._consume_and_reject(message, reason, "malformed header", tag)
            return False
        if message.sender != self.target or message.target != self.sender:
            self._consume_and_reject(message, codec.COMP_ID_PROBLEM, "CompID problem", 49)
            self._logout("incorrect SenderCompID or TargetCompID", now_ns)
            return False
        # One SendingTime check per second of our clock and of theirs: the window is 120 s, milliseconds do not
        # matter, and parsing every message's timestamp would cost more than the rest of the header.
        second = (message.sending_time[:17], now_ns // SECOND)
        if second == self._checked_second and not message.poss_dup:
            return True
        sending = codec.parse_utc_timestamp(message.sending_time)
        if sending is None:
            tag, reason = (
                (52, codec.REQUIRED_TAG_MISSING) if not message.sending_time else (52, codec.INCORRECT_DATA_FORMAT)
            )
            self._consume_and_reject(message, reason, "SendingTime (52) missing or malformed", tag)
            return False
        if message.poss_dup and message.msg_type != b"4":
            original = codec.parse_utc_timestamp(message.orig_sending_time)
            if original is None:
                self._consume_and_reject(message, codec.REQUIRED_TAG_MISSING, "OrigSendingTime (122) missing", 122)
                return False
            if original > sending:
                self._consume_and_reject(message, codec.SENDING_TIME_PROBLEM, "OrigSendingTime after SendingTime", 122)
                self._logout("SendingTime accuracy problem", now_ns)
                return False
        elif abs(sending - now_ns) > MAX_CLOCK_SKEW_NS:
            self._consume_and_reject(message, codec.SENDING_TIME_PROBLEM, "SendingTime accuracy problem", 52)
            self._logout("SendingTime accuracy problem", now_ns)
            return False
        self._checked_second = second
        return True

    def _consume_and_reject(self, message: FixMessage, reason: int, text: str, tag: int) -> None:
        if message.msg_seq_num == self.store.next_in:
            self.store.next_in += 1
        self.reject(message, reason, text, tag)

    def _logon(self, message: FixMessage, now_ns: int) -> None:
        seq = message.msg_seq_num
        if message.header_error is not None or seq == 0 or message.target != self.sender:
            log.warning("fix %s: malformed Logon; disconnecting", self.name)
            self.disconnect = True
            return
        if not self.config.password_matches(message.get(554)):
            log.warning("fix %s: Logon with a wrong password", self.name)
            self._logout("invalid username or password", now_ns)
            self.disconnect = True
            return
        heartbeat = message.get(108) or b""
        problem = None
        if message.get(98) != b"0":
            problem = "EncryptMethod (98) must be 0"
        elif not heartbeat.isdigit() or not 1 <= int(heartbeat) <= MAX_HEARTBEAT_SECONDS:
            problem = f"HeartBtInt (108) must be 1 to {MAX_HEARTBEAT_SECONDS} seconds"
        elif (sending := codec.parse_utc_timestamp(message.sending_time)) is None or abs(
            sending - now_ns
        ) > MAX_CLOCK_SKEW_NS:
            problem = "SendingTime accuracy problem"
        reset = message.get(141) == b"Y"
        if problem is None and reset and seq != 1:
            problem = "a Logon with ResetSeqNumFlag must have MsgSeqNum 1"
        if problem is None and not reset and seq < self.store.next_in:
            problem = f"MsgSeqNum too low, expecting {self.store.next_in} but received {seq}"
        if problem is not None:
            log.warning("fix %s: Logon refused: %s", self.name, problem)
            self._logout(problem, now_ns)
            self.disconnect = True
            return
        if reset:
            self.store.reset()
        self.heartbeat_ns = int(heartbeat) * SECOND
        self.logged_on = self.established = True
        body = field(98, b"0") + field(108, heartbeat) + (b"141=Y\x01" if reset else b"")
        self._send_administrative(b"A", body, now_ns)
        expected = self.store.next_in
        if seq > expected:
            self._request_resend(expected, seq, now_ns)
        else:
            self.store.next_in = seq + 1
        log.info(
            "fix %s: logged on (next incoming %d, next outgoing %d)", self.name, self.store.next_in, self.store.next_out
        )

    def _gap(self, message: FixMessage, expected: int, now_ns: int) -> None:
        """A message beyond the next expected one: ask once for what is missing, act only on what cannot wait."""
        msg_type = message.msg_type
        if msg_type == b"2":  # answer the peer's own resend request first, as the specification asks
            self._administrative(message, now_ns)
        if msg_type == b"5":
            self._administrative(message, now_ns)
            return
        if self.resend_high == 0:
            self._request_resend(expected, message.msg_seq_num, now_ns)
        else:
            self.resend_high = max(self.resend_high, message.msg_seq_num)

    def _request_resend(self, begin: int, seen: int, now_ns: int) -> None:
        self.resend_high = seen
        self._send_administrative(b"2", field(7, begin) + b"16=0\x01", now_ns)
        log.info("fix %s: gap: expected %d, received %d; resend requested", self.name, begin, seen)

    def _administrative(self, message: FixMessage, now_ns: int) -> None:
        msg_type = message.msg_type
        problem = message.missing_tag()
        if problem is not None:
            tag, reason = problem
            self.reject(message, reason, f"required tag {tag} missing or empty", tag)
            return
        try:
            if msg_type == b"1":
                self._send_administrative(b"0", field(112, message.get(112) or b""), now_ns)
            elif msg_type == b"2":
                self._resend(message.integer(7), message.integer(16), now_ns)
            elif msg_type == b"4":
                self._gap_fill(message)
            elif msg_type == b"5":
                if self.logout_sent_ns == 0:
                    self._logout("", now_ns)
                self.logged_on = False
                self.disconnect = True
                log.info("fix %s: logged out by the client: %s", self.name, message.text(58) or "")
            elif msg_type == b"3":
                log.warning("fix %s: the client rejected message %s: %s", self.name, message.text(45), message.text(58))
            elif msg_type == b"A":
                self.reject(message, codec.VALUE_INCORRECT, "already logged on", 35)
        except codec.FieldError as error:
            self.reject(message, error.reason, error.text, error.tag)

    def _gap_fill(self, message: FixMessage) -> None:
        new_seq = message.integer(36)
        if new_seq > message.msg_seq_num:
            self.store.next_in = new_seq
        else:
            self.reject(message, codec.VALUE_INCORRECT, f"NewSeqNo {new_seq} would not move the sequence forward", 36)

    def _sequence_reset(self, message: FixMessage, now_ns: int) -> None:
        """SequenceReset-Reset: take NewSeqNo whatever the message's own MsgSeqNum (never backwards)."""
        try:
            new_seq = message.integer(36)
        except codec.FieldError as error:
            self.reject(message, error.reason, error.text, error.tag)
            return
        if new_seq < self.store.next_in:
            self.reject(message, codec.VALUE_INCORRECT, f"NewSeqNo {new_seq} is below {self.store.next_in}", 36)
            return
        self.store.next_in = new_seq
        if self.resend_high and new_seq > self.resend_high:
            self.resend_high = 0

    def _resend(self, begin: int, end: int, now_ns: int) -> None:
        """Send again what the peer asks for: stored application messages, GapFills over the rest."""
        last = self.store.next_out - 1
        if end == 0 or end > last:
            end = last
        if begin < 1 or begin > end:
            log.info("fix %s: nothing to resend for %d..%d (last sent %d)", self.name, begin, end, last)
            return
        sending_time = self.timestamps.format(now_ns)
        gap_start = begin
        resent = 0
        for stored in self.store.messages(begin, end):
            if stored.msg_seq_num > gap_start:
                self._send_gap_fill(gap_start, stored.msg_seq_num, sending_time)
            self.output.append(
                codec.encode(
                    stored.msg_type,
                    stored.msg_seq_num,
                    self.sender,
                    self.target,
                    sending_time,
                    stored.body,
                    orig_sending_time=stored.sending_time,
                )
            )
            resent += 1
            gap_start = stored.msg_seq_num + 1
        if gap_start <= end:
            self._send_gap_fill(gap_start, end + 1, sending_time)
        self.last_sent_ns = now_ns
        log.info("fix %s: resent %d..%d (%d application messages)", self.name, begin, end, resent)

    def _send_gap_fill(self, seq: int, new_seq: int, sending_time: bytes) -> None:
        body = b"123=Y\x01" + field(36, new_seq)
        self.output.append(
            codec.encode(b"4", seq, self.sender, self.target, sending_time, body, orig_sending_time=sending_time)
        )

    # -- outgoing ------------------------------------------------------------------------------------------------

    def reject(self, message: FixMessage, reason: int, text: str, tag: int | None = None) -> None:
        """Send a session-level Reject of ``message`` (its MsgSeqNum has already been consumed or skipped)."""
        body = field(45, message.msg_seq_num)
        if tag:
            body += field(371, tag)
        if message.msg_type:
            body += field(372, message.msg_type)
        body += field(373, reason) + field(58, text)
        log.info("fix %s: Reject of %d: %s", self.name, message.msg_seq_num, text)
        self.send_application(b"3", body, 0)

    def logout(self, text: str) -> None:
        """Send a Logout (the peer should answer with its own; ``tick`` closes if it does not)."""
        self._logout(text, self.clock())

    def _logout(self, text: str, now_ns: int) -> None:
        if not self.attached or self.logout_sent_ns:
            return
        self._send_administrative(b"5", field(58, text) if text else b"", now_ns)
        self.logout_sent_ns = now_ns or 1

    def send_application(self, msg_type: bytes, body: bytes, position: int, resendable: bool = True) -> bool:
        """Give ``body`` the next MsgSeqNum and send it; keep it for resends when ``resendable``.

        ``position`` (event sequence x 4 + part, or 0) lets a restarted gateway tell which execution reports it
        already stored. While the client is logged off a resendable message is only stored (it gets it by
        resend after its next Logon); any other is dropped. Returns whether it was sent or stored.
        """
        logged_on = self.logged_on and not self.disconnect
        if not resendable and not logged_on:
            return False
        store = self.store
        seq = store.next_out
        store.next_out = seq + 1
        now_ns = self.clock()
        sending_time = self.timestamps.format(now_ns)
        if resendable:
            store.add_message(StoredMessage(seq, position, msg_type, sending_time, body))
        if logged_on:
            self.last_sent_ns = now_ns
            self.output.append(codec.encode(msg_type, seq, self.sender, self.target, sending_time, body))
        return True

    def _send_administrative(self, msg_type: bytes, body: bytes, now_ns: int) -> None:
        store = self.store
        seq = store.next_out
        store.next_out = seq + 1
        self.output.append(codec.encode(msg_type, seq, self.sender, self.target, self.timestamps.format(now_ns), body))
        self.last_sent_ns = now_ns

    # -- time ------------------------------------------------------------------------------------------------------

    def tick(self) -> None:
        """Send a Heartbeat or TestRequest when due; give up on a silent peer or an unanswered Logout."""
        if not self.attached or self.disconnect:
            return
        now_ns = self.clock()
        if self.logout_sent_ns and now_ns - self.logout_sent_ns >= LOGOUT_TIMEOUT_NS:
            self.disconnect = True
            return
        if not self.logged_on:
            return
        heartbeat = self.heartbeat_ns
        silent = now_ns - self.last_received_ns
        if self.test_request_ns:
            if now_ns - self.test_request_ns >= heartbeat:
                log.warning("fix %s: no answer to a TestRequest; disconnecting", self.name)
                self.logged_on = False
                self.disconnect = True
                return
        elif silent >= heartbeat + heartbeat // 5:
            self._send_administrative(b"1", field(112, f"TEST{now_ns // 1_000_000}"), now_ns)
            self.test_request_ns = now_ns
        if now_ns - self.last_sent_ns >= heartbeat:
            self._send_administrative(b"0", b"", now_ns)
