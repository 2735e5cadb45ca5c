"""``python -m hft``: the same as the ``hft`` command."""

from hft.cli.main import app

app(prog_name="hft")
