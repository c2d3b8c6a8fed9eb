"""From one pass's observation to the status: conditions, transitions and no needless writes."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from liqoshortcut.core.connection import ConnectionSeen
from liqoshortcut.core.observed import (
    EdgeSeen,
    Failure,
    Observation,
    Transition,
    status_for,
    status_patch,
    traffic_status,
    transitions,
)
from liqoshortcut.core.pathhealth import PathState
from liqoshortcut.core.reasons import ConditionReason, HubWhy
from liqoshortcut.core.status import ShortcutStatus
from liqoshortcut.core.traffic import TrafficPolicy

NOW = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)


def edges(
    a: str | None = "Connected", b: str | None = "Connected", latency: str = "400μs"
) -> tuple[EdgeSeen, EdgeSeen]:
    return (
        EdgeSeen("edge-b", "server", "edge-b", ConnectionSeen(b, latency, "2026-12-01T09:59:58Z")),
        EdgeSeen("edge-a", "client", "edge-a", ConnectionSeen(a, latency, "2026-12-01T09:59:58Z")),
    )


def healthy(generation: int = 1, latency: str = "400μs") -> Observation:
    return Observation(
        generation=generation, edges=edges(latency=latency), credentials_checked=True
    )


def conditions(status: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}


def test_a_healthy_pass_is_ready_connected_with_valid_credentials_at_its_generation() -> None:
    status = status_for(healthy(generation=4), None, NOW)
    assert conditions(status) == {
        "Ready": ("True", "ShortcutReady"),
        "Connected": ("True", "BothConnected"),
        "CredentialsValid": ("True", "KubeconfigsWork"),
    }
    assert status["observedGeneration"] == 4
    assert status["path"] == "Hub"
    assert "lastError" not in status
    ShortcutStatus.model_validate(status)  # the CRD's schema accepts what the operator writes


def test_the_same_observation_later_yields_the_same_status_and_an_empty_patch() -> None:
    first = status_for(healthy(), None, NOW)
    again = status_for(healthy(), first, LATER)
    assert again == first
    assert status_patch(first, again) == {}
    assert transitions(first, again) == []


@pytest.mark.parametrize(
    ("before", "after"),
    [("400μs", "700μs"), ("150μs", "900μs"), ("10ms", "15ms")],
    ids=["within twofold", "sixfold but under a millisecond", "more than a ms but within twofold"],
)
def test_latency_jitter_is_not_rewritten(before: str, after: str) -> None:
    first = status_for(healthy(latency=before), None, NOW)
    jittered = status_for(healthy(latency=after), first, LATER)
    assert status_patch(first, jittered) == {}


def test_a_latency_that_moves_more_than_twofold_is_recorded() -> None:
    first = status_for(healthy(latency="400μs"), None, NOW)
    slower = status_for(healthy(latency="3ms"), first, LATER)
    assert [e["connection"]["latency"] for e in slower["edges"]] == ["3ms", "3ms"]
    assert set(status_patch(first, slower)) == {"edges"}
    slower_still = status_for(healthy(latency="9ms"), slower, LATER)
    assert set(status_patch(slower, slower_still)) == {"edges"}


def test_a_condition_keeps_its_transition_time_until_its_status_changes() -> None:
    first = status_for(healthy(), None, NOW)
    broken = Observation(generation=1, edges=edges(a="Error"), credentials_checked=True)
    failed = status_for(broken, first, LATER)
    times = {c["type"]: c["lastTransitionTime"] for c in failed["conditions"]}
    assert times == {
        "Ready": "2026-12-01T10:05:00Z",
        "Connected": "2026-12-01T10:05:00Z",
        "CredentialsValid": "2026-12-01T10:00:00Z",
    }
    assert conditions(failed)["Connected"] == ("False", "ConnectionError")
    changed = transitions(first, failed)
    assert [(t.type, t.status, t.warning) for t in changed] == [
        ("Ready", "False", True),
        ("Connected", "False", True),
    ]


def test_a_connection_not_there_yet_is_connecting() -> None:
    observed = Observation(generation=1, edges=edges(a=None), credentials_checked=True)
    status = status_for(observed, None, NOW)
    assert conditions(status)["Ready"] == ("False", "Connecting")
    connected = next(c for c in status["conditions"] if c["type"] == "Connected")
    assert connected["message"] == "Liqo Connections: edge-b Connected, edge-a none yet"


def test_a_failed_pass_keeps_the_last_converged_generation_and_says_why() -> None:
    first = status_for(healthy(generation=1), None, NOW)
    failure = Failure(ConditionReason.CLUSTER_UNREACHABLE, "cannot reach the API server of edge-a")
    failed = status_for(Observation(generation=2, failure=failure), first, LATER)
    assert failed["observedGeneration"] == 1
    assert failed["lastError"] == "cannot reach the API server of edge-a"
    assert conditions(failed)["Ready"] == ("False", "ClusterUnreachable")
    assert conditions(failed)["CredentialsValid"] == ("Unknown", "NotChecked")
    assert failed["edges"] == first["edges"]  # not reached this time: the last word stands


def test_bad_credentials_make_credentials_valid_false() -> None:
    failure = Failure(
        ConditionReason.CREDENTIALS_INVALID, "Secret ns/x does not exist", credentials=True
    )
    status = status_for(Observation(generation=1, failure=failure), None, NOW)
    assert conditions(status)["CredentialsValid"] == ("False", "CredentialsInvalid")
    assert "observedGeneration" not in status


def test_recovery_clears_the_last_error_in_the_patch() -> None:
    failure = Failure(ConditionReason.TIMED_OUT, "timed out")
    failed = status_for(Observation(generation=1, failure=failure), None, NOW)
    recovered = status_for(healthy(), failed, LATER)
    patch = status_patch(failed, recovered)
    assert patch["lastError"] is None
    assert patch["observedGeneration"] == 1


ALL = TrafficPolicy(services="All")


def path_state(direct: bool = True, latency: float = 0.0004) -> PathState:
    why = None if direct else HubWhy.UNHEALTHY
    message = "healthy" if direct else "edge-a's Connection is Error"
    return PathState(direct, why, message, direct, latency, 0.002)


def test_the_router_part_is_its_own_and_steady_when_nothing_moves() -> None:
    passed = status_for(healthy(), None, NOW)
    routed = traffic_status(passed, path_state(), ALL, [("shop", "cart")], NOW)
    assert (routed["path"], routed["routedServices"]) == (
        "Direct",
        [{"namespace": "shop", "name": "cart"}],
    )
    active = {c["type"]: c for c in routed["conditions"]}["DirectPathActive"]
    assert (active["status"], active["reason"]) == ("True", "Routed")
    assert routed["traffic"] == {
        "mode": "Direct",
        "choice": "Direct",
        "healthy": True,
        "reason": "healthy",
        "directLatency": "0.4ms",
        "hubLatency": "2ms",
    }
    ShortcutStatus.model_validate(routed)  # the schema the CRD publishes
    # jitter within noise, later: nothing to write
    again = traffic_status(routed, path_state(latency=0.0006), ALL, [("shop", "cart")], LATER)
    assert status_patch(routed, again) == {}
    # a reconcile pass keeps the router's part as it is
    assert status_patch(routed, status_for(healthy(), routed, LATER)) == {}


def test_falling_back_to_the_hub_is_a_transition_with_the_reason() -> None:
    routed = traffic_status(
        status_for(healthy(), None, NOW), path_state(), ALL, [("shop", "cart")], NOW
    )
    fallen = traffic_status(routed, path_state(direct=False), ALL, [], LATER)
    assert (fallen["path"], fallen["routedServices"]) == ("Hub", [])
    assert transitions(routed, fallen) == [
        Transition("DirectPathActive", "False", "Unhealthy", "edge-a's Connection is Error")
    ]
    idle = traffic_status(routed, path_state(), ALL, [], LATER)
    assert {c["type"]: c["reason"] for c in idle["conditions"]}["DirectPathActive"] == (
        "NoServiceRouted"
    )
    unselected = traffic_status(routed, path_state(), TrafficPolicy(), [], LATER)
    assert {c["type"]: c["reason"] for c in unselected["conditions"]}["DirectPathActive"] == (
        "NoServiceSelected"
    )
    refused = traffic_status(routed, path_state(), ALL, [], LATER, refusing=["edge-b"])
    assert refused["traffic"]["refusing"] == ["edge-b"]
    assert {c["type"]: c["reason"] for c in refused["conditions"]}["DirectPathActive"] == (
        "ProviderRefuses"
    )


def test_where_each_edge_reaches_the_others_pods_is_recorded_and_kept_when_not_learnt() -> None:
    server, client = edges()
    learnt = Observation(
        generation=1,
        edges=(
            dataclasses.replace(server, peer_pod_cidrs=("10.242.0.0/16",)),
            dataclasses.replace(client, peer_pod_cidrs=("10.68.0.0/16",)),
        ),
        credentials_checked=True,
    )
    first = status_for(learnt, None, NOW)
    assert [e["peerPodCIDRs"] for e in first["edges"]] == [["10.242.0.0/16"], ["10.68.0.0/16"]]
    ShortcutStatus.model_validate(first)
    # A pass that stopped before the Configurations' wait learnt nothing: the last word stands.
    assert status_for(healthy(), first, LATER) == first
