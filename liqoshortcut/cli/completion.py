"""Shell completion, generated from the command tree itself so that it never falls out of step.

Two ways in:

- `kubectl shortcut <TAB>`: since kubectl 1.26, kubectl completes a plugin `kubectl-X` by running an
  executable `kubectl_complete-X` found on PATH with the words after `kubectl X` (the last one being
  the word under the cursor, possibly empty), and reads back candidates one per line, optionally
  `candidate<TAB>description`, then a `:<directive>` line, as cobra's hidden `__complete` command
  prints them. `cli.kubectl_complete` is that executable (a console script of this package).
- `kubectl-shortcut <TAB>`: the scripts `completion SHELL` prints (checked in under completions/)
  call back into `kubectl-shortcut` with `_KUBECTL_SHORTCUT_COMPLETE` set, which typer answers.

Both ask click's completion machinery, which typer vendors as `typer._click`; typer registers
its own shell classes (matching its scripts) only for apps with `add_completion=True`, and ours
has a `completion` command instead, so this module registers them.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from typer._completion_classes import completion_init
from typer._completion_shared import get_completion_script

from liqoshortcut.cli.environment import environment
from liqoshortcut.cli.output import emit

EXECUTABLE = "kubectl-shortcut"  # the console script that kubectl's plugin discovery finds
COMPLETE_VAR = "_KUBECTL_SHORTCUT_COMPLETE"  # what the scripts set to ask for candidates
NO_FILE_COMPLETION = 4  # cobra's ShellCompDirectiveNoFileComp: offer no file names either

completion_init()


class Shell(StrEnum):
    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"


def completion(
    ctx: typer.Context,
    shell: Annotated[
        Shell, typer.Argument(case_sensitive=False, metavar="SHELL", help="Shell to complete for.")
    ],
) -> None:
    """Print the completion script for kubectl-shortcut in SHELL.

    Load it with e.g. `source <(kubectl-shortcut completion bash)`. `kubectl shortcut <TAB>` needs
    no script: kubectl (1.26 or later) runs kubectl_complete-shortcut, installed with this package.
    """
    emit(environment(ctx), completion_script(shell) + "\n")


def completion_script(shell: Shell) -> str:
    return get_completion_script(prog_name=EXECUTABLE, complete_var=COMPLETE_VAR, shell=shell.value)


def write_completion_scripts(directory: Path) -> list[Path]:
    """Write `kubectl-shortcut.<shell>` for every shell into `directory`; return the paths."""
    paths = [directory / f"{EXECUTABLE}.{shell.value}" for shell in Shell]
    for shell, path in zip(Shell, paths, strict=True):
        path.write_text(completion_script(shell) + "\n")
    return paths
