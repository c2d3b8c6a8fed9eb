"""The state of the lab's three clusters, to prove that a run changed nothing (or only this).

Every Liqo networking object, ForeignCluster, namespace and ConfigMap, with the uid and the
resourceVersion it was read at: a run that recreated or touched an object shows up as a
difference, not only one that left something behind. What Liqo itself keeps rewriting is read by
uid alone (`BY_UID_KINDS`): a run that recreated it or left it behind still shows.

One exception, Liqo's own doing and named rather than hidden: Liqo's controller-manager makes on
an edge a ForeignCluster for every cluster a network peering names (role Unknown: no peering
rests on it), keeps its status up to date and keeps it after the peering is gone, as after
`liqoctl network reset`. `snapshot` leaves those out; `left_by_liqo` lists them, for the tests
that check exactly which a run leaves (and that `delete` names them).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from kubernetes import client
from kubernetes.client import ApiClient

CLUSTERS = ("central", "edge-a", "edge-b")
FOREIGN_CLUSTERS = ("core.liqo.io", "v1beta1", "foreignclusters")
LIQO_KINDS = (
    ("networking.liqo.io", "v1beta1", "configurations"),
    ("networking.liqo.io", "v1beta1", "gatewayservers"),
    ("networking.liqo.io", "v1beta1", "gatewayclients"),
    ("networking.liqo.io", "v1beta1", "publickeies"),
    ("networking.liqo.io", "v1beta1", "wggatewayservertemplates"),
    ("networking.liqo.io", "v1beta1", "wggatewayclienttemplates"),
)
BY_UID_KINDS = (
    # Latency refreshes constantly.
    ("networking.liqo.io", "v1beta1", "connections"),
    # Liqo rewrites the status as its checks of the peer change (an edge's API server that stops
    # and comes back).
    FOREIGN_CLUSTERS,
    # What Liqo's own controllers derive from a peering (the gateways' WireGuard objects, IPAM,
    # the internal network, remapping) and remove with it through the garbage collector. On an
    # emulated lab most of them never exist.
    ("networking.liqo.io", "v1beta1", "wggatewayservers"),
    ("networking.liqo.io", "v1beta1", "wggatewayclients"),
    ("networking.liqo.io", "v1beta1", "internalfabrics"),
    ("networking.liqo.io", "v1beta1", "genevetunnels"),
    ("networking.liqo.io", "v1beta1", "internalnodes"),
    ("networking.liqo.io", "v1beta1", "routeconfigurations"),
    ("networking.liqo.io", "v1beta1", "firewallconfigurations"),
    ("ipam.liqo.io", "v1alpha1", "networks"),
    ("ipam.liqo.io", "v1alpha1", "ips"),
)

Snapshot = dict[str, set[tuple[str, str, str]]]


def _made_by_liqo_for_a_peering(item: dict[str, Any]) -> bool:
    return bool((item.get("status") or {}).get("role", "Unknown") == "Unknown")


def left_by_liqo(kube: Callable[[str], ApiClient]) -> set[tuple[str, str]]:
    """``(cluster, ForeignCluster)`` for each ForeignCluster Liqo made for a network peering."""
    found: set[tuple[str, str]] = set()
    for name in CLUSTERS:
        custom = client.CustomObjectsApi(kube(name))
        listing: dict[str, Any] = custom.list_cluster_custom_object(*FOREIGN_CLUSTERS)  # type: ignore[assignment]
        found |= {
            (name, item["metadata"]["name"])
            for item in listing["items"]
            if _made_by_liqo_for_a_peering(item)
        }
    return found


def snapshot(kube: Callable[[str], ApiClient]) -> Snapshot:
    """What each cluster holds, ``BY_UID_KINDS`` by uid only."""
    found: Snapshot = {}
    for name in CLUSTERS:
        api = kube(name)
        custom, core = client.CustomObjectsApi(api), client.CoreV1Api(api)
        objects: set[tuple[str, str, str]] = set()
        for kind in LIQO_KINDS + BY_UID_KINDS:
            listing: dict[str, Any] = custom.list_cluster_custom_object(*kind)  # type: ignore[assignment]
            for item in listing["items"]:
                if kind == FOREIGN_CLUSTERS and _made_by_liqo_for_a_peering(item):
                    continue  # Liqo's, moving with every peering: see left_by_liqo
                meta = item["metadata"]
                where = f"{meta.get('namespace', '')}/{meta['name']}"
                version_read = "" if kind in BY_UID_KINDS else f"@{meta['resourceVersion']}"
                objects.add((kind[2], where, meta["uid"] + version_read))
        for ns in core.list_namespace().items:
            assert ns.metadata is not None
            objects.add(("namespaces", str(ns.metadata.name), str(ns.metadata.uid)))
        for cm in core.list_config_map_for_all_namespaces().items:
            assert cm.metadata is not None
            where = f"{cm.metadata.namespace}/{cm.metadata.name}"
            objects.add(("configmaps", where, f"{cm.metadata.uid}@{cm.metadata.resource_version}"))
        found[name] = objects
    return found


def delete_namespaces(api: ApiClient, names: Iterable[str], timeout: float = 90) -> None:
    """Delete ``names`` and wait until they are gone: a namespace still terminating while the
    next test snapshots the cluster would show up there as a change that test did not make."""
    core = client.CoreV1Api(api)
    waiting = set(names)
    for name in waiting:
        core.delete_namespace(name)
    deadline = time.monotonic() + timeout
    while waiting & {str(ns.metadata.name) for ns in core.list_namespace().items if ns.metadata}:
        assert time.monotonic() < deadline, f"namespaces {sorted(waiting)} never went"
        time.sleep(0.5)


def settled(kube: Callable[[str], ApiClient], expected: Snapshot, timeout: float = 60) -> Snapshot:
    """The state once the garbage collector has caught up with ``expected`` (or at ``timeout``)."""
    deadline = time.monotonic() + timeout
    current = snapshot(kube)
    while current != expected and time.monotonic() < deadline:
        time.sleep(0.5)
        current = snapshot(kube)
    return current
