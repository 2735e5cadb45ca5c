"""Public market data over real HTTP: instruments, depth, trades and tickers, with no API key."""

from __future__ import annotations

from datetime import datetime

import pytest
from tests.integration.service.rest.clients import Venue, expect, expect_error

SYMBOLS = ["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "TSLA", "SPY", "BTC-USD", "ETH-USD"]


def test_instruments_list_every_symbol_with_its_price_and_size_grid(venue: Venue) -> None:
    instruments = expect(venue.http.get("/api/instruments"), 200)
    by_symbol = {instrument["symbol"]: instrument for instrument in instruments}
    assert sorted(by_symbol) == sorted(SYMBOLS)
    fields = {"symbol", "tick_size", "lot_size", "min_quantity", "max_quantity", "max_price", "halted"}
    for instrument in instruments:
        assert set(instrument) == fields
        assert instrument["halted"] is False
    for symbol in SYMBOLS[:7]:
        assert (by_symbol[symbol]["tick_size"], by_symbol[symbol]["lot_size"]) == ("0.01", "1")
    assert (by_symbol["BTC-USD"]["tick_size"], by_symbol["BTC-USD"]["lot_size"]) == ("0.01", "0.0001")
    assert (by_symbol["ETH-USD"]["tick_size"], by_symbol["ETH-USD"]["lot_size"]) == ("0.01", "0.001")


def test_empty_book_and_ticker_of_a_symbol_that_never_traded(venue: Venue) -> None:
    book = expect(venue.http.get("/api/book/TSLA"), 200)
    assert (book["symbol"], book["bids"], book["asks"]) == ("TSLA", [], [])
    assert isinstance(book["sequence"], int)
    assert expect(venue.http.get("/api/trades/TSLA"), 200) == []
    ticker = expect(venue.http.get("/api/ticker/TSLA"), 200)
    assert ticker == {
        "symbol": "TSLA",
        "bid": None,
        "bid_quantity": None,
        "ask": None,
        "ask_quantity": None,
        "last": None,
        "open": None,
        "high": None,
        "low": None,
        "volume": "0",
        "trades": 0,
    }


def test_book_shows_levels_best_first_aggregated_and_cut_at_depth(venue: Venue) -> None:
    maker, other = venue.open_account(), venue.open_account()
    for price in ("99.00", "98.00", "100.00"):
        maker.limit("GOOGL", "BUY", "10", price)
    other.limit("GOOGL", "BUY", "5", "100.00")
    for price in ("102.00", "101.00", "103.00"):
        maker.limit("GOOGL", "SELL", "7", price)
    before = venue.book("GOOGL")["sequence"]
    full = expect(venue.http.get("/api/book/GOOGL"), 200)
    assert full["bids"] == [["100.00", "15"], ["99.00", "10"], ["98.00", "10"]]
    assert full["asks"] == [["101.00", "7"], ["102.00", "7"], ["103.00", "7"]]
    top = expect(venue.http.get("/api/book/GOOGL", params={"depth": 2}), 200)
    assert top["bids"] == full["bids"][:2]
    assert top["asks"] == full["asks"][:2]
    one = expect(venue.http.get("/api/book/GOOGL", params={"depth": 1}), 200)
    assert (one["bids"], one["asks"]) == ([["100.00", "15"]], [["101.00", "7"]])
    maker.limit("GOOGL", "SELL", "1", "104.00")
    assert venue.book("GOOGL")["sequence"] > before, "a book change moves its sequence"


def test_book_of_a_fractional_lot_instrument(venue: Venue) -> None:
    maker = venue.open_account()
    maker.limit("BTC-USD", "BUY", "0.0015", "30000.00")
    maker.limit("BTC-USD", "SELL", "0.25", "30100.50")
    book = venue.book("BTC-USD")
    assert book["bids"] == [["30000.00", "0.0015"]]
    assert book["asks"] == [["30100.50", "0.2500"]]  # quantities keep the instrument's lot decimals


def test_trades_are_newest_first_with_the_aggressor_side(venue: Venue) -> None:
    buyer, seller = venue.open_account(), venue.open_account()
    seller.limit("AMZN", "SELL", "10", "150.00")
    buyer.limit("AMZN", "BUY", "4", "150.00")
    buyer.limit("AMZN", "BUY", "20", "149.00")
    seller.limit("AMZN", "SELL", "6", "149.00")
    trades = expect(venue.http.get("/api/trades/AMZN"), 200)
    assert [(trade["price"], trade["quantity"], trade["side"]) for trade in trades] == [
        ("149.00", "6", "SELL"),
        ("150.00", "4", "BUY"),
    ]
    assert trades[0]["trade_id"] > trades[1]["trade_id"]
    for trade in trades:
        assert set(trade) == {"trade_id", "symbol", "price", "quantity", "side", "timestamp"}
        assert trade["symbol"] == "AMZN"
        assert datetime.fromisoformat(trade["timestamp"]).tzinfo is not None
    assert expect(venue.http.get("/api/trades/AMZN", params={"limit": 1}), 200) == trades[:1]


def test_ticker_shows_top_of_book_last_and_session_figures(venue: Venue) -> None:
    buyer, seller = venue.open_account(), venue.open_account()
    seller.limit("NVDA", "SELL", "10", "500.00")
    buyer.limit("NVDA", "BUY", "4", "500.00")
    seller.limit("NVDA", "SELL", "5", "502.00")
    buyer.limit("NVDA", "BUY", "3", "502.00")  # trades 3 at the best ask, 500.00
    buyer.limit("NVDA", "BUY", "8", "499.00")
    seller.limit("NVDA", "SELL", "2", "499.00")
    ticker = expect(venue.http.get("/api/ticker/NVDA"), 200)
    assert ticker["symbol"] == "NVDA"
    assert (ticker["bid"], ticker["bid_quantity"]) == ("499.00", "6")
    assert (ticker["ask"], ticker["ask_quantity"]) == ("500.00", "3")
    assert ticker["last"] == "499.00"
    assert (ticker["open"], ticker["high"], ticker["low"]) == ("500.00", "500.00", "499.00")
    assert ticker["volume"] == "9"
    assert ticker["trades"] == 3


@pytest.mark.parametrize("path", ["/api/book/{}", "/api/trades/{}", "/api/ticker/{}"])
@pytest.mark.parametrize("symbol", ["NOPE", "aapl", "AAPL%20", "BTC-USDT"])
def test_unknown_symbol_is_404(venue: Venue, path: str, symbol: str) -> None:
    error = expect_error(venue.http.get(path.format(symbol)), 404, "NOT_FOUND")
    assert "unknown symbol" in error["message"]


def test_market_data_needs_no_api_key_and_ignores_a_wrong_one(venue: Venue) -> None:
    for path in ("/api/instruments", "/api/book/AAPL", "/api/trades/AAPL", "/api/ticker/AAPL"):
        expect(venue.http.get(path), 200)
        expect(venue.http.get(path, headers={"X-API-Key": "hft_wrong"}), 200)


@pytest.mark.parametrize("query", ["depth=0", "depth=-1", "depth=1001", "depth=abc", "depth=1.5", "depth=1e400"])
def test_book_depth_out_of_range_is_400(venue: Venue, query: str) -> None:
    expect_error(venue.http.get(f"/api/book/AAPL?{query}"), 400)
