"""Read-only answers from the central cluster alone: which path a Service's traffic takes and
why (`kubectl shortcut explain`), and how the operator's shortcuts between two edges are doing
(`kubectl shortcut status`). Nothing is changed on any cluster.
"""

from __future__ import annotations

from typing import Any

from liqoshortcut.core.explain import Explanation, explain, report, status_line, switches
from liqoshortcut.core.record import ShortcutRecord
from liqoshortcut.core.routing import view_of
from liqoshortcut.core.words import cut
from liqoshortcut.errors import PreconditionFailed
from liqoshortcut.kube import events, objects, traffic
from liqoshortcut.kube.clients import Central
from liqoshortcut.kube.errors import ShortcutCrdMissing
from liqoshortcut.kube.resources import VIRTUAL_NODE_SHORTCUT
from liqoshortcut.workflow.records import created_records


def explain_service(
    central: Central, service: str, namespace: str | None, liqo_namespace: str
) -> Explanation:
    """Why ``service`` (in ``namespace``, default the context's) takes the path it takes: from
    its EndpointSlices, the VirtualNodeShortcuts' statuses, `create`'s records and central's
    Configurations (the edges' pod CIDRs)."""
    where = namespace or central.context.namespace or "default"
    views = [
        view for view in traffic.service_views(central.cluster) if view.key == (where, service)
    ]
    if not views:
        raise PreconditionFailed(
            f"Service {where}/{service} not found in the central cluster (context "
            f"{central.context.context}); name a Service of central, with -n for its namespace"
        )
    resources = traffic.shortcut_resources(central.cluster)
    shortcuts = [view for view in map(view_of, resources) if view is not None]
    health = {
        f"{r['metadata']['namespace']}/{r['metadata']['name']}": status_line(r) for r in resources
    }
    records = created_records(central.cluster, liqo_namespace).records
    records += [ShortcutRecord.from_resource(resource) for resource in resources]
    pod_cidrs = traffic.edge_pod_cidrs(central.cluster)
    return explain(views[0], shortcuts, health, pod_cidrs, records)


def shortcut_reports(central: Central, edge_a: str, edge_b: str) -> list[dict[str, Any]]:
    """`kubectl shortcut status`'s data for each VirtualNodeShortcut joining the two edges (by
    their names in its spec): conditions, Connections, path, routed Services, last switches."""
    elsewhere = (
        "a shortcut made by `kubectl shortcut create` shows in `kubectl shortcut list`, its "
        f"tunnel in `kubectl --context {cut(edge_a)} get connections.networking.liqo.io -A`"
    )
    try:
        resources = objects.list_objects(central.cluster, VIRTUAL_NODE_SHORTCUT)
    except ShortcutCrdMissing:
        raise PreconditionFailed(
            f"the VirtualNodeShortcut CRD is not installed in the central cluster (context "
            f"{central.context.context}), so no shortcut there has the operator's status; "
            f"{elsewhere}"
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
            f"(context {central.context.context}); a shortcut made by `kubectl shortcut create` "
            "shows in `kubectl shortcut list`, and only the operator watches its health"
        )
    return [
        report(resource, switches(events.about(central.cluster, resource))) for resource in joining
    ]
