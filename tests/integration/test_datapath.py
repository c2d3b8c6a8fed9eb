"""Real packets: Liqo's own gateways carry a pod's bytes from edge-a to edge-b, through central
before the shortcut and around it after.

The module runs with Liqo's controllers and the real data path (lab/datapath), whatever the
session asked for: every gateway pod is Liqo v1.2.0's gateway and wireguard binaries in its own
network namespace, every node runs Liqo's fabric, and the lab plays only the virtual kubelet's
EndpointSlice reflection (so an edge's Liqo maps the address a client dials, over central or
over the shortcut, from the Service's ``liqo.io/use-direct-connections``). The bytes through
central are its node's: every packet between its gateways crosses it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kubernetes.client import CoreV1Api

from lab.datapath import netns, probe
from lab.datapath.service import SIZE, TwoEdgeService, two_edge_service
from lab.emulator import kube as k
from lab.emulator.kube import Kube, Obj
from liqoshortcut.core.routing import USE_DIRECT_CONNECTIONS
from tests.integration.datapath import (
    Clients,
    gateway_namespace,
    gateway_pod_uid,
    process_named,
)
from tests.integration.edge_liqoctl import liqoctl

pytestmark = pytest.mark.integration

Cli = Callable[..., subprocess.CompletedProcess[str]]
# What central's node may see while the shortcut carries a transfer: nothing crosses it (IPv6 is
# off in every namespace, Liqo's pings stay inside the tunnels); a few ARP frames at most.
QUIET = 4096


@pytest.fixture
def web(real_datapath: Path, kube: Clients, unique_name: str) -> Iterator[TwoEdgeService]:
    clients = {name: kube(name) for name in ("central", "edge-a", "edge-b")}
    with two_edge_service(real_datapath, unique_name, clients=clients) as service:
        yield service


@pytest.fixture
def clean_pair(shortcut_cli: Cli) -> Iterator[None]:
    yield
    assert shortcut_cli("delete", "edge-a", "edge-b", "-q", "-y").returncode == 0


def test_edge_to_edge_bytes_leave_central_while_the_shortcut_routes_the_service(
    real_datapath: Path, web: TwoEdgeService, kube: Clients, shortcut_cli: Cli, clean_pair: None
) -> None:
    server = web.placed["edge-b"]
    hub_address = web.address_seen_by("edge-a")
    assert hub_address != server.ip  # through central: an address of central's external CIDR
    hub = web.send(hub_address)
    assert hub.received == SIZE
    assert hub.through_central >= SIZE, f"central's node saw {hub.through_central} B"

    created = shortcut_cli("create", "edge-a", "edge-b", "--services", "all")
    assert created.returncode == 0, created.stderr
    direct_address = web.address_seen_by("edge-a")
    assert direct_address == server.ip  # edge-b's own pod IP: no CIDR is remapped here
    tunnel = gateway_pod_uid(kube, "edge-a", "edge-b")
    tunnel_before = probe.tunnel_bytes(real_datapath, tunnel)
    direct = web.send(direct_address)
    carried = probe.tunnel_bytes(real_datapath, tunnel) - tunnel_before
    assert direct.received == SIZE
    assert direct.through_central <= QUIET, f"central's node saw {direct.through_central} B"
    assert carried >= SIZE, f"the shortcut's tunnel carried {carried} B"

    deleted = shortcut_cli("delete", "edge-a", "edge-b", "-y")
    assert deleted.returncode == 0, deleted.stderr
    assert web.address_seen_by("edge-a") == hub_address
    back = web.send(hub_address)
    assert back.received == SIZE
    assert back.through_central >= SIZE
    # The WAN's distances (lab/datapath/wan.py): 80 ms of round trip through central, 10 over
    # the shortcut; what the pods measure adds userspace WireGuard and the delay lines.
    ratio = direct.rtt_ms / hub.rtt_ms
    assert ratio <= 0.3, f"shortcut/hub RTT {ratio:.2f}"
    print(
        f"\nhub: {hub.seconds:.2f}s, central's node {hub.through_central} B, "
        f"RTT median {hub.rtt_ms:.2f} ms"
        f"\nshortcut: {direct.seconds:.2f}s, central's node {direct.through_central} B, "
        f"tunnel {carried} B, RTT median {direct.rtt_ms:.2f} ms"
        f"\nafter delete: central's node {back.through_central} B; shortcut/hub RTT {ratio:.3f}"
    )


def test_a_deleted_shortcut_leaves_no_namespace_or_process_behind(
    real_datapath: Path, kube: Clients, shortcut_cli: Cli
) -> None:
    created = shortcut_cli("create", "edge-a", "edge-b")
    assert created.returncode == 0, created.stderr
    namespaces = {
        gateway_namespace(real_datapath, kube, cluster, remote)
        for cluster, remote in (("edge-a", "edge-b"), ("edge-b", "edge-a"))
    }
    pids = set().union(*(netns.pids(name) for name in namespaces))
    commands = {Path(f"/proc/{pid}/exe").resolve().name for pid in pids}
    assert {"gateway", "wireguard"} <= commands  # Liqo's binaries ran there

    deleted = shortcut_cli("delete", "edge-a", "edge-b", "-y")
    assert deleted.returncode == 0, deleted.stderr
    deadline = time.monotonic() + 30
    while namespaces & set(netns.owned(netns.prefix(real_datapath))):
        assert time.monotonic() < deadline, "the gateway pods' namespaces stayed"
        time.sleep(0.5)
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()]


def connection(kube: Clients, cluster: str, remote: str) -> Obj:
    (found,) = Kube("", cluster, api=kube(cluster)).list(k.CONNECTIONS, f"liqo-tenant-{remote}")
    return found


def wait_for_connection(
    kube: Clients, cluster: str, remote: str, value: str, timeout: float
) -> float:
    started = time.monotonic()
    while (connection(kube, cluster, remote).get("status") or {}).get("value") != value:
        assert time.monotonic() - started < timeout, f"{cluster}'s Connection never said {value}"
        time.sleep(0.5)
    return time.monotonic() - started


def test_liqos_gateways_see_a_stopped_tunnel_and_its_return(
    real_datapath: Path, kube: Clients, shortcut_cli: Cli, clean_pair: None
) -> None:
    created = shortcut_cli("create", "edge-a", "edge-b")
    assert created.returncode == 0, created.stderr
    wireguard = process_named(
        gateway_namespace(real_datapath, kube, "edge-a", "edge-b"), "wireguard"
    )
    managers = {
        entry["manager"]
        for entry in connection(kube, "edge-b", "edge-a")["metadata"]["managedFields"]
    }
    assert "gateway" in managers  # Liqo's gateway wrote the status, not the lab
    os.kill(wireguard, signal.SIGSTOP)
    try:
        down = wait_for_connection(kube, "edge-b", "edge-a", "Error", timeout=40)
    finally:
        os.kill(wireguard, signal.SIGCONT)
    up = wait_for_connection(kube, "edge-b", "edge-a", "Connected", timeout=40)
    print(
        f"\nclient's wireguard stopped: server's Connection Error after {down:.1f}s; "
        f"continued: Connected after {up:.1f}s"
    )


def test_a_peering_made_by_liqoctl_carries_a_direct_service_past_central(
    real_datapath: Path, web: TwoEdgeService, kube: Clients
) -> None:
    """liqoctl's own network peering between the edges, and the annotation set by hand, as a
    Liqo user does it without liqo-shortcut: the same bytes bypass central."""
    connected = liqoctl("network", "connect", "--wait")
    try:
        assert connected.returncode == 0, connected.stderr
        CoreV1Api(kube("central")).patch_namespaced_service(
            "web", web.namespace, {"metadata": {"annotations": {USE_DIRECT_CONNECTIONS: "true"}}}
        )
        address = web.address_seen_by("edge-a")
        assert address == web.placed["edge-b"].ip
        direct = web.send(address)
    finally:
        reset = liqoctl("network", "reset")
    assert reset.returncode == 0, reset.stderr
    assert direct.received == SIZE
    assert direct.through_central <= QUIET, f"central's node saw {direct.through_central} B"
    print(
        f"\nliqoctl's peering: central's node {direct.through_central} B, "
        f"RTT {direct.rtt_ms:.1f} ms"
    )
