"""Offloaded workloads on central: Pods on the edges' virtual nodes, as Liqo shows them there.

Why: liqo-shortcut's traffic policy decides which edges a Service of central talks to from the
EndpointSlices kube-controller-manager writes on central, whose endpoints name the virtual node
(one per edge) each pod runs on. The lab has neither a kubelet nor Liqo's virtual kubelet, so this
module plays both for plain Pods, and nothing more: it binds each Pod to a node by
``spec.nodeName`` (an edge's virtual node, or ``central-node``, the node the emulator registers for
central itself) and writes the status Liqo's pod reflection shows on the consumer
(pkg/virtualKubelet/forge/pods.go ``LocalPodStatus``: Running and Ready, the remote pod's IP as
central's Liqo maps it, hostIP = the virtual node's InternalIP). The
EndpointSlices are then the real EndpointSlice controller's work, from a real Service.

Pods get the toleration Liqo's pod webhook adds in an offloaded namespace
(pkg/webhooks/pod/mutations.go ``getVirtualNodeToleration``), without which kube-controller-
manager's taint-eviction controller would delete them from the virtual nodes (NoExecute taint);
the namespace gets the label Liqo's NamespaceOffloading controller sets
(pkg/liqo-controller-manager/offloading/namespaceoffloading-controller/labels.go). No
NamespaceOffloading object is made, and no pod exists on the edges themselves (on the real data
path, ``lab.datapath.reflection.place`` runs them there).

IP addresses are picked from what central holds when ``offload`` runs (pod IPs, node addresses),
from the second /24 of the pod's cluster's pod CIDR up: two ``offload`` running at once may pick
the same address. Where central's Liqo remapped an edge's pod CIDR (its Configuration for the edge
says so), central shows that edge's pods at the remapped address, host part kept. Pods are
deleted with a zero grace period, as no kubelet would confirm them.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from kubernetes.client import ApiClient

from lab.emulator import kube as k
from lab.emulator.kube import Kube, Obj
from lab.emulator.liqo import now_rfc3339
from lab.kubeclient import api_client
from lab.topology import Topology, topology_from_env

# On the workload's Pods and Service: which workload they make up (its app name).
WORKLOAD_LABEL = "liqo-lab/workload"
APP_LABEL = "app"
# pkg/consts/namespace_mapping.go SchedulingLiqoLabel, SchedulingLiqoLabelValue.
OFFLOADED_NAMESPACE_LABELS: Mapping[str, str] = {"liqo.io/scheduling-enabled": "true"}
# pkg/webhooks/pod/mutations.go getVirtualNodeToleration (key: pkg/consts/webhook.go).
VIRTUAL_NODE_TOLERATION: Mapping[str, str] = {
    "key": "virtual-node.liqo.io/not-allowed",
    "operator": "Exists",
    "effect": "NoExecute",
}
IMAGE = "registry.k8s.io/pause:3.10"  # never pulled: no container runs
# Workload IPs start at the second /24 of a pod CIDR: the emulator's gateway pods count up from
# .0.11 and central's virtual kubelets down from .0.254 (lab/liqo_baseline.py).
FIRST_OFFSET = 256
NAMESPACES = k.Resource("", "v1", "namespaces", namespaced=False)
ENDPOINTSLICES = k.Resource("discovery.k8s.io", "v1", "endpointslices")
SERVICE_NAME_LABEL = "kubernetes.io/service-name"  # discovery.k8s.io's label on a Service's slices

Target = ApiClient | str
T = TypeVar("T")


@dataclass(frozen=True)
class PlacedPod:
    """One Pod of a workload: where it runs (a cluster of the lab and the node standing for it),
    its IP as central shows it, and its IP on its own cluster: the same unless central's Liqo
    remapped that cluster's pod CIDR (then central sees it in the remapped CIDR, as Liqo's
    virtual kubelet shows it, ``pkg/virtualKubelet/reflection/workload/podns.go``)."""

    name: str
    cluster: str
    node: str
    ip: str
    own_ip: str


@dataclass(frozen=True)
class Endpoint:
    """One endpoint of the Service's EndpointSlices, as kube-controller-manager wrote it."""

    ip: str
    node: str | None
    ready: bool


@dataclass(frozen=True)
class Workload:
    namespace: str
    app: str
    cluster_ip: str
    ports: tuple[int, ...]
    pods: tuple[PlacedPod, ...]
    endpoints: tuple[Endpoint, ...]

    def placements(self) -> dict[str, int]:
        """How many Pods run in each cluster."""
        counts: dict[str, int] = {}
        for pod in self.pods:
            counts[pod.cluster] = counts.get(pod.cluster, 0) + 1
        return counts


def allocate_ips(
    cidr: str, count: int, used: Iterable[str] = (), *, offset: int = FIRST_OFFSET
) -> list[str]:
    """``count`` distinct host addresses of ``cidr`` not in ``used``, from the first host after
    ``offset`` up (from the network's first host when it is too small to skip that far)."""
    network = ipaddress.ip_network(cidr)
    if not isinstance(network, ipaddress.IPv4Network):
        raise ValueError(f"{cidr}: the lab's pod CIDRs are IPv4")
    taken = set(used)
    start = offset + 1 if network.num_addresses > 2 * offset else 1
    found: list[str] = []
    for index in range(start, network.num_addresses - 1):
        if len(found) == count:
            break
        address = str(network[index])
        if address not in taken:
            found.append(address)
    if len(found) < count:
        raise ValueError(f"{cidr} has no {count} free addresses from offset {start}")
    return found


CONFIGURATIONS = k.Resource("networking.liqo.io", "v1beta1", "configurations")


def central_remaps(
    kube: Kube,
) -> dict[str, tuple[ipaddress.IPv4Network, ipaddress.IPv4Network]]:
    """Per edge whose pod CIDR central's Liqo remapped: (its own CIDR, the one central sees)."""
    remaps = {}
    for cfg in kube.list(CONFIGURATIONS):
        edge = _labels(cfg).get("liqo.io/remote-cluster-id")
        own = ((cfg.get("spec") or {}).get("remote") or {}).get("cidr", {}).get("pod") or []
        seen = ((cfg.get("status") or {}).get("remote") or {}).get("cidr", {}).get("pod") or []
        if edge and own and seen and own[0] != seen[0]:
            remaps[edge] = (ipaddress.IPv4Network(own[0]), ipaddress.IPv4Network(seen[0]))
    return remaps


def remap_address(ip: str, source: ipaddress.IPv4Network, target: ipaddress.IPv4Network) -> str:
    """``ip`` moved from ``source`` into ``target``, host part kept (Liqo's RemapMask);
    unchanged when it is not in ``source``."""
    try:
        address = ipaddress.IPv4Address(ip)
    except ValueError:  # a node's hostname among the addresses
        return ip
    if address not in source:
        return ip
    host = int(address) & int(target.hostmask)
    return str(ipaddress.IPv4Address(int(target.network_address) | host))


def node_for(cluster: str, topology: Topology) -> str:
    """The node of central a Pod running in ``cluster`` is bound to."""
    if cluster == topology.consumer.name:
        return f"{cluster}-node"  # the emulator's node for central (lab/emulator/liqo.py)
    if cluster in {p.name for p in topology.providers}:
        return cluster  # the VirtualNode's Node, named after the edge's cluster ID
    raise ValueError(f"no lab cluster named {cluster!r}")


def _kube(target: Target) -> Kube:
    if isinstance(target, str):
        return Kube("", target, api=api_client(target))
    return Kube("", "", api=target)


def _until(what: str, probe: Callable[[], T | None], timeout: float) -> T:
    """``probe()`` once it is not None; TimeoutError naming ``what`` at ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"lab workloads: timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)


def _labels(obj: Obj) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


def _pod_ips(pod: Obj) -> list[str]:
    status = pod.get("status") or {}
    ips = [str(entry["ip"]) for entry in status.get("podIPs") or [] if entry.get("ip")]
    return ips or ([str(status["podIP"])] if status.get("podIP") else [])


def _internal_ip(kube: Kube, node: str) -> str:
    found = kube.get(k.NODES, node)
    if found is None:
        raise ValueError(f"node {node} is not on central: is the lab up with its baseline?")
    for address in (found.get("status") or {}).get("addresses") or []:
        if address.get("type") == "InternalIP":
            return str(address["address"])
    raise ValueError(f"node {node} has no InternalIP")


def _ready(pod: Obj) -> bool:
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


def ensure_namespace(kube: Kube, namespace: str, labels: Mapping[str, str]) -> None:
    """``namespace`` with ``labels``, ready for Pods (its default ServiceAccount made)."""
    current = kube.get(NAMESPACES, namespace)
    if current is None:
        kube.create(NAMESPACES, {"metadata": {"name": namespace, "labels": dict(labels)}})
    elif any(_labels(current).get(key) != value for key, value in labels.items()):
        kube.patch(NAMESPACES, namespace, {"metadata": {"labels": dict(labels)}})
    # The ServiceAccount admission plugin refuses Pods until the namespace's default
    # ServiceAccount exists; kube-controller-manager's serviceaccount controller makes it.
    _until(
        f"the default ServiceAccount of {namespace}",
        lambda: kube.get(k.SERVICEACCOUNTS, "default", namespace),
        60.0,
    )


def _pod(namespace: str, app: str, name: str, node: str, ports: Sequence[int]) -> Obj:
    return {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {APP_LABEL: app, WORKLOAD_LABEL: app},
        },
        "spec": {
            "nodeName": node,
            "tolerations": [dict(VIRTUAL_NODE_TOLERATION)],
            "containers": [
                {
                    "name": app,
                    "image": IMAGE,
                    "ports": [{"containerPort": port, "protocol": "TCP"} for port in ports],
                }
            ],
        },
    }


def _running_status(pod: Obj, ip: str, host_ip: str) -> Obj:
    """A reflected pod's status on the consumer: Running, Ready, its IP and its node's IP."""
    stamp = now_rfc3339()
    conditions = [
        {"type": kind, "status": "True", "lastTransitionTime": stamp}
        for kind in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady")
    ] + [{"type": "PodScheduled", "status": "True", "lastTransitionTime": stamp}]
    uid = pod["metadata"]["uid"]
    containers = [
        {
            "name": c["name"],
            "image": c["image"],
            "imageID": "",
            "containerID": f"emulated://{uid}-{c['name']}",
            "ready": True,
            "started": True,
            "restartCount": 0,
            "state": {"running": {"startedAt": stamp}},
        }
        for c in pod["spec"]["containers"]
    ]
    return {
        "phase": "Running",
        "conditions": conditions,
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "startTime": stamp,
        "containerStatuses": containers,
    }


def _ensure_service(
    kube: Kube, namespace: str, app: str, labels: Mapping[str, str], ports: Sequence[int]
) -> None:
    want = {**labels, WORKLOAD_LABEL: app}
    current = kube.get(k.SERVICES, app, namespace)
    if current is None:
        kube.create(
            k.SERVICES,
            {
                "metadata": {"name": app, "namespace": namespace, "labels": want},
                "spec": {
                    "type": "ClusterIP",
                    "selector": {APP_LABEL: app, WORKLOAD_LABEL: app},
                    "ports": [
                        {"name": f"tcp-{port}", "port": port, "targetPort": port, "protocol": "TCP"}
                        for port in ports
                    ],
                },
            },
        )
    elif any(_labels(current).get(key) != value for key, value in want.items()):
        kube.patch(k.SERVICES, app, {"metadata": {"labels": want}}, namespace)


def _endpoints(kube: Kube, namespace: str, app: str) -> list[Endpoint]:
    found = []
    for eps in kube.list(ENDPOINTSLICES, namespace, f"{SERVICE_NAME_LABEL}={app}"):
        for endpoint in eps.get("endpoints") or []:
            ready = (endpoint.get("conditions") or {}).get("ready") is True
            for address in endpoint.get("addresses") or []:
                found.append(Endpoint(str(address), endpoint.get("nodeName"), ready))
    return sorted(found, key=lambda e: (e.ip, e.node or ""))


def offload(
    target: Target,
    namespace: str,
    app: str,
    placements: Mapping[str, int],
    *,
    namespace_labels: Mapping[str, str] = OFFLOADED_NAMESPACE_LABELS,
    service_labels: Mapping[str, str] | None = None,
    ports: Sequence[int] = (8080,),
    topology: Topology | None = None,
    timeout: float = 60.0,
) -> Workload:
    """Run ``app`` on central with ``placements[cluster]`` Pods per lab cluster (an edge's name,
    or central's for Pods on central itself), behind a ClusterIP Service named ``app``; returns
    once the Service's EndpointSlices list every Pod, and nothing else, as a ready endpoint with
    its node. ``target`` is an API client for central, or its context name.

    Re-running converges: missing Pods are made, Pods beyond the placements deleted.
    """
    lab = topology or topology_from_env()
    if any(count < 0 for count in placements.values()):
        raise ValueError(f"placements must be counts of Pods: {dict(placements)}")
    wanted = {
        f"{app}-{cluster}-{i}": (cluster, node_for(cluster, lab))
        for cluster, count in placements.items()
        for i in range(count)
    }
    kube = _kube(target)
    ensure_namespace(kube, namespace, namespace_labels)
    existing = {p["metadata"]["name"]: p for p in kube.list(k.PODS, namespace, _selector(app))}
    for name in existing.keys() - wanted.keys():
        kube.delete(k.PODS, name, namespace, grace=0)
    used = {ip for pod in kube.list(k.PODS) for ip in _pod_ips(pod)}
    used |= {
        str(a.get("address"))
        for node in kube.list(k.NODES)
        for a in (node.get("status") or {}).get("addresses") or []
    }
    remaps = central_remaps(kube)
    used |= {remap_address(ip, *reversed(pair)) for pair in remaps.values() for ip in used}
    without_ip = {n for n in wanted if n not in existing or not _pod_ips(existing[n])}
    new_ips = {
        cluster: allocate_ips(
            lab.cluster(cluster).pod_cidr,
            sum(1 for n in without_ip if wanted[n][0] == cluster),
            used,
        )
        for cluster in placements
    }
    host_ips: dict[str, str] = {}
    for name, (cluster, node) in sorted(wanted.items()):
        pod = existing.get(name)
        if pod is not None and _ready(pod) and _pod_ips(pod):
            continue
        if pod is None:
            pod = kube.create(k.PODS, _pod(namespace, app, name, node, ports))
        if name in without_ip:
            own = new_ips[cluster].pop(0)
            ip = remap_address(own, *remaps[cluster]) if cluster in remaps else own
        else:
            ip = _pod_ips(pod)[0]
        if node not in host_ips:
            host_ips[node] = _internal_ip(kube, node)
        status = _running_status(pod, ip, host_ips[node])
        kube.patch(k.PODS, name, {"status": status}, namespace, sub="status")
    _ensure_service(kube, namespace, app, service_labels or {}, ports)

    def settled() -> Workload | None:
        workload = describe(kube, namespace, app)
        if workload is None:
            return None
        placed = {(p.ip, p.node) for p in workload.pods if p.name in wanted}
        listed = {(e.ip, e.node) for e in workload.endpoints}
        ready = all(e.ready for e in workload.endpoints)
        return workload if ready and listed == placed and len(placed) == len(wanted) else None

    return _until(f"the EndpointSlices of {namespace}/{app} to list its Pods", settled, timeout)


def _selector(app: str) -> str:
    return f"{WORKLOAD_LABEL}={app}"


def describe(target: Target | Kube, namespace: str, app: str) -> Workload | None:
    """The workload ``app`` of ``namespace`` as central holds it now (None without its Service):
    its Pods with their IPs and nodes, and the endpoints of its EndpointSlices."""
    kube = target if isinstance(target, Kube) else _kube(target)
    service = kube.get(k.SERVICES, app, namespace)
    if service is None or WORKLOAD_LABEL not in _labels(service):
        return None
    # A virtual node names its edge by label; the emulator's node is "<cluster>-node".
    cluster_of = {
        _name(node): _labels(node).get("liqo.io/remote-cluster-id")
        or _name(node).removesuffix("-node")
        for node in kube.list(k.NODES)
    }
    remaps = central_remaps(kube)
    pods = []
    for pod in sorted(kube.list(k.PODS, namespace, _selector(app)), key=_name):
        if pod["metadata"].get("deletionTimestamp"):
            continue
        node = str(pod["spec"].get("nodeName") or "")
        ip = (_pod_ips(pod) or [""])[0]
        cluster = cluster_of.get(node, node)
        own = remap_address(ip, *reversed(remaps[cluster])) if cluster in remaps and ip else ip
        pods.append(PlacedPod(_name(pod), cluster, node, ip, own))
    spec: dict[str, Any] = service.get("spec") or {}
    return Workload(
        namespace=namespace,
        app=app,
        cluster_ip=str(spec.get("clusterIP") or ""),
        ports=tuple(int(p["port"]) for p in spec.get("ports") or []),
        pods=tuple(pods),
        endpoints=tuple(_endpoints(kube, namespace, app)),
    )


def _name(obj: Obj) -> str:
    return str(obj["metadata"]["name"])


def list_workloads(target: Target, namespace: str | None = None) -> list[Workload]:
    """Every workload ``offload`` made on central (in ``namespace``, or in all namespaces)."""
    kube = _kube(target)
    services = kube.list(k.SERVICES, namespace, WORKLOAD_LABEL)
    found = [
        describe(kube, s["metadata"]["namespace"], s["metadata"]["name"])
        for s in sorted(services, key=lambda s: (s["metadata"]["namespace"], _name(s)))
    ]
    return [w for w in found if w is not None]


def remove(target: Target, namespace: str, app: str, *, timeout: float = 60.0) -> None:
    """Delete the workload's Service and Pods; returns once they and its EndpointSlices are gone.
    The namespace stays (delete it once its workloads are removed)."""
    kube = _kube(target)
    kube.delete(k.SERVICES, app, namespace)
    for pod in kube.list(k.PODS, namespace, _selector(app)):
        kube.delete(k.PODS, _name(pod), namespace, grace=0)

    def gone() -> bool | None:
        left = [
            *kube.list(k.PODS, namespace, _selector(app)),
            *kube.list(ENDPOINTSLICES, namespace, f"{SERVICE_NAME_LABEL}={app}"),
        ]
        return True if not left and kube.get(k.SERVICES, app, namespace) is None else None

    _until(f"{namespace}/{app}'s Pods, Service and EndpointSlices to go", gone, timeout)
