"""Book changes as every streaming gateway sends them: the new quantity of each price level a batch touched."""

from __future__ import annotations

from collections.abc import Iterable

from hft.domain.events import BookLevelChanged
from hft.domain.instruments import Instrument
from hft.domain.orders import BUY
from hft.gateways.rest.convert import price_text, quantity_text

Levels = list[tuple[str, str]]


def changed_levels(instrument: Instrument, changes: Iterable[BookLevelChanged]) -> tuple[Levels, Levels]:
    """Return the bids and asks ``changes`` leave behind, as ``(price, quantity)`` text; quantity "0": level gone.

    A level changed several times in one batch appears once, with its last quantity. O(changes).
    """
    latest: dict[tuple[int, int], int] = {}
    for change in changes:
        latest[(change.side, change.price)] = change.quantity
    bids: Levels = []
    asks: Levels = []
    for (side, price), quantity in latest.items():
        (bids if side == BUY else asks).append((price_text(instrument, price), quantity_text(instrument, quantity)))
    return bids, asks
