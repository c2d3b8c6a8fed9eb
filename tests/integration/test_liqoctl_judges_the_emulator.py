"""Liqo's own CLI, built from the Liqo module, judges the lab's emulator.

If ``liqoctl network connect --wait`` cannot complete against the lab, the emulator (or the
baseline) is wrong, never this test: liqoctl is the reference for what Liqo v1.2.0 does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest
from kubernetes import client
from kubernetes.client import ApiClient

from lab.cluster import Lab
from tests.integration.edge_liqoctl import liqoctl

# In real mode liqoctl would judge Liqo's own controllers, which proves nothing about the emulator.
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("emulated_liqo")]

REMOTE_CLUSTER_ID_LABEL = "liqo.io/remote-cluster-id"  # pkg/consts at Liqo v1.2.0
# What `liqoctl network connect` creates and `liqoctl network reset` must remove again
# ("publickeies" is the plural kubebuilder gave the PublicKey CRD).
PEERING_KINDS = ("configurations", "gatewayservers", "gatewayclients", "publickeies", "connections")


def peering_objects(api: ApiClient, remote_cluster_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every Liqo networking object on a cluster that concerns ``remote_cluster_id``."""
    custom = client.CustomObjectsApi(api)
    found: dict[str, list[dict[str, Any]]] = {}
    for plural in PEERING_KINDS:
        listing = cast(
            "dict[str, Any]",
            custom.list_cluster_custom_object(
                "networking.liqo.io",
                "v1beta1",
                plural,
                label_selector=f"{REMOTE_CLUSTER_ID_LABEL}={remote_cluster_id}",
            ),
        )
        found[plural] = listing["items"]
    return found


def tenant_namespaces(api: ApiClient) -> set[str]:
    return {
        ns.metadata.name
        for ns in client.CoreV1Api(api).list_namespace().items
        if ns.metadata and ns.metadata.name and ns.metadata.name.startswith("liqo-tenant-")
    }


def test_liqoctl_connects_the_two_edges_and_resets_them_leaving_no_peering_objects(
    lab: Lab, kube: Callable[[str], ApiClient]
) -> None:
    connect = liqoctl("network", "connect", "--wait")
    assert connect.returncode == 0, (
        f"liqoctl network connect failed:\n{connect.stdout}{connect.stderr}"
    )

    for local, remote in (("edge-a", "edge-b"), ("edge-b", "edge-a")):
        objects = peering_objects(kube(local), remote)
        assert len(objects["configurations"]) == 1, objects["configurations"]
        assert len(objects["publickeies"]) == 1, objects["publickeies"]
        connections = objects["connections"]
        assert [c.get("status", {}).get("value") for c in connections] == ["Connected"]
        # liqoctl creates the tenant namespace for the other cluster when it is missing.
        assert f"liqo-tenant-{remote}" in tenant_namespaces(kube(local))
    assert len(peering_objects(kube("edge-a"), "edge-b")["gatewayclients"]) == 1
    assert len(peering_objects(kube("edge-b"), "edge-a")["gatewayservers"]) == 1
    tenants_connected = {edge: tenant_namespaces(kube(edge)) for edge in ("edge-a", "edge-b")}

    reset = liqoctl("network", "reset")
    assert reset.returncode == 0, f"liqoctl network reset failed:\n{reset.stdout}{reset.stderr}"

    for local, remote in (("edge-a", "edge-b"), ("edge-b", "edge-a")):
        leftovers = {k: v for k, v in peering_objects(kube(local), remote).items() if v}
        assert leftovers == {}, f"{local} still holds peering objects for {remote}"
        # liqoctl network reset leaves tenant namespaces in place, as with real Liqo.
        assert tenant_namespaces(kube(local)) == tenants_connected[local]
