"""From what one reconcile pass observed to the VirtualNodeShortcut's status, and which changes
deserve an Event. Pure: the clock comes in as ``now``, the previous status as plain data.

Two promises live here. A condition keeps its ``lastTransitionTime`` until its status really
changes, and a Connection's latency is recorded again only when it moves by more than
`LATENCY_CHANGE` and a millisecond, so a steady shortcut computes the status it already has and
the operator writes nothing. ``observedGeneration`` moves only on a pass that converged: a failed
pass says so in its conditions and ``lastError`` and leaves the generation it has not converged
unclaimed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from liqoshortcut.core import durations
from liqoshortcut.core.connection import ConnectionSeen
from liqoshortcut.core.reasons import ConditionReason, HubWhy
from liqoshortcut.core.status import ConditionType
from liqoshortcut.core.traffic import Path, ServiceSelection

if TYPE_CHECKING:
    from liqoshortcut.core.pathhealth import PathState
    from liqoshortcut.core.traffic import TrafficPolicy

Status = dict[str, Any]
TriState = Literal["True", "False", "Unknown"]
# A condition's status, reason and message.
Said = tuple[TriState, ConditionReason | HubWhy, str]

# Liqo's tunnels answer in 0.1-10 ms and jitter from one sample to the next: a move is news worth
# a status write only when it is both more than twofold and more than a millisecond.
LATENCY_CHANGE: Final = 2.0
LATENCY_NOISE_SECONDS: Final = 0.001
# What the traffic router owns in the status; a reconcile pass keeps them as they are.
TRAFFIC_KEYS: Final = ("path", "routedServices", "traffic")
# The reason of a pass that stopped at a wait still within the shortcut's timeout: no error.


@dataclass(frozen=True)
class EdgeSeen:
    name: str
    role: Literal["server", "client"]
    cluster_id: str | None = None
    connection: ConnectionSeen | None = None  # None: not read (the edge was not reached)
    # The CIDRs under which this edge reaches the other edge's pods; None: not learnt this pass.
    peer_pod_cidrs: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Failure:
    """Why a pass did not converge: a CamelCase reason and one line naming the fix."""

    reason: ConditionReason
    message: str
    credentials: bool = False  # the edges' Secrets are at fault: CredentialsValid is False


@dataclass(frozen=True)
class Observation:
    """What one pass saw; ``edges`` empty when it did not get as far as the edges."""

    generation: int
    edges: tuple[EdgeSeen, ...] = ()
    failure: Failure | None = None
    credentials_checked: bool = False  # both Secrets were read and their kubeconfigs worked

    @property
    def connected(self) -> bool:
        return len(self.edges) == 2 and all(
            edge.connection is not None and edge.connection.state == "Connected"
            for edge in self.edges
        )


def status_for(observed: Observation, previous: Mapping[str, Any] | None, now: datetime) -> Status:
    """The status ``observed`` becomes, given the ``previous`` one (``{}`` or None at first)."""
    previous = previous or {}
    old_conditions = {c.get("type"): c for c in previous.get("conditions") or []}
    wanted = _conditions(observed)
    conditions = [
        _condition(kind, *wanted[kind], observed.generation, old_conditions.get(kind), now)
        for kind in wanted
    ]
    if ConditionType.DIRECT_PATH_ACTIVE in old_conditions:  # the router's word
        conditions.append(old_conditions[ConditionType.DIRECT_PATH_ACTIVE])
    status: Status = {"conditions": conditions, "path": Path.HUB}
    status.update({key: previous[key] for key in TRAFFIC_KEYS if key in previous})
    generation = (
        observed.generation if observed.failure is None else previous.get("observedGeneration")
    )
    if generation is not None:
        status["observedGeneration"] = generation
    old_edges = {e.get("name"): e for e in previous.get("edges") or []}
    if observed.edges:
        status["edges"] = [_edge(edge, old_edges.get(edge.name)) for edge in observed.edges]
    elif previous.get("edges"):
        status["edges"] = previous["edges"]  # not reached this time: the last word stands
    if observed.failure is not None and observed.failure.reason != ConditionReason.PROGRESSING:
        status["lastError"] = observed.failure.message
    return status


def traffic_status(
    previous: Mapping[str, Any],
    state: PathState,
    policy: TrafficPolicy,
    routed: Sequence[tuple[str, str]],
    now: datetime,
    refusing: Sequence[str] = (),
) -> Status:
    """The status with the traffic router's part replaced: the path, the routed Services, the
    decision and its figures, and the DirectPathActive condition."""
    status: Status = dict(previous)
    old_traffic = previous.get("traffic") or {}
    traffic: Status = {"mode": policy.path, "choice": state.path, "healthy": state.healthy}
    traffic["reason"] = state.message
    if refusing:
        traffic["refusing"] = sorted(refusing)
    for key, seconds in (
        ("directLatency", state.direct_latency),
        ("hubLatency", state.hub_latency),
    ):
        if seconds is not None:
            shown = f"{seconds * 1000:.3g}ms"
            traffic[key] = old_traffic[key] if not _moved(old_traffic.get(key), shown) else shown
    if routed:
        active: Said = (
            "True",
            ConditionReason.ROUTED,
            f"{len(routed)} Service(s) take the shortcut between the edges",
        )
    elif refusing:
        active = (
            "False",
            ConditionReason.PROVIDER_REFUSES,
            f"{', '.join(sorted(refusing))} runs Liqo with denyDirectConnections",
        )
    elif policy.services == ServiceSelection.NONE:
        active = (
            "False",
            ConditionReason.NO_SERVICE_SELECTED,
            "traffic.services is None: no Service uses it",
        )
    elif state.direct:
        active = (
            "False",
            ConditionReason.NO_SERVICE_ROUTED,
            "no selected Service has endpoints on both edges",
        )
    else:
        assert state.why is not None  # not direct: the tracker says why
        active = ("False", state.why, state.message)
    old_conditions = {c.get("type"): c for c in previous.get("conditions") or []}
    condition = _condition(
        ConditionType.DIRECT_PATH_ACTIVE,
        *active,
        int(previous.get("observedGeneration") or 0),
        old_conditions.get(ConditionType.DIRECT_PATH_ACTIVE),
        now,
    )
    condition.pop("observedGeneration")  # the router acts on health, not on a spec generation
    status["conditions"] = [
        *(c for c in previous.get("conditions") or [] if c.get("type") != condition["type"]),
        condition,
    ]
    status["path"] = Path.DIRECT if routed else Path.HUB
    status["routedServices"] = [{"namespace": ns, "name": name} for ns, name in routed]
    status["traffic"] = traffic
    return status


def status_patch(previous: Mapping[str, Any] | None, status: Status) -> Status:
    """A JSON merge patch from ``previous`` to ``status``: empty when nothing changed."""
    previous = previous or {}
    patch: Status = {key: value for key, value in status.items() if previous.get(key) != value}
    patch.update({key: None for key in previous if key not in status})
    return patch


@dataclass(frozen=True)
class Transition:
    """A condition that changed status: what an Event reports."""

    type: str
    status: TriState
    reason: str
    message: str

    @property
    def warning(self) -> bool:
        return self.status != "True"


def transitions(previous: Mapping[str, Any] | None, status: Status) -> list[Transition]:
    """The conditions whose status differs from ``previous`` (all of them at first)."""
    old = {c.get("type"): c.get("status") for c in (previous or {}).get("conditions") or []}
    return [
        Transition(c["type"], c["status"], c["reason"], c["message"])
        for c in status["conditions"]
        if old.get(c["type"]) != c["status"]
    ]


def _conditions(observed: Observation) -> dict[str, Said]:
    failure = observed.failure
    if failure is not None and failure.credentials:
        credentials: Said = ("False", failure.reason, failure.message)
    elif observed.credentials_checked:
        credentials = (
            "True",
            ConditionReason.KUBECONFIGS_WORK,
            "both edges accept their Secret's kubeconfig",
        )
    else:
        credentials = (
            "Unknown",
            ConditionReason.NOT_CHECKED,
            "the edges were not reached in this pass",
        )
    connected = _connected(observed)
    if failure is not None:
        ready: Said = ("False", failure.reason, failure.message)
    elif connected[0] == "True":
        ready = ("True", ConditionReason.SHORTCUT_READY, "the edges are connected directly")
    else:
        ready = ("False", connected[1], connected[2])
    return {
        ConditionType.READY: ready,
        ConditionType.CONNECTED: connected,
        ConditionType.CREDENTIALS_VALID: credentials,
    }


def _connected(observed: Observation) -> Said:
    if not observed.edges or any(edge.connection is None for edge in observed.edges):
        return (
            "Unknown",
            ConditionReason.NOT_OBSERVED,
            "the Connections were not read in this pass",
        )
    if observed.connected:
        return (
            "True",
            ConditionReason.BOTH_CONNECTED,
            "both edges report their Connection Connected",
        )
    states = ", ".join(
        f"{edge.name} {(edge.connection.state if edge.connection else None) or 'none yet'}"
        for edge in observed.edges
    )
    failed = any(edge.connection and edge.connection.state == "Error" for edge in observed.edges)
    reason = ConditionReason.CONNECTION_ERROR if failed else ConditionReason.CONNECTING
    return ("False", reason, f"Liqo Connections: {states}")


def _condition(
    kind: str,
    status: TriState,
    reason: ConditionReason | HubWhy,
    message: str,
    generation: int,
    old: Mapping[str, Any] | None,
    now: datetime,
) -> dict[str, Any]:
    unchanged = old is not None and old.get("status") == status and old.get("lastTransitionTime")
    return {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": old["lastTransitionTime"] if unchanged and old else _stamp(now),
        "observedGeneration": generation,
    }


def _edge(edge: EdgeSeen, old: Mapping[str, Any] | None) -> dict[str, Any]:
    shown: dict[str, Any] = {"name": edge.name, "role": edge.role}
    if edge.cluster_id:
        shown["clusterID"] = edge.cluster_id
    if edge.connection is not None:
        shown["connection"] = _connection(edge.connection, (old or {}).get("connection"))
    elif old and old.get("connection"):
        shown["connection"] = old["connection"]
    if edge.peer_pod_cidrs is not None:
        shown["peerPodCIDRs"] = list(edge.peer_pod_cidrs)
    elif old and old.get("peerPodCIDRs"):
        shown["peerPodCIDRs"] = old["peerPodCIDRs"]
    return shown


def _connection(seen: ConnectionSeen, old: Mapping[str, Any] | None) -> dict[str, Any]:
    if old and old.get("state") == seen.state and not _moved(old.get("latency"), seen.latency):
        return dict(old)  # the same state, a latency within noise: keep what is recorded
    shown: dict[str, Any] = {}
    if seen.state:
        shown["state"] = seen.state
    if seen.latency:
        shown["latency"] = seen.latency
    if seen.latency_time:
        shown["latencyTime"] = seen.latency_time
    return shown


def _moved(recorded: str | None, seen: str | None) -> bool:
    before, after = durations.seconds(recorded), durations.seconds(seen)
    if before is None or after is None:
        return before != after
    low, high = sorted((before, after))
    if high - low <= LATENCY_NOISE_SECONDS:
        return False
    return low == 0 or high / low > LATENCY_CHANGE


def _stamp(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")
