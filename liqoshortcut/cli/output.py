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
from liqoshortcut.errors import Unreported


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    YAML = "yaml"


OutputOption = Annotated[
    OutputFormat,
    typer.Option("-o", "--output", case_sensitive=False, help="Output format."),
]


def write_data(
    env: Environment,
    output: OutputFormat,
    data: Mapping[str, object],
    text: str,
    *,
    done: str | None = None,
) -> None:
    """Print `data` as json or yaml, or `text` (its rendering for people) for `-o text`.

    Written out at once, so that a full device or a closed stdout shows here, as `Unreported`:
    ``done`` says in one line what the command did, which stays done (default: that it
    completed).
    """
    if output is OutputFormat.JSON:
        import json

        rendered = json.dumps(data, indent=2) + "\n"
    elif output is OutputFormat.YAML:
        import yaml

        rendered = yaml.safe_dump(dict(data), sort_keys=False)
    else:
        rendered = text + "\n"
    emit(env, rendered, done=done)


def emit(env: Environment, rendered: str, *, done: str | None = None) -> None:
    """Write ``rendered`` to stdout at once; `Unreported` if it is refused (see `write_data`)."""
    try:
        env.stdout.write(rendered)
        env.stdout.flush()
    except (OSError, ValueError) as error:  # ValueError: the stream was closed
        raise Unreported(
            f"{done or 'the command completed'}, but its output could not be written: "
            f"{write_failure(error)}"
        ) from error


def write_failure(error: BaseException) -> str:
    """Why writing failed, in a few words: ``No space left on device``, ``stdout is closed``."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return " ".join(str(error).split()) or type(error).__name__


def table(rows: Sequence[Sequence[str]]) -> str:
    """Rows as `kubectl get` prints them: columns padded to their widest, three spaces apart."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
