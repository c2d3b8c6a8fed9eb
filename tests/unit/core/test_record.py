"""The record of a shortcut: what `list` shows comes back exactly from what `create` wrote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from liqoshortcut.core.naming import is_owned_by
from liqoshortcut.core.plan import Side
from liqoshortcut.core.record import (
    EdgeRecord,
    MalformedRecord,
    ShortcutRecord,
    State,
    age,
    record_name,
    record_selector,
)

RECORD = ShortcutRecord(
    name="edge-a--edge-b",
    server=EdgeRecord("edge-b", "b-id"),
    client=EdgeRecord("edge-a", "a-id"),
    state=State.CONNECTED,
)


def test_a_record_reads_back_from_its_config_map_as_the_api_server_returns_it() -> None:
    config_map = RECORD.to_config_map("liqo")
    config_map["metadata"]["creationTimestamp"] = "2026-11-25T09:30:39Z"
    read = ShortcutRecord.from_config_map(config_map)
    assert read.name == RECORD.name
    assert (read.server, read.client, read.state) == (RECORD.server, RECORD.client, RECORD.state)
    assert read.created == datetime(2026, 11, 25, 9, 30, 39, tzinfo=UTC)
    assert read.as_dict()["created"] == "2026-11-25T09:30:39Z"


def test_a_record_is_ours_found_by_one_selector_and_holds_no_server_or_credential() -> None:
    config_map = RECORD.to_config_map("liqo")
    labels = config_map["metadata"]["labels"]
    assert config_map["metadata"]["name"] == record_name(RECORD.name)
    assert is_owned_by(labels, RECORD.name)
    assert labels.items() >= record_selector().items()
    assert set(config_map["data"]) == {
        "server.context",
        "server.clusterID",
        "client.context",
        "client.clusterID",
        "state",
    }


def test_a_hand_edited_state_is_shown_as_failed_with_what_was_found() -> None:
    config_map = RECORD.to_config_map("liqo")
    config_map["data"]["state"] = "Wobbly"
    read = ShortcutRecord.from_config_map(config_map)
    assert read.state is State.FAILED
    assert read.message == "unknown state 'Wobbly'"


@pytest.mark.parametrize(
    ("lost", "says"),
    [
        ("labels", "has no label shortcut.liqo.io/name, no key server.context"),
        ("data", "has no key server.context, no key server.clusterID, no key client.context"),
        ("client.clusterID", "has no key client.clusterID: it is not listed"),
    ],
)
def test_a_config_map_labelled_as_a_record_without_its_keys_is_refused_by_name(
    lost: str, says: str
) -> None:
    config_map = RECORD.to_config_map("liqo")
    if lost == "labels":
        config_map["metadata"]["labels"] = record_selector()  # what `list` selects by, no name
        config_map["data"] = {"state": "Connected"}
    elif lost == "data":
        del config_map["data"]
    else:
        del config_map["data"][lost]
    with pytest.raises(MalformedRecord, match="ConfigMap liqo/liqo-shortcut-edge-a--edge-b") as e:
        ShortcutRecord.from_config_map(config_map)
    assert says in str(e.value)


NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("elapsed", "shown"),
    [
        (timedelta(seconds=0), "0s"),
        (timedelta(seconds=119), "119s"),
        (timedelta(minutes=2), "2m"),
        (timedelta(minutes=119), "119m"),
        (timedelta(hours=2), "2h"),
        (timedelta(hours=47), "47h"),
        (timedelta(days=2, hours=5), "2d"),
        (timedelta(seconds=-5), "0s"),  # clock skew between here and the API server
    ],
)
def test_age_reads_like_kubectl(elapsed: timedelta, shown: str) -> None:
    assert age(NOW - elapsed, NOW) == shown


def test_age_of_an_unwritten_record_is_unknown() -> None:
    assert age(None, NOW) == "<unknown>"


def _resource(**status: object) -> dict[str, object]:
    return {
        "metadata": {
            "name": "ab",
            "namespace": "team",
            "creationTimestamp": "2026-11-25T09:30:39Z",
        },
        "spec": {
            "edges": [
                {"name": "edge-a", "secretRef": "a", "clusterID": "a-id"},
                {"name": "edge-b", "secretRef": "b"},
            ],
            "serverEdge": "edge-a",
        },
        "status": status,
    }


def test_a_virtual_node_shortcut_lists_with_its_roles_and_its_ready_condition() -> None:
    pending = ShortcutRecord.from_resource(_resource())
    assert (pending.server, pending.client) == (
        EdgeRecord("edge-a", "a-id"),
        EdgeRecord("edge-b", ""),
    )
    assert pending.state is State.CREATING
    assert pending.source == "team/ab"
    ready = {"type": "Ready", "status": "True", "reason": "Connected", "message": ""}
    assert ShortcutRecord.from_resource(_resource(conditions=[ready])).state is State.CONNECTED
    down = {"type": "Ready", "status": "False", "reason": "EdgeUnreachable", "message": "edge-b"}
    failed = ShortcutRecord.from_resource(_resource(conditions=[down]))
    assert (failed.state, failed.message) == (State.FAILED, "EdgeUnreachable: edge-b")


def test_where_each_edge_reaches_the_others_pods_reads_back_from_record_and_status() -> None:
    learnt = RECORD.learnt({Side.SERVER: ("10.242.0.0/16",), Side.CLIENT: ("10.68.0.0/16",)})
    read = ShortcutRecord.from_config_map(learnt.to_config_map("liqo"))
    assert (read.server, read.client) == (learnt.server, learnt.client)
    assert read.as_dict()["client"] == {
        "context": "edge-a",
        "clusterID": "a-id",
        "peerPodCIDRs": ["10.68.0.0/16"],
    }
    edges = [
        {"name": "edge-a", "role": "server", "clusterID": "a-id", "peerPodCIDRs": ["10.2.0.0/16"]},
        {"name": "edge-b", "role": "client", "clusterID": "b-id"},
    ]
    shown = ShortcutRecord.from_resource(_resource(edges=edges))
    assert (shown.server, shown.client) == (
        EdgeRecord("edge-a", "a-id", ("10.2.0.0/16",)),
        EdgeRecord("edge-b", "b-id"),
    )
