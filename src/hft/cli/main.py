"""The ``hft`` command line."""

from __future__ import annotations

import typer

app = typer.Typer(help="hft: an electronic trading venue.", no_args_is_help=True)
