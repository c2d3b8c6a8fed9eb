"""Workload pods on the real data path: a network namespace per pod, plugged into its node.

What a CNI does for a pod: a veth whose pod end is ``eth0`` with the pod's IP, a route to that IP
on the node, and the pod's default route to the node (a link-local next hop, as Calico does).
Liqo routes between nodes and gateways from there. The pod's Kubernetes object is the caller's
(lab/datapath/workloads.py); this module only makes its network, from any root process, named
after the lab so that ``lab down`` sweeps what a crashed test left.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from lab.datapath import netns

NODE_SIDE_ADDRESS = "169.254.1.1"


def node_namespace(lab_dir: Path, cluster: str) -> str:
    return f"{netns.prefix(lab_dir)}-node-{cluster}"


def pod_namespace(lab_dir: Path, cluster: str, name: str) -> str:
    digest = hashlib.sha256(f"{cluster}/{name}".encode()).hexdigest()[:8]
    return f"{netns.prefix(lab_dir)}-pod-{digest}"


def plug(lab_dir: Path, cluster: str, name: str, ip: str) -> str:
    """The pod's namespace with ``ip`` on ``eth0``, reachable from its node; returns its name."""
    node = node_namespace(lab_dir, cluster)
    if not netns.exists(node):
        raise RuntimeError(f"{cluster}'s node has no namespace: is the lab's data path real?")
    pod = pod_namespace(lab_dir, cluster, name)
    node_end = "p" + pod.rsplit("-", 1)[1]
    netns.add(pod)
    netns.ip(
        "link", "add", node_end, "netns", node, "type", "veth", "peer", "name", "eth0",
        "netns", pod,
    )  # fmt: skip
    netns.ip("addr", "add", f"{NODE_SIDE_ADDRESS}/32", "dev", node_end, netns=node)
    netns.ip("link", "set", node_end, "up", netns=node)
    netns.ip("route", "replace", f"{ip}/32", "dev", node_end, netns=node)
    netns.ip("addr", "add", f"{ip}/32", "dev", "eth0", netns=pod)
    netns.ip("link", "set", "eth0", "up", netns=pod)
    netns.ip("route", "add", NODE_SIDE_ADDRESS, "dev", "eth0", "scope", "link", netns=pod)
    netns.ip("route", "add", "default", "via", NODE_SIDE_ADDRESS, "dev", "eth0", netns=pod)
    return pod


def unplug(lab_dir: Path, cluster: str, name: str) -> None:
    """Remove the pod's namespace (the node's end of its veth and route go with it)."""
    netns.delete(pod_namespace(lab_dir, cluster, name))


def start_in(
    namespace: str, argv: list[str], log: Path, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """A process inside the pod (its container), logging to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(
            ["ip", "netns", "exec", namespace, *argv],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
        )
