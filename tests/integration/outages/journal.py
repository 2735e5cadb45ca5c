"""What the journal says every projection must hold: the commands replayed once, then read by each comparison."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.adapters.sql.reading import expected_tables

from hft.adapters.sql.rows import RowBatch, rows_from_changes
from hft.domain.exchange.events import PositionChanged
from hft.domain.exchange.exchange import Exchange
from hft.domain.instruments import default_instruments
from hft.engine.core import Ack
from hft.engine.replay import replay_batches
from hft.service.history import TradingHistory
from hft.service.market import MarketData
from hft.streams.schema import Message
from hft.testing.streams import messages_by_stream

Tables = dict[str, list[dict[str, Any]]]


class Journal:
    """The journal of a data directory replayed up to ``sequence``: its acks and the exchange they leave.

    Reading a running server's journal is safe up to the sequence it reported:
    records are only ever appended. Cost: one replay, O(journaled commands).
    """

    def __init__(self, data_dir: Path, sequence: int) -> None:
        self.sequence = sequence
        self.instruments = default_instruments()
        self.exchange = Exchange(self.instruments)
        self.batches: list[list[Ack]] = list(
            replay_batches(data_dir / "journal", self.instruments, sequence, exchange=self.exchange)
        )

    @property
    def last_event(self) -> int:
        """The sequence of the last event the commands produced (0 if none)."""
        for acks in reversed(self.batches):
            for ack in reversed(acks):
                if ack.events:
                    return ack.events[-1].sequence
        return 0

    def messages(self) -> dict[str, list[Message]]:
        """Return, per stream, the messages every broker must hold: in order, each once."""
        return messages_by_stream(self.batches, self.instruments)

    def tables(self) -> Tables:
        """Return the rows every table must hold, ``projection_state`` at the last event that changed a row.

        The venue writes the rows of each durable batch; a batch's ``last_sequence``
        may run past its last row (a refused cancel changes no row), so the stored
        ``projection_state`` lies between this and ``last_event``.
        """
        history = TradingHistory(self.instruments)
        written: list[RowBatch] = []
        for acks in self.batches:
            for ack in acks:
                changes = history.apply([ack])
                if changes.orders or changes.executions or changes.positions or changes.accounts:
                    written.append(rows_from_changes(changes, self.instruments))
        return expected_tables(written)

    def position_sequences(self) -> dict[tuple[int, str], int]:
        """Return the event sequence of each position's last change, by (account, symbol)."""
        return {
            (event.account, event.symbol): event.sequence
            for acks in self.batches
            for ack in acks
            for event in ack.events
            if isinstance(event, PositionChanged)
        }

    def market(self) -> MarketData:
        """Return the market data (tapes, statistics) the acks leave."""
        market = MarketData(self.instruments)
        for acks in self.batches:
            market.apply(acks)
        return market
