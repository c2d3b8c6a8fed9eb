"""`kubectl_complete-shortcut`: what kubectl runs to complete `kubectl shortcut <TAB>` (see
`cli.completion`), asking the command tree itself. A module of its own because it needs the
whole tree (`cli.app`), which `cli.completion`, one of its commands, must not import.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence

from typer._completion_classes import BashComplete

from liqoshortcut.cli.app import PROG_NAME, flushed, root_command
from liqoshortcut.cli.completion import COMPLETE_VAR, NO_FILE_COMPLETION
from liqoshortcut.cli.environment import Environment
from liqoshortcut.cli.output import emit
from liqoshortcut.errors import ExitCode, Unreported


def kubectl_candidates(words: Sequence[str]) -> str:
    """What `kubectl_complete-shortcut WORDS...` prints: cobra's `__complete` output format."""
    *args, incomplete = words or [""]
    # Any shell class will do: get_completions, the only method used, is shell-neutral.
    completer = BashComplete(root_command(), {}, PROG_NAME, COMPLETE_VAR)
    lines = [
        f"{item.value}\t{item.help.splitlines()[0]}" if item.help else str(item.value)
        for item in completer.get_completions(args, incomplete)
    ]
    return "".join(f"{line}\n" for line in [*lines, f":{NO_FILE_COMPLETION}"])


def kubectl_complete() -> None:
    """Entry point of `kubectl_complete-shortcut`, which kubectl runs to complete the plugin.

    Its streams are treated as `kubectl-shortcut`'s are: a closed or full stdout ends in one line
    and exit 5, not a traceback.
    """
    env = Environment.from_process()
    code = ExitCode.SUCCESS
    try:
        emit(env, kubectl_candidates(sys.argv[1:]))
    except Unreported as refused:
        with contextlib.suppress(OSError, ValueError):
            env.stderr.write(f"error: {refused}\n")
        code = ExitCode.UNREPORTED
    sys.exit(flushed(env, code))
