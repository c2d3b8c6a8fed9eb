"""Tear a shortcut down: `liqoctl network disconnect` then `reset`, touching only our objects.

The order is liqoctl's (handler.go RunReset): gateway clients, gateway servers, then the
Configurations, on each edge, preceded by the PublicKeys; what Liqo derived from a gateway goes
with it through the garbage collector. Every object is selected by both our labels, so a peering
made by liqoctl or by hand between the same edges is never touched. Tenant namespaces this tool
created go last.
"""

from __future__ import annotations

from liqoshortcut.core.naming import is_owned_by, ownership_labels
from liqoshortcut.errors import RollbackIncomplete
from liqoshortcut.kube import liqo
from liqoshortcut.kube.resources import (
    CONFIGURATION,
    GATEWAY_CLIENT,
    GATEWAY_SERVER,
    NAMESPACE,
    PUBLIC_KEY,
    Resource,
)
from liqoshortcut.workflow.connect import Edge, Shortcut
from liqoshortcut.workflow.progress import Phase, ProgressEvent, Reporter
from liqoshortcut.workflow.waiting import Deadline

# PublicKeys first: they would go with their gateways anyway, but only when the garbage collector
# gets to them; removing them ourselves makes teardown finish in a known state.
TEARDOWN_ORDER = (PUBLIC_KEY, GATEWAY_CLIENT, GATEWAY_SERVER, CONFIGURATION, NAMESPACE)


def disconnect(shortcut: Shortcut, deadline: Deadline, report: Reporter) -> int:
    """Remove every object of ``shortcut`` from both edges; returns how many there were."""
    removed = 0
    for resource in TEARDOWN_ORDER:
        for edge in (shortcut.client, shortcut.server):
            namespace = None if resource is NAMESPACE else shortcut.namespace_on(edge)
            for name in _our_objects(shortcut, edge, resource, namespace):
                what = f"delete {resource.kind} {namespace + '/' if namespace else ''}{name}"
                report(ProgressEvent(Phase.STARTED, what, edge.cluster.name))
                liqo.delete(edge.cluster, resource, name, namespace)
                if not liqo.wait_gone(
                    edge.cluster, resource, name, namespace, timeout=max(deadline.remaining(), 1)
                ):
                    raise RollbackIncomplete(
                        f"timed out deleting {what[len('delete ') :]} on {edge.cluster.name}; "
                        "run the same command again"
                    )
                report(ProgressEvent(Phase.DONE, what, edge.cluster.name))
                removed += 1
    return removed


def _our_objects(
    shortcut: Shortcut, edge: Edge, resource: Resource, namespace: str | None
) -> list[str]:
    if resource is NAMESPACE:
        # A peering user may get its tenant namespace but list none: look it up by name.
        tenant = liqo.get(edge.cluster, NAMESPACE, shortcut.namespace_on(edge))
        owned = tenant is not None and is_owned_by(tenant["metadata"].get("labels"), shortcut.name)
        return [shortcut.namespace_on(edge)] if owned else []
    labels = ownership_labels(shortcut.name)
    return [
        o["metadata"]["name"] for o in liqo.list_objects(edge.cluster, resource, namespace, labels)
    ]
