"""The FIX application's start-up catch-up and cancel-on-disconnect.

Catch-up: each session's store says up to which event its execution
reports are stored (its cursor). After a clean stop every cursor is at the
end of the journal and nothing is replayed: the working orders come from
the read model. After a crash some reports may be missing; the journal is
replayed (in a thread, once, from its start, as every projection does) to
rebuild the working orders event by event and to produce exactly the
reports beyond each cursor, with the same ExecIDs. Updates that arrive
meanwhile wait and follow, so nothing is lost or sent twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from pathlib import Path

from hft.domain.commands import CancelOrder, Command
from hft.domain.instruments import Instrument
from hft.engine.replay import replay_batches
from hft.gateways.fix.application import FixApplication
from hft.gateways.fix.reports import OrderTracker, Report
from hft.gateways.fix.session import Session
from hft.gateways.fix.store import ENTERED, REPLACED

log = logging.getLogger("hft.fix")


async def catch_up(application: FixApplication) -> None:
    """Subscribe to the venue and bring every session's stored reports up to date; send nothing yet.

    Cost: nothing after a clean stop; one replay of the journal after a crash.
    """
    venue = application.venue
    sessions = list(application.sessions.values())
    application.waiting = []
    venue.subscribe(application.on_update)
    core = venue.core
    present = core.exchange.engine.sequence * 4 + 3
    for session in sessions:
        if session.store.fresh:
            session.store.cursor = present
    behind = min((session.store.cursor for session in sessions), default=present)
    if behind < present:
        started = asyncio.get_running_loop().time()
        tracker, reports = await asyncio.to_thread(
            replay_reports,
            core.core.journal_dir,
            venue.instruments,
            application.tracker.accounts,
            core.core.applied_sequence,
            behind,
        )
        application.tracker = tracker
        application.deliver(reports)
        log.info(
            "fix: replayed the journal for %d missing execution reports in %.2f s",
            len(reports),
            asyncio.get_running_loop().time() - started,
        )
    else:
        for account in application.by_account:
            application.tracker.seed(venue.history.open_orders(account))
    _apply_notes(application, sessions)
    for session in sessions:
        session.store.cursor = max(session.store.cursor, present)
    waiting, application.waiting = application.waiting, None
    for update in waiting:
        application.on_update(update)
    for session in sessions:
        session.store.commit()


def replay_reports(
    journal_dir: Path, instruments: Iterable[Instrument], accounts: Iterable[int], last_sequence: int, behind: int
) -> tuple[OrderTracker, list[Report]]:
    """Replay journaled commands 1..``last_sequence``; return the working orders and the reports beyond ``behind``.

    Runs in a thread: it touches nothing but the journal files and what it creates.
    """
    listed = list(instruments)
    tracker = OrderTracker(accounts, {instrument.symbol: instrument for instrument in listed})
    tracker.silent_through = behind
    reports: list[Report] = []
    for acks in replay_batches(journal_dir, listed, last_sequence):
        for ack in acks:
            for event in ack.events:
                tracker.apply(event, ack.command, None, reports)
    tracker.silent_through = 0
    return tracker, reports


def _apply_notes(application: FixApplication, sessions: list[Session]) -> None:
    """Restore which working orders each session entered and the ClOrdIDs replaces gave them."""
    orders = application.tracker.orders
    for session in sessions:
        account = session.config.account
        for kind, order_id, client_order_id in session.store.order_notes:
            order = orders.get(order_id)
            if kind == ENTERED and order is not None:
                order.origin = session.name
            elif kind == REPLACED:
                application.aliases[(account, client_order_id)] = order_id
                if order is not None:
                    order.client_order_id = client_order_id


async def cancel_on_disconnect(application: FixApplication, session: Session) -> int:
    """Cancel the working orders ``session`` entered, once its requests still in the core are done.

    Does nothing if the session has logged on again meanwhile. Returns how many orders it cancelled.
    """
    name = session.name
    while True:
        waiting = set(application.session_futures[name])
        blocked = application.blocked.get(name)
        if blocked is not None:
            waiting.add(blocked)
        if not waiting:
            break
        await asyncio.gather(*waiting, return_exceptions=True)
        await asyncio.sleep(0)  # let the done-callbacks (unblocking, cleanup) run first
    if session.logged_on:
        return 0
    account = session.config.account
    commands: list[Command] = [
        CancelOrder(order.order_id, account) for order in application.tracker.orders.values() if order.origin == name
    ]
    if commands:
        await application.venue.core.execute_many(commands)
        log.info("fix %s: cancel on disconnect: %d orders", name, len(commands))
    return len(commands)
