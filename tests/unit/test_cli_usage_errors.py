"""A usage error is one line naming an argument as `--help` names it (EDGE_A, not edge_a)."""

from __future__ import annotations

import pytest

from liqoshortcut.errors import ExitCode
from tests.unit.cli_runner import run_cli


@pytest.mark.parametrize(
    ("argv", "missing"),
    [
        (["create"], "EDGE_A"),
        (["create", "edge-a"], "EDGE_B"),
        (["delete", "edge-a"], "EDGE_B"),
        (["status"], "EDGE_A"),
        (["explain"], "SERVICE"),
        (["completion"], "SHELL"),
    ],
)
def test_a_missing_argument_is_named_as_the_help_names_it_in_one_line(
    argv: list[str], missing: str
) -> None:
    result = run_cli(*argv)
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.startswith(f"error: Missing argument '{missing}'.")
    assert result.stderr.endswith(f"(see kubectl shortcut {argv[0]} --help)\n")
    assert result.stderr.count("\n") == 1
    usage = run_cli(argv[0], "--help").stdout.splitlines()[0]
    assert missing in usage


def test_a_choice_error_lists_the_choices_on_the_same_line() -> None:
    result = run_cli("completion")
    assert result.stderr == (
        "error: Missing argument 'SHELL'. Choose from: bash, zsh, fish "
        "(see kubectl shortcut completion --help)\n"
    )
