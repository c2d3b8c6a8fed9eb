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
    from liqoshortcut.core.explain import explain as explained
    from liqoshortcut.core.explain import status_line
    from liqoshortcut.core.record import ShortcutRecord
    from liqoshortcut.core.routing import view_of
    from liqoshortcut.errors import PreconditionFailed
    from liqoshortcut.kube import traffic
    from liqoshortcut.kube.clients import connect_central
    from liqoshortcut.kube.kubeconfig import load_kubeconfig
    from liqoshortcut.kube.traffic import shortcut_resources
    from liqoshortcut.workflow.records import created_records

    env = environment(ctx)
    found_central = connect_central(load_kubeconfig(kubeconfig), context)
    central, resolved = found_central.cluster, found_central.context
    where = namespace or resolved.namespace or "default"
    found = [view for view in traffic.service_views(central) if view.key == (where, service)]
    if not found:
        raise PreconditionFailed(
            f"Service {where}/{service} not found in the central cluster (context "
            f"{resolved.context}); name a Service of central, with -n for its namespace"
        )
    resources = shortcut_resources(central)
    views = [view for view in map(view_of, resources) if view is not None]
    health = {
        f"{r['metadata']['namespace']}/{r['metadata']['name']}": status_line(r) for r in resources
    }
    records = created_records(central, liqo_namespace).records
    records += [ShortcutRecord.from_resource(resource) for resource in resources]
    explanation = explained(found[0], views, health, traffic.edge_pod_cidrs(central), records)
    write_data(env, output, explanation.as_dict(), text=explanation.text())
