"""Reading the real data path from outside: byte counters, transfers and round trips.

Counters are the interfaces' own (``ip -s``); every namespace of the lab has IPv6 off, so they
count IPv4 and ARP only, and a node's Liqo interfaces move only with pods' traffic (Liqo's own
pings run gateway to gateway, inside the tunnels).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from lab.datapath import netns, pods

REPO_ROOT = Path(__file__).resolve().parents[2]


def link_bytes(namespace: str, prefix: str = "", direction: str = "rx") -> int:
    """Bytes received (``rx``) or sent (``tx``) by the interfaces of ``namespace`` whose names
    start with ``prefix``."""
    links = json.loads(netns.ip("-s", "-j", "link", "show", netns=namespace))
    return sum(
        int(link["stats64"][direction]["bytes"])
        for link in links
        if link["ifname"].startswith(prefix) and link["ifname"] != "lo"
    )


def node_bytes(lab_dir: Path, cluster: str) -> int:
    """What crossed ``cluster``'s node between its gateways and pods: its Liqo interfaces."""
    return link_bytes(pods.node_namespace(lab_dir, cluster), "liqo.")


def tunnel_bytes(lab_dir: Path, pod_uid: str) -> int:
    """What the gateway pod sent into its WireGuard device (``liqo-tunnel``)."""
    return link_bytes(f"{netns.prefix(lab_dir)}-{pod_uid[:8]}", "liqo-tunnel", "tx")


def _traffic(namespace: str, *args: str, timeout: float) -> dict[str, object]:
    done = subprocess.run(
        ["ip", "netns", "exec", namespace, sys.executable, "-m", "lab.datapath.traffic", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"traffic {' '.join(args)} in {namespace}: {done.stderr.strip()}")
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


@dataclass(frozen=True)
class Transfer:
    sent: int
    received: int
    seconds: float


def transfer(namespace: str, address: str, port: int, size: int, timeout: float = 60) -> Transfer:
    """``size`` bytes over TCP from the pod in ``namespace`` to ``address:port``."""
    answer = _traffic(
        namespace, "send", address, str(port), str(size), "--timeout", str(timeout),
        timeout=timeout + 15,
    )  # fmt: skip
    return Transfer(size, int(str(answer["bytes"])), float(str(answer["seconds"])))


def round_trips(namespace: str, address: str, port: int, count: int = 20) -> list[float]:
    """``count`` one-byte TCP round trips, in milliseconds."""
    answer = _traffic(namespace, "rtt", address, str(port), str(count), timeout=60)
    samples = answer["ms"]
    assert isinstance(samples, list)
    return [float(sample) for sample in samples]
