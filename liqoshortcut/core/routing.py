"""Which of central's Services get Liqo's direct-connection annotation, and why each one does not.

Liqo v1.2.0 routes a Service's endpoints on another provider over a provider-to-provider peering
when the Service carries ``liqo.io/use-direct-connections: "true"``, and has no fallback: a dead
tunnel keeps the endpoints, and a provider with endpoints but no peering to another provider with
endpoints stalls its EndpointSlice. So the annotation is set only where it is safe: on a Service
whose endpoints are on central and on edges every two of which a shortcut joins, each shortcut
selecting the Service, healthy, on the direct path, and allowed by both its providers. Whatever
else, one `Decision` says why not, which is also what `kubectl shortcut explain` prints.

The annotation this project sets is marked by a second one naming the shortcuts that route the
Service; an annotation without that mark belongs to someone else and is never touched. Pure:
views of the Services and shortcuts come in, changes to make come out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import combinations
from typing import Any, Final

from liqoshortcut.core.reasons import ConditionReason
from liqoshortcut.core.selectors import matches, selection
from liqoshortcut.core.traffic import Path, ServiceSelection, TrafficPolicy

USE_DIRECT_CONNECTIONS: Final = "liqo.io/use-direct-connections"  # pkg/consts/replication.go
ROUTED_BY: Final = "shortcut.liqo.io/routed-by"  # our mark: the shortcuts that route it

ServiceKey = tuple[str, str]  # (namespace, name)


class Reason(StrEnum):
    ROUTED = "Routed"
    FOREIGN_ANNOTATION = "ForeignAnnotation"  # someone else set or refused the annotation
    FEWER_THAN_TWO_EDGES = "EndpointsOnFewerThanTwoEdges"  # nothing to shortcut
    NO_SHORTCUT = "NoShortcut"  # two edges with endpoints and no shortcut between them
    NOT_SELECTED = "NotSelected"  # the shortcut's traffic policy leaves the Service out
    PROVIDER_REFUSES = "ProviderRefuses"  # an edge runs Liqo with denyDirectConnections
    HUB_PATH = "HubPath"  # the shortcut keeps traffic on the hub (policy, health or latency)


@dataclass(frozen=True)
class ServiceView:
    """A Service of central as the policy needs it: its labels, its namespace's labels, its
    annotations, and the cluster IDs of the edges that host its ready endpoints."""

    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    namespace_labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    endpoint_edges: frozenset[str] = frozenset()

    @property
    def key(self) -> ServiceKey:
        return (self.namespace, self.name)

    @property
    def marked(self) -> bool:
        """This project set its annotation."""
        return ROUTED_BY in self.annotations

    @property
    def foreign(self) -> bool:
        """Its annotation (whatever the value) was set by someone else."""
        return USE_DIRECT_CONNECTIONS in self.annotations and not self.marked


@dataclass(frozen=True)
class ShortcutView:
    """A healthy-or-not shortcut as the policy needs it. ``direct`` is its path decision now
    (`pathhealth`); ``hub_reason`` says why it is False."""

    key: str  # namespace/name of the VirtualNodeShortcut
    edges: frozenset[str]  # the two edges' cluster IDs
    policy: TrafficPolicy
    direct: bool
    hub_reason: str = ""
    refusing: frozenset[str] = frozenset()  # edges whose Liqo denies direct connections


def view_of(resource: Mapping[str, Any]) -> ShortcutView | None:
    """A VirtualNodeShortcut as its status last told (what `explain` reads, and what the operator
    trusts until its own health checks of the shortcut begin); None when it joins no two known
    edges yet, is being deleted, or was refused for another shortcut of the same edges."""
    metadata = resource.get("metadata") or {}
    status = resource.get("status") or {}
    ready = {c.get("type"): c for c in status.get("conditions") or []}.get("Ready") or {}
    edges = frozenset(str(e["clusterID"]) for e in status.get("edges") or [] if e.get("clusterID"))
    if (
        metadata.get("deletionTimestamp")
        or ready.get("reason") == ConditionReason.CONFLICT
        or len(edges) != 2
    ):
        return None
    traffic = status.get("traffic") or {}
    try:
        policy = TrafficPolicy.model_validate((resource.get("spec") or {}).get("traffic") or {})
    except ValueError:
        return None
    return ShortcutView(
        key=f"{metadata.get('namespace')}/{metadata.get('name')}",
        edges=edges,
        policy=policy,
        direct=traffic.get("choice") == Path.DIRECT,
        hub_reason=str(traffic.get("reason") or "its health has not been checked yet"),
        refusing=frozenset(traffic.get("refusing") or ()),
    )


@dataclass(frozen=True)
class Decision:
    service: ServiceKey
    routed: bool
    reason: Reason
    message: str
    shortcuts: tuple[str, ...] = ()  # the shortcuts the Service's traffic uses (or would)


def selects(policy: TrafficPolicy, service: ServiceView) -> bool:
    match policy.services:
        case ServiceSelection.NONE:
            return False
        case ServiceSelection.ALL:
            return True
        case ServiceSelection.SELECTED:
            return matches(policy.namespace_selector, service.namespace_labels) and matches(
                policy.service_selector, service.labels
            )


def decide(service: ServiceView, shortcuts: Iterable[ShortcutView]) -> Decision:
    """Whether ``service`` should carry the annotation, and the first reason it should not."""

    def refuse(reason: Reason, message: str, used: Sequence[str] = ()) -> Decision:
        return Decision(service.key, False, reason, message, tuple(used))

    if service.foreign:
        value = service.annotations[USE_DIRECT_CONNECTIONS]
        return refuse(
            Reason.FOREIGN_ANNOTATION,
            f"{USE_DIRECT_CONNECTIONS}={value!r} was set by someone else; left alone",
        )
    edges = sorted(service.endpoint_edges)
    if len(edges) < 2:
        where = f"only on {edges[0]}" if edges else "on no edge"
        return refuse(
            Reason.FEWER_THAN_TWO_EDGES,
            f"its endpoints are {where}: no traffic between edges to shortcut",
        )
    by_pair = {view.edges: view for view in sorted(shortcuts, key=lambda v: v.key)}
    used: list[str] = []
    for pair in combinations(edges, 2):
        view = by_pair.get(frozenset(pair))
        if view is None:
            return refuse(
                Reason.NO_SHORTCUT,
                f"it has endpoints on {pair[0]} and {pair[1]} and no shortcut joins them",
                used,
            )
        used.append(view.key)
        if not selects(view.policy, service):
            return refuse(Reason.NOT_SELECTED, _unselected(view), used)
        if view.refusing:
            return refuse(
                Reason.PROVIDER_REFUSES,
                f"{', '.join(sorted(view.refusing))} runs Liqo with denyDirectConnections",
                used,
            )
        if not view.direct:
            return refuse(Reason.HUB_PATH, f"shortcut {view.key}: {view.hub_reason}", used)
    return Decision(
        service.key,
        True,
        Reason.ROUTED,
        f"over {', '.join(used)} between {', '.join(edges)}",
        tuple(used),
    )


def _unselected(view: ShortcutView) -> str:
    policy = view.policy
    if policy.services == ServiceSelection.NONE:
        return f"shortcut {view.key} selects no Service (traffic.services None)"
    selectors = selection(policy, "namespaceSelector", "serviceSelector")
    return f"shortcut {view.key} selects by {selectors}, which it does not match"


@dataclass(frozen=True)
class Change:
    """Annotations to merge-patch onto one Service; a None value removes the key."""

    service: ServiceKey
    annotations: dict[str, str | None]
    routed: bool


def resource_key(key: str) -> bool:
    """A VirtualNodeShortcut's mark (``namespace/name``), not `create`'s (a bare shortcut name)."""
    return "/" in key


def changes(
    services: Iterable[ServiceView],
    shortcuts: Sequence[ShortcutView],
    owns: Callable[[str], bool] = lambda key: True,
) -> tuple[list[Change], dict[ServiceKey, Decision]]:
    """The patches that make the annotations match the decisions, and every decision.

    A Service marked only by shortcuts the caller does not ``owns`` is its owner's to decide
    (the operator leaves `create`'s marks alone): it gets no patch.
    """
    patches: list[Change] = []
    decisions: dict[ServiceKey, Decision] = {}
    for service in services:
        decision = decisions[service.key] = decide(service, shortcuts)
        marks = [key for key in service.annotations.get(ROUTED_BY, "").split(",") if key]
        if marks and not any(owns(key) for key in marks):
            continue
        if decision.routed:
            wanted = {USE_DIRECT_CONNECTIONS: "true", ROUTED_BY: ",".join(decision.shortcuts)}
            if any(service.annotations.get(k) != v for k, v in wanted.items()):
                patches.append(Change(service.key, dict(wanted), routed=True))
        elif service.marked:
            patches.append(
                Change(service.key, {USE_DIRECT_CONNECTIONS: None, ROUTED_BY: None}, routed=False)
            )
    return patches, decisions


def routed_by(decisions: Mapping[ServiceKey, Decision], shortcut: str) -> list[ServiceKey]:
    """The Services routed over ``shortcut``, sorted."""
    return sorted(key for key, d in decisions.items() if d.routed and shortcut in d.shortcuts)
