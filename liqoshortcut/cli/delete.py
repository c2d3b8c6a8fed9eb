"""`kubectl shortcut delete EDGE_A EDGE_B`: remove exactly what `create` made, and nothing else."""

from __future__ import annotations

from typing import Annotated

import typer

from liqoshortcut.cli.environment import confirmed, environment
from liqoshortcut.cli.options import (
    DEFAULT_TIMEOUT,
    ContextOption,
    EdgeAKubeconfigOption,
    EdgeBKubeconfigOption,
    KubeconfigOption,
    LiqoNamespaceOption,
    QuietOption,
    TimeoutOption,
    YesOption,
    edge_kubeconfigs,
    timeout_seconds,
)
from liqoshortcut.cli.output import OutputFormat, OutputOption, write_data


def delete(
    ctx: typer.Context,
    edge_a: Annotated[
        str, typer.Argument(metavar="EDGE_A", help="Kubeconfig context of the first edge.")
    ],
    edge_b: Annotated[
        str, typer.Argument(metavar="EDGE_B", help="Kubeconfig context of the second edge.")
    ],
    wait: Annotated[
        bool,
        typer.Option(
            "--wait/--no-wait",
            help="Wait until every deleted object is gone, as kubectl delete does; --no-wait "
            "returns once the API servers accepted the deletions, as liqoctl network reset does.",
        ),
    ] = True,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
    edge_a_kubeconfig: EdgeAKubeconfigOption = None,
    edge_b_kubeconfig: EdgeBKubeconfigOption = None,
    liqo_namespace: LiqoNamespaceOption = "liqo",
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
    quiet: QuietOption = False,
    output: OutputOption = OutputFormat.TEXT,
    yes: YesOption = False,
) -> None:
    """Tear down the shortcut between EDGE_A and EDGE_B; a missing one is not an error."""
    from liqoshortcut.cli.progress import reporter
    from liqoshortcut.errors import Interrupted, PreconditionFailed
    from liqoshortcut.kube.clients import connector
    from liqoshortcut.kube.kubeconfig import load_kubeconfig
    from liqoshortcut.workflow.disconnect import disconnect
    from liqoshortcut.workflow.preflight import prepare_teardown
    from liqoshortcut.workflow.records import forget, owning_resource
    from liqoshortcut.workflow.routing import service_name, shortcut_key, unroute
    from liqoshortcut.workflow.waiting import Deadline

    env = environment(ctx)
    seconds = timeout_seconds(timeout)
    deadline = Deadline(seconds)
    preflight = prepare_teardown(
        load_kubeconfig(kubeconfig),
        central_context=context,
        edge_contexts=(edge_a, edge_b),
        liqo_namespace=liqo_namespace,
        edge_kubeconfigs=edge_kubeconfigs(edge_a, edge_a_kubeconfig, edge_b, edge_b_kubeconfig),
        connector=connector(seconds),  # exec plugins too end within --timeout
    )
    plan = preflight.plan
    name = plan.shortcut
    owner = owning_resource(preflight.central, {edge.cluster_id for edge in plan.edges.values()})
    if owner is not None:
        raise PreconditionFailed(
            f"shortcut {name} belongs to VirtualNodeShortcut {owner.source}, whose operator would "
            f"make it again: delete that instead (kubectl delete virtualnodeshortcut -n "
            f"{owner.source.replace('/', ' ')})"
        )
    edges = " and ".join(edge.name for edge in plan.edges.values())
    question = f"Delete shortcut {name} and every object it made on {edges}?"
    if not yes and not confirmed(env, question):
        raise Interrupted("not confirmed: nothing was deleted")
    with reporter(env, quiet) as report:
        # Traffic first: a Service still annotated would lose its path with the tunnel.
        unrouted = unroute(preflight.central, shortcut_key(plan), report)
        removed = disconnect(plan, preflight.edges, deadline, report, wait=wait)
    for warning in unrouted.warnings:
        env.stderr.write(f"warning: {warning}\n")
    recorded = forget(preflight.central, liqo_namespace, name)
    services = [service_name(key) for key in unrouted.services]
    back = (
        f"; {len(services)} Service{'' if len(services) == 1 else 's'} back on the hub path"
        if services
        else ""
    )
    text = (
        f"shortcut {name} deleted ({removed} object{'' if removed == 1 else 's'} removed{back})"
        if removed or recorded or services
        else f"shortcut {name} not found: nothing to delete"
    )
    data = {
        "name": name,
        "removed": removed,
        "recordRemoved": recorded,
        "unroutedServices": services,
    }
    write_data(env, output, data, text=text)
