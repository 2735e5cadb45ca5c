"""LIMIT and MARKET orders: price-time priority, maker-price trades, partial fills, sweeps."""

from __future__ import annotations

from hft.domain.events import (
    CANCEL_REASON_MARKET_REMAINDER,
    BookLevelChanged,
    OrderAccepted,
    OrderCancelled,
    TradeExecuted,
)
from hft.domain.matching.queries import depth, level_orders, top_of_book
from hft.domain.orders import BUY, FOK, GTC, IOC, LIMIT, MARKET, SELL
from hft.testing.venue import AAPL, ALICE, BOB, CAROL, Venue


def test_limit_order_on_an_empty_book_is_accepted_and_rests(venue: Venue) -> None:
    events = venue.submit(1, BUY, 10, 10_000, account=ALICE, client_order_id="alice-1", ts=5_000)

    assert venue.kinds(events) == ["OrderAccepted", "BookLevelChanged"]
    venue.expect(
        events[0],
        OrderAccepted,
        sequence=1,
        ts=5_000,
        order_id=1,
        account=ALICE,
        symbol=AAPL,
        side=BUY,
        order_type=LIMIT,
        time_in_force=GTC,
        price=10_000,
        quantity=10,
        stop_price=0,
        display_quantity=0,
        client_order_id="alice-1",
    )
    venue.expect(
        events[1],
        BookLevelChanged,
        sequence=2,
        ts=5_000,
        symbol=AAPL,
        side=BUY,
        price=10_000,
        quantity=10,
        order_count=1,
    )
    assert venue.bids() == [(10_000, 10, 1)]
    assert venue.asks() == []
    view = venue.order(1)
    assert view is not None
    assert (view.status, view.quantity, view.filled, view.leaves, view.visible, view.ts_accepted) == (
        "NEW",
        10,
        0,
        10,
        10,
        5_000,
    )


def test_orders_at_one_price_join_its_level_in_arrival_order(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_100, account=ALICE)
    events = venue.submit(2, SELL, 5, 10_100, account=BOB)

    venue.expect(events[1], BookLevelChanged, side=SELL, price=10_100, quantity=15, order_count=2)
    assert venue.asks() == [(10_100, 15, 2)]
    assert venue.queue(SELL, 10_100) == [1, 2]


def test_non_crossing_orders_build_both_sides_best_first(venue: Venue) -> None:
    venue.submit(1, BUY, 1, 9_900)
    venue.submit(2, BUY, 2, 9_950)
    venue.submit(3, SELL, 3, 10_100)
    venue.submit(4, SELL, 4, 10_050)
    venue.submit(5, BUY, 5, 9_800)

    assert venue.bids() == [(9_950, 2, 1), (9_900, 1, 1), (9_800, 5, 1)]
    assert venue.asks() == [(10_050, 4, 1), (10_100, 3, 1)]
    top = top_of_book(venue.engine, AAPL)
    assert top is not None
    assert top.bid is not None
    assert top.ask is not None
    assert (top.bid.price, top.bid.quantity, top.ask.price, top.ask.quantity, top.last_price) == (
        9_950,
        2,
        10_050,
        4,
        None,
    )


def test_buy_trades_with_the_better_priced_sell_first_even_when_it_arrived_later(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_100, account=ALICE)
    venue.submit(2, SELL, 10, 10_000, account=BOB)

    events = venue.submit(3, BUY, 10, 10_100, account=CAROL)

    trade = venue.one(events, TradeExecuted)
    assert (trade.maker_order_id, trade.price) == (2, 10_000)
    assert venue.asks() == [(10_100, 10, 1)]


def test_sell_trades_with_the_highest_bid_first(venue: Venue) -> None:
    venue.submit(1, BUY, 10, 9_900, account=ALICE)
    venue.submit(2, BUY, 10, 10_000, account=BOB)

    events = venue.submit(3, SELL, 10, 9_900, account=CAROL)

    trade = venue.one(events, TradeExecuted)
    assert (trade.maker_order_id, trade.price, trade.aggressor_side) == (2, 10_000, SELL)
    assert venue.bids() == [(9_900, 10, 1)]


def test_at_one_price_the_earlier_order_trades_first(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)
    venue.submit(2, SELL, 10, 10_000, account=BOB)

    events = venue.submit(3, BUY, 10, 10_000, account=CAROL)

    assert venue.one(events, TradeExecuted).maker_order_id == 1
    assert venue.queue(SELL, 10_000) == [2]


def test_a_full_match_reports_the_trade_at_the_makers_price_and_empties_the_level(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)

    events = venue.submit(2, BUY, 10, 10_500, account=BOB, ts=77_000)

    assert venue.kinds(events) == ["OrderAccepted", "TradeExecuted", "BookLevelChanged"]
    venue.expect(
        events[1],
        TradeExecuted,
        sequence=4,
        ts=77_000,
        trade_id=1,
        symbol=AAPL,
        price=10_000,
        quantity=10,
        aggressor_side=BUY,
        taker_order_id=2,
        taker_account=BOB,
        taker_leaves=0,
        maker_order_id=1,
        maker_account=ALICE,
        maker_leaves=0,
    )
    venue.expect(events[2], BookLevelChanged, side=SELL, price=10_000, quantity=0, order_count=0)
    assert (venue.bids(), venue.asks()) == ([], [])
    assert venue.order(1) is None
    assert venue.order(2) is None
    assert venue.last_price() == 10_000


def test_a_partially_filled_maker_keeps_its_place_and_shows_what_is_left(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)
    venue.submit(2, SELL, 10, 10_000, account=BOB)

    events = venue.submit(3, BUY, 4, 10_000, account=CAROL)

    assert venue.kinds(events) == ["OrderAccepted", "TradeExecuted", "BookLevelChanged"]
    venue.expect(events[1], TradeExecuted, quantity=4, taker_leaves=0, maker_order_id=1, maker_leaves=6)
    venue.expect(events[2], BookLevelChanged, side=SELL, price=10_000, quantity=16, order_count=2)
    assert venue.queue(SELL, 10_000) == [1, 2]
    maker = venue.order(1)
    assert maker is not None
    assert (maker.status, maker.quantity, maker.filled, maker.leaves, maker.visible) == (
        "PARTIALLY_FILLED",
        10,
        4,
        6,
        6,
    )


def test_a_partially_filled_taker_rests_the_rest_at_its_own_limit(venue: Venue) -> None:
    venue.submit(1, SELL, 4, 10_000, account=ALICE)

    events = venue.submit(2, BUY, 10, 10_050, account=BOB)

    assert venue.kinds(events) == ["OrderAccepted", "TradeExecuted", "BookLevelChanged", "BookLevelChanged"]
    venue.expect(events[1], TradeExecuted, price=10_000, quantity=4, taker_leaves=6, maker_leaves=0)
    venue.expect(events[2], BookLevelChanged, side=SELL, price=10_000, quantity=0, order_count=0)
    venue.expect(events[3], BookLevelChanged, side=BUY, price=10_050, quantity=6, order_count=1)
    assert venue.bids() == [(10_050, 6, 1)]
    assert venue.asks() == []
    taker = venue.order(2)
    assert taker is not None
    assert (taker.status, taker.filled, taker.leaves, taker.visible) == ("PARTIALLY_FILLED", 4, 6, 6)


def test_a_buy_sweeps_levels_best_first_and_stops_at_its_limit(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)
    venue.submit(2, SELL, 10, 10_100, account=BOB)
    venue.submit(3, SELL, 10, 10_200, account=ALICE)
    venue.submit(4, SELL, 10, 10_300, account=BOB)

    events = venue.submit(5, BUY, 35, 10_200, account=CAROL)

    assert venue.kinds(events) == [
        "OrderAccepted",
        "TradeExecuted",
        "BookLevelChanged",
        "TradeExecuted",
        "BookLevelChanged",
        "TradeExecuted",
        "BookLevelChanged",
        "BookLevelChanged",
    ]
    trades = venue.of_type(events, TradeExecuted)
    assert [(t.trade_id, t.price, t.quantity, t.maker_order_id, t.taker_leaves) for t in trades] == [
        (1, 10_000, 10, 1, 25),
        (2, 10_100, 10, 2, 15),
        (3, 10_200, 10, 3, 5),
    ]
    levels = venue.of_type(events, BookLevelChanged)
    assert [(b.side, b.price, b.quantity, b.order_count) for b in levels] == [
        (SELL, 10_000, 0, 0),
        (SELL, 10_100, 0, 0),
        (SELL, 10_200, 0, 0),
        (BUY, 10_200, 5, 1),
    ]
    assert venue.asks() == [(10_300, 10, 1)]
    assert venue.bids() == [(10_200, 5, 1)]
    assert venue.last_price() == 10_200


def test_a_sell_sweeps_bids_from_the_highest_down(venue: Venue) -> None:
    venue.submit(1, BUY, 5, 9_800, account=ALICE)
    venue.submit(2, BUY, 5, 10_000, account=ALICE)
    venue.submit(3, BUY, 5, 9_900, account=ALICE)

    events = venue.submit(4, SELL, 12, 9_800, account=BOB)

    trades = venue.of_type(events, TradeExecuted)
    assert [(t.price, t.quantity, t.maker_order_id, t.maker_leaves) for t in trades] == [
        (10_000, 5, 2, 0),
        (9_900, 5, 3, 0),
        (9_800, 2, 1, 3),
    ]
    assert venue.bids() == [(9_800, 3, 1)]
    assert venue.asks() == []
    assert venue.last_price() == 9_800


def test_a_limit_order_never_trades_through_its_price(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_001, account=ALICE)

    events = venue.submit(2, BUY, 10, 10_000, account=BOB)

    assert venue.kinds(events) == ["OrderAccepted", "BookLevelChanged"]
    assert venue.bids() == [(10_000, 10, 1)]
    assert venue.asks() == [(10_001, 10, 1)]


def test_trade_ids_count_up_across_symbols(venue: Venue) -> None:
    venue.submit(1, SELL, 1, 10_000, account=ALICE)
    venue.submit(2, SELL, 1, 20_000, account=ALICE, symbol="MSFT")

    first = venue.one(venue.submit(3, BUY, 1, 10_000, account=BOB), TradeExecuted)
    second = venue.one(venue.submit(4, BUY, 1, 20_000, account=BOB, symbol="MSFT"), TradeExecuted)

    assert (first.trade_id, first.symbol, second.trade_id, second.symbol) == (1, AAPL, 2, "MSFT")
    assert venue.last_price() == 10_000
    assert venue.last_price("MSFT") == 20_000


def test_books_of_different_symbols_never_meet(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE, symbol="MSFT")

    events = venue.submit(2, BUY, 10, 10_000, account=BOB, symbol=AAPL)

    assert venue.kinds(events) == ["OrderAccepted", "BookLevelChanged"]
    assert venue.asks("MSFT") == [(10_000, 10, 1)]
    assert venue.bids(AAPL) == [(10_000, 10, 1)]


# -- MARKET ---------------------------------------------------------------------------


def test_market_order_against_an_empty_book_is_accepted_then_cancelled_whole(venue: Venue) -> None:
    events = venue.submit(1, BUY, 10, order_type=MARKET, time_in_force=IOC, account=ALICE)

    assert venue.kinds(events) == ["OrderAccepted", "OrderCancelled"]
    venue.expect(events[0], OrderAccepted, order_type=MARKET, time_in_force=IOC, price=0, quantity=10)
    venue.expect(
        events[1],
        OrderCancelled,
        order_id=1,
        account=ALICE,
        symbol=AAPL,
        reason=CANCEL_REASON_MARKET_REMAINDER,
        cancelled_quantity=10,
    )
    assert venue.order(1) is None
    assert (venue.bids(), venue.asks()) == ([], [])
    assert venue.last_price() is None


def test_market_buy_sweeps_every_price_and_cancels_what_the_book_cannot_fill(venue: Venue) -> None:
    venue.submit(1, SELL, 5, 10_000, account=ALICE)
    venue.submit(2, SELL, 5, 99_000_000, account=ALICE)

    events = venue.submit(3, BUY, 12, order_type=MARKET, time_in_force=IOC, account=BOB)

    assert venue.kinds(events) == [
        "OrderAccepted",
        "TradeExecuted",
        "BookLevelChanged",
        "TradeExecuted",
        "BookLevelChanged",
        "OrderCancelled",
    ]
    trades = venue.of_type(events, TradeExecuted)
    assert [(t.price, t.quantity, t.taker_leaves) for t in trades] == [(10_000, 5, 7), (99_000_000, 5, 2)]
    venue.expect(events[-1], OrderCancelled, order_id=3, reason=CANCEL_REASON_MARKET_REMAINDER, cancelled_quantity=2)
    assert venue.asks() == []
    assert venue.bids() == []


def test_market_sell_fills_completely_from_the_best_bids(venue: Venue) -> None:
    venue.submit(1, BUY, 5, 9_900, account=ALICE)
    venue.submit(2, BUY, 5, 10_000, account=ALICE)

    events = venue.submit(3, SELL, 7, order_type=MARKET, time_in_force=IOC, account=BOB)

    assert venue.kinds(events) == [
        "OrderAccepted",
        "TradeExecuted",
        "BookLevelChanged",
        "TradeExecuted",
        "BookLevelChanged",
    ]
    trades = venue.of_type(events, TradeExecuted)
    assert [(t.price, t.quantity, t.aggressor_side, t.taker_leaves) for t in trades] == [
        (10_000, 5, SELL, 2),
        (9_900, 2, SELL, 0),
    ]
    assert venue.bids() == [(9_900, 3, 1)]
    assert venue.order(3) is None


def test_market_fok_fills_whole_or_not_at_all(venue: Venue) -> None:
    venue.submit(1, SELL, 5, 10_000, account=ALICE)
    venue.submit(2, SELL, 5, 10_100, account=ALICE)

    refused = venue.submit(3, BUY, 11, order_type=MARKET, time_in_force=FOK, account=BOB)
    assert venue.kinds(refused) == ["OrderAccepted", "OrderCancelled"]
    assert venue.asks() == [(10_000, 5, 1), (10_100, 5, 1)]

    filled = venue.submit(4, BUY, 10, order_type=MARKET, time_in_force=FOK, account=BOB)
    assert [(t.price, t.quantity) for t in venue.of_type(filled, TradeExecuted)] == [(10_000, 5), (10_100, 5)]
    assert venue.asks() == []


# -- queries on the book ---------------------------------------------------------------


def test_depth_lists_at_most_the_asked_number_of_levels_best_first(venue: Venue) -> None:
    for order_id, price in enumerate((10_000, 10_300, 10_100, 10_200), start=1):
        venue.submit(order_id, SELL, order_id, price)

    book = depth(venue.engine, AAPL, 2)
    assert book is not None
    assert [(level.price, level.quantity) for level in book.asks] == [(10_000, 1), (10_100, 3)]
    empty = depth(venue.engine, AAPL, 0)
    assert empty is not None
    assert (empty.bids, empty.asks) == ([], [])


def test_queries_on_an_unknown_symbol_answer_nothing(venue: Venue) -> None:
    assert top_of_book(venue.engine, "NOPE") is None
    assert depth(venue.engine, "NOPE") is None
    assert level_orders(venue.engine, "NOPE", BUY, 10_000) == []
    assert level_orders(venue.engine, AAPL, BUY, 10_000) == []
