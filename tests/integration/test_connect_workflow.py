"""The connect workflow against the lab: it connects, converges, refuses foreign peerings, and a
failure at any step leaves both edges exactly as they were.

edge-a is the client edge and edge-b the server edge, as liqoctl's local and remote clusters.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client import ApiClient

from lab import build
from lab.cluster import Lab, kubeconfig_path
from lab.faults import clear_faults, set_faults
from liqoshortcut.core.gateway import GatewaySettings
from liqoshortcut.errors import PreconditionFailed, WorkflowFailed
from liqoshortcut.kube.kubeconfig import load_kubeconfig
from liqoshortcut.workflow.connect import ConnectRun
from liqoshortcut.workflow.disconnect import disconnect
from liqoshortcut.workflow.preflight import Preflight, prepare
from liqoshortcut.workflow.progress import Phase, ProgressEvent, Reporter, discard
from liqoshortcut.workflow.waiting import Deadline

pytestmark = pytest.mark.integration

EDGES = ("edge-a", "edge-b")
# Everything a connect makes, directly or through Liqo, on an edge.
WATCHED = (
    ("networking.liqo.io", "v1beta1", "configurations"),
    ("networking.liqo.io", "v1beta1", "gatewayservers"),
    ("networking.liqo.io", "v1beta1", "gatewayclients"),
    ("networking.liqo.io", "v1beta1", "publickeies"),
    ("networking.liqo.io", "v1beta1", "connections"),
    ("networking.liqo.io", "v1beta1", "wggatewayservers"),
    ("networking.liqo.io", "v1beta1", "wggatewayclients"),
    ("ipam.liqo.io", "v1alpha1", "networks"),
)


def connect_run(shortcut: Preflight, seconds: float, report: Reporter) -> None:
    ConnectRun(shortcut.plan, shortcut.edges, Deadline(seconds), report).run()


def disconnect_all(shortcut: Preflight) -> int:
    return disconnect(shortcut.plan, shortcut.edges, Deadline(120), discard).removed


def state(kube: Callable[[str], ApiClient]) -> dict[str, set[tuple[str, str, str]]]:
    """Every object a shortcut could leave on the edges, by uid, plus their namespaces."""
    found: dict[str, set[tuple[str, str, str]]] = {}
    for name in EDGES:
        api = kube(name)
        custom = client.CustomObjectsApi(api)
        objects: set[tuple[str, str, str]] = set()
        for group, version, plural in WATCHED:
            listing: dict[str, Any] = custom.list_cluster_custom_object(group, version, plural)  # type: ignore[assignment]
            objects |= {
                (
                    plural,
                    f"{i['metadata'].get('namespace')}/{i['metadata']['name']}",
                    i["metadata"]["uid"],
                )
                for i in listing["items"]
            }
        for ns in client.CoreV1Api(api).list_namespace().items:
            assert ns.metadata is not None
            objects.add(("namespaces", str(ns.metadata.name), str(ns.metadata.uid)))
        found[name] = objects
    return found


def settle(
    kube: Callable[[str], ApiClient], expected: dict[str, set[tuple[str, str, str]]]
) -> dict[str, set[tuple[str, str, str]]]:
    """The edges' state once the garbage collector has caught up with ``expected``, or as is."""
    deadline = time.monotonic() + 60
    current = state(kube)
    while current != expected and time.monotonic() < deadline:
        time.sleep(0.5)
        current = state(kube)
    return current


@pytest.fixture
def shortcut(lab: Lab) -> Iterator[Preflight]:
    """edge-b serves, edge-a dials; whatever a test leaves is torn down afterwards."""
    made = prepare(
        load_kubeconfig(kubeconfig_path()),
        central_context="central",
        edge_contexts=EDGES,
        server_edge="edge-b",
        settings=GatewaySettings(),
    )
    yield made
    clear_faults()
    disconnect_all(made)


def test_connect_ends_in_two_connected_connections_and_a_rerun_changes_nothing(
    shortcut: Preflight, kube: Callable[[str], ApiClient]
) -> None:
    events: list[ProgressEvent] = []
    connect_run(shortcut, 90, events.append)
    connected = state(kube)
    for name in EDGES:
        assert sum(1 for kind, _, _ in connected[name] if kind == "connections") >= 2  # hub too
    created = [e for e in events if e.phase is Phase.DONE and e.step.startswith("create ")]
    assert len(created) >= 6  # 2 Configurations, 2 gateways, 2 PublicKeys (+ namespaces)

    again: list[ProgressEvent] = []
    connect_run(shortcut, 90, again.append)
    assert [e for e in again if e.step.startswith("create ") and e.phase is Phase.DONE] == []
    assert state(kube) == connected


def test_disconnect_leaves_the_edges_as_they_were_before_connect(
    shortcut: Preflight, kube: Callable[[str], ApiClient]
) -> None:
    before = state(kube)
    connect_run(shortcut, 90, discard)
    assert disconnect_all(shortcut) >= 6
    assert settle(kube, before) == before


@pytest.mark.parametrize(
    ("cluster", "step", "mode"),
    [
        ("edge-a", "configuration", "hang"),
        ("edge-b", "configuration", "fail"),
        ("edge-b", "gateway-server", "hang"),
        ("edge-a", "gateway-client", "fail"),
        ("edge-b", "gateway-pod", "hang"),
        ("edge-b", "server-endpoint", "hang"),
        ("edge-a", "gateway-pod", "fail"),
        ("edge-b", "keys", "hang"),
        ("edge-a", "keys", "hang"),
        ("edge-a", "connected", "hang"),
        ("edge-b", "connected", "fail"),
    ],
)
def test_a_step_that_fails_or_hangs_rolls_back_to_the_state_before(
    shortcut: Preflight,
    kube: Callable[[str], ApiClient],
    cluster: str,
    step: str,
    mode: str,
    request: pytest.FixtureRequest,
) -> None:
    if step == "connected":  # the emulated gateways' switch
        request.getfixturevalue("emulated_gateways")
    before = state(kube)
    set_faults({cluster: {step: mode}})
    with pytest.raises(WorkflowFailed, match="everything this run created was removed"):
        connect_run(shortcut, 8, discard)
    clear_faults()
    assert settle(kube, before) == before


def test_a_peering_made_by_liqoctl_is_refused_and_left_untouched(
    shortcut: Preflight, kube: Callable[[str], ApiClient]
) -> None:
    kubeconfig = str(kubeconfig_path())
    common = [
        f"--kubeconfig={kubeconfig}",
        "--context=edge-a",
        f"--remote-kubeconfig={kubeconfig}",
        "--remote-context=edge-b",
        "--skip-confirm",
    ]
    liqoctl = str(build.liqoctl_binary())
    # --wait: the snapshot below must not race the Connections that Liqo creates afterwards.
    connect_args = [liqoctl, "network", "connect", "--wait", *common]
    subprocess.run(connect_args, check=True, capture_output=True)
    try:
        before = state(kube)
        with pytest.raises(PreconditionFailed, match="not made by liqo-shortcut"):
            connect_run(shortcut, 30, discard)
        assert state(kube) == before
    finally:
        subprocess.run([liqoctl, "network", "reset", *common], check=True, capture_output=True)
