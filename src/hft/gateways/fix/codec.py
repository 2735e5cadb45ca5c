"""FIX 4.4 tag=value on the wire: framing a byte stream, reading the few tags that matter, encoding messages.

A message is kept as the bytes it arrived in. The header is read once,
field by field, up to the first body tag; a body field is found when it is
asked for, with one ``bytes.find`` (no dictionary of every field, no regular
expression). Framing trusts BodyLength and checks the CheckSum, and skips
anything that is not a message: garbage between messages, a garbled
message, a BeginString other than FIX.4.4.
"""

from __future__ import annotations

import time
from decimal import Decimal, InvalidOperation
from typing import Final

SOH: Final = b"\x01"
BEGIN: Final = b"8=FIX.4.4\x019="
BEGIN_STRING: Final = b"8=FIX.4.4\x01"
MAX_BODY_LENGTH: Final = 64 * 1024
# "10=nnn" plus its delimiter.
TRAILER_LENGTH: Final = 7

# Standard header tags (FIX 4.4): a body tag before any of these ends the header.
HEADER_TAGS: Final = frozenset(
    {8, 9, 35, 49, 56, 115, 128, 90, 91, 34, 50, 142, 57, 143, 116, 144, 129, 145, 43, 97, 52, 122, 212, 213}
    | {347, 369, 627, 628, 629, 630}
)

# Session-level reject reasons (tag 373).
INVALID_TAG_NUMBER: Final = 0
REQUIRED_TAG_MISSING: Final = 1
TAG_WITHOUT_VALUE: Final = 4
VALUE_INCORRECT: Final = 5
INCORRECT_DATA_FORMAT: Final = 6
COMP_ID_PROBLEM: Final = 9
SENDING_TIME_PROBLEM: Final = 10
INVALID_MSG_TYPE: Final = 11
TAG_OUT_OF_ORDER: Final = 14

# The tags each message type must carry, as this gateway uses them (not the whole FIX 4.4 dictionary).
REQUIRED_TAGS: Final[dict[bytes, tuple[int, ...]]] = {
    b"A": (98, 108),
    b"0": (),
    b"1": (112,),
    b"2": (7, 16),
    b"3": (45,),
    b"4": (36,),
    b"5": (),
    b"D": (11, 55, 54, 60, 38, 40),
    b"F": (41, 11, 55, 54, 60),
    b"G": (41, 11, 55, 54, 60, 38, 40),
    b"q": (11, 530, 60),
    b"H": (55, 54),
    b"V": (262, 263, 264, 267, 146),
    b"x": (320, 559),
}
SESSION_TYPES: Final = frozenset({b"A", b"0", b"1", b"2", b"3", b"4", b"5"})


class FieldError(Exception):
    """A message field is missing or malformed; the session answers with a Reject naming ``tag`` and ``reason``."""

    def __init__(self, tag: int, reason: int, text: str) -> None:
        super().__init__(text)
        self.tag = tag
        self.reason = reason
        self.text = text


class FixMessage:
    """One framed message: its raw bytes, its header read once, body fields found on demand.

    ``msg_seq_num`` is 0 when tag 34 is missing or not a number (the session logs such a peer out).
    """

    __slots__ = (
        "body_start",
        "header_error",
        "msg_seq_num",
        "msg_type",
        "orig_sending_time",
        "poss_dup",
        "raw",
        "sender",
        "sending_time",
        "target",
    )

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.msg_type = b""
        self.msg_seq_num = 0
        self.sender = b""
        self.target = b""
        self.sending_time = b""
        self.orig_sending_time = b""
        self.poss_dup = False
        # (tag, reason) of the first header problem found, for a session-level Reject.
        self.header_error: tuple[int, int] | None = None
        self.body_start = len(raw) - TRAILER_LENGTH
        self._read_header()

    def _read_header(self) -> None:
        raw = self.raw
        end = len(raw) - TRAILER_LENGTH
        position = raw.index(SOH, len(BEGIN)) + 1  # after BodyLength
        first = True
        while position < end:
            stop = raw.find(SOH, position)
            equals = raw.find(b"=", position, stop)
            if equals < 0 or not raw[position:equals].isdigit():
                self.header_error = (0, INVALID_TAG_NUMBER)
                self.body_start = position
                return
            tag = int(raw[position:equals])
            value = raw[equals + 1 : stop]
            if first and tag != 35:
                self.header_error = (35, TAG_OUT_OF_ORDER)
            first = False
            if tag not in HEADER_TAGS:
                self.body_start = position
                return
            if tag == 35:
                self.msg_type = value
            elif tag == 34:
                self.msg_seq_num = int(value) if value.isdigit() else 0
            elif tag == 49:
                self.sender = value
            elif tag == 56:
                self.target = value
            elif tag == 52:
                self.sending_time = value
            elif tag == 43:
                self.poss_dup = value == b"Y"
            elif tag == 122:
                self.orig_sending_time = value
            elif tag in (8, 9) and self.header_error is None:
                self.header_error = (tag, TAG_OUT_OF_ORDER)
            position = stop + 1
        self.body_start = end

    def get(self, tag: int) -> bytes | None:
        """Return the first value of body ``tag``, or None. Cost: one ``bytes.find`` over the body."""
        needle = _NEEDLES.get(tag) or _needle(tag)
        raw = self.raw
        start = self.body_start - 1  # the needle starts with the delimiter before the tag
        found = raw.find(needle, start)
        if found < 0:
            return None
        found += len(needle)
        return raw[found : raw.index(SOH, found)]

    def text(self, tag: int) -> str | None:
        """Return body ``tag`` decoded as Latin-1 text, or None."""
        value = self.get(tag)
        return None if value is None else value.decode("latin-1")

    def missing_tag(self) -> tuple[int, int] | None:
        """Return ``(tag, reason)`` for the first required tag that is absent or empty, else None."""
        for tag in REQUIRED_TAGS.get(self.msg_type, ()):
            value = self.get(tag)
            if value is None:
                return tag, REQUIRED_TAG_MISSING
            if not value:
                return tag, TAG_WITHOUT_VALUE
        return None

    def integer(self, tag: int, default: int | None = None) -> int:
        """Return body ``tag`` as an int; raise ``FieldError`` if it is missing (and no default) or not a number."""
        value = self.get(tag)
        if value is None:
            if default is None:
                raise FieldError(tag, REQUIRED_TAG_MISSING, f"tag {tag} is missing")
            return default
        if not value.isdigit() or len(value) > 18:
            raise FieldError(tag, INCORRECT_DATA_FORMAT, f"tag {tag} must be a non-negative integer")
        return int(value)

    def decimal(self, tag: int) -> Decimal | None:
        """Return body ``tag`` as a Decimal (None if absent); raise ``FieldError`` if it is not a plain number."""
        value = self.get(tag)
        if value is None:
            return None
        # FIX numbers are plain decimals: no exponent, no sign other than '-', no digit separators, no NaN.
        if not value or len(value) > 40 or value.strip(b"-.0123456789") or value.count(b".") > 1:
            raise FieldError(tag, INCORRECT_DATA_FORMAT, f"tag {tag} must be a decimal number")
        try:
            return Decimal(value.decode("ascii"))
        except InvalidOperation:
            raise FieldError(tag, INCORRECT_DATA_FORMAT, f"tag {tag} must be a decimal number") from None

    def groups(self, count_tag: int, tags: frozenset[int]) -> list[dict[int, bytes]]:
        """Return the instances of the repeating group counted by ``count_tag``; each starts at its first tag.

        Raise ``FieldError`` when the count is not a number or does not match the instances found.
        """
        count = self.integer(count_tag)
        raw = self.raw
        needle = _NEEDLES.get(count_tag) or _needle(count_tag)
        position = raw.find(needle, self.body_start - 1)
        position = raw.index(SOH, position + 1) + 1
        end = len(raw) - TRAILER_LENGTH
        instances: list[dict[int, bytes]] = []
        delimiter = -1
        while position < end:
            stop = raw.index(SOH, position)
            equals = raw.find(b"=", position, stop)
            tag_text = raw[position:equals]
            if equals < 0 or not tag_text.isdigit():
                break
            tag = int(tag_text)
            if tag not in tags:
                break
            if delimiter < 0:
                delimiter = tag
            if tag == delimiter or tag in instances[-1]:
                instances.append({})
            instances[-1][tag] = raw[equals + 1 : stop]
            position = stop + 1
        if len(instances) != count:
            raise FieldError(count_tag, INCORRECT_DATA_FORMAT, f"tag {count_tag} says {count}, found {len(instances)}")
        return instances


_NEEDLES: dict[int, bytes] = {}


def _needle(tag: int) -> bytes:
    needle = _NEEDLES[tag] = b"\x01%d=" % tag
    return needle


class Framer:
    """Cut a byte stream into whole messages; drop garbage, garbled messages and other BeginStrings."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.discarded = 0

    def feed(self, data: bytes) -> list[bytes]:
        """Append ``data`` and return every complete, well-formed message now in the buffer, in order.

        Cost: O(bytes); checksums are summed in C. Bytes that cannot start a message are counted in ``discarded``.
        """
        buffer = self.buffer
        buffer += data
        messages: list[bytes] = []
        while True:
            start = buffer.find(BEGIN)
            if start < 0:
                # Keep a tail that could be the start of a BeginString cut in two.
                keep = len(BEGIN) - 1
                if len(buffer) > keep:
                    self.discarded += len(buffer) - keep
                    del buffer[: len(buffer) - keep]
                return messages
            if start:
                self.discarded += start
                del buffer[:start]
            length_end = buffer.find(SOH, len(BEGIN), len(BEGIN) + 8)
            if length_end < 0:
                if len(buffer) >= len(BEGIN) + 8:
                    self._skip(buffer)
                    continue
                return messages
            length_text = bytes(buffer[len(BEGIN) : length_end])
            if not length_text.isdigit() or int(length_text) > MAX_BODY_LENGTH:
                self._skip(buffer)
                continue
            trailer = length_end + 1 + int(length_text)
            end = trailer + TRAILER_LENGTH
            if len(buffer) < end:
                return messages
            if (
                buffer[trailer : trailer + 3] != b"10="
                or buffer[end - 1] != 1
                or not buffer[trailer + 3 : end - 1].isdigit()
                or int(buffer[trailer + 3 : end - 1]) != sum(memoryview(buffer)[:trailer]) & 0xFF
            ):
                self._skip(buffer)
                continue
            messages.append(bytes(buffer[:end]))
            del buffer[:end]

    def _skip(self, buffer: bytearray) -> None:
        """Drop a garbled message's first byte, so the search resumes at the next BeginString."""
        self.discarded += 1
        del buffer[:1]


# -- encoding ------------------------------------------------------------------------------------------------


def field(tag: int, value: bytes | str | int) -> bytes:
    """Return one ``tag=value<SOH>`` field."""
    if isinstance(value, str):
        value = value.encode("latin-1")
    elif isinstance(value, int):
        value = str(value).encode()
    return b"%d=%b\x01" % (tag, value)


def encode(
    msg_type: bytes,
    msg_seq_num: int,
    sender: bytes,
    target: bytes,
    sending_time: bytes,
    body: bytes,
    orig_sending_time: bytes | None = None,
) -> bytes:
    """Return a whole message: header (PossDupFlag and OrigSendingTime when ``orig_sending_time``), body, trailer."""
    header = b"35=%b\x0134=%d\x0149=%b\x0152=%b\x0156=%b\x01" % (msg_type, msg_seq_num, sender, sending_time, target)
    if orig_sending_time is not None:
        header += b"43=Y\x01122=%b\x01" % orig_sending_time
    message = b"8=FIX.4.4\x019=%d\x01%b%b" % (len(header) + len(body), header, body)
    return message + b"10=%03d\x01" % (sum(message) & 0xFF)


class UtcTimestamps:
    """Format nanosecond times as FIX UTCTimestamps with milliseconds, reusing the formatted second."""

    __slots__ = ("_prefix", "_second")

    def __init__(self) -> None:
        self._second = -1
        self._prefix = b""

    def format(self, ts_ns: int) -> bytes:
        """Return ``YYYYMMDD-HH:MM:SS.mmm`` for ``ts_ns``. O(1); a new second costs one ``time.gmtime``."""
        second, rest = divmod(ts_ns, 1_000_000_000)
        if second != self._second:
            self._second = second
            self._prefix = time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(second)).encode()
        return b"%b.%03d" % (self._prefix, rest // 1_000_000)


def parse_utc_timestamp(value: bytes) -> int | None:
    """Return a FIX UTCTimestamp (``YYYYMMDD-HH:MM:SS[.fff...]``) in ns since the epoch, or None if malformed.

    Cost: a few integer conversions (no ``strptime``), so it can run on every message.
    """
    if len(value) < 17 or value[8] != 45 or value[11] != 58 or value[14] != 58:  # '-', ':', ':'
        return None
    date, hours, minutes, seconds = value[:8], value[9:11], value[12:14], value[15:17]
    if not (date.isdigit() and hours.isdigit() and minutes.isdigit() and seconds.isdigit()):
        return None
    nanos = 0
    if len(value) > 17:
        fraction = value[18:]
        if value[17] != 46 or not fraction.isdigit() or len(fraction) > 9:  # '.'
            return None
        nanos = int(fraction.ljust(9, b"0"))
    year, month, day = int(date[:4]), int(date[4:6]), int(date[6:])
    hour, minute, second = int(hours), int(minutes), int(seconds)
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second <= 60):
        return None
    return (_days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second) * 1_000_000_000 + nanos


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468
