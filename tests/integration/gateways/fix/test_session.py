"""The session layer over a real socket: the acceptance-suite scenarios, raw and against QuickFIX.

Raw-socket tests send what a conforming engine never would (garbage,
broken checksums, gaps, missing tags); each uses its own RAW session and
logs on with ResetSeqNumFlag so it starts from MsgSeqNum 1.
"""

from __future__ import annotations

import time
from typing import Any

from tests.integration.gateways.fix.conftest import Venue
from tests.integration.gateways.fix.counterparty import SOH, QuickFixClient, RawClient

RESET = f"141=Y{SOH}"
ORDER = f"11=R-%s{SOH}55=AAPL{SOH}54=1{SOH}60=20260101-00:00:00{SOH}38=1{SOH}40=2{SOH}44=1.00{SOH}"


def logged_on(raw: Any, sender: str, heartbeat: int = 30) -> RawClient:
    client: RawClient = raw(sender)
    answer = client.logon(heartbeat, RESET)
    assert (answer[35], answer[34], answer[141]) == ("A", "1", "Y")
    return client


def test_garbage_before_and_between_messages_is_skipped(raw: Any) -> None:
    client: RawClient = raw("RAW1")
    client.send_bytes(b"\x00\xff\xfeHELLO 8=FIX.4.2\x01garbage\x01\x01")
    answer = client.logon(extra=RESET)
    assert answer[35] == "A"
    client.send_bytes(b"8=FIX.4.4\x019=5\x0135=0\x0110=000\x01")  # broken: ignored, its number not used
    client.send_bytes(b"\x01\x01\x01" + client.frame("1", f"112=AFTER-GARBAGE{SOH}") + b"trailing junk")
    assert client.receive()[112] == "AFTER-GARBAGE"


def test_a_message_with_a_wrong_checksum_is_ignored_without_using_its_sequence_number(raw: Any) -> None:
    client = logged_on(raw, "RAW2")
    broken = bytearray(client.frame("1", f"112=BROKEN{SOH}", seq=2))
    broken[-2] = ord("0") if broken[-2] != ord("0") else ord("1")
    client.send_bytes(bytes(broken))
    client.send("1", f"112=GOOD{SOH}", seq=2)
    heartbeat = client.receive()
    assert (heartbeat[35], heartbeat[112]) == ("0", "GOOD")


def test_a_message_split_across_many_writes_is_reassembled(raw: Any) -> None:
    client = logged_on(raw, "RAW3")
    client.next_seq = 2
    data = client.frame("1", f"112=SLOW{SOH}")
    for index in range(len(data)):
        client.send_bytes(data[index : index + 1])
    assert client.receive()[112] == "SLOW"


def test_missing_required_tag_gets_a_session_reject_naming_it(raw: Any) -> None:
    client = logged_on(raw, "RAW4")
    client.next_seq = 2
    client.send("D", f"11=X{SOH}55=AAPL{SOH}54=1{SOH}60=20260101-00:00:00{SOH}40=2{SOH}")
    reject = client.receive()
    assert (reject[35], reject[45], reject[371], reject[372], reject[373]) == ("3", "2", "38", "D", "1")
    client.send("1", f"112=STILL-THERE{SOH}")  # the rejected message used its number: 3 is next
    assert client.receive()[112] == "STILL-THERE"


def test_malformed_value_gets_a_session_reject(raw: Any) -> None:
    client = logged_on(raw, "RAW5")
    client.next_seq = 2
    client.send("D", (ORDER % "5").replace(f"38=1{SOH}", f"38=ten{SOH}"))
    reject = client.receive()
    assert (reject[35], reject[371], reject[373]) == ("3", "38", "6")
    client.send("D", (ORDER % "6").replace(f"54=1{SOH}", f"54=Z{SOH}"))
    reject = client.receive()
    assert (reject[35], reject[371], reject[373]) == ("3", "54", "5")


def test_a_sequence_gap_is_answered_with_a_resend_request_and_resumes_after_the_gap_fill(raw: Any) -> None:
    client = logged_on(raw, "RAW6")
    client.send("1", f"112=TOO-HIGH{SOH}", seq=5)
    resend = client.receive()
    assert (resend[35], resend[7], resend[16]) == ("2", "2", "0")
    client.send("4", f"123=Y{SOH}36=5{SOH}", seq=2, header=f"43=Y{SOH}122={client.now()}{SOH}")
    client.send("1", f"112=RESENT{SOH}", seq=5, header=f"43=Y{SOH}122={client.now()}{SOH}")
    assert client.receive()[112] == "RESENT"
    client.send("1", f"112=NEXT{SOH}", seq=6)
    assert client.receive()[112] == "NEXT"


def test_a_too_low_sequence_number_without_poss_dup_is_a_logout(raw: Any) -> None:
    client = logged_on(raw, "RAW7")
    client.send("0", seq=2)
    client.send("0", seq=2)
    logout = client.receive()
    assert (logout[35], logout[58]) == ("5", "MsgSeqNum too low, expecting 3 but received 2")
    assert client.closed_by_server()


def test_a_poss_dup_duplicate_is_ignored(raw: Any) -> None:
    client = logged_on(raw, "RAW8")
    client.send("D", ORDER % "8", seq=2)
    assert client.receive()[150] == "0"
    client.send("D", ORDER % "8", seq=2, header=f"43=Y{SOH}122={client.now()}{SOH}")
    client.send("1", f"112=AFTER-DUP{SOH}", seq=3)
    assert client.receive()[112] == "AFTER-DUP"  # nothing was answered to the duplicate


def test_sequence_reset_moves_the_incoming_number_forward(raw: Any) -> None:
    client = logged_on(raw, "RAW9")
    client.send("4", f"36=50{SOH}", seq=2)
    client.send("1", f"112=AT-FIFTY{SOH}", seq=50)
    assert client.receive()[112] == "AT-FIFTY"


def test_resend_request_gets_stored_reports_with_poss_dup_and_gap_fills_for_the_rest(raw: Any) -> None:
    client = logged_on(raw, "RAW10")
    client.next_seq = 2
    client.send("D", ORDER % "10")
    first = client.receive_text()
    assert "\x01150=0\x01" in first
    client.send("2", f"7=1{SOH}16=0{SOH}")
    gap_fill = client.receive()
    assert (gap_fill[35], gap_fill[34], gap_fill[123], gap_fill[36], gap_fill[43]) == ("4", "1", "Y", "2", "Y")
    resent = client.receive()
    original = {int(tag): value for tag, _, value in (item.partition("=") for item in first.split(SOH) if item)}
    assert (resent[35], resent[34], resent[43], resent[122]) == ("8", "2", "Y", original[52])
    assert (resent[17], resent[37]) == (original[17], original[37])


def test_test_request_gets_a_heartbeat_and_a_silent_client_is_disconnected(raw: Any) -> None:
    client = logged_on(raw, "RAW11", heartbeat=1)
    client.next_seq = 2
    client.send("1", f"112=PING{SOH}")
    assert client.receive()[112] == "PING"
    seen = []
    started = time.monotonic()
    while True:
        try:
            seen.append(client.receive(timeout=4)[35])
        except (ConnectionError, TimeoutError):
            break
    assert "1" in seen  # a TestRequest came before the disconnect
    assert time.monotonic() - started < 4


def test_logon_with_a_wrong_password_is_refused(raw: Any) -> None:
    client: RawClient = raw("RAW12", password="wrong")
    answer = client.logon(extra=RESET)
    assert answer[35] == "5"
    assert client.closed_by_server()


def test_first_message_other_than_logon_and_unknown_comp_ids_are_dropped(raw: Any) -> None:
    first: RawClient = raw("RAW13")
    first.send("0")
    assert first.closed_by_server()
    stranger: RawClient = raw("STRANGER")
    stranger.send("A", f"98=0{SOH}108=30{SOH}554=x{SOH}")
    assert stranger.closed_by_server()


def test_a_second_connection_for_a_logged_on_session_is_dropped(raw: Any) -> None:
    client = logged_on(raw, "RAW14")
    second: RawClient = raw("RAW14")
    second.send("A", f"98=0{SOH}108=30{SOH}554=fix-secret{SOH}{RESET}")
    assert second.closed_by_server()
    client.send("1", f"112=FIRST-STAYS{SOH}", seq=2)
    assert client.receive()[112] == "FIRST-STAYS"


def test_invalid_msg_type_is_a_session_reject(raw: Any) -> None:
    client = logged_on(raw, "RAW15")
    client.send("ZZ", seq=2)
    reject = client.receive()
    assert (reject[35], reject[372], reject[373]) == ("3", "ZZ", "11")


def test_quickfix_recovers_our_messages_by_resend_when_it_missed_them(venue: Venue, quickfix: Any) -> None:
    dave: QuickFixClient = quickfix("DAVE")
    placed: list[str] = []
    for _ in range(3):
        wanted = dave.client_order_id()
        placed.append(wanted)
        dave.send("D", (11, wanted), (55, "AAPL"), (54, "1"), (60, "20260101-00:00:00"), (38, "1"), (40, "2"),
                  (44, "2.00"))  # fmt: skip
        dave.expect(lambda message: message.get(11) == placed[-1])
    # Make QuickFIX believe it missed everything after its Logon: our next message shows a gap, it asks for
    # a resend, and must accept our PossDup copies and GapFills. (fromApp runs before QuickFIX counts the
    # message, so wait until it has counted the last one.)
    session = dave.session
    deadline = time.monotonic() + 2
    while session.getExpectedTargetNum() != 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    session.setNextTargetMsgSeqNum(2)
    dave.send("H", (11, placed[0]), (55, "AAPL"), (54, "1"))
    resent = [dave.expect(lambda message: message.get(43) == "Y" and message.get(150) == "0") for _ in placed]
    assert [message[11] for message in resent] == placed
    assert all(message[122] and message[122] <= message[52] for message in resent)
    dave.expect(lambda message: message.get(150) == "I")
    venue.rest("dave", "DELETE", "/api/orders?symbol=AAPL")


def test_our_resend_request_is_answered_by_quickfix_and_processing_resumes(venue: Venue, quickfix: Any) -> None:
    dave: QuickFixClient = quickfix("DAVE")
    session = dave.session
    session.setNextSenderMsgSeqNum(session.getExpectedSenderNum() + 3)  # QuickFIX skips three numbers
    dave.send("H", (11, "NO-SUCH"), (55, "AAPL"), (54, "1"))  # arrives after a gap: we ask for a resend
    deadline = time.monotonic() + 5
    while not any("\x0135=2\x01" in text for text in dave.recorder.admin_received):
        assert time.monotonic() < deadline, "the venue did not ask for a resend"
        time.sleep(0.01)
    # QuickFIX fills the gap (it may gap-fill over the request too, as FIX allows); the session goes on.
    dave.send("H", (11, "STILL-NO-SUCH"), (55, "AAPL"), (54, "1"))
    answer = dave.expect(lambda message: message.get(150) == "I" and message.get(11) == "STILL-NO-SUCH")
    assert answer[39] == "8"
