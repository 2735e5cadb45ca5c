"""What the Redis cache holds: key names, and every key's fields computed from the venue's state. No I/O.

Each data key is a hash of text fields. Prices, quantities and money are
decimal text exactly as the REST API shows them; counts, sequences and
nanosecond timestamps are integers as text; an absent value (an empty book
side, no trade yet, no average price of a flat position) is ``""``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from hft.core.fixedpoint import UnitText
from hft.domain.exchange import queries as exchange_queries
from hft.domain.exchange.exchange import Exchange
from hft.domain.exchange.money import average_price, cash_to_decimal
from hft.domain.instruments import Instrument
from hft.domain.matching import queries as matching_queries

if TYPE_CHECKING:
    from hft.service.market import MarketData

Fields = dict[str, str]
PositionKey = tuple[int, str]

SEQUENCE_KEY: Final = "cache:sequence"
# Every data key lives under one of these; a rebuild deletes what they hold that the venue no longer has.
DATA_NAMESPACES: Final = ("position:", "marketdata:")


def position_key(prefix: str, account: int, symbol: str) -> str:
    """Return the key of one account's position in ``symbol``."""
    return f"{prefix}position:{account}:{symbol}"


def open_interest_key(prefix: str, symbol: str) -> str:
    """Return the key of the venue-wide figures of ``symbol`` (open interest, accounts long and short)."""
    return f"{prefix}position:{symbol}"


def market_key(prefix: str, symbol: str) -> str:
    """Return the key of the market data of ``symbol``."""
    return f"{prefix}marketdata:{symbol}"


def sequence_key(prefix: str) -> str:
    """Return the key holding the last event sequence the cache reflects."""
    return prefix + SEQUENCE_KEY


class SymbolHoldings:
    """Venue-wide figures of one symbol: lots held long, accounts long and short, sequence of the last change."""

    __slots__ = ("long_accounts", "open_interest", "sequence", "short_accounts")

    def __init__(self) -> None:
        self.open_interest = 0
        self.long_accounts = 0
        self.short_accounts = 0
        self.sequence = 0

    def count(self, net: int, sign: int) -> None:
        """Add (``sign`` 1) or remove (-1) one account's net position of ``net`` lots. O(1)."""
        if net > 0:
            self.open_interest += sign * net
            self.long_accounts += sign
        elif net < 0:
            self.short_accounts += sign


class Holdings:
    """Every traded position's net lots and the event sequence of its last change, and per symbol their sums.

    The exchange keeps neither the sequence of a position's last change nor
    sums over accounts; the cache keeps them here, O(1) per change, so that
    writing ``position:{symbol}`` never scans every account.
    """

    def __init__(self, symbols: Iterable[str]) -> None:
        self.nets: dict[PositionKey, int] = {}
        self.sequences: dict[PositionKey, int] = {}
        self.symbols: dict[str, SymbolHoldings] = {symbol: SymbolHoldings() for symbol in symbols}

    @classmethod
    def of(cls, exchange: Exchange, sequences: Mapping[PositionKey, int] | None = None) -> Holdings:
        """Build the holdings of every traded position in ``exchange``. O(positions).

        A position missing from ``sequences`` gets the exchange's current event
        sequence: its last change happened no later than that.
        """
        holdings = cls(exchange.engine.books)
        known = sequences or {}
        now = exchange.engine.sequence
        for account in exchange.accounts.values():
            for position in account.positions.values():
                if position.volume:
                    key = (account.account_id, position.symbol)
                    holdings.apply(account.account_id, position.symbol, position.net, known.get(key, now))
        return holdings

    def apply(self, account: int, symbol: str, net: int, sequence: int) -> None:
        """Record that the position of ``account`` in ``symbol`` is now ``net`` lots, as of ``sequence``. O(1)."""
        key = (account, symbol)
        figures = self.symbols[symbol]
        figures.count(self.nets.get(key, 0), -1)
        figures.count(net, 1)
        figures.sequence = max(figures.sequence, sequence)
        self.nets[key] = net
        self.sequences[key] = sequence


class _Texts:
    """One instrument's price and quantity formatters (integer arithmetic, no Decimal per value)."""

    __slots__ = ("instrument", "prices", "quantities")

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.prices = UnitText(instrument.tick_size)
        self.quantities = UnitText(instrument.lot_size)


_TEXTS: dict[str, _Texts] = {}


def _texts(exchange: Exchange, symbol: str) -> _Texts:
    found = _TEXTS.get(symbol)
    instrument = exchange.engine.books[symbol].instrument
    if found is None or found.instrument is not instrument:
        found = _TEXTS[symbol] = _Texts(instrument)
    return found


def _decimal(value: Decimal) -> str:
    return format(value, "f")  # plain notation, as the REST API writes it


def position_fields(exchange: Exchange, account: int, symbol: str, sequence: int) -> Fields:
    """Return the fields of ``position:{account}:{symbol}`` (empty if the account never held it). O(1)."""
    view = exchange_queries.position(exchange, account, symbol)
    if view is None:
        return {}
    instrument = _texts(exchange, symbol).instrument
    average = average_price(view.open_cost, view.net, instrument.lot_size)
    return {
        "net_quantity": _decimal(instrument.lots_to_quantity(view.net)),
        "average_price": "" if average is None else _decimal(average),
        "open_cost": _decimal(cash_to_decimal(view.open_cost)),
        "realized_pnl": _decimal(cash_to_decimal(view.realized)),
        "fees_paid": _decimal(cash_to_decimal(view.fees)),
        "sequence": str(sequence),
    }


def symbol_fields(exchange: Exchange, symbol: str, figures: SymbolHoldings) -> Fields:
    """Return the fields of ``position:{symbol}``. O(1)."""
    return {
        "open_interest": _texts(exchange, symbol).quantities.text(figures.open_interest),
        "long_accounts": str(figures.long_accounts),
        "short_accounts": str(figures.short_accounts),
        "sequence": str(figures.sequence),
    }


def market_fields(exchange: Exchange, market: MarketData, symbol: str) -> Fields:
    """Return the fields of ``marketdata:{symbol}``: top of book, last trade, session figures. O(1)."""
    texts = _texts(exchange, symbol)
    top = matching_queries.top_of_book(exchange.engine, symbol)
    assert top is not None  # every listed symbol has a book
    statistics = market.symbols[symbol]
    last = statistics.trades[-1] if statistics.trades else None
    bid, ask = top.bid, top.ask
    return {
        "best_bid": texts.prices.text(bid.price) if bid else "",
        "best_bid_quantity": texts.quantities.text(bid.quantity) if bid else "",
        "best_ask": texts.prices.text(ask.price) if ask else "",
        "best_ask_quantity": texts.quantities.text(ask.quantity) if ask else "",
        "last_price": texts.prices.text(top.last_price) if top.last_price else "",
        "last_quantity": texts.quantities.text(last.quantity) if last else "",
        "last_trade_ts": str(last.ts) if last else "",
        "volume": texts.quantities.text(statistics.volume),
        "trades": str(statistics.trade_count),
        "halted": "true" if symbol in exchange.halted else "false",
        # The book sequence (as GET /api/book shows it): every trade changes the book, so it covers trades too.
        "sequence": str(statistics.book_sequence),
    }


def entries(
    exchange: Exchange, market: MarketData, prefix: str, sequences: Mapping[PositionKey, int] | None = None
) -> dict[str, Fields]:
    """Return every data key the cache should hold for this state, with its fields. O(positions + symbols).

    ``sequences`` gives the event sequence of each position's last change
    (``Holdings.sequences``); a position missing from it gets the exchange's
    current event sequence. ``cache:sequence`` is not a data key: it is the
    exchange's event sequence (``exchange.engine.sequence``).
    """
    holdings = Holdings.of(exchange, sequences)
    content: dict[str, Fields] = {}
    for (account, symbol), sequence in holdings.sequences.items():
        content[position_key(prefix, account, symbol)] = position_fields(exchange, account, symbol, sequence)
    for symbol, figures in holdings.symbols.items():
        content[open_interest_key(prefix, symbol)] = symbol_fields(exchange, symbol, figures)
        content[market_key(prefix, symbol)] = market_fields(exchange, market, symbol)
    return content
