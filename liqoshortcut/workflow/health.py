"""How the two edges' Liqo Connections are doing, read on each edge: the operator's health check.

Each edge's gateway keeps a Connection for its tunnel to the other edge, found (as liqoctl finds
it) by the remote cluster label in the tenant namespace, with the tunnel's state and latency in
its status. Reading it needs only the peering user's rights (list connections there).
"""

from __future__ import annotations

from collections.abc import Mapping

from liqoshortcut.core.connection import ConnectionSeen
from liqoshortcut.core.naming import REMOTE_CLUSTER_ID_LABEL
from liqoshortcut.core.plan import Plan, Side
from liqoshortcut.kube import objects, traffic
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.resources import CONNECTION


def connections(plan: Plan, clusters: Mapping[str, Cluster]) -> dict[Side, ConnectionSeen]:
    """Each side's Connection to the other; a state of None where there is none yet."""
    seen = {}
    for side in Side:
        edge, peer = plan.edges[side], plan.edges[side.other]
        found = objects.list_objects(
            clusters[edge.name],
            CONNECTION,
            edge.namespace,
            {REMOTE_CLUSTER_ID_LABEL: peer.cluster_id},
        )
        seen[side] = traffic.seen(found[0]) if len(found) == 1 else ConnectionSeen(None)
    return seen
