"""``hft bench fix`` end to end, briefly: every order it sends is answered, and it reports both phases."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_bench_fix_answers_every_order_and_reports_throughput_and_latency(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "hft", "bench", "fix", "--seconds", "1", "--rate", "200", "--window", "16"]
    result = subprocess.run(
        [*command, "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.splitlines()[-1])
    throughput, latency = figures["throughput"], figures["latency"]
    assert throughput["orders"] == throughput["answered"] > 0
    assert throughput["orders_per_second"] > 0
    assert latency["orders"] == latency["answered"] == 200
    assert throughput["rejects"] == latency["rejects"] == 0
    assert 0 < latency["latency_us"]["p50"] <= latency["latency_us"]["p99"] <= latency["latency_us"]["max"]
    assert list(tmp_path.iterdir()) == []  # the server's files are removed
