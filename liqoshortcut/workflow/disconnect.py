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
from liqoshortcut.core.plan import Placement, PlannedEdge, Side
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
from liqoshortcut.workflow.waiting import Deadline, WaitTimedOut

# PublicKeys first: they would go with their gateways anyway, but only when the garbage collector
# gets to them; removing them ourselves makes teardown finish in a known state.
TEARDOWN_ORDER = (PUBLIC_KEY, GATEWAY_CLIENT, GATEWAY_SERVER, CONFIGURATION, NAMESPACE)


def disconnect(
    plan: Placement,
    clusters: Mapping[str, Cluster],
    deadline: Deadline,
    report: Reporter,
    *,
    wait: bool = True,
) -> int:
    """Remove every object of ``plan``'s shortcut from both edges; returns how many there were.

    Objects are found by label, whatever their names, so a teardown also finds what an older or
    interrupted run made. Each edge's objects depend only on each other, so the two edges are
    torn down at once. As liqoctl does, each deletion is asked for in order without waiting for
    the one before to finish; with ``wait`` the run then waits until all of them are gone.
    """
    edges = (plan.edges[Side.CLIENT], plan.edges[Side.SERVER])
    calls = [
        partial(_tear_down, plan.shortcut, clusters[edge.name], edge, deadline, report, wait)
        for edge in edges
    ]
    return sum(at_once(calls, deadline))


Deleted = tuple[Resource, str, str | None]  # the resource, the name and the namespace


def _tear_down(
    shortcut: str,
    cluster: Cluster,
    edge: PlannedEdge,
    deadline: Deadline,
    report: Reporter,
    wait: bool,
) -> int:
    deleted: list[Deleted] = []
    for resource in TEARDOWN_ORDER:
        namespace = None if resource is NAMESPACE else edge.namespace
        for name in _our_objects(shortcut, cluster, edge, resource):
            liqo.delete(cluster, resource, name, namespace)
            report(
                ProgressEvent(
                    Phase.DONE, f"delete {_object(resource, name, namespace)}", cluster.name
                )
            )
            deleted.append((resource, name, namespace))
    if wait and deleted:
        _wait_gone(cluster, deleted, deadline, report)
    return len(deleted)


def _wait_gone(
    cluster: Cluster, deleted: list[Deleted], deadline: Deadline, report: Reporter
) -> None:
    """Wait until every deleted object is gone; a deleted namespace stands for its contents."""
    namespaces = [item for item in deleted if item[0] is NAMESPACE]
    left = namespaces or list(deleted)
    what = f"wait for {' and '.join(_object(*item) for item in left)} to be gone"

    def all_gone() -> bool | None:
        left[:] = [item for item in left if liqo.get(cluster, *item) is not None]
        return None if left else True

    report(ProgressEvent(Phase.STARTED, what, cluster.name))
    try:
        deadline.poll(f"{what.removeprefix('wait for ')} on {cluster.name}", all_gone)
    except WaitTimedOut:
        raise RollbackIncomplete(
            f"timed out waiting for {', '.join(_object(*item) for item in left)} to be gone on "
            f"{cluster.name}; run the same command again"
        ) from None
    report(ProgressEvent(Phase.DONE, what, cluster.name))


def _object(resource: Resource, name: str, namespace: str | None) -> str:
    return f"{resource.kind} {namespace + '/' if namespace else ''}{name}"


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
