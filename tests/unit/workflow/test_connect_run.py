"""A connect run executes the plan: what it sends is complete, what is not ours is refused before
any change, and what it made is rolled back newest first on failure, timeout or Ctrl-C.

The edges are `FakeEdges`; tests/integration/test_connect_workflow.py holds the same promises
against the lab's real API servers.
"""

from __future__ import annotations

import base64
import json
import signal
import threading
from typing import Any

import pytest

from liqoshortcut.core.model import ShortcutSpec
from liqoshortcut.core.plan import (
    PLACEHOLDER_PREFIX,
    Action,
    EdgeFacts,
    Outputs,
    Plan,
    Side,
    plan,
)
from liqoshortcut.errors import Interrupted, PreconditionFailed, RollbackIncomplete, WorkflowFailed
from liqoshortcut.kube.resources import by_kind
from liqoshortcut.workflow.connect import ConnectRun, converge
from liqoshortcut.workflow.progress import Phase, ProgressEvent, Reporter, discard
from liqoshortcut.workflow.steps import WAITS
from liqoshortcut.workflow.waiting import Deadline
from tests.unit.workflow.fake_edges import SERVER_ENDPOINT, FakeEdges, key_of

# edge-a (milan) dials, edge-b (turin) serves, as liqoctl's local and remote clusters.
FACTS = {
    "edge-a": EdgeFacts("milan", ("10.1.0.0/16",), "10.71.0.0/16"),
    "edge-b": EdgeFacts("turin", ("10.2.0.0/16",), "10.72.0.0/16"),
}
OUR_KINDS = ("Namespace", "Configuration", "GatewayServer", "GatewayClient", "PublicKey")
QUICK_TIMEOUT = 0.5  # seconds: enough for the fake edges, which react at once


def a_plan(**spec: Any) -> Plan:
    edges = [{"name": "edge-a"}, {"name": "edge-b"}]
    return plan(ShortcutSpec.model_validate({"edges": edges, **spec}), FACTS)


@pytest.fixture
def edges(monkeypatch: pytest.MonkeyPatch) -> FakeEdges:
    return FakeEdges(monkeypatch, ("edge-a", "edge-b"))


def run(
    edges: FakeEdges, built: Plan | None = None, report: Reporter = discard, seconds: float = 30
) -> dict[str, Outputs]:
    return ConnectRun(built or a_plan(), edges.clusters, Deadline(seconds), report).run()


def sent(edges: FakeEdges, cluster: str, kind: str) -> dict[str, Any]:
    (manifest,) = [m for name, m in edges.sent if name == cluster and m["kind"] == kind]
    return manifest


def test_no_placeholder_ever_reaches_an_api_server(edges: FakeEdges) -> None:
    built = a_plan()
    run(edges, built)
    creates = [step for step in built.steps if step.action is Action.CREATE]
    assert len(edges.sent) == len(creates) == 8
    for cluster, manifest in edges.sent:
        assert PLACEHOLDER_PREFIX.strip() not in json.dumps(manifest), (cluster, manifest)


def test_the_client_dials_the_endpoint_the_server_reported(edges: FakeEdges) -> None:
    run(edges)
    assert sent(edges, "edge-a", "GatewayClient")["spec"]["endpoint"] == SERVER_ENDPOINT


def test_each_edge_gets_the_other_gateways_key_owned_by_its_own_gateway(edges: FakeEdges) -> None:
    run(edges)
    for cluster, peer, gateway in (
        ("edge-a", "edge-b", "GatewayClient"),
        ("edge-b", "edge-a", "GatewayServer"),
    ):
        key = sent(edges, cluster, "PublicKey")
        assert key["spec"]["publicKey"] == base64.b64encode(key_of(peer)).decode()
        (owner,) = key["metadata"]["ownerReferences"]
        namespace = key["metadata"]["namespace"]
        own_gateway = edges.objects[(cluster, gateway, namespace, owner["name"])]
        assert (owner["kind"], owner["uid"]) == (gateway, own_gateway["metadata"]["uid"])


def test_a_server_behind_nat_is_dialled_at_the_override(edges: FakeEdges) -> None:
    run(edges, a_plan(gateway={"clientAddress": "203.0.113.7", "clientPort": 31000}))
    assert sent(edges, "edge-a", "GatewayClient")["spec"]["endpoint"] == {
        "addresses": ["203.0.113.7"],
        "port": 31000,
        "protocol": SERVER_ENDPOINT["protocol"],
    }


def test_a_rerun_keeps_what_is_ours_sends_nothing_and_says_so(edges: FakeEdges) -> None:
    built = a_plan()
    run(edges, built)
    first = list(edges.sent)
    events: list[ProgressEvent] = []
    run(edges, built, events.append)
    assert edges.sent == first
    skipped = [e.step for e in events if e.phase is Phase.SKIPPED]
    assert skipped == [step.what for step in built.steps if step.action is Action.CREATE]


def test_progress_names_every_step_of_the_plan(edges: FakeEdges) -> None:
    built = a_plan()
    events: list[ProgressEvent] = []
    run(edges, built, events.append)
    done = [(e.cluster, e.step) for e in events if e.phase is Phase.DONE]
    assert sorted(done) == sorted((step.cluster, step.what) for step in built.steps)


def test_an_object_in_the_way_that_is_not_ours_is_refused_before_any_change(
    edges: FakeEdges,
) -> None:
    built = a_plan()
    server = built.step("create-gatewayserver@server")
    edges.put(
        "edge-b",
        {"kind": "GatewayServer", "metadata": {"name": server.name, "namespace": server.namespace}},
    )
    with pytest.raises(PreconditionFailed, match="exists and was not made by liqo-shortcut"):
        run(edges, built)
    assert edges.sent == []


def test_ours_made_meanwhile_by_a_concurrent_run_is_used_and_never_rolled_back(
    edges: FakeEdges,
) -> None:
    built = a_plan()
    server = built.step("create-gatewayserver@server")
    key = ("edge-b", "GatewayServer", server.namespace, server.name)
    cluster = edges.clusters["edge-b"]
    # The other run sends the same manifest a moment before this one, after this one looked.
    edges.before_create["GatewayServer"] = lambda: edges.create(
        cluster, by_kind("GatewayServer"), server.resolve({})
    )
    edges.refused.add("PublicKey")  # then this run fails, and rolls back what it made
    with pytest.raises(WorkflowFailed, match="everything this run created was removed"):
        run(edges, built)
    assert key in edges.objects  # the concurrent run's server, which this run used
    assert key not in edges.deleted


def test_anyone_elses_object_made_meanwhile_is_refused_and_the_run_rolled_back(
    edges: FakeEdges,
) -> None:
    built = a_plan()
    server = built.step("create-gatewayserver@server")
    metadata = {"name": server.name, "namespace": server.namespace}
    edges.before_create["GatewayServer"] = lambda: edges.put(
        "edge-b", {"kind": "GatewayServer", "metadata": dict(metadata)}
    )
    with pytest.raises(WorkflowFailed, match="not made by liqo-shortcut; it is left alone; every"):
        run(edges, built)
    assert ("edge-b", "GatewayServer", server.namespace, server.name) not in edges.deleted
    assert [key for key in edges.objects if key[1] in ("Configuration", "Namespace")] == []


def test_a_peering_made_by_someone_else_is_refused_before_any_change(edges: FakeEdges) -> None:
    labels = {"liqo.io/remote-cluster-id": "milan"}
    metadata = {"name": "by-hand", "namespace": "liqo-tenant-milan", "labels": labels}
    edges.put("edge-b", {"kind": "Configuration", "metadata": metadata})
    with pytest.raises(PreconditionFailed, match="edge-b already has a Liqo network peering"):
        run(edges)
    assert edges.sent == []


def test_a_rerun_with_the_other_server_edge_is_refused_naming_the_server_before_any_change(
    edges: FakeEdges,
) -> None:
    run(edges)  # edge-b serves
    made = dict(edges.objects)
    with pytest.raises(PreconditionFailed) as refused:
        run(edges, a_plan(serverEdge="edge-a"))
    assert str(refused.value) == (
        "shortcut milan--turin has its gateway server on edge-b, not on edge-a (edge-a holds "
        "its GatewayClient liqo-tenant-turin/turin): to move the server, delete the shortcut, "
        "then create it again with edge-a as the server edge"
    )
    assert len(edges.sent) == 8  # the first run's creates only
    assert edges.objects == made


def test_an_operator_pass_with_the_other_server_edge_is_refused_and_repairs_nothing(
    edges: FakeEdges,
) -> None:
    """A VirtualNodeShortcut whose serverEdge changed: its pass fails, the tunnel stays."""
    run(edges)
    made = dict(edges.objects)
    with pytest.raises(PreconditionFailed, match="has its gateway server on edge-b, not on edge-a"):
        converge(a_plan(serverEdge="edge-a"), edges.clusters, Deadline(5), discard)
    assert len(edges.sent) == 8
    assert edges.objects == made


def test_a_refused_create_rolls_back_what_this_run_made_newest_first(edges: FakeEdges) -> None:
    edges.refused.add("PublicKey")
    with pytest.raises(WorkflowFailed, match="everything this run created was removed"):
        run(edges)
    assert [kind for _, kind, _, _ in edges.deleted] == [
        "GatewayClient",
        "GatewayServer",
        "Configuration",
        "Configuration",
        "Namespace",
        "Namespace",
    ]
    assert [key for key in edges.objects if key[1] in OUR_KINDS] == []


def test_a_wait_that_times_out_names_what_it_waited_for_and_rolls_back(edges: FakeEdges) -> None:
    edges.silent.add("GatewayServer")  # no gateway pod ever comes up, nor an endpoint
    with pytest.raises(WorkflowFailed) as raised:
        run(edges, seconds=QUICK_TIMEOUT)
    # The two waits run at once and run out together: the message names the one that came first.
    awaited = (
        "gateway pod liqo-tenant-milan/gw-milan to be ready",
        "GatewayServer liqo-tenant-milan/milan status.endpoint",
    )
    assert any(
        str(raised.value).startswith(f"timed out after 0s waiting for {what} on edge-b;")
        for what in awaited
    ), str(raised.value)
    assert str(raised.value).endswith("everything this run created was removed")
    assert [key for key in edges.objects if key[1] in OUR_KINDS] == []


def test_ctrl_c_during_a_wait_rolls_back_everything_and_says_interrupted(
    edges: FakeEdges,
) -> None:
    main = threading.main_thread().ident
    assert main is not None
    pressed: list[bool] = []

    def press_ctrl_c() -> None:
        if not pressed:
            pressed.append(True)
            signal.pthread_kill(main, signal.SIGINT)

    edges.silent.add("PublicKey")  # the Connections never come
    edges.on_wait.append(press_ctrl_c)
    with pytest.raises(
        Interrupted, match=r"^interrupted; everything this run created was removed$"
    ):
        run(edges)
    assert [key for key in edges.objects if key[1] in OUR_KINDS] == []


def test_what_a_rollback_cannot_remove_is_named_with_the_command_that_removes_it(
    edges: FakeEdges,
) -> None:
    edges.refused.add("PublicKey")
    edges.stuck.add(("edge-b", "GatewayServer", "liqo-tenant-milan", "milan"))
    with pytest.raises(RollbackIncomplete) as raised:
        run(edges)
    assert str(raised.value).endswith(
        "rollback left 1 object(s), remove them with: "
        "kubectl --context edge-b -n liqo-tenant-milan delete gatewayservers milan"
    )


def test_every_wait_a_plan_holds_is_one_the_workflow_can_observe() -> None:
    for step in a_plan().steps:
        if step.action is Action.WAIT:
            assert step.condition in WAITS, step.id


def test_an_error_nobody_foresaw_rolls_back_like_any_failure_and_names_its_class(
    edges: FakeEdges,
) -> None:
    """The lab cannot make the workflow's own code fail; a step that raises what no code maps
    (here: urllib3's complaint when a watch is left) stands in for any such bug."""

    def library_bug() -> None:
        raise RuntimeError("Cannot shutdown as connection has already been released to the pool")

    edges.before_create["PublicKey"] = library_bug
    with pytest.raises(WorkflowFailed) as raised:
        run(edges)
    assert str(raised.value) == (
        "unexpected RuntimeError: Cannot shutdown as connection has already been released to the "
        "pool; everything this run created was removed"
    )
    assert isinstance(raised.value.__context__, RuntimeError)  # what -v shows
    assert [key for key in edges.objects if key[1] in OUR_KINDS] == []


def test_a_rollback_goes_on_past_an_object_it_fails_on_unexpectedly_and_names_it(
    edges: FakeEdges, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deletion that fails in a way no code maps (unit: the lab's API servers answer as
    mapped) must not abandon the objects after it."""
    delete = edges.delete

    def delete_failing_on_the_server(cluster: Any, resource: Any, name: str, *rest: Any) -> bool:
        if resource.kind == "GatewayServer":
            raise RuntimeError("Cannot shutdown as connection has already been released")
        return delete(cluster, resource, name, *rest)

    monkeypatch.setattr("liqoshortcut.kube.objects.delete", delete_failing_on_the_server)
    edges.refused.add("PublicKey")
    with pytest.raises(RollbackIncomplete) as raised:
        run(edges)
    assert str(raised.value).endswith(
        "rollback left 1 object(s), remove them with: "
        "kubectl --context edge-b -n liqo-tenant-milan delete gatewayservers milan"
    )
    left = [key[1] for key in edges.objects if key[1] in OUR_KINDS]
    assert left == ["GatewayServer"]  # every other object went


def test_a_progress_line_that_cannot_be_written_does_not_stop_the_rollback(
    edges: FakeEdges,
) -> None:
    """A terminal closed by SIGHUP refuses writes (EIO); the lab's runs write to files."""

    def terminal_gone(event: ProgressEvent) -> None:
        if event.phase is Phase.ROLLBACK:
            raise OSError(5, "Input/output error")

    edges.refused.add("PublicKey")
    with pytest.raises(WorkflowFailed, match="everything this run created was removed"):
        run(edges, report=terminal_gone)
    assert [key for key in edges.objects if key[1] in OUR_KINDS] == []


def test_the_run_tells_where_each_edge_reaches_the_others_pods(edges: FakeEdges) -> None:
    built = a_plan()
    edges.remaps["edge-b"] = ["10.68.0.0/16"]  # edge-b's Liqo remapped edge-a's pods
    peers = built.peer_pod_cidrs(run(edges, built))
    own = built.pod_cidrs()
    server, client = built.edges[Side.SERVER], built.edges[Side.CLIENT]
    assert (server.name, client.name) == ("edge-b", "edge-a")
    assert peers == {Side.SERVER: ("10.68.0.0/16",), Side.CLIENT: own[server.cluster_id]}
    assert own[client.cluster_id] != ("10.68.0.0/16",)
