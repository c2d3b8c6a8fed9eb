"""What the real data path's tests share: a Service with a pod on each edge, and reading the
gateway pods' namespaces and processes (lab/datapath)."""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from kubernetes.client import ApiClient

from lab.datapath import netns, probe, reflection
from lab.emulator import kube as k
from lab.emulator.kube import Kube
from lab.workloads import offload, remove
from tests.integration.snapshots import delete_namespaces

Clients = Callable[[str], ApiClient]
SIZE = 20_000_000  # bytes per transfer: about half a second through userspace WireGuard
PORT = 8080
EDGES = ("edge-a", "edge-b")


@dataclass
class Web:
    """A Service ``web`` of central with one pod on edge-a and one on edge-b, both running."""

    datapath: Path
    namespace: str
    central: Kube
    edges: dict[str, Kube]
    placed: dict[str, reflection.PlacedPod]

    def address_seen_by(self, edge: str) -> str:
        """The address a client on ``edge`` dials for the other edge's pod (the reflection)."""
        (address,) = reflection.reflect(
            self.central, self.edges[edge], edge, self.namespace, "web",
            local_pod_cidr="10.241.0.0/16",
        )  # fmt: skip
        return address

    def through_central(self, address: str) -> tuple[probe.Transfer, int, float]:
        """A transfer from edge-a's pod to ``address``, the bytes central's node saw meanwhile,
        and the median round trip."""
        before = probe.node_bytes(self.datapath, "central")
        done = probe.transfer(self.placed["edge-a"].netns, address, PORT, SIZE)
        seen = probe.node_bytes(self.datapath, "central") - before
        rtt = statistics.median(probe.round_trips(self.placed["edge-a"].netns, address, PORT))
        return done, seen, rtt


@contextlib.contextmanager
def placed_web(
    datapath: Path, kube: Clients, namespace: str, labels: Mapping[str, str] | None = None
) -> Iterator[Web]:
    central = Kube("", "central", api=kube("central"))
    edges = {edge: Kube("", edge, api=kube(edge)) for edge in EDGES}
    extra = {"namespace_labels": labels} if labels else {}
    workload = offload(
        kube("central"), namespace, "web", dict.fromkeys(EDGES, 1), ports=(PORT,),
        service_labels={"tier": "web"}, **extra,  # type: ignore[arg-type]
    )  # fmt: skip
    offloaded = [(pod.name, pod.cluster, pod.ip) for pod in workload.pods]
    placed = reflection.place(central, edges, datapath, namespace, offloaded, PORT)
    try:
        yield Web(datapath, namespace, central, edges, {pod.cluster: pod for pod in placed})
    finally:
        reflection.unplace(edges, datapath, namespace, placed)
        remove(kube("central"), namespace, "web")
        for cluster in ("central", *EDGES):
            delete_namespaces(kube(cluster), [namespace])


def gateway_pod_uid(kube: Clients, cluster: str, remote: str) -> str:
    """The UID of ``cluster``'s gateway pod toward ``remote``."""
    listed = Kube("", cluster, api=kube(cluster)).list(
        k.PODS, f"liqo-tenant-{remote}", "networking.liqo.io/component=gateway"
    )
    (pod,) = listed
    return str(pod["metadata"]["uid"])


def gateway_namespace(datapath: Path, kube: Clients, cluster: str, remote: str) -> str:
    return f"{netns.prefix(datapath)}-{gateway_pod_uid(kube, cluster, remote)[:8]}"


def namespace_pids(namespace: str) -> set[int]:
    return {int(pid) for pid in netns.ip("netns", "pids", namespace).split()}


def process_named(namespace: str, binary: str) -> int:
    """The pid of Liqo's ``binary`` running in ``namespace``."""
    (pid,) = [
        pid
        for pid in namespace_pids(namespace)
        if Path(f"/proc/{pid}/exe").resolve().name == binary
    ]
    return pid
