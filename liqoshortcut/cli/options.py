"""Options shared by the commands that talk to clusters, in liqoctl's vocabulary."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from liqoshortcut.errors import UsageError

if TYPE_CHECKING:
    from liqoshortcut.kube.kubeconfig import Kubeconfig

DEFAULT_TIMEOUT = "120s"  # liqoctl's default --timeout is 2m
MIN_TIMEOUT_SECONDS = 10  # below this even a healthy pair cannot finish the sequence

# The flag that sets each spec field, so that a bad value is blamed on what the user typed.
FIELD_FLAGS = {"server_edge": "--server-edge", "liqo_namespace": "--liqo-namespace"}

KubeconfigOption = Annotated[
    Path | None,
    typer.Option("--kubeconfig", help="Kubeconfig file (default: KUBECONFIG, ~/.kube/config)."),
]
EdgeAKubeconfigOption = Annotated[
    Path | None,
    typer.Option("--edge-a-kubeconfig", help="Kubeconfig holding EDGE_A (default: --kubeconfig)."),
]
EdgeBKubeconfigOption = Annotated[
    Path | None,
    typer.Option("--edge-b-kubeconfig", help="Kubeconfig holding EDGE_B (default: --kubeconfig)."),
]
ContextOption = Annotated[
    str | None,
    typer.Option("--context", help="Context of the central cluster (default: current context)."),
]
LiqoNamespaceOption = Annotated[
    str, typer.Option("--liqo-namespace", help="Namespace where Liqo is installed.")
]
TimeoutOption = Annotated[
    str, typer.Option("--timeout", help="Time budget for the whole run, e.g. 90s, 2m.")
]
QuietOption = Annotated[bool, typer.Option("-q", "--quiet", help="No progress on stderr.")]
YesOption = Annotated[
    bool,
    typer.Option(
        "-y", "--yes", help="Do not ask for confirmation (never asked without a terminal)."
    ),
]


def edge_kubeconfigs(
    edge_a: str, edge_a_kubeconfig: Path | None, edge_b: str, edge_b_kubeconfig: Path | None
) -> dict[str, Kubeconfig]:
    """The edges given their own kubeconfig file, by context name."""
    from liqoshortcut.kube.kubeconfig import load_kubeconfig

    given = {
        edge: load_kubeconfig(path, flag=flag)
        for edge, path, flag in (
            (edge_a, edge_a_kubeconfig, "--edge-a-kubeconfig"),
            (edge_b, edge_b_kubeconfig, "--edge-b-kubeconfig"),
        )
        if path is not None
    }
    return given


def timeout_seconds(value: str) -> float:
    """liqoctl-style durations (``90s``, ``2m``, ``1m30s``) or plain seconds."""
    from liqoshortcut.core import durations

    text = value.strip()
    seconds = float(text) if text.isdigit() else durations.seconds(text)
    if seconds is None:
        raise UsageError(f"invalid --timeout {value!r}: use a duration such as 90s or 2m")
    if seconds < MIN_TIMEOUT_SECONDS:
        raise UsageError(f"--timeout {value} is too small: give at least {MIN_TIMEOUT_SECONDS}s")
    return seconds
