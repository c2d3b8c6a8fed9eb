"""The emulator makes what Liqo v1.2.0's own controllers make: the same ``liqoctl network connect``
edge-a to edge-b, then ``liqoctl network reset``, runs once with each playing Liqo's controllers,
and the objects each run adds, changes and leaves behind on the two edges are compared,
normalised (tests/integration/liqo_objects.py).

This keeps the emulated mode (the fast one, and the only one with controller-side faults) honest:
a difference not in KNOWN_DIFFERENCES fails with a diff of the objects. The list is the one in
lab/FIDELITY.md ("Known differences left").
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client import ApiClient

from lab import build
from lab.cluster import Lab, kubeconfig_path
from lab.topology import LIQO_MODES, LiqoMode
from tests.integration.edge_liqoctl import liqoctl
from tests.integration.liqo_objects import Key, Obj, changes, readable_diff, snapshot
from tests.integration.snapshots import delete_namespaces

pytestmark = pytest.mark.integration

# Each edge and the peer liqoctl connects it to: edge-a is the client, edge-b the server.
PEERS = {"edge-a": "edge-b", "edge-b": "edge-a"}
# Some of what a connect makes on each edge, whoever plays Liqo's controllers.
CONNECT_MAKES = (
    *((edge, kind) for edge in PEERS for kind in ("Configuration", "PublicKey", "Connection")),
    ("edge-a", "GatewayClient"),
    ("edge-b", "GatewayServer"),
)
SETTLE_TIMEOUT = 90.0  # seconds; the garbage collector and two cores shared with other labs


@dataclass(frozen=True)
class KnownDifference:
    """What Liqo's controllers do and the emulator does not, on purpose (lab/FIDELITY.md)."""

    finding: str  # the study's number (studies/real-controllers, section 5), or a new one
    kind: str
    field: tuple[str, ...] | None  # None: the whole object exists only with Liqo's controllers
    why: str


KNOWN_DIFFERENCES = (
    KnownDifference(
        "F1",
        "ForeignCluster",
        None,
        "Liqo's ForeignCluster controller makes one for every remote cluster ID a networking "
        "object is labelled with, and keeps its networking conditions; it outlives the reset",
    ),
    *(
        KnownDifference(
            "F7",
            kind,
            None,
            "internal network, remapping and IP objects: nothing in liqoctl network "
            "connect/reset waits on them, and the emulator has no data path to describe",
        )
        for kind in (
            "InternalFabric",
            "GeneveTunnel",
            "RouteConfiguration",
            "FirewallConfiguration",
            "IP",
        )
    ),
    *(
        KnownDifference(
            "F8",
            kind,
            ("metadata", "generation"),
            "Liqo's gateway operators write the rendered spec more than once while the Gateway "
            "settles (generation 3 so far); the emulator writes it once",
        )
        for kind in ("WgGatewayServer", "WgGatewayClient")
    ),
)


def comparable(found: dict[Key, Obj | None]) -> dict[Key, Obj | None]:
    """``found`` without the known differences."""
    kept: dict[Key, Obj | None] = {}
    for key, obj in found.items():
        known = [d for d in KNOWN_DIFFERENCES if d.kind == key[-3]]
        if any(d.field is None for d in known):
            continue
        fields = [d.field for d in known if d.field is not None]
        kept[key] = None if obj is None else functools.reduce(_without, fields, obj)
    return kept


def _without(obj: Obj, field: tuple[str, ...]) -> Obj:
    if len(field) == 1:
        return {k: v for k, v in obj.items() if k != field[0]}
    head, *rest = field
    if not isinstance(obj.get(head), dict):
        return obj
    return {**obj, head: _without(obj[head], tuple(rest))}


def run_liqoctl(*args: str) -> None:
    done = liqoctl("network", *args, "--wait")
    assert done.returncode == 0, f"liqoctl network {args[0]} failed:\n{done.stdout}{done.stderr}"


def edges_now() -> dict[str, dict[Key, Obj]]:
    kubectl = build.kube_binaries()["kubectl"]
    with ThreadPoolExecutor(max_workers=len(PEERS)) as pool:
        taken = {edge: pool.submit(snapshot, kubectl, kubeconfig_path(), edge) for edge in PEERS}
        return {edge: done.result() for edge, done in taken.items()}


def settled() -> dict[str, dict[Key, Obj]]:
    """The edges once nothing moves any more for a few seconds: --wait returns before the
    controllers' and the garbage collector's last writes."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    last = edges_now()
    while time.monotonic() < deadline:
        time.sleep(2)
        now = edges_now()
        if now == last:
            return now
        last = now
    raise AssertionError(f"the edges kept changing for {SETTLE_TIMEOUT:.0f}s")


def connect_and_reset(kube: Callable[[str], ApiClient]) -> dict[Key, Obj | None]:
    """What a connect adds or changes on the edges, then what is left of it after the reset,
    keyed (phase, edge, kind, namespace, name)."""
    # liqoctl makes the tenant namespaces it finds missing: it does so in both runs.
    for edge, peer in PEERS.items():
        tenant = f"liqo-tenant-{peer}"
        if tenant in namespaces(kube(edge)):
            delete_namespaces(kube(edge), [tenant])
    before = settled()
    try:
        run_liqoctl("connect")
        connected = settled()
    finally:
        run_liqoctl("reset")
    after = settled()
    found: dict[Key, Obj | None] = {}
    for phase, state in (("connect", connected), ("reset", after)):
        for edge in PEERS:
            for key, obj in changes(before[edge], state[edge]).items():
                found[(phase, edge, *key)] = obj
    return found


def namespaces(api: ApiClient) -> set[str]:
    return {
        str(ns.metadata.name) for ns in client.CoreV1Api(api).list_namespace().items if ns.metadata
    }


@pytest.fixture
def edges_restored(kube: Callable[[str], ApiClient]) -> Iterator[None]:
    """The ForeignClusters Liqo's controllers leave (F1) and the tenant namespaces liqoctl made
    are removed again, so the tests after this one find the edges as they were."""
    custom = {edge: client.CustomObjectsApi(kube(edge)) for edge in PEERS}

    def foreign_clusters(edge: str) -> set[str]:
        listing: dict[str, Any] = custom[edge].list_cluster_custom_object(  # type: ignore[assignment]
            "core.liqo.io", "v1beta1", "foreignclusters"
        )
        return {fc["metadata"]["name"] for fc in listing["items"]}

    had = {edge: (foreign_clusters(edge), namespaces(kube(edge))) for edge in PEERS}
    yield
    for edge, (clusters, names) in had.items():
        for name in foreign_clusters(edge) - clusters:
            custom[edge].delete_cluster_custom_object(
                "core.liqo.io", "v1beta1", "foreignclusters", name
            )
        delete_namespaces(kube(edge), namespaces(kube(edge)) - names)


@pytest.mark.usefixtures("edges_restored")
def test_the_emulator_makes_and_leaves_what_liqos_own_controllers_do(
    lab: Lab, kube: Callable[[str], ApiClient]
) -> None:
    runs: dict[LiqoMode, dict[Key, Obj | None]] = {}
    for mode in LIQO_MODES:
        with lab.playing(mode):
            runs[mode] = comparable(connect_and_reset(kube))
    # Two empty runs would compare equal: both must hold what a connect makes.
    for mode, found in runs.items():
        made = {
            (e, kind) for (phase, e, kind, *_), obj in found.items() if phase == "connect" and obj
        }
        assert set(CONNECT_MAKES) <= made, f"{mode}: {sorted(set(CONNECT_MAKES) - made)} missing"
    assert runs["emulated"] == runs["real"], (
        "the emulator and Liqo's own controllers differ (- real Liqo, + emulator); fix the "
        "emulator, or list the difference in KNOWN_DIFFERENCES and lab/FIDELITY.md:\n"
        + readable_diff(runs["real"], runs["emulated"], ("real Liqo", "emulator"))
    )
