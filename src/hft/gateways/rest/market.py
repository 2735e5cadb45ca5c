"""Public market data: instruments, depth, trades and tickers. No key needed."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.exceptions import NotFoundException
from litestar.params import Parameter

from hft.domain.instruments import Instrument
from hft.domain.matching import queries
from hft.gateways.rest import schemas
from hft.gateways.rest.convert import levels_text, price_text, quantity_text, trade_response
from hft.service.venue import Venue


def _instrument(venue: Venue, symbol: str) -> Instrument:
    instrument = venue.by_symbol.get(symbol)
    if instrument is None:
        raise NotFoundException(f"unknown symbol {symbol!r}")
    return instrument


@get("/api/instruments", summary="List instruments", tags=["market data"])
async def list_instruments(venue: Venue) -> list[schemas.InstrumentResponse]:
    """Return every listed instrument with its tick and lot sizes and limits."""
    halted = venue.core.exchange.halted
    return [
        schemas.InstrumentResponse(
            symbol=instrument.symbol,
            tick_size=str(instrument.tick_size),
            lot_size=str(instrument.lot_size),
            min_quantity=quantity_text(instrument, instrument.min_quantity),
            max_quantity=quantity_text(instrument, instrument.max_quantity),
            max_price=price_text(instrument, instrument.max_price),
            halted=instrument.symbol in halted,
        )
        for instrument in venue.instruments
    ]


@get("/api/book/{symbol:str}", summary="Get the order book", tags=["market data"])
async def get_book(
    symbol: str, venue: Venue, depth: Annotated[int, Parameter(ge=1, le=1000)] = 20
) -> schemas.BookResponse:
    """Return L2 depth, best first on each side, as ``[price, quantity]`` pairs."""
    instrument = _instrument(venue, symbol)
    book = queries.depth(venue.core.exchange.engine, symbol, depth)
    assert book is not None
    return schemas.BookResponse(
        symbol=symbol,
        bids=levels_text(instrument, book.bids),
        asks=levels_text(instrument, book.asks),
        sequence=venue.market.symbols[symbol].book_sequence,
    )


@get("/api/trades/{symbol:str}", summary="Get recent trades", tags=["market data"])
async def get_trades(
    symbol: str, venue: Venue, limit: Annotated[int, Parameter(ge=1, le=1000)] = 100
) -> list[schemas.TradeResponse]:
    """Return the symbol's latest trades, newest first."""
    instrument = _instrument(venue, symbol)
    return [trade_response(trade, instrument) for trade in venue.market.recent_trades(symbol, limit)]


@get("/api/ticker/{symbol:str}", summary="Get the ticker", tags=["market data"])
async def get_ticker(symbol: str, venue: Venue) -> schemas.TickerResponse:
    """Return best bid and ask, the last trade and the figures since the venue started."""
    return ticker(venue, _instrument(venue, symbol))


def ticker(venue: Venue, instrument: Instrument) -> schemas.TickerResponse:
    """Build the ticker of ``instrument`` from the live book and the session statistics."""
    symbol = instrument.symbol
    top = queries.top_of_book(venue.core.exchange.engine, symbol)
    assert top is not None
    statistics = venue.market.symbols[symbol]

    def optional_price(ticks: int | None) -> str | None:
        return price_text(instrument, ticks) if ticks else None

    return schemas.TickerResponse(
        symbol=symbol,
        bid=optional_price(top.bid.price if top.bid else None),
        bid_quantity=quantity_text(instrument, top.bid.quantity) if top.bid else None,
        ask=optional_price(top.ask.price if top.ask else None),
        ask_quantity=quantity_text(instrument, top.ask.quantity) if top.ask else None,
        last=optional_price(top.last_price),
        open=optional_price(statistics.open),
        high=optional_price(statistics.high),
        low=optional_price(statistics.low),
        volume=quantity_text(instrument, statistics.volume),
        trades=statistics.trade_count,
    )
