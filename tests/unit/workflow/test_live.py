"""`list` shows what the edges say next to what the record says, and never more slowly than its
timeout; one record that is no record is skipped with a warning, not the whole listing.

The edges are `FakeEdges` after a real `ConnectRun`; tests/integration/test_cli_ownership.py holds
the same promises against the lab.
"""

from __future__ import annotations

import threading
import time

import pytest
from kubernetes.client import ApiClient

from liqoshortcut.core.record import EdgeRecord, ShortcutRecord, State, record_selector
from liqoshortcut.errors import UsageError
from liqoshortcut.kube import objects
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.workflow.connect import ConnectRun
from liqoshortcut.workflow.live import (
    CONNECTED,
    MISSING,
    UNKNOWN,
    EdgeConnector,
    EdgeLive,
    Live,
    check_edges,
)
from liqoshortcut.workflow.progress import discard
from liqoshortcut.workflow.records import all_records
from liqoshortcut.workflow.waiting import Deadline
from tests.unit.workflow.fake_edges import FakeEdges
from tests.unit.workflow.test_connect_run import a_plan

RECORD = ShortcutRecord(
    name="milan--turin",
    server=EdgeRecord("edge-b", "turin"),
    client=EdgeRecord("edge-a", "milan"),
    state=State.CONNECTED,
)


@pytest.fixture
def edges(monkeypatch: pytest.MonkeyPatch) -> FakeEdges:
    made = FakeEdges(monkeypatch, ("edge-a", "edge-b"))
    ConnectRun(a_plan(), made.clusters, Deadline(30), discard).run()
    return made


def from_contexts(edges: FakeEdges) -> EdgeConnector:
    def edge(context: str) -> Cluster:
        if context not in edges.clusters:
            raise UsageError(f"context {context!r} not found in the kubeconfig")
        return edges.clusters[context]

    return edge


def test_a_shortcut_connected_on_both_edges_is_connected_and_agrees_with_its_record(
    edges: FakeEdges,
) -> None:
    seen = check_edges([RECORD], from_contexts(edges), timeout=5)["milan--turin"]
    assert seen.as_dict() == {
        "state": "Connected",
        "server": {"state": "Connected"},
        "client": {"state": "Connected"},
    }
    assert not seen.disagrees_with(RECORD)


def test_a_shortcut_whose_gateway_liqoctl_removed_is_missing_and_contradicts_its_record(
    edges: FakeEdges,
) -> None:
    del edges.objects[("edge-a", "GatewayClient", "liqo-tenant-turin", "turin")]
    seen = check_edges([RECORD], from_contexts(edges), timeout=5)["milan--turin"]
    assert seen.client == EdgeLive(
        MISSING, "no GatewayClient of milan--turin in liqo-tenant-turin on edge-a"
    )
    assert seen.state == MISSING
    assert seen.disagrees_with(RECORD)


def test_a_connection_of_someone_elses_gateway_is_not_taken_for_the_shortcuts(
    edges: FakeEdges,
) -> None:
    connection = edges.objects[("edge-b", "Connection", "liqo-tenant-milan", "gw-milan")]
    connection["metadata"]["ownerReferences"] = [{"kind": "GatewayServer", "uid": "liqoctls"}]
    seen = check_edges([RECORD], from_contexts(edges), timeout=5)["milan--turin"]
    assert seen.server.state == "Pending"
    assert seen.server.reason.endswith("on edge-b has no Connection yet")


def test_an_edge_whose_context_is_missing_is_unknown_with_the_reason_and_contradicts_nothing(
    edges: FakeEdges,
) -> None:
    elsewhere = ShortcutRecord(
        name="milan--turin",
        server=EdgeRecord("edge-x", "turin"),
        client=EdgeRecord("edge-a", "milan"),
        state=State.CONNECTED,
    )
    seen = check_edges([elsewhere], from_contexts(edges), timeout=5)["milan--turin"]
    assert seen.server == EdgeLive(UNKNOWN, "context 'edge-x' not found in the kubeconfig")
    assert seen.client.state == CONNECTED
    assert seen.state == UNKNOWN
    assert not seen.disagrees_with(elsewhere)


def test_an_edge_that_never_answers_is_unknown_at_the_timeout() -> None:
    released = threading.Event()

    def hanging(context: str) -> Cluster:
        released.wait(30)
        raise UsageError("released")

    started = time.monotonic()
    try:
        seen = check_edges([RECORD], hanging, timeout=0.3)["milan--turin"]
    finally:
        released.set()
    assert time.monotonic() - started < 2
    assert seen.server == seen.client == EdgeLive(UNKNOWN, "no answer within 0.3s")


def test_an_operators_shortcut_is_left_to_its_operator() -> None:
    owned = ShortcutRecord(
        name="milan--turin",
        server=EdgeRecord("edge-b", "turin"),
        client=EdgeRecord("edge-a", "milan"),
        state=State.CONNECTED,
        source="default/milan--turin",
    )
    assert check_edges([owned], lambda context: pytest.fail("asked an edge"), timeout=1) == {}


@pytest.mark.parametrize(
    ("recorded", "server", "client", "disagrees"),
    [
        (State.CONNECTED, CONNECTED, "Error", True),
        (State.CONNECTED, CONNECTED, UNKNOWN, False),
        (State.FAILED, CONNECTED, CONNECTED, True),
        (State.CREATING, MISSING, MISSING, False),
        (State.CREATED, "Connecting", CONNECTED, False),
        (State.CREATED, MISSING, CONNECTED, True),
    ],
    ids=[
        "a record Connected over an Error contradicts the edges",
        "an unknown edge contradicts nothing",
        "a record Failed over a Connected tunnel contradicts the edges",
        "a Creating record over nothing is a run killed early",
        "a --no-wait record claims no Connection state",
        "a --no-wait record over a missing gateway contradicts the edges",
    ],
)
def test_a_record_disagrees_with_its_edges_only_when_they_say_otherwise(
    recorded: State, server: str, client: str, disagrees: bool
) -> None:
    record = ShortcutRecord(RECORD.name, RECORD.server, RECORD.client, recorded)
    assert Live(EdgeLive(server), EdgeLive(client)).disagrees_with(record) is disagrees


def test_a_config_map_labelled_as_a_record_without_its_keys_is_skipped_with_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken = {"metadata": {"name": "by-hand", "namespace": "liqo", "labels": record_selector()}}
    found = [RECORD.to_config_map("liqo"), broken]
    monkeypatch.setattr(
        objects,
        "list_objects",
        lambda cluster, resource, *a, **kw: found if resource.kind == "ConfigMap" else [],
    )
    central = Cluster("central", "https://central.test", ApiClient())
    listed = all_records(central, "liqo")
    assert [record.name for record in listed.records] == ["milan--turin"]
    (warning,) = listed.warnings
    assert warning.startswith("ConfigMap liqo/by-hand is labelled as a shortcut's record but")
