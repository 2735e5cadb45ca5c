"""Run a durable core as a child process that speaks JSON lines on stdin/stdout.

Crash tests start it, send commands, read acknowledgements and kill it with
SIGKILL (from outside, or from inside through ``HFT_CRASH_AT``). Usage::

    python -m hft.testing.core_process DATA_DIR [--snapshot-every N] [--segment-bytes N] [--no-fsync]

Requests, one JSON object per line (``id`` is the client's, echoed back)::

    {"id": 1, "op": "create", "account": 1, "cash": 100000000000}
    {"id": 2, "op": "submit", "account": 1, "side": 1, "quantity": 5, "price": 15000, "client_order_id": "c2"}
    {"id": 3, "op": "cancel", "account": 1, "order_id": 7}
    {"id": 4, "op": "amend", "account": 1, "order_id": 7, "quantity": 9}

Replies: first ``{"ready": true, "last_sequence": ..., "state_hash": ..., ...}``
after recovery, then ``{"id": ..., "sequence": ..., "order_id": ..., "rejected": code}``
for each request, written only once the command is durable and applied.
End of input stops the core cleanly (final snapshot) and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any

from hft.domain.commands import AmendOrder, CancelOrder, Command, SubmitOrder
from hft.domain.events import OrderAccepted, OrderRejected
from hft.domain.exchange.commands import CreateAccount
from hft.domain.exchange.events import CommandRejected
from hft.domain.exchange.queries import state_hash
from hft.domain.instruments import default_instruments
from hft.engine import memory
from hft.engine.core import Ack, DurableCore
from hft.engine.service import CoreService
from hft.engine.settings import CoreSettings

SYMBOL = "AAPL"


def command_from(request: dict[str, Any]) -> Command:
    """Build the core command a request line asks for."""
    op = request["op"]
    if op == "create":
        return CreateAccount(request["account"], f"account-{request['account']}", request["cash"])
    if op == "submit":
        return SubmitOrder(
            0,
            request["account"],
            SYMBOL,
            request["side"],
            request["quantity"],
            request["price"],
            client_order_id=request.get("client_order_id", ""),
        )
    if op == "cancel":
        return CancelOrder(request["order_id"], request["account"])
    if op == "amend":
        return AmendOrder(request["order_id"], request["account"], request["quantity"])
    raise ValueError(f"unknown op {op!r}")


def reply(request_id: int, ack: Ack) -> str:
    """Return the acknowledgement line of one request."""
    answer: dict[str, Any] = {"id": request_id, "sequence": ack.sequence, "order_id": 0, "rejected": 0}
    for event in ack.events:
        if isinstance(event, OrderAccepted):
            answer["order_id"] = event.order_id
        elif isinstance(event, (OrderRejected, CommandRejected)):
            answer["rejected"] = event.code
    return json.dumps(answer)


async def serve(settings: CoreSettings) -> None:
    """Recover, announce readiness, then execute requests from stdin until it closes."""
    memory.collect_less_often()
    core = DurableCore(settings, default_instruments())
    memory.freeze_long_lived_state()
    service = CoreService(core)
    await service.start()
    recovery = core.recovery
    ready = {
        "ready": True,
        "last_sequence": recovery.last_sequence,
        "snapshot_sequence": recovery.snapshot_sequence,
        "replayed": recovery.replayed,
        "cut_bytes": recovery.cut_bytes,
        "state_hash": state_hash(core.exchange),
    }
    _write(json.dumps(ready))
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    pending: set[asyncio.Task[None]] = set()
    while line := await reader.readline():
        request = json.loads(line)
        future = service.submit_many([command_from(request)])
        task = loop.create_task(_answer(request["id"], future))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await service.stop()
    _write(json.dumps({"stopped": True, "state_hash": state_hash(core.exchange), "sequence": core.sequence}))


async def _answer(request_id: int, future: asyncio.Future[list[Ack]]) -> None:
    _write(reply(request_id, (await future)[0]))


def _write(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> None:
    """Parse arguments and run the core until stdin closes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--snapshot-every", type=int, default=100_000)
    parser.add_argument("--segment-bytes", type=int, default=64 * 1024 * 1024)
    parser.add_argument("--no-fsync", action="store_true")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    settings = CoreSettings(
        arguments.data_dir,
        fsync=not arguments.no_fsync,
        snapshot_every=arguments.snapshot_every,
        segment_bytes=arguments.segment_bytes,
    )
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
