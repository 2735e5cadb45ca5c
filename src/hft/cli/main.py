"""The ``hft`` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hft import __version__
from hft.cli.account import account_app
from hft.cli.bench import bench_app
from hft.cli.demo import demo
from hft.cli.serve import serve
from hft.cli.tail import tail
from hft.domain.matching import engine

app = typer.Typer(help="hft: an electronic trading venue you can run on a laptop.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
app.add_typer(account_app, name="account")
app.command()(demo)
app.command()(serve)
app.command()(tail)


@app.command()
def version() -> None:
    """Print the installed version and whether the engine is compiled."""
    build = "compiled" if engine.__file__ and not engine.__file__.endswith(".py") else "pure Python"
    typer.echo(f"hft {__version__} ({build} engine)")


@app.command()
def openapi(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", dir_okay=False, help="Write to this file [default: stdout].")
    ] = None,
) -> None:
    """Print the REST API's OpenAPI document (the dashboard's client is generated from it)."""
    from hft.gateways.rest.openapi import openapi_json  # noqa: PLC0415 (the API loads only for this command)

    document = openapi_json()
    if output is None:
        typer.echo(document, nl=False)
    else:
        output.write_text(document, encoding="utf-8")
