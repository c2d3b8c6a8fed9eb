"""Rivals (two VirtualNodeShortcuts joining the same edges) are judged from the operator's
compact views of the resources as well as from the resources themselves."""

from __future__ import annotations

from typing import Any

import pytest

from liqoshortcut.operator.rivals import Conflicting, refuse_an_older_rival, rival_view


def resource(name: str, created: str, **metadata: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": "team-a",
            "uid": f"uid-{name}",
            "creationTimestamp": created,
            "managedFields": [{"manager": "kubectl"}],
            "annotations": {"shortcut.liqo.io/last-handled-configuration": "{}"},
            **metadata,
        },
        "spec": {"edges": [{"name": "edge-a", "secretRef": "a"}, {"name": "edge-b"}]},
        "status": {"edges": [{"clusterID": "milan"}, {"clusterID": "turin"}], "conditions": []},
    }


def test_a_view_keeps_what_judging_rivals_needs_and_nothing_else() -> None:
    view = rival_view(resource("first", "2026-12-02T10:00:00Z"))
    assert view == {
        "metadata": {
            "uid": "uid-first",
            "name": "first",
            "namespace": "team-a",
            "creationTimestamp": "2026-12-02T10:00:00Z",
        },
        "spec": {"edges": [{"name": "edge-a", "secretRef": "a"}, {"name": "edge-b"}]},
        "status": {"edges": [{"clusterID": "milan"}, {"clusterID": "turin"}]},
    }


def test_the_newer_of_two_is_refused_and_the_older_is_not() -> None:
    older = resource("first", "2026-12-02T10:00:00Z")
    newer = resource("second", "2026-12-02T10:05:00Z")
    views = [rival_view(older), rival_view(newer)]
    with pytest.raises(Conflicting, match="team-a/first already joins these two edges"):
        refuse_an_older_rival(newer, {"milan", "turin"}, views)
    refuse_an_older_rival(older, {"milan", "turin"}, views)


def test_an_older_one_being_deleted_or_joining_other_edges_is_no_rival() -> None:
    leaving = resource("first", "2026-12-02T10:00:00Z", deletionTimestamp="2026-12-02T11:00:00Z")
    newer = resource("second", "2026-12-02T10:05:00Z")
    refuse_an_older_rival(newer, {"milan", "turin"}, [rival_view(leaving)])
    refuse_an_older_rival(newer, {"milan", "rome"}, [rival_view(resource("x", "2026"))])
