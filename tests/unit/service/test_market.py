"""MarketData: the trade tape, session statistics and the per-symbol book sequence, from a real exchange's acks."""

from __future__ import annotations

from tests.unit.service.tape import ALICE, BOB, Tape

from hft.domain.commands import CancelOrder, SubmitOrder
from hft.domain.events import BookLevelChanged
from hft.domain.orders import BUY, SELL
from hft.service.market import TAPE_LENGTH, MarketData


def _market(tape: Tape) -> MarketData:
    return MarketData(tape.instruments)


def test_a_fresh_market_has_no_trades_and_sequence_zero() -> None:
    market = _market(Tape())

    assert market.recent_trades("AAPL", 10) == []
    statistics = market.symbols["AAPL"]
    assert (statistics.open, statistics.high, statistics.low, statistics.volume, statistics.trade_count) == (
        0,
        0,
        0,
        0,
        0,
    )
    assert statistics.book_sequence == 0


def test_batch_without_book_changes_reports_nothing_and_keeps_the_sequence() -> None:
    tape = Tape()
    market = _market(tape)

    applied = market.apply(tape.acks(CancelOrder(42, ALICE)))
    trades, book_changes = applied.trades, applied.book_changes

    assert (trades, book_changes) == ([], {})
    assert market.symbols["AAPL"].book_sequence == 0


def test_book_sequence_is_the_event_sequence_of_the_symbols_latest_book_change() -> None:
    tape = Tape()
    tape.accounts(ALICE)
    market = _market(tape)

    first = market.apply(
        tape.acks(SubmitOrder(0, ALICE, "AAPL", BUY, 1, 9_000), SubmitOrder(0, ALICE, "AAPL", BUY, 2, 9_001))
    ).book_changes
    second = market.apply(tape.acks(SubmitOrder(0, ALICE, "MSFT", SELL, 1, 5_000))).book_changes
    third = market.apply(tape.acks(SubmitOrder(0, ALICE, "AAPL", BUY, 1, 9_000))).book_changes

    assert [(c.side, c.price, c.quantity) for c in first["AAPL"]] == [(BUY, 9_000, 1), (BUY, 9_001, 2)]
    assert list(second) == ["MSFT"]
    assert [(c.price, c.quantity, c.order_count) for c in third["AAPL"]] == [(9_000, 2, 2)]
    assert all(isinstance(change, BookLevelChanged) for change in first["AAPL"])
    assert market.symbols["AAPL"].book_sequence == third["AAPL"][-1].sequence
    assert market.symbols["MSFT"].book_sequence == second["MSFT"][-1].sequence
    assert first["AAPL"][-1].sequence < second["MSFT"][-1].sequence < third["AAPL"][-1].sequence
    assert market.symbols["GOOGL"].book_sequence == 0


def test_trades_become_prints_with_the_aggressor_side_and_statistics() -> None:
    tape = Tape()
    tape.accounts(ALICE, BOB)
    market = _market(tape)
    market.apply(
        tape.acks(SubmitOrder(0, ALICE, "AAPL", SELL, 5, 10_010), SubmitOrder(0, ALICE, "AAPL", SELL, 5, 10_020))
    )

    applied = market.apply(tape.acks(SubmitOrder(0, BOB, "AAPL", BUY, 7, 10_020)))
    trades, book_changes = applied.trades, applied.book_changes
    later = market.apply(
        tape.acks(SubmitOrder(0, BOB, "AAPL", BUY, 4, 9_990), SubmitOrder(0, ALICE, "AAPL", SELL, 1, 9_990))
    ).trades

    assert [(t.trade_id, t.price, t.quantity, t.aggressor_side) for t in trades] == [
        (1, 10_010, 5, BUY),
        (2, 10_020, 2, BUY),
    ]
    assert [(t.trade_id, t.price, t.quantity, t.aggressor_side) for t in later] == [(3, 9_990, 1, SELL)]
    assert "AAPL" in book_changes
    statistics = market.symbols["AAPL"]
    assert (statistics.open, statistics.high, statistics.low) == (10_010, 10_020, 9_990)
    assert (statistics.volume, statistics.trade_count) == (8, 3)
    assert [t.trade_id for t in market.recent_trades("AAPL", 10)] == [3, 2, 1]
    assert [t.trade_id for t in market.recent_trades("AAPL", 2)] == [3, 2]
    assert market.recent_trades("MSFT", 10) == []


def test_the_tape_keeps_only_the_latest_trades_but_the_statistics_keep_counting() -> None:
    tape = Tape()
    tape.accounts(ALICE, BOB)
    market = _market(tape)
    market.apply(tape.acks(SubmitOrder(0, ALICE, "AAPL", SELL, TAPE_LENGTH + 50, 10_000)))

    for _ in range(TAPE_LENGTH + 50):
        market.apply(tape.acks(SubmitOrder(0, BOB, "AAPL", BUY, 1, 10_000)))

    recent = market.recent_trades("AAPL", TAPE_LENGTH + 100)
    assert len(recent) == TAPE_LENGTH
    assert recent[0].trade_id == TAPE_LENGTH + 50
    assert recent[-1].trade_id == 51
    assert market.symbols["AAPL"].trade_count == TAPE_LENGTH + 50
    assert market.symbols["AAPL"].volume == TAPE_LENGTH + 50
