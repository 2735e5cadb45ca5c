"""``hft demo``: a short, scripted trading session through the real engine, printed as it happens."""

from __future__ import annotations

from collections.abc import Sequence

import typer

from hft.domain.commands import CancelOrder, Command, SubmitOrder
from hft.domain.events import (
    CANCEL_REASON_NAMES,
    BookLevelChanged,
    Event,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
    StopTriggered,
    TradeExecuted,
)
from hft.domain.instruments import Instrument, default_instruments
from hft.domain.matching import queries
from hft.domain.matching.engine import MatchingEngine
from hft.domain.orders import BUY, IOC, MARKET, SELL, SIDE_NAMES, STOP

SYMBOL = "AAPL"
MAKER, TRADER, HEDGER = 1, 2, 3


def _script(aapl: Instrument) -> Sequence[tuple[str, Command]]:
    def ticks(price: str) -> int:
        value = aapl.price_to_ticks(price)
        assert isinstance(value, int)
        return value

    return [
        ("market maker quotes 190.00 / 190.05", SubmitOrder(1, MAKER, SYMBOL, BUY, 300, ticks("190.00"))),
        ("", SubmitOrder(2, MAKER, SYMBOL, SELL, 300, ticks("190.05"))),
        ("and a second level on each side", SubmitOrder(3, MAKER, SYMBOL, SELL, 500, ticks("190.10"))),
        ("", SubmitOrder(4, MAKER, SYMBOL, BUY, 500, ticks("189.95"))),
        (
            "hedger rests a sell stop at 189.95",
            SubmitOrder(5, HEDGER, SYMBOL, SELL, 200, 0, STOP, stop_price=ticks("189.95")),
        ),
        ("trader lifts 400 at market", SubmitOrder(6, TRADER, SYMBOL, BUY, 400, 0, MARKET, IOC)),
        (
            "trader sells 400 down to 189.95, IOC",
            SubmitOrder(7, TRADER, SYMBOL, SELL, 400, ticks("189.95"), time_in_force=IOC),
        ),
        ("a market order cannot rest (GTC)", SubmitOrder(8, TRADER, SYMBOL, BUY, 10, 0, MARKET)),
        ("maker cancels order #1 again", CancelOrder(1, MAKER)),
    ]


def demo() -> None:
    """Run a scripted session on AAPL through the matching engine and print every event and the book."""
    instruments = default_instruments()
    aapl = next(instrument for instrument in instruments if instrument.symbol == SYMBOL)
    engine = MatchingEngine(instruments)
    typer.echo(f"hft demo: {SYMBOL}, tick {aapl.tick_size}, lot {aapl.lot_size}")
    typer.echo(f"  at the edge, 190.005 becomes: {aapl.price_to_ticks('190.005')}\n")
    for ts, (caption, command) in enumerate(_script(aapl), start=1):
        if caption:
            typer.secho(f"# {caption}", bold=True)
        for event in engine.execute(command, ts * 1_000_000_000):
            typer.echo(f"  {_describe(event, aapl)}")
    top = queries.depth(engine, SYMBOL, 5)
    assert top is not None
    typer.secho("\nbook now (bid size, price, ask size):", bold=True)
    if not top.bids and not top.asks:
        typer.echo("  (empty)")
    for level in top.asks[::-1]:
        typer.echo(f"  {'':>8} {aapl.ticks_to_price(level.price):>9} {level.quantity:>6}")
    for level in top.bids:
        typer.echo(f"  {level.quantity:>8} {aapl.ticks_to_price(level.price):>9}")


def _describe(event: Event, instrument: Instrument) -> str:
    price = instrument.ticks_to_price
    if isinstance(event, OrderAccepted):
        return f"accepted   #{event.order_id} {SIDE_NAMES[event.side]} {event.quantity} (account {event.account})"
    if isinstance(event, TradeExecuted):
        return (
            f"trade      {event.quantity} @ {price(event.price)}  taker #{event.taker_order_id}"
            f" maker #{event.maker_order_id}"
        )
    if isinstance(event, OrderCancelled):
        return f"cancelled  #{event.order_id} {event.cancelled_quantity} ({CANCEL_REASON_NAMES[event.reason]})"
    if isinstance(event, OrderRejected):
        return f"rejected   #{event.order_id} {event.reason}: {event.text}"
    if isinstance(event, StopTriggered):
        return f"triggered  #{event.order_id} at {price(event.trigger_price)}"
    if isinstance(event, BookLevelChanged):
        return (
            f"book       {SIDE_NAMES[event.side]} {price(event.price)} -> {event.quantity} ({event.order_count} orders)"
        )
    return repr(event)
