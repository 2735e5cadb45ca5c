"""A real exchange and trading history that turn commands into the row batches the SQL projection writes.

Commands run through ``Exchange.apply`` exactly as the durable core runs
them; each becomes an ``Ack`` and ``TradingHistory.apply`` folds them in, so
the rows come from real events, not hand-made fakes.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from hft.adapters.sql.rows import RowBatch, rows_from_changes
from hft.domain.commands import AmendOrder, CancelOrder, Command, SubmitOrder
from hft.domain.events import Event, OrderAccepted, OrderRejected
from hft.domain.exchange.accounts import REDUCING
from hft.domain.exchange.commands import AdjustCash, CreateAccount, SetAccountState
from hft.domain.exchange.exchange import Exchange
from hft.domain.exchange.money import CASH_SCALE
from hft.domain.instruments import Instrument, equity
from hft.domain.orders import BUY, GTC, IOC, LIMIT, MARKET, SELL, STOP
from hft.engine.core import Ack
from hft.service.history import TradingHistory

ALICE, BOB, CAROL = 1, 2, 3
AAPL, MSFT, BTC = "AAPL", "MSFT", "BTC-USD"
RICH = 1_000_000 * CASH_SCALE


def instruments() -> list[Instrument]:
    """Return two equities (cent ticks, one-share lots) and a crypto pair with lots of 0.0001 BTC."""
    return [
        equity(AAPL),
        equity(MSFT),
        Instrument(BTC, Decimal("0.01"), Decimal("0.0001"), max_quantity=10_000_000, max_price=10**9),
    ]


class Venue:
    """An ``Exchange`` and its ``TradingHistory``; ``take_batch`` folds the acks so far into one ``RowBatch``."""

    STEP = 1_000_000_123  # ns between commands: about a second, with sub-microsecond digits that must not matter

    def __init__(self, ts: int = 1_767_225_600_000_000_000) -> None:  # 2026-01-01T00:00:00Z
        self.instruments = instruments()
        self.exchange = Exchange(self.instruments)
        self.history = TradingHistory(self.instruments)
        self.ts = ts
        self.command_sequence = 0
        self.acks: list[Ack] = []

    def apply(self, command: Command) -> list[Event]:
        """Run ``command`` at the next ts and keep its ack for the next batch; return its events."""
        self.ts += self.STEP
        self.command_sequence += 1
        events = self.exchange.apply(command, self.ts)
        self.acks.append(Ack(self.command_sequence, self.ts, command, events))
        return events

    def take_batch(self) -> RowBatch:
        """Fold the acks since the last call into the history; return the rows they changed."""
        acks, self.acks = self.acks, []
        changes = self.history.apply(acks)
        return rows_from_changes(changes, self.instruments)

    def open_account(self, account: int, maker_fee_bps: int = 0, taker_fee_bps: int = 0) -> None:
        """Create a rich account."""
        self.apply(CreateAccount(account, f"account {account}", RICH, 0, maker_fee_bps, taker_fee_bps))

    def submit(
        self,
        account: int,
        side: int,
        quantity: int,
        price: int = 0,
        *,
        symbol: str = AAPL,
        order_type: int = LIMIT,
        time_in_force: int = GTC,
        stop_price: int = 0,
        client_order_id: str = "",
    ) -> int:
        """Submit an order; return the order id the exchange gave it (a rejected one's too)."""
        command = SubmitOrder(
            0,
            account,
            symbol,
            side,
            quantity,
            price=price,
            order_type=order_type,
            time_in_force=time_in_force,
            stop_price=stop_price,
            client_order_id=client_order_id,
        )
        first = self.apply(command)[0]
        assert isinstance(first, OrderAccepted | OrderRejected), type(first).__name__
        return first.order_id


def busy_day(venue: Venue) -> list[RowBatch]:
    """Drive a little of everything through ``venue``; return the row batches, a few commands each.

    Accounts with fees, a partial then a full fill at 150.01, an amend, a cancel, a
    market order (no price), a waiting stop (no limit price), a rejection for an
    unknown symbol, BTC fills of 0.0001, a cash adjustment and a state change.
    """
    batches: list[RowBatch] = []
    venue.open_account(ALICE, maker_fee_bps=1, taker_fee_bps=3)
    venue.open_account(BOB, maker_fee_bps=2, taker_fee_bps=5)
    venue.open_account(CAROL)
    batches.append(venue.take_batch())

    venue.submit(BOB, SELL, 100, 15_001, client_order_id="bob-ask")
    venue.submit(ALICE, BUY, 40, 15_001, client_order_id="alice-1")  # partial fill of BOB's ask
    batches.append(venue.take_batch())

    venue.submit(ALICE, BUY, 60, 15_001, client_order_id="alice-2")  # fills the rest of it
    bid = venue.submit(CAROL, BUY, 10, 14_990)
    venue.apply(AmendOrder(bid, CAROL, 7, price=14_995))
    batches.append(venue.take_batch())

    venue.apply(CancelOrder(bid, CAROL))
    venue.submit(BOB, SELL, 5, 15_100)
    venue.submit(ALICE, BUY, 2, 0, order_type=MARKET, time_in_force=IOC)
    venue.submit(CAROL, SELL, 3, 0, order_type=STOP, stop_price=14_000)
    venue.submit(ALICE, BUY, 1, 100, symbol="NOPE")
    batches.append(venue.take_batch())

    venue.submit(BOB, SELL, 3, 9_000_000, symbol=BTC)  # 0.0003 BTC at 90000.00
    venue.submit(ALICE, BUY, 1, 9_000_000, symbol=BTC)  # 0.0001 BTC
    venue.apply(AdjustCash(CAROL, 12_345_678))  # 0.12345678 in cash
    venue.apply(SetAccountState(BOB, REDUCING))
    batches.append(venue.take_batch())
    return batches


def steady_trading(venue: Venue, batches: int, commands_per_batch: int = 6) -> Iterator[RowBatch]:
    """Yield ``batches`` row batches of a deterministic flow: resting offers, bids that cross them, cancels.

    The accounts are opened in the first batch.
    """
    for account in (ALICE, BOB, CAROL):
        venue.open_account(account, maker_fee_bps=1, taker_fee_bps=2)
    step = 0
    for _ in range(batches):
        for _ in range(commands_per_batch):
            step += 1
            price = 15_000 + step % 17
            if step % 3 == 0:
                venue.submit(ALICE, BUY, 1 + step % 4, price)
            elif step % 3 == 1:
                venue.submit(BOB, SELL, 1 + step % 5, price, symbol=BTC if step % 2 else AAPL)
            else:
                order = venue.submit(CAROL, BUY, 2, price - 30)
                venue.apply(CancelOrder(order, CAROL))
        yield venue.take_batch()
