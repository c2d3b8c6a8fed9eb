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
    from liqoshortcut.errors import Interrupted
    from liqoshortcut.kube.clients import connector
    from liqoshortcut.kube.kubeconfig import load_kubeconfig
    from liqoshortcut.workflow.disconnect import disconnect
    from liqoshortcut.workflow.preflight import prepare_teardown
    from liqoshortcut.workflow.records import forget, refuse_owned
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
    refuse_owned(preflight.central, name, {e.cluster_id for e in plan.edges.values()}, "delete")
    edges = " and ".join(edge.name for edge in plan.edges.values())
    question = f"Delete shortcut {name} and every object it made on {edges}?"
    if not yes and not confirmed(env, question):
        raise Interrupted("not confirmed: nothing was deleted")
    with reporter(env, quiet) as report:
        # Traffic first: a Service still annotated would lose its path with the tunnel.
        unrouted = unroute(preflight.central, shortcut_key(plan), report)
        done = disconnect(plan, preflight.edges, deadline, report, wait=wait)
    for warning in [*unrouted.warnings, *map(str, done.kept)]:
        env.warn(warning)
    for left in [] if quiet else done.left_by_liqo:  # information, not a warning: -q hides it
        env.stderr.write(f"note: {left}\n")
    removed = done.removed
    recorded = forget(preflight.central, liqo_namespace, name)
    services = [service_name(key) for key in unrouted.services]
    back = (
        f"; {len(services)} Service{'' if len(services) == 1 else 's'} back on the hub path"
        if services
        else ""
    )
    kept = (
        f"; {len(done.kept)} tenant namespace{'' if len(done.kept) == 1 else 's'} kept, "
        "holding objects not made by liqo-shortcut"
        if done.kept
        else ""
    )
    text = (
        f"shortcut {name} deleted ({removed} object{'' if removed == 1 else 's'} "
        f"removed{back}{kept})"
        if removed or recorded or services or done.kept
        else f"shortcut {name} not found: nothing to delete"
    )
    data = {
        "name": name,
        "removed": removed,
        "recordRemoved": recorded,
        "unroutedServices": services,
        "keptNamespaces": [
            {"cluster": k.cluster, "namespace": k.namespace, "reason": k.reason} for k in done.kept
        ],
        "leftByLiqo": [
            {"cluster": left.cluster, "foreignCluster": left.foreign_cluster}
            for left in done.left_by_liqo
        ],
    }
    write_data(env, output, data, text=text, done=text)
