"""Tear a shortcut down: `liqoctl network disconnect` then `reset`, touching only our objects.

The order is liqoctl's (handler.go RunReset): gateway clients, gateway servers, then the
Configurations, on each edge, preceded by the PublicKeys; what Liqo derived from a gateway goes
with it through the garbage collector. Every object is selected by both our labels, so a peering
made by liqoctl or by hand between the same edges is never touched. Tenant namespaces this tool
created go last, and only when nothing in them is someone else's: `liqoctl network reset` leaves
tenant namespaces (ours too) and a later `liqoctl network connect` reuses them, so deleting ours
would delete liqoctl's peering with it. A namespace holding a Liqo networking object that is not
ours (not carrying our labels, nor owned by a gateway of ours, as the Connections are), or whose
contents cannot be read, stays, and the teardown says so. Only those five kinds are looked at:
they are what a network peering puts there and what Liqo's peering user may list.

Liqo's controller-manager makes, on each edge, a ForeignCluster for the other edge as soon as a
network peering names it, and keeps it once the peering is gone (`liqoctl network reset` leaves
it too). It is Liqo's, not ours, no peering rests on it (role Unknown), and Liqo's peering user
may not even read it: the teardown leaves it and names it where it can read it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

from liqoshortcut.core.forge import Manifest
from liqoshortcut.core.naming import is_owned_by, ownership_labels
from liqoshortcut.core.plan import Placement, PlannedEdge, Side
from liqoshortcut.errors import RollbackIncomplete, ShortcutError, stopped_midway
from liqoshortcut.kube import objects
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.errors import LiqoMissing
from liqoshortcut.kube.resources import (
    CONFIGURATION,
    CONNECTION,
    FOREIGN_CLUSTER,
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
# What a network peering puts in a tenant namespace: one of these that is not ours keeps it.
PEERING_KINDS = (CONFIGURATION, GATEWAY_SERVER, GATEWAY_CLIENT, PUBLIC_KEY, CONNECTION)


@dataclass(frozen=True)
class KeptNamespace:
    """A tenant namespace of ours left in place, and why."""

    cluster: str
    namespace: str
    reason: str

    def __str__(self) -> str:
        return f"Namespace {self.namespace} on {self.cluster} was kept: {self.reason}"


@dataclass(frozen=True)
class LeftByLiqo:
    """A ForeignCluster Liqo made for the peering and keeps after it: named, left alone."""

    cluster: str
    foreign_cluster: str

    def __str__(self) -> str:
        return (
            f"ForeignCluster {self.foreign_cluster} on {self.cluster} stays: Liqo made it for the "
            "network peering and keeps it afterwards, as after liqoctl network reset; no peering "
            "rests on it (role Unknown)"
        )


@dataclass(frozen=True)
class Disconnected:
    """What a teardown did: how many objects it removed, which namespaces it kept, and what
    Liqo keeps of the peering."""

    removed: int
    kept: tuple[KeptNamespace, ...] = ()
    left_by_liqo: tuple[LeftByLiqo, ...] = ()


def disconnect(
    plan: Placement,
    clusters: Mapping[str, Cluster],
    deadline: Deadline,
    report: Reporter,
    *,
    wait: bool = True,
) -> Disconnected:
    """Remove every object of ``plan``'s shortcut from both edges: how many, what was kept.

    Objects are found by label, whatever their names, so a teardown also finds what an older or
    interrupted run made. Each edge's objects depend only on each other, so the two edges are
    torn down at once. As liqoctl does, each deletion is asked for in order without waiting for
    the one before to finish; with ``wait`` the run then waits until all of them are gone.

    A failure or Ctrl-C before the first deletion changed nothing and is raised as it is; after
    it, on either edge, the error says the teardown stopped midway (exit 3, or 130 when
    interrupted): what is left still carries our labels, and the same teardown finishes it.
    """
    edges = (plan.edges[Side.CLIENT], plan.edges[Side.SERVER])
    began = threading.Event()  # set before an edge's first deletion
    calls = [
        partial(
            _tear_down,
            plan.shortcut,
            clusters[edge.name],
            edge,
            peer,
            deadline,
            report,
            wait,
            began,
        )
        for edge, peer in zip(edges, edges[::-1], strict=True)
    ]
    try:
        results = at_once(calls, deadline)
    except RollbackIncomplete:
        raise  # already says what is left
    except (ShortcutError, KeyboardInterrupt) as error:
        if not began.is_set():
            raise
        midway = (
            f"the teardown of shortcut {plan.shortcut} stopped midway; what is left of it still "
            "carries its labels: run the same delete again to finish it"
        )
        raise stopped_midway(error, midway) from error
    return Disconnected(
        removed=sum(result.removed for result in results),
        kept=tuple(kept for result in results for kept in result.kept),
        left_by_liqo=tuple(left for result in results for left in result.left_by_liqo),
    )


Deleted = tuple[Resource, str, str | None]  # the resource, the name and the namespace


def _tear_down(
    shortcut: str,
    cluster: Cluster,
    edge: PlannedEdge,
    peer: PlannedEdge,
    deadline: Deadline,
    report: Reporter,
    wait: bool,
    began: threading.Event,
) -> Disconnected:
    labels = ownership_labels(shortcut)
    ours = {
        resource: objects.list_objects(cluster, resource, edge.namespace, labels)
        for resource in TEARDOWN_ORDER
        if resource is not NAMESPACE
    }
    kept: list[KeptNamespace] = []
    tenant = objects.get(cluster, NAMESPACE, edge.namespace)
    if tenant is not None and is_owned_by(tenant["metadata"].get("labels"), shortcut):
        # Judged before anything goes: a Connection is ours by its owner, one of our gateways.
        uids = {o["metadata"].get("uid") for found in ours.values() for o in found}
        reason = _others_in(cluster, edge.namespace, shortcut, uids)
        if reason is None:
            ours[NAMESPACE] = [tenant]
        else:
            kept.append(KeptNamespace(cluster.name, edge.namespace, reason))
    deleted: list[Deleted] = []
    for resource in TEARDOWN_ORDER:
        namespace = None if resource is NAMESPACE else edge.namespace
        for found in ours.get(resource, []):
            name = found["metadata"]["name"]
            began.set()
            objects.delete(cluster, resource, name, namespace)
            report(
                ProgressEvent(
                    Phase.DONE, f"delete {_object(resource, name, namespace)}", cluster.name
                )
            )
            deleted.append((resource, name, namespace))
    for staying in kept:
        what = f"delete {_object(NAMESPACE, staying.namespace, None)}"
        report(ProgressEvent(Phase.SKIPPED, what, cluster.name, detail=staying.reason))
    if wait and deleted:
        _wait_gone(cluster, deleted, deadline, report)
    left = _left_by_liqo(cluster, peer.cluster_id) if deleted else ()
    return Disconnected(len(deleted), tuple(kept), left)


def _left_by_liqo(cluster: Cluster, peer_id: str) -> tuple[LeftByLiqo, ...]:
    """The ForeignCluster Liqo made on ``cluster`` for the peer edge, if it holds no peering."""
    try:
        foreign = objects.get(cluster, FOREIGN_CLUSTER, peer_id)
    except ShortcutError:
        return ()  # Liqo's peering user may not read ForeignClusters: nothing to name
    if foreign is None or (foreign.get("status") or {}).get("role", "Unknown") != "Unknown":
        return ()
    return (LeftByLiqo(cluster.name, peer_id),)


def _others_in(cluster: Cluster, namespace: str, shortcut: str, uids: set[str]) -> str | None:
    """Why ``namespace`` must stay: the peering objects in it that are not ``shortcut``'s (nor
    owned by one of its objects, ``uids``), or that they cannot be read; None if it may go."""
    others: list[str] = []
    for resource in PEERING_KINDS:
        try:
            found = objects.list_objects(cluster, resource, namespace)
        except LiqoMissing:
            continue  # not served there: none can exist
        except ShortcutError as error:
            return (
                f"whether it holds objects not made by liqo-shortcut could not be read ({error}); "
                "delete it by hand once it holds nothing of anyone else's"
            )
        others += [
            f"{resource.kind} {namespace}/{item['metadata']['name']}"
            for item in found
            if not is_owned_by(item["metadata"].get("labels"), shortcut)
            and not _owner_uids(item) & uids
        ]
    if not others:
        return None
    return f"it holds objects not made by liqo-shortcut ({', '.join(others)}), left alone"


def _owner_uids(item: Manifest) -> set[str]:
    return {str(ref.get("uid")) for ref in item["metadata"].get("ownerReferences") or []}


def _wait_gone(
    cluster: Cluster, deleted: list[Deleted], deadline: Deadline, report: Reporter
) -> None:
    """Wait until every deleted object is gone; a deleted namespace stands for its contents."""
    namespaces = [item for item in deleted if item[0] is NAMESPACE]
    left = namespaces or list(deleted)
    what = f"wait for {' and '.join(_object(*item) for item in left)} to be gone"

    def all_gone() -> bool | None:
        left[:] = [item for item in left if objects.get(cluster, *item) is not None]
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
