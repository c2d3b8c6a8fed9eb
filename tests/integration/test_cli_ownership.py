"""What `create`, `delete` and `list` may touch and report when the pair is also someone else's.

liqoctl (the real one, built by the lab) resets and reconnects the pair under a shortcut: `list`
shows what the edges hold, not what the record says, and `delete` leaves liqoctl's peering and
the tenant namespaces it reuses. A shortcut that exists with the other server edge, or a pair a
VirtualNodeShortcut owns, is refused up front with nothing changed on any cluster (compared
object by object, uid and resourceVersion). A ConfigMap that looks like a record and is not one
never hides the others.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from kubernetes.client import ApiClient

from liqoshortcut.core.record import EdgeRecord, ShortcutRecord, State, record_selector
from liqoshortcut.errors import ExitCode
from tests.integration.edge_liqoctl import liqoctl
from tests.integration.snapshots import settled, snapshot
from tests.integration.test_liqoctl_judges_the_emulator import peering_objects, tenant_namespaces

pytestmark = pytest.mark.integration

CLI = Callable[..., subprocess.CompletedProcess[str]]
Kubectl = Callable[..., subprocess.CompletedProcess[str]]
EDGES = (("edge-a", "edge-b"), ("edge-b", "edge-a"))  # each edge and the peer it holds objects for


@pytest.fixture
def deleted_afterwards(shortcut_cli: CLI) -> Iterator[None]:
    yield
    assert shortcut_cli("delete", "edge-a", "edge-b", "-q", "-y").returncode == ExitCode.SUCCESS


def listed(shortcut_cli: CLI, *flags: str) -> tuple[list[dict[str, Any]], str]:
    result = shortcut_cli("list", "-o", "yaml", *flags)
    assert result.returncode == ExitCode.SUCCESS, result.stderr
    shortcuts: list[dict[str, Any]] = yaml.safe_load(result.stdout)["shortcuts"]
    return shortcuts, result.stderr


def liqoctls_peering(kube: Callable[[str], ApiClient]) -> dict[str, set[tuple[str, str, str]]]:
    """Every networking object of the pair on each edge (kind, name, uid), Connections' states."""
    found: dict[str, set[tuple[str, str, str]]] = {}
    for local, remote in EDGES:
        objects = peering_objects(kube(local), remote)
        found[local] = {
            (kind, item["metadata"]["name"], item["metadata"]["uid"])
            for kind, items in objects.items()
            for item in items
        }
        states = [(c.get("status") or {}).get("value") for c in objects["connections"]]
        assert states == ["Connected"], (local, states)
    return found


def test_after_liqoctl_resets_and_reconnects_list_says_missing_and_delete_keeps_its_peering(
    shortcut_cli: CLI, kube: Callable[[str], ApiClient]
) -> None:
    before = snapshot(kube)
    created = shortcut_cli("create", "edge-a", "edge-b", "-q")
    assert created.returncode == ExitCode.SUCCESS, created.stderr
    try:
        (shortcut,), _ = listed(shortcut_cli)
        assert shortcut["state"] == "Connected"
        assert shortcut["live"] == {
            "state": "Connected",
            "server": {"state": "Connected"},
            "client": {"state": "Connected"},
        }

        reset = liqoctl("network", "reset")
        assert reset.returncode == 0, f"liqoctl network reset failed:\n{reset.stderr}"
        connect = liqoctl("network", "connect", "--wait")
        assert connect.returncode == 0, f"liqoctl network connect failed:\n{connect.stderr}"
        theirs = liqoctls_peering(kube)

        (shortcut,), warnings = listed(shortcut_cli)
        assert shortcut["state"] == "Connected"  # the record: untouched by liqoctl
        assert shortcut["live"]["state"] == "Missing"  # liqoctl's Connections are not ours
        assert shortcut["live"]["client"] == {
            "state": "Missing",
            "reason": "no GatewayClient of edge-a--edge-b in liqo-tenant-edge-b on edge-a",
        }
        assert (
            "warning: shortcut edge-a--edge-b is recorded Connected but its edges say Missing"
            in warnings
        )

        deleted = shortcut_cli("delete", "edge-a", "edge-b", "-y")
        assert deleted.returncode == ExitCode.SUCCESS, deleted.stderr
        assert deleted.stdout == (
            "shortcut edge-a--edge-b deleted (0 objects removed; 2 tenant namespaces kept, "
            "holding objects not made by liqo-shortcut)\n"
        )
        for local, remote in EDGES:
            kept = (
                f"warning: Namespace liqo-tenant-{remote} on {local} was kept: it holds objects "
                f"not made by liqo-shortcut (Configuration liqo-tenant-{remote}/"
            )
            assert kept in deleted.stderr
        assert liqoctls_peering(kube) == theirs  # the same objects, Connections still Connected
        assert "liqo-tenant-edge-b" in tenant_namespaces(kube("edge-a"))
        assert listed(shortcut_cli)[0] == []
    finally:
        reset = liqoctl("network", "reset")
        assert reset.returncode == 0, f"liqoctl network reset failed:\n{reset.stderr}"
        # Now empty of liqoctl's objects, the tenant namespaces it reused are ours to remove.
        again = shortcut_cli("delete", "edge-a", "edge-b", "-y", "-q")
        assert again.returncode == ExitCode.SUCCESS, again.stderr
    assert again.stdout == "shortcut edge-a--edge-b deleted (2 objects removed)\n"
    assert settled(kube, before) == before


def test_create_with_the_other_server_edge_is_refused_naming_the_server_and_changes_nothing(
    shortcut_cli: CLI, kube: Callable[[str], ApiClient], deleted_afterwards: None
) -> None:
    created = shortcut_cli("create", "edge-a", "edge-b", "-q")  # edge-b serves
    assert created.returncode == ExitCode.SUCCESS, created.stderr
    before = snapshot(kube)
    moved = shortcut_cli("create", "edge-a", "edge-b", "--server-edge", "edge-a")
    assert moved.returncode == ExitCode.PRECONDITION_FAILED, moved.stderr
    assert moved.stderr == (
        "error: shortcut edge-a--edge-b has its gateway server on edge-b, not on edge-a (edge-a "
        "holds its GatewayClient liqo-tenant-edge-b/edge-b): to move the server, delete the "
        "shortcut, then create it again with edge-a as the server edge\n"
    )
    assert moved.stdout == ""
    assert snapshot(kube) == before  # the record too: still server edge-b, Connected
    (shortcut,), _ = listed(shortcut_cli, "--no-check")
    assert (shortcut["server"]["context"], shortcut["state"]) == ("edge-b", "Connected")


def test_create_on_a_pair_a_virtualnodeshortcut_owns_is_refused_naming_it_and_changes_nothing(
    shortcut_cli: CLI, kube: Callable[[str], ApiClient], kubectl: Kubectl, shortcut_crd: str
) -> None:
    dry = shortcut_cli("create", "edge-a", "edge-b", "--dry-run=client", "-o", "yaml")
    assert dry.returncode == ExitCode.SUCCESS, dry.stderr
    kubectl("apply", "-n", "default", "-f", "-", stdin=dry.stdout)
    try:
        before = snapshot(kube)
        refused = shortcut_cli("create", "edge-a", "edge-b")
        assert refused.returncode == ExitCode.PRECONDITION_FAILED, refused.stderr
        assert refused.stderr == (
            "error: shortcut edge-a--edge-b belongs to VirtualNodeShortcut "
            "default/edge-a--edge-b, whose operator makes it: change that instead (kubectl edit "
            "virtualnodeshortcut -n default edge-a--edge-b)\n"
        )
        assert snapshot(kube) == before  # no second record, nothing on the edges
        (shortcut,), _ = listed(shortcut_cli)
        assert shortcut["source"] == "default/edge-a--edge-b"
        assert "live" not in shortcut  # its operator checks it
    finally:
        kubectl("delete", "-n", "default", "virtualnodeshortcut/edge-a--edge-b")


def test_a_config_map_labelled_as_a_record_without_its_keys_is_skipped_and_the_others_listed(
    shortcut_cli: CLI, kubectl: Kubectl, unique_name: str
) -> None:
    by_hand = f"{unique_name}-by-hand"
    metadata = {"name": by_hand, "namespace": "liqo", "labels": record_selector()}
    broken = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata}
    record = ShortcutRecord(
        name=unique_name,
        server=EdgeRecord("edge-b", "edge-b"),
        client=EdgeRecord("edge-a", "edge-a"),
        state=State.CONNECTED,
    )
    good = record.to_config_map("liqo")
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all([broken, good]))
    try:
        shortcuts, warnings = listed(shortcut_cli)
        assert [shortcut["name"] for shortcut in shortcuts] == [unique_name]
        assert (
            f"warning: ConfigMap liqo/{by_hand} is labelled as a shortcut's record "
            "but has no label shortcut.liqo.io/name"
        ) in warnings
        # Nothing of it on the edges: the record says Connected, the edges say otherwise.
        assert shortcuts[0]["live"]["state"] == "Missing"
        assert f"warning: shortcut {unique_name} is recorded Connected but its edges say " in (
            warnings
        )
    finally:
        kubectl("delete", "-n", "liqo", "configmap", by_hand, good["metadata"]["name"])
