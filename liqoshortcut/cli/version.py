"""`kubectl shortcut version`: which liqo-shortcut is on PATH, for people and for bug reports."""

from __future__ import annotations

import typer

from liqoshortcut import __version__
from liqoshortcut.cli.environment import environment
from liqoshortcut.cli.output import OutputFormat, OutputOption, write_data


def version(ctx: typer.Context, output: OutputOption = OutputFormat.TEXT) -> None:
    """Print the version of liqo-shortcut."""
    write_data(
        environment(ctx), output, {"version": __version__}, text=f"liqo-shortcut {__version__}"
    )
