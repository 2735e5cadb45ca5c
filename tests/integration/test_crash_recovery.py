"""Kill a real core process with SIGKILL at hundreds of seeded points and check what survives.

Each life of the child process (``hft.testing.core_process``) recovers from
the files the previous life left, reports its state hash, takes pipelined
commands from this test and dies: at an injected crash point (between
journal write and fsync, between fsync and acknowledgement, mid-write, mid-
snapshot, ...) or by a SIGKILL sent from here. After every death:

- every acknowledged command is in the journal, at the sequence its ack named;
- the journal holds nothing the client did not send, in the order it was sent
  (commands in flight at the kill may be there: the client resolves those
  by client order id);
- snapshot-plus-replay and a full replay give the same state hash, and the
  next life (with another PYTHONHASHSEED) reports that same hash.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import IO, Any

import pytest

from hft.domain.commands import AmendOrder, CancelOrder, Command, SubmitOrder
from hft.domain.exchange.commands import CreateAccount
from hft.domain.exchange.queries import state_hash
from hft.domain.instruments import default_instruments
from hft.engine.codec import decode
from hft.engine.crashpoints import POINTS
from hft.engine.journal import list_segments, read_segment
from hft.engine.recovery import recover

KILLS = int(os.environ.get("HFT_CRASH_KILLS", "200"))
SEED = 20261121
ACCOUNTS = (1, 2, 3, 4)
HASH_SEEDS = ("0", "1", "42", "31337")
IN_FLIGHT = 16
ACK_TIMEOUT = 30.0


class Life:
    """One run of the child process and what the client saw of it."""

    def __init__(self, data_dir: Path, crash_at: str, hash_seed: str) -> None:
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        env.pop("HFT_CRASH_AT", None)
        if crash_at:
            env["HFT_CRASH_AT"] = crash_at
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hft.testing.core_process",
                str(data_dir),
                "--snapshot-every",
                "150",
                "--segment-bytes",
                "16384",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()
        self.sent: list[dict[str, Any]] = []
        self.acks: dict[int, dict[str, Any]] = {}
        self.output_ended = False
        ready = self.lines.get(timeout=ACK_TIMEOUT)
        assert ready is not None, "the core died while starting"
        assert ready["ready"], "the core did not start"
        self.ready = ready

    def _read(self, stream: IO[str] | None) -> None:
        assert stream is not None
        for line in stream:
            self.lines.put(json.loads(line))
        self.lines.put(None)

    def send(self, request: dict[str, Any]) -> bool:
        """Send one request; False if the process is gone."""
        request["id"] = len(self.sent)
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return False
        self.sent.append(request)
        return True

    def wait_for_acks(self, outstanding: int) -> bool:
        """Read acks until at most ``outstanding`` requests are unanswered; False once the process died."""
        while len(self.sent) - len(self.acks) > outstanding:
            line = self.lines.get(timeout=ACK_TIMEOUT)
            if line is None:
                self.output_ended = True
                return False
            self.acks[line["id"]] = line
        return True

    def kill_and_collect(self) -> None:
        """SIGKILL the process (if still alive) and keep every ack it wrote before dying."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=ACK_TIMEOUT)
        while not self.output_ended:
            line = self.lines.get(timeout=ACK_TIMEOUT)
            if line is None:
                self.output_ended = True
            else:
                self.acks[line["id"]] = line
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(BrokenPipeError):  # unsent bytes for a dead process
                    stream.close()


def _journal(data_dir: Path) -> dict[int, Command]:
    segments = list_segments(data_dir / "journal")
    commands = {}
    for index, segment in enumerate(segments):
        for record in read_segment(segment, index == len(segments) - 1):
            commands[record.sequence] = decode(record.payload)
    return commands


def _matches(command: Command, request: dict[str, Any]) -> bool:
    op = request["op"]
    if op == "create":
        return isinstance(command, CreateAccount) and command.account_id == request["account"]
    if op == "submit":
        return isinstance(command, SubmitOrder) and (
            command.account,
            command.side,
            command.quantity,
            command.price,
            command.client_order_id,
        ) == (request["account"], request["side"], request["quantity"], request["price"], request["client_order_id"])
    if op == "cancel":
        return isinstance(command, CancelOrder) and (command.order_id, command.account) == (
            request["order_id"],
            request["account"],
        )
    return isinstance(command, AmendOrder) and (command.order_id, command.account, command.quantity) == (
        request["order_id"],
        request["account"],
        request["quantity"],
    )


def _next_request(rng: random.Random, live: list[tuple[int, int]], life_number: int, index: int) -> dict[str, Any]:
    draw = rng.random()
    if live and draw < 0.25:
        order_id, account = live.pop(rng.randrange(len(live)))
        return {"op": "cancel", "account": account, "order_id": order_id}
    if live and draw < 0.35:
        order_id, account = rng.choice(live)
        return {"op": "amend", "account": account, "order_id": order_id, "quantity": rng.randint(1, 40)}
    return {
        "op": "submit",
        "account": rng.choice(ACCOUNTS),
        "side": rng.choice((1, 2)),
        "quantity": rng.randint(1, 30),
        "price": rng.randint(14_990, 15_010),
        "client_order_id": f"life{life_number}-{index}",
    }


def _verify_life(life: Life, data_dir: Path, start_sequence: int, scratch: Path) -> tuple[int, str]:
    """Check the journal against what the client saw; return the new last sequence and the recovered hash."""
    journal = _journal(data_dir)
    end = max(journal, default=0)
    assert sorted(journal) == list(range(1, end + 1))
    for request_id, ack in life.acks.items():
        assert ack["sequence"] in journal, f"acknowledged request {request_id} is not in the journal"
        assert _matches(journal[ack["sequence"]], life.sent[request_id])
    this_life = [journal[sequence] for sequence in range(start_sequence + 1, end + 1)]
    assert len(life.acks) <= len(this_life) <= len(life.sent), "journal holds commands nobody sent"
    for command, request in zip(this_life, life.sent, strict=False):
        assert _matches(command, request), "journal order differs from send order"
    for request_id, ack in life.acks.items():
        assert ack["sequence"] == start_sequence + 1 + request_id
    # Recover copies twice: as start-up does (snapshot + rest), and by replaying the whole journal.
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(data_dir, scratch)
    instruments = default_instruments()
    with_snapshot = recover(scratch / "journal", scratch / "snapshots", instruments)
    shutil.rmtree(scratch / "snapshots")
    (scratch / "snapshots").mkdir()
    full = recover(scratch / "journal", scratch / "snapshots", instruments)
    assert with_snapshot.last_sequence == full.last_sequence == end
    recovered_hash = state_hash(with_snapshot.exchange)
    assert recovered_hash == state_hash(full.exchange)
    return end, recovered_hash


@pytest.mark.timeout(1500)
def test_acknowledged_commands_survive_sigkill_at_hundreds_of_points(tmp_path: Path) -> None:
    data_dir = tmp_path / "core"
    rng = random.Random(SEED)
    sequence = 0
    expected_hash = ""
    kills: Counter[str] = Counter()
    cut_tails = 0
    for life_number in range(KILLS):
        crash_at = ""
        if rng.random() < 0.5:
            crash_at = f"{rng.choice(POINTS)}:{rng.randint(1, 3)}"
        life = Life(data_dir, crash_at, rng.choice(HASH_SEEDS))
        assert life.ready["last_sequence"] == sequence
        if expected_hash:
            assert life.ready["state_hash"] == expected_hash, f"life {life_number} recovered a different state"
        cut_tails += life.ready["cut_bytes"] > 0
        # A life armed with a crash point runs until it dies there (or 200 requests); others are shot at random.
        external_kill_after = 200 if crash_at else rng.randint(0, 80)
        live: list[tuple[int, int]] = []
        alive = all(life.send({"op": "create", "account": account, "cash": 10**16}) for account in ACCOUNTS)
        index = 0
        while alive and index < external_kill_after:
            alive = life.send(_next_request(rng, live, life_number, index)) and life.wait_for_acks(IN_FLIGHT)
            for ack in life.acks.values():
                request = life.sent[ack["id"]]
                if ack["order_id"] and request.get("tracked") is None:
                    request["tracked"] = True
                    live.append((ack["order_id"], request["account"]))
            index += 1
        died_by_itself = life.process.poll() is not None or not alive
        life.kill_and_collect()
        kills[crash_at.partition(":")[0] if died_by_itself and crash_at else "external"] += 1
        sequence, expected_hash = _verify_life(life, data_dir, sequence, tmp_path / "scratch")
    # The seeded plan must have reached every crash point, not only external kills.
    assert sum(kills.values()) == KILLS
    for point in POINTS:
        assert kills[point] > 0, f"no life died at {point}: {dict(kills)}"
    assert cut_tails > 0, "no torn tail was ever cut"
    final = Life(data_dir, "", "7")
    assert final.ready["state_hash"] == expected_hash
    final.kill_and_collect()
