"""The command line's traffic policy: `create` annotates the selected Services once (and its
rollback takes them back), `delete` removes only our marks (the flags: test_cli_traffic_flags).

Central is `FakeCentral` (kube.traffic's reads and patches on dictionaries); the lab holds the
same promises in tests/integration/test_cli_traffic.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from kubernetes.client import ApiClient

from liqoshortcut.core.model import ShortcutSpec
from liqoshortcut.core.plan import EdgeFacts, Plan, plan
from liqoshortcut.core.routing import ROUTED_BY, USE_DIRECT_CONNECTIONS, Change, ServiceView
from liqoshortcut.core.selectors import parse
from liqoshortcut.core.traffic import TrafficPolicy
from liqoshortcut.errors import (
    ExitCode,
    RollbackIncomplete,
    WorkflowFailed,
    exit_code_for,
)
from liqoshortcut.kube import objects, traffic
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.errors import AccessDenied, ApiError, NotFound, Rejected
from liqoshortcut.kube.resources import SERVICE
from liqoshortcut.workflow.connect import ConnectRun
from liqoshortcut.workflow.progress import Phase, ProgressEvent
from liqoshortcut.workflow.routing import ServiceRouting, unroute
from liqoshortcut.workflow.waiting import Deadline
from tests.unit.workflow.fake_edges import FakeEdges

FACTS = {
    "edge-a": EdgeFacts("milan", ("10.1.0.0/16",), "10.71.0.0/16"),
    "edge-b": EdgeFacts("turin", ("10.2.0.0/16",), "10.72.0.0/16"),
}
KEY = "milan--turin"  # the shortcut's name: the CLI's key in the routed-by mark
OURS = {USE_DIRECT_CONNECTIONS: "true", ROUTED_BY: KEY}
EVERY = TrafficPolicy(services="All")
OUR_KINDS = ("Namespace", "Configuration", "GatewayServer", "GatewayClient", "PublicKey")


def a_plan() -> Plan:
    spec = ShortcutSpec.model_validate({"edges": [{"name": "edge-a"}, {"name": "edge-b"}]})
    return plan(spec, FACTS)


# ---------------------------------------------------------------------- routing on central
@dataclass
class FakeService:
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    edges: frozenset[str] = frozenset({"milan", "turin"})


class FakeCentral:
    """kube.traffic's reads and patches, on dictionaries; ``failing`` Services refuse patches."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, **services: FakeService) -> None:
        self.cluster = Cluster("central (central)", "https://central.test", ApiClient())
        self.services = {("shop", name): svc for name, svc in services.items()}
        self.failing: set[str] = set()  # patches refused (4xx): they changed nothing
        self.unanswered: set[str] = set()  # patches failing with 5xx: they may have landed
        self.deleted: set[str] = set()  # Services gone between the read and the patch
        self.patches: list[Change] = []
        self.denied = False
        monkeypatch.setattr(traffic, "service_views", self.service_views)
        monkeypatch.setattr(traffic, "annotate", self.annotate)
        monkeypatch.setattr(traffic, "refuses_direct_connections", lambda *_: None)
        monkeypatch.setattr(objects, "list_objects", self.list_objects)

    def annotations(self, name: str) -> dict[str, str]:
        return self.services[("shop", name)].annotations

    def service_views(self, central: Cluster) -> list[ServiceView]:
        if self.denied:
            raise AccessDenied("list Services on central: forbidden", cluster="central")
        return [
            ServiceView(ns, name, dict(s.labels), {}, dict(s.annotations), s.edges)
            for (ns, name), s in self.services.items()
        ]

    def annotate(self, central: Cluster, change: Change) -> None:
        if change.service[1] in self.failing:
            raise Rejected(f"patch Service {'/'.join(change.service)}: refused by the test")
        if change.service[1] in self.deleted:
            raise NotFound(f"services {change.service[1]!r} not found on central")
        if change.service[1] in self.unanswered:
            raise ApiError(f"patch Service {'/'.join(change.service)}: HTTP 503")
        self.patches.append(change)
        service = self.services[change.service]
        for key, value in change.annotations.items():
            if value is None:
                service.annotations.pop(key, None)
            else:
                service.annotations[key] = value

    def list_objects(self, cluster: Cluster, resource: Any, *_: Any, **__: Any) -> list[Any]:
        assert resource is SERVICE
        if self.denied:
            raise AccessDenied("list Services on central: forbidden", cluster="central")
        return [
            {"metadata": {"namespace": ns, "name": name, "annotations": dict(s.annotations)}}
            for (ns, name), s in self.services.items()
        ]


def routing(
    central: FakeCentral, policy: TrafficPolicy = EVERY, events: list[ProgressEvent] | None = None
) -> ServiceRouting:
    report = events.append if events is not None else (lambda event: None)
    clusters = {name: Cluster(name, f"https://{name}.test", ApiClient()) for name in FACTS}
    return ServiceRouting(central.cluster, a_plan(), policy, clusters, report)


def test_every_service_with_endpoints_on_both_edges_is_annotated_and_marked_with_our_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    central = FakeCentral(
        monkeypatch,
        web=FakeService(),
        third_edge=FakeService(edges=frozenset({"milan", "rome"})),
        one_edge=FakeService(edges=frozenset({"milan"})),
    )
    events: list[ProgressEvent] = []
    assert routing(central, events=events).run() == [("shop", "web")]
    assert central.annotations("web") == OURS
    assert central.annotations("third_edge") == {}
    assert central.annotations("one_edge") == {}
    said = {(e.phase, e.step): e.detail for e in events}
    assert said[(Phase.DONE, "route Service shop/web over the shortcut")]
    why = said[(Phase.SKIPPED, "route Service shop/third_edge over the shortcut")]
    assert why == "it has endpoints on milan and rome and no shortcut joins them"
    assert not any("one_edge" in step for _, step in said)  # nothing to say about it


def test_a_selector_routes_only_the_services_it_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    central = FakeCentral(
        monkeypatch, web=FakeService(labels={"app": "web"}), db=FakeService(labels={"app": "db"})
    )
    policy = TrafficPolicy(services="Selected", service_selector=parse("app=web"))
    assert routing(central, policy).run() == [("shop", "web")]
    assert central.annotations("db") == {}


def test_a_foreign_annotation_and_another_shortcuts_mark_are_left_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    foreign = {USE_DIRECT_CONNECTIONS: "false"}
    operators = {USE_DIRECT_CONNECTIONS: "true", ROUTED_BY: "shortcuts/edge-a--edge-b"}
    central = FakeCentral(
        monkeypatch,
        foreign=FakeService(annotations=dict(foreign)),
        operators=FakeService(annotations=dict(operators)),
    )
    assert routing(central).run() == []
    assert central.patches == []
    assert central.annotations("foreign") == foreign
    assert central.annotations("operators") == operators


def test_a_rerun_patches_nothing_and_takes_back_what_it_no_longer_selects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    central = FakeCentral(
        monkeypatch,
        web=FakeService(labels={"app": "web"}, annotations=dict(OURS)),
        db=FakeService(labels={"app": "db"}, annotations=dict(OURS)),
    )
    policy = TrafficPolicy(services="Selected", service_selector=parse("app=web"))
    assert routing(central, policy).run() == [("shop", "web")]
    assert [change.service for change in central.patches] == [("shop", "db")]
    assert central.annotations("db") == {}
    assert central.annotations("web") == OURS


def test_a_service_deleted_between_the_read_and_the_patch_is_skipped_not_a_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    central = FakeCentral(monkeypatch, gone=FakeService(), web=FakeService())
    central.deleted.add("gone")
    events: list[ProgressEvent] = []
    step = routing(central, events=events)
    assert step.run() == [("shop", "web")]
    assert step.changed == 1  # only web's patch is there to undo
    assert (
        ProgressEvent(
            Phase.SKIPPED,
            "route Service shop/gone over the shortcut",
            "central (central)",
            "deleted meanwhile",
        )
        in events
    )


def test_central_refusing_the_reads_is_a_precondition_before_any_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    central = FakeCentral(monkeypatch, web=FakeService())
    central.denied = True
    with pytest.raises(AccessDenied) as raised:
        routing(central).check()
    assert "routing Services needs the rights to list Services" in str(raised.value)
    assert "or make the shortcut without routing Services" in str(raised.value)


# --------------------------------------------------------------------- with the connect run
@pytest.fixture
def edges(monkeypatch: pytest.MonkeyPatch) -> FakeEdges:
    return FakeEdges(monkeypatch, ("edge-a", "edge-b"))


def test_a_patch_failing_midway_takes_back_the_annotations_and_the_edges_objects(
    monkeypatch: pytest.MonkeyPatch, edges: FakeEdges
) -> None:
    central = FakeCentral(
        monkeypatch,
        a_web=FakeService(),
        b_annotated=FakeService(annotations={"team": "shop"}),
        c_api=FakeService(),
    )
    monkeypatch.setattr(objects, "list_objects", edges.list_objects)  # the edges' own lists
    central.failing.add("c_api")
    events: list[ProgressEvent] = []
    step = routing(central, events=events)
    with pytest.raises(WorkflowFailed, match="refused by the test; everything this run created"):
        ConnectRun(a_plan(), edges.clusters, Deadline(30), events.append, then=step).run()
    assert central.annotations("a_web") == {}
    assert central.annotations("b_annotated") == {"team": "shop"}
    assert central.annotations("c_api") == {}
    assert [key for key in edges.objects if key[1] in OUR_KINDS] == []
    rollback = [e.step for e in events if e.phase is Phase.ROLLBACK]
    assert rollback[0] == "restore the annotations of Service shop/b_annotated"  # newest first
    assert rollback[1] == "restore the annotations of Service shop/a_web"
    assert rollback[2].startswith("delete PublicKey")


def test_annotations_that_cannot_be_restored_are_named_with_the_command_that_would(
    monkeypatch: pytest.MonkeyPatch, edges: FakeEdges
) -> None:
    central = FakeCentral(monkeypatch, a_web=FakeService(), b_api=FakeService())
    monkeypatch.setattr(objects, "list_objects", edges.list_objects)
    step = routing(central)
    original = central.annotate

    def then_central_goes(cluster: Cluster, change: Change) -> None:
        if change.service[1] == "b_api":
            central.unanswered |= {"a_web", "b_api"}  # central stops answering from now on
        original(cluster, change)

    monkeypatch.setattr(traffic, "annotate", then_central_goes)
    with pytest.raises(RollbackIncomplete) as raised:
        ConnectRun(a_plan(), edges.clusters, Deadline(30), lambda _: None, then=step).run()
    message = str(raised.value)
    assert "rollback left 2 Service(s) annotated, undo them with: " in message
    assert (
        "kubectl -n shop annotate --overwrite service a_web liqo.io/use-direct-connections- "
        "shortcut.liqo.io/routed-by- on central (central)" in message
    )


# ------------------------------------------------------------------------------- delete
def test_delete_removes_exactly_our_marks_and_only_our_key_from_a_shared_mark(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shared = {USE_DIRECT_CONNECTIONS: "true", ROUTED_BY: f"shortcuts/x,{KEY}"}
    central = FakeCentral(
        monkeypatch,
        ours=FakeService(annotations=dict(OURS, team="shop")),
        shared=FakeService(annotations=dict(shared)),
        foreign=FakeService(annotations={USE_DIRECT_CONNECTIONS: "true"}),
        others=FakeService(annotations={USE_DIRECT_CONNECTIONS: "true", ROUTED_BY: "ns/y"}),
    )
    done = unroute(central.cluster, KEY, lambda _: None)
    assert done.services == (("shop", "ours"), ("shop", "shared"))
    assert central.annotations("ours") == {"team": "shop"}
    assert central.annotations("shared") == {
        USE_DIRECT_CONNECTIONS: "true",
        ROUTED_BY: "shortcuts/x",
    }
    assert central.annotations("foreign") == {USE_DIRECT_CONNECTIONS: "true"}
    assert central.annotations("others")[ROUTED_BY] == "ns/y"
    (warning,) = done.warnings
    assert warning.startswith("Service shop/shared is also routed by shortcuts/x")


def test_delete_without_the_right_to_list_services_warns_and_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    central = FakeCentral(monkeypatch, ours=FakeService(annotations=dict(OURS)))
    central.denied = True
    done = unroute(central.cluster, KEY, lambda _: None)
    assert done.services == ()
    (warning,) = done.warnings
    assert f"keeps {USE_DIRECT_CONNECTIONS}" in warning


def test_delete_failing_after_taking_a_service_back_says_it_stopped_midway_not_nothing_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    central = FakeCentral(
        monkeypatch,
        a_first=FakeService(annotations=dict(OURS)),
        b_second=FakeService(annotations=dict(OURS)),
    )
    central.unanswered.add("b_second")  # central goes away between the two patches
    with pytest.raises(RollbackIncomplete) as stopped:
        unroute(central.cluster, KEY, lambda _: None)
    assert exit_code_for(stopped.value) is ExitCode.ROLLBACK_INCOMPLETE
    assert str(stopped.value).endswith(
        f"the teardown of shortcut {KEY} stopped after taking 1 Service(s) back to the hub, "
        "before its objects on the edges: run the same delete again to finish it"
    )
    assert central.annotations("a_first") == {}


def test_delete_failing_before_any_service_was_taken_back_is_raised_as_it_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    central = FakeCentral(monkeypatch, a_first=FakeService(annotations=dict(OURS)))
    central.unanswered.add("a_first")
    with pytest.raises(ApiError):
        unroute(central.cluster, KEY, lambda _: None)
