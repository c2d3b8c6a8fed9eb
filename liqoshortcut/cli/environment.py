"""The process's streams and settings, handed to every command instead of read from globals.

Commands write data to `stdout` and everything else to `stderr` through this object, so a test can
pass a fake one (StringIO streams, a chosen TTY-ness) and read back exactly what a user would see.
"""

from __future__ import annotations

import errno
import io
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

    def warn(self, message: str) -> None:
        """One ``warning:`` line on stderr (httpie's ``log_error``): the run goes on."""
        self.stderr.write(f"warning: {message}\n")

    @classmethod
    def from_process(cls) -> Environment:
        # A process started with a standard stream closed (`<&-`, `>&-`) has None there.
        stdout = sys.stdout if sys.stdout is not None else ClosedOutput("stdout")
        stderr = sys.stderr if sys.stderr is not None else open(os.devnull, "w")  # noqa: SIM115
        stderr_isatty = stderr.isatty()
        return cls(
            stdout=stdout,
            stderr=stderr,
            stderr_isatty=stderr_isatty,
            no_color=bool(os.environ.get("NO_COLOR")),
            answers=sys.stdin
            if sys.stdin is not None and sys.stdin.isatty() and stderr_isatty
            else None,
        )


def output_failed(env: Environment) -> bool:
    """Whether ``env``'s stdout refuses what was written to it (a full device, a closed stdout
    or pipe): it still does when flushed again."""
    try:
        env.stdout.flush()
    except (OSError, ValueError):
        return True
    return False


class ClosedOutput(io.StringIO):
    """Standard output of a process started without one: once anything was written, every flush
    refuses it, as a full device does, so that both end the same way (`output.write_data`,
    `app.flushed`). The data is the command's result: losing it silently would not do (stderr,
    which carries only what a person reads, goes to /dev/null instead)."""

    def __init__(self, stream: str) -> None:
        super().__init__()
        self.stream = stream

    def flush(self) -> None:
        if not self.closed and self.tell():
            raise OSError(errno.EBADF, f"{self.stream} is closed")


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
