"""A deliberately simple reference model of the matching rules, for property tests (see tests/property).

This model shares no code with ``hft.domain`` beyond the integer vocabulary
of ``hft.domain.orders``. Every resting order of every symbol lives in one
plain list and every question is a linear scan over it: the best maker is
"the earliest-arriving order at the best crossing price", and fill-or-kill is
decided by matching a deep copy of the whole venue and looking at the
result. Nothing here is fast; everything here should be plainly right.

Events are plain tuples (see ``RefEvent``); reject and cancel reasons are
their stable names ("UNKNOWN_ORDER", "IOC_REMAINDER", ...).

Semantics, as the engine documents them:

* trades happen at the maker's price, best price first, then arrival order;
* an iceberg shows ``display`` lots at a time; each new slice joins the back of its level;
* the taker's self-trade prevention mode decides (DEFAULT = the account's mode,
  NONE when the account has none); fill-or-kill fills completely or trades nothing,
  and self-trade prevention cutting it short counts as "not completely";
* decrement-and-cancel takes the smaller remaining quantity off both orders'
  quantities: the smaller order is cancelled, the larger reduced (equal: both cancelled);
* an amend that lowers the quantity at the same price keeps its place; any other
  amend re-enters the order as a new taker (it may trade);
* a stop submitted or amended triggers at once if the last trade price of its
  symbol has reached it; waiting stops trigger when any trade of the current
  command reaches them (a buy stop at or below the highest trade price, a sell
  stop at or above the lowest), buy stops before sell stops, lowest (buy) /
  highest (sell) stop first, then the oldest, each re-checked after the last;
* every command first expires the GTD orders whose time has come.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from hft.domain.orders import (
    BUY,
    DAY,
    FOK,
    GTC,
    GTD,
    IOC,
    LIMIT,
    MARKET,
    SELL,
    STOP,
    STOP_LIMIT,
    STP_CANCEL_BOTH,
    STP_CANCEL_NEWEST,
    STP_CANCEL_OLDEST,
    STP_DECREMENT_AND_CANCEL,
    STP_DEFAULT,
    STP_NONE,
)

RefEvent = tuple[object, ...]

# Where an order is: matching as a taker, resting in a book, waiting as a stop, or gone.
TAKING = "taking"
RESTING = "resting"
WAITING = "waiting"
DONE = "done"


@dataclass
class RefOrder:
    """One accepted order and everything the reference knows about it."""

    order_id: int
    account: int
    symbol: str
    side: int
    order_type: int
    time_in_force: int
    price: int
    quantity: int
    stop_price: int
    display_quantity: int
    post_only: bool
    self_trade_prevention: int
    expire_ts: int
    filled: int = 0
    leaves: int = 0
    visible: int = 0
    # When the order (or its current iceberg slice) joined its price level: smaller is earlier.
    arrival: int = 0
    # Time priority among waiting stops with the same stop price.
    priority: int = 0
    state: str = DONE


@dataclass(frozen=True)
class RefInstrument:
    """The limits the reference validates against."""

    min_quantity: int
    max_quantity: int
    max_price: int


class ReferenceVenue:
    """Books of several symbols, kept as plain lists; one method per command, each returning its events."""

    def __init__(self, instruments: dict[str, RefInstrument]) -> None:
        self.instruments = dict(instruments)
        self.orders: dict[int, RefOrder] = {}  # every order ever accepted, live or not
        self.resting: list[RefOrder] = []
        self.waiting: list[RefOrder] = []
        self.last_price: dict[str, int] = dict.fromkeys(instruments, 0)
        self.account_mode: dict[int, int] = {}
        self.last_order_id = 0
        self.clock = 0
        self.events: list[RefEvent] = []
        self.trade_prices: list[int] = []  # of the current command

    # -- queries -------------------------------------------------------------

    def live(self) -> list[RefOrder]:
        """Return every live order: resting ones, then waiting stops."""
        return self.resting + self.waiting

    def queue(self, symbol: str, side: int, price: int) -> list[RefOrder]:
        """Return the orders resting at one price, first in line first."""
        here = [o for o in self.resting if o.symbol == symbol and o.side == side and o.price == price]
        return sorted(here, key=lambda o: o.arrival)

    def depth(self, symbol: str, side: int) -> list[tuple[int, int, int]]:
        """Return (price, visible quantity, order count) per level, best price first."""
        prices = sorted({o.price for o in self.resting if o.symbol == symbol and o.side == side})
        if side == BUY:
            prices.reverse()
        levels = []
        for price in prices:
            orders = self.queue(symbol, side, price)
            levels.append((price, sum(o.visible for o in orders), len(orders)))
        return levels

    def stops(self, symbol: str, side: int) -> list[RefOrder]:
        """Return the waiting stops of one side in the order they would trigger."""
        mine = [o for o in self.waiting if o.symbol == symbol and o.side == side]
        if side == BUY:
            return sorted(mine, key=lambda o: (o.stop_price, o.priority))
        return sorted(mine, key=lambda o: (-o.stop_price, o.priority))

    # -- commands ------------------------------------------------------------

    def submit(
        self,
        ts: int,
        order_id: int,
        account: int,
        symbol: str,
        side: int,
        quantity: int,
        price: int = 0,
        order_type: int = LIMIT,
        time_in_force: int = GTC,
        stop_price: int = 0,
        display_quantity: int = 0,
        post_only: bool = False,
        self_trade_prevention: int = STP_DEFAULT,
        expire_ts: int = 0,
        client_order_id: str = "",
    ) -> list[RefEvent]:
        """Enter a new order and return what happened."""
        self._begin(ts)
        if order_id <= self.last_order_id:
            return self._reject(order_id, account, "DUPLICATE_ORDER_ID")
        self.last_order_id = order_id
        if symbol not in self.instruments:
            return self._reject(order_id, account, "UNKNOWN_SYMBOL")
        order = RefOrder(
            order_id,
            account,
            symbol,
            side,
            order_type,
            time_in_force,
            price,
            quantity,
            stop_price,
            display_quantity,
            post_only,
            self_trade_prevention,
            expire_ts,
        )
        reason = self._invalid_new_order(order, ts)
        if not reason and post_only and self._would_trade(symbol, side, price):
            reason = "POST_ONLY_WOULD_TAKE"
        if reason:
            return self._reject(order_id, account, reason)
        if order.self_trade_prevention == STP_DEFAULT:
            order.self_trade_prevention = self.account_mode.get(account, STP_NONE)
        order.leaves = quantity
        order.priority = self._tick()
        self.orders[order_id] = order
        accepted = (order_id, account, symbol, side, order_type, time_in_force, price, quantity, stop_price)
        self.events.append(("accepted", *accepted, display_quantity))
        if order_type in (STOP, STOP_LIMIT):
            if self._stop_reached(order):
                self._trigger(order, self.last_price[symbol])
            else:
                order.state = WAITING
                self.waiting.append(order)
        else:
            self._take(order)
        self._fire_stops(symbol)
        return self.events

    def cancel(self, ts: int, order_id: int, account: int) -> list[RefEvent]:
        """Cancel a live order of ``account``."""
        self._begin(ts)
        order = self._live_order(order_id, account)
        if order is None:
            return self._reject(order_id, account, "UNKNOWN_ORDER")
        self._cancel(order, "USER")
        return self.events

    def amend(
        self, ts: int, order_id: int, account: int, quantity: int, price: int = 0, stop_price: int = 0
    ) -> list[RefEvent]:
        """Change a live order's total quantity, price or (waiting stops only) stop price."""
        self._begin(ts)
        order = self._live_order(order_id, account)
        if order is None:
            return self._reject(order_id, account, "UNKNOWN_ORDER")
        new_price = price or order.price
        reason = self._invalid_amend(order, quantity, price, stop_price)
        moves = new_price != order.price
        if not reason and order.post_only and moves and self._would_trade(order.symbol, order.side, new_price):
            reason = "POST_ONLY_WOULD_TAKE"
        if reason:
            return self._reject(order_id, account, reason)
        keeps_place = new_price == order.price and quantity <= order.quantity and stop_price in (0, order.stop_price)
        if order.state == WAITING:
            order.price = new_price
            order.stop_price = stop_price or order.stop_price
            order.quantity = quantity
            order.leaves = quantity
            if not keeps_place:
                order.priority = self._tick()
            self._replaced(order, keeps_place)
            if self._stop_reached(order):
                self.waiting.remove(order)
                self._trigger(order, self.last_price[order.symbol])
        elif keeps_place:
            order.leaves -= order.quantity - quantity
            order.quantity = quantity
            order.visible = min(order.visible, order.leaves)
            self._replaced(order, True)
        else:
            self.resting.remove(order)
            order.price = new_price
            order.quantity = quantity
            order.leaves = quantity - order.filled
            order.priority = self._tick()
            self._replaced(order, False)
            self._take(order)
        self._fire_stops(order.symbol)
        return self.events

    def mass_cancel(self, ts: int, account: int, symbol: str = "", side: int = 0) -> list[RefEvent]:
        """Cancel every live order of ``account`` (optionally one symbol, one side), lowest id first."""
        self._begin(ts)
        if account <= 0:
            return self._reject(0, account, "INVALID_ACCOUNT")
        if symbol and symbol not in self.instruments:
            return self._reject(0, account, "UNKNOWN_SYMBOL")
        if side not in (0, BUY, SELL):
            return self._reject(0, account, "INVALID_SIDE")
        for order in sorted(self.live(), key=lambda o: o.order_id):
            if order.account == account and symbol in ("", order.symbol) and side in (0, order.side):
                self._cancel(order, "MASS_CANCEL")
        return self.events

    def end_session(self, ts: int, symbol: str = "") -> list[RefEvent]:
        """Expire every live DAY order (of one symbol, or all), lowest id first."""
        self._begin(ts)
        if symbol and symbol not in self.instruments:
            return self._reject(0, 0, "UNKNOWN_SYMBOL")
        for order in sorted(self.live(), key=lambda o: o.order_id):
            if order.time_in_force == DAY and symbol in ("", order.symbol):
                self._cancel(order, "EXPIRED")
        return self.events

    def expire(self, ts: int) -> list[RefEvent]:
        """Let time pass: only the GTD expiry every command starts with."""
        self._begin(ts)
        return self.events

    def set_self_trade_prevention(self, ts: int, account: int, mode: int) -> list[RefEvent]:
        """Set the mode used by ``account``'s future orders that name none."""
        self._begin(ts)
        if account <= 0:
            return self._reject(0, account, "INVALID_ACCOUNT")
        if mode not in (STP_NONE, STP_CANCEL_NEWEST, STP_CANCEL_OLDEST, STP_CANCEL_BOTH, STP_DECREMENT_AND_CANCEL):
            return self._reject(0, account, "INVALID_SELF_TRADE_PREVENTION")
        self.account_mode[account] = mode
        self.events.append(("self_trade_prevention_set", account, mode))
        return self.events

    # -- validation ----------------------------------------------------------

    def _invalid_new_order(self, order: RefOrder, ts: int) -> str:
        instrument = self.instruments[order.symbol]
        if order.account <= 0:
            return "INVALID_ACCOUNT"
        if order.side not in (BUY, SELL):
            return "INVALID_SIDE"
        if order.order_type not in (LIMIT, MARKET, STOP, STOP_LIMIT):
            return "INVALID_ORDER_TYPE"
        if order.time_in_force not in (GTC, IOC, FOK, DAY, GTD):
            return "INVALID_TIME_IN_FORCE"
        if order.order_type == MARKET and order.time_in_force not in (IOC, FOK):
            return "INVALID_TIME_IN_FORCE"
        reason = _invalid_quantity(order.quantity, instrument)
        if reason:
            return reason
        reason = _invalid_prices(order.order_type, order.price, order.stop_price, instrument)
        if reason:
            return reason
        if order.time_in_force == GTD:
            if order.expire_ts <= ts:
                return "INVALID_EXPIRE_TIME"
        elif order.expire_ts != 0:
            return "INVALID_EXPIRE_TIME"
        can_rest = order.order_type == LIMIT and order.time_in_force in (GTC, DAY, GTD)
        display = order.display_quantity
        if display < 0:
            return "INVALID_DISPLAY_QUANTITY"
        if display > 0 and (not can_rest or display >= order.quantity or display < instrument.min_quantity):
            return "INVALID_DISPLAY_QUANTITY"
        if order.post_only and not can_rest:
            return "INVALID_POST_ONLY"
        if not STP_DEFAULT <= order.self_trade_prevention <= STP_DECREMENT_AND_CANCEL:
            return "INVALID_SELF_TRADE_PREVENTION"
        return ""

    def _invalid_amend(self, order: RefOrder, quantity: int, price: int, stop_price: int) -> str:
        reason = _invalid_quantity(quantity, self.instruments[order.symbol])
        if reason:
            return reason
        if quantity <= order.filled:
            return "AMEND_BELOW_FILLED"
        if price != 0 and order.order_type not in (LIMIT, STOP_LIMIT):
            return "INVALID_PRICE"
        waiting = order.state == WAITING
        if stop_price != 0 and not waiting:
            return "INVALID_STOP_PRICE"
        new_price = price or order.price
        new_stop = (stop_price or order.stop_price) if waiting else order.stop_price
        reason = _invalid_prices(order.order_type, new_price, new_stop, self.instruments[order.symbol])
        if reason:
            return reason
        if new_price == order.price and new_stop == order.stop_price and quantity == order.quantity:
            return "AMEND_CHANGES_NOTHING"
        return ""

    # -- matching ------------------------------------------------------------

    def _take(self, order: RefOrder) -> None:
        """Match an incoming order, then rest or cancel what is left of it."""
        order.state = TAKING
        if order.time_in_force == FOK and not self._would_fill_completely(order):
            self._cancel(order, "FOK_NOT_FILLED")
            return
        self._match(order)
        if order.leaves == 0:
            order.state = DONE
        elif order.order_type in (MARKET, STOP):
            self._cancel(order, "MARKET_REMAINDER")
        elif order.time_in_force == IOC:
            self._cancel(order, "IOC_REMAINDER")
        else:
            if order.time_in_force == FOK:
                raise AssertionError("a fill-or-kill order that passed its trial must have filled completely")
            order.visible = min(order.display_quantity, order.leaves) if order.display_quantity else order.leaves
            order.arrival = self._tick()
            order.state = RESTING
            self.resting.append(order)

    def _would_fill_completely(self, order: RefOrder) -> bool:
        """Match a copy of the whole venue and see whether the order fills in full."""
        trial = copy.deepcopy(self)
        taker = trial.orders[order.order_id]
        wanted = taker.leaves
        filled_before = taker.filled
        trial._match(taker)
        return taker.filled - filled_before == wanted

    def _match(self, taker: RefOrder) -> None:
        while taker.leaves > 0:
            maker = self._best_maker(taker)
            if maker is None:
                return
            if taker.self_trade_prevention != STP_NONE and maker.account == taker.account:
                self._prevent_self_trade(taker, maker)
                continue
            quantity = min(taker.leaves, maker.visible)
            taker.leaves -= quantity
            taker.filled += quantity
            maker.leaves -= quantity
            maker.visible -= quantity
            maker.filled += quantity
            self.last_price[taker.symbol] = maker.price
            self.trade_prices.append(maker.price)
            taker_part = (taker.side, taker.order_id, taker.account, taker.leaves)
            maker_part = (maker.order_id, maker.account, maker.leaves)
            self.events.append(("trade", taker.symbol, maker.price, quantity, *taker_part, *maker_part))
            if maker.leaves == 0:
                self.resting.remove(maker)
                maker.state = DONE
            elif maker.visible == 0:
                # The next iceberg slice queues behind everything already at the price.
                maker.visible = min(maker.display_quantity, maker.leaves)
                maker.arrival = self._tick()

    def _best_maker(self, taker: RefOrder) -> RefOrder | None:
        """Return the first order in line at the best contra price the taker accepts, if any."""
        contra = [o for o in self.resting if o.symbol == taker.symbol and o.side != taker.side]
        if taker.order_type in (LIMIT, STOP_LIMIT):
            if taker.side == BUY:
                contra = [o for o in contra if o.price <= taker.price]
            else:
                contra = [o for o in contra if o.price >= taker.price]
        if not contra:
            return None
        prices = [o.price for o in contra]
        best_price = min(prices) if taker.side == BUY else max(prices)
        return min((o for o in contra if o.price == best_price), key=lambda o: o.arrival)

    def _would_trade(self, symbol: str, side: int, price: int) -> bool:
        """Say whether an order of ``side`` at ``price`` would meet a resting order at once (any account)."""
        for order in self.resting:
            if order.symbol != symbol or order.side == side:
                continue
            if (side == BUY and order.price <= price) or (side == SELL and order.price >= price):
                return True
        return False

    def _prevent_self_trade(self, taker: RefOrder, maker: RefOrder) -> None:
        mode = taker.self_trade_prevention
        if mode == STP_DECREMENT_AND_CANCEL:
            if maker.leaves > taker.leaves:
                self._reduce(maker, taker.leaves)
                self._cancel(taker, "SELF_TRADE")
                return
            if taker.leaves > maker.leaves:
                self._reduce(taker, maker.leaves)
                self._cancel(maker, "SELF_TRADE")
                return
            mode = STP_CANCEL_BOTH
        if mode in (STP_CANCEL_OLDEST, STP_CANCEL_BOTH):
            self._cancel(maker, "SELF_TRADE")
        if mode in (STP_CANCEL_NEWEST, STP_CANCEL_BOTH):
            self._cancel(taker, "SELF_TRADE")

    # -- stops ---------------------------------------------------------------

    def _stop_reached(self, order: RefOrder) -> bool:
        last = self.last_price[order.symbol]
        if last == 0:
            return False
        return last >= order.stop_price if order.side == BUY else last <= order.stop_price

    def _trigger(self, order: RefOrder, trigger_price: int) -> None:
        """Turn a stop into the MARKET or LIMIT order it stands for; ``trigger_price`` is the price that reached it."""
        self.events.append(("triggered", order.order_id, order.account, order.symbol, trigger_price))
        self._take(order)

    def _fire_stops(self, symbol: str) -> None:
        """Trigger, one at a time, every waiting stop that a trade of this command has reached."""
        while self.trade_prices:
            high, low = max(self.trade_prices), min(self.trade_prices)
            due = [o for o in self.stops(symbol, BUY) if o.stop_price <= high]
            due = due or [o for o in self.stops(symbol, SELL) if o.stop_price >= low]
            if not due:
                return
            self.waiting.remove(due[0])
            self._trigger(due[0], high if due[0].side == BUY else low)

    # -- helpers -------------------------------------------------------------

    def _begin(self, ts: int) -> None:
        self.events = []
        self.trade_prices = []
        due = [o for o in self.live() if o.time_in_force == GTD and o.expire_ts <= ts]
        for order in sorted(due, key=lambda o: (o.expire_ts, o.order_id)):
            self._cancel(order, "EXPIRED")

    def _tick(self) -> int:
        self.clock += 1
        return self.clock

    def _live_order(self, order_id: int, account: int) -> RefOrder | None:
        for order in self.live():
            if order.order_id == order_id and order.account == account:
                return order
        return None

    def _reject(self, order_id: int, account: int, reason: str) -> list[RefEvent]:
        self.events.append(("rejected", order_id, account, reason))
        return self.events

    def _cancel(self, order: RefOrder, reason: str) -> None:
        self.events.append(("cancelled", order.order_id, order.account, order.symbol, reason, order.leaves))
        if order.state == RESTING:
            self.resting.remove(order)
        elif order.state == WAITING:
            self.waiting.remove(order)
        order.state = DONE
        order.leaves = 0
        order.visible = 0

    def _reduce(self, order: RefOrder, by: int) -> None:
        """Take ``by`` off the order's quantity (and so off what it has left); it keeps its place."""
        order.quantity -= by
        order.leaves -= by
        order.visible = min(order.visible, order.leaves)
        self.events.append(("reduced", order.order_id, order.account, order.symbol, by, order.quantity, order.leaves))

    def _replaced(self, order: RefOrder, kept_place: bool) -> None:
        terms = (order.price, order.stop_price, order.quantity, order.leaves)
        self.events.append(("replaced", order.order_id, order.account, order.symbol, *terms, kept_place))


def _invalid_quantity(quantity: int, instrument: RefInstrument) -> str:
    if quantity <= 0:
        return "INVALID_QUANTITY"
    if not instrument.min_quantity <= quantity <= instrument.max_quantity:
        return "QUANTITY_OUT_OF_RANGE"
    return ""


def _invalid_prices(order_type: int, price: int, stop_price: int, instrument: RefInstrument) -> str:
    if order_type in (LIMIT, STOP_LIMIT):
        if price <= 0:
            return "INVALID_PRICE"
        if price > instrument.max_price:
            return "PRICE_OUT_OF_RANGE"
    elif price != 0:
        return "INVALID_PRICE"
    if order_type in (STOP, STOP_LIMIT):
        if stop_price <= 0:
            return "INVALID_STOP_PRICE"
        if stop_price > instrument.max_price:
            return "PRICE_OUT_OF_RANGE"
    elif stop_price != 0:
        return "INVALID_STOP_PRICE"
    return ""
