"""The shared synthetic order flow, as engine commands.

``generate`` yields exactly the rows of the project's shared benchmark
generator (``orderflow.py --orders N --seed S``): same random draws in the
same order, so a flow generated here and one read from its CSV are equal.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from hft.domain.commands import CancelOrder, Command, SubmitOrder
from hft.domain.instruments import Instrument
from hft.domain.orders import ORDER_TYPES_BY_NAME, SIDES_BY_NAME, TIMES_IN_FORCE_BY_NAME

CSV_HEADER = ["op", "order_id", "account", "symbol", "side", "type", "tif", "price", "qty"]
QUANTITY_CHOICES = (1, 5, 10, 10, 25, 50, 100, 100, 200, 500)
MID_PRICE = 10_000


class FlowRow(NamedTuple):
    """One CSV row: a new order (op ``N``) or a cancel (op ``C``)."""

    op: str
    order_id: int
    account: int
    symbol: str
    side: str
    type: str
    tif: str
    price: int
    qty: int


def generate(orders: int, seed: int = 7, symbols: int = 1, accounts: int = 1000) -> Iterator[FlowRow]:
    """Yield ``orders`` rows: ~58% passive GTC limits, ~30% cancels, ~8% crossing IOC/FOK, ~4% market."""
    rng = random.Random(seed)
    names = [f"SYM{index}" for index in range(symbols)]
    mids = [MID_PRICE] * symbols
    resting: list[list[tuple[int, int]]] = [[] for _ in range(symbols)]
    next_id = 1
    for _ in range(orders):
        index = rng.randrange(symbols)
        symbol = names[index]
        if rng.random() < 0.05:
            step = 1 if rng.random() < 0.5 else -1
            if abs(mids[index] + step - MID_PRICE) < 200:
                mids[index] += step
        pool = resting[index]
        cancel_probability = 0.30 if len(pool) < 20_000 else 0.45
        draw = rng.random()
        account = rng.randrange(1, accounts + 1)
        if draw < cancel_probability and pool:
            chosen = rng.randrange(len(pool))
            pool[chosen], pool[-1] = pool[-1], pool[chosen]
            order_id, owner = pool.pop()
            yield FlowRow("C", order_id, owner, symbol, "", "", "", 0, 0)
            continue
        side = "BUY" if rng.random() < 0.5 else "SELL"
        quantity = rng.choice(QUANTITY_CHOICES)
        order_id = next_id
        next_id += 1
        draw = rng.random()
        if draw < 0.06:
            yield FlowRow("N", order_id, account, symbol, side, "MARKET", "IOC", 0, quantity)
        elif draw < 0.18:
            through = rng.randint(1, 8)
            price = mids[index] + through if side == "BUY" else mids[index] - through
            tif = "FOK" if rng.random() < 0.25 else "IOC"
            yield FlowRow("N", order_id, account, symbol, side, "LIMIT", tif, price, quantity)
        else:
            offset = 1 + min(int(rng.expovariate(1 / 6)), 150)
            price = mids[index] - offset if side == "BUY" else mids[index] + offset
            pool.append((order_id, account))
            yield FlowRow("N", order_id, account, symbol, side, "LIMIT", "GTC", price, quantity)


def read_csv(path: Path) -> Iterator[FlowRow]:
    """Yield the rows of a flow CSV, refusing a file whose header or fields are not the flow's."""
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header != CSV_HEADER:
            raise ValueError(f"{path}: header must be {','.join(CSV_HEADER)}, found {header}")
        for line_number, fields in enumerate(reader, start=2):
            try:
                op, order_id, account, symbol, side, order_type, tif, price, quantity = fields
                row = FlowRow(op, int(order_id), int(account), symbol, side, order_type, tif, int(price), int(quantity))
            except ValueError as error:
                raise ValueError(f"{path}:{line_number}: not a flow row: {fields!r}") from error
            problem = _row_problem(row)
            if problem:
                raise ValueError(f"{path}:{line_number}: {problem}: {fields!r}")
            yield row


def _row_problem(row: FlowRow) -> str:
    if row.op == "C":
        return ""
    if row.op != "N":
        return f"op must be N or C, not {row.op!r}"
    if row.side not in SIDES_BY_NAME:
        return f"side must be BUY or SELL, not {row.side!r}"
    if row.type not in ORDER_TYPES_BY_NAME:
        return f"unknown order type {row.type!r}"
    if row.tif not in TIMES_IN_FORCE_BY_NAME:
        return f"unknown time in force {row.tif!r}"
    if not row.symbol:
        return "a new order needs a symbol"
    return ""


def to_command(row: FlowRow) -> Command:
    """Translate one flow row into the engine command it stands for."""
    if row.op == "C":
        return CancelOrder(row.order_id, row.account)
    problem = _row_problem(row)
    if problem:
        raise ValueError(f"order {row.order_id}: {problem}")
    return SubmitOrder(
        row.order_id,
        row.account,
        row.symbol,
        SIDES_BY_NAME[row.side],
        row.qty,
        row.price,
        ORDER_TYPES_BY_NAME[row.type],
        TIMES_IN_FORCE_BY_NAME[row.tif],
    )


def flow_instruments(rows: list[FlowRow]) -> list[Instrument]:
    """Return the instruments a flow trades: one-cent ticks, whole lots."""
    symbols = sorted({row.symbol for row in rows})
    return [Instrument(symbol, Decimal("0.01"), Decimal("1"), max_quantity=1_000_000) for symbol in symbols]
