"""The WAN: one router namespace every gateway namespace hangs off, addressed from TEST-NET.

A server gateway is reached on its Service's LoadBalancer IP (TEST-NET-3, 203.0.113.0/24, eight
per cluster, handed out by the emulator's load balancer); a client gateway gets an address of its
own from TEST-NET-2 (198.51.100.0/24) to dial from. The router answers on TEST-NET-1's 192.0.2.1
on every link and routes each address to its gateway, so every peering's UDP really crosses it.

Distances: a packet between an edge and central waits ``EDGE_TO_CENTRAL_MS`` in the router, one
between two edges ``EDGE_TO_EDGE_MS`` (a delay line per value, ``delay``; policy rules per pair of
gateways send each path through its line), so a path through central takes twice the WAN of a
shortcut and more: 80 ms against 10 ms of round trip.
"""

from __future__ import annotations

import ipaddress
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lab.datapath import netns

ROUTER_ADDRESS = "192.0.2.1"
LOAD_BALANCER_POOL = ipaddress.IPv4Network("203.0.113.0/24")
CLIENT_POOL = ipaddress.IPv4Network("198.51.100.0/24")
LOAD_BALANCER_IPS_PER_CLUSTER = 8
EDGE_TO_CENTRAL_MS = 20
EDGE_TO_EDGE_MS = 5
REPO_ROOT = Path(__file__).resolve().parents[2]


def one_way_delay(cluster: str, other: str, consumer: str) -> int:
    """Milliseconds a packet between gateways of ``cluster`` and ``other`` waits in the WAN."""
    return EDGE_TO_CENTRAL_MS if consumer in (cluster, other) else EDGE_TO_EDGE_MS


def _table(milliseconds: int) -> str:
    return str(1000 + milliseconds)


@dataclass(frozen=True)
class Link:
    cluster: str
    address: str


def load_balancer_ips(cluster_index: int) -> list[str]:
    """The LoadBalancer IPs of the ``cluster_index``-th cluster (0 is central)."""
    first = LOAD_BALANCER_IPS_PER_CLUSTER * cluster_index
    hosts = range(max(first, 1), first + LOAD_BALANCER_IPS_PER_CLUSTER)
    if first + LOAD_BALANCER_IPS_PER_CLUSTER > 255:
        raise ValueError(f"no TEST-NET-3 LoadBalancer IPs for cluster {cluster_index}")
    return [str(LOAD_BALANCER_POOL.network_address + host) for host in hosts]


class Wan:
    """The router namespace, its delay lines and the links of the gateways attached to it."""

    def __init__(self, lab_prefix: str, consumer: str, log_dir: Path) -> None:
        self.namespace = f"{lab_prefix}-wan"
        self.consumer = consumer
        self.log_dir = log_dir
        self._clients_in_use: set[str] = set()
        self._links: dict[str, Link] = {}
        self._rules: dict[str, list[tuple[str, str, str]]] = {}  # by link: (iif, to, table)
        self._lines: list[subprocess.Popen[bytes]] = []

    def ensure(self) -> None:
        netns.add(self.namespace)
        netns.sysctl(
            self.namespace,
            "net.ipv4.ip_forward=1",
            "net.ipv4.conf.all.rp_filter=0",
            "net.ipv4.conf.default.rp_filter=0",
        )
        for milliseconds in sorted({EDGE_TO_CENTRAL_MS, EDGE_TO_EDGE_MS}):
            self._start_line(milliseconds)

    def _start_line(self, milliseconds: int) -> None:
        device = f"dly{milliseconds}"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"{device}.log").open("ab") as log:
            self._lines.append(
                subprocess.Popen(
                    ["ip", "netns", "exec", self.namespace, sys.executable, "-m",
                     "lab.datapath.delay", device, str(milliseconds)],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=REPO_ROOT,
                )
            )  # fmt: skip
        deadline = time.monotonic() + 10
        while device not in netns.ip("link", "show", netns=self.namespace):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {milliseconds} ms delay line never opened {device}")
            time.sleep(0.05)
        netns.ip("link", "set", device, "up", netns=self.namespace)
        netns.ip(
            "route", "add", "default", "dev", device, "table", _table(milliseconds),
            netns=self.namespace,
        )  # fmt: skip

    def close(self) -> None:
        for line in self._lines:
            line.terminate()
            line.wait(timeout=5)
        self._lines.clear()

    def client_address(self) -> str:
        """A TEST-NET-2 address no attached client uses."""
        for host in CLIENT_POOL.hosts():
            if str(host) not in self._clients_in_use:
                self._clients_in_use.add(str(host))
                return str(host)
        raise ValueError("TEST-NET-2 client addresses exhausted")

    def release(self, address: str) -> None:
        self._clients_in_use.discard(address)

    def attach(
        self, namespace: str, link: str, wan_address: str, pod_ip: str, cluster: str
    ) -> None:
        """Give ``namespace`` an ``eth0`` on the WAN (the router side is ``link``) holding its WAN
        address and its pod IP, its default route via the router from the WAN address, and its
        distance to every other gateway."""
        router = self.namespace
        netns.ip(
            "link",
            "add",
            link,
            "netns",
            router,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            namespace,
        )
        netns.ip("addr", "add", f"{ROUTER_ADDRESS}/32", "dev", link, netns=router)
        netns.ip("link", "set", link, "up", netns=router)
        netns.ip("route", "add", f"{wan_address}/32", "dev", link, netns=router)
        netns.ip("addr", "add", f"{wan_address}/32", "dev", "eth0", netns=namespace)
        if pod_ip and pod_ip != wan_address:
            netns.ip("addr", "add", f"{pod_ip}/32", "dev", "eth0", netns=namespace)
        netns.ip("link", "set", "eth0", "up", netns=namespace)
        netns.ip("route", "add", ROUTER_ADDRESS, "dev", "eth0", "scope", "link", netns=namespace)
        netns.ip(
            "route",
            "add",
            "default",
            "via",
            ROUTER_ADDRESS,
            "dev",
            "eth0",
            "src",
            wan_address,
            netns=namespace,
        )
        self._delay_toward_others(link, Link(cluster, wan_address))

    def _delay_toward_others(self, link: str, new: Link) -> None:
        self._rules[link] = []
        for other_link, other in self._links.items():
            table = _table(one_way_delay(new.cluster, other.cluster, self.consumer))
            for rule in ((link, other.address, table), (other_link, new.address, table)):
                netns.ip(
                    "rule", "add", "iif", rule[0], "to", f"{rule[1]}/32", "lookup", rule[2],
                    netns=self.namespace,
                )  # fmt: skip
                self._rules[link].append(rule)
        self._links[link] = new

    def detach(self, link: str) -> None:
        """Forget ``link``'s rules (its veth goes with the gateway's namespace)."""
        gone = self._links.pop(link, None)
        for iif, to, table in self._rules.pop(link, []):
            netns.ip(
                "rule", "del", "iif", iif, "to", f"{to}/32", "lookup", table,
                netns=self.namespace, check=False,
            )  # fmt: skip
        if gone is None:
            return
        for other_link, rules in self._rules.items():
            kept = []
            for rule in rules:
                if gone.address == rule[1] or rule[0] == link:
                    netns.ip(
                        "rule", "del", "iif", rule[0], "to", f"{rule[1]}/32", "lookup", rule[2],
                        netns=self.namespace, check=False,
                    )  # fmt: skip
                else:
                    kept.append(rule)
            self._rules[other_link] = kept
