"""Options shared by the commands that talk to clusters, in liqoctl's vocabulary.

The flags of a two-edge command (`create`, `delete`) are declared once, as `ClusterOptions`
(kubectl's ``ConfigFlags``): `with_cluster_options` puts them in the command's signature, where
its ``clusters`` parameter stands, and hands the command one value built from them.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, cast, get_type_hints

import typer

from liqoshortcut.errors import UsageError

if TYPE_CHECKING:
    from liqoshortcut.workflow.clusters import Cluster, Kubeconfig, ResolvedContext

DEFAULT_TIMEOUT = "120s"  # liqoctl's default --timeout is 2m
MIN_TIMEOUT_SECONDS = 10  # below this even a healthy pair cannot finish the sequence

P = ParamSpec("P")

# The flag that sets each spec field, so that a bad value is blamed on what the user typed.
FIELD_FLAGS = {"server_edge": "--server-edge", "liqo_namespace": "--liqo-namespace"}

EdgeAArgument = Annotated[
    str, typer.Argument(metavar="EDGE_A", help="Kubeconfig context of the first edge.")
]
EdgeBArgument = Annotated[
    str, typer.Argument(metavar="EDGE_B", help="Kubeconfig context of the second edge.")
]
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


@dataclass(frozen=True)
class ClusterOptions:
    """Where the three clusters are and how long a run may take: a two-edge command's flags."""

    kubeconfig: KubeconfigOption = None
    context: ContextOption = None
    edge_a_kubeconfig: EdgeAKubeconfigOption = None
    edge_b_kubeconfig: EdgeBKubeconfigOption = None
    liqo_namespace: LiqoNamespaceOption = "liqo"
    timeout: TimeoutOption = DEFAULT_TIMEOUT

    @functools.cached_property
    def seconds(self) -> float:
        return timeout_seconds(self.timeout)

    @functools.cached_property
    def loaded(self) -> Kubeconfig:
        from liqoshortcut.workflow.clusters import load

        return load(self.kubeconfig, "--kubeconfig")

    def edge_kubeconfigs(self, edge_a: str, edge_b: str) -> dict[str, Kubeconfig]:
        """The edges given their own kubeconfig file, by context name."""
        from liqoshortcut.workflow.clusters import load

        return {
            edge: load(path, flag)
            for edge, path, flag in (
                (edge_a, self.edge_a_kubeconfig, "--edge-a-kubeconfig"),
                (edge_b, self.edge_b_kubeconfig, "--edge-b-kubeconfig"),
            )
            if path is not None
        }

    def connector(self) -> Callable[[ResolvedContext, str], Cluster]:
        """Clients whose exec plugins too end within --timeout."""
        from liqoshortcut.workflow.clusters import edge_connector

        return edge_connector(self.seconds)


def with_cluster_options(command: Callable[P, None]) -> Callable[P, None]:
    """``command`` with `ClusterOptions`' flags where its ``clusters`` parameter stands."""
    signature = inspect.signature(command, eval_str=True)
    hints = get_type_hints(ClusterOptions, include_extras=True)  # the typer.Option()s kept
    flags = [
        inspect.Parameter(
            f.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=f.default,
            annotation=hints[f.name],
        )
        for f in fields(ClusterOptions)
    ]
    parameters = []
    for parameter in signature.parameters.values():
        if parameter.name == "clusters":
            parameters += flags
        else:
            parameters.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))

    @functools.wraps(command)
    def with_clusters(**given: Any) -> None:
        clusters = ClusterOptions(**{f.name: given.pop(f.name) for f in fields(ClusterOptions)})
        run: Callable[..., None] = command
        run(clusters=clusters, **given)

    with_clusters.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return cast("Callable[P, None]", with_clusters)
