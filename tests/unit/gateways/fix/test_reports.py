"""Execution reports from a real exchange's events: quantities as of each event, ExecIDs and positions stable."""

from __future__ import annotations

from tests.unit.service.tape import ALICE, BOB, CAROL, Tape

from hft.domain.commands import AmendOrder, CancelOrder, SubmitOrder
from hft.domain.events import TradeExecuted
from hft.domain.orders import BUY, SELL, STP_NONE
from hft.engine.core import Ack
from hft.gateways.fix.reports import Context, OrderTracker, Report


def fields(body: bytes) -> dict[int, str]:
    found: dict[int, str] = {}
    for item in body.decode().split("\x01"):
        if item:
            tag, _, value = item.partition("=")
            found.setdefault(int(tag), value)
    return found


def reports_of(tracker: OrderTracker, acks: list[Ack], context: Context | None = None) -> list[Report]:
    reports: list[Report] = []
    for ack in acks:
        for event in ack.events:
            tracker.apply(event, ack.command, context, reports)
    return reports


def test_each_fill_of_a_sweep_reports_the_quantities_right_after_it() -> None:
    tape = Tape()
    tape.accounts(ALICE, BOB)
    tracker = OrderTracker([ALICE], {i.symbol: i for i in tape.instruments})
    makers = tape.acks(
        SubmitOrder(0, BOB, "AAPL", SELL, 30, 10_000, client_order_id="S1"),
        SubmitOrder(0, BOB, "AAPL", SELL, 30, 10_050, client_order_id="S2"),
    )
    assert reports_of(tracker, makers) == []  # BOB has no FIX session
    [taker] = tape.acks(SubmitOrder(0, ALICE, "AAPL", BUY, 50, 10_100, client_order_id="B1"))
    new, first, second = (fields(report.body) for report in reports_of(tracker, [taker]))
    assert (new[150], new[39], new[151], new[14]) == ("0", "0", "50", "0")
    assert (first[150], first[39], first[32], first[31], first[14], first[151], first[6]) == (
        "F", "1", "30", "100.00", "30", "20", "100"
    )  # fmt: skip
    assert (second[39], second[32], second[31], second[14], second[151], second[6]) == (
        "2", "20", "100.50", "50", "0", "100.2"
    )  # fmt: skip
    assert not tracker.orders  # done orders are not kept


def test_exec_ids_and_positions_come_from_the_event_and_both_sides_of_a_self_trade_are_reported() -> None:
    tape = Tape()
    tape.accounts(ALICE)
    tracker = OrderTracker([ALICE], {i.symbol: i for i in tape.instruments})
    acks = tape.acks(
        SubmitOrder(0, ALICE, "AAPL", SELL, 5, 10_000, self_trade_prevention=STP_NONE),
        SubmitOrder(0, ALICE, "AAPL", BUY, 5, 10_000, self_trade_prevention=STP_NONE),
    )
    reports = reports_of(tracker, acks)
    trade = next(event for event in acks[1].events if isinstance(event, TradeExecuted))
    taker, maker = (report for report in reports if fields(report.body)[150] == "F")
    assert (taker.position, maker.position) == (trade.sequence * 4, trade.sequence * 4 + 1)
    assert fields(taker.body)[17] == f"{trade.sequence}-{taker.order_id}"
    assert fields(maker.body)[17] == f"{trade.sequence}-{maker.order_id}"
    assert (fields(taker.body)[527], fields(maker.body)[527]) == (
        str(2 * trade.trade_id - 1), str(2 * trade.trade_id)
    )  # fmt: skip
    again = OrderTracker([ALICE], {i.symbol: i for i in tape.instruments})
    assert [r.body for r in reports_of(again, acks)] == [r.body for r in reports]  # the same events, same reports


def test_a_replace_and_a_cancel_from_fix_carry_the_requests_client_order_ids() -> None:
    tape = Tape()
    tape.accounts(ALICE)
    tracker = OrderTracker([ALICE], {i.symbol: i for i in tape.instruments})
    [placed] = tape.acks(SubmitOrder(0, ALICE, "AAPL", BUY, 10, 9_000, client_order_id="A"))
    reports_of(tracker, [placed], Context("S", b"D", "A"))
    order_id = next(iter(tracker.orders))
    assert tracker.orders[order_id].origin == "S"
    [replaced] = tape.acks(AmendOrder(order_id, ALICE, 12, 9_001))
    [report] = reports_of(tracker, [replaced], Context("S", b"G", "B", order_id, "A"))
    assert (fields(report.body)[150], fields(report.body)[11], fields(report.body)[41]) == ("5", "B", "A")
    assert fields(report.body)[38] == "12"
    [canceled] = tape.acks(CancelOrder(order_id, ALICE))
    [report] = reports_of(tracker, [canceled], Context("S", b"F", "C", order_id, "B"))
    assert (fields(report.body)[150], fields(report.body)[11], fields(report.body)[41]) == ("4", "C", "B")
    assert fields(report.body)[58] == "USER"


def test_a_refused_order_is_reported_with_its_reason_and_the_reject_code() -> None:
    tape = Tape()
    tape.accounts(ALICE)
    tracker = OrderTracker([ALICE, CAROL], {i.symbol: i for i in tape.instruments})
    acks = tape.acks(
        SubmitOrder(0, ALICE, "AAPL", BUY, 10, 9_000, client_order_id="DUP"),
        SubmitOrder(0, ALICE, "AAPL", BUY, 10, 9_000, client_order_id="DUP"),
        SubmitOrder(0, CAROL, "AAPL", BUY, 10, 9_000, client_order_id="NOBODY"),
    )
    _, duplicate, unknown_account = (fields(report.body) for report in reports_of(tracker, acks))
    assert (duplicate[150], duplicate[39], duplicate[103], duplicate[11]) == ("8", "8", "6", "DUP")
    assert duplicate[58].startswith("DUPLICATE_CLIENT_ORDER_ID: ")
    assert (unknown_account[103], unknown_account[151]) == ("15", "0")


def test_reports_at_or_below_the_silent_position_are_not_produced() -> None:
    tape = Tape()
    tape.accounts(ALICE)
    acks = tape.acks(*(SubmitOrder(0, ALICE, "AAPL", BUY, 1, 9_000 + n) for n in range(3)))
    everything = reports_of(OrderTracker([ALICE], {i.symbol: i for i in tape.instruments}), acks)
    quiet = OrderTracker([ALICE], {i.symbol: i for i in tape.instruments})
    quiet.silent_through = everything[1].position
    assert [r.body for r in reports_of(quiet, acks)] == [everything[2].body]
    assert len(quiet.orders) == 3  # folded all the same
