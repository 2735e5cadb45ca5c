"""``hft serve``: the whole platform in one process on embedded defaults."""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
from pathlib import Path
from typing import Annotated

import typer
import uvloop
from granian.constants import Interfaces
from granian.log import LogLevels
from granian.server.embed import Server

from hft.config.settings import Settings, SettingsError, load_settings
from hft.engine import memory
from hft.gateways.extra import extra_gateways
from hft.gateways.rest.app import create_asgi_app
from hft.service.venue import DataDirectoryInUseError, Venue

log = logging.getLogger("hft.serve")


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [default: 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(min=0, max=65535, help="HTTP port [default: 8000].")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(file_okay=False, help="Journal, snapshots and SQLite database [default: ./data].")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(dir_okay=False, help="A TOML file of settings (also HFT_CONFIG).")
    ] = None,
) -> None:
    """Run the venue: REST and WebSocket API, journal, database, metrics. Stop with Ctrl-C or SIGTERM."""
    try:
        settings = load_settings(config, overrides={"host": host, "port": port, "data_dir": data_dir})
    except SettingsError as error:
        typer.secho(f"error: {error}", err=True, fg="red")
        raise typer.Exit(2) from error
    configure_logging(settings.log_level)
    try:
        uvloop.run(run_server(settings))
    except DataDirectoryInUseError as error:
        typer.secho(f"error: {error}", err=True, fg="red")
        raise typer.Exit(1) from error
    except SettingsError as error:  # a gateway's own configuration (the FIX sessions file) is read as it starts
        typer.secho(f"error: {error}", err=True, fg="red")
        raise typer.Exit(2) from error
    except OSError as error:
        if error.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            raise
        typer.secho(f"error: {error.strerror}; choose another port", err=True, fg="red")
        raise typer.Exit(1) from error


def configure_logging(level: str) -> None:
    """Log to stderr at ``level``; libraries only speak up for warnings."""
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("alembic", "sqlalchemy", "_granian", "granian"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    # Broker clients log every failed reconnection attempt; the publishers report an outage once, with its cause.
    for broker_client in ("aiokafka", "nats", "redis"):
        logging.getLogger(broker_client).setLevel(logging.CRITICAL)


async def run_server(settings: Settings) -> None:
    """Start the venue, serve HTTP until SIGTERM or SIGINT, then drain, snapshot and close."""
    venue = Venue(settings)
    await venue.start()
    # The read models are a large, long-lived heap: keep the collector from re-scanning it every few requests.
    memory.collect_less_often()
    memory.freeze_long_lived_state()
    server = Server(
        create_asgi_app(venue),
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGINL,
        websockets=True,
        backlog=2048,
        log_level=LogLevels.warning,
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, server.stop)
    gateways = extra_gateways(venue, settings)
    try:
        for gateway in gateways:
            await gateway.start()
        _announce(settings, venue.demo_api_key)
        await server.serve()
    finally:
        log.info("stopping: closing the gateways, draining the core, writing a snapshot, flushing the database")
        for gateway in reversed(gateways):
            await gateway.stop()
        await venue.stop()
        log.info("stopped")


def _announce(settings: Settings, demo_api_key: str | None) -> None:
    base = f"http://{settings.host}:{settings.port}"
    lines = [
        f"hft is serving on {base}",
        f"  API docs   {base}/docs",
        f"  health     {base}/health",
        f"  metrics    {base}/metrics",
        f"  websocket  ws://{settings.host}:{settings.port}/ws",
        *([f"  gRPC       {settings.host}:{settings.grpc_port} (hft.v1.Trading)"] if settings.grpc_enabled else []),
        *(
            [f"  FIX 4.4    {settings.host}:{settings.fix_port} (TargetCompID {settings.fix_comp_id})"]
            if settings.fix_enabled
            else []
        ),
        f"  data       {settings.data_dir.resolve()}",
    ]
    if demo_api_key:
        lines.append(f"  demo API key: {demo_api_key}  (X-API-Key header)")
    typer.echo("\n".join(lines), err=False)
