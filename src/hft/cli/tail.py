"""``hft tail STREAM``: print a deployment's events as the broker delivers them, one JSON object a line."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from typing import Annotated

import typer

from hft.streams.schema import STREAMS, Message


def tail(
    stream: Annotated[str, typer.Argument(help=f"One of: {', '.join(STREAMS)}.")],
    nats: Annotated[
        str | None, typer.Option("--nats", envvar="HFT_NATS_URL", help="NATS URL (default: HFT_NATS_URL).")
    ] = None,
    kafka: Annotated[
        str | None,
        typer.Option("--kafka", envvar="HFT_KAFKA_BOOTSTRAP", help="Kafka bootstrap (default: HFT_KAFKA_BOOTSTRAP)."),
    ] = None,
    prefix: Annotated[
        str, typer.Option("--prefix", envvar="HFT_STREAM_PREFIX", help="The deployment's stream prefix.")
    ] = "",
    from_start: Annotated[bool, typer.Option("--from-start", help="Print the stored events first.")] = False,
    count: Annotated[int, typer.Option(min=0, help="Stop after this many events (0: never).")] = 0,
    key: Annotated[str | None, typer.Option(help="Only events with this key (a symbol, or an account id).")] = None,
) -> None:
    """Follow STREAM on the configured NATS or Kafka broker and print each event (Ctrl-C stops)."""
    if stream not in STREAMS:
        raise typer.BadParameter(f"unknown stream {stream!r}; choose one of {', '.join(STREAMS)}", param_hint="STREAM")
    if (nats is None) == (kafka is None):
        raise typer.BadParameter("name exactly one broker: --nats URL or --kafka HOST:PORT (or HFT_NATS_URL ...)")
    try:
        asyncio.run(_print(_source(stream, nats, kafka, prefix, from_start), count, key))
    except KeyboardInterrupt:
        return
    except (OSError, TimeoutError, LookupError) as error:
        typer.echo(f"hft tail: cannot read {stream}: {type(error).__name__}: {error}", err=True)
        raise typer.Exit(1) from error


def _source(stream: str, nats: str | None, kafka: str | None, prefix: str, from_start: bool) -> AsyncIterator[Message]:
    if nats is not None:
        from hft.adapters.nats import reader as nats_reader  # noqa: PLC0415 (load one broker's client only)

        return nats_reader.follow(nats, prefix, stream, from_start)
    from hft.adapters.kafka import reader as kafka_reader  # noqa: PLC0415

    assert kafka is not None
    return kafka_reader.follow(kafka, prefix, stream, from_start)


async def _print(messages: AsyncIterator[Message], count: int, key: str | None) -> None:
    printed = 0
    async for message in messages:
        if key is not None and message.key != key:
            continue
        sys.stdout.write(message.payload.decode() + "\n")
        sys.stdout.flush()
        printed += 1
        if printed == count:
            return
