"""Which Services get the direct-connection annotation: selection, coverage, health, ownership."""

from __future__ import annotations

from liqoshortcut.core.routing import (
    ROUTED_BY,
    USE_DIRECT_CONNECTIONS,
    Reason,
    ServiceView,
    ShortcutView,
    changes,
    decide,
    resource_key,
    routed_by,
)
from liqoshortcut.core.selectors import parse
from liqoshortcut.core.traffic import TrafficPolicy

ALL = TrafficPolicy(services="All", path="Direct")


def shortcut(
    a: str = "edge-a",
    b: str = "edge-b",
    policy: TrafficPolicy = ALL,
    direct: bool = True,
    key: str = "shortcuts/ab",
    refusing: frozenset[str] = frozenset(),
) -> ShortcutView:
    return ShortcutView(key, frozenset({a, b}), policy, direct, "the tunnel is down", refusing)


def service(*edges: str, annotations: dict[str, str] | None = None, **labels: str) -> ServiceView:
    return ServiceView(
        "shop",
        "cart",
        labels=labels,
        namespace_labels={"team": "shop"},
        annotations=annotations or {},
        endpoint_edges=frozenset(edges),
    )


def test_a_service_on_both_edges_of_a_healthy_direct_shortcut_is_routed() -> None:
    decision = decide(service("edge-a", "edge-b"), [shortcut()])
    assert (decision.routed, decision.reason, decision.shortcuts) == (
        True,
        Reason.ROUTED,
        ("shortcuts/ab",),
    )


def test_endpoints_on_one_edge_or_only_central_are_not_routed() -> None:
    assert decide(service("edge-a"), [shortcut()]).reason is Reason.FEWER_THAN_TWO_EDGES
    assert decide(service(), [shortcut()]).reason is Reason.FEWER_THAN_TWO_EDGES


def test_an_edge_without_a_shortcut_to_the_others_keeps_the_service_on_the_hub() -> None:
    decision = decide(service("edge-a", "edge-b", "edge-c"), [shortcut()])
    assert decision.reason is Reason.NO_SHORTCUT
    assert "edge-a and edge-c" in decision.message
    covered = [
        shortcut(),
        shortcut("edge-a", "edge-c", key="s/ac"),
        shortcut("edge-b", "edge-c", key="s/bc"),
    ]
    assert decide(service("edge-a", "edge-b", "edge-c"), covered).shortcuts == (
        "shortcuts/ab",
        "s/ac",
        "s/bc",
    )


def test_the_policy_selects_by_namespace_and_service_labels() -> None:
    none = TrafficPolicy(services="None", path="Direct")
    assert (
        decide(service("edge-a", "edge-b"), [shortcut(policy=none)]).reason is Reason.NOT_SELECTED
    )
    by_labels = TrafficPolicy(
        services="Selected",
        path="Direct",
        namespace_selector=parse("team=shop"),
        service_selector=parse("tier in (web)"),
    )
    assert decide(service("edge-a", "edge-b", tier="web"), [shortcut(policy=by_labels)]).routed
    unmatched = decide(service("edge-a", "edge-b", tier="db"), [shortcut(policy=by_labels)])
    assert unmatched.reason is Reason.NOT_SELECTED
    assert "serviceSelector tier in (web)" in unmatched.message


def test_hub_path_and_refusing_providers_keep_the_service_on_the_hub() -> None:
    hub = decide(service("edge-a", "edge-b"), [shortcut(direct=False)])
    assert (hub.reason, hub.message) == (
        Reason.HUB_PATH,
        "shortcut shortcuts/ab: the tunnel is down",
    )
    refused = decide(service("edge-a", "edge-b"), [shortcut(refusing=frozenset({"edge-b"}))])
    assert refused.reason is Reason.PROVIDER_REFUSES
    assert "edge-b" in refused.message


def test_a_foreign_annotation_is_never_touched() -> None:
    for value in ("true", "false"):
        foreign = service("edge-a", "edge-b", annotations={USE_DIRECT_CONNECTIONS: value})
        patches, decisions = changes([foreign], [shortcut(direct=False)])
        assert patches == []
        assert decisions[foreign.key].reason is Reason.FOREIGN_ANNOTATION
        assert changes([foreign], [shortcut()])[0] == []


def test_changes_annotate_unannotate_and_leave_steady_services_alone() -> None:
    fresh = service("edge-a", "edge-b")
    patches, _ = changes([fresh], [shortcut()])
    assert [(p.annotations, p.routed) for p in patches] == [
        ({USE_DIRECT_CONNECTIONS: "true", ROUTED_BY: "shortcuts/ab"}, True)
    ]
    ours = {USE_DIRECT_CONNECTIONS: "true", ROUTED_BY: "shortcuts/ab"}
    steady = service("edge-a", "edge-b", annotations=ours)
    assert changes([steady], [shortcut()])[0] == []  # nothing to write
    patches, decisions = changes([steady], [shortcut(direct=False)])
    assert [(p.annotations, p.routed) for p in patches] == [
        ({USE_DIRECT_CONNECTIONS: None, ROUTED_BY: None}, False)
    ]
    assert routed_by(decisions, "shortcuts/ab") == []
    _, decisions = changes([steady], [shortcut()])
    assert routed_by(decisions, "shortcuts/ab") == [("shop", "cart")]
    # our mark with no shortcut left at all: the annotation goes
    assert changes([steady], [])[0][0].routed is False


def test_the_operator_leaves_the_services_create_marked_to_create() -> None:
    by_create = service(
        "edge-a", "edge-b", annotations={USE_DIRECT_CONNECTIONS: "true", ROUTED_BY: "edge-a-b"}
    )
    assert changes([by_create], [shortcut(direct=False)], owns=resource_key)[0] == []
    assert changes([by_create], [], owns=resource_key)[0] == []
    # create itself owns every key it meets
    assert [p.routed for p in changes([by_create], [shortcut(direct=False)])[0]] == [False]
