"""`kubectl shortcut operator`: the VirtualNodeShortcut operator, started from the same command.

The CLI never imports kopf (an import contract holds it), so this command only hands its
arguments to `liqoshortcut.operator`, which owns the options and their help, in a fresh
interpreter that replaces this process: signals from kubectl, a terminal or the kubelet reach
the operator itself, and in a container it stays process 1. kopf comes with the ``operator``
extra only, so a plain ``pip install liqo-shortcut`` is told how to get it, before the exec.
"""

from __future__ import annotations

import importlib.util
import os
import sys

import typer

OPERATOR_MODULE = "liqoshortcut.operator"
OPERATOR_FRAMEWORK = "kopf"
MISSING_OPERATOR_EXTRA = (
    "the operator needs kopf, which is installed with the operator extra only: "
    "pip install 'liqo-shortcut[operator]'"
)
# Every argument, --help included, goes to the operator's own parser.
PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}


def operator(ctx: typer.Context) -> None:
    """Run the VirtualNodeShortcut operator (options: kubectl shortcut operator --help)."""
    if importlib.util.find_spec(OPERATOR_FRAMEWORK) is None:
        from liqoshortcut.errors import PreconditionFailed

        raise PreconditionFailed(MISSING_OPERATOR_EXTRA)
    os.execv(sys.executable, [sys.executable, "-m", OPERATOR_MODULE, *ctx.args])
