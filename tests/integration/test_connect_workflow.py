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
from lab.cluster import Lab, kubeconfig_path, set_emulator_faults
from liqoshortcut.core.gateway import GatewaySettings
from liqoshortcut.errors import PreconditionFailed, WorkflowFailed
from liqoshortcut.kube import discovery
from liqoshortcut.kube.clients import connect
from liqoshortcut.kube.kubeconfig import load_kubeconfig
from liqoshortcut.workflow.connect import ConnectRun, Edge, Shortcut
from liqoshortcut.workflow.disconnect import disconnect
from liqoshortcut.workflow.progress import Phase, ProgressEvent, discard
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


def edge(name: str) -> Edge:
    cluster = connect(load_kubeconfig(kubeconfig_path()).resolve(name))
    return Edge(cluster=cluster, facts=discovery.discover(cluster))


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
def shortcut(lab: Lab) -> Iterator[Shortcut]:
    """edge-b serves, edge-a dials; whatever a test leaves is torn down afterwards."""
    made = Shortcut(server=edge("edge-b"), client=edge("edge-a"), settings=GatewaySettings())
    yield made
    set_emulator_faults({})
    disconnect(made, Deadline(120), discard)


def test_connect_ends_in_two_connected_connections_and_a_rerun_changes_nothing(
    shortcut: Shortcut, kube: Callable[[str], ApiClient]
) -> None:
    events: list[ProgressEvent] = []
    ConnectRun(shortcut, Deadline(90), events.append).run()
    connected = state(kube)
    for name in EDGES:
        assert sum(1 for kind, _, _ in connected[name] if kind == "connections") >= 2  # hub too
    created = [e for e in events if e.phase is Phase.DONE and e.step.startswith("create ")]
    assert len(created) >= 6  # 2 Configurations, 2 gateways, 2 PublicKeys (+ namespaces)

    again: list[ProgressEvent] = []
    ConnectRun(shortcut, Deadline(90), again.append).run()
    assert [e for e in again if e.step.startswith("create ") and e.phase is Phase.DONE] == []
    assert state(kube) == connected


def test_disconnect_leaves_the_edges_as_they_were_before_connect(
    shortcut: Shortcut, kube: Callable[[str], ApiClient]
) -> None:
    before = state(kube)
    ConnectRun(shortcut, Deadline(90), discard).run()
    assert disconnect(shortcut, Deadline(120), discard) >= 6
    assert settle(kube, before) == before


@pytest.mark.parametrize(
    ("cluster", "step", "mode"),
    [
        ("edge-a", "configuration", "hang"),
        ("edge-b", "configuration", "fail"),
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
    shortcut: Shortcut, kube: Callable[[str], ApiClient], cluster: str, step: str, mode: str
) -> None:
    before = state(kube)
    set_emulator_faults({cluster: {step: mode}})
    with pytest.raises(WorkflowFailed, match="everything this run created was removed"):
        ConnectRun(shortcut, Deadline(8), discard).run()
    set_emulator_faults({})
    assert settle(kube, before) == before


def test_a_peering_made_by_liqoctl_is_refused_and_left_untouched(
    shortcut: Shortcut, kube: Callable[[str], ApiClient]
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
            ConnectRun(shortcut, Deadline(30), discard).run()
        assert state(kube) == before
    finally:
        subprocess.run([liqoctl, "network", "reset", *common], check=True, capture_output=True)
