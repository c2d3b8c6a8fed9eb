"""The state of the lab's three clusters, to prove that a run changed nothing (or only this).

Every Liqo networking object, ForeignCluster, namespace and ConfigMap, with the uid and the
resourceVersion it was read at: a run that recreated or touched an object shows up as a
difference, not only one that left something behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from kubernetes import client
from kubernetes.client import ApiClient

CLUSTERS = ("central", "edge-a", "edge-b")
LIQO_KINDS = (
    ("networking.liqo.io", "v1beta1", "configurations"),
    ("networking.liqo.io", "v1beta1", "gatewayservers"),
    ("networking.liqo.io", "v1beta1", "gatewayclients"),
    ("networking.liqo.io", "v1beta1", "publickeies"),
    ("networking.liqo.io", "v1beta1", "connections"),
    ("networking.liqo.io", "v1beta1", "wggatewayservertemplates"),
    ("networking.liqo.io", "v1beta1", "wggatewayclienttemplates"),
    ("core.liqo.io", "v1beta1", "foreignclusters"),
)

Snapshot = dict[str, set[tuple[str, str, str]]]


def snapshot(kube: Callable[[str], ApiClient]) -> Snapshot:
    """What each cluster holds; Connections by uid only, as their latency refreshes constantly."""
    found: Snapshot = {}
    for name in CLUSTERS:
        api = kube(name)
        custom, core = client.CustomObjectsApi(api), client.CoreV1Api(api)
        objects: set[tuple[str, str, str]] = set()
        for group, version, plural in LIQO_KINDS:
            listing: dict[str, Any] = custom.list_cluster_custom_object(group, version, plural)  # type: ignore[assignment]
            for item in listing["items"]:
                meta = item["metadata"]
                where = f"{meta.get('namespace', '')}/{meta['name']}"
                version_read = "" if plural == "connections" else f"@{meta['resourceVersion']}"
                objects.add((plural, where, meta["uid"] + version_read))
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
