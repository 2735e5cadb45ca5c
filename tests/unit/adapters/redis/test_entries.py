"""What the cache holds, computed from a real exchange: the same text as the REST API, sums kept per change."""

from __future__ import annotations

import random

from tests.unit.service.tape import ALICE, BOB, CAROL, Tape

from hft.adapters.redis.entries import Holdings, entries, market_fields, position_fields
from hft.domain.commands import SubmitOrder
from hft.domain.exchange import queries
from hft.domain.exchange.commands import SetInstrumentHalt
from hft.domain.exchange.events import PositionChanged
from hft.domain.orders import BUY, SELL
from hft.gateways.rest.convert import position_response
from hft.service.market import MarketData


def _order(account: int, side: int, quantity: int, price: int, symbol: str = "AAPL") -> SubmitOrder:
    return SubmitOrder(0, account, symbol, side, quantity, price)


def _traded(tape: Tape) -> Tape:
    """ALICE sells 100 AAPL to BOB at 150.50 and 30 at 150.00, then buys 130 back from CAROL at 151.00 (flat)."""
    tape.accounts(ALICE, BOB, CAROL, maker_fee_bps=1, taker_fee_bps=3)
    tape.submit(ALICE, SELL, 100, 15_050)
    tape.submit(BOB, BUY, 100, 15_050)
    tape.submit(ALICE, SELL, 30, 15_000)
    tape.submit(BOB, BUY, 30, 15_000)
    tape.submit(CAROL, SELL, 130, 15_100)
    tape.submit(ALICE, BUY, 130, 15_100)
    return tape


def test_position_fields_are_the_rest_apis_texts_with_the_sequence_given() -> None:
    tape = _traded(Tape())
    by_symbol = {instrument.symbol: instrument for instrument in tape.instruments}

    for account in (ALICE, BOB, CAROL):
        view = queries.position(tape.exchange, account, "AAPL")
        assert view is not None
        shown = position_response(view, by_symbol["AAPL"])
        fields = position_fields(tape.exchange, account, "AAPL", 42)

        assert fields["net_quantity"] == shown.quantity
        assert fields["average_price"] == (shown.avg_price or "")
        assert fields["realized_pnl"] == shown.realized_pnl
        assert fields["fees_paid"] == shown.fees
        assert fields["sequence"] == "42"


def test_a_position_back_to_zero_keeps_its_key_with_net_zero_and_no_average() -> None:
    tape = _traded(Tape())

    fields = entries(tape.exchange, MarketData(tape.instruments), "p:")["p:position:1:AAPL"]

    assert (fields["net_quantity"], fields["average_price"], fields["open_cost"]) == ("0", "", "0")
    assert fields["realized_pnl"] == "-80"  # 15050 + 4500 received, 19630 paid to buy back (fees apart)


def test_fractional_lots_are_shown_in_units_of_the_instrument() -> None:
    tape = Tape()
    tape.accounts(ALICE, BOB)
    tape.submit(ALICE, SELL, 5, 6_500_000, symbol="BTC-USD")
    tape.submit(BOB, BUY, 5, 6_500_000, symbol="BTC-USD")

    content = entries(tape.exchange, MarketData(tape.instruments), "")

    assert content["position:2:BTC-USD"]["net_quantity"] == "0.0005"
    assert content["position:2:BTC-USD"]["average_price"] == "65000"
    assert content["position:BTC-USD"]["open_interest"] == "0.0005"


def test_market_fields_show_empty_sides_as_empty_text_and_the_last_trade() -> None:
    tape = Tape()
    tape.accounts(ALICE, BOB)
    market = MarketData(tape.instruments)
    assert market_fields(tape.exchange, market, "AAPL") == {
        "best_bid": "",
        "best_bid_quantity": "",
        "best_ask": "",
        "best_ask_quantity": "",
        "last_price": "",
        "last_quantity": "",
        "last_trade_ts": "",
        "volume": "0",
        "trades": "0",
        "halted": "false",
        "sequence": "0",
    }

    market.apply(tape.acks(_order(ALICE, SELL, 100, 15_050), _order(BOB, BUY, 40, 15_050)))
    market.apply(tape.acks(_order(BOB, BUY, 10, 15_000), SetInstrumentHalt("AAPL", True)))
    fields = market_fields(tape.exchange, market, "AAPL")

    assert (fields["best_bid"], fields["best_bid_quantity"]) == ("150.00", "10")
    assert (fields["best_ask"], fields["best_ask_quantity"]) == ("150.50", "60")
    assert (fields["last_price"], fields["last_quantity"], fields["volume"], fields["trades"]) == (
        "150.50",
        "40",
        "40",
        "1",
    )
    assert fields["last_trade_ts"] == str(market.symbols["AAPL"].trades[-1].ts)
    assert fields["halted"] == "true"
    assert fields["sequence"] == str(market.symbols["AAPL"].book_sequence)


def test_holdings_kept_per_change_equal_holdings_taken_from_the_exchange() -> None:
    tape = Tape()
    accounts = list(range(1, 9))
    tape.accounts(*accounts)
    live = Holdings.of(tape.exchange)
    chance = random.Random(7)
    for _ in range(400):
        symbol = chance.choice(["AAPL", "MSFT"])
        side = chance.choice([BUY, SELL])
        account = chance.choice(accounts)
        command = _order(account, side, chance.randint(1, 50), chance.randint(9_990, 10_010), symbol)
        for ack in tape.acks(command):
            for event in ack.events:
                if isinstance(event, PositionChanged):
                    live.apply(event.account, event.symbol, event.net_quantity, event.sequence)

    taken = Holdings.of(tape.exchange, live.sequences)

    assert live.nets == taken.nets
    assert live.sequences == taken.sequences
    for symbol in ("AAPL", "MSFT"):
        mine, theirs = live.symbols[symbol], taken.symbols[symbol]
        assert (mine.open_interest, mine.long_accounts, mine.short_accounts, mine.sequence) == (
            theirs.open_interest,
            theirs.long_accounts,
            theirs.short_accounts,
            theirs.sequence,
        )
        nets = [net for (_, held), net in live.nets.items() if held == symbol]
        assert mine.open_interest == sum(net for net in nets if net > 0) > 0
        assert mine.long_accounts == sum(net > 0 for net in nets)
        assert mine.short_accounts == sum(net < 0 for net in nets)
