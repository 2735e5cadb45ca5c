"""Live streams: every durable update fanned out to the open StreamExecutions and StreamMarketData calls.

Each batch is turned into messages once per account or symbol that has a stream, and queued on each such
stream. A stream whose queue grows past the limit is ended with RESOURCE_EXHAUSTED (SLOW_CONSUMER), the
WebSocket rule: the engine never waits for a client, and no client holds more than the limit in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

import grpc

from hft.domain.matching import queries
from hft.gateways.book import changed_levels
from hft.gateways.grpc import messages
from hft.gateways.grpc.calls import CallRefusedError, Context
from hft.gateways.grpc.v1 import trading_pb2 as pb
from hft.gateways.rest.convert import levels_text
from hft.service.market import Trade
from hft.service.venue import Update, Venue

log = logging.getLogger("hft.grpc")

SHUTTING_DOWN = CallRefusedError(grpc.StatusCode.UNAVAILABLE, "UNAVAILABLE", "the server is shutting down")


class Subscription:
    """One open stream: its bounded queue of messages, and the refusal that ends it once it is closed."""

    def __init__(self, max_queue: int) -> None:
        self.max_queue = max_queue
        self.queue: deque[Any] = deque()
        self.ready = asyncio.Event()
        self.closed = asyncio.Event()
        self.refusal: CallRefusedError | None = None

    def push(self, message: Any) -> None:
        """Queue ``message``; close the stream as too slow if it is already ``max_queue`` messages behind."""
        if self.refusal is not None:
            return
        if len(self.queue) >= self.max_queue:
            reason = f"slow consumer: more than {self.max_queue} messages behind"
            log.warning("gRPC stream cut off: %s", reason)
            self.close(CallRefusedError(grpc.StatusCode.RESOURCE_EXHAUSTED, "SLOW_CONSUMER", reason))
        else:
            self.queue.append(message)
            self.ready.set()

    def close(self, refusal: CallRefusedError) -> None:
        """End the stream with ``refusal`` as soon as its writer notices; drop what it has not sent yet."""
        if self.refusal is None:
            self.refusal = refusal
            self.queue.clear()
            self.ready.set()
            self.closed.set()


class ExecutionSubscription(Subscription):
    """The fills of one account (of one symbol, if ``symbol`` is set)."""

    def __init__(self, max_queue: int, account: int, symbol: str) -> None:
        super().__init__(max_queue)
        self.account = account
        self.symbol = symbol


class StreamHub:
    """Routes every venue update to the open streams that want it. Create once per gateway; ``stop`` ends all."""

    def __init__(self, venue: Venue, max_queue: int) -> None:
        self.venue = venue
        self.max_queue = max_queue
        self.executions: dict[int, set[ExecutionSubscription]] = {}
        self.market: dict[str, set[Subscription]] = {}
        self.stopped = False
        venue.subscribe(self.on_update)

    def stop(self) -> None:
        """Stop routing; end every open stream with UNAVAILABLE, and any opened from now on."""
        self.stopped = True
        self.venue.unsubscribe(self.on_update)
        for subscription in self._all():
            subscription.close(SHUTTING_DOWN)

    def _all(self) -> list[Subscription]:
        every: list[Subscription] = [item for group in self.executions.values() for item in group]
        return every + [item for group in self.market.values() for item in group]

    # -- opening and closing streams -----------------------------------------------------------------------------

    def open_executions(self, account: int, symbol: str) -> ExecutionSubscription:
        """Start delivering the account's fills (of ``symbol`` only, unless empty) to a new stream."""
        subscription = ExecutionSubscription(self.max_queue, account, symbol)
        self.executions.setdefault(account, set()).add(subscription)
        self._close_if_stopped(subscription)
        return subscription

    def open_market(self, symbols: list[str], depth: int) -> Subscription:
        """Queue a book snapshot of each symbol on a new stream, then deliver every later update of them.

        The snapshot and the registration happen without yielding to the event loop, so the first update the
        stream gets is the first one after its snapshot. Costs O(depth) per symbol.
        """
        subscription = Subscription(self.max_queue)
        for symbol in symbols:
            subscription.push(self._snapshot(symbol, depth))
            self.market.setdefault(symbol, set()).add(subscription)
        self._close_if_stopped(subscription)
        return subscription

    def close(self, subscription: Subscription) -> None:
        """Stop delivering to ``subscription`` (its call ended)."""
        if isinstance(subscription, ExecutionSubscription):
            _discard(self.executions, subscription.account, subscription)
        for symbol in list(self.market):
            _discard(self.market, symbol, subscription)

    def _close_if_stopped(self, subscription: Subscription) -> None:
        if self.stopped:
            subscription.close(SHUTTING_DOWN)

    def _snapshot(self, symbol: str, depth: int) -> pb.MarketDataEvent:
        instrument = self.venue.by_symbol[symbol]
        book = queries.depth(self.venue.core.exchange.engine, symbol, depth)
        assert book is not None  # a listed symbol has a book
        snapshot = pb.BookSnapshot(
            sequence=self.venue.market.symbols[symbol].book_sequence,
            bids=messages.levels(levels_text(instrument, book.bids)),
            asks=messages.levels(levels_text(instrument, book.asks)),
        )
        return pb.MarketDataEvent(symbol=symbol, snapshot=snapshot)

    # -- per update ------------------------------------------------------------------------------------------------

    def on_update(self, update: Update) -> None:
        """Turn one durable batch into messages for the streams that want them. O(changes + streams reached)."""
        if self.executions:
            self._executions(update)
        if self.market:
            self._market(update)

    def _executions(self, update: Update) -> None:
        by_symbol = self.venue.by_symbol
        for execution in update.changes.executions:
            subscriptions = self.executions.get(execution.account)
            if subscriptions:
                message = messages.execution_message(execution, by_symbol[execution.symbol])
                for subscription in subscriptions:
                    if subscription.symbol in ("", execution.symbol):
                        subscription.push(message)

    def _market(self, update: Update) -> None:
        market = update.market
        for symbol, changes in market.book_changes.items():
            subscriptions = self.market.get(symbol)
            if subscriptions:
                bids, asks = changed_levels(self.venue.by_symbol[symbol], changes)
                book_update = pb.BookUpdate(
                    sequence=self.venue.market.symbols[symbol].book_sequence,
                    previous_sequence=market.previous_book_sequences[symbol],
                    bids=messages.levels(bids),
                    asks=messages.levels(asks),
                )
                self._send(subscriptions, pb.MarketDataEvent(symbol=symbol, update=book_update))
        trades_by_symbol: dict[str, list[Trade]] = {}
        for trade in market.trades:
            if trade.symbol in self.market:
                trades_by_symbol.setdefault(trade.symbol, []).append(trade)
        for symbol, trades in trades_by_symbol.items():
            event = messages.trades_event(symbol, trades, self.venue.by_symbol[symbol])
            self._send(self.market[symbol], event)

    @staticmethod
    def _send(subscriptions: set[Subscription], message: Any) -> None:
        for subscription in subscriptions:
            subscription.push(message)


async def pump(subscription: Subscription, context: Context) -> None:
    """Write the stream's messages as they come until it is closed, then end the call with its refusal.

    A write waits for HTTP/2 flow control, that is for the client to read; it is raced against the stream's
    closing so that a client that stopped reading is still cut off (it gets the status after what it had
    been sent). Returns only by raising: the refusal, or ``CancelledError`` when the client goes away.
    """
    closing = asyncio.ensure_future(subscription.closed.wait())
    try:
        while subscription.refusal is None:
            if not subscription.queue:
                subscription.ready.clear()
                await subscription.ready.wait()
                continue
            writing = asyncio.ensure_future(context.write(subscription.queue.popleft()))
            await asyncio.wait((writing, closing), return_when=asyncio.FIRST_COMPLETED)
            if not writing.done():
                writing.add_done_callback(_ignore_outcome)
            else:
                writing.result()
    finally:
        closing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await closing
    await subscription.refusal.end(context)


def _discard(groups: dict[Any, set[Any]], key: Any, subscription: Subscription) -> None:
    group = groups.get(key)
    if group is not None:
        group.discard(subscription)
        if not group:
            del groups[key]


def _ignore_outcome(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()
