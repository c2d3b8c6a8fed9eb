"""Edges on one pod CIDR (every kind cluster has 10.244.0.0/16): what Liqo does with a shortcut
between them, on Liqo's own controllers and gateways.

The lab here (`make integration`'s second run, OVERLAPPING_LAB) gives edge-a and edge-b the same
pod CIDR. Central's Liqo remaps one of them, and v1.2.0 then cannot route a Service's traffic over
a shortcut between the two (the other edge's ShadowEndpointSlice never maps): `create --services`
is refused up front. The shortcut itself works: each edge's Liqo remaps the other's pods, the
tunnel carries their bytes both ways without central, and `create` and `explain` say under which
addresses a client on each edge reaches the other's pods.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from kubernetes.client import ApiClient

from lab.datapath import probe
from lab.datapath.service import PORT, SIZE, two_edge_service
from lab.topology import topology_from_env
from liqoshortcut.errors import ExitCode
from tests.integration.datapath import gateway_pod_uid
from tests.integration.snapshots import snapshot

pytestmark = pytest.mark.integration

Cli = Callable[..., subprocess.CompletedProcess[str]]
Clients = Callable[[str], ApiClient]
QUIET = 4096  # what central's node may see while the shortcut carries a transfer (a few ARPs)


def remapped(address: str, own: str, seen: str) -> str:
    """``address`` of the ``own`` CIDR, under ``seen``: Liqo keeps the host bits."""
    own_net, seen_net = ipaddress.ip_network(own), ipaddress.ip_network(seen)
    offset = int(ipaddress.ip_address(address)) - int(own_net.network_address)
    return str(seen_net.network_address + offset)


def test_services_over_a_shortcut_between_overlapping_edges_are_refused_changing_nothing(
    real_datapath: Path, shortcut_cli: Cli, kube: Clients
) -> None:
    before = snapshot(kube)
    routed = shortcut_cli("create", "edge-a", "edge-b", "--services", "all")
    assert routed.returncode == ExitCode.PRECONDITION_FAILED, routed.stderr
    (refusal,) = routed.stderr.splitlines()
    assert refusal.startswith("error: central reaches edge-"), refusal
    assert "(Liqo remapped it)" in refusal
    assert "cannot route Services over a shortcut" in refusal
    assert snapshot(kube) == before


def test_the_shortcut_carries_remapped_pod_traffic_both_ways_and_each_edge_is_told_where(
    real_datapath: Path, shortcut_cli: Cli, kube: Clients, unique_name: str
) -> None:
    shared = topology_from_env().cluster("edge-a").pod_cidr
    clients = {name: kube(name) for name in ("central", "edge-a", "edge-b")}
    with two_edge_service(real_datapath, unique_name, clients=clients) as web:
        created = shortcut_cli("create", "edge-a", "edge-b")
        try:
            assert created.returncode == ExitCode.SUCCESS, created.stderr
            (shortcut,) = json.loads(shortcut_cli("list", "-o", "json").stdout)["shortcuts"]
            # edge-b serves (the second edge, as liqoctl's default), edge-a dials.
            seen = {
                "edge-a": shortcut["client"]["peerPodCIDRs"],
                "edge-b": shortcut["server"]["peerPodCIDRs"],
            }
            assert all(len(cidrs) == 1 and cidrs != [shared] for cidrs in seen.values()), seen
            addresses = [
                f"a client on {client} reaches {server}'s pods over shortcut edge-a--edge-b at "
                f"{seen[client][0]} ({server}'s pod CIDR {shared} as {client}'s Liqo remapped it)"
                for client, server in (("edge-a", "edge-b"), ("edge-b", "edge-a"))
            ]
            assert created.stdout.splitlines() == ["shortcut edge-a--edge-b connected", *addresses]
            explained = shortcut_cli("explain", web.app, "-n", unique_name)
            assert explained.returncode == ExitCode.SUCCESS, explained.stderr
            told = [line.strip() for line in explained.stdout.splitlines() if "addresses:" in line]
            assert told == [f"addresses: {line}" for line in addresses]
            figures = []
            for client, server in (("edge-a", "edge-b"), ("edge-b", "edge-a")):
                target = remapped(web.placed[server].ip, shared, seen[client][0])
                tunnel = gateway_pod_uid(kube, client, server)
                tunnel_before = probe.tunnel_bytes(real_datapath, tunnel)
                central_before = probe.node_bytes(real_datapath, "central")
                done = probe.transfer(web.placed[client].netns, target, PORT, SIZE)
                through_central = probe.node_bytes(real_datapath, "central") - central_before
                carried = probe.tunnel_bytes(real_datapath, tunnel) - tunnel_before
                assert done.received == SIZE, (client, target)
                assert through_central <= QUIET, f"{client}: central's node saw {through_central}"
                assert carried >= SIZE, f"{client}: the shortcut's tunnel carried {carried} B"
                figures.append(
                    f"{client} -> {server} at {target}: {done.seconds:.2f}s, tunnel {carried} B, "
                    f"central's node {through_central} B"
                )
            print("\n" + "\n".join(figures))
        finally:
            deleted = shortcut_cli("delete", "edge-a", "edge-b", "-y", "-q")
        assert deleted.returncode == ExitCode.SUCCESS, deleted.stderr
