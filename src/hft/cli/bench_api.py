"""``hft bench api``: the order API over HTTP, served as deployed, driven by an open-loop load generator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from hft.bench import api_bench


def bench_api(
    seconds: Annotated[
        int, typer.Option(min=1, max=3600, help="Length of the latency run (after a 3 s warm-up).")
    ] = 10,
    rate: Annotated[
        int, typer.Option(min=1, max=1_000_000, help="Orders per second offered during the latency run.")
    ] = 2600,
    max_rate: Annotated[
        int, typer.Option(min=100, max=1_000_000, help="Highest offered rate the throughput search tries.")
    ] = 30_000,
    connections: Annotated[
        int, typer.Option(min=1, max=10_000, help="Keep-alive connections of the load generator.")
    ] = 64,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            file_okay=False, help="Parent of the server's temporary data directory (default: current directory)."
        ),
    ] = None,
    shards: Annotated[int, typer.Option(min=1, help="Matching shards of the server (only 1 for now).")] = 1,
) -> None:
    """Serve the venue (fsync on), offer orders open-loop over HTTP; print latency and sustained throughput."""
    if shards != 1:
        raise typer.BadParameter(
            "only 1 shard is supported for now; the server does not shard yet", param_hint="--shards"
        )
    settings = api_bench.ApiBenchSettings(
        seconds=seconds, rate=rate, max_rate=max_rate, connections=connections, data_dir=data_dir
    )
    try:
        result = api_bench.run(settings)
    except RuntimeError as error:
        typer.echo(f"hft bench api: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(json.dumps(result))
