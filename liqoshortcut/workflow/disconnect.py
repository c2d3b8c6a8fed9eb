"""Tear a shortcut down: `liqoctl network disconnect` then `reset`, touching only our objects.

The order is liqoctl's (handler.go RunReset): gateway clients, gateway servers, then the
Configurations, on each edge, preceded by the PublicKeys; what Liqo derived from a gateway goes
with it through the garbage collector. Every object is selected by both our labels, so a peering
made by liqoctl or by hand between the same edges is never touched. Tenant namespaces this tool
created go last.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from liqoshortcut.core.naming import is_owned_by, ownership_labels
from liqoshortcut.core.plan import Plan, PlannedEdge, Side
from liqoshortcut.errors import RollbackIncomplete
from liqoshortcut.kube import liqo
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.resources import (
    CONFIGURATION,
    GATEWAY_CLIENT,
    GATEWAY_SERVER,
    NAMESPACE,
    PUBLIC_KEY,
    Resource,
)
from liqoshortcut.workflow.execute import at_once
from liqoshortcut.workflow.progress import Phase, ProgressEvent, Reporter
from liqoshortcut.workflow.steps import gone
from liqoshortcut.workflow.waiting import Deadline, WaitTimedOut

# PublicKeys first: they would go with their gateways anyway, but only when the garbage collector
# gets to them; removing them ourselves makes teardown finish in a known state.
TEARDOWN_ORDER = (PUBLIC_KEY, GATEWAY_CLIENT, GATEWAY_SERVER, CONFIGURATION, NAMESPACE)


def disconnect(
    plan: Plan, clusters: Mapping[str, Cluster], deadline: Deadline, report: Reporter
) -> int:
    """Remove every object of ``plan``'s shortcut from both edges; returns how many there were.

    Only the plan's shortcut name and edges are used: objects are found by label, whatever their
    names, so a teardown also finds what an older or interrupted run made. Each edge's objects
    depend only on each other, so the two edges are torn down at once.
    """
    edges = (plan.edges[Side.CLIENT], plan.edges[Side.SERVER])
    calls = [
        partial(_tear_down, plan.shortcut, clusters[edge.name], edge, deadline, report)
        for edge in edges
    ]
    return sum(at_once(calls, deadline))


def _tear_down(
    shortcut: str, cluster: Cluster, edge: PlannedEdge, deadline: Deadline, report: Reporter
) -> int:
    removed = 0
    for resource in TEARDOWN_ORDER:
        namespace = None if resource is NAMESPACE else edge.namespace
        for name in _our_objects(shortcut, cluster, edge, resource):
            what = f"delete {resource.kind} {namespace + '/' if namespace else ''}{name}"
            report(ProgressEvent(Phase.STARTED, what, cluster.name))
            liqo.delete(cluster, resource, name, namespace)
            try:
                deadline.poll(
                    f"{what} on {cluster.name}", partial(gone, cluster, resource, name, namespace)
                )
            except WaitTimedOut:
                raise RollbackIncomplete(
                    f"timed out deleting {what[len('delete ') :]} on {cluster.name}; "
                    "run the same command again"
                ) from None
            report(ProgressEvent(Phase.DONE, what, cluster.name))
            removed += 1
    return removed


def _our_objects(
    shortcut: str, cluster: Cluster, edge: PlannedEdge, resource: Resource
) -> list[str]:
    if resource is NAMESPACE:
        # A peering user may get its tenant namespace but list none: look it up by name.
        tenant = liqo.get(cluster, NAMESPACE, edge.namespace)
        owned = tenant is not None and is_owned_by(tenant["metadata"].get("labels"), shortcut)
        return [edge.namespace] if owned else []
    labels = ownership_labels(shortcut)
    return [
        o["metadata"]["name"] for o in liqo.list_objects(cluster, resource, edge.namespace, labels)
    ]
