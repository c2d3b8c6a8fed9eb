"""`kubectl shortcut delete EDGE_A EDGE_B`: remove exactly what `create` made, and nothing else."""

from __future__ import annotations

from typing import Annotated

import typer

from liqoshortcut.cli.environment import confirmed, environment
from liqoshortcut.cli.options import (
    FIELD_FLAGS,
    ClusterOptions,
    EdgeAArgument,
    EdgeBArgument,
    QuietOption,
    YesOption,
    with_cluster_options,
)
from liqoshortcut.cli.output import OutputFormat, OutputOption, write_data


@with_cluster_options
def delete(
    ctx: typer.Context,
    edge_a: EdgeAArgument,
    edge_b: EdgeBArgument,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait/--no-wait",
            help="Wait until every deleted object is gone, as kubectl delete does; --no-wait "
            "returns once the API servers accepted the deletions, as liqoctl network reset does.",
        ),
    ] = True,
    # --kubeconfig, --context, --edge-a/b-kubeconfig, --liqo-namespace, --timeout
    clusters: ClusterOptions = ClusterOptions(),  # noqa: B008
    quiet: QuietOption = False,
    output: OutputOption = OutputFormat.TEXT,
    yes: YesOption = False,
) -> None:
    """Tear down the shortcut between EDGE_A and EDGE_B; a missing one is not an error."""
    from liqoshortcut.cli.progress import reporter
    from liqoshortcut.errors import Interrupted
    from liqoshortcut.workflow.delete import delete as delete_shortcut
    from liqoshortcut.workflow.preflight import prepare_teardown
    from liqoshortcut.workflow.routing import service_name
    from liqoshortcut.workflow.waiting import Deadline

    env = environment(ctx)
    seconds = clusters.seconds
    deadline = Deadline(seconds, budget="--timeout")
    teardown = prepare_teardown(
        clusters.loaded,
        central_context=clusters.context,
        edge_contexts=(edge_a, edge_b),
        liqo_namespace=clusters.liqo_namespace,
        edge_kubeconfigs=clusters.edge_kubeconfigs(edge_a, edge_b),
        connector=clusters.connector(),
        names=FIELD_FLAGS,
    )
    name = teardown.plan.shortcut
    edges = " and ".join(edge.name for edge in teardown.plan.edges.values())
    question = f"Delete shortcut {name} and every object it made on {edges}?"
    if not yes and not confirmed(env, question):
        raise Interrupted("not confirmed: nothing was deleted")
    with reporter(env, quiet) as report:
        deleted = delete_shortcut(teardown, clusters.liqo_namespace, deadline, report, wait)
    for warning in deleted.warnings:
        env.warn(warning)
    for left in [] if quiet else deleted.left_by_liqo:  # information, not a warning: -q hides it
        env.stderr.write(f"note: {left}\n")
    removed, kept = deleted.removed, deleted.kept
    services = [service_name(key) for key in deleted.unrouted]
    back = (
        f"; {len(services)} Service{'' if len(services) == 1 else 's'} back on the hub path"
        if services
        else ""
    )
    kept_text = (
        f"; {len(kept)} tenant namespace{'' if len(kept) == 1 else 's'} kept, "
        "holding objects not made by liqo-shortcut"
        if kept
        else ""
    )
    text = (
        f"shortcut {name} deleted ({removed} object{'' if removed == 1 else 's'} "
        f"removed{back}{kept_text})"
        if deleted.found
        else f"shortcut {name} not found: nothing to delete"
    )
    data = {
        "name": name,
        "removed": removed,
        "recordRemoved": deleted.record_removed,
        "unroutedServices": services,
        "keptNamespaces": [
            {"cluster": k.cluster, "namespace": k.namespace, "reason": k.reason} for k in kept
        ],
        "leftByLiqo": [
            {"cluster": left.cluster, "foreignCluster": left.foreign_cluster}
            for left in deleted.left_by_liqo
        ],
    }
    write_data(env, output, data, text=text, done=text)
