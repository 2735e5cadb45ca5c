"""The venue's database projection: rows from every batch of changes, written in the background.

The journal is the source of truth. The database is the query side for
other systems; when it is down, trading goes on and the rows wait in
memory, and when it comes back they are written in order, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from hft.adapters.sql.rows import rows_from_changes
from hft.adapters.sql.store import SqlStore
from hft.adapters.sql.writer import ProjectionWriter
from hft.config.urls import without_password
from hft.domain.exchange.events import AccountChanged, PositionChanged
from hft.domain.exchange.exchange import Exchange
from hft.domain.instruments import Instrument
from hft.observability.metrics import Metrics
from hft.service.history import Changes, TradingHistory

log = logging.getLogger("hft.database")

OPEN_TIMEOUT_SECONDS = 10.0
RETRY_SECONDS = 1.0


class Database:
    """Keeps the SQL tables current from the venue's changes without ever blocking it."""

    def __init__(self, url: str, instruments: Iterable[Instrument], metrics: Metrics) -> None:
        self.url = url
        self.instruments = list(instruments)
        self.metrics = metrics
        self.store = SqlStore(url, self.instruments)
        self.writer = ProjectionWriter(self.store)
        self._starting: asyncio.Task[None] | None = None

    async def open(self) -> int:
        """Migrate the schema and return the last event sequence already written (0 if unknown or unreachable)."""
        try:
            await asyncio.wait_for(self.store.start(), OPEN_TIMEOUT_SECONDS)
            return await asyncio.wait_for(self.store.last_sequence(), OPEN_TIMEOUT_SECONDS)
        except Exception as error:
            log.error(
                "database %s unreachable at start-up (%s); trading goes on, rows wait",
                without_password(self.url),
                error,
            )
            return 0

    def enqueue(self, changes: Changes) -> None:
        """Queue the rows of one batch of changes (never blocks)."""
        if changes.orders or changes.executions or changes.positions or changes.accounts:
            self.writer.enqueue(rows_from_changes(changes, self.instruments))

    def catch_up_if_needed(self, history: TradingHistory, exchange: Exchange, ts: int) -> None:
        """After an outage long enough to overflow the queue, rebuild the rows it dropped, once writes succeed.

        Costs one pass over the history (O(orders + executions)), once per such outage.
        """
        writer = self.writer
        since = writer.needs_catch_up_from
        if since is None or not writer.healthy:
            return
        changes = Changes()
        changes.orders = {order.order_id: order for order in history.orders.values() if order.sequence > since}
        changes.executions = [
            execution
            for executions in history.executions_by_account.values()
            for execution in executions
            if execution.sequence > since
        ]
        sequence = history.last_sequence
        for account in exchange.accounts.values():
            changes.accounts.append(
                AccountChanged(
                    sequence,
                    ts,
                    account.account_id,
                    account.name,
                    account.cash,
                    account.credit_limit,
                    account.maker_fee_bps,
                    account.taker_fee_bps,
                    account.state,
                )
            )
            for position in account.positions.values():
                changes.positions[(account.account_id, position.symbol)] = PositionChanged(
                    sequence,
                    ts,
                    account.account_id,
                    position.symbol,
                    position.net,
                    position.open_cost,
                    position.realized,
                    position.fees,
                    account.cash,
                )
        changes.last_sequence = sequence
        log.warning("database caught up by rebuilding rows after sequence %d", since)
        writer.reset_after_catch_up(rows_from_changes(changes, self.instruments))

    def start(self) -> None:
        """Start writing queued rows in the background, as soon as the database can be reached."""
        self._starting = asyncio.get_running_loop().create_task(self._start_writer(), name="hft-database-start")

    async def _start_writer(self) -> None:
        while True:
            try:
                await self.writer.start()
                return
            except Exception as error:
                log.warning(
                    "database %s unreachable (%s); retrying in %.0f s", without_password(self.url), error, RETRY_SECONDS
                )
                await asyncio.sleep(RETRY_SECONDS)

    async def stop(self) -> None:
        """Flush what is queued (a few seconds at most) and close; the next start catches up the rest."""
        if self._starting is not None and not self._starting.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._starting), OPEN_TIMEOUT_SECONDS)
            self._starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._starting
        await self.writer.stop(timeout=10.0)

    def health(self) -> dict[str, object]:
        """Report whether writes succeed and how far behind the tables are."""
        writer = self.writer
        connected = self._starting is not None and self._starting.done()
        return {
            "status": "up" if writer.healthy and connected else "down",
            "url": without_password(self.url),
            "last_written_sequence": writer.last_written_sequence,
            "lag": writer.lag,
            "error": writer.last_error,
        }
