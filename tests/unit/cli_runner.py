"""Run the CLI in-process against a fake environment and read back what a user would see."""

from __future__ import annotations

import io
from dataclasses import dataclass

from liqoshortcut.cli.app import run
from liqoshortcut.cli.environment import Environment


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str) -> Result:
    """`run_cli("version", "-o", "json")` runs `kubectl shortcut version -o json` on StringIOs."""
    stdout, stderr = io.StringIO(), io.StringIO()
    env = Environment(stdout=stdout, stderr=stderr, stderr_isatty=False, no_color=True)
    exit_code = run(args, env)
    return Result(exit_code, stdout.getvalue(), stderr.getvalue())
