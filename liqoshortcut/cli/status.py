"""`kubectl shortcut status EDGE_A EDGE_B`: how the shortcut between two edges is doing.

Read from the central cluster alone, from the VirtualNodeShortcut that joins the two edges (any
namespace): its conditions, each edge's Connection and latency, the path decision with both
latencies, the routed Services, and the last path switches (the operator's Events). A shortcut
made by `create` without the operator has no such status: the command says so and where to look,
also when central has no VirtualNodeShortcut CRD at all.
"""

from __future__ import annotations

from typing import Annotated

import typer

from liqoshortcut.cli.environment import environment
from liqoshortcut.cli.options import ContextOption, KubeconfigOption
from liqoshortcut.cli.output import OutputFormat, OutputOption, write_data


def status(
    ctx: typer.Context,
    edge_a: Annotated[
        str, typer.Argument(metavar="EDGE_A", help="Name of one edge, as in the shortcut's spec.")
    ],
    edge_b: Annotated[str, typer.Argument(metavar="EDGE_B", help="Name of the other edge.")],
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
    output: OutputOption = OutputFormat.TEXT,
) -> None:
    """Show the health, latencies, routed Services and last path switches of a shortcut."""
    from liqoshortcut.core.explain import report, report_text, switches
    from liqoshortcut.core.words import cut, shown
    from liqoshortcut.errors import PreconditionFailed, UsageError
    from liqoshortcut.kube import events, liqo
    from liqoshortcut.kube.clients import connect_central
    from liqoshortcut.kube.errors import ShortcutCrdMissing
    from liqoshortcut.kube.kubeconfig import load_kubeconfig
    from liqoshortcut.kube.resources import VIRTUAL_NODE_SHORTCUT

    if edge_a == edge_b:
        raise UsageError(f"both edges are {shown(edge_a)}: name the two edges of a shortcut")
    env = environment(ctx)
    found_central = connect_central(load_kubeconfig(kubeconfig), context)
    central, resolved = found_central.cluster, found_central.context
    elsewhere = (
        "a shortcut made by `kubectl shortcut create` shows in `kubectl shortcut list`, its "
        f"tunnel in `kubectl --context {cut(edge_a)} get connections.networking.liqo.io -A`"
    )
    try:
        resources = liqo.list_objects(central, VIRTUAL_NODE_SHORTCUT)
    except ShortcutCrdMissing:
        raise PreconditionFailed(
            f"the VirtualNodeShortcut CRD is not installed in the central cluster (context "
            f"{resolved.context}), so no shortcut there has the operator's status; {elsewhere}"
        ) from None
    wanted = {edge_a, edge_b}
    joining = [
        resource
        for resource in resources
        if {str(e.get("name")) for e in (resource.get("spec") or {}).get("edges") or []} == wanted
    ]
    if not joining:
        raise PreconditionFailed(
            f"no VirtualNodeShortcut joins {cut(edge_a)} and {cut(edge_b)} in the central cluster "
            f"(context {resolved.context}); a shortcut made by `kubectl shortcut create` shows "
            "in `kubectl shortcut list`, and only the operator watches its health"
        )
    reports = [report(resource, switches(events.about(central, resource))) for resource in joining]
    data = {"shortcuts": reports}
    write_data(env, output, data, text="\n".join(report_text(r) for r in reports))
