"""How a command reaches its clusters: kubeconfig files loaded, central's client, the edges'
clients within the command's --timeout.

The CLI imports this, never `kube` (an import contract): what it needs of cluster access is
these few calls and the types they return.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from liqoshortcut.kube.clients import Central, Cluster, connect_central, connector
from liqoshortcut.kube.kubeconfig import Kubeconfig, ResolvedContext, load_kubeconfig

__all__ = [
    "Central",
    "Cluster",
    "Kubeconfig",
    "ResolvedContext",
    "central",
    "edge_connector",
    "load",
]


def load(path: Path | None, flag: str) -> Kubeconfig:
    """The kubeconfig at ``path`` (given by ``flag``), else kubectl's (KUBECONFIG, ~/.kube)."""
    return load_kubeconfig(path, flag=flag)


def central(kubeconfig: Kubeconfig, context: str | None) -> Central:
    """Central's client from ``context`` of ``kubeconfig`` (default: its current context)."""
    return connect_central(kubeconfig, context)


def edge_connector(seconds: float) -> Callable[[ResolvedContext, str], Cluster]:
    """Clients for the edges whose exec credential plugins end within ``seconds``."""
    return connector(seconds)
