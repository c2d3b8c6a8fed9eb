from __future__ import annotations

from liqoshortcut.errors import ExitCode
from tests.unit.cli_runner import run_cli


def test_help_speaks_of_kubectl_shortcut() -> None:
    result = run_cli("--help")

    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: kubectl shortcut [OPTIONS] COMMAND")


def test_help_epilog_lists_every_exit_code_with_its_meaning() -> None:
    help_text = run_cli("--help").stdout
    epilog = help_text[help_text.index("Exit codes:") :]

    for code in ExitCode:
        assert f"{code.value:<4} {code.meaning}" in epilog, code.name


def test_no_command_shows_the_help_as_a_usage_error() -> None:
    result = run_cli()

    assert result.exit_code == 2
    assert "Commands:" in result.stderr
