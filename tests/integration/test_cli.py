"""The ``hft`` command line, run as a real process the way a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hft.bench.engine_bench import digest
from hft.bench.orderflow import CSV_HEADER, flow_instruments, generate, to_command


def hft(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hft", *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_version_names_the_engine_build() -> None:
    result = hft("version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("hft ")
    assert "engine" in result.stdout


def test_demo_trades_through_the_engine_and_prints_the_book() -> None:
    result = hft("demo")
    assert result.returncode == 0, result.stderr
    assert "trade      300 @ 190.05" in result.stdout
    assert "triggered  #5 at 189.95" in result.stdout
    assert "PRICE_OFF_TICK" in result.stdout
    assert "book now" in result.stdout


def test_bench_engine_prints_the_digest_and_timings_as_one_json_object(tmp_path: Path) -> None:
    rows = list(generate(20_000, seed=3))
    flow = tmp_path / "flow.csv"
    flow.write_text(",".join(CSV_HEADER) + "\n" + "".join(",".join(map(str, row)) + "\n" for row in rows))

    result = hft("bench", "engine", "--flow", str(flow), "--runs", "1")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    expected = digest(flow_instruments(rows), [to_command(row) for row in rows])
    assert {key: report[key] for key in expected} == expected
    assert report["commands"] == 20_000
    assert report["commands_per_second"] > 0
    assert 0 < report["p50_us"] <= report["p99_us"] <= report["p999_us"] <= report["max_us"]


def test_bench_engine_generates_the_same_flow_it_would_read(tmp_path: Path) -> None:
    rows = list(generate(5_000))
    flow = tmp_path / "flow.csv"
    flow.write_text(",".join(CSV_HEADER) + "\n" + "".join(",".join(map(str, row)) + "\n" for row in rows))

    from_file = json.loads(hft("bench", "engine", "--flow", str(flow), "--runs", "1").stdout)
    generated = json.loads(hft("bench", "engine", "--orders", "5000", "--runs", "1").stdout)

    assert from_file["trade_sha256"] == generated["trade_sha256"]
    assert from_file["resting_orders"] == generated["resting_orders"]


def test_bench_engine_refuses_a_malformed_flow_naming_the_line(tmp_path: Path) -> None:
    flow = tmp_path / "flow.csv"
    flow.write_text(",".join(CSV_HEADER) + "\nN,1,1,SYM0,BUY,LIMIT,GTC,10000,5\nN,2,1,SYM0,UP,LIMIT,GTC,10000,5\n")

    result = hft("bench", "engine", "--flow", str(flow))

    assert result.returncode == 2
    assert "flow.csv:3" in result.stderr
    assert "side must be BUY or SELL" in result.stderr
    assert "Traceback" not in result.stderr


def test_bench_engine_refuses_a_file_that_is_not_a_flow(tmp_path: Path) -> None:
    flow = tmp_path / "prices.csv"
    flow.write_text("symbol,price\nAAPL,1\n")

    result = hft("bench", "engine", "--flow", str(flow))

    assert result.returncode == 2
    assert "header must be" in result.stderr


def test_bench_engine_refuses_bad_options() -> None:
    for args in (["--orders", "0"], ["--runs", "0"], ["--flow", "/nonexistent/flow.csv"], ["--orders", "many"]):
        result = hft("bench", "engine", *args)
        assert result.returncode == 2, args
        assert "Traceback" not in result.stderr


def test_bench_core_runs_the_flow_durably_and_matches_the_engine_alone(tmp_path: Path) -> None:
    rows = list(generate(20_000, seed=5))

    result = hft(
        "bench", "core", "--orders", "20000", "--seed", "5", "--snapshot-every", "6000", "--data-dir", str(tmp_path)
    )

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    alone = digest(flow_instruments(rows), [to_command(row) for row in rows])
    # Risk with generous limits rejects nothing the engine accepts: the same trades come out.
    assert report["trades"] == alone["trades"]
    assert report["rejects"] == alone["cancels_rejected"]
    assert report["commands"] == 20_000
    assert report["accounts"] == len({row.account for row in rows})
    assert report["fsyncs"] > 0
    assert report["commands_per_second"] > 0
    assert 0 < report["ack_p50_us"] <= report["ack_p99_us"] <= report["ack_p999_us"]
    assert report["full_replay_commands"] == 20_000 + report["accounts"]
    assert 0 < report["recovery_after_crash_replayed"] < report["full_replay_commands"]
    assert report["recovered_state_matches"] is True
    assert list(tmp_path.iterdir()) == [], "the benchmark's journal is removed unless --keep"
    assert report["fsync"] is True


def test_bench_core_refuses_bad_options(tmp_path: Path) -> None:
    result = hft("bench", "core", "--orders", "0")
    assert result.returncode == 2
    assert "--orders" in result.stderr
