"""`kubectl shortcut operator`: the VirtualNodeShortcut operator, started from the same command.

The CLI never imports kopf (an import contract holds it), so this command only hands its
arguments to `liqoshortcut.operator`, which owns the options and their help, in a fresh
interpreter that replaces this process: signals from kubectl, a terminal or the kubelet reach
the operator itself, and in a container it stays process 1.
"""

from __future__ import annotations

import os
import sys

import typer

OPERATOR_MODULE = "liqoshortcut.operator"
# Every argument, --help included, goes to the operator's own parser.
PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}


def operator(ctx: typer.Context) -> None:
    """Run the VirtualNodeShortcut operator (options: kubectl shortcut operator --help)."""
    os.execv(sys.executable, [sys.executable, "-m", OPERATOR_MODULE, *ctx.args])
