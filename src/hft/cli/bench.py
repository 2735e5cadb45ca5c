"""``hft bench ...``: benchmarks that print one JSON object."""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Annotated

import typer

from hft.bench import core_bench, engine_bench, fix_bench, streams_bench
from hft.bench.orderflow import FlowRow, generate, read_csv
from hft.cli.bench_api import bench_api

bench_app = typer.Typer(help="Measure the platform; each benchmark prints one JSON object.", no_args_is_help=True)
bench_app.command("api")(bench_api)


@bench_app.command("engine")
def bench_engine(
    flow: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, readable=True, help="CSV written by shared/bench/orderflow.py."),
    ] = None,
    orders: Annotated[
        int, typer.Option(min=1, max=50_000_000, help="Generate this many commands instead.")
    ] = 1_000_000,
    seed: Annotated[int, typer.Option(help="Seed of the generated flow.")] = 7,
    runs: Annotated[int, typer.Option(min=1, max=50, help="Throughput runs; the median is reported.")] = 5,
) -> None:
    """Feed the shared order flow through the matching engine; print digest, throughput and latency."""
    rows = _load(flow) if flow is not None else list(generate(orders, seed))
    if not rows:
        raise typer.BadParameter("the flow has no commands", param_hint="--flow")
    result = engine_bench.run(rows, runs)
    result["machine"] = f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}"
    typer.echo(json.dumps(result))


def _load(path: Path) -> list[FlowRow]:
    try:
        return list(read_csv(path))
    except (ValueError, UnicodeDecodeError) as error:
        raise typer.BadParameter(str(error), param_hint="--flow") from error


@bench_app.command("core")
def bench_core(
    orders: Annotated[int, typer.Option(min=1, max=50_000_000, help="Commands of the shared flow to run.")] = 1_000_000,
    seed: Annotated[int, typer.Option(help="Seed of the generated flow.")] = 7,
    data_dir: Annotated[
        Path | None,
        typer.Option(file_okay=False, help="Parent of the benchmark's journal directory (default: current directory)."),
    ] = None,
    snapshot_every: Annotated[
        int, typer.Option(min=1, max=50_000_000, help="Commands between snapshots (the core's default).")
    ] = 100_000,
    window: Annotated[
        int,
        typer.Option(min=1, max=1_000_000, help="Commands in flight (sent, not yet acked)."),
    ] = 8192,
    keep: Annotated[bool, typer.Option(help="Keep the journal and snapshots afterwards.")] = False,
) -> None:
    """Run the shared flow through the durable core (risk on, fsync on); print throughput, latency, recovery."""
    rows = list(generate(orders, seed))
    directory = core_bench.temporary_data_dir(data_dir)
    try:
        result = core_bench.run(rows, directory, snapshot_every, window=window, chunk=min(64, window))
    finally:
        if not keep:
            core_bench.remove(directory)
    result["data_dir"] = str(directory) if keep else None
    result["machine"] = f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}"
    typer.echo(json.dumps(result))


@bench_app.command("streams")
def bench_streams(
    nats: Annotated[
        str | None, typer.Option("--nats", help="NATS URL to measure (default: the local server).")
    ] = "nats://127.0.0.1:4222",
    kafka: Annotated[str | None, typer.Option("--kafka", help="Kafka bootstrap HOST:PORT to measure too.")] = None,
    orders: Annotated[int, typer.Option(min=1_000, max=10_000_000, help="Commands in the catch-up journal.")] = 100_000,
    rate: Annotated[int, typer.Option(min=1, max=100_000, help="Orders per second offered in the live run.")] = 2_000,
    seconds: Annotated[int, typer.Option(min=1, max=3600, help="Length of the live run.")] = 10,
    data_dir: Annotated[
        Path | None, typer.Option(file_okay=False, help="Parent of the temporary data directories.")
    ] = None,
) -> None:
    """Publish a journal to each broker flat out, then a live flow: print messages/s and event-to-ack lag."""
    settings = streams_bench.StreamsBenchSettings(
        nats_url=nats or None, kafka_bootstrap=kafka, orders=orders, rate=rate, seconds=seconds, data_dir=data_dir
    )
    try:
        result = streams_bench.run(settings)
    except (RuntimeError, OSError) as error:
        typer.echo(f"hft bench streams: {error}", err=True)
        raise typer.Exit(1) from error
    result["machine"] = f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}"
    typer.echo(json.dumps(result))


@bench_app.command("fix")
def bench_fix(
    seconds: Annotated[int, typer.Option(min=1, max=3600, help="Length of each phase.")] = 10,
    rate: Annotated[
        int, typer.Option(min=1, max=1_000_000, help="Orders per second offered in the latency phase.")
    ] = 5_000,
    window: Annotated[int, typer.Option(min=1, max=100_000, help="Unanswered orders in the throughput phase.")] = 512,
    data_dir: Annotated[
        Path | None, typer.Option(file_okay=False, help="Parent of the server's temporary data directory.")
    ] = None,
) -> None:
    """Serve the venue with FIX on; drive NewOrderSingles from this process: orders/s and latency to ExecutionReport."""
    settings = fix_bench.FixBenchSettings(seconds=seconds, rate=rate, window=window, data_dir=data_dir)
    try:
        result = fix_bench.run(settings)
    except (RuntimeError, OSError) as error:
        typer.echo(f"hft bench fix: {error}", err=True)
        raise typer.Exit(1) from error
    result["machine"] = f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}"
    typer.echo(json.dumps(result))
