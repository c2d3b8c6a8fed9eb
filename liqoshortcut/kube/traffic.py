"""Central's side of the traffic policy: its offloaded Services as `core.routing` sees them, its
own Connections to the edges (the hub path), and the annotation patches.

A Service's endpoints are placed by its EndpointSlices (kube-controller-manager's, as Liqo
leaves them on the consumer): each ready endpoint names its node, and a Liqo virtual node
carries the cluster ID of the edge behind it (``liqo.io/remote-cluster-id``, as Liqo's
EndpointSlice reflection reads it). Endpoints on central's own nodes count for no edge.
Four lists per look, whatever the number of Services: the operator looks every few seconds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any, Final

from liqoshortcut.core.connection import ConnectionSeen
from liqoshortcut.core.forge import Manifest
from liqoshortcut.core.naming import REMOTE_CLUSTER_ID_LABEL
from liqoshortcut.core.routing import Change, ServiceView
from liqoshortcut.kube import objects
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.discovery import CONTROLLER_MANAGER_LABELS
from liqoshortcut.kube.errors import AccessDenied, NotFound, ShortcutCrdMissing
from liqoshortcut.kube.resources import (
    CONFIGURATION,
    CONNECTION,
    DEPLOYMENT,
    ENDPOINT_SLICE,
    NAMESPACE,
    NODE,
    SERVICE,
    VIRTUAL_NODE_SHORTCUT,
)

VIRTUAL_NODE_LABELS: Final = {"liqo.io/type": "virtual-node"}  # pkg/consts TypeLabel=TypeNode
SERVICE_NAME_LABEL: Final = "kubernetes.io/service-name"  # discovery.k8s.io's own label
DENY_DIRECT_FLAG: Final = "--deny-direct-connections"  # liqo-controller-manager's flag


def service_views(central: Cluster) -> list[ServiceView]:
    """Every Service of central with the edges of its ready endpoints."""
    nodes = objects.list_objects(central, NODE, labels=VIRTUAL_NODE_LABELS)
    edge_of = {
        node["metadata"]["name"]: _labels(node).get(REMOTE_CLUSTER_ID_LABEL) for node in nodes
    }
    edges: dict[tuple[str, str], set[str]] = defaultdict(set)
    for endpoint_slice in objects.list_objects(central, ENDPOINT_SLICE):
        owner = _labels(endpoint_slice).get(SERVICE_NAME_LABEL)
        if not owner:
            continue
        key = (endpoint_slice["metadata"]["namespace"], owner)
        for endpoint in endpoint_slice.get("endpoints") or []:
            ready = (endpoint.get("conditions") or {}).get("ready") is not False
            edge = edge_of.get(endpoint.get("nodeName") or "")
            if ready and edge:
                edges[key].add(edge)
    namespaces = {
        ns["metadata"]["name"]: _labels(ns) for ns in objects.list_objects(central, NAMESPACE)
    }
    views = []
    for svc in objects.list_objects(central, SERVICE):
        namespace, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        views.append(
            ServiceView(
                namespace=namespace,
                name=name,
                labels=_labels(svc),
                namespace_labels=namespaces.get(namespace, {}),
                annotations=dict(svc["metadata"].get("annotations") or {}),
                endpoint_edges=frozenset(edges.get((namespace, name), ())),
            )
        )
    return views


def _labels(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict(obj["metadata"].get("labels") or {})


def annotate(central: Cluster, change: Change) -> None:
    """Merge-patch the change's annotations onto its Service (a None value removes one)."""
    namespace, name = change.service
    objects.patch(
        central, SERVICE, name, namespace, {"metadata": {"annotations": change.annotations}}
    )


def hub_connections(central: Cluster) -> dict[str, ConnectionSeen]:
    """Central's Connection to each edge, by the edge's cluster ID: the hub path's tunnels."""
    found = objects.list_objects(central, CONNECTION)
    found_by_edge = {}
    for connection in found:
        remote = (connection["metadata"].get("labels") or {}).get(REMOTE_CLUSTER_ID_LABEL)
        if remote:
            found_by_edge[remote] = seen(connection)
    return found_by_edge


def seen(connection: Mapping[str, Any]) -> ConnectionSeen:
    """A Liqo Connection's state and latency, as the health check reads them."""
    status = connection.get("status") or {}
    latency = status.get("latency") or {}
    return ConnectionSeen(
        state=status.get("value"),
        latency=latency.get("value"),
        latency_time=latency.get("timestamp"),
    )


def refuses_direct_connections(cluster: Cluster, liqo_namespace: str) -> bool | None:
    """Whether the cluster's Liqo denies direct connections (``networking.denyDirectConnections``
    of its chart); None when its liqo-controller-manager cannot be read (a peering user may not)."""
    try:
        deployments = objects.list_objects(
            cluster, DEPLOYMENT, liqo_namespace, CONTROLLER_MANAGER_LABELS
        )
    except AccessDenied:
        return None
    return any(denies_direct_connections(d) for d in deployments) if deployments else None


def denies_direct_connections(deployment: Mapping[str, Any]) -> bool:
    """Whether a liqo-controller-manager Deployment runs with ``--deny-direct-connections``."""
    for container in deployment["spec"]["template"]["spec"].get("containers") or []:
        for arg in [*(container.get("args") or []), *(container.get("command") or [])]:
            flag, _, value = str(arg).partition("=")
            if flag == DENY_DIRECT_FLAG and value.lower() in ("", "true"):
                return True
    return False


def edge_pod_cidrs(central: Cluster) -> dict[str, tuple[str, ...]]:
    """Each provider's pod CIDRs by cluster ID, from central's Configurations for them."""
    cidrs = {}
    for configuration in objects.list_objects(central, CONFIGURATION):
        remote = _labels(configuration).get(REMOTE_CLUSTER_ID_LABEL)
        spec = ((configuration.get("spec") or {}).get("remote") or {}).get("cidr") or {}
        if remote:
            cidrs[remote] = tuple(str(cidr) for cidr in spec.get("pod") or ())
    return cidrs


def shortcut_resources(central: Cluster) -> list[Manifest]:
    """Every VirtualNodeShortcut of central; none where the CRD is not installed."""
    try:
        return objects.list_objects(central, VIRTUAL_NODE_SHORTCUT)
    except (NotFound, ShortcutCrdMissing):
        return []
