"""Read-only queries: top of book, L2, L3, single orders, an account's orders, the state hash."""

from __future__ import annotations

from collections.abc import Callable

from hft.domain.commands import SetSelfTradePrevention
from hft.domain.matching.queries import depth, level_orders, live_orders, order, state_hash, top_of_book
from hft.domain.orders import (
    BUY,
    GTD,
    LIMIT,
    SELL,
    STOP,
    STOP_LIMIT,
    STP_CANCEL_OLDEST,
    STP_NONE,
)
from hft.domain.views import LevelView
from hft.testing.venue import AAPL, ALICE, BOB, CAROL, MSFT, Venue, view_data


def test_top_of_book_of_an_empty_book_has_no_bid_ask_or_last_price(venue: Venue) -> None:
    top = top_of_book(venue.engine, AAPL)

    assert top is not None
    assert (top.symbol, top.bid, top.ask, top.last_price) == (AAPL, None, None, None)


def test_top_of_book_shows_the_best_levels_and_the_last_trade(venue: Venue) -> None:
    venue.submit(1, BUY, 5, 9_900, account=ALICE)
    venue.submit(2, BUY, 7, 9_950, account=ALICE)
    venue.submit(3, BUY, 1, 9_950, account=BOB)
    venue.submit(4, SELL, 3, 10_100, account=BOB)
    venue.submit(5, SELL, 2, 10_000, account=BOB)
    venue.submit(6, SELL, 1, 9_950, account=CAROL)

    top = top_of_book(venue.engine, AAPL)

    assert top is not None
    assert top.bid == LevelView(9_950, 7, 2)
    assert top.ask == LevelView(10_000, 2, 1)
    assert top.last_price == 9_950


def test_depth_lists_ten_levels_per_side_by_default(venue: Venue) -> None:
    for index in range(12):
        venue.submit(index + 1, BUY, 1, 9_000 + index, account=ALICE)

    book = depth(venue.engine, AAPL)

    assert book is not None
    assert book.symbol == AAPL
    assert [level.price for level in book.bids] == list(range(9_011, 9_001, -1))
    assert book.asks == []


def test_depth_of_a_negative_number_of_levels_is_empty(venue: Venue) -> None:
    venue.submit(1, BUY, 1, 9_000)

    book = depth(venue.engine, AAPL, -3)

    assert book is not None
    assert (book.bids, book.asks) == ([], [])


def test_level_orders_lists_every_field_of_each_resting_order_in_queue_order(venue: Venue) -> None:
    venue.submit(1, SELL, 30, 10_000, display_quantity=10, account=ALICE, client_order_id="ice", ts=2_000)
    venue.submit(2, SELL, 5, 10_000, time_in_force=GTD, expire_ts=10**12, account=BOB, ts=3_000)
    venue.submit(3, BUY, 4, 10_000, account=CAROL, ts=4_000)

    views = level_orders(venue.engine, AAPL, SELL, 10_000)

    assert [view_data(view) for view in views] == [
        {
            "order_id": 1,
            "account": ALICE,
            "symbol": AAPL,
            "side": SELL,
            "order_type": LIMIT,
            "time_in_force": 1,
            "price": 10_000,
            "stop_price": 0,
            "quantity": 30,
            "filled": 4,
            "leaves": 26,
            "visible": 6,
            "display_quantity": 10,
            "post_only": False,
            "self_trade_prevention": STP_NONE,
            "expire_ts": 0,
            "client_order_id": "ice",
            "ts_accepted": 2_000,
            "priority": 1,
            "status": "PARTIALLY_FILLED",
        },
        {
            "order_id": 2,
            "account": BOB,
            "symbol": AAPL,
            "side": SELL,
            "order_type": LIMIT,
            "time_in_force": GTD,
            "price": 10_000,
            "stop_price": 0,
            "quantity": 5,
            "filled": 0,
            "leaves": 5,
            "visible": 5,
            "display_quantity": 0,
            "post_only": False,
            "self_trade_prevention": STP_NONE,
            "expire_ts": 10**12,
            "client_order_id": "",
            "ts_accepted": 3_000,
            "priority": 2,
            "status": "NEW",
        },
    ]


def test_level_orders_of_a_price_with_no_level_or_the_wrong_side_is_empty(venue: Venue) -> None:
    venue.submit(1, SELL, 3, 10_000)

    assert level_orders(venue.engine, AAPL, SELL, 10_001) == []
    assert level_orders(venue.engine, AAPL, BUY, 10_000) == []


def test_order_shows_a_waiting_stop_with_its_resolved_prevention_mode(venue: Venue) -> None:
    venue.run(SetSelfTradePrevention(ALICE, STP_CANCEL_OLDEST))
    venue.submit(1, BUY, 2, 10_100, order_type=STOP_LIMIT, stop_price=10_200, account=ALICE)

    view = order(venue.engine, 1)

    assert view is not None
    assert (view.status, view.order_type, view.price, view.stop_price, view.visible) == (
        "WAITING_TRIGGER",
        STOP_LIMIT,
        10_100,
        10_200,
        2,
    )
    assert view.self_trade_prevention == STP_CANCEL_OLDEST
    assert repr(view) == "OrderView(order_id=1, WAITING_TRIGGER, leaves=2@10100)"


def test_order_is_none_once_an_order_is_filled_cancelled_or_never_existed(venue: Venue) -> None:
    venue.submit(1, SELL, 3, 10_000, account=ALICE)
    venue.submit(2, SELL, 3, 10_100, account=ALICE)
    venue.submit(3, BUY, 3, 10_000, account=BOB)
    venue.cancel(2, account=ALICE)

    assert [order(venue.engine, order_id) for order_id in (1, 2, 3, 4)] == [None, None, None, None]


def test_order_does_not_check_the_account_the_gateway_must(venue: Venue) -> None:
    venue.submit(1, SELL, 3, 10_000, account=ALICE)

    view = order(venue.engine, 1)

    assert view is not None
    assert view.account == ALICE


def test_live_orders_lists_an_accounts_resting_orders_and_waiting_stops_in_order_id_order(venue: Venue) -> None:
    venue.submit(1, BUY, 5, 9_000, account=ALICE)
    venue.submit(2, BUY, 5, 9_000, account=BOB)
    venue.submit(3, BUY, 1, order_type=STOP, stop_price=11_000, account=ALICE)
    venue.submit(4, SELL, 5, 20_000, account=ALICE, symbol=MSFT)
    venue.submit(5, BUY, 5, 8_000, account=ALICE)

    venue.amend(1, 5, price=8_500, account=ALICE)  # re-enters the book after orders 4 and 5

    assert venue.live(ALICE) == [1, 3, 4, 5]
    assert venue.live(BOB) == [2]
    assert venue.live(CAROL) == []
    assert [view.symbol for view in live_orders(venue.engine, ALICE)] == [AAPL, AAPL, MSFT, AAPL]


def test_live_orders_stay_in_order_id_order_after_a_stop_triggers_and_rests(venue: Venue) -> None:
    venue.submit(1, BUY, 5, 9_000, order_type=STOP_LIMIT, stop_price=10_000, account=ALICE)
    venue.submit(2, BUY, 5, 8_000, account=ALICE)
    venue.submit(3, SELL, 1, 10_000, account=BOB)
    venue.submit(4, BUY, 1, 10_000, account=CAROL)

    assert venue.live(ALICE) == [1, 2]


def test_views_are_copies_that_later_trades_do_not_change(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)
    view = order(venue.engine, 1)
    top = top_of_book(venue.engine, AAPL)
    book = depth(venue.engine, AAPL)
    assert book is not None
    book.asks.clear()

    venue.submit(2, BUY, 4, 10_000, account=BOB)

    assert view is not None
    assert (view.filled, view.leaves, view.status) == (0, 10, "NEW")
    assert top is not None
    assert top.ask == LevelView(10_000, 10, 1)
    assert venue.asks() == [(10_000, 6, 1)]


def test_level_views_compare_and_hash_by_value() -> None:
    assert LevelView(1, 2, 3) == LevelView(1, 2, 3)
    assert LevelView(1, 2, 3) != LevelView(1, 2, 4)
    assert hash(LevelView(1, 2, 3)) == hash(LevelView(1, 2, 3))
    assert LevelView(1, 2, 3) != (1, 2, 3)
    assert repr(LevelView(10_000, 5, 1)) == "LevelView(10000, 5, 1)"


# -- state hash ------------------------------------------------------------------------------


def test_state_hash_is_a_sha256_hex_digest_that_queries_do_not_change(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000)
    first = state_hash(venue.engine)

    top_of_book(venue.engine, AAPL)
    depth(venue.engine, AAPL)
    level_orders(venue.engine, AAPL, SELL, 10_000)
    live_orders(venue.engine, 1)

    assert len(first) == 64
    assert int(first, 16) >= 0
    assert state_hash(venue.engine) == first


def test_state_hash_changes_with_every_change_of_state(venue: Venue) -> None:
    seen = {venue.hash()}
    steps: list[Callable[[], object]] = [
        lambda: venue.submit(1, SELL, 10, 10_000, account=ALICE),
        lambda: venue.submit(2, BUY, 1, order_type=STOP, stop_price=10_500, account=BOB),
        lambda: venue.amend(2, 1, stop_price=10_400, account=BOB),
        lambda: venue.amend(1, 9, account=ALICE),
        lambda: venue.run(SetSelfTradePrevention(ALICE, STP_CANCEL_OLDEST)),
        lambda: venue.submit(3, BUY, 2, 10_000, account=CAROL),
        lambda: venue.cancel(2, account=BOB),
    ]
    for step in steps:
        step()
        current = venue.hash()
        assert current not in seen
        seen.add(current)


def test_state_hash_tells_apart_books_that_differ_only_in_a_waiting_stop(new_venue: Callable[..., Venue]) -> None:
    first, second = new_venue(), new_venue()
    first.submit(1, BUY, 1, order_type=STOP, stop_price=10_500)
    second.submit(1, BUY, 1, order_type=STOP, stop_price=10_600)

    assert first.hash() != second.hash()


def test_state_hash_tells_apart_the_same_orders_accepted_at_different_times(new_venue: Callable[..., Venue]) -> None:
    first, second = new_venue(), new_venue()
    first.submit(1, BUY, 1, 9_000, ts=1_000)
    second.submit(1, BUY, 1, 9_000, ts=2_000)

    assert first.hash() != second.hash()


def test_state_hash_tells_apart_the_same_orders_queued_in_a_different_order(new_venue: Callable[..., Venue]) -> None:
    first, second = new_venue(), new_venue()
    for venue in (first, second):
        venue.submit(1, BUY, 1, 9_000, account=ALICE)
        venue.submit(2, BUY, 1, 9_000, account=BOB)
    first.amend(1, 2, account=ALICE)
    first.amend(2, 2, account=BOB)
    second.amend(2, 2, account=BOB)
    second.amend(1, 2, account=ALICE)

    assert (first.queue(BUY, 9_000), second.queue(BUY, 9_000)) == ([1, 2], [2, 1])
    assert first.bids() == second.bids()
    assert first.hash() != second.hash()
