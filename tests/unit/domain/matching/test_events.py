"""Events: one gap-free sequence, the injected ts, L2 deltas that rebuild the book, determinism."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from hft.core import rejects
from hft.domain.commands import (
    AmendOrder,
    CancelOrder,
    Command,
    EndSession,
    ExpireOrders,
    MassCancel,
    SetSelfTradePrevention,
    SubmitOrder,
)
from hft.domain.events import (
    CANCEL_REASON_EXPIRED,
    CANCEL_REASON_FOK_NOT_FILLED,
    CANCEL_REASON_IOC_REMAINDER,
    CANCEL_REASON_MARKET_REMAINDER,
    CANCEL_REASON_MASS_CANCEL,
    CANCEL_REASON_NAMES,
    CANCEL_REASON_SELF_TRADE,
    CANCEL_REASON_USER,
    BookLevelChanged,
    OrderRejected,
)
from hft.domain.matching.engine import MatchingEngine
from hft.domain.matching.queries import depth, state_hash
from hft.domain.orders import (
    BUY,
    DAY,
    FOK,
    GTC,
    GTD,
    IOC,
    LIMIT,
    MARKET,
    SELL,
    STOP,
    STOP_LIMIT,
    STP_CANCEL_BOTH,
    STP_CANCEL_NEWEST,
    STP_CANCEL_OLDEST,
    STP_DECREMENT_AND_CANCEL,
    STP_NONE,
)
from hft.testing.venue import AAPL, ALICE, BOB, CAROL, MSFT, Venue, event_data

# -- sequence and ts -----------------------------------------------------------------------


def test_sequence_starts_at_one_and_counts_every_event_across_symbols_and_rejections(venue: Venue) -> None:
    first = venue.submit(1, SELL, 5, 10_000, account=ALICE)
    second = venue.submit(2, BUY, 5, 20_000, account=BOB, symbol=MSFT)
    rejected = venue.cancel(99, account=CAROL)
    trade = venue.submit(3, BUY, 5, 10_000, account=CAROL)

    sequences = [event.sequence for event in first + second + rejected + trade]
    assert sequences == list(range(1, 9))
    assert venue.engine.sequence == 8


def test_a_command_without_events_uses_no_sequence_number(venue: Venue) -> None:
    venue.submit(1, SELL, 5, 10_000)

    assert venue.run(ExpireOrders()) == []
    assert venue.run(MassCancel(BOB)) == []
    assert venue.run(EndSession()) == []
    assert venue.submit(2, SELL, 5, 10_000)[0].sequence == 3


def test_every_event_of_a_command_carries_the_ts_it_was_executed_at(venue: Venue) -> None:
    venue.submit(1, SELL, 5, 10_000, account=ALICE, ts=123_456_789)
    venue.submit(2, SELL, 5, 10_100, account=ALICE, ts=123_456_790)

    events = venue.submit(3, BUY, 8, 10_100, account=BOB, ts=987_654_321_000)

    assert len(events) == 5
    assert {event.ts for event in events} == {987_654_321_000}
    view = venue.order(2)
    assert view is not None
    assert view.ts_accepted == 123_456_790


def test_the_engine_uses_the_ts_it_is_given_even_when_time_goes_backwards(venue: Venue) -> None:
    venue.submit(1, SELL, 5, 10_000, ts=50_000)

    events = venue.submit(2, SELL, 5, 10_000, ts=40_000)

    assert [event.ts for event in events] == [40_000, 40_000]


def test_rejections_carry_a_stable_name_and_a_human_text(venue: Venue) -> None:
    events = venue.cancel(42, account=ALICE)

    rejected = venue.expect(events[0], OrderRejected, order_id=42, account=ALICE, code=rejects.UNKNOWN_ORDER)
    assert rejected.reason == "UNKNOWN_ORDER"
    assert rejected.text == "no live order with this id belongs to the account"


def test_cancel_reasons_have_stable_numbers_and_names() -> None:
    assert CANCEL_REASON_NAMES == {
        CANCEL_REASON_USER: "USER",
        CANCEL_REASON_IOC_REMAINDER: "IOC_REMAINDER",
        CANCEL_REASON_MARKET_REMAINDER: "MARKET_REMAINDER",
        CANCEL_REASON_FOK_NOT_FILLED: "FOK_NOT_FILLED",
        CANCEL_REASON_SELF_TRADE: "SELF_TRADE",
        CANCEL_REASON_EXPIRED: "EXPIRED",
        CANCEL_REASON_MASS_CANCEL: "MASS_CANCEL",
    }
    assert sorted(CANCEL_REASON_NAMES) == list(range(1, 8))


# -- L2 deltas -------------------------------------------------------------------------------


def test_book_level_changed_gives_each_levels_new_quantity_and_count_and_zero_when_gone(venue: Venue) -> None:
    steps: list[tuple[Callable[[], object], list[tuple[int, int, int, int]]]] = [
        (lambda: venue.submit(1, SELL, 10, 10_000, account=ALICE), [(SELL, 10_000, 10, 1)]),
        (lambda: venue.submit(2, SELL, 5, 10_000, account=BOB), [(SELL, 10_000, 15, 2)]),
        (lambda: venue.submit(3, SELL, 7, 10_100, account=BOB), [(SELL, 10_100, 7, 1)]),
        (lambda: venue.amend(1, 8, account=ALICE), [(SELL, 10_000, 13, 2)]),
        (
            lambda: venue.submit(4, BUY, 15, 10_100, account=CAROL),
            [(SELL, 10_000, 0, 0), (SELL, 10_100, 5, 1)],
        ),
        (lambda: venue.submit(5, BUY, 3, 9_900, account=CAROL), [(BUY, 9_900, 3, 1)]),
        (lambda: venue.amend(5, 3, price=9_950, account=CAROL), [(BUY, 9_900, 0, 0), (BUY, 9_950, 3, 1)]),
        (lambda: venue.cancel(3, account=BOB), [(SELL, 10_100, 0, 0)]),
        (lambda: venue.run(MassCancel(CAROL)), [(BUY, 9_950, 0, 0)]),
    ]
    for step, expected in steps:
        events = step()
        assert isinstance(events, list)
        changes = venue.of_type(events, BookLevelChanged)
        assert [(c.side, c.price, c.quantity, c.order_count) for c in changes] == expected
        assert all(c.symbol == AAPL for c in changes)
    assert (venue.bids(), venue.asks()) == ([], [])


def test_a_sweep_gives_one_level_change_per_level_after_its_last_fill(venue: Venue) -> None:
    for order_id in (1, 2, 3):
        venue.submit(order_id, SELL, 2, 10_000, account=ALICE)
    venue.submit(4, SELL, 4, 10_100, account=ALICE)

    events = venue.submit(5, BUY, 7, 10_100, account=BOB)

    assert venue.kinds(events[:5]) == ["OrderAccepted"] + ["TradeExecuted"] * 3 + ["BookLevelChanged"]
    assert venue.kinds(events[5:]) == ["TradeExecuted", "BookLevelChanged"]
    changes = venue.of_type(events, BookLevelChanged)
    assert [(c.price, c.quantity, c.order_count) for c in changes] == [(10_000, 0, 0), (10_100, 3, 1)]


def test_an_l2_book_built_only_from_deltas_matches_depth_after_every_command(venue: Venue) -> None:
    # Venue.run checks this after every command; here it is spelled out once for a busy session.
    book: dict[tuple[str, int, int], tuple[int, int]] = {}
    for command in _mixed_session():
        for event in venue.run(command):
            if isinstance(event, BookLevelChanged):
                key = (event.symbol, event.side, event.price)
                if event.order_count == 0:
                    book.pop(key, None)
                else:
                    book[key] = (event.quantity, event.order_count)
        for symbol in (AAPL, MSFT):
            levels = depth(venue.engine, symbol, 1_000)
            assert levels is not None
            expected = {(symbol, BUY, level.price): (level.quantity, level.order_count) for level in levels.bids}
            expected |= {(symbol, SELL, level.price): (level.quantity, level.order_count) for level in levels.asks}
            assert {key: value for key, value in book.items() if key[0] == symbol} == expected


# -- determinism -------------------------------------------------------------------------------


def _mixed_session() -> list[Command]:
    """A session touching every command, order type, time in force and flag."""
    return [
        SetSelfTradePrevention(BOB, STP_CANCEL_OLDEST),
        SubmitOrder(1, ALICE, AAPL, SELL, 10, price=10_000, client_order_id="a"),
        SubmitOrder(2, BOB, AAPL, SELL, 30, price=10_000, display_quantity=5),
        SubmitOrder(3, ALICE, AAPL, BUY, 10, price=9_900, time_in_force=DAY),
        SubmitOrder(4, BOB, AAPL, BUY, 4, price=9_800, time_in_force=GTD, expire_ts=60_000),
        SubmitOrder(5, CAROL, AAPL, BUY, 3, order_type=STOP, stop_price=10_000),
        SubmitOrder(6, CAROL, AAPL, SELL, 2, price=9_700, order_type=STOP_LIMIT, stop_price=9_900),
        SubmitOrder(7, CAROL, AAPL, BUY, 12, price=10_000),
        SubmitOrder(8, ALICE, AAPL, BUY, 5, price=9_950, post_only=True),
        SubmitOrder(9, ALICE, AAPL, SELL, 5, price=9_950, post_only=True),
        AmendOrder(8, ALICE, 4),
        AmendOrder(2, BOB, 30, price=10_050),
        SubmitOrder(10, BOB, AAPL, BUY, 8, price=10_050, self_trade_prevention=STP_DECREMENT_AND_CANCEL),
        SubmitOrder(11, ALICE, AAPL, SELL, 20, order_type=MARKET, time_in_force=IOC),
        SubmitOrder(12, CAROL, MSFT, SELL, 5, price=20_000, time_in_force=FOK),
        SubmitOrder(13, CAROL, MSFT, SELL, 5, price=20_000),
        SubmitOrder(14, ALICE, MSFT, BUY, 7, price=20_000, time_in_force=IOC),
        CancelOrder(3, BOB),
        ExpireOrders(),
        EndSession(AAPL),
        MassCancel(CAROL),
        SubmitOrder(15, BOB, AAPL, SELL, 3, price=10_100, self_trade_prevention=STP_CANCEL_BOTH),
        CancelOrder(15, BOB),
    ]


def _random_session(seed: int, length: int) -> list[tuple[Command, int]]:
    """A seeded stream of valid and invalid commands with their ts, on two symbols and three accounts."""
    rng = random.Random(seed)
    commands: list[tuple[Command, int]] = []
    ts = 0
    next_id = 1
    for _ in range(length):
        ts += rng.choice((1, 10, 1_000, 5_000))
        roll = rng.random()
        order_id = rng.randrange(1, next_id + 1)
        account = rng.choice((ALICE, BOB, CAROL))
        if roll < 0.60:
            order_type = rng.choice((LIMIT, LIMIT, LIMIT, MARKET, STOP, STOP_LIMIT))
            time_in_force = rng.choice((GTC, GTC, IOC, FOK, DAY, GTD))
            if order_type == MARKET:
                time_in_force = rng.choice((IOC, FOK))
            quantity = rng.choice((1, 2, 5, 10, 20))
            rests = order_type == LIMIT and time_in_force in (GTC, DAY, GTD)
            commands.append(
                (
                    SubmitOrder(
                        next_id,
                        account,
                        rng.choice((AAPL, AAPL, MSFT)),
                        rng.choice((BUY, SELL)),
                        quantity,
                        price=rng.randint(9_995, 10_005) if order_type in (LIMIT, STOP_LIMIT) else 0,
                        order_type=order_type,
                        time_in_force=time_in_force,
                        stop_price=rng.randint(9_995, 10_005) if order_type in (STOP, STOP_LIMIT) else 0,
                        display_quantity=rng.choice((0, 0, 0, 1, 3)) if rests and quantity > 3 else 0,
                        post_only=rests and rng.random() < 0.1,
                        self_trade_prevention=rng.choice((0, 0, 0, STP_NONE, STP_CANCEL_NEWEST, 5, 3, 4)),
                        expire_ts=ts + rng.choice((1, 2_000, 20_000)) if time_in_force == GTD else 0,
                    ),
                    ts,
                )
            )
            next_id += 1
        elif roll < 0.75:
            commands.append((CancelOrder(order_id, account), ts))
        elif roll < 0.90:
            new_price = rng.choice((0, 0, rng.randint(9_995, 10_005)))
            new_stop = rng.choice((0, 0, 0, rng.randint(9_995, 10_005)))
            commands.append((AmendOrder(order_id, account, rng.choice((1, 3, 5, 10, 25)), new_price, new_stop), ts))
        elif roll < 0.94:
            commands.append((SetSelfTradePrevention(account, rng.choice((1, 2, 3, 4, 5))), ts))
        elif roll < 0.96:
            commands.append((MassCancel(account, rng.choice(("", AAPL, MSFT)), rng.choice((0, BUY, SELL))), ts))
        elif roll < 0.98:
            commands.append((EndSession(rng.choice(("", AAPL))), ts))
        else:
            commands.append((ExpireOrders(), ts))
    return commands


def test_the_same_commands_at_the_same_times_give_identical_events_and_state(new_venue: Callable[[], Venue]) -> None:
    first, second = new_venue(), new_venue()

    for index, command in enumerate(_mixed_session()):
        ts = 1_000 * (index + 1)
        first_events = first.run(command, ts)
        second_events = second.run(command, ts)
        assert [event_data(event) for event in first_events] == [event_data(event) for event in second_events]
        assert first.hash() == second.hash()
        assert first.snapshot() == second.snapshot()
    assert first.engine.sequence == len(first.events) > 40


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_replayed_random_session_rebuilds_the_same_events_and_state(
    seed: int, new_venue: Callable[[], Venue]
) -> None:
    journal = _random_session(seed, 1_500)
    live = new_venue()
    hashes = []
    for command, ts in journal:
        live.run(command, ts)  # also checks sequence, ts and L2 deltas after every command
        hashes.append(live.hash())

    replica = MatchingEngine(live.engine.books[symbol].instrument for symbol in live.symbols)
    replayed = []
    for (command, ts), expected_hash in zip(journal, hashes, strict=True):
        replayed.extend(replica.execute(command, ts))
        assert state_hash(replica) == expected_hash

    assert [event_data(event) for event in replayed] == [event_data(event) for event in live.events]
    kinds = set(live.kinds(live.events))
    assert kinds >= {"OrderAccepted", "OrderRejected", "TradeExecuted", "OrderCancelled", "BookLevelChanged"}


def test_different_times_give_different_events_and_state(new_venue: Callable[[], Venue]) -> None:
    first, second = new_venue(), new_venue()

    first_events = first.submit(1, BUY, 1, 9_000, ts=1_000)
    second_events = second.submit(1, BUY, 1, 9_000, ts=1_001)

    assert [event_data(e, with_sequence=False) for e in first_events] != [
        event_data(e, with_sequence=False) for e in second_events
    ]
    assert first.hash() != second.hash()
