"""FIX tag=value: framing a stream with garbage and partial messages, reading tags, encoding, timestamps."""

from __future__ import annotations

import calendar
from decimal import Decimal

import pytest

from hft.gateways.fix import codec
from hft.gateways.fix.codec import FieldError, FixMessage, Framer, encode, field

NOW = b"20260102-03:04:05.678"


def message(msg_type: bytes = b"D", seq: int = 1, body: bytes = b"11=A\x0155=AAPL\x01") -> bytes:
    return encode(msg_type, seq, b"CLIENT", b"HFT", NOW, body)


def test_encode_computes_body_length_and_checksum_as_the_specification_defines() -> None:
    raw = message()
    body_start = raw.index(b"\x01", len(b"8=FIX.4.4\x019=")) + 1
    trailer = raw.rindex(b"10=")
    assert int(raw[len(b"8=FIX.4.4\x019=") : body_start - 1]) == trailer - body_start
    assert raw[trailer:] == b"10=%03d\x01" % (sum(raw[:trailer]) % 256)
    assert raw.startswith(b"8=FIX.4.4\x019=")
    assert b"\x0135=D\x0134=1\x0149=CLIENT\x0152=" + NOW + b"\x0156=HFT\x01" in raw


def test_a_resent_message_carries_poss_dup_and_the_original_sending_time_in_its_header() -> None:
    raw = encode(b"8", 7, b"HFT", b"CLIENT", NOW, b"37=1\x01", orig_sending_time=b"20260101-00:00:00.000")
    parsed = FixMessage(raw)
    assert parsed.poss_dup
    assert parsed.orig_sending_time == b"20260101-00:00:00.000"
    assert parsed.get(37) == b"1"


def test_header_fields_are_read_once_and_body_fields_on_demand() -> None:
    parsed = FixMessage(message(seq=42, body=b"11=ORDER-1\x0155=AAPL\x0138=100\x0144=1.5\x01"))
    assert (parsed.msg_type, parsed.msg_seq_num, parsed.sender, parsed.target) == (b"D", 42, b"CLIENT", b"HFT")
    assert parsed.sending_time == NOW
    assert parsed.header_error is None
    assert parsed.get(11) == b"ORDER-1"
    assert parsed.text(55) == "AAPL"
    assert parsed.integer(38) == 100
    assert parsed.decimal(44) == Decimal("1.5")
    assert parsed.get(99) is None
    assert parsed.get(1) is None  # "1=" must not match inside "11=" or "151="


def test_a_tag_is_found_only_as_a_whole_tag_not_as_the_end_of_a_longer_one() -> None:
    parsed = FixMessage(message(body=b"111=5\x0111=X\x01"))
    assert parsed.get(11) == b"X"
    assert parsed.get(111) == b"5"


def test_missing_and_empty_required_tags_are_named() -> None:
    assert FixMessage(message(body=b"11=A\x0155=AAPL\x0154=1\x0160=x\x0140=2\x01")).missing_tag() == (
        38,
        codec.REQUIRED_TAG_MISSING,
    )
    assert FixMessage(message(body=b"11=\x0155=AAPL\x01")).missing_tag() == (11, codec.TAG_WITHOUT_VALUE)
    complete = b"11=A\x0155=AAPL\x0154=1\x0160=x\x0138=1\x0140=2\x01"
    assert FixMessage(message(body=complete)).missing_tag() is None


@pytest.mark.parametrize("value", [b"1e5", b"NaN", b"1_000", b"--1", b"1.2.3", b"inf", b" 1"])
def test_decimals_must_be_plain_numbers(value: bytes) -> None:
    with pytest.raises(FieldError) as raised:
        FixMessage(message(body=b"44=" + value + b"\x01")).decimal(44)
    assert (raised.value.tag, raised.value.reason) == (44, codec.INCORRECT_DATA_FORMAT)


def test_integers_must_be_digits() -> None:
    with pytest.raises(FieldError) as raised:
        FixMessage(message(body=b"264=-1\x01")).integer(264)
    assert raised.value.reason == codec.INCORRECT_DATA_FORMAT
    with pytest.raises(FieldError) as missing:
        FixMessage(message(body=b"")).integer(264)
    assert missing.value.reason == codec.REQUIRED_TAG_MISSING


def test_repeating_groups_are_split_at_their_first_tag_and_their_count_is_checked() -> None:
    body = b"262=R\x01263=1\x01264=0\x01267=2\x01269=0\x01269=1\x01146=2\x0155=AAPL\x0155=MSFT\x01"
    parsed = FixMessage(message(b"V", body=body))
    assert parsed.groups(267, frozenset({269})) == [{269: b"0"}, {269: b"1"}]
    assert parsed.groups(146, frozenset({55})) == [{55: b"AAPL"}, {55: b"MSFT"}]
    wrong = FixMessage(message(b"V", body=b"146=3\x0155=AAPL\x01"))
    with pytest.raises(FieldError) as raised:
        wrong.groups(146, frozenset({55}))
    assert raised.value.tag == 146


def test_a_header_that_does_not_start_with_msg_type_is_flagged() -> None:
    raw = b"8=FIX.4.4\x019=5\x0134=1\x01"
    raw += b"10=%03d\x01" % (sum(raw) % 256)
    assert FixMessage(raw).header_error == (35, codec.TAG_OUT_OF_ORDER)


def test_framer_returns_whole_messages_across_arbitrary_splits() -> None:
    stream = message(seq=1) + message(seq=2) + message(seq=3)
    for size in (1, 2, 7, 64, len(stream)):
        framer = Framer()
        found: list[bytes] = []
        for start in range(0, len(stream), size):
            found.extend(framer.feed(stream[start : start + size]))
        assert [FixMessage(raw).msg_seq_num for raw in found] == [1, 2, 3]
        assert framer.discarded == 0


def test_framer_skips_garbage_before_between_and_after_messages() -> None:
    framer = Framer()
    found = framer.feed(b"\x00\xffjunk 8=FIX" + message(seq=1) + b"GARBAGE\x01\x01" + message(seq=2) + b"tail")
    assert [FixMessage(raw).msg_seq_num for raw in found] == [1, 2]
    assert framer.discarded > 0
    assert framer.feed(message(seq=3))[0] == message(seq=3)


def test_framer_drops_a_message_with_a_wrong_checksum_and_finds_the_next_one() -> None:
    bad = bytearray(message(seq=1))
    bad[-3] = ord("0") if bad[-3] != ord("0") else ord("1")
    framer = Framer()
    assert framer.feed(bytes(bad) + message(seq=2)) == [message(seq=2)]


def test_framer_drops_a_message_whose_body_length_is_wrong_and_resynchronises() -> None:
    good = message(seq=2)
    lying = message(seq=1).replace(b"9=", b"9=1", 1)  # ten times too long: its trailer is not where it says
    framer = Framer()
    found = framer.feed(lying + good + message(seq=3))
    assert [FixMessage(raw).msg_seq_num for raw in found][-2:] == [2, 3]


def test_framer_ignores_other_fix_versions_and_absurd_lengths() -> None:
    other = message().replace(b"FIX.4.4", b"FIX.4.2")
    absurd = b"8=FIX.4.4\x019=99999999999\x0135=0\x01"
    assert Framer().feed(other + absurd + message(seq=9)) == [message(seq=9)]


def test_timestamps_round_trip_at_millisecond_precision() -> None:
    stamps = codec.UtcTimestamps()
    ts = calendar.timegm((2026, 2, 28, 23, 59, 59)) * 1_000_000_000 + 123_456_789
    text = stamps.format(ts)
    assert text == b"20260228-23:59:59.123"
    assert codec.parse_utc_timestamp(text) == ts - 456_789
    assert codec.parse_utc_timestamp(b"20260228-23:59:59") == ts - 123_456_789
    assert (
        codec.parse_utc_timestamp(b"20240229-12:00:00.000000001")
        == calendar.timegm((2024, 2, 29, 12, 0, 0)) * 10**9 + 1
    )


@pytest.mark.parametrize(
    "text", [b"", b"2026-01-01 00:00:00", b"20261301-00:00:00", b"20260101-25:00:00", b"20260101-00:00:00.", b"x" * 17]
)
def test_malformed_timestamps_are_refused(text: bytes) -> None:
    assert codec.parse_utc_timestamp(text) is None


def test_field_formats_text_numbers_and_bytes() -> None:
    assert field(55, "AAPL") + field(38, 100) + field(58, b"x") == b"55=AAPL\x0138=100\x0158=x\x01"
