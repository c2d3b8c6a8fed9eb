"""The lab's offloaded workloads and per-peer faults, against the live lab.

Central has a Ready virtual Node per edge; a workload offloaded across edge-a, edge-b and central
gets its EndpointSlices from the real kube-controller-manager, each endpoint on the Pod's node, and
loses them when removed. A fault aimed at edge-a's gateway toward edge-b sends that Connection,
and no other, to Error, and a pinned latency shows at the next refresh.
"""

from __future__ import annotations

import ipaddress
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes.client import ApiClient

from lab.cluster import Lab
from lab.emulator import kube as k
from lab.emulator.kube import Kube, Obj
from lab.faults import clear_faults, set_faults
from lab.liqo_baseline import install_baseline
from lab.workloads import WORKLOAD_LABEL, list_workloads, offload, remove

pytestmark = pytest.mark.integration

Clients = Callable[[str], ApiClient]
NAMESPACES = k.Resource("", "v1", "namespaces", namespaced=False)
ENDPOINTSLICES = k.Resource("discovery.k8s.io", "v1", "endpointslices")
CONNECTIONS = k.CONNECTIONS


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)


def in_cidr(ip: str, cidr: str) -> bool:
    return ipaddress.ip_address(ip) in ipaddress.ip_network(cidr)


def json_client(kube: Clients, context: str) -> Kube:
    """Plain-dict requests to a lab cluster through the session's admin client."""
    return Kube("", context, api=kube(context))


# ------------------------------------------------------------------------- virtual nodes
def test_central_has_a_ready_tainted_virtual_node_per_edge_and_a_rerun_keeps_them(
    lab: Lab, kube: Clients
) -> None:
    central = json_client(kube, "central")
    nodes = central.list(k.NODES, selector="liqo.io/type=virtual-node")
    assert sorted(n["metadata"]["name"] for n in nodes) == [p.name for p in lab.topology.providers]
    for node in nodes:
        name = node["metadata"]["name"]
        assert node["metadata"]["labels"]["liqo.io/remote-cluster-id"] == name
        assert node["spec"]["taints"] == [
            {"key": "virtual-node.liqo.io/not-allowed", "value": "true", "effect": "NoExecute"}
        ]
        conditions = {c["type"]: c["status"] for c in node["status"]["conditions"]}
        assert conditions["Ready"] == "True"
        assert conditions["NetworkUnavailable"] == "False"
        [address] = node["status"]["addresses"]
        assert address["type"] == "InternalIP"
        assert in_cidr(address["address"], lab.topology.consumer.pod_cidr)
        assert node["status"]["allocatable"]["pods"] == "110"
    versions = {n["metadata"]["name"]: n["metadata"]["resourceVersion"] for n in nodes}
    install_baseline(kube("central"), lab.topology.consumer, lab.topology, liqo=lab.liqo)
    again = central.list(k.NODES, selector="liqo.io/type=virtual-node")
    assert {n["metadata"]["name"]: n["metadata"]["resourceVersion"] for n in again} == versions


# ------------------------------------------------------------------------------ workloads
@pytest.fixture
def namespace(kube: Clients, unique_name: str) -> Iterator[str]:
    """A namespace for the test's workloads; removed, and waited out, at the end (other
    modules' snapshots of the lab count namespaces)."""
    yield unique_name
    api, central = kube("central"), json_client(kube, "central")
    for workload in list_workloads(api, unique_name):
        remove(api, unique_name, workload.app)
    for pod in central.list(k.PODS, unique_name):  # the eviction test's Pod: no kubelet ends it
        central.delete(k.PODS, pod["metadata"]["name"], unique_name, grace=0)
    central.delete(NAMESPACES, unique_name)
    wait_for(f"namespace {unique_name} to go", lambda: not central.get(NAMESPACES, unique_name), 90)


def slice_endpoints(central: Kube, namespace: str, service: str) -> set[tuple[str, str, bool]]:
    """(address, nodeName, ready) of every endpoint in the Service's EndpointSlices, which must
    all be kube-controller-manager's."""
    found = set()
    selector = f"kubernetes.io/service-name={service}"
    for eps in central.list(ENDPOINTSLICES, namespace, selector):
        managed_by = eps["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"]
        assert managed_by == "endpointslice-controller.k8s.io"
        for endpoint in eps.get("endpoints") or []:
            for address in endpoint["addresses"]:
                ready = endpoint["conditions"].get("ready") is True
                found.add((str(address), str(endpoint.get("nodeName")), ready))
    return found


def test_an_offloaded_workload_s_endpointslices_list_its_pods_on_their_nodes(
    lab: Lab, kube: Clients, namespace: str
) -> None:
    api, central = kube("central"), json_client(kube, "central")
    placements = {"edge-a": 2, "edge-b": 1, "central": 1}
    workload = offload(api, namespace, "web", placements, service_labels={"tier": "web"})
    assert workload.placements() == placements

    pods = central.list(k.PODS, namespace, f"{WORKLOAD_LABEL}=web")
    assert sorted(p["spec"]["nodeName"] for p in pods) == [
        "central-node",
        "edge-a",
        "edge-a",
        "edge-b",
    ]
    for pod in pods:
        node_name, ip = pod["spec"]["nodeName"], pod["status"]["podIP"]
        cluster = "central" if node_name == "central-node" else node_name
        assert in_cidr(ip, lab.topology.cluster(cluster).pod_cidr)
        node = central.get(k.NODES, node_name) or {}
        internal = [a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"]
        assert pod["status"]["hostIP"] == internal[0]
    expected = {(p["status"]["podIP"], p["spec"]["nodeName"], True) for p in pods}
    assert len(expected) == 4
    assert slice_endpoints(central, namespace, "web") == expected

    service = central.get(k.SERVICES, "web", namespace) or {}
    assert service["metadata"]["labels"]["tier"] == "web"
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["clusterIP"] == workload.cluster_ip
    ns = central.get(NAMESPACES, namespace) or {}
    assert ns["metadata"]["labels"]["liqo.io/scheduling-enabled"] == "true"
    assert [w.app for w in list_workloads(api, namespace)] == ["web"]

    # Fewer Pods: the edge-b one and the second edge-a one go, and the slices follow.
    smaller = offload(api, namespace, "web", {"edge-a": 1, "central": 1})
    kept = {(p.ip, p.node, True) for p in smaller.pods}
    assert {node for _, node, _ in kept} == {"edge-a", "central-node"}
    assert kept < expected
    assert slice_endpoints(central, namespace, "web") == kept

    remove(api, namespace, "web")
    assert slice_endpoints(central, namespace, "web") == set()
    assert central.list(k.PODS, namespace) == []
    assert list_workloads(api, namespace) == []


def test_a_pod_without_liqo_s_toleration_is_evicted_from_a_virtual_node(
    kube: Clients, namespace: str
) -> None:
    """The NoExecute taint is real: kube-controller-manager's taint-eviction controller deletes
    a Pod bound to a virtual node without the toleration Liqo's webhook adds, not the others."""
    api, central = kube("central"), json_client(kube, "central")
    offload(api, namespace, "tolerated", {"edge-c": 1})
    body = {
        "metadata": {"name": "untolerated", "namespace": namespace},
        "spec": {"nodeName": "edge-c", "containers": [{"name": "c", "image": "pause"}]},
    }
    central.create(k.PODS, body)

    def evicted() -> bool:
        pod = central.get(k.PODS, "untolerated", namespace)
        return pod is None or bool(pod["metadata"].get("deletionTimestamp"))

    wait_for("the untolerated Pod's eviction", evicted, 30)
    tolerated = central.list(k.PODS, namespace, f"{WORKLOAD_LABEL}=tolerated")
    assert [p["metadata"].get("deletionTimestamp") for p in tolerated] == [None]


# ---------------------------------------------------------------------- per-peer faults
def status_of(kube: Clients, cluster: str, remote: str) -> Obj:
    """The status of ``cluster``'s Connection to ``remote`` ({} while there is none)."""
    found = json_client(kube, cluster).list(
        CONNECTIONS, selector=f"liqo.io/remote-cluster-id={remote}"
    )
    assert len(found) <= 1
    return dict(found[0].get("status") or {}) if found else {}


def connected(kube: Clients, cluster: str, remote: str) -> Callable[[], bool]:
    return lambda: status_of(kube, cluster, remote).get("value") == "Connected"


@pytest.fixture
def shortcut_a_b(shortcut_cli: Callable[..., subprocess.CompletedProcess[str]]) -> Iterator[None]:
    """edge-a and edge-b connected directly by `kubectl shortcut create`; deleted at the end."""
    created = shortcut_cli("create", "edge-a", "edge-b", "-q")
    try:
        assert created.returncode == 0, created.stderr
        yield
    finally:
        clear_faults()
        deleted = shortcut_cli("delete", "edge-a", "edge-b", "-q")
        assert deleted.returncode == 0, deleted.stderr


def test_a_per_peer_fault_sends_only_that_connection_to_error(
    emulated_gateways: None, kube: Clients, shortcut_a_b: None
) -> None:
    others = [("edge-a", "central"), ("edge-b", "edge-a"), ("edge-b", "central")]
    others += [("central", "edge-a"), ("central", "edge-b")]
    for cluster, remote in [("edge-a", "edge-b"), *others]:
        wait_for(f"{cluster}'s Connection to {remote} Connected", connected(kube, cluster, remote))

    set_faults({"edge-a": {"peers": {"edge-b": {"connected": "fail"}}}})
    wait_for(
        "edge-a -> edge-b Error", lambda: status_of(kube, "edge-a", "edge-b")["value"] == "Error"
    )
    assert status_of(kube, "edge-a", "edge-b")["latency"] == {"value": "N/A"}
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:  # and every other Connection stays Connected
        for cluster, remote in others:
            assert status_of(kube, cluster, remote)["value"] == "Connected", (cluster, remote)
        time.sleep(0.2)

    # A pinned latency: the Connection coming back writes it at once; one that stayed Connected
    # shows it at its next refresh (Liqo's 10 s update interval, plus a 1 s pass; a little slack
    # for a loaded machine).
    set_faults({"edge-a": {"latency": "7ms", "peers": {"edge-b": {"latency": "5ms"}}}})
    pinned = time.monotonic()
    wait_for(
        "edge-a -> edge-b Connected at 5ms",
        lambda: status_of(kube, "edge-a", "edge-b").get("latency", {}).get("value") == "5ms",
    )
    assert status_of(kube, "edge-a", "edge-b")["value"] == "Connected"
    wait_for(
        "edge-a -> central at 7ms",
        lambda: status_of(kube, "edge-a", "central").get("latency", {}).get("value") == "7ms",
        timeout=20,
    )
    assert time.monotonic() - pinned < 10 + 4
    assert status_of(kube, "edge-b", "edge-a")["latency"]["value"].endswith("μs")
