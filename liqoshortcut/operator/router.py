"""The traffic router: every few seconds, each shortcut's health, then central's Services.

One thread for the whole operator, beside kopf's handlers, because a Service's annotation
depends on every shortcut between the edges that host its endpoints, not on one resource. A
round samples both edges' Connections of every shortcut a pass has made (and central's own
Connections, the hub path, once), feeds each shortcut's `PathTracker`, decides every Service
(`core.routing`), patches the annotations that differ, and writes each shortcut's part of the
status (path, routed Services, the decision and its figures, DirectPathActive) when it changed,
with an Event when DirectPathActive turns. A shortcut no pass has reached yet in this process
(the operator just started) counts as its status last said, so a restart moves no traffic.

Rounds run every `health_interval` seconds, apart from the kopf passes (every resync), so that a
dead tunnel takes the Services back to the hub within seconds, not a resync later.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from liqoshortcut.core.connection import ConnectionSeen
from liqoshortcut.core.observed import status_patch, traffic_status, transitions
from liqoshortcut.core.pathhealth import HealthSettings, PathState, PathTracker, Sample
from liqoshortcut.core.plan import Side
from liqoshortcut.core.routing import (
    ShortcutView,
    changes,
    resource_key,
    routed_by,
    view_of,
)
from liqoshortcut.core.traffic import Path, TrafficPolicy
from liqoshortcut.errors import ShortcutError
from liqoshortcut.kube import events, objects, traffic
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.resources import VIRTUAL_NODE_SHORTCUT
from liqoshortcut.operator.reconcile import utc_now
from liqoshortcut.workflow.health import connections
from liqoshortcut.workflow.preflight import Preflight
from liqoshortcut.workflow.routing import refusing_edges

log = logging.getLogger("liqoshortcut.router")

DEFAULT_HEALTH_INTERVAL: Final = 5.0  # a dead tunnel is off the Services' path in 5-10 s


@dataclass
class _Tracked:
    """A shortcut a pass has made: where to read its Connections, and its path over time."""

    key: str
    preflight: Preflight
    policy: TrafficPolicy
    tracker: PathTracker
    refusing: frozenset[str] = frozenset()
    state: PathState | None = None

    def view(self) -> ShortcutView | None:
        if self.state is None:
            return None
        return ShortcutView(
            key=self.key,
            edges=frozenset(edge.cluster_id for edge in self.preflight.plan.edges.values()),
            policy=self.policy,
            direct=self.state.direct,
            hub_reason=self.state.message,
            refusing=self.refusing,
        )


@dataclass
class Router:
    central: Cluster
    namespaces: tuple[str, ...]
    settings: HealthSettings = field(default_factory=HealthSettings)
    interval: float = DEFAULT_HEALTH_INTERVAL
    monotonic: Callable[[], float] = time.monotonic
    now: Callable[[], datetime] = utc_now
    _tracked: dict[str, _Tracked] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)  # over _tracked
    _rounds: threading.Lock = field(default_factory=threading.Lock)  # one round at a time

    def track(self, resource: Mapping[str, Any], preflight: Preflight) -> None:
        """Check this shortcut from the next round on (again: its spec may have changed)."""
        metadata = resource["metadata"]
        uid = str(metadata.get("uid"))
        policy = preflight.spec.traffic
        with self._lock:
            known = self._tracked.get(uid)
            if known is not None and known.preflight.plan.edges == preflight.plan.edges:
                known.preflight, known.policy = preflight, policy
                known.tracker.mode = policy.path
                return
        was_direct = ((resource.get("status") or {}).get("traffic") or {}).get("choice")
        tracked = _Tracked(
            key=f"{metadata['namespace']}/{metadata['name']}",
            preflight=preflight,
            policy=policy,
            tracker=PathTracker(policy.path, self.settings, direct=was_direct == Path.DIRECT),
            # read outside the lock: requests to both edges
            refusing=refusing_edges(preflight.plan, preflight.edges, preflight.spec.liqo_namespace),
        )
        with self._lock:
            self._tracked[uid] = tracked

    def release(self, uid: str) -> None:
        """Stop routing over this shortcut now (its teardown is next): a round without it."""
        with self._lock:
            gone = self._tracked.pop(uid, None)
        if gone is not None:
            try:
                self.round(leaving={uid})
            except ShortcutError as error:  # the teardown goes on; the next round catches up
                log.warning("traffic round before the teardown of %s failed: %s", gone.key, error)

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval):
            try:
                self.round()
            except ShortcutError as error:  # central unreachable: the next round tries again
                log.warning("traffic round failed: %s", error)
            except Exception:  # a dead router would leave Services on a dead path
                log.exception("traffic round failed unexpectedly; the next round tries again")

    def round(self, leaving: frozenset[str] | set[str] = frozenset()) -> None:
        """Sample, decide and write; ``leaving`` are shortcuts to count as gone already.

        Rounds run one at a time; `track` and `release` never wait for one's requests.
        """
        with self._rounds:
            resources = [
                r
                for namespace in self.namespaces
                for r in objects.list_objects(self.central, VIRTUAL_NODE_SHORTCUT, namespace)
                if str(r["metadata"].get("uid")) not in leaving
            ]
            live = {str(r["metadata"].get("uid")) for r in resources}
            with self._lock:
                for uid in set(self._tracked) - live:
                    del self._tracked[uid]  # deleted without a teardown here (another replica)
                tracking = dict(self._tracked)
            hub = traffic.hub_connections(self.central)
            views = []
            for resource in resources:
                tracked = tracking.get(str(resource["metadata"].get("uid")))
                if tracked is not None and not resource["metadata"].get("deletionTimestamp"):
                    tracked.state = tracked.tracker.observe(self._sample(tracked, hub))
                view = tracked.view() if tracked is not None else view_of(resource)
                if view is not None:
                    views.append(view)
            services = traffic.service_views(self.central)
            patches, decisions = changes(services, views, owns=resource_key)
            for change in patches:
                traffic.annotate(self.central, change)
                namespace, name = change.service
                log.info("Service %s/%s: %s", namespace, name, "direct" if change.routed else "hub")
            for resource in resources:
                tracked = tracking.get(str(resource["metadata"].get("uid")))
                if tracked is not None and tracked.state is not None:
                    self._write(resource, tracked, routed_by(decisions, tracked.key))

    def _sample(self, tracked: _Tracked, hub: Mapping[str, Any]) -> Sample:
        plan = tracked.preflight.plan
        sides = (Side.SERVER, Side.CLIENT)
        names = tuple(plan.edges[side].name for side in sides)
        hub_side = tuple(hub.get(plan.edges[side].cluster_id) for side in sides)
        direct: tuple[ConnectionSeen | None, ConnectionSeen | None]
        try:
            seen = connections(plan, tracked.preflight.edges)
            direct = (seen[Side.SERVER], seen[Side.CLIENT])
            problem = None
        except ShortcutError as error:
            direct, problem = (None, None), str(error)
        return Sample(
            direct=direct,
            hub=(hub_side[0], hub_side[1]),
            at=self.monotonic(),
            wall=self.now(),
            edges=(names[0], names[1]),
            problem=problem,
        )

    def _write(
        self, resource: Mapping[str, Any], tracked: _Tracked, routed: list[tuple[str, str]]
    ) -> None:
        assert tracked.state is not None
        previous = resource.get("status") or {}
        status = traffic_status(
            previous,
            tracked.state,
            tracked.policy,
            routed,
            self.now(),
            sorted(tracked.refusing),
        )
        patch = status_patch(previous, status)
        if not patch:
            return
        metadata = resource["metadata"]
        try:
            objects.patch_status(
                self.central, VIRTUAL_NODE_SHORTCUT, resource, patch
            )  # at the version read: a pass that wrote since wins, the next round redoes it
        except ShortcutError as error:
            log.info("%s: status not written this round: %s", tracked.key, error)
            return
        for change in transitions(previous, status):
            events.post(
                self.central,
                resource,
                reason=change.reason,
                message=f"{change.type} is {change.status}: {change.message}",
                warning=change.warning,
            )
        log.info("%s: path %s, %d Service(s) routed", metadata["name"], status["path"], len(routed))
