"""`kubectl shortcut explain SERVICE`: which path a Service's traffic between edges takes, and why.

Read from the central cluster alone: the Service, its EndpointSlices and the virtual nodes they
name, the VirtualNodeShortcuts of every namespace (their statuses carry health and path), the
records `create` keeps in Liqo's namespace and the statuses (where each edge reaches the other's
pods over a shortcut), and central's Configurations (the edges' pod CIDRs). Nothing is changed.
"""

from __future__ import annotations

from typing import Annotated

import typer

from liqoshortcut.cli.environment import environment
from liqoshortcut.cli.options import ContextOption, KubeconfigOption, LiqoNamespaceOption
from liqoshortcut.cli.output import OutputFormat, OutputOption, write_data


def explain(
    ctx: typer.Context,
    service: Annotated[
        str, typer.Argument(metavar="SERVICE", help="Name of a Service in the central cluster.")
    ],
    namespace: Annotated[
        str | None,
        typer.Option("-n", "--namespace", help="The Service's namespace (default: the context's)."),
    ] = None,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
    liqo_namespace: LiqoNamespaceOption = "liqo",
    output: OutputOption = OutputFormat.TEXT,
) -> None:
    """Say which path SERVICE's traffic between edges takes now, and why."""
    from liqoshortcut.workflow.clusters import central, load
    from liqoshortcut.workflow.observe import explain_service

    env = environment(ctx)
    explanation = explain_service(
        central(load(kubeconfig, "--kubeconfig"), context), service, namespace, liqo_namespace
    )
    write_data(env, output, explanation.as_dict(), text=explanation.text())
