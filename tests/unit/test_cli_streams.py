"""The console script with a standard stream closed or full: one line and an honest exit code.

Run as a user's shell runs it (`kubectl-shortcut version <&-`), because what is at stake is the
process's own streams, which the in-process runner replaces. No cluster is needed: `version` and
`completion` write data without one, `list` fails before it reaches one. The same ending of a
`create` that changed the clusters is tests/integration/test_cli_endings.py's.
"""

from __future__ import annotations

import errno
import io
import subprocess
import sys
from pathlib import Path

import pytest

from liqoshortcut.cli.environment import Environment
from liqoshortcut.cli.output import OutputFormat, write_data
from liqoshortcut.errors import ExitCode, Unreported, exit_code_for

SCRIPT = str(Path(sys.executable).parent / "kubectl-shortcut")


def shell(command: str) -> subprocess.CompletedProcess[str]:
    """``command`` run by sh with ``$0`` the console script; stderr captured, stdout wherever
    ``command`` sends it (captured when it does not)."""
    return subprocess.run(
        ["sh", "-c", command, SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "exit_code"),
    [
        ("version", ExitCode.SUCCESS),
        ("version -o json", ExitCode.SUCCESS),
        ("completion bash", ExitCode.SUCCESS),
        ("list --kubeconfig /nonexistent", ExitCode.PRECONDITION_FAILED),
    ],
)
def test_a_closed_stdin_is_no_terminal_and_commands_run_as_usual(
    args: str, exit_code: ExitCode
) -> None:
    result = shell(f'"$0" {args} <&-')
    assert result.returncode == exit_code, result.stderr
    assert "Traceback" not in result.stderr
    if exit_code == ExitCode.SUCCESS:
        assert result.stdout
        assert result.stderr == ""


UNWRITABLE = [
    pytest.param(args, stdout, id=f"{args} {name}")
    for args in ("version", "version -o yaml", "completion zsh", "--help")
    for stdout, name in ((">&-", "closed"), (">/dev/full", "full"))
    if (args, name) != ("--help", "full")  # click writes help itself: see the next test
]


@pytest.mark.parametrize(("args", "stdout"), UNWRITABLE)
def test_output_that_cannot_be_written_is_one_line_saying_the_command_completed(
    args: str, stdout: str
) -> None:
    result = shell(f'"$0" {args} {stdout}')
    assert result.returncode == ExitCode.UNREPORTED, result.stderr
    reason = "stdout is closed" if stdout == ">&-" else "No space left on device"
    assert result.stderr == (
        f"error: the command completed, but its output could not be written: {reason}\n"
    )


def test_help_to_a_full_device_is_one_line_and_claims_no_rollback() -> None:
    """click's help goes past `output.emit`, and a full device, unlike a closed stdout, forgets
    what it refused: the error cannot be told from any other, so it is named as unexpected."""
    result = shell('"$0" --help >/dev/full')
    assert result.returncode == ExitCode.UNEXPECTED
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: unexpected OSError: [Errno 28] No space left on device; ")


def test_a_closed_stdout_and_stderr_still_end_in_the_exit_code() -> None:
    result = shell('"$0" version >&- 2>&-')
    assert result.returncode == ExitCode.UNREPORTED


class FullDevice(io.StringIO):
    """/dev/full: takes writes into its buffer, refuses them when flushed."""

    def flush(self) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_the_output_writer_names_what_stays_done_when_its_output_is_refused() -> None:
    env = Environment(FullDevice(), io.StringIO(), False, True)
    text = "shortcut edge-a--edge-b connected"
    with pytest.raises(Unreported) as raised:
        write_data(env, OutputFormat.JSON, {"name": "edge-a--edge-b"}, text=text, done=text)
    assert str(raised.value) == (
        "shortcut edge-a--edge-b connected, but its output could not be written: "
        "No space left on device"
    )
    assert exit_code_for(raised.value) == ExitCode.UNREPORTED


@pytest.mark.parametrize(
    ("stdout", "reason"), [(">&-", "stdout is closed"), (">/dev/full", "No space left on device")]
)
def test_kubectl_s_completion_script_with_a_refused_stdout_ends_in_one_line(
    stdout: str, reason: str
) -> None:
    completer = str(Path(sys.executable).parent / "kubectl_complete-shortcut")
    result = subprocess.run(
        ["sh", "-c", f'"$0" cr {stdout}', completer],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == ExitCode.UNREPORTED
    assert result.stderr == (
        f"error: the command completed, but its output could not be written: {reason}\n"
    )
