"""The record in central around a run: what it says after each way a run ends.

Central is a dictionary here (`kube.objects` patched), because the endings that matter most need
central to fail at one exact call: the write that settles the record after the edges are done.
tests/integration/test_cli_endings.py holds the rollback-incomplete ending against the lab.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from kubernetes.client import ApiClient

from liqoshortcut.core.plan import Side
from liqoshortcut.core.record import EdgeRecord, ShortcutRecord, State, record_name
from liqoshortcut.errors import ExitCode, RollbackIncomplete, Unreported, exit_code_for
from liqoshortcut.kube import objects
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.errors import ClusterUnreachable
from liqoshortcut.kube.resources import Resource
from liqoshortcut.workflow.records import forget, recorded

NAMESPACE = "liqo"
NAME = record_name("edge-a--edge-b")
RECORD = ShortcutRecord(
    name="edge-a--edge-b",
    server=EdgeRecord("edge-b", "edge-b"),
    client=EdgeRecord("edge-a", "edge-a"),
    state=State.CREATING,
)
LEFT = RollbackIncomplete(
    "timed out; rollback left 1 object(s), remove them with: kubectl --context edge-b -n "
    "liqo-tenant-edge-a delete gatewayservers edge-a"
)


class FakeCentral:
    """Central's ConfigMaps; ``down`` makes every call fail as a stopped API server does."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.cluster = Cluster("central", "https://central.test", ApiClient())
        self.config_maps: dict[str, dict[str, Any]] = {}
        self.down = False
        for function in ("get", "create", "delete", "mutate"):
            monkeypatch.setattr(objects, function, getattr(self, function))

    def _reachable(self) -> None:
        if self.down:
            raise ClusterUnreachable(
                "cannot reach the API server of central at https://central.test: connection "
                "refused; check that the cluster is up and the kubeconfig's server address",
                cluster="central",
            )

    def get(self, cluster: Cluster, resource: Resource, name: str, *_: Any, **__: Any) -> Any:
        self._reachable()
        return copy.deepcopy(self.config_maps.get(name))

    def create(self, cluster: Cluster, resource: Resource, manifest: Any, **_: Any) -> Any:
        self._reachable()
        self.config_maps[manifest["metadata"]["name"]] = copy.deepcopy(manifest)
        return manifest

    def delete(self, cluster: Cluster, resource: Resource, name: str, *_: Any, **__: Any) -> bool:
        self._reachable()
        return self.config_maps.pop(name, None) is not None

    def mutate(
        self, cluster: Cluster, resource: Resource, name: str, namespace: str, change: Any, **_: Any
    ) -> Any:
        self._reachable()
        change(self.config_maps[name])
        return self.config_maps[name]

    def state(self) -> str | None:
        found = self.config_maps.get(NAME)
        return None if found is None else found["data"]["state"]


def raise_with_central_down(central: FakeCentral, error: Exception) -> None:
    central.down = True
    raise error


@pytest.fixture
def central(monkeypatch: pytest.MonkeyPatch) -> FakeCentral:
    return FakeCentral(monkeypatch)


def test_a_run_that_left_objects_keeps_its_record_marked_failed_so_list_shows_them(
    central: FakeCentral,
) -> None:
    with (
        pytest.raises(RollbackIncomplete),
        recorded(central.cluster, NAMESPACE, RECORD, State.CONNECTED),
    ):
        raise LEFT
    assert central.state() == "Failed"
    assert central.config_maps[NAME]["data"]["message"] == str(LEFT)


def test_a_run_whose_rollback_finished_takes_back_the_record_it_created(
    central: FakeCentral,
) -> None:
    with pytest.raises(RuntimeError), recorded(central.cluster, NAMESPACE, RECORD, State.CONNECTED):
        raise RuntimeError("a failure nobody foresaw, before any change on the edges")
    assert central.state() is None


def test_a_record_that_cannot_be_settled_after_the_edges_are_done_is_unreported_not_undone(
    central: FakeCentral,
) -> None:
    with (
        pytest.raises(Unreported) as raised,
        recorded(central.cluster, NAMESPACE, RECORD, State.CONNECTED),
    ):
        central.down = True  # central's API server stops while the edges are being connected
    assert exit_code_for(raised.value) is ExitCode.UNREPORTED
    assert str(raised.value).startswith(
        "shortcut edge-a--edge-b is connected on the edges, but its record ConfigMap "
        f"liqo/{NAME} on central could not be updated and still says Creating (cannot reach "
        "the API server of central"
    )
    assert str(raised.value).endswith("run the same create again to update it")
    central.down = False
    assert central.state() == "Creating"  # what `list` shows: a run that did not finish


def test_a_record_that_cannot_be_marked_after_objects_were_left_says_what_it_still_says(
    central: FakeCentral,
) -> None:
    with (
        pytest.raises(RollbackIncomplete) as raised,
        recorded(central.cluster, NAMESPACE, RECORD, State.CONNECTED),
    ):
        raise_with_central_down(central, LEFT)
    assert str(raised.value).startswith(str(LEFT) + "; its record could not be settled (")
    assert str(raised.value).endswith(
        f"ConfigMap liqo/{NAME} on the central cluster still says Creating"
    )


def test_a_record_that_cannot_be_removed_after_the_edges_were_cleaned_is_unreported(
    central: FakeCentral,
) -> None:
    with recorded(central.cluster, NAMESPACE, RECORD, State.CONNECTED):
        pass
    central.down = True  # central's API server stops while `delete` cleans the edges
    with pytest.raises(Unreported) as raised:
        forget(central.cluster, NAMESPACE, RECORD.name)
    assert exit_code_for(raised.value) is ExitCode.UNREPORTED
    assert str(raised.value).startswith(
        f"shortcut edge-a--edge-b was removed from the edges, but its record ConfigMap liqo/{NAME} "
        "on central could not be removed (cannot reach the API server of central"
    )
    central.down = False
    assert central.state() == "Connected"
    assert forget(central.cluster, NAMESPACE, RECORD.name)  # the same delete again


def test_what_the_run_learnt_is_in_the_settled_record_and_a_rerun_learning_it_writes_nothing(
    central: FakeCentral, monkeypatch: pytest.MonkeyPatch
) -> None:
    learnt = RECORD.learnt({Side.SERVER: ("10.242.0.0/16",), Side.CLIENT: ("10.68.0.0/16",)})
    with recorded(central.cluster, NAMESPACE, RECORD, State.CONNECTED) as recording:
        assert central.state() == "Creating"
        recording.record = learnt
    data = central.config_maps[NAME]["data"]
    assert data["state"] == "Connected"
    assert (data["server.peerPodCIDRs"], data["client.peerPodCIDRs"]) == (
        "10.242.0.0/16",
        "10.68.0.0/16",
    )
    writes: list[str] = []
    monkeypatch.setattr(objects, "mutate", lambda *args, **_: writes.append(args[2]))
    with recorded(central.cluster, NAMESPACE, RECORD, State.CONNECTED) as recording:
        recording.record = learnt
    assert writes == []
    assert ShortcutRecord.from_config_map(central.config_maps[NAME]).client == learnt.client
