"""`-o text|json|yaml`: one option and one writer, so every command prints data the same way.

Data goes to stdout and nothing else does, so `kubectl shortcut ... -o json | jq` always parses.
json and yaml are imported only when asked for, to keep the other paths fast.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Annotated

import typer

from liqoshortcut.cli.environment import Environment


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    YAML = "yaml"


OutputOption = Annotated[
    OutputFormat,
    typer.Option("-o", "--output", case_sensitive=False, help="Output format."),
]


def write_data(
    env: Environment, output: OutputFormat, data: Mapping[str, object], text: str
) -> None:
    """Print `data` as json or yaml, or `text` (its rendering for people) for `-o text`."""
    if output is OutputFormat.JSON:
        import json

        env.stdout.write(json.dumps(data, indent=2) + "\n")
    elif output is OutputFormat.YAML:
        import yaml

        env.stdout.write(yaml.safe_dump(dict(data), sort_keys=False))
    else:
        env.stdout.write(text + "\n")


def table(rows: Sequence[Sequence[str]]) -> str:
    """Rows as `kubectl get` prints them: columns padded to their widest, three spaces apart."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
