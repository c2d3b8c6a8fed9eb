"""The Liqo baseline in the live lab: what liqoctl looks up is where liqoctl looks, and a second
``install_baseline`` changes nothing.

Lookups mirror liqoctl v1.2.0's: the cluster ID by label in the Liqo namespace
(pkg/utils/cluster_info.go), Networks by type label with a status CIDR (pkg/utils/ipam/networks.go),
the gateway templates by name (pkg/liqoctl/network/cluster.go), tenant namespaces by label
(pkg/tenantNamespace/namespaceManager.go), the version from the controller-manager's image tag
(pkg/utils/getters/k8sGetters.go).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from kubernetes.client import ApiClient
from kubernetes.dynamic import DynamicClient

from lab.cluster import Lab
from lab.liqo_baseline import install_baseline, tenant_namespace_name
from lab.topology import LIQO_NAMESPACE, LIQO_VERSION

pytestmark = pytest.mark.integration

Kube = Callable[[str], ApiClient]
Obj = dict[str, Any]


def objects(
    api: ApiClient, api_version: str, kind: str, namespace: str | None = None, selector: str = ""
) -> list[Obj]:
    dyn = DynamicClient(api)
    resource = dyn.resources.get(api_version=api_version, kind=kind)
    found = resource.get(namespace=namespace, label_selector=selector).to_dict()
    items: list[Obj] = found["items"]
    return items


def networks(api: ApiClient, network_type: str) -> list[Obj]:
    selector = f"ipam.liqo.io/network-type={network_type}"
    return objects(api, "ipam.liqo.io/v1alpha1", "Network", LIQO_NAMESPACE, selector)


@pytest.mark.parametrize("name", ["central", "edge-a", "edge-b"])
def test_liqoctl_lookups_find_the_install(lab: Lab, kube: Kube, name: str) -> None:
    spec, api = lab.topology.cluster(name), kube(name)
    selector = "app.kubernetes.io/name in (clusterid-configmap)"
    cms = objects(api, "v1", "ConfigMap", LIQO_NAMESPACE, selector)
    assert [cm["data"]["CLUSTER_ID"] for cm in cms] == [name]

    expected = {
        "pod-cidr": spec.pod_cidr,
        "service-cidr": spec.service_cidr,
        "external-cidr": spec.external_cidr,
        "internal-cidr": spec.internal_cidr,
    }
    for network_type, cidr in expected.items():
        [network] = networks(api, network_type)
        assert network["status"]["cidr"] == cidr

    for kind, template in [
        ("WgGatewayServerTemplate", "wireguard-server"),
        ("WgGatewayClientTemplate", "wireguard-client"),
    ]:
        names = [t["metadata"]["name"] for t in objects(api, "networking.liqo.io/v1beta1", kind)]
        assert names == [template]

    selector = (
        "app.kubernetes.io/name=controller-manager,app.kubernetes.io/component=controller-manager"
    )
    [deployment] = objects(api, "apps/v1", "Deployment", LIQO_NAMESPACE, selector)
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"].rsplit(":", 1)[1] == LIQO_VERSION


def test_peerings_are_central_to_each_edge(lab: Lab, kube: Kube) -> None:
    consumer, providers = lab.topology.consumer, lab.topology.providers
    sides = [(consumer, providers, "Provider"), *((p, (consumer,), "Consumer") for p in providers)]
    for cluster, peers, role in sides:
        api = kube(cluster.name)
        fcs = objects(api, "core.liqo.io/v1beta1", "ForeignCluster")
        roles = {fc["spec"]["clusterID"]: (fc.get("status") or {}).get("role") for fc in fcs}
        # Besides the peerings, Liqo makes a ForeignCluster of role Unknown for any cluster ID a
        # networking object names (F1): the other edges after a shortcut, the made-up IDs of
        # tests. None of them is a peering.
        peered = {cluster_id: role for cluster_id, role in roles.items() if role != "Unknown"}
        assert peered == {peer.name: role for peer in peers}
        for peer in peers:
            selector = f"liqo.io/remote-cluster-id={peer.name},liqo.io/tenant-namespace"
            [ns] = objects(api, "v1", "Namespace", selector=selector)
            assert ns["metadata"]["name"] == tenant_namespace_name(peer.name)
    nodes = objects(kube(consumer.name), "offloading.liqo.io/v1beta1", "VirtualNode")
    assert sorted(n["spec"]["clusterID"] for n in nodes) == sorted(p.name for p in providers)


def test_install_baseline_twice_changes_nothing(lab: Lab, kube: Kube) -> None:
    def versions(api: ApiClient) -> dict[str, str]:
        found = [
            *networks(api, "pod-cidr"),
            *objects(api, "v1", "ConfigMap", LIQO_NAMESPACE),
            *objects(api, "core.liqo.io/v1beta1", "ForeignCluster"),
            *objects(api, "offloading.liqo.io/v1beta1", "VirtualNode"),
            *objects(api, "networking.liqo.io/v1beta1", "WgGatewayServerTemplate"),
            *objects(api, "v1", "Namespace", selector="liqo.io/tenant-namespace"),
            *objects(
                api, "v1", "Namespace", selector=f"kubernetes.io/metadata.name={LIQO_NAMESPACE}"
            ),
        ]
        # An object on its way out (a namespace another test deleted) is nobody's baseline.
        return {
            o["metadata"]["uid"]: o["metadata"]["resourceVersion"]
            for o in found
            if not o["metadata"].get("deletionTimestamp")
        }

    for spec in lab.topology.clusters:
        api = kube(spec.name)
        before = versions(api)
        install_baseline(api, spec, lab.topology, liqo=lab.liqo)
        assert versions(api) == before
