"""A Service of central with a pod on edge-a and one on edge-b, on the real data path: what the
data path's tests and the demo send bytes through.

``two_edge_service`` offloads the workload (``lab.workloads``), runs its pods on their edges
(``reflection.place``) and removes it all afterwards. ``address_seen_by`` is the virtual
kubelet's reflection into an edge (the address a client there dials: through central, or over a
shortcut once the Service carries ``liqo.io/use-direct-connections``); ``send`` moves bytes from
edge-a's pod and reads what crossed central's node meanwhile.
"""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from kubernetes.client import ApiClient

from lab import workloads
from lab.datapath import probe, reflection
from lab.emulator.kube import Kube, KubeError
from lab.kubeclient import api_client

SIZE = 20_000_000  # bytes per transfer: about half a second through userspace WireGuard
PORT = 8080
EDGES = ("edge-a", "edge-b")
APP = "web"


@dataclass(frozen=True)
class Sent:
    """A transfer from edge-a's pod: what arrived, how long it took, what central's node saw
    meanwhile, and the median of 20 round trips after it."""

    received: int
    seconds: float
    through_central: int
    rtt_ms: float


@dataclass
class TwoEdgeService:
    datapath: Path
    namespace: str
    central: Kube
    edges: dict[str, Kube]
    placed: dict[str, reflection.PlacedPod]
    central_pod_cidr: str
    app: str = APP

    def address_seen_by(self, edge: str) -> str:
        """The address a client on ``edge`` dials for the other edge's pod."""
        (address,) = reflection.reflect(
            self.central, self.edges[edge], edge, self.namespace, self.app,
            local_pod_cidr=self.central_pod_cidr,
        )  # fmt: skip
        return address

    @contextlib.contextmanager
    def followed_by(self, edge: str, address_file: Path) -> Iterator[None]:
        """Inside the block, the virtual kubelet's reflection into ``edge`` follows central
        (once a second, as its informers would) and ``address_file`` holds the address a client
        there dials now: what a client that looks the Service up again reads."""
        stop = threading.Event()

        def follow() -> None:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError, KubeError, ValueError):
                    staged = address_file.with_suffix(".new")
                    staged.write_text(self.address_seen_by(edge))
                    staged.replace(address_file)
                stop.wait(1.0)

        address_file.write_text(self.address_seen_by(edge))
        follower = threading.Thread(target=follow, daemon=True, name="reflection")
        follower.start()
        try:
            yield
        finally:
            stop.set()
            follower.join(timeout=40)

    def resuming(self, address_file: Path, size: int) -> subprocess.Popen[str]:
        """A resumable transfer from edge-a's pod to the address in ``address_file``, started
        (``traffic.resume``: it prints its JSON line when done)."""
        return subprocess.Popen(
            [
                "ip", "netns", "exec", self.placed["edge-a"].netns, sys.executable, "-m",
                "lab.datapath.traffic", "resume", str(address_file), str(PORT), str(size),
                "--timeout", "180",
            ],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=probe.REPO_ROOT,
        )  # fmt: skip

    def send(self, address: str, size: int = SIZE) -> Sent:
        client = self.placed["edge-a"].netns
        before = probe.node_bytes(self.datapath, "central")
        done = probe.transfer(client, address, PORT, size)
        seen = probe.node_bytes(self.datapath, "central") - before
        rtt = statistics.median(probe.round_trips(client, address, PORT))
        return Sent(done.received, done.seconds, seen, rtt)


def _delete_namespace(kube: Kube, name: str, timeout: float = 90) -> None:
    with contextlib.suppress(KubeError):
        kube.delete(reflection.NAMESPACES, name)
    deadline = time.monotonic() + timeout
    while kube.get(reflection.NAMESPACES, name) is not None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"namespace {name} never went on {kube.context}")
        time.sleep(0.5)


@contextlib.contextmanager
def two_edge_service(
    datapath: Path,
    namespace: str,
    *,
    clients: Mapping[str, ApiClient] | None = None,
    namespace_labels: Mapping[str, str] = workloads.OFFLOADED_NAMESPACE_LABELS,
    central_pod_cidr: str = "10.241.0.0/16",
    app: str = APP,
) -> Iterator[TwoEdgeService]:
    """Service ``app`` in ``namespace`` (labelled ``tier=web``), one pod per edge, running."""
    api = dict(clients or {}) or {name: api_client(name) for name in ("central", *EDGES)}
    central = Kube("", "central", api=api["central"])
    edges = {edge: Kube("", edge, api=api[edge]) for edge in EDGES}
    workload = workloads.offload(
        api["central"], namespace, app, dict.fromkeys(EDGES, 1), ports=(PORT,),
        namespace_labels=namespace_labels, service_labels={"tier": "web"},
    )  # fmt: skip
    offloaded = [(pod.name, pod.cluster, pod.own_ip, pod.ip) for pod in workload.pods]
    placed = reflection.place(central, edges, datapath, namespace, offloaded, PORT)
    try:
        yield TwoEdgeService(
            datapath,
            namespace,
            central,
            edges,
            {pod.cluster: pod for pod in placed},
            central_pod_cidr,
            app,
        )
    finally:
        reflection.unplace(edges, datapath, namespace, placed)
        workloads.remove(api["central"], namespace, app)
        for kube in (central, *edges.values()):
            _delete_namespace(kube, namespace)
