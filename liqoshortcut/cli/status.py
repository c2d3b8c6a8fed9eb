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
    from liqoshortcut.core.explain import report_text
    from liqoshortcut.core.words import shown
    from liqoshortcut.errors import UsageError
    from liqoshortcut.workflow.clusters import central, load
    from liqoshortcut.workflow.observe import shortcut_reports

    if edge_a == edge_b:
        raise UsageError(f"both edges are {shown(edge_a)}: name the two edges of a shortcut")
    env = environment(ctx)
    reports = shortcut_reports(central(load(kubeconfig, "--kubeconfig"), context), edge_a, edge_b)
    data = {"shortcuts": reports}
    write_data(env, output, data, text="\n".join(report_text(r) for r in reports))
