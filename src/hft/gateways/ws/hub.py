"""Fan-out of durable updates to WebSocket sessions, channel by channel.

Each batch is turned into messages once per channel that has subscribers,
encoded once, and queued on every subscribed session. A session whose queue
grows past the limit is cut off as too slow: the engine never waits for a
client.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, Final

import msgspec

from hft.domain.events import BookLevelChanged
from hft.domain.exchange import queries as exchange_queries
from hft.domain.matching import queries
from hft.gateways.book import changed_levels
from hft.gateways.rest.convert import (
    execution_response,
    levels_text,
    order_response,
    position_response,
    trade_response,
)
from hft.gateways.rest.market import ticker
from hft.service.venue import Update, Venue

PRIVATE_CHANNELS: Final = frozenset({"orders", "executions", "positions"})
MARKET_PREFIXES: Final = ("book.", "trades.", "ticker.")
SNAPSHOT_DEPTH: Final = 50

encoder = msgspec.json.Encoder()


class Session:
    """One WebSocket client: its account (once authenticated), channels and outgoing queue."""

    def __init__(self, max_queue: int) -> None:
        self.account: int | None = None
        self.channels: set[str] = set()
        self.max_queue = max_queue
        self.queue: deque[bytes] = deque()
        self.ready = asyncio.Event()
        self.closed_reason: str | None = None

    def push(self, message: bytes) -> None:
        """Queue a message; mark the session too slow if it has fallen ``max_queue`` messages behind."""
        if self.closed_reason is not None:
            return
        if len(self.queue) >= self.max_queue:
            self.closed_reason = f"slow consumer: more than {self.max_queue} messages behind"
            self.queue.clear()
        else:
            self.queue.append(message)
        self.ready.set()


class Hub:
    """Routes every venue update to the sessions subscribed to its channels."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.sessions: set[Session] = set()
        venue.subscribe(self.on_update)

    def add(self, session: Session) -> None:
        """Start delivering to ``session``."""
        self.sessions.add(session)
        self.venue.metrics.websocket_clients.set(len(self.sessions))

    def remove(self, session: Session) -> None:
        """Stop delivering to ``session``."""
        self.sessions.discard(session)
        self.venue.metrics.websocket_clients.set(len(self.sessions))

    def valid_channel(self, channel: str) -> bool:
        """Say whether ``channel`` exists."""
        if channel in PRIVATE_CHANNELS:
            return True
        prefix, _, symbol = channel.partition(".")
        return f"{prefix}." in MARKET_PREFIXES and symbol in self.venue.by_symbol

    def snapshot(self, channel: str) -> bytes | None:
        """Return the first message a new subscriber of ``channel`` gets (book snapshot, ticker), if any."""
        kind, _, symbol = channel.partition(".")
        if kind == "book":
            return self._book_snapshot(symbol)
        if kind == "ticker":
            data = ticker(self.venue, self.venue.by_symbol[symbol])
            return encoder.encode({"channel": channel, "type": "ticker", "data": data})
        return None

    def _book_snapshot(self, symbol: str) -> bytes:
        instrument = self.venue.by_symbol[symbol]
        depth = queries.depth(self.venue.core.exchange.engine, symbol, SNAPSHOT_DEPTH)
        assert depth is not None
        return encoder.encode(
            {
                "channel": f"book.{symbol}",
                "type": "snapshot",
                "sequence": self.venue.market.symbols[symbol].book_sequence,
                "bids": levels_text(instrument, depth.bids),
                "asks": levels_text(instrument, depth.asks),
            }
        )

    # -- per update ------------------------------------------------------------------

    def on_update(self, update: Update) -> None:
        """Turn one durable batch into messages for the sessions that want them."""
        if not self.sessions:
            return
        wanted: dict[str, list[Session]] = {}
        for session in self.sessions:
            for channel in session.channels:
                wanted.setdefault(channel, []).append(session)
        self._market(update, wanted)
        self._private(update, wanted)

    def _market(self, update: Update, wanted: dict[str, list[Session]]) -> None:
        for symbol, changes in update.market.book_changes.items():
            sessions = wanted.get(f"book.{symbol}")
            if sessions:
                self._send(sessions, self._book_update(symbol, changes, update.market.previous_book_sequences[symbol]))
        trades_by_symbol: dict[str, list[Any]] = {}
        for trade in update.market.trades:
            trades_by_symbol.setdefault(trade.symbol, []).append(trade)
        for symbol, trades in trades_by_symbol.items():
            sessions = wanted.get(f"trades.{symbol}")
            if sessions:
                instrument = self.venue.by_symbol[symbol]
                data = [trade_response(trade, instrument) for trade in trades]
                self._send(sessions, encoder.encode({"channel": f"trades.{symbol}", "type": "trades", "data": data}))
        for symbol in set(update.market.book_changes) | set(trades_by_symbol):
            sessions = wanted.get(f"ticker.{symbol}")
            message = self.snapshot(f"ticker.{symbol}") if sessions else None
            if sessions and message is not None:
                self._send(sessions, message)

    def _book_update(self, symbol: str, changes: list[BookLevelChanged], previous: int) -> bytes:
        bids, asks = changed_levels(self.venue.by_symbol[symbol], changes)
        return encoder.encode(
            {
                "channel": f"book.{symbol}",
                "type": "update",
                "sequence": self.venue.market.symbols[symbol].book_sequence,
                "previous_sequence": previous,
                "bids": bids,
                "asks": asks,
            }
        )

    def _private(self, update: Update, wanted: dict[str, list[Session]]) -> None:
        changes = update.changes
        by_symbol = self.venue.by_symbol
        if "orders" in wanted:
            for order in changes.orders.values():
                message = {"channel": "orders", "type": "order", "data": order_response(order, by_symbol[order.symbol])}
                self._send_to_account(wanted["orders"], order.account, message)
        if "executions" in wanted:
            for execution in changes.executions:
                data = execution_response(execution, by_symbol[execution.symbol])
                self._send_to_account(
                    wanted["executions"],
                    execution.account,
                    {"channel": "executions", "type": "execution", "data": data},
                )
        if "positions" in wanted:
            exchange = self.venue.core.exchange
            for account, symbol in changes.positions:
                position = exchange_queries.position(exchange, account, symbol)
                if position is not None:
                    described = position_response(position, by_symbol[symbol])
                    self._send_to_account(
                        wanted["positions"], account, {"channel": "positions", "type": "position", "data": described}
                    )

    @staticmethod
    def _send(sessions: list[Session], message: bytes) -> None:
        for session in sessions:
            session.push(message)

    @staticmethod
    def _send_to_account(sessions: list[Session], account: int, message: dict[str, Any]) -> None:
        encoded: bytes | None = None
        for session in sessions:
            if session.account == account:
                encoded = encoded or encoder.encode(message)
                session.push(encoded)
