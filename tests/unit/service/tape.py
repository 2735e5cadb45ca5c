"""A real exchange whose acks feed the service's read models, one ack per command, as the durable core makes them."""

from __future__ import annotations

from hft.domain.commands import Command, SubmitOrder
from hft.domain.events import OrderAccepted, OrderRejected
from hft.domain.exchange.commands import CreateAccount
from hft.domain.exchange.exchange import Exchange
from hft.domain.exchange.money import CASH_SCALE
from hft.domain.instruments import Instrument, default_instruments
from hft.domain.orders import GTC, LIMIT
from hft.engine.core import Ack
from hft.service.history import Changes, TradingHistory

ALICE, BOB, CAROL = 1, 2, 3
RICH = 1_000_000 * CASH_SCALE
START_TS = 1_767_225_600_000_000_000
STEP_NS = 1_000_000
# One lot of AAPL at one tick is 0.01 in cash: 10**6 cash units.
CASH_PER_TICK_LOT = 10**6


class Tape:
    """An exchange and its history: commands go in as acks, one ack per command."""

    def __init__(self, instruments: list[Instrument] | None = None) -> None:
        self.instruments = instruments or default_instruments()
        self.exchange = Exchange(self.instruments)
        self.history = TradingHistory(self.instruments)
        self.ts = START_TS
        self.sequence = 0

    def acks(self, *commands: Command) -> list[Ack]:
        """Apply ``commands`` to the exchange (one ms apart); return their acks without folding them."""
        acks = []
        for command in commands:
            self.ts += STEP_NS
            self.sequence += 1
            acks.append(Ack(self.sequence, self.ts, command, self.exchange.apply(command, self.ts)))
        return acks

    def run(self, *commands: Command) -> Changes:
        """Apply ``commands`` and fold their acks into the history as one batch; return what changed."""
        return self.history.apply(self.acks(*commands))

    def accounts(self, *accounts: int, maker_fee_bps: int = 0, taker_fee_bps: int = 0, cash: int = RICH) -> None:
        """Open rich accounts."""
        self.run(*(CreateAccount(a, f"trader-{a}", cash, 0, maker_fee_bps, taker_fee_bps) for a in accounts))

    def submit(
        self,
        account: int,
        side: int,
        quantity: int,
        price: int = 0,
        *,
        symbol: str = "AAPL",
        order_type: int = LIMIT,
        time_in_force: int = GTC,
        stop_price: int = 0,
        expire_ts: int = 0,
        client_order_id: str = "",
    ) -> int:
        """Submit an order and fold its ack; return the order id the exchange gave it (a rejected one's too)."""
        command = SubmitOrder(
            0,
            account,
            symbol,
            side,
            quantity,
            price,
            order_type,
            time_in_force,
            stop_price,
            expire_ts=expire_ts,
            client_order_id=client_order_id,
        )
        [ack] = self.acks(command)
        self.history.apply([ack])
        first = next(event for event in ack.events if isinstance(event, OrderAccepted | OrderRejected))
        return first.order_id
