"""A teardown removes what the shortcut made, and a tenant namespace of ours only when nothing in
it is someone else's (liqoctl reuses tenant namespaces after its reset).

The edges are `FakeEdges`; tests/integration/test_cli_ownership.py holds the same promise against
the lab with the real liqoctl.
"""

from __future__ import annotations

from typing import Any

import pytest

from liqoshortcut.core.forge import Manifest
from liqoshortcut.errors import ExitCode, Interrupted, RollbackIncomplete, exit_code_for
from liqoshortcut.kube import objects
from liqoshortcut.kube.errors import AccessDenied, ClusterUnreachable
from liqoshortcut.kube.resources import Resource
from liqoshortcut.workflow.connect import ConnectRun
from liqoshortcut.workflow.disconnect import disconnect
from liqoshortcut.workflow.progress import Phase, ProgressEvent, discard
from liqoshortcut.workflow.waiting import Deadline
from tests.unit.workflow.fake_edges import FakeEdges
from tests.unit.workflow.test_connect_run import a_plan

# milan (edge-a) and turin (edge-b): each holds the other's tenant namespace, made by the run.
MILAN_ON_EDGE_A = ("edge-a", "Namespace", None, "liqo-tenant-turin")
TURIN_ON_EDGE_B = ("edge-b", "Namespace", None, "liqo-tenant-milan")


@pytest.fixture
def edges(monkeypatch: pytest.MonkeyPatch) -> FakeEdges:
    made = FakeEdges(monkeypatch, ("edge-a", "edge-b"))
    ConnectRun(a_plan(), made.clusters, Deadline(30), discard).run()
    return made


def liqoctls_configuration(edges: FakeEdges) -> None:
    """What `liqoctl network connect` leaves in our tenant namespace on edge-a after a reset."""
    labels = {"liqo.io/remote-cluster-id": "turin"}
    metadata = {"name": "turin", "namespace": "liqo-tenant-turin", "labels": labels}
    edges.put("edge-a", {"kind": "Configuration", "metadata": metadata})


def ours(edges: FakeEdges, cluster: str) -> list[tuple[str, str]]:
    return sorted(
        (kind, name)
        for (on, kind, _, name), obj in edges.objects.items()
        if on == cluster and (obj["metadata"].get("labels") or {}).get("shortcut.liqo.io/name")
    )


def test_a_teardown_removes_everything_the_run_made_its_own_connections_keeping_nothing(
    edges: FakeEdges,
) -> None:
    assert ("edge-a", "Connection", "liqo-tenant-turin", "gw-turin") in edges.objects
    done = disconnect(a_plan(), edges.clusters, Deadline(5), discard)
    assert done.removed == 8  # per edge: its namespace, Configuration, gateway, PublicKey
    assert done.kept == ()
    assert MILAN_ON_EDGE_A in edges.deleted
    assert TURIN_ON_EDGE_B in edges.deleted


def liqos_foreign_cluster(edges: FakeEdges, cluster: str, peer: str, role: str) -> None:
    """What Liqo's controller-manager makes on ``cluster`` once a peering names ``peer``."""
    manifest = {"kind": "ForeignCluster", "metadata": {"name": peer}, "status": {"role": role}}
    edges.put(cluster, manifest)


def test_the_foreign_clusters_liqo_made_for_the_peering_are_named_and_left_alone(
    edges: FakeEdges,
) -> None:
    liqos_foreign_cluster(edges, "edge-a", "turin", "Unknown")
    liqos_foreign_cluster(edges, "edge-b", "milan", "Unknown")
    done = disconnect(a_plan(), edges.clusters, Deadline(5), discard)
    assert sorted((left.cluster, left.foreign_cluster) for left in done.left_by_liqo) == [
        ("edge-a", "turin"),
        ("edge-b", "milan"),
    ]
    assert str(done.left_by_liqo[0]).startswith("ForeignCluster turin on edge-a stays: Liqo made")
    assert ("edge-a", "ForeignCluster", None, "turin") in edges.objects
    assert ("edge-b", "ForeignCluster", None, "milan") in edges.objects


def test_a_foreign_cluster_that_holds_a_peering_or_a_teardown_that_removed_nothing_names_none(
    edges: FakeEdges,
) -> None:
    liqos_foreign_cluster(edges, "edge-a", "turin", "Provider")  # edge-a consumes from turin
    liqos_foreign_cluster(edges, "edge-b", "milan", "Unknown")
    first = disconnect(a_plan(), edges.clusters, Deadline(5), discard)
    assert [(left.cluster, left.foreign_cluster) for left in first.left_by_liqo] == [
        ("edge-b", "milan")
    ]
    again = disconnect(a_plan(), edges.clusters, Deadline(5), discard)
    assert (again.removed, again.left_by_liqo) == (0, ())


def test_a_foreign_cluster_that_cannot_be_read_is_not_named(
    edges: FakeEdges, monkeypatch: pytest.MonkeyPatch
) -> None:
    liqos_foreign_cluster(edges, "edge-a", "turin", "Unknown")
    getting = objects.get

    def peering_user(cluster: Any, resource: Resource, *args: Any, **kw: Any) -> Any:
        if resource.kind == "ForeignCluster":
            raise AccessDenied("may not get foreignclusters", cluster=cluster.name)
        return getting(cluster, resource, *args, **kw)

    monkeypatch.setattr(objects, "get", peering_user)
    done = disconnect(a_plan(), edges.clusters, Deadline(5), discard)
    assert (done.removed, done.left_by_liqo) == (8, ())


def test_a_tenant_namespace_holding_liqoctls_objects_stays_and_what_is_ours_goes(
    edges: FakeEdges,
) -> None:
    liqoctls_configuration(edges)
    events: list[ProgressEvent] = []
    done = disconnect(a_plan(), edges.clusters, Deadline(5), events.append)
    (kept,) = done.kept
    assert (kept.cluster, kept.namespace) == ("edge-a", "liqo-tenant-turin")
    assert kept.reason == (
        "it holds objects not made by liqo-shortcut (Configuration liqo-tenant-turin/turin), "
        "left alone"
    )
    assert MILAN_ON_EDGE_A not in edges.deleted
    assert TURIN_ON_EDGE_B in edges.deleted  # edge-b's holds nothing of anyone else's
    assert ours(edges, "edge-a") == [("Namespace", "liqo-tenant-turin")]  # only the kept one
    assert ours(edges, "edge-b") == []
    assert ("edge-a", "Configuration", "liqo-tenant-turin", "turin") in edges.objects
    skipped = [(e.cluster, e.step, e.detail) for e in events if e.phase is Phase.SKIPPED]
    assert skipped == [("edge-a", "delete Namespace liqo-tenant-turin", kept.reason)]


def test_a_tenant_namespace_whose_contents_cannot_be_read_stays_and_says_why(
    edges: FakeEdges, monkeypatch: pytest.MonkeyPatch
) -> None:
    listing = objects.list_objects

    def no_unlabelled_connections(
        cluster: Any, resource: Resource, namespace: Any = None, labels: Any = None, **kw: Any
    ) -> list[Manifest]:
        if resource.kind == "Connection" and cluster.name == "edge-b":
            raise AccessDenied("may not list connections", cluster=cluster.name)
        return listing(cluster, resource, namespace, labels, **kw)

    monkeypatch.setattr(objects, "list_objects", no_unlabelled_connections)
    done = disconnect(a_plan(), edges.clusters, Deadline(5), discard)
    (kept,) = done.kept
    assert (kept.cluster, kept.namespace) == ("edge-b", "liqo-tenant-milan")
    assert kept.reason.startswith(
        "whether it holds objects not made by liqo-shortcut could not be read (may not list "
        "connections)"
    )
    assert TURIN_ON_EDGE_B not in edges.deleted
    assert ours(edges, "edge-b") == [("Namespace", "liqo-tenant-milan")]
    assert MILAN_ON_EDGE_A in edges.deleted


def unreachable_after(edges: FakeEdges, monkeypatch: pytest.MonkeyPatch, deletions: int) -> None:
    """edge-b's API server goes away once ``deletions`` deletions were asked for on any edge."""
    deleting = objects.delete

    def delete(cluster: Any, resource: Resource, *args: Any, **kw: Any) -> bool:
        if cluster.name == "edge-b" and len(edges.deleted) >= deletions:
            raise ClusterUnreachable("edge-b: connection refused", cluster="edge-b")
        return deleting(cluster, resource, *args, **kw)

    monkeypatch.setattr(objects, "delete", delete)


def test_an_edge_lost_after_the_first_deletion_is_a_teardown_stopped_midway_not_nothing_changed(
    edges: FakeEdges, monkeypatch: pytest.MonkeyPatch
) -> None:
    unreachable_after(edges, monkeypatch, deletions=1)
    with pytest.raises(RollbackIncomplete) as stopped:
        disconnect(a_plan(), edges.clusters, Deadline(5), discard)
    assert exit_code_for(stopped.value) is ExitCode.ROLLBACK_INCOMPLETE
    assert str(stopped.value) == (
        "edge-b: connection refused; the teardown of shortcut milan--turin stopped midway; what "
        "is left of it still carries its labels: run the same delete again to finish it"
    )


def test_an_edge_lost_before_any_deletion_is_raised_as_it_is_nothing_having_changed(
    edges: FakeEdges, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(cluster: Any, *args: Any, **kw: Any) -> list[Manifest]:
        raise ClusterUnreachable("edge-b: connection refused", cluster=cluster.name)

    monkeypatch.setattr(objects, "list_objects", unreachable)
    with pytest.raises(ClusterUnreachable):
        disconnect(a_plan(), edges.clusters, Deadline(5), discard)
    assert edges.deleted == []


def test_ctrl_c_after_the_first_deletion_says_the_teardown_was_interrupted_midway(
    edges: FakeEdges, monkeypatch: pytest.MonkeyPatch
) -> None:
    deleting = objects.delete

    def delete(cluster: Any, resource: Resource, *args: Any, **kw: Any) -> bool:
        if edges.deleted:
            raise KeyboardInterrupt
        return deleting(cluster, resource, *args, **kw)

    monkeypatch.setattr(objects, "delete", delete)
    with pytest.raises(Interrupted, match=r"^interrupted: the teardown of shortcut milan--turin "):
        disconnect(a_plan(), edges.clusters, Deadline(5), discard)
