"""Commands: immutable requests to the engine, named as verbs.

Prices are ticks, quantities lots, times nanoseconds. A command carries no
timestamp of its own: the sequencer stamps it when it hands it to
``MatchingEngine.execute``.
"""

from __future__ import annotations

from typing import Final

from mypy_extensions import i64, mypyc_attr

from hft.domain.orders import GTC, LIMIT, STP_DEFAULT


@mypyc_attr(acyclic=True)
class Command:
    """Base of every engine command."""


@mypyc_attr(acyclic=True)
class SubmitOrder(Command):
    """Enter a new order. ``order_id`` is assigned upstream and strictly increasing.

    ``price`` is 0 for MARKET and STOP, ``stop_price`` is 0 unless STOP or
    STOP_LIMIT, ``display_quantity`` > 0 makes an iceberg, ``expire_ts`` is
    set only for GTD.
    """

    def __init__(
        self,
        order_id: i64,
        account: i64,
        symbol: str,
        side: i64,
        quantity: i64,
        price: i64 = 0,
        order_type: i64 = LIMIT,
        time_in_force: i64 = GTC,
        stop_price: i64 = 0,
        display_quantity: i64 = 0,
        post_only: bool = False,
        self_trade_prevention: i64 = STP_DEFAULT,
        expire_ts: i64 = 0,
        client_order_id: str = "",
    ) -> None:
        self.order_id: Final = order_id
        self.account: Final = account
        self.symbol: Final = symbol
        self.side: Final = side
        self.quantity: Final = quantity
        self.price: Final = price
        self.order_type: Final = order_type
        self.time_in_force: Final = time_in_force
        self.stop_price: Final = stop_price
        self.display_quantity: Final = display_quantity
        self.post_only: Final = post_only
        self.self_trade_prevention: Final = self_trade_prevention
        self.expire_ts: Final = expire_ts
        self.client_order_id: Final = client_order_id


@mypyc_attr(acyclic=True)
class CancelOrder(Command):
    """Cancel a live order of ``account`` (resting or a waiting stop)."""

    def __init__(self, order_id: i64, account: i64) -> None:
        self.order_id: Final = order_id
        self.account: Final = account


@mypyc_attr(acyclic=True)
class AmendOrder(Command):
    """Cancel-replace a live order in place, keeping its id.

    ``quantity`` is the new total quantity (filled part included); ``price``
    and ``stop_price`` are the new values, 0 meaning "unchanged". Reducing the
    quantity at the same price keeps time priority; anything else loses it.
    """

    def __init__(self, order_id: i64, account: i64, quantity: i64, price: i64 = 0, stop_price: i64 = 0) -> None:
        self.order_id: Final = order_id
        self.account: Final = account
        self.quantity: Final = quantity
        self.price: Final = price
        self.stop_price: Final = stop_price


@mypyc_attr(acyclic=True)
class MassCancel(Command):
    """Cancel every live order of ``account``, optionally only one symbol ("" = all) and side (0 = both)."""

    def __init__(self, account: i64, symbol: str = "", side: i64 = 0) -> None:
        self.account: Final = account
        self.symbol: Final = symbol
        self.side: Final = side


@mypyc_attr(acyclic=True)
class EndSession(Command):
    """Close the trading day: expire every DAY order, of one symbol or ("" ) of all."""

    def __init__(self, symbol: str = "") -> None:
        self.symbol: Final = symbol


@mypyc_attr(acyclic=True)
class ExpireOrders(Command):
    """Advance engine time: expire every GTD order whose expire time has come.

    Every command expires due GTD orders first; this one exists so that time
    can pass while no other command arrives.
    """


@mypyc_attr(acyclic=True)
class SetSelfTradePrevention(Command):
    """Set the self-trade prevention mode used by ``account``'s orders that name none."""

    def __init__(self, account: i64, mode: i64) -> None:
        self.account: Final = account
        self.mode: Final = mode
