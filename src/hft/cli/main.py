"""The ``hft`` command line."""

from __future__ import annotations

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
