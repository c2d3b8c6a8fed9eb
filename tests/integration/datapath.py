"""What the real data path's tests share beyond lab/datapath: reading the gateway pods'
namespaces and processes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kubernetes.client import ApiClient

from lab.datapath import netns
from lab.emulator import kube as k
from lab.emulator.kube import Kube

Clients = Callable[[str], ApiClient]


def gateway_pod_uid(kube: Clients, cluster: str, remote: str) -> str:
    """The UID of ``cluster``'s gateway pod toward ``remote``."""
    listed = Kube("", cluster, api=kube(cluster)).list(
        k.PODS, f"liqo-tenant-{remote}", "networking.liqo.io/component=gateway"
    )
    (pod,) = listed
    return str(pod["metadata"]["uid"])


def gateway_namespace(datapath: Path, kube: Clients, cluster: str, remote: str) -> str:
    return f"{netns.prefix(datapath)}-{gateway_pod_uid(kube, cluster, remote)[:8]}"


def process_named(namespace: str, binary: str) -> int:
    """The pid of Liqo's ``binary`` running in ``namespace``."""
    (pid,) = netns.running(namespace, binary)
    return pid
