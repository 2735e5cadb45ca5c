"""Market data over FIX: MarketDataRequest (snapshot, then incremental or full refreshes) and SecurityListRequest.

Book entries are price levels (the venue's L2): MDEntryType 0 (bid) or 1
(offer) with MDEntryPx, MDEntrySize and NumberOfOrders; trades are
MDEntryType 2. Incremental refreshes say per level New, Change or Delete,
for every level a durable batch changed. Market data is not kept for
resends: a ResendRequest over it gets a GapFill (ask for a new snapshot).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from hft.domain.events import BookLevelChanged
from hft.domain.matching import queries
from hft.domain.orders import BUY
from hft.gateways.fix.codec import FixMessage, field
from hft.gateways.fix.session import Session
from hft.gateways.rest.convert import price_text, quantity_text
from hft.service.market import Trade
from hft.service.venue import Update, Venue

BID: Final = b"0"
OFFER: Final = b"1"
TRADE: Final = b"2"
ENTRY_TYPES: Final = frozenset({BID, OFFER, TRADE})
FULL_DEPTH: Final = 1_000_000
ENTRY_TYPE_GROUP: Final = frozenset({269})
SYMBOL_GROUP: Final = frozenset({55, 65, 48, 22, 460, 461, 167, 762, 200, 541, 207, 106, 107})

# MDReqRejReason (281).
UNKNOWN_SYMBOL: Final = b"0"
DUPLICATE_REQUEST: Final = b"1"
UNSUPPORTED_SUBSCRIPTION: Final = b"4"
UNSUPPORTED_DEPTH: Final = b"5"
UNSUPPORTED_UPDATE_TYPE: Final = b"6"
UNSUPPORTED_ENTRY_TYPE: Final = b"8"

Send = Callable[[Session, bytes, bytes], None]


class Subscription:
    """One MarketDataRequest with updates: who asked, for which symbols and entry types, in which form."""

    __slots__ = ("depth", "entry_types", "incremental", "request_id", "session", "symbols")

    def __init__(
        self, session: Session, request_id: str, symbols: list[str], entry_types: frozenset[bytes], depth: int
    ) -> None:
        self.session = session
        self.request_id = request_id
        self.symbols = symbols
        self.entry_types = entry_types
        self.depth = depth
        self.incremental = True


class MarketDataFeed:
    """Market data subscriptions of every FIX session, fed from the venue's durable updates."""

    def __init__(self, venue: Venue, send: Send) -> None:
        self.venue = venue
        self.send = send
        self.by_symbol: dict[str, list[Subscription]] = {}
        self.by_session: dict[str, dict[str, Subscription]] = {}
        # The price levels each subscribed symbol has now, to tell a new level from a changed one.
        self.levels: dict[str, set[tuple[int, int]]] = {}

    # -- requests ------------------------------------------------------------------------------------------------

    def request(self, session: Session, message: FixMessage) -> None:
        """Answer a MarketDataRequest (35=V): snapshots now, updates after each batch, or unsubscribe."""
        request_id = message.text(262) or ""
        kind = message.get(263)
        own = self.by_session.setdefault(session.name, {})
        if kind == b"2":
            self._unsubscribe(own.pop(request_id, None))
            return
        if kind not in (b"0", b"1"):
            self._refuse(session, request_id, UNSUPPORTED_SUBSCRIPTION, "SubscriptionRequestType must be 0, 1 or 2")
            return
        depth = message.integer(264)
        update_type = message.get(265)
        entry_types = frozenset(group.get(269, b"") for group in message.groups(267, ENTRY_TYPE_GROUP))
        symbols = [group.get(55, b"").decode("latin-1") for group in message.groups(146, SYMBOL_GROUP)]
        if kind == b"1" and request_id in own:
            self._refuse(session, request_id, DUPLICATE_REQUEST, f"MDReqID {request_id!r} is already subscribed")
            return
        if kind == b"1" and update_type not in (b"0", b"1"):
            self._refuse(session, request_id, UNSUPPORTED_UPDATE_TYPE, "MDUpdateType (265) must be 0 or 1")
            return
        if not entry_types <= ENTRY_TYPES:
            self._refuse(
                session, request_id, UNSUPPORTED_ENTRY_TYPE, "MDEntryType must be 0 (bid), 1 (offer), 2 (trade)"
            )
            return
        if depth > FULL_DEPTH:
            self._refuse(session, request_id, UNSUPPORTED_DEPTH, "MarketDepth is too large")
            return
        unknown = [symbol for symbol in symbols if symbol not in self.venue.by_symbol]
        if unknown:
            self._refuse(session, request_id, UNKNOWN_SYMBOL, f"unknown symbol {unknown[0]!r}")
            return
        subscription = Subscription(session, request_id, symbols, entry_types, depth or FULL_DEPTH)
        for symbol in symbols:
            self.send(session, b"W", self._snapshot(subscription, symbol))
        if kind == b"1":
            subscription.incremental = update_type == b"1"
            own[request_id] = subscription
            for symbol in symbols:
                if symbol not in self.by_symbol:
                    self.by_symbol[symbol] = []
                    self.levels[symbol] = self._current_levels(symbol)
                self.by_symbol[symbol].append(subscription)

    def drop_session(self, session_name: str) -> None:
        """Forget every subscription of a session that logged out or lost its connection."""
        for subscription in list(self.by_session.pop(session_name, {}).values()):
            self._unsubscribe(subscription)

    def _unsubscribe(self, subscription: Subscription | None) -> None:
        if subscription is None:
            return
        for symbol in subscription.symbols:
            subscribers = self.by_symbol.get(symbol, [])
            if subscription in subscribers:
                subscribers.remove(subscription)
            if not subscribers:
                self.by_symbol.pop(symbol, None)
                self.levels.pop(symbol, None)

    def _refuse(self, session: Session, request_id: str, reason: bytes, text: str) -> None:
        self.send(session, b"Y", field(262, request_id) + b"281=%b\x01" % reason + field(58, text))

    def _current_levels(self, symbol: str) -> set[tuple[int, int]]:
        depth = queries.depth(self.venue.core.exchange.engine, symbol, FULL_DEPTH)
        if depth is None:
            return set()
        return {(BUY, level.price) for level in depth.bids} | {(2, level.price) for level in depth.asks}

    def _snapshot(self, subscription: Subscription, symbol: str) -> bytes:
        instrument = self.venue.by_symbol[symbol]
        entries: list[bytes] = []
        depth = queries.depth(self.venue.core.exchange.engine, symbol, subscription.depth)
        types = subscription.entry_types
        if depth is not None:
            for entry_type, levels in ((BID, depth.bids), (OFFER, depth.asks)):
                if entry_type in types:
                    entries.extend(
                        b"269=%b\x01" % entry_type
                        + field(270, price_text(instrument, level.price))
                        + field(271, quantity_text(instrument, level.quantity))
                        + field(346, level.order_count)
                        for level in levels
                    )
        if TRADE in types:
            entries.extend(self._trade_entry(trade, new=False) for trade in self.venue.market.recent_trades(symbol, 1))
        return field(262, subscription.request_id) + field(55, symbol) + field(268, len(entries)) + b"".join(entries)

    def _trade_entry(self, trade: Trade, new: bool) -> bytes:
        instrument = self.venue.by_symbol[trade.symbol]
        return (
            (b"279=0\x01269=2\x01" + field(55, trade.symbol) if new else b"269=2\x01")
            + field(270, price_text(instrument, trade.price))
            + field(271, quantity_text(instrument, trade.quantity))
        )

    # -- updates ---------------------------------------------------------------------------------------------------

    def on_update(self, update: Update) -> None:
        """Send every subscriber the changes of one durable batch to its symbols. O(changes x subscribers)."""
        if not self.by_symbol:
            return
        market = update.market
        per_subscription: dict[Subscription, list[bytes]] = {}
        refreshed: set[tuple[Subscription, str]] = set()
        for symbol, changes in market.book_changes.items():
            subscribers = self.by_symbol.get(symbol)
            if subscribers:
                self._book_entries(symbol, changes, subscribers, per_subscription, refreshed)
        for trade in market.trades:
            for subscription in self.by_symbol.get(trade.symbol, ()):
                if TRADE in subscription.entry_types:
                    if subscription.incremental:
                        per_subscription.setdefault(subscription, []).append(self._trade_entry(trade, new=True))
                    else:
                        refreshed.add((subscription, trade.symbol))
        for subscription, entries in per_subscription.items():
            body = field(262, subscription.request_id) + field(268, len(entries)) + b"".join(entries)
            self.send(subscription.session, b"X", body)
        for subscription, symbol in refreshed:
            self.send(subscription.session, b"W", self._snapshot(subscription, symbol))

    def _book_entries(
        self,
        symbol: str,
        changes: list[BookLevelChanged],
        subscribers: list[Subscription],
        per_subscription: dict[Subscription, list[bytes]],
        refreshed: set[tuple[Subscription, str]],
    ) -> None:
        instrument = self.venue.by_symbol[symbol]
        levels = self.levels[symbol]
        symbol_field = field(55, symbol)
        for change in changes:
            key = (change.side, change.price)
            entry_type = BID if change.side == BUY else OFFER
            if change.quantity == 0 and change.order_count == 0:
                levels.discard(key)
                entry = b"279=2\x01269=%b\x01%b" % (entry_type, symbol_field) + field(
                    270, price_text(instrument, change.price)
                )
            else:
                action = b"1" if key in levels else b"0"
                levels.add(key)
                entry = (
                    b"279=%b\x01269=%b\x01%b" % (action, entry_type, symbol_field)
                    + field(270, price_text(instrument, change.price))
                    + field(271, quantity_text(instrument, change.quantity))
                    + field(346, change.order_count)
                )
            for subscription in subscribers:
                if entry_type in subscription.entry_types:
                    if subscription.incremental:
                        per_subscription.setdefault(subscription, []).append(entry)
                    else:
                        refreshed.add((subscription, symbol))

    # -- reference data --------------------------------------------------------------------------------------------

    def security_list(self, session: Session, message: FixMessage) -> None:
        """Answer a SecurityListRequest (35=x): all instruments (559=4) or one symbol (559=0)."""
        request_id = message.text(320) or ""
        kind = message.get(559)
        result = b"0"
        instruments = []
        if kind == b"4":
            instruments = list(self.venue.instruments)
        elif kind == b"0":
            instrument = self.venue.by_symbol.get(message.text(55) or "")
            instruments = [instrument] if instrument is not None else []
            result = b"0" if instruments else b"2"
        else:
            result = b"1"
        body = field(320, request_id) + field(322, request_id) + b"560=%b\x01" % result
        if result == b"0":
            body += field(393, len(instruments)) + field(146, len(instruments))
            for instrument in instruments:
                body += (
                    field(55, instrument.symbol)
                    + field(561, format(instrument.lot_size.normalize(), "f"))
                    + field(562, format((instrument.lot_size * instrument.min_quantity).normalize(), "f"))
                    + field(58, f"tick_size={format(instrument.tick_size.normalize(), 'f')}")
                )
        self.send(session, b"y", body)
