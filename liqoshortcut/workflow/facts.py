"""The cluster-wide facts a preflight reads: read afresh, or shared with passes just before.

The CLI reads each fact once per run. The operator runs a preflight in every pass of every
shortcut, and many shortcuts share an edge: one cluster's ID, Liqo version, CIDRs and gateway
templates, and central's list of providers, change rarely, so passes within a few seconds of
each other share one read, as controllers share an informer's cache. What a pass is about to
change or must see fresh (its own tenant namespaces, its objects, the Connections) is never
read from here.

Reads are kept per client, not per server: credentials that lack a right still fail on their
own next read; and a failed read is not kept.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Hashable, Mapping
from types import MappingProxyType
from typing import TypeVar, cast

from kubernetes.client import ApiClient

from liqoshortcut.kube import discovery
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.discovery import CentralFacts, ClusterFacts, Provider

T = TypeVar("T")


class Facts:
    """Each fact read from its cluster when asked, as the CLI needs it."""

    def central(self, central: Cluster, liqo_namespace: str) -> CentralFacts:
        return self.remember(
            central,
            ("central", liqo_namespace),
            lambda: discovery.discover_central(central, liqo_namespace=liqo_namespace),
        )

    def providers(self, central: Cluster) -> tuple[Provider, ...]:
        return self.remember(central, ("providers",), lambda: tuple(discovery.providers(central)))

    def edge(self, cluster: Cluster, liqo_namespace: str) -> ClusterFacts:
        return self.remember(
            cluster,
            ("edge", liqo_namespace),
            lambda: discovery.discover(cluster, liqo_namespace=liqo_namespace),
        )

    def cluster_id(self, cluster: Cluster, liqo_namespace: str) -> str:
        return self.remember(
            cluster,
            ("cluster ID", liqo_namespace),
            lambda: discovery.cluster_id_of(
                cluster, discovery.cluster_id_configmap(cluster, liqo_namespace)
            ),
        )

    def pod_cidr_remaps(self, central: Cluster, provider: Provider) -> Mapping[str, str]:
        return self.remember(
            central,
            ("remaps", provider),
            lambda: MappingProxyType(discovery.central_pod_cidr_remaps(central, provider)),
        )

    def remember(self, cluster: Cluster, key: Hashable, read: Callable[[], T]) -> T:
        """What ``read`` returns about ``cluster``; this class reads every time."""
        del cluster, key
        return read()


class RecentFacts(Facts):
    """Facts read at most ``max_age`` seconds ago through the same client, else read again."""

    def __init__(self, max_age: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        # Per client: a client dropped from the operator's cache takes its facts with it.
        self._kept: weakref.WeakKeyDictionary[ApiClient, dict[Hashable, tuple[float, object]]]
        self._kept = weakref.WeakKeyDictionary()

    def remember(self, cluster: Cluster, key: Hashable, read: Callable[[], T]) -> T:
        now = self._clock()
        with self._lock:
            kept = self._kept.setdefault(cluster.api, {}).get(key)
        if kept is not None and now - kept[0] <= self._max_age:
            return cast(T, kept[1])
        value = read()  # outside the lock: passes over other clusters do not wait for it
        with self._lock:
            self._kept.setdefault(cluster.api, {})[key] = (now, value)
        return value
