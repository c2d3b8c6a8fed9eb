from __future__ import annotations

import sys
from pathlib import Path

import pytest

from liqoshortcut.cli.completion import Shell, write_completion_scripts
from liqoshortcut.cli.kubectl_complete import kubectl_candidates
from tests.unit.cli_runner import run_cli

COMMITTED = Path(__file__).parents[2] / "completions"


def candidates(*words: str) -> list[str]:
    """The values kubectl_complete-shortcut offers for WORDS, without descriptions or directive."""
    *lines, directive = kubectl_candidates(words).splitlines()
    assert directive == ":4", "kubectl must be told not to complete file names"
    return [line.split("\t")[0] for line in lines]


def test_kubectl_completion_offers_every_command_for_an_empty_word() -> None:
    assert candidates("") == [
        "create",
        "delete",
        "list",
        "status",
        "explain",
        "version",
        "completion",
        "operator",
    ]


def test_kubectl_completion_offers_only_commands_starting_with_the_typed_prefix() -> None:
    assert candidates("v") == ["version"]
    assert candidates("x") == []


def test_kubectl_completion_offers_the_values_of_an_option() -> None:
    assert candidates("version", "-o", "j") == ["json"]


def test_kubectl_completion_describes_commands_after_a_tab() -> None:
    assert "version\tPrint the version of liqo-shortcut.\n" in kubectl_candidates([""])


@pytest.mark.parametrize("shell", list(Shell))
def test_completion_command_prints_the_committed_script(shell: Shell) -> None:
    result = run_cli("completion", shell.value)

    assert result.exit_code == 0
    assert result.stdout == (COMMITTED / f"kubectl-shortcut.{shell.value}").read_text()


def test_committed_completion_scripts_match_the_command_tree(tmp_path: Path) -> None:
    for generated in write_completion_scripts(tmp_path):
        committed = COMMITTED / generated.name
        stale = not committed.exists() or committed.read_text() != generated.read_text()
        assert not stale, f"completions/{generated.name} is stale: run make completions"


def test_completion_scripts_name_no_path_of_this_machine(tmp_path: Path) -> None:
    machine_paths = {sys.prefix, sys.executable, str(Path.home()), str(COMMITTED.parent)}
    for script in write_completion_scripts(tmp_path):
        text = script.read_text()
        assert not [path for path in machine_paths if path in text], script.name
