"""What the lab's clusters are: names, Liqo roles and network CIDRs.

One small data module so that the process manager, the Liqo baseline and the emulator agree on
the same facts. Pod CIDRs can be overridden (``LAB_POD_CIDRS=central=10.244.0.0/16,edge-a=...``)
to reproduce overlapping-CIDR situations, as every kind cluster has 10.244.0.0/16, and the number
of edges raised (``LAB_EDGES=15``: edge-a to edge-o) for the operator's scale benchmark.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from dataclasses import dataclass, replace
from typing import Literal

ClusterRole = Literal["consumer", "provider"]
# Who plays Liqo's networking controllers: Liqo's own controller-manager and IPAM as processes
# ("real"), or the emulator's controller half ("emulated": faster, and the only way to inject
# controller-side faults). The emulator plays the parts with no runtime here in both.
LiqoMode = Literal["emulated", "real"]
LIQO_MODES: tuple[LiqoMode, ...] = ("emulated", "real")

# Who carries the gateway pods' packets: Liqo's own gateway binaries in network namespaces
# ("real", the default, lab/datapath; needs root), or the emulator, which writes their
# Connections ("emulated": no root needed, and the only way to pin a latency or fail a
# Connection by a switch).
DatapathMode = Literal["emulated", "real"]
DATAPATH_MODES: tuple[DatapathMode, ...] = ("emulated", "real")

LIQO_NAMESPACE = "liqo"
LIQO_VERSION = "v1.2.0"
KUBERNETES_VERSION = "v1.35.4"
ETCD_VERSION = "v3.6.16"
# Liqo's chart defaults: each cluster's external CIDR is 10.70.0.0/16 and its internal CIDR
# 10.80.0.0/16; they overlap on every cluster by design and get remapped by Liqo's IPAM.
DEFAULT_EXTERNAL_CIDR = "10.70.0.0/16"
DEFAULT_INTERNAL_CIDR = "10.80.0.0/16"
DEFAULT_SERVICE_CIDR = "10.96.0.0/12"


@dataclass(frozen=True)
class ClusterSpec:
    """One lab cluster; ``name`` is both its kubeconfig context and its Liqo cluster ID."""

    name: str
    role: ClusterRole
    pod_cidr: str
    external_cidr: str = DEFAULT_EXTERNAL_CIDR
    internal_cidr: str = DEFAULT_INTERNAL_CIDR
    service_cidr: str = DEFAULT_SERVICE_CIDR


@dataclass(frozen=True)
class Topology:
    """The lab: one consumer (central) peered with every provider (the edges)."""

    clusters: tuple[ClusterSpec, ...]

    @property
    def consumer(self) -> ClusterSpec:
        return next(c for c in self.clusters if c.role == "consumer")

    @property
    def providers(self) -> tuple[ClusterSpec, ...]:
        return tuple(c for c in self.clusters if c.role == "provider")

    def cluster(self, name: str) -> ClusterSpec:
        for spec in self.clusters:
            if spec.name == name:
                return spec
        raise KeyError(f"no lab cluster named {name!r}")


# edge-a and edge-b get the shortcut in traffic tests; edge-c is the edge without one.
DEFAULT_EDGES = 3
MAX_EDGES = 26  # edge-a..edge-z


def _edge_pod_cidr(index: int) -> str:
    """10.242-10.254.0.0/16 for the first 13 edges, 10.213-10.225.0.0/16 after: all distinct and
    clear of Liqo's external (10.70) and internal (10.80) CIDRs and the services' 10.96.0.0/12."""
    return f"10.{242 + index if index < 13 else 200 + index}.0.0/16"


def with_edges(count: int) -> Topology:
    """Central and ``count`` edges named edge-a, edge-b, ..., each with its own pod CIDR."""
    if not 1 <= count <= MAX_EDGES:
        raise ValueError(f"LAB_EDGES must be between 1 and {MAX_EDGES}, not {count}")
    edges = tuple(
        ClusterSpec(name=f"edge-{chr(ord('a') + i)}", role="provider", pod_cidr=_edge_pod_cidr(i))
        for i in range(count)
    )
    return Topology(
        clusters=(ClusterSpec(name="central", role="consumer", pod_cidr="10.241.0.0/16"), *edges)
    )


DEFAULT_TOPOLOGY = with_edges(DEFAULT_EDGES)


def parse_pod_cidr_overrides(value: str) -> dict[str, str]:
    """Parse ``name=cidr,name=cidr`` into a mapping; an empty string gives no overrides."""
    overrides: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        name, sep, cidr = item.partition("=")
        if not sep or not name or not cidr:
            raise ValueError(f"LAB_POD_CIDRS item {item!r} is not name=cidr")
        overrides[name] = cidr
    return overrides


def overlapping_edges(topology: Topology) -> bool:
    """Whether edge-a and edge-b share pod addresses (``LAB_POD_CIDRS``): what Liqo remaps."""
    cidrs = [
        ipaddress.ip_network(spec.pod_cidr)
        for spec in topology.clusters
        if spec.name in ("edge-a", "edge-b")
    ]
    return len(cidrs) == 2 and cidrs[0].overlaps(cidrs[1])


def topology_from_env(env: dict[str, str] | None = None) -> Topology:
    """The topology of ``LAB_EDGES`` edges (default 3) with ``LAB_POD_CIDRS`` applied."""
    source = os.environ if env is None else env
    edges = source.get("LAB_EDGES", "") or str(DEFAULT_EDGES)
    if not edges.isdigit():
        raise ValueError(f"LAB_EDGES must be a number of edges, not {edges!r}")
    base = with_edges(int(edges))
    overrides = parse_pod_cidr_overrides(source.get("LAB_POD_CIDRS", ""))
    unknown = set(overrides) - {c.name for c in base.clusters}
    if unknown:
        raise ValueError(f"LAB_POD_CIDRS names unknown clusters: {', '.join(sorted(unknown))}")
    return Topology(
        clusters=tuple(
            replace(c, pod_cidr=overrides.get(c.name, c.pod_cidr)) for c in base.clusters
        )
    )


def liqo_mode_from_env(env: dict[str, str] | None = None) -> LiqoMode:
    """``LAB_LIQO``: ``real`` (the default: Liqo's own controllers) or ``emulated`` (the fast
    mode and cross-check, where the emulator plays them too)."""
    source = os.environ if env is None else env
    value = source.get("LAB_LIQO", "") or "real"
    for mode in LIQO_MODES:
        if value == mode:
            return mode
    raise ValueError(f"LAB_LIQO must be one of {', '.join(LIQO_MODES)}, not {value!r}")


def datapath_mode_from_env(env: dict[str, str] | None = None) -> DatapathMode:
    """``LAB_DATAPATH``: ``real`` (the default: Liqo's gateways carry packets) or ``emulated``
    (the emulator writes the gateways' Connections).

    The real data path needs Liqo's controllers (``LAB_LIQO=real``) and root (network namespaces,
    TUN): without root the lab says so in one line and runs the emulated one.
    """
    source = os.environ if env is None else env
    value = source.get("LAB_DATAPATH", "") or "real"
    if value not in DATAPATH_MODES:
        raise ValueError(f"LAB_DATAPATH must be one of {', '.join(DATAPATH_MODES)}, not {value!r}")
    if value == "real" and os.geteuid() != 0:
        print(
            "lab: LAB_DATAPATH=real needs root (network namespaces, TUN): "
            "running the emulated data path",
            file=sys.stderr,
        )
        return "emulated"
    return "real" if value == "real" else "emulated"
