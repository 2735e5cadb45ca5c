"""The session store: sequence numbers, sent messages and order notes on disk, torn tails cut on reopening."""

from __future__ import annotations

import os
from pathlib import Path

from hft.gateways.fix.store import ENTERED, REPLACED, SessionStore, StoredMessage


def _message(seq: int, position: int = 0) -> StoredMessage:
    return StoredMessage(seq, position, b"8", b"20260101-00:00:00.000", b"17=E%d\x01" % seq)


def test_a_new_store_starts_at_one_and_says_it_is_fresh(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "S")
    assert (store.fresh, store.next_in, store.next_out, store.cursor) == (True, 1, 1, 0)
    store.close()
    again = SessionStore(tmp_path / "S")
    assert not again.fresh
    again.close()


def test_only_committed_messages_are_read_back_and_in_the_asked_range(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "S")
    for seq in (2, 3, 7):
        store.add_message(_message(seq, seq * 4))
    assert list(store.messages(1, 100)) == []
    store.commit()
    store.add_message(_message(8))
    assert [message.msg_seq_num for message in store.messages(3, 100)] == [3, 7]
    assert [message.body for message in store.messages(1, 2)] == [b"17=E2\x01"]
    assert store.cursor == 28
    store.close()


def test_reopening_recovers_what_the_sequences_file_missed_from_the_messages(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "S")
    store.next_out = 5
    store.add_message(_message(4, 40))
    store.commit()
    os.truncate(tmp_path / "S" / "sequences", 0)  # as if the process died before writing the numbers
    reopened = SessionStore(tmp_path / "S")
    assert (reopened.next_out, reopened.cursor) == (5, 40)
    reopened.close()
    store.close()


def test_a_torn_tail_is_cut_and_the_whole_records_before_it_kept(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "S")
    store.add_message(_message(1))
    store.add_message(_message(2))
    store.add_order_note(ENTERED, 10, "A")
    store.commit()
    store.close()
    messages = tmp_path / "S" / "messages"
    size = messages.stat().st_size
    with messages.open("ab") as file:
        file.write(b"\x30\x00\x00\x00garbage")  # a record header promising more than was written
    os.truncate(tmp_path / "S" / "orders", (tmp_path / "S" / "orders").stat().st_size - 1)
    reopened = SessionStore(tmp_path / "S")
    assert [message.msg_seq_num for message in reopened.messages(1, 10)] == [1, 2]
    assert messages.stat().st_size == size
    assert reopened.order_notes == []
    reopened.add_message(_message(5))
    reopened.add_order_note(REPLACED, 10, "B")
    reopened.close()
    last = SessionStore(tmp_path / "S")
    assert [message.msg_seq_num for message in last.messages(1, 10)][-1] == 5
    assert last.order_notes == [(REPLACED, 10, "B")]
    last.close()


def test_reset_forgets_messages_and_sequences_but_keeps_the_cursor_and_notes(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "S")
    store.next_in = 9
    store.add_message(_message(3, 100))
    store.add_order_note(ENTERED, 1, "X")
    store.commit()
    store.reset()
    assert (store.next_in, store.next_out, store.cursor) == (1, 1, 100)
    assert list(store.messages(1, 10)) == []
    store.close()
    reopened = SessionStore(tmp_path / "S")
    assert (reopened.next_in, reopened.next_out, reopened.cursor) == (1, 1, 100)
    assert reopened.order_notes == [(ENTERED, 1, "X")]
    reopened.close()
