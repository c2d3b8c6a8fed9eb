"""`kubectl shortcut create EDGE_A EDGE_B`: connect two edges directly, from the central cluster.

What `liqoctl network connect` would do between the two edges, run from central as one workflow:
checks first (nothing changes if one fails), then the connect sequence with rollback on failure.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from liqoshortcut.cli.dry_run import DryRun, DryRunOption
from liqoshortcut.cli.environment import environment
from liqoshortcut.cli.options import (
    FIELD_FLAGS,
    ClusterOptions,
    EdgeAArgument,
    EdgeBArgument,
    QuietOption,
    with_cluster_options,
)
from liqoshortcut.cli.output import OutputFormat, OutputOption, write_data


class Services(StrEnum):
    """``--services``: the spec's traffic.services, less Selected (which a selector implies)."""

    NONE = "none"
    ALL = "all"


class TrafficPath(StrEnum):
    DIRECT = "direct"
    HUB = "hub"
    AUTO = "auto"


@with_cluster_options
def create(
    ctx: typer.Context,
    edge_a: EdgeAArgument,
    edge_b: EdgeBArgument,
    server_edge: Annotated[
        str | None,
        typer.Option("--server-edge", help="Edge hosting the gateway server (default: EDGE_B)."),
    ] = None,
    service_type: Annotated[
        str, typer.Option("--service-type", help="LoadBalancer, NodePort or ClusterIP.")
    ] = "LoadBalancer",
    port: Annotated[int, typer.Option("--port", help="Gateway server port.")] = 51840,
    node_port: Annotated[
        int | None, typer.Option("--node-port", help="Fixed NodePort (with NodePort).")
    ] = None,
    load_balancer_ip: Annotated[
        str | None, typer.Option("--load-balancer-ip", help="Fixed IP (with LoadBalancer).")
    ] = None,
    mtu: Annotated[int, typer.Option("--mtu", help="Tunnel MTU.")] = 1340,
    client_address: Annotated[
        str | None,
        typer.Option("--client-address", help="Address the client dials (server behind NAT)."),
    ] = None,
    client_port: Annotated[
        int | None, typer.Option("--client-port", help="Port the client dials (behind NAT).")
    ] = None,
    services: Annotated[
        Services | None,
        typer.Option(
            "--services",
            case_sensitive=False,
            show_default=False,
            help="Which offloaded Services of central with endpoints on both edges use the "
            "shortcut: none (default) or all; a selector below selects some instead.",
        ),
    ] = None,
    service_selector: Annotated[
        str | None,
        typer.Option(
            "--service-selector",
            help="Only the Services with these labels (kubectl -l syntax, e.g. 'app=web').",
        ),
    ] = None,
    namespace_selector: Annotated[
        str | None,
        typer.Option(
            "--namespace-selector",
            help="Only the Services in namespaces with these labels (kubectl -l syntax).",
        ),
    ] = None,
    path: Annotated[
        TrafficPath,
        typer.Option(
            "--path",
            case_sensitive=False,
            help="direct: selected Services go over the shortcut; hub: they stay on central's "
            "path; auto: the faster one, measured by the operator (with --dry-run only).",
        ),
    ] = TrafficPath.DIRECT,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait/--no-wait",
            help="Wait for both Connections to be Connected (no Service is routed without).",
        ),
    ] = True,
    # --kubeconfig, --context, --edge-a/b-kubeconfig, --liqo-namespace, --timeout
    clusters: ClusterOptions = ClusterOptions(),  # noqa: B008
    quiet: QuietOption = False,
    output: OutputOption = OutputFormat.TEXT,
    dry_run: DryRunOption = DryRun.NONE,
) -> None:
    """Connect EDGE_A and EDGE_B directly, as `liqoctl network connect` would, from central."""
    from pydantic import ValidationError

    from liqoshortcut.cli.progress import reporter
    from liqoshortcut.cli.traffic_flags import require_imperative, traffic_policy
    from liqoshortcut.core.explain import remapped
    from liqoshortcut.core.gateway import GatewaySettings
    from liqoshortcut.core.schema import usage_error
    from liqoshortcut.core.traffic import PathMode, ServiceSelection
    from liqoshortcut.workflow.create import create as create_shortcut
    from liqoshortcut.workflow.preflight import prepare
    from liqoshortcut.workflow.routing import describe, routes, service_name
    from liqoshortcut.workflow.waiting import Deadline

    env = environment(ctx)
    seconds = clusters.seconds
    flags = {
        "service_type": service_type,
        "port": port,
        "node_port": node_port,
        "load_balancer_ip": load_balancer_ip,
        "mtu": mtu,
        "client_address": client_address,
        "client_port": client_port,
    }
    try:
        settings = GatewaySettings.model_validate(flags)
    except ValidationError as error:
        names = {field: "--" + field.replace("_", "-") for field in flags}
        raise usage_error(error, names=names) from None
    policy = traffic_policy(
        services and services.value, service_selector, namespace_selector, path.value
    )
    if dry_run is DryRun.NONE:
        require_imperative(policy)
    deadline = Deadline(seconds, budget="--timeout")
    preflight = prepare(
        clusters.loaded,
        central_context=clusters.context,
        edge_contexts=(edge_a, edge_b),
        server_edge=server_edge,
        settings=settings,
        liqo_namespace=clusters.liqo_namespace,
        edge_kubeconfigs=clusters.edge_kubeconfigs(edge_a, edge_b),
        connector=clusters.connector(),
        names=FIELD_FLAGS,
        wait_connected=wait,
        traffic=policy,
    )
    warnings = list(preflight.warnings)
    if routes(policy) and not wait and dry_run is DryRun.NONE:
        warnings.append(
            f"--no-wait: the Connections are not seen Connected, so no Service is routed over "
            f"the shortcut ({describe(policy)} would be); run create again without --no-wait"
        )
    for warning in warnings:
        env.warn(warning)
    plan = preflight.plan
    if dry_run is not DryRun.NONE:
        from liqoshortcut.cli.dry_run import show_dry_run

        show_dry_run(env, output, dry_run, preflight, int(seconds), wait)
        return
    with reporter(env, quiet) as report:
        created = create_shortcut(preflight, deadline, report)
    routed = [service_name(key) for key in created.routed or ()]
    summary = {
        "name": plan.shortcut,
        "server": created.record.server.as_dict(),
        "client": created.record.client.as_dict(),
        "connected": wait,
        "routedServices": routed,
    }
    state = "connected" if wait else "created (not waiting for the Connections)"
    if created.routed is not None:
        state += f"; Services routed over it: {', '.join(routed) if routed else 'none'}"
    elif policy.services != ServiceSelection.NONE and policy.path == PathMode.HUB:
        state += "; the selected Services stay on the hub path (--path hub)"
    done = f"shortcut {plan.shortcut} {state}"
    # Where Liqo remapped the other edge's pods, a client dials them under other addresses.
    told = [done, *remapped(created.record, plan.pod_cidrs())]
    write_data(env, output, summary, text="\n".join(told), done=done)
