"""The virtual kubelet's share of the data path, which the lab plays for its offloaded workloads.

Which path a Service's traffic takes is decided in Liqo by the EndpointSlice reflection: the
virtual kubelet on central writes, into each edge, a ShadowEndpointSlice per EndpointSlice of the
Service, and the edge's liqo-controller-manager (Liqo's own code here) turns it into the
EndpointSlice clients on the edge use. No virtual kubelet runs in the lab, so this module does its
part, following Liqo v1.2.0 (cited in lab/FIDELITY.md):

- the pod an offloaded Pod stands for runs on its edge (pod reflection): a Pod object on the
  edge's node at its own IP (central shows it remapped where its Liqo remapped the edge's pod
  CIDR), and a network namespace on that node (``pods.plug``);
- central holds an ``IP`` per offloaded pod (controller-manager's OffloadedPodReconciler, which
  central's ``--offloading-enabled=false`` turns off here), which Liqo's IPAM maps into central's
  external CIDR and Liqo's gateways DNAT back (the path through central);
- ``reflect``: the ShadowEndpointSlice, addresses translated through those IPs unless the Service
  says ``liqo.io/use-direct-connections: "true"``, when they go untranslated with the
  ``liqo.io/direct-connections-data`` annotation, so the edge maps them into its direct peering.

Namespaces keep their names on the edges (Liqo's EnforceSameName mapping strategy).
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.datapath import pods
from lab.datapath.probe import REPO_ROOT
from lab.emulator import kube as k
from lab.emulator.kube import Kube, KubeError, Obj
from lab.workloads import ensure_namespace

IPS = k.Resource("ipam.liqo.io", "v1alpha1", "ips")
SHADOW_ENDPOINTSLICES = k.Resource("offloading.liqo.io", "v1beta1", "shadowendpointslices")
ENDPOINTSLICES = k.Resource("discovery.k8s.io", "v1", "endpointslices")
NAMESPACES = k.Resource("", "v1", "namespaces", namespaced=False)
SERVICE_NAME = "kubernetes.io/service-name"
USE_DIRECT_CONNECTIONS = "liqo.io/use-direct-connections"  # pkg/consts/replication.go
DIRECT_CONNECTIONS_DATA = "liqo.io/direct-connections-data"
ORIGIN, DESTINATION = "offloading.liqo.io/origin", "offloading.liqo.io/destination"
MANAGED_BY = {"endpointslice.kubernetes.io/managed-by": "endpointslice.reflection.liqo.io"}
REMOTE_CLUSTER_ID = "liqo.io/remote-cluster-id"
POD_NAME, POD_NAMESPACE = "offloading.liqo.io/pod-name", "offloading.liqo.io/pod-namespace"
# The lab's own mark on each reflection; Liqo copies a ShadowEndpointSlice's annotations onto the
# EndpointSlice it makes, so the mark says when the edge has caught up with this reflection.
REFLECTED_AT = "lab.liqo-shortcut.io/reflected-at"


def _apply(kube: Kube, res: k.Resource, obj: Obj) -> Obj:
    """Create ``obj``, or replace the spec-level fields of the one that exists."""
    meta = obj["metadata"]
    current = kube.get(res, meta["name"], meta.get("namespace"))
    if current is None:
        return kube.create(res, obj, meta.get("namespace"))
    merged = current | {key: value for key, value in obj.items() if key != "metadata"}
    merged["metadata"] = current["metadata"] | {
        "labels": meta.get("labels", {}),
        "annotations": meta.get("annotations", {}),
    }
    return kube.update(res, merged)


def run_on_edge(edge: Kube, lab_dir: Path, cluster: str, namespace: str, name: str, ip: str) -> str:
    """The pod behind an offloaded Pod, on its edge's node at ``ip``, its address there (which
    central shows remapped where its Liqo remapped the edge's pod CIDR); returns the network
    namespace it runs in, plugged into the edge's node."""
    ensure_namespace(edge, namespace, {})
    node = f"{cluster}-node"
    pod = edge.get(k.PODS, name, namespace)
    if pod is None:
        pod = edge.create(
            k.PODS,
            {
                "kind": "Pod",
                "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
                "spec": {
                    "nodeName": node,
                    "containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}],
                },
            },
            namespace,
        )
    edge.patch(
        k.PODS,
        name,
        {"status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}},
        namespace,
        sub="status",
    )
    return pods.plug(lab_dir, cluster, f"{namespace}/{name}", ip)


@dataclass
class PlacedPod:
    """An offloaded pod running on its edge: its network namespace and its server process."""

    name: str
    cluster: str
    ip: str
    netns: str
    server: subprocess.Popen[bytes]


def place(
    central: Kube,
    edges: Mapping[str, Kube],
    lab_dir: Path,
    namespace: str,
    offloaded: list[tuple[str, str, str, str]],
    port: int,
) -> list[PlacedPod]:
    """Run each offloaded pod (name, edge, IP on the edge, IP central shows) on its edge with a
    traffic server on ``port``, and map it on central as Liqo does."""
    placed = []
    for name, cluster, ip, central_ip in offloaded:
        namespace_on_node = run_on_edge(edges[cluster], lab_dir, cluster, namespace, name, ip)
        server = pods.start_in(
            namespace_on_node,
            [sys.executable, "-m", "lab.datapath.traffic", "serve", str(port)],
            lab_dir / f"traffic-{cluster}-{name}.log",
            cwd=REPO_ROOT,
        )
        map_offloaded_pod(central, namespace, name, central_ip)
        placed.append(PlacedPod(name, cluster, ip, namespace_on_node, server))
    return placed


def unplace(
    edges: Mapping[str, Kube], lab_dir: Path, namespace: str, placed: list[PlacedPod]
) -> None:
    """Stop the servers, unplug the pods and delete their edge Pods and reflections."""
    for pod in placed:
        pod.server.terminate()
        pod.server.wait(timeout=10)
        pods.unplug(lab_dir, pod.cluster, f"{namespace}/{pod.name}")
        edges[pod.cluster].delete(k.PODS, pod.name, namespace, grace=0)
    for edge in edges.values():
        forget(edge, namespace)


def map_offloaded_pod(central: Kube, namespace: str, name: str, ip: str) -> None:
    """The IP that OffloadedPodReconciler makes for an offloaded pod (ipmapping/k8s.go)."""
    ip_object = {
        "apiVersion": "ipam.liqo.io/v1alpha1",
        "kind": "IP",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {POD_NAME: name, POD_NAMESPACE: namespace},
        },
        "spec": {"ip": ip},
    }
    if central.get(IPS, name, namespace) is None:
        central.create(IPS, ip_object, namespace)


def _translated(central: Kube, namespace: str, address: str, local_pod_cidr: str) -> str | None:
    """MapEndpointIPs without direct connections: central's own pods unchanged, the others
    through their IP's ``status.ip`` (None until Liqo's IPAM has allocated it)."""
    if ipaddress.ip_address(address) in ipaddress.ip_network(local_pod_cidr):
        return address
    for ip_object in central.list(IPS, namespace):
        if ip_object["spec"].get("ip") == address:
            allocated = (ip_object.get("status") or {}).get("ip")
            return str(allocated) if allocated else None
    return None


def _cluster_of_node(central: Kube, node: str | None) -> str | None:
    if not node:
        return None
    found = central.get(k.NODES, node)
    return ((found or {}).get("metadata", {}).get("labels") or {}).get(REMOTE_CLUSTER_ID)


def reflect(
    central: Kube,
    edge: Kube,
    edge_name: str,
    namespace: str,
    service: str,
    *,
    central_name: str = "central",
    local_pod_cidr: str,
    timeout: float = 30.0,
) -> list[str]:
    """Reflect ``service``'s EndpointSlices from central into ``edge_name`` as the virtual
    kubelet does, and return the addresses of the EndpointSlices the edge's Liqo makes of them:
    what a client on the edge dials."""
    svc = central.get(k.SERVICES, service, namespace)
    if svc is None:
        raise ValueError(f"no Service {namespace}/{service} on central")
    direct = (svc["metadata"].get("annotations") or {}).get(USE_DIRECT_CONNECTIONS) == "true"
    ensure_namespace(edge, namespace, {})
    deadline = time.monotonic() + timeout
    stamp = f"{time.time():.6f}"
    names = []
    for local in central.list(ENDPOINTSLICES, namespace, f"{SERVICE_NAME}={service}"):
        endpoints: list[Obj] = []
        by_cluster: dict[str, list[str]] = {}
        for endpoint in local.get("endpoints") or []:
            cluster = _cluster_of_node(central, endpoint.get("nodeName"))
            if cluster == edge_name:
                continue  # EndpointToBeReflected: the edge lists its own pods natively
            if direct:
                addresses = list(endpoint["addresses"])
                if cluster is not None:
                    by_cluster.setdefault(cluster, []).extend(addresses)
            else:
                addresses = []
                for address in endpoint["addresses"]:
                    while (
                        mapped := _translated(central, namespace, address, local_pod_cidr)
                    ) is None:
                        if time.monotonic() > deadline:
                            raise TimeoutError(f"no IP mapping for {address} on central")
                        time.sleep(0.2)
                    addresses.append(mapped)
            endpoints.append(
                {
                    "addresses": addresses,
                    "conditions": {"ready": (endpoint.get("conditions") or {}).get("ready")},
                    "nodeName": central_name,
                }
            )
        annotations = dict(local["metadata"].get("annotations") or {}) | {REFLECTED_AT: stamp}
        if by_cluster:
            annotations[DIRECT_CONNECTIONS_DATA] = json.dumps({"clusterAddresses": by_cluster})
        name = local["metadata"]["name"]
        names.append(name)
        _apply(
            edge,
            SHADOW_ENDPOINTSLICES,
            {
                "apiVersion": "offloading.liqo.io/v1beta1",
                "kind": "ShadowEndpointSlice",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "labels": (local["metadata"].get("labels") or {})
                    | {ORIGIN: central_name, DESTINATION: edge_name}
                    | MANAGED_BY,
                    "annotations": annotations,
                },
                "spec": {
                    "template": {
                        "addressType": local.get("addressType", "IPv4"),
                        "endpoints": endpoints,
                        "ports": local.get("ports") or [],
                    }
                },
            },
        )
    return _edge_addresses(edge, namespace, names, stamp, deadline)


def _edge_addresses(
    edge: Kube, namespace: str, names: list[str], stamp: str, deadline: float
) -> list[str]:
    """The addresses of the EndpointSlices the edge's Liqo made of this reflection."""
    while True:
        found: list[str] = []
        complete = True
        for name in names:
            made: Any = edge.get(ENDPOINTSLICES, name, namespace)
            if (made or {}).get("metadata", {}).get("annotations", {}).get(REFLECTED_AT) != stamp:
                complete = False
                break
            found += [a for endpoint in made.get("endpoints") or [] for a in endpoint["addresses"]]
        if complete:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"the edge made no EndpointSlices for {names} in {namespace}")
        time.sleep(0.2)


def forget(edge: Kube, namespace: str) -> None:
    """Remove what ``reflect`` wrote into the edge's namespace."""
    for shadow in edge.list(SHADOW_ENDPOINTSLICES, namespace):
        try:
            edge.delete(SHADOW_ENDPOINTSLICES, shadow["metadata"]["name"], namespace)
        except KubeError as error:
            if error.status != 404:
                raise
