"""Whether a shortcut's traffic takes the direct path now: health with hysteresis, and Auto's
latency comparison. Pure: samples come in with the operator's monotonic clock.

A Connection is healthy when its ``status.value`` is Connected and its latency timestamp keeps
advancing: Liqo's gateway rewrites it every ``--ping-update-status-interval`` (10 s by default)
while pongs arrive, and a gateway that died or hung leaves a Connected status behind that nobody
refreshes. So a timestamp is stale once it has not changed for `HealthSettings.stale_after` of the
operator's own clock (a first sighting is judged by its age on the wall clock instead, so a
restarted operator does not take a long-dead tunnel for a live one).

The fall back to the hub is immediate, at the first unhealthy sample; the return needs
``healthy_samples`` healthy samples in a row, so a flapping tunnel does not flap the Services.
Auto goes direct only when the direct latency (the worse of the two edges' measurements of the
tunnel) is clearly below the hub's (central's Connections to both edges, summed) for
``faster_samples`` samples in a row, and back once it is not below it for as many.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from liqoshortcut.core.connection import ConnectionSeen
from liqoshortcut.core.durations import seconds as latency_seconds
from liqoshortcut.core.reasons import HubWhy
from liqoshortcut.core.traffic import Path, PathMode

CLEARLY_FASTER: Final = 0.8  # Auto: direct is clearly faster below 80% of the hub's latency


@dataclass(frozen=True)
class HealthSettings:
    stale_after: float = 30.0  # seconds without a new latency timestamp: three Liqo refreshes
    healthy_samples: int = 3  # consecutive healthy samples before traffic returns
    faster_samples: int = 3  # Auto: consecutive samples before the path changes


@dataclass(frozen=True)
class Sample:
    """One health check: each edge's Connection to the other, central's to each edge (None where
    absent), the operator's monotonic clock and the wall clock."""

    direct: tuple[ConnectionSeen | None, ConnectionSeen | None]
    hub: tuple[ConnectionSeen | None, ConnectionSeen | None]
    at: float
    wall: datetime
    edges: tuple[str, str] = ("the server edge", "the client edge")  # for messages
    problem: str | None = None  # the Connections could not be read: why


@dataclass(frozen=True)
class PathState:
    direct: bool
    why: HubWhy | None  # None when direct
    message: str
    healthy: bool
    direct_latency: float | None  # seconds
    hub_latency: float | None

    @property
    def path(self) -> Path:
        return Path.DIRECT if self.direct else Path.HUB


@dataclass
class _Freshness:
    """When (operator clock) a Connection's latency timestamp was last seen to change."""

    stamp: str | None = None
    changed_at: float | None = None

    def fresh(self, seen: ConnectionSeen, at: float, wall: datetime, stale_after: float) -> bool:
        if seen.latency_time != self.stamp:
            first = self.stamp is None and self.changed_at is None
            self.stamp = seen.latency_time
            self.changed_at = at - _age(seen.latency_time, wall) if first else at
        return self.changed_at is not None and at - self.changed_at <= stale_after


def _age(stamp: str | None, wall: datetime) -> float:
    if stamp is None:
        return float("inf")
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return float("inf")
    return max(0.0, (wall - when).total_seconds())


@dataclass
class PathTracker:
    """One shortcut's path over time; ``direct`` is where it starts (its last known path, so an
    operator restart does not move traffic that was fine)."""

    mode: PathMode
    settings: HealthSettings = field(default_factory=HealthSettings)
    direct: bool = False
    _fresh: tuple[_Freshness, _Freshness] = field(
        default_factory=lambda: (_Freshness(), _Freshness())
    )
    _healthy_run: int = 0
    _faster_run: int = 0
    _slower_run: int = 0

    def observe(self, sample: Sample) -> PathState:
        healthy, sick = self._health(sample)
        direct_latency = _worst([c.latency if c else None for c in sample.direct])
        hub_latency = _sum([c.latency if c else None for c in sample.hub])
        self._healthy_run = self._healthy_run + 1 if healthy else 0
        if self.mode == PathMode.HUB:
            self.direct = False
            return self._state(
                HubWhy.POLICY, "traffic.path is Hub", healthy, direct_latency, hub_latency
            )
        if not healthy:
            self.direct = False
            self._faster_run = self._slower_run = 0
            return self._state(HubWhy.UNHEALTHY, sick, healthy, direct_latency, hub_latency)
        needed = self.settings.healthy_samples
        if not self.direct and self._healthy_run < needed:
            return self._state(
                HubWhy.RECOVERING,
                f"healthy, waiting for {needed} healthy checks in a row",
                healthy,
                direct_latency,
                hub_latency,
            )
        if self.mode == PathMode.DIRECT:
            self.direct = True
            return self._state(None, "healthy", healthy, direct_latency, hub_latency)
        return self._auto(healthy, direct_latency, hub_latency)

    def _auto(self, healthy: bool, direct: float | None, hub: float | None) -> PathState:
        if direct is None or hub is None:
            self._faster_run = self._slower_run = 0
            # Unmeasured keeps the path it has: no figure is no reason to move traffic.
            why = None if self.direct else HubWhy.UNMEASURED
            return self._state(why, "a latency is not measured yet", healthy, direct, hub)
        faster = direct < hub * CLEARLY_FASTER
        self._faster_run = self._faster_run + 1 if faster else 0
        self._slower_run = 0 if direct < hub else self._slower_run + 1
        runs = self.settings.faster_samples
        if not self.direct and self._faster_run >= runs:
            self.direct = True
        elif self.direct and self._slower_run >= runs:
            self.direct = False
        # No figures in the message: they move at every sample, the decision does not.
        if self.direct:
            message = "Auto: the direct path measures clearly faster than the hub's"
            return self._state(None, message, healthy, direct, hub)
        message = f"Auto: the direct path is not clearly faster than the hub's ({runs} checks)"
        return self._state(HubWhy.HUB_FASTER, message, healthy, direct, hub)

    def _health(self, sample: Sample) -> tuple[bool, str]:
        if sample.problem is not None:
            return (False, sample.problem)
        problems = []
        for name, seen, fresh in zip(sample.edges, sample.direct, self._fresh, strict=True):
            if seen is None or seen.state is None:
                problems.append(f"{name} has no Connection")
            elif seen.state != "Connected":
                problems.append(f"{name}'s Connection is {seen.state}")
            elif not fresh.fresh(seen, sample.at, sample.wall, self.settings.stale_after):
                problems.append(
                    f"{name}'s Connection latency has not been refreshed for "
                    f"{self.settings.stale_after:g}s"
                )
        return (not problems, "; ".join(problems))

    def _state(
        self,
        why: HubWhy | None,
        message: str,
        healthy: bool,
        direct_latency: float | None,
        hub_latency: float | None,
    ) -> PathState:
        return PathState(self.direct, why, message, healthy, direct_latency, hub_latency)


def _worst(latencies: list[str | None]) -> float | None:
    values = [latency_seconds(v) for v in latencies]
    return None if any(v is None for v in values) else max(v for v in values if v is not None)


def _sum(latencies: list[str | None]) -> float | None:
    values = [latency_seconds(v) for v in latencies]
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)
