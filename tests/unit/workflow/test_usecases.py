"""The `create` and `delete` use cases on fake edges and a fake central: the record written
before the first change, settled with what the run learnt, taken back with the run's objects
when it fails, and removed last by `delete`."""

from __future__ import annotations

import pytest

from liqoshortcut.core.model import ShortcutSpec
from liqoshortcut.core.plan import plan
from liqoshortcut.core.record import ShortcutRecord, State, record_name
from liqoshortcut.errors import WorkflowFailed
from liqoshortcut.workflow.create import create
from liqoshortcut.workflow.delete import delete
from liqoshortcut.workflow.preflight import Preflight, Teardown
from liqoshortcut.workflow.progress import discard
from liqoshortcut.workflow.waiting import Deadline
from tests.unit.workflow.fake_edges import FakeEdges
from tests.unit.workflow.test_connect_run import FACTS, OUR_KINDS

# Named after the edges' cluster IDs (milan and turin, FACTS), as the objects on them are.
RECORD_KEY = ("central", "ConfigMap", "liqo", record_name("milan--turin"))


@pytest.fixture
def edges(monkeypatch: pytest.MonkeyPatch) -> FakeEdges:
    return FakeEdges(monkeypatch, ("edge-a", "edge-b", "central"))


def checked(edges: FakeEdges, wait: bool = True) -> Preflight:
    spec = ShortcutSpec.model_validate({"edges": [{"name": "edge-a"}, {"name": "edge-b"}]})
    return Preflight(
        plan=plan(spec, FACTS, wait_connected=wait),
        edges={name: edges.clusters[name] for name in ("edge-a", "edge-b")},
        spec=spec,
        central=edges.clusters["central"],
        central_namespace="default",
        warnings=(),
    )


@pytest.mark.parametrize(("wait", "state"), [(True, State.CONNECTED), (False, State.CREATED)])
def test_a_shortcut_is_recorded_with_where_each_edge_reaches_the_others_pods(
    edges: FakeEdges, wait: bool, state: State
) -> None:
    created = create(checked(edges, wait), Deadline(30), discard)
    assert created.routed is None  # the spec selects no Service
    stored = ShortcutRecord.from_config_map(edges.objects[RECORD_KEY])
    assert stored.state is state
    assert (stored.server, stored.client) == (created.record.server, created.record.client)
    assert (stored.server.cluster_id, stored.server.peer_pod_cidrs) == ("turin", ("10.1.0.0/16",))
    assert (stored.client.cluster_id, stored.client.peer_pod_cidrs) == ("milan", ("10.2.0.0/16",))


def test_a_failed_run_takes_back_its_record_with_its_objects(edges: FakeEdges) -> None:
    edges.refused.add("PublicKey")
    with pytest.raises(WorkflowFailed, match="everything this run created was removed"):
        create(checked(edges), Deadline(30), discard)
    assert RECORD_KEY not in edges.objects
    for edge in ("edge-a", "edge-b"):
        assert not set(edges.kinds_on(edge)) & set(OUR_KINDS), edges.kinds_on(edge)


def test_delete_takes_down_what_create_made_record_last_and_then_finds_nothing(
    edges: FakeEdges,
) -> None:
    preflight = checked(edges)
    create(preflight, Deadline(30), discard)
    teardown = Teardown(plan=preflight.plan, edges=preflight.edges, central=preflight.central)
    deleted = delete(teardown, "liqo", Deadline(30), discard, wait=True)
    assert (deleted.found, deleted.record_removed, deleted.unrouted) == (True, True, ())
    assert deleted.removed > 0
    assert RECORD_KEY not in edges.objects
    for edge in ("edge-a", "edge-b"):
        assert not set(edges.kinds_on(edge)) & set(OUR_KINDS), edges.kinds_on(edge)
    again = delete(teardown, "liqo", Deadline(30), discard, wait=True)
    assert not again.found
