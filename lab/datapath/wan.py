"""The WAN: one router namespace every gateway namespace hangs off, addressed from TEST-NET.

A server gateway is reached on its Service's LoadBalancer IP (TEST-NET-3, 203.0.113.0/24, eight
per cluster, handed out by the emulator's load balancer); a client gateway gets an address of its
own from TEST-NET-2 (198.51.100.0/24) to dial from. The router answers on TEST-NET-1's 192.0.2.1
on every link and routes each address to its gateway, so every peering's UDP really crosses it.
"""

from __future__ import annotations

import ipaddress

from lab.datapath import netns

ROUTER_ADDRESS = "192.0.2.1"
LOAD_BALANCER_POOL = ipaddress.IPv4Network("203.0.113.0/24")
CLIENT_POOL = ipaddress.IPv4Network("198.51.100.0/24")
LOAD_BALANCER_IPS_PER_CLUSTER = 8


def load_balancer_ips(cluster_index: int) -> list[str]:
    """The LoadBalancer IPs of the ``cluster_index``-th cluster (0 is central)."""
    first = LOAD_BALANCER_IPS_PER_CLUSTER * cluster_index
    hosts = range(max(first, 1), first + LOAD_BALANCER_IPS_PER_CLUSTER)
    if first + LOAD_BALANCER_IPS_PER_CLUSTER > 255:
        raise ValueError(f"no TEST-NET-3 LoadBalancer IPs for cluster {cluster_index}")
    return [str(LOAD_BALANCER_POOL.network_address + host) for host in hosts]


class Wan:
    """The router namespace and the links of the gateways attached to it."""

    def __init__(self, lab_prefix: str) -> None:
        self.namespace = f"{lab_prefix}-wan"
        self._clients_in_use: set[str] = set()

    def ensure(self) -> None:
        if netns.exists(self.namespace):
            return
        netns.add(self.namespace)
        netns.sysctl(
            self.namespace,
            "net.ipv4.ip_forward=1",
            "net.ipv4.conf.all.rp_filter=0",
            "net.ipv4.conf.default.rp_filter=0",
        )

    def client_address(self) -> str:
        """A TEST-NET-2 address no attached client uses."""
        for host in CLIENT_POOL.hosts():
            if str(host) not in self._clients_in_use:
                self._clients_in_use.add(str(host))
                return str(host)
        raise ValueError("TEST-NET-2 client addresses exhausted")

    def release(self, address: str) -> None:
        self._clients_in_use.discard(address)

    def attach(self, namespace: str, link: str, wan_address: str, pod_ip: str) -> None:
        """Give ``namespace`` an ``eth0`` on the WAN (the router side is ``link``) holding its WAN
        address and its pod IP, its default route via the router from the WAN address."""
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
