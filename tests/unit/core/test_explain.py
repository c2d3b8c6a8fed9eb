"""`explain`'s answer for each reason a Service's traffic takes the path it takes."""

from __future__ import annotations

import yaml

from liqoshortcut.core.explain import (
    explain,
    remapped,
    report,
    report_text,
    status_line,
    switches,
)
from liqoshortcut.core.record import EdgeRecord, ShortcutRecord, State
from liqoshortcut.core.routing import ROUTED_BY, USE_DIRECT_CONNECTIONS, ServiceView, ShortcutView
from liqoshortcut.core.traffic import TrafficPolicy

OURS = {USE_DIRECT_CONNECTIONS: "true", ROUTED_BY: "shop/ab"}
AB = ShortcutView("shop/ab", frozenset({"edge-a", "edge-b"}), TrafficPolicy(services="All"), True)
CIDRS = {"edge-a": ("10.243.0.0/16",), "edge-b": ("10.244.0.0/16",), "edge-c": ("10.243.0.0/16",)}


def svc(*edges: str, annotations: dict[str, str] | None = None) -> ServiceView:
    return ServiceView(
        "shop", "cart", annotations=annotations or {}, endpoint_edges=frozenset(edges)
    )


def test_routed_names_the_annotation_and_the_shortcut_health() -> None:
    told = explain(
        svc("edge-a", "edge-b", annotations=OURS), [AB], {"shop/ab": "path Direct"}, CIDRS
    )
    assert (told.path, told.why) == ("Direct", "routed over shop/ab")
    assert told.details == (
        f"annotation: {USE_DIRECT_CONNECTIONS}=true, set by liqo-shortcut for shop/ab",
        "endpoints: on edge-a, edge-b",
        "shortcut shop/ab: path Direct",
    )
    assert told.text().startswith(
        "Service shop/cart: Direct path. routed over shop/ab\n  annotation:"
    )


def test_hub_reasons_policy_health_missing_shortcut_and_edges() -> None:
    unhealthy = ShortcutView(AB.key, AB.edges, AB.policy, False, "edge-a's Connection is Error")
    assert explain(svc("edge-a", "edge-b"), [unhealthy], {}, {}).why == (
        "Kept on the hub: shortcut shop/ab: edge-a's Connection is Error"
    )
    unselected = ShortcutView(AB.key, AB.edges, TrafficPolicy(), True)
    assert "selects no Service" in explain(svc("edge-a", "edge-b"), [unselected], {}, {}).why
    assert "no shortcut joins them" in explain(svc("edge-a", "edge-c"), [AB], {}, {}).why
    single = explain(svc("edge-a"), [AB], {}, {})
    assert (
        single.why == "No direct path applies: its endpoints are only on edge-a: "
        "no traffic between edges to shortcut"
    )


def test_foreign_annotation_and_pending_changes_are_told() -> None:
    foreign = explain(
        svc("edge-a", "edge-b", annotations={USE_DIRECT_CONNECTIONS: "true"}), [AB], {}, {}
    )
    assert (foreign.path, foreign.why) == (
        "Direct",
        f"{USE_DIRECT_CONNECTIONS} was set by someone else, and Liqo follows it",
    )
    down = ShortcutView(AB.key, AB.edges, AB.policy, False, "edge-b's Connection is Error")
    leaving = explain(svc("edge-a", "edge-b", annotations=OURS), [down], {}, {})
    assert leaving.details[-1].startswith("next: back to the hub at the operator's next check")
    coming = explain(svc("edge-a", "edge-b"), [AB], {}, {})
    assert (
        coming.details[-1]
        == "next: direct at the operator's next check, over shop/ab between edge-a, edge-b"
    )


def test_overlapping_pod_cidrs_are_a_cidr_conflict_line() -> None:
    ac = ShortcutView(
        "shop/ac", frozenset({"edge-a", "edge-c"}), TrafficPolicy(services="All"), True
    )
    told = explain(svc("edge-a", "edge-c"), [ac], {}, CIDRS)
    assert any(
        d.startswith("CIDR conflict: the pod CIDRs of edge-a (10.243.0.0/16) and edge-c")
        for d in told.details
    )
    assert not any("CIDR" in d for d in explain(svc("edge-a", "edge-b"), [AB], {}, CIDRS).details)


RESOURCE = {
    "metadata": {"namespace": "shop", "name": "ab", "uid": "u1"},
    "status": {
        "conditions": [
            {"type": "Ready", "status": "True", "reason": "ShortcutReady", "message": "ok"},
            {"type": "DirectPathActive", "status": "False", "reason": "Unhealthy", "message": "x"},
        ],
        "edges": [
            {
                "name": "edge-b",
                "role": "server",
                "connection": {"state": "Error", "latency": "N/A"},
            },
            {
                "name": "edge-a",
                "role": "client",
                "connection": {"state": "Connected", "latency": "1ms"},
            },
        ],
        "path": "Hub",
        "traffic": {"mode": "Direct", "choice": "Hub", "reason": "edge-b's Connection is Error"},
        "routedServices": [],
    },
}


def test_status_reports_health_routed_services_and_the_last_switches() -> None:
    events = [
        {
            "message": "DirectPathActive is True: 1 Service(s) take the shortcut",
            "reason": "Routed",
            "lastTimestamp": "2026-12-02T03:00:00Z",
        },
        {
            "message": "Created 4 object(s)",
            "reason": "Created",
            "lastTimestamp": "2026-12-02T02:59:00Z",
        },
        {
            "message": "DirectPathActive is False: edge-b's Connection is Error",
            "reason": "Unhealthy",
            "lastTimestamp": "2026-12-02T03:01:00Z",
        },
    ]
    past = switches(events)
    assert [(s.to, s.reason) for s in past] == [("Direct", "Routed"), ("Hub", "Unhealthy")]
    data = report(RESOURCE, past)
    assert data["conditions"]["DirectPathActive"] == {"status": "False", "reason": "Unhealthy"}
    text = report_text(data)
    assert "edge-b (server): Error, latency N/A" in text
    assert "path: Hub (policy Direct, chose Hub: edge-b's Connection is Error)" in text
    assert "routed Services: none" in text
    assert "2026-12-02T03:01:00Z -> Hub (Unhealthy): edge-b's Connection is Error" in text
    assert status_line(RESOURCE) == (
        "path Hub (edge-b's Connection is Error); "
        "Connections edge-b Error N/A, edge-a Connected 1ms"
    )


def test_each_edge_is_told_where_it_reaches_the_others_pods_over_a_shortcut() -> None:
    """edge-a and edge-c share 10.243.0.0/16: edge-c's Liqo remapped edge-a's pods, and
    edge-a's remapped edge-c's."""
    ac = ShortcutRecord(
        "edge-a--edge-c",
        server=EdgeRecord("edge-c", "edge-c", ("10.69.0.0/16",)),
        client=EdgeRecord("edge-a", "edge-a", ("10.68.0.0/16",)),
        state=State.CONNECTED,
    )
    ab = ShortcutRecord(
        "edge-a--edge-b",
        server=EdgeRecord("edge-b", "edge-b", ("10.243.0.0/16",)),
        client=EdgeRecord("edge-a", "edge-a"),  # not learnt yet (a run still under way)
        state=State.CREATING,
    )
    told = explain(svc("edge-a", "edge-c"), [], {}, CIDRS, [ac, ab]).details
    assert [d for d in told if d.startswith("addresses: ")] == [
        "addresses: a client on edge-a reaches edge-c's pods over shortcut edge-a--edge-c at "
        "10.68.0.0/16 (edge-c's pod CIDR 10.243.0.0/16 as edge-a's Liqo remapped it)",
        "addresses: a client on edge-c reaches edge-a's pods over shortcut edge-a--edge-c at "
        "10.69.0.0/16 (edge-a's pod CIDR 10.243.0.0/16 as edge-c's Liqo remapped it)",
    ]
    told = explain(svc("edge-a", "edge-b"), [], {}, CIDRS, [ac, ab]).details
    assert [d for d in told if d.startswith("addresses: ")] == [
        "addresses: a client on edge-b reaches edge-a's pods over shortcut edge-a--edge-b at "
        "10.243.0.0/16 (their own pod CIDR)"
    ]
    assert remapped(ab, CIDRS) == []
    assert len(remapped(ac, CIDRS)) == 2


def test_what_explain_and_status_print_is_plain_data_for_yaml() -> None:
    """`-o yaml` dumps with yaml.safe_dump, which knows no enum: paths go out as strings."""
    told = explain(svc("edge-a", "edge-b", annotations=OURS), [AB], {}, CIDRS).as_dict()
    event = {"message": "DirectPathActive is True: routed", "lastTimestamp": "2026-12-02T03:00Z"}
    shown = report({"metadata": RESOURCE["metadata"]}, switches([event]))
    assert yaml.safe_load(yaml.safe_dump(told))["path"] == "Direct"
    reread = yaml.safe_load(yaml.safe_dump(shown))
    assert (reread["path"], reread["switches"][0]["to"]) == ("Hub", "Direct")
