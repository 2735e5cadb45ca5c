"""``hft account ...``: open accounts, on a running server (admin API) or in a stopped one's data directory."""

from __future__ import annotations

import asyncio
import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Annotated

import typer

from hft.config.settings import SettingsError, load_settings
from hft.core.fixedpoint import Rejection, parse_decimal
from hft.gateways.rest.convert import InputError, cash_units
from hft.service.venue import CommandRefusedError, DataDirectoryInUseError, Venue

account_app = typer.Typer(help="Manage accounts.", no_args_is_help=True)


@account_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The account's name (1 to 100 printable characters).")],
    cash: Annotated[str, typer.Option(help="Starting cash in the quote currency.")] = "0",
    url: Annotated[
        str | None,
        typer.Option(help="A running server's base URL (uses HFT_ADMIN_TOKEN); without it, open --data-dir directly."),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(file_okay=False, help="Data directory of a stopped venue [default: ./data].")
    ] = None,
) -> None:
    """Open an account and print its id and API key as JSON (the key is shown only this once)."""
    body = {"name": name, "cash": cash}
    result = _create_online(url.rstrip("/"), body) if url else _create_offline(data_dir, name, cash)
    typer.echo(json.dumps(result))


def _create_online(url: str, body: dict[str, str]) -> dict[str, object]:
    token = os.environ.get("HFT_ADMIN_TOKEN")
    if not token:
        raise typer.BadParameter("set HFT_ADMIN_TOKEN to the server's admin token", param_hint="--url")
    request = urllib.request.Request(
        f"{url}/api/admin/accounts",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            result: dict[str, object] = json.loads(response.read())
            return result
    except urllib.error.HTTPError as error:
        typer.secho(f"error: {error.code} {error.read().decode(errors='replace')}", err=True, fg="red")
        raise typer.Exit(1) from error
    except (urllib.error.URLError, OSError) as error:
        typer.secho(f"error: cannot reach {url}: {error}", err=True, fg="red")
        raise typer.Exit(1) from error


def _create_offline(data_dir: Path | None, name: str, cash: str) -> dict[str, object]:
    amount = parse_decimal(cash)
    if isinstance(amount, Rejection):
        raise typer.BadParameter(f"{cash!r} is not a number", param_hint="--cash")
    try:
        settings = load_settings(overrides={"data_dir": data_dir, "demo_account": False})
        units = cash_units(amount, "cash")
    except (SettingsError, InputError) as error:
        raise typer.BadParameter(str(error)) from error

    async def run() -> tuple[int, str]:
        venue = Venue(settings)
        await venue.start()
        try:
            return await venue.create_account(name, units)
        finally:
            await venue.stop()

    try:
        account_id, api_key = asyncio.run(run())
    except DataDirectoryInUseError as error:
        typer.secho(f"error: {error} (or pass --url of the running server)", err=True, fg="red")
        raise typer.Exit(1) from error
    except CommandRefusedError as error:
        typer.secho(f"error: {error.reason}: {error}", err=True, fg="red")
        raise typer.Exit(1) from error
    return {"account_id": account_id, "name": name, "api_key": api_key}
