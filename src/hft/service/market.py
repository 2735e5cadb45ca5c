"""Public market data kept from the core's acks: recent trades and session statistics per symbol.

Depth comes straight from the live books (``hft.domain.matching.queries``);
this adds what the books forget: the trade tape and the day's figures.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Final

import msgspec

from hft.domain.events import BookLevelChanged, TradeExecuted
from hft.domain.instruments import Instrument
from hft.engine.core import Ack

TAPE_LENGTH: Final = 1000


class Trade(msgspec.Struct, frozen=True, gc=False):
    """A public trade print: price ticks, quantity lots, the aggressor's side."""

    trade_id: int
    symbol: str
    price: int
    quantity: int
    aggressor_side: int
    ts: int


class MarketChanges:
    """What one batch did to the market: its trades, its L2 changes per symbol, and per such symbol the
    ``book_sequence`` those changes apply to."""

    __slots__ = ("book_changes", "previous_book_sequences", "trades")

    def __init__(
        self, trades: list[Trade], book_changes: dict[str, list[BookLevelChanged]], previous: dict[str, int]
    ) -> None:
        self.trades = trades
        self.book_changes = book_changes
        self.previous_book_sequences = previous


class SymbolStatistics:
    """Figures since the venue started: first, high, low and last price, volume (lots) and trade count."""

    __slots__ = ("book_sequence", "high", "low", "open", "trade_count", "trades", "volume")

    def __init__(self) -> None:
        self.open = 0
        self.high = 0
        self.low = 0
        self.volume = 0
        self.trade_count = 0
        self.trades: deque[Trade] = deque(maxlen=TAPE_LENGTH)
        # The event sequence of the symbol's latest book change: the same after a restart, whatever the batching.
        self.book_sequence = 0


class MarketData:
    """Trade tapes and statistics for every listed symbol."""

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        self.symbols: dict[str, SymbolStatistics] = {
            instrument.symbol: SymbolStatistics() for instrument in instruments
        }

    def apply(self, acks: list[Ack]) -> MarketChanges:
        """Fold a batch of acks in; return its trades, its book changes per symbol and what they follow."""
        trades: list[Trade] = []
        book_changes: dict[str, list[BookLevelChanged]] = {}
        for ack in acks:
            for event in ack.events:
                if isinstance(event, BookLevelChanged):
                    book_changes.setdefault(event.symbol, []).append(event)
                elif isinstance(event, TradeExecuted):
                    trades.append(self._on_trade(event))
        previous: dict[str, int] = {}
        for symbol, changes in book_changes.items():
            statistics = self.symbols[symbol]
            previous[symbol] = statistics.book_sequence
            statistics.book_sequence = changes[-1].sequence
        return MarketChanges(trades, book_changes, previous)

    def _on_trade(self, event: TradeExecuted) -> Trade:
        trade = Trade(event.trade_id, event.symbol, event.price, event.quantity, event.aggressor_side, event.ts)
        statistics = self.symbols[event.symbol]
        if not statistics.open:
            statistics.open = statistics.high = statistics.low = event.price
        statistics.high = max(statistics.high, event.price)
        statistics.low = min(statistics.low, event.price)
        statistics.volume += event.quantity
        statistics.trade_count += 1
        statistics.trades.append(trade)
        return trade

    def recent_trades(self, symbol: str, limit: int) -> list[Trade]:
        """Return up to ``limit`` of the symbol's latest trades, newest first."""
        tape = self.symbols[symbol].trades
        return [tape[index] for index in range(len(tape) - 1, max(len(tape) - limit, 0) - 1, -1)]
