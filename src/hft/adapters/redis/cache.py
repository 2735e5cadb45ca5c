"""The Redis cache: positions and market data kept current in Redis for readers outside the venue.

The cache is never the source of truth: the journal is. ``on_update`` only
marks keys dirty; one background task writes them, with values read from
the venue's state at write time, in one MULTI transaction per round and at
most one round every ``ROUND_SECONDS``, so under load rounds coalesce.
While Redis is down, trading goes on and the cache keeps nothing but a flag
("rewrite everything"); when Redis is back, or was emptied behind its back,
it rewrites every key from the venue's state. See docs/concepts/cache.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Final

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from hft.adapters.redis.entries import (
    DATA_NAMESPACES,
    Fields,
    Holdings,
    PositionKey,
    entries,
    market_fields,
    market_key,
    open_interest_key,
    position_fields,
    position_key,
    sequence_key,
    symbol_fields,
)
from hft.config.urls import without_password
from hft.domain.exchange.commands import SetInstrumentHalt
from hft.domain.exchange.exchange import Exchange
from hft.observability.metrics import Metrics

if TYPE_CHECKING:
    from hft.service.venue import Update, Venue

__all__ = ["RedisCache", "entries", "read_cache", "read_sequence"]

log = logging.getLogger("hft.cache")

ROUND_SECONDS: Final = 0.010
FIRST_RETRY_SECONDS: Final = 0.05
LAST_RETRY_SECONDS: Final = 2.0
CONNECT_TIMEOUT_SECONDS: Final = 1.0
COMMAND_TIMEOUT_SECONDS: Final = 5.0
STOP_TIMEOUT_SECONDS: Final = 5.0
SCAN_COUNT: Final = 1000


class RedisCache:
    """Keeps ``position:*``, ``marketdata:*`` and ``cache:sequence`` current in Redis without ever blocking trading.

    Create, ``venue.subscribe(cache.on_update)``, ``start()`` once the venue's
    core runs, ``await stop()`` after the core stopped.
    """

    def __init__(self, url: str, prefix: str, venue: Venue, metrics: Metrics) -> None:
        self.url: Final = url
        self.prefix: Final = prefix
        self.venue = venue
        self.metrics = metrics
        self.holdings: Holdings | None = None
        self.written_sequence = 0
        self.rebuilds = 0
        self.last_error: str | None = None
        self._positions: set[PositionKey] = set()
        self._symbols: set[str] = set()
        self._markets: set[str] = set()
        # Everything is rewritten at the first connection, after a failure, and when Redis lost the keys.
        self._rebuild = True
        self._healthy = False
        self._down_since: float | None = None
        self._client: Redis | None = None
        self._client_id: int | None = None
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- life cycle ------------------------------------------------------------------

    def start(self) -> None:
        """Take stock of the venue's positions (O(positions)) and start the writer task; it connects on its own."""
        self.holdings = Holdings.of(self._exchange, self.venue.position_sequences)
        self._wakeup.set()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="hft-cache-writer")

    async def stop(self) -> None:
        """Write what is dirty (a few seconds at most, skipped while Redis is down), then close the connection."""
        self._stopping.set()
        self._wakeup.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), STOP_TIMEOUT_SECONDS)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        await self._disconnect()

    def health(self) -> dict[str, object]:
        """Report whether the last write succeeded, and how far the cache is behind the venue. O(1)."""
        sequence = 0 if self.holdings is None else self._exchange.engine.sequence
        return {
            "status": "up" if self._healthy else "down",
            "url": without_password(self.url),
            "prefix": self.prefix,
            "last_written_sequence": self.written_sequence,
            "lag": max(sequence - self.written_sequence, 0),
            "rebuilds": self.rebuilds,
            "error": self.last_error,
        }

    # -- marking -----------------------------------------------------------------------

    def on_update(self, update: Update) -> None:
        """Mark what one durable batch changed as dirty and wake the writer. O(changes); never blocks or raises."""
        try:
            self._mark(update)
        except Exception:
            log.exception("cache: could not take in an update; everything will be rewritten")
            self._rebuild = True
        self._wakeup.set()

    def _mark(self, update: Update) -> None:
        holdings = self.holdings
        if holdings is None:
            return  # not started: start() takes stock of the state, this batch included
        for (account, symbol), change in update.changes.positions.items():
            holdings.apply(account, symbol, change.net_quantity, change.sequence)
        if self._rebuild:
            return  # the next write rewrites every key anyway: keep nothing while Redis is away
        for key in update.changes.positions:
            self._positions.add(key)
            self._symbols.add(key[1])
        self._markets.update(update.market.book_changes)
        for trade in update.market.trades:
            self._markets.add(trade.symbol)
        for ack in update.acks:
            if isinstance(ack.command, SetInstrumentHalt):
                self._markets.add(ack.command.symbol)

    # -- writing -------------------------------------------------------------------------

    async def _run(self) -> None:
        """Write a round whenever something changed, at most every ``ROUND_SECONDS``; back off while Redis fails."""
        loop = asyncio.get_running_loop()
        retry = FIRST_RETRY_SECONDS
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            started = loop.time()
            try:
                await self._round()
            except Exception as error:  # a failed round, whatever the reason, is retried from scratch
                await self._failed(error)
                if self._stopping.is_set():
                    return
                self._wakeup.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), retry)
                retry = min(retry * 2, LAST_RETRY_SECONDS)
                continue
            self._recovered()
            retry = FIRST_RETRY_SECONDS
            if self._stopping.is_set() and not self._wakeup.is_set():
                return
            await asyncio.sleep(max(started + ROUND_SECONDS - loop.time(), 0))

    async def _round(self) -> None:
        client = await self._connected()
        if self._rebuild:
            await self._write_everything(client)
        elif self._positions or self._symbols or self._markets or self._behind():
            await self._write_dirty(client)

    def _behind(self) -> bool:
        return self._exchange.engine.sequence != self.written_sequence

    async def _write_dirty(self, client: Redis) -> None:
        """Write the dirty keys and ``cache:sequence`` in one transaction; O(dirty keys), one round trip.

        ``SET ... XX`` sets nothing when ``cache:sequence`` is missing, and
        ``CLIENT ID`` changes when redis-py silently reconnected: either means
        Redis may have lost keys (flushed, restarted), so everything is rewritten next.
        """
        content, sequence = self._take_dirty()
        pipeline = client.pipeline(transaction=True)
        for key, fields in content.items():
            pipeline.hset(key, mapping=fields)  # type: ignore[arg-type]  # (redis-py's mapping type is invariant)
        pipeline.set(sequence_key(self.prefix), sequence, xx=True)
        pipeline.client_id()
        *_, sequence_set, client_id = await pipeline.execute()
        self._written(len(content), sequence)
        if sequence_set is None or client_id != self._client_id:
            log.warning("cache: Redis lost its keys (flushed or restarted); rewriting them all")
            self._rebuild = True
            self._wakeup.set()

    def _take_dirty(self) -> tuple[dict[str, Fields], int]:
        """Read the dirty keys' values from the venue's state now (no await: one consistent state). O(dirty)."""
        exchange = self._exchange
        holdings = self.holdings
        assert holdings is not None
        prefix = self.prefix
        content: dict[str, Fields] = {}
        for account, symbol in self._positions:
            sequence = holdings.sequences[(account, symbol)]
            content[position_key(prefix, account, symbol)] = position_fields(exchange, account, symbol, sequence)
        for symbol in self._symbols:
            content[open_interest_key(prefix, symbol)] = symbol_fields(exchange, symbol, holdings.symbols[symbol])
        for symbol in self._markets:
            content[market_key(prefix, symbol)] = market_fields(exchange, self.venue.market, symbol)
        self._clear_dirty()
        return content, exchange.engine.sequence

    async def _write_everything(self, client: Redis) -> None:
        """Rewrite every key from the venue's state and delete keys it no longer has. O(keys), one transaction."""
        existing = await _data_keys(client, self.prefix)
        holdings = self.holdings
        assert holdings is not None
        exchange = self._exchange
        content = entries(exchange, self.venue.market, self.prefix, holdings.sequences)
        sequence = exchange.engine.sequence
        self._clear_dirty()
        self._rebuild = False
        pipeline = client.pipeline(transaction=True)
        stale = existing - content.keys()
        if stale:
            pipeline.delete(*stale)
        for key, fields in content.items():
            pipeline.hset(key, mapping=fields)  # type: ignore[arg-type]
        pipeline.set(sequence_key(self.prefix), sequence)
        pipeline.client_id()
        *_, client_id = await pipeline.execute()  # (if it fails, _failed asks for a rebuild again)
        self._client_id = client_id
        self.rebuilds += 1
        self._written(len(content), sequence)
        log.info("cache: wrote all %d keys at sequence %d (%d stale deleted)", len(content), sequence, len(stale))

    def _written(self, keys: int, sequence: int) -> None:
        self.written_sequence = sequence
        self.metrics.cache_writes.inc(keys)

    def _clear_dirty(self) -> None:
        self._positions = set()
        self._symbols = set()
        self._markets = set()

    # -- connection and failures ---------------------------------------------------------

    async def _connected(self) -> Redis:
        if self._client is None:
            client = _client(self.url)
            try:
                await client.ping()
            except BaseException:
                await client.aclose()
                raise
            self._client = client
        return self._client

    async def _disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()

    async def _failed(self, error: Exception) -> None:
        """Drop the connection and rewrite everything next time; log once per outage."""
        self._rebuild = True
        self._clear_dirty()
        self._healthy = False
        self.last_error = str(error) or type(error).__name__
        await self._disconnect()
        if self._down_since is None:
            self._down_since = time.monotonic()
            if isinstance(error, RedisError | OSError | TimeoutError):
                log.warning(
                    "cache: Redis %s failing (%s); trading goes on, retrying", without_password(self.url), error
                )
            else:
                log.exception(
                    "cache: writing to Redis %s failed; trading goes on, retrying", without_password(self.url)
                )

    def _recovered(self) -> None:
        self._healthy = True
        self.last_error = None
        if self._down_since is not None:
            log.warning(
                "cache: Redis %s back after %.1f s", without_password(self.url), time.monotonic() - self._down_since
            )
            self._down_since = None

    @property
    def _exchange(self) -> Exchange:
        return self.venue.core.exchange


def _client(url: str) -> Redis:
    """Make a client that fails fast and never retries on its own: the writer decides when to retry."""
    return Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=COMMAND_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 0),
        client_name="hft-cache",
    )


async def _data_keys(client: Redis, prefix: str) -> set[str]:
    """Return every key under the prefix's data namespaces. O(keys), a SCAN round trip per ``SCAN_COUNT``."""
    keys: set[str] = set()
    for namespace in DATA_NAMESPACES:
        async for key in client.scan_iter(match=f"{prefix}{namespace}*", count=SCAN_COUNT):
            keys.add(key)
    return keys


async def read_cache(url: str, prefix: str) -> dict[str, dict[str, str]]:
    """Read every data key of ``prefix`` back (``position:*``, ``marketdata:*``), for tests and tools. O(keys)."""
    client = _client(url)
    try:
        keys = sorted(await _data_keys(client, prefix))
        pipeline = client.pipeline(transaction=False)
        for key in keys:
            pipeline.hgetall(key)
        values = await pipeline.execute()
    finally:
        await client.aclose()
    return dict(zip(keys, values, strict=True))


async def read_sequence(url: str, prefix: str) -> int | None:
    """Return the event sequence the cache of ``prefix`` reflects, or None if it holds none (yet)."""
    client = _client(url)
    try:
        value = await client.get(sequence_key(prefix))
    finally:
        await client.aclose()
    return None if value is None else int(value)
