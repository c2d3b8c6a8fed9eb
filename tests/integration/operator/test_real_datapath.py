"""The operator against real faults on Liqo's own gateways: a tunnel that stops carrying packets,
and a PublicKey edited by hand. Liqo's gateway writes the Connection's Error itself (its pings
fail), the operator sends the Service back through central, and the bytes follow: the next
transfer crosses central's node. Healing brings the Service back after the hysteresis.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kubernetes.client import ApiClient, CustomObjectsApi

from lab import workloads
from lab.datapath import probe
from lab.datapath.service import SIZE, TwoEdgeService, two_edge_service
from tests.integration.datapath import gateway_namespace, process_named
from tests.integration.operator.conftest import NETWORKING, Resource, Shortcuts, spec_for
from tests.integration.operator.test_traffic import (
    FALLBACK_BOUND,
    HEALTH_INTERVAL,
    HEALTHY_CHECKS,
    active,
    connection_state,
    routed,
    until,
)
from tests.integration.operator_run import OperatorThread

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

Clients = Callable[[str], ApiClient]
TEAM = {**workloads.OFFLOADED_NAMESPACE_LABELS, "team": "datapath"}
SELECTED = {
    "services": "Selected",
    "namespaceSelector": {"matchLabels": {"team": "datapath"}},
    "serviceSelector": {"matchLabels": {"tier": "web"}},
}
# Liqo's conncheck: 5 lost pings 2 s apart (the chart's --ping-loss-threshold, --ping-interval),
# with room for a busy machine.
LIQO_DETECTS = 40.0


@pytest.fixture
def operator_args() -> list[str]:
    return [f"--health-interval={HEALTH_INTERVAL:g}", f"--healthy-checks={HEALTHY_CHECKS}"]


@pytest.fixture
def web(real_datapath: Path, kube: Clients, unique_name: str) -> Iterator[TwoEdgeService]:
    clients = {name: kube(name) for name in ("central", "edge-a", "edge-b")}
    with two_edge_service(
        real_datapath, unique_name, clients=clients, namespace_labels=TEAM
    ) as service:
        yield service


@pytest.fixture
def direct(
    web: TwoEdgeService, operator: OperatorThread, shortcuts: Shortcuts, kube: Clients
) -> Iterator[Resource]:
    shortcuts.apply(spec_for(traffic=SELECTED))
    resource = shortcuts.until("DirectPathActive", active, timeout=120)
    until("web routed", lambda: routed(kube, web.namespace, "web"), timeout=20)
    yield resource
    shortcuts.delete()
    shortcuts.gone()


def fallback_and_return(
    web: TwoEdgeService, kube: Clients, fault: Callable[[], None], heal: Callable[[], None]
) -> str:
    """Inject ``fault``; the Service must leave the shortcut within the bound of Liqo's Error,
    and the bytes central's node; ``heal`` (always, failed or not), and it must come back.
    Returns what happened."""
    direct_address = web.address_seen_by("edge-a")
    seen = web.send(direct_address).through_central
    assert seen <= 4096, f"central's node saw {seen} B while the shortcut carried the Service"
    fault()
    try:
        unhealthy = until(
            "edge-a's Connection toward edge-b in Error",
            lambda: connection_state(kube, "edge-a", "edge-b") == "Error",
            timeout=LIQO_DETECTS,
        )
        back = until("web back on the hub", lambda: not routed(kube, web.namespace, "web"), 60)
        fallback = back - unhealthy
        assert fallback <= FALLBACK_BOUND, f"fallback took {fallback:.1f}s"
        hub_address = web.address_seen_by("edge-a")
        assert hub_address != direct_address
        moved = web.send(hub_address)
        assert moved.received == SIZE
        seen = moved.through_central
        assert seen >= SIZE, f"central's node saw {seen} B of a transfer on the hub path"
    finally:  # undone whatever happened, so the next test finds the lab whole
        heal()
    healthy = until(
        "edge-a's Connection Connected again",
        lambda: connection_state(kube, "edge-a", "edge-b") == "Connected",
        timeout=LIQO_DETECTS,
    )
    returned = until("web routed again", lambda: routed(kube, web.namespace, "web"), 60)
    assert returned - healthy >= (HEALTHY_CHECKS - 1) * HEALTH_INTERVAL
    assert web.address_seen_by("edge-a") == direct_address
    return (
        f"Liqo's Error -> hub in {fallback:.1f}s; through central {seen} B; "
        f"Connected -> direct again in {returned - healthy:.1f}s"
    )


def test_a_stopped_tunnel_sends_the_service_and_its_bytes_through_central_and_back(
    direct: Resource, web: TwoEdgeService, kube: Clients
) -> None:
    wireguard = process_named(
        gateway_namespace(web.datapath, kube, "edge-a", "edge-b"), "wireguard"
    )

    def stop() -> None:
        os.kill(wireguard, signal.SIGSTOP)

    def resume() -> None:
        os.kill(wireguard, signal.SIGCONT)

    print("\nstopped wireguard:", fallback_and_return(web, kube, stop, resume))


def public_key(kube: Clients, cluster: str, remote: str) -> tuple[str, str]:
    listed: Resource = CustomObjectsApi(kube(cluster)).list_namespaced_custom_object(
        *NETWORKING, f"liqo-tenant-{remote}", "publickeies"
    )  # type: ignore[assignment]
    (item,) = listed["items"]
    return item["metadata"]["name"], item["spec"]["publicKey"]


def set_public_key(kube: Clients, cluster: str, remote: str, value: str) -> None:
    name, _ = public_key(kube, cluster, remote)
    CustomObjectsApi(kube(cluster)).patch_namespaced_custom_object(
        *NETWORKING, f"liqo-tenant-{remote}", "publickeies", name, {"spec": {"publicKey": value}}
    )


def test_a_public_key_edited_by_hand_is_caught_by_liqo_and_the_service_falls_back(
    direct: Resource, web: TwoEdgeService, kube: Clients
) -> None:
    _, right = public_key(kube, "edge-b", "edge-a")
    wrong = base64.b64encode(os.urandom(32)).decode()  # a well-formed key nobody holds

    def edit() -> None:
        set_public_key(kube, "edge-b", "edge-a", wrong)

    def restore() -> None:
        set_public_key(kube, "edge-b", "edge-a", right)

    print("\nwrong PublicKey:", fallback_and_return(web, kube, edit, restore))


def test_a_transfer_under_way_when_the_tunnel_stops_finishes_through_central(
    direct: Resource, web: TwoEdgeService, kube: Clients, tmp_path: Path
) -> None:
    """An application that looks the Service up again when its connection stalls (as clients
    with retries do): the bytes it sent over the shortcut before the fault stay sent, the rest
    go through central once the operator has moved the Service, and the transfer completes."""
    size = 4 * SIZE
    address_file = tmp_path / "address"
    wireguard = process_named(
        gateway_namespace(web.datapath, kube, "edge-a", "edge-b"), "wireguard"
    )
    before = probe.node_bytes(web.datapath, "central")
    with web.followed_by("edge-a", address_file):
        direct_address = address_file.read_text()
        sender = web.resuming(address_file, size)
        time.sleep(1.0)  # under way over the shortcut
        os.kill(wireguard, signal.SIGSTOP)
        try:
            until("web back on the hub", lambda: not routed(kube, web.namespace, "web"), 60)
            out, err = sender.communicate(timeout=180)
        finally:
            os.kill(wireguard, signal.SIGCONT)
    assert sender.returncode == 0, err
    done = json.loads(out)
    through_central = probe.node_bytes(web.datapath, "central") - before
    assert done["bytes"] == size
    assert done["addresses"][0] == direct_address
    assert done["addresses"][-1] != direct_address  # finished at the hub path's address
    assert 0 < through_central < size + SIZE  # only what was left went through central
    print(
        f"\n{size} B transfer: {len(done['addresses'])} connections, {done['seconds']:.1f}s, "
        f"{through_central} B through central's node"
    )
