"""Post-only orders add liquidity or are refused; they never take."""

from __future__ import annotations

import pytest

from hft.core import rejects
from hft.domain.events import BookLevelChanged, OrderRejected, OrderReplaced
from hft.domain.orders import BUY, DAY, FOK, GTC, GTD, IOC, LIMIT, MARKET, SELL, STOP_LIMIT, STP_CANCEL_OLDEST
from hft.testing.venue import ALICE, BOB, Venue


def test_post_only_that_does_not_cross_rests_like_any_limit(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_100, account=BOB)

    events = venue.submit(2, BUY, 10, 10_099, post_only=True, account=ALICE)

    assert venue.kinds(events) == ["OrderAccepted", "BookLevelChanged"]
    view = venue.order(2)
    assert view is not None
    assert view.post_only is True
    assert venue.bids() == [(10_099, 10, 1)]


def test_post_only_on_an_empty_contra_side_rests(venue: Venue) -> None:
    events = venue.submit(1, SELL, 10, 1, post_only=True)

    assert venue.kinds(events) == ["OrderAccepted", "BookLevelChanged"]


@pytest.mark.parametrize(("side", "price"), [(BUY, 10_100), (BUY, 10_500), (SELL, 10_000), (SELL, 9_000)])
def test_post_only_that_would_take_is_rejected_and_changes_nothing(venue: Venue, side: int, price: int) -> None:
    venue.submit(1, SELL, 10, 10_100, account=BOB)
    venue.submit(2, BUY, 10, 10_000, account=BOB)
    before = venue.snapshot()

    events = venue.submit(3, side, 10, price, post_only=True, account=ALICE)

    assert venue.kinds(events) == ["OrderRejected"]
    rejected = venue.expect(events[0], OrderRejected, order_id=3, account=ALICE, code=rejects.POST_ONLY_WOULD_TAKE)
    assert rejected.reason == "POST_ONLY_WOULD_TAKE"
    assert venue.snapshot() == before
    assert venue.last_price() is None


def test_post_only_is_refused_even_when_the_only_contra_order_is_the_senders_own(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_000, account=ALICE)

    events = venue.submit(2, BUY, 10, 10_000, post_only=True, self_trade_prevention=STP_CANCEL_OLDEST, account=ALICE)

    venue.expect(events[0], OrderRejected, code=rejects.POST_ONLY_WOULD_TAKE)
    assert venue.live(ALICE) == [1]


@pytest.mark.parametrize("time_in_force", [DAY, GTD])
def test_post_only_may_rest_as_day_or_gtd(venue: Venue, time_in_force: int) -> None:
    expire_ts = 10**12 if time_in_force == GTD else 0
    events = venue.submit(1, BUY, 10, 10_000, post_only=True, time_in_force=time_in_force, expire_ts=expire_ts)

    assert venue.kinds(events) == ["OrderAccepted", "BookLevelChanged"]


@pytest.mark.parametrize(
    ("order_type", "time_in_force", "price", "stop_price"),
    [(LIMIT, IOC, 10_000, 0), (LIMIT, FOK, 10_000, 0), (MARKET, IOC, 0, 0), (STOP_LIMIT, GTC, 10_000, 9_000)],
)
def test_post_only_on_an_order_that_cannot_rest_is_invalid(
    venue: Venue, order_type: int, time_in_force: int, price: int, stop_price: int
) -> None:
    events = venue.submit(
        1, BUY, 10, price, order_type=order_type, time_in_force=time_in_force, stop_price=stop_price, post_only=True
    )

    venue.expect(events[0], OrderRejected, order_id=1, code=rejects.INVALID_POST_ONLY)


def test_post_only_amend_that_would_cross_is_rejected_and_the_order_keeps_its_place(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_100, account=BOB)
    venue.submit(2, BUY, 10, 10_000, post_only=True, account=ALICE)
    venue.submit(3, BUY, 10, 10_000, account=BOB)
    before = venue.snapshot()

    events = venue.amend(2, 10, price=10_100, account=ALICE)

    assert venue.kinds(events) == ["OrderRejected"]
    venue.expect(events[0], OrderRejected, order_id=2, account=ALICE, code=rejects.POST_ONLY_WOULD_TAKE)
    assert venue.snapshot() == before
    assert venue.queue(BUY, 10_000) == [2, 3]


def test_post_only_amend_to_a_price_that_does_not_cross_is_accepted(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_100, account=BOB)
    venue.submit(2, BUY, 10, 10_000, post_only=True, account=ALICE)

    events = venue.amend(2, 10, price=10_050, account=ALICE)

    assert venue.kinds(events) == ["BookLevelChanged", "OrderReplaced", "BookLevelChanged"]
    venue.expect(events[1], OrderReplaced, price=10_050, priority_kept=False)
    venue.expect(events[2], BookLevelChanged, side=BUY, price=10_050, quantity=10, order_count=1)


def test_post_only_quantity_amend_at_the_same_price_is_not_a_take(venue: Venue) -> None:
    venue.submit(1, SELL, 10, 10_100, account=BOB)
    venue.submit(2, BUY, 10, 10_000, post_only=True, account=ALICE)

    events = venue.amend(2, 25, account=ALICE)

    venue.expect(events[1], OrderReplaced, quantity=25, leaves=25, priority_kept=False)
    assert venue.bids() == [(10_000, 25, 1)]
    venue.expect(events[-1], BookLevelChanged, price=10_000, quantity=25)
