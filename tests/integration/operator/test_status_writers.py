"""A reconcile pass and the traffic router share a VirtualNodeShortcut's status, each owning its
part (`operator.status`). A pass that read the resource before a router flip must not put the
router's old value back when it writes, nor tell the flip again: on a real API server, at the
resourceVersions each writer read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lab.cluster import kubeconfig_path
from liqoshortcut.core.connection import ConnectionSeen
from liqoshortcut.core.observed import (
    EdgeSeen,
    Observation,
    status_for,
    status_patch,
)
from liqoshortcut.kube import objects
from liqoshortcut.kube.clients import Cluster, connect
from liqoshortcut.kube.kubeconfig import load_kubeconfig
from liqoshortcut.kube.resources import VIRTUAL_NODE_SHORTCUT
from liqoshortcut.operator.status import write_pass_status
from tests.integration.operator.conftest import Shortcuts, condition, spec_for

pytestmark = pytest.mark.integration

EARLIER = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


def observed(state: str) -> Observation:
    connection = ConnectionSeen(state, "1ms" if state == "Connected" else None)
    edges = (
        EdgeSeen("edge-b", "server", "edge-b", connection),
        EdgeSeen("edge-a", "client", "edge-a", connection),
    )
    return Observation(generation=1, edges=edges, credentials_checked=True)


def direct_path(active: bool, at: datetime) -> dict[str, Any]:
    """The router's DirectPathActive condition, as `core.observed.traffic_status` writes it."""
    return {
        "type": "DirectPathActive",
        "status": "True" if active else "False",
        "reason": "Healthy" if active else "Unhealthy",
        "message": "both Connections are healthy" if active else "a Connection is Connecting",
        "lastTransitionTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "observedGeneration": 1,
    }


def test_a_pass_that_overlaps_a_router_flip_keeps_the_flip_and_tells_only_its_own_changes(
    shortcuts: Shortcuts,
) -> None:
    central: Cluster = connect(load_kubeconfig(kubeconfig_path()).resolve("central"))
    resource = shortcuts.apply(spec_for())
    # Earlier: a pass saw the Connections still connecting, the router kept the hub path.
    earlier = status_for(observed("Connecting"), {}, EARLIER)
    earlier["conditions"].append(direct_path(False, EARLIER))
    objects.patch_status(central, VIRTUAL_NODE_SHORTCUT, resource, earlier)
    read_by_the_pass = shortcuts.get()
    assert read_by_the_pass is not None

    # While the pass works, the router flips the path to Direct, at the version it read.
    read_by_the_router = shortcuts.get()
    assert read_by_the_router is not None
    flipped = EARLIER + timedelta(minutes=1)
    conditions = [
        c for c in read_by_the_router["status"]["conditions"] if c["type"] != "DirectPathActive"
    ]
    router_part = {"conditions": [*conditions, direct_path(True, flipped)], "path": "Direct"}
    objects.patch_status(central, VIRTUAL_NODE_SHORTCUT, read_by_the_router, router_part)

    # The pass now writes what it saw (both Connected) from the resource it read before the flip.
    later = flipped + timedelta(seconds=5)
    stale = status_patch(
        read_by_the_pass["status"],
        status_for(observed("Connected"), read_by_the_pass["status"], later),
    )
    assert condition({"status": stale}, "DirectPathActive")["status"] == "False"  # the overlap
    written = write_pass_status(central, read_by_the_pass, observed("Connected"), lambda: later)

    final = shortcuts.get()
    assert final is not None
    kept = condition(final, "DirectPathActive")
    assert (kept["status"], kept["reason"], final["status"]["path"]) == (
        "True",
        "Healthy",
        "Direct",
    )
    assert kept["lastTransitionTime"] == "2026-12-08T09:01:00Z"
    assert (condition(final, "Ready")["status"], condition(final, "Connected")["status"]) == (
        "True",
        "True",
    )
    assert sorted(change.type for change in written) == ["Connected", "Ready"]  # no second flip
    # And a pass that sees nothing new writes nothing.
    assert write_pass_status(central, final, observed("Connected"), lambda: later) == []
    assert shortcuts.get() == final
