"""The FIX session state machine, driven without sockets: a real store in a temporary directory, a fake clock."""

from __future__ import annotations

import calendar
import hashlib
from pathlib import Path

import pytest

from hft.gateways.fix import codec
from hft.gateways.fix.codec import FixMessage, encode
from hft.gateways.fix.config import SessionConfig
from hft.gateways.fix.session import Session
from hft.gateways.fix.store import SessionStore

SECOND = 1_000_000_000
ORDER = b"11=A\x0155=AAPL\x0154=1\x0160=20260101-00:00:00\x0138=1\x0140=2\x0144=1\x01"


class Clock:
    def __init__(self) -> None:
        self.now = calendar.timegm((2026, 3, 1, 12, 0, 0)) * SECOND

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * SECOND)


class Client:
    """The counterparty: numbers its messages, hands them to the session, reads what the session wrote."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        self.next_seq = 1
        self.stamps = codec.UtcTimestamps()

    def send(
        self,
        msg_type: bytes,
        body: bytes = b"",
        seq: int | None = None,
        orig_sending_time: bytes | None = None,
        sender: bytes = b"CLIENT",
        sending_time: bytes | None = None,
    ) -> list[FixMessage]:
        if seq is None:
            seq = self.next_seq
            self.next_seq += 1
        stamp = sending_time if sending_time is not None else self.stamps.format(self.clock())
        raw = encode(msg_type, seq, sender, b"HFT", stamp, body, orig_sending_time)
        accepted = self.session.receive(FixMessage(raw))
        self.session.store.commit()
        return accepted

    def logon(self, body: bytes = b"98=0\x01108=30\x01554=secret\x01") -> list[FixMessage]:
        self.send(b"A", body)
        return self.read()

    def read(self) -> list[FixMessage]:
        written = [FixMessage(raw) for raw in self.session.output]
        self.session.output.clear()
        return written


def _session(directory: Path, clock: Clock) -> Session:
    config = SessionConfig("CLIENT", 7, hashlib.sha256(b"secret").digest(), cancel_on_disconnect=False)
    session = Session(config, SessionStore(directory, fsync=False), "HFT", clock)
    session.attach()
    return session


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(tmp_path: Path, clock: Clock) -> Client:
    return Client(_session(tmp_path / "CLIENT", clock), clock)


def types(messages: list[FixMessage]) -> list[bytes]:
    return [message.msg_type for message in messages]


def test_logon_is_answered_with_logon_echoing_the_heartbeat_interval(client: Client) -> None:
    [answer] = client.logon()
    assert (answer.msg_type, answer.msg_seq_num, answer.get(108), answer.get(98)) == (b"A", 1, b"30", b"0")
    assert (answer.sender, answer.target) == (b"HFT", b"CLIENT")
    assert client.session.logged_on
    assert client.session.store.next_in == 2


def test_logon_with_a_wrong_password_is_answered_with_logout_and_a_disconnect(client: Client) -> None:
    [answer] = client.logon(b"98=0\x01108=30\x01554=guess\x01")
    assert answer.msg_type == b"5"
    assert b"password" in (answer.get(58) or b"")
    assert client.session.disconnect
    assert not client.session.logged_on
    assert client.session.store.next_in == 1  # a refused Logon is not consumed


def test_a_first_message_other_than_logon_drops_the_connection_without_an_answer(client: Client) -> None:
    assert client.send(b"D", ORDER) == []
    assert client.read() == []
    assert client.session.disconnect


@pytest.mark.parametrize(
    ("body", "problem"),
    [(b"98=1\x01108=30\x01554=secret\x01", b"EncryptMethod"), (b"98=0\x01108=0\x01554=secret\x01", b"HeartBtInt")],
)
def test_logon_with_unusable_parameters_is_refused(client: Client, body: bytes, problem: bytes) -> None:
    [answer] = client.logon(body)
    assert answer.msg_type == b"5"
    assert problem in (answer.get(58) or b"")


def test_test_request_is_answered_with_a_heartbeat_carrying_its_id(client: Client) -> None:
    client.logon()
    client.send(b"1", b"112=PING-1\x01")
    [heartbeat] = client.read()
    assert (heartbeat.msg_type, heartbeat.get(112)) == (b"0", b"PING-1")


def test_application_messages_in_sequence_go_to_the_application(client: Client) -> None:
    client.logon()
    [order] = client.send(b"D", ORDER)
    assert order.get(11) == b"A"
    assert client.session.store.next_in == 3


def test_a_gap_is_answered_with_one_resend_request_and_later_messages_wait_for_the_fill(client: Client) -> None:
    client.logon()
    assert client.send(b"D", ORDER, seq=5) == []
    [resend] = client.read()
    assert (resend.msg_type, resend.get(7), resend.get(16)) == (b"2", b"2", b"0")
    assert client.send(b"D", ORDER, seq=6) == []
    assert client.read() == []  # still waiting: no second ResendRequest
    # The peer fills 2..4 with a GapFill and resends 5 and 6.
    client.send(b"4", b"123=Y\x0136=5\x01", seq=2, orig_sending_time=b"20260301-11:59:00.000")
    resent = client.send(b"D", ORDER, seq=5, orig_sending_time=b"20260301-11:59:00.000")
    assert len(resent) == 1
    assert len(client.send(b"D", ORDER, seq=6, orig_sending_time=b"20260301-11:59:00.000")) == 1
    assert client.session.store.next_in == 7
    assert client.session.resend_high == 0


def test_a_too_low_sequence_number_without_poss_dup_ends_the_session(client: Client) -> None:
    client.logon()
    client.send(b"0")
    client.send(b"0", seq=2)
    [logout] = client.read()
    assert logout.msg_type == b"5"
    assert logout.get(58) == b"MsgSeqNum too low, expecting 3 but received 2"
    assert client.session.disconnect


def test_a_too_low_sequence_number_with_poss_dup_is_ignored(client: Client) -> None:
    client.logon()
    client.send(b"D", ORDER)
    assert client.send(b"D", ORDER, seq=2, orig_sending_time=b"20260301-11:59:00.000") == []
    assert client.read() == []
    assert not client.session.disconnect


def test_poss_dup_without_orig_sending_time_is_rejected(client: Client) -> None:
    client.logon()
    raw = encode(b"D", 2, b"CLIENT", b"HFT", client.stamps.format(client.clock()), ORDER).replace(
        b"\x0152=", b"\x0143=Y\x0152=", 1
    )
    raw = raw[: raw.rindex(b"10=")]
    raw = raw.replace(raw[len(b"8=FIX.4.4\x019=") : raw.index(b"\x0135=")], str(len(raw) - raw.index(b"35=")).encode())
    raw += b"10=%03d\x01" % (sum(raw) % 256)
    assert client.session.receive(FixMessage(raw)) == []
    [reject] = client.read()
    assert (reject.msg_type, reject.get(45), reject.get(371), reject.get(373)) == (b"3", b"2", b"122", b"1")


def test_sequence_reset_moves_the_expected_number_forward_but_never_back(client: Client) -> None:
    client.logon()
    client.send(b"4", b"36=20\x01", seq=99)  # Reset mode: the message's own MsgSeqNum does not matter
    assert client.session.store.next_in == 20
    client.send(b"4", b"36=10\x01", seq=20)
    [reject] = client.read()
    assert (reject.msg_type, reject.get(371), reject.get(373)) == (b"3", b"36", b"5")
    assert client.session.store.next_in == 20


def test_gap_fill_that_would_not_move_forward_is_rejected(client: Client) -> None:
    client.logon()
    client.send(b"4", b"123=Y\x0136=2\x01", seq=2)
    [reject] = client.read()
    assert (reject.msg_type, reject.get(373)) == (b"3", b"5")


def test_missing_required_tag_is_rejected_and_the_sequence_number_consumed(client: Client) -> None:
    client.logon()
    assert client.send(b"D", b"11=A\x0155=AAPL\x01") == []
    [reject] = client.read()
    assert (reject.get(45), reject.get(371), reject.get(372), reject.get(373)) == (b"2", b"54", b"D", b"1")
    assert client.session.store.next_in == 3
    client.send(b"2", b"7=1\x01")  # a ResendRequest without EndSeqNo
    [reject] = client.read()
    assert (reject.get(371), reject.get(373)) == (b"16", b"1")


def test_an_undefined_msg_type_is_rejected(client: Client) -> None:
    client.logon()
    client.send(b"ZZ")
    [reject] = client.read()
    assert (reject.get(371), reject.get(373)) == (b"35", b"11")


def test_wrong_comp_id_is_rejected_and_the_session_logged_out(client: Client) -> None:
    client.logon()
    client.send(b"0", sender=b"SOMEONE")
    reject, logout = client.read()
    assert (reject.msg_type, reject.get(373)) == (b"3", b"9")
    assert logout.msg_type == b"5"


def test_sending_time_far_from_the_clock_is_rejected_and_the_session_logged_out(client: Client) -> None:
    client.logon()
    client.send(b"0", sending_time=b"20200101-00:00:00.000")
    reject, logout = client.read()
    assert (reject.msg_type, reject.get(373), reject.get(371)) == (b"3", b"10", b"52")
    assert logout.msg_type == b"5"


def test_resend_request_is_answered_with_stored_messages_and_gap_fills(client: Client) -> None:
    client.logon()  # our 1: Logon
    client.session.send_application(b"8", b"37=1\x0117=E1\x01", 40)  # 2
    client.send(b"1", b"112=X\x01")  # our 3: Heartbeat
    client.session.send_application(b"8", b"37=1\x0117=E2\x01", 44)  # 4
    client.session.store.commit()
    first_sent = [message.sending_time for message in client.read() if message.msg_type == b"8"]
    client.clock.advance(5)
    client.send(b"2", b"7=1\x0116=0\x01")
    resent = client.read()
    assert [(m.msg_type, m.msg_seq_num) for m in resent] == [(b"4", 1), (b"8", 2), (b"4", 3), (b"8", 4)]
    assert [m.get(36) for m in resent if m.msg_type == b"4"] == [b"2", b"4"]
    assert all(m.poss_dup for m in resent)
    assert [m.orig_sending_time for m in resent if m.msg_type == b"8"] == first_sent
    assert all(m.sending_time != m.orig_sending_time for m in resent if m.msg_type == b"8")
    assert [m.get(17) for m in resent if m.msg_type == b"8"] == [b"E1", b"E2"]


def test_reports_queued_while_logged_off_are_delivered_by_resend_after_the_next_logon(
    tmp_path: Path, clock: Clock
) -> None:
    session = _session(tmp_path / "CLIENT", clock)
    client = Client(session, clock)
    client.logon()
    session.detach()
    assert session.send_application(b"8", b"17=WHILE-AWAY\x01", 8)
    assert not session.send_application(b"W", b"262=md\x01", 0, resendable=False)  # market data is not kept
    session.store.commit()
    assert session.output == []
    session.attach()
    [logon] = client.logon()
    assert logon.msg_seq_num == 3  # the client expects 2: it asks for 2..
    client.send(b"2", b"7=2\x0116=0\x01")
    resent, gap_fill = client.read()
    assert (resent.msg_seq_num, resent.get(17), resent.poss_dup) == (2, b"WHILE-AWAY", True)
    assert (gap_fill.msg_type, gap_fill.msg_seq_num, gap_fill.get(36)) == (b"4", 3, b"4")  # over the Logon


def test_logon_with_reset_seq_num_flag_starts_both_sequences_again(client: Client) -> None:
    client.logon()
    client.send(b"0")
    client.session.detach()
    client.session.attach()
    client.next_seq = 1
    [answer] = client.logon(b"98=0\x01108=30\x01141=Y\x01554=secret\x01")
    assert (answer.msg_seq_num, answer.get(141)) == (1, b"Y")
    assert (client.session.store.next_in, client.session.store.next_out) == (2, 2)


def test_logon_above_the_expected_number_is_accepted_then_a_resend_requested(client: Client) -> None:
    client.next_seq = 4
    logon, resend = client.logon()
    assert logon.msg_type == b"A"
    assert (resend.msg_type, resend.get(7), resend.get(16)) == (b"2", b"1", b"0")


def test_logon_below_the_expected_number_is_refused(client: Client) -> None:
    client.logon()
    client.send(b"0")
    client.session.detach()
    client.session.attach()
    client.next_seq = 1
    [answer] = client.logon()
    assert answer.msg_type == b"5"
    assert b"too low" in (answer.get(58) or b"")


def test_heartbeats_when_quiet_and_a_test_request_then_a_disconnect_when_the_peer_is_silent(client: Client) -> None:
    client.logon(b"98=0\x01108=2\x01554=secret\x01")
    client.clock.advance(2)
    client.session.tick()
    assert types(client.read()) == [b"0"]
    client.clock.advance(0.5)  # 2.5 s without a word from the peer: more than a heartbeat and a fifth
    client.session.tick()
    [test_request] = client.read()
    assert test_request.msg_type == b"1"
    assert test_request.get(112)
    client.clock.advance(2)
    client.session.tick()
    assert client.session.disconnect


def test_any_message_answers_a_test_request(client: Client) -> None:
    client.logon(b"98=0\x01108=2\x01554=secret\x01")
    client.clock.advance(2.5)
    client.session.tick()
    client.read()
    client.send(b"0")
    client.clock.advance(1.9)
    client.session.tick()
    assert not client.session.disconnect


def test_logout_from_the_client_is_answered_then_the_connection_closed(client: Client) -> None:
    client.logon()
    client.send(b"5", b"58=bye\x01")
    [answer] = client.read()
    assert answer.msg_type == b"5"
    assert client.session.disconnect


def test_our_logout_without_an_answer_closes_after_a_timeout(client: Client) -> None:
    client.logon()
    client.session.logout("closing")
    assert types(client.read()) == [b"5"]
    client.clock.advance(1)
    client.session.tick()
    assert not client.session.disconnect
    client.clock.advance(1.5)
    client.session.tick()
    assert client.session.disconnect


def test_sequence_numbers_and_sent_messages_survive_reopening_the_store(tmp_path: Path, clock: Clock) -> None:
    session = _session(tmp_path / "CLIENT", clock)
    client = Client(session, clock)
    client.logon()
    client.send(b"D", ORDER)
    session.send_application(b"8", b"17=KEPT\x01", 12)
    session.store.close()
    reopened = _session(tmp_path / "CLIENT", clock)
    assert (reopened.store.next_in, reopened.store.next_out, reopened.store.cursor) == (3, 3, 12)
    [kept] = reopened.store.messages(1, 10)
    assert (kept.msg_seq_num, kept.body) == (2, b"17=KEPT\x01")
