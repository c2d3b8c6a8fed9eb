"""What the lab's clusters are: names, Liqo roles and network CIDRs.

One small data module so that the process manager, the Liqo baseline and the emulator agree on
the same facts. Pod CIDRs can be overridden (``LAB_POD_CIDRS=central=10.244.0.0/16,edge-a=...``)
to reproduce overlapping-CIDR situations, as every kind cluster has 10.244.0.0/16.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Literal

ClusterRole = Literal["consumer", "provider"]

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


DEFAULT_TOPOLOGY = Topology(
    clusters=(
        ClusterSpec(name="central", role="consumer", pod_cidr="10.241.0.0/16"),
        ClusterSpec(name="edge-a", role="provider", pod_cidr="10.242.0.0/16"),
        ClusterSpec(name="edge-b", role="provider", pod_cidr="10.243.0.0/16"),
    )
)


def parse_pod_cidr_overrides(value: str) -> dict[str, str]:
    """Parse ``name=cidr,name=cidr`` into a mapping; an empty string gives no overrides."""
    overrides: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        name, sep, cidr = item.partition("=")
        if not sep or not name or not cidr:
            raise ValueError(f"LAB_POD_CIDRS item {item!r} is not name=cidr")
        overrides[name] = cidr
    return overrides


def topology_from_env(env: dict[str, str] | None = None) -> Topology:
    """The default topology with ``LAB_POD_CIDRS`` applied."""
    source = os.environ if env is None else env
    overrides = parse_pod_cidr_overrides(source.get("LAB_POD_CIDRS", ""))
    unknown = set(overrides) - {c.name for c in DEFAULT_TOPOLOGY.clusters}
    if unknown:
        raise ValueError(f"LAB_POD_CIDRS names unknown clusters: {', '.join(sorted(unknown))}")
    return Topology(
        clusters=tuple(
            replace(c, pod_cidr=overrides.get(c.name, c.pod_cidr))
            for c in DEFAULT_TOPOLOGY.clusters
        )
    )
