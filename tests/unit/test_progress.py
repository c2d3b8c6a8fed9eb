"""The CLI's progress reporter: live on a terminal, plain lines in logs, nothing with -q."""

from __future__ import annotations

import io
import re
import time

from liqoshortcut.cli.environment import Environment
from liqoshortcut.cli.progress import reporter
from liqoshortcut.workflow.progress import Phase, ProgressEvent

STEP = "wait for gateway pod gw-edge-b to be ready"
GREEN = "\x1b[32m"
ANSI_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_steps(*, tty: bool, quiet: bool = False, no_color: bool = True) -> str:
    stderr = io.StringIO()
    env = Environment(io.StringIO(), stderr, stderr_isatty=tty, no_color=no_color)
    with reporter(env, quiet) as report:
        report(ProgressEvent(Phase.STARTED, STEP, "edge-a"))
        time.sleep(0.4)  # a few refreshes of the live display
        report(ProgressEvent(Phase.DONE, STEP, "edge-a"))
        report(ProgressEvent(Phase.FAILED, "create PublicKey x/y", "edge-b", "refused"))
    return stderr.getvalue()


def test_in_a_log_each_finished_step_is_one_timestamped_line() -> None:
    lines = run_steps(tty=False).splitlines()
    assert len(lines) == 2  # a start is not a line of its own
    assert re.fullmatch(rf"\d\d:\d\d:\d\d edge-a     {STEP}: done", lines[0])
    assert lines[1].endswith("edge-b     create PublicKey x/y: failed (refused)")


def test_on_a_terminal_a_step_under_way_spins_with_its_time_then_prints_its_mark() -> None:
    shown = run_steps(tty=True)
    visible = ANSI_CONTROL.sub("", shown)
    assert f"edge-a {STEP} 0s" in visible  # the spinner line, while waiting
    assert f"✓ edge-a {STEP}\n" in visible
    assert "✗ edge-b create PublicKey x/y (refused)\n" in visible
    assert GREEN not in shown  # NO_COLOR


def test_on_a_terminal_marks_are_coloured_unless_no_color() -> None:
    assert GREEN in run_steps(tty=True, no_color=False)


def test_quiet_prints_nothing_anywhere() -> None:
    assert run_steps(tty=True, quiet=True) == ""
    assert run_steps(tty=False, quiet=True) == ""
