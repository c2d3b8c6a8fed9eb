"""The process's streams and settings, handed to every command instead of read from globals.

Commands write data to `stdout` and everything else to `stderr` through this object, so a test can
pass a fake one (StringIO streams, a chosen TTY-ness) and read back exactly what a user would see.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TextIO

import typer


@dataclass(slots=True)
class Environment:
    """Where a command writes, and how it should decorate what it writes."""

    stdout: TextIO
    stderr: TextIO
    stderr_isatty: bool  # live progress on a terminal, plain lines in CI logs
    no_color: bool  # https://no-color.org: set and non-empty means no colour
    verbosity: int = 0  # set once from -v by the root callback; >= 1 shows stack traces
    # Where a person can answer a confirmation; None when nobody is at a terminal (scripts, CI),
    # where commands never ask and proceed as with --yes.
    answers: TextIO | None = None

    @classmethod
    def from_process(cls) -> Environment:
        return cls(
            stdout=sys.stdout,
            stderr=sys.stderr,
            stderr_isatty=sys.stderr.isatty(),
            no_color=bool(os.environ.get("NO_COLOR")),
            answers=sys.stdin if sys.stdin.isatty() and sys.stderr.isatty() else None,
        )


def confirmed(env: Environment, question: str) -> bool:
    """Ask ``question`` on stderr and read y/N, when someone can answer; else yes."""
    if env.answers is None:
        return True
    env.stderr.write(f"{question} [y/N]: ")
    env.stderr.flush()
    return env.answers.readline().strip().lower() in ("y", "yes")


def environment(ctx: typer.Context) -> Environment:
    """The environment `liqoshortcut.cli.app.run` put into the click context."""
    env = ctx.find_root().obj
    if not isinstance(env, Environment):
        raise TypeError("commands must be run through liqoshortcut.cli.app.run, which injects one")
    return env
