"""`kubectl shortcut explain SERVICE`: which path a Service's traffic between edges takes, and why.

The path is what Liqo acts on, the Service's ``liqo.io/use-direct-connections`` annotation; the
why is `routing.decide` over the shortcuts as their statuses tell (the policy, each shortcut's
health and path, a provider's refusal), plus what a user asks next: who set the annotation,
where the endpoints are, whether the edges' pod CIDRs collide (Liqo then reaches one edge's pods
under remapped addresses), and whether the operator is about to change the path. Pure.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from liqoshortcut.core.record import ShortcutRecord
from liqoshortcut.core.routing import (
    ROUTED_BY,
    USE_DIRECT_CONNECTIONS,
    Decision,
    Reason,
    ServiceView,
    ShortcutView,
    decide,
)
from liqoshortcut.core.traffic import Path


@dataclass(frozen=True)
class Explanation:
    service: tuple[str, str]
    path: Path
    why: str  # one line: the reason the path is what it is
    details: tuple[str, ...]  # "topic: fact" lines
    decision: Decision

    def as_dict(self) -> dict[str, Any]:
        return {
            "service": {"namespace": self.service[0], "name": self.service[1]},
            "path": str(self.path),
            "reason": str(self.decision.reason),
            "why": self.why,
            "details": list(self.details),
            "shortcuts": list(self.decision.shortcuts),
        }

    def text(self) -> str:
        namespace, name = self.service
        lines = [f"Service {namespace}/{name}: {self.path} path. {self.why}"]
        lines += [f"  {detail}" for detail in self.details]
        return "\n".join(lines)


def explain(
    service: ServiceView,
    shortcuts: Sequence[ShortcutView],
    health: Mapping[str, str],
    pod_cidrs: Mapping[str, Iterable[str]],
    records: Sequence[ShortcutRecord] = (),
) -> Explanation:
    """``health`` holds a line per shortcut key (its Connections as its status says);
    ``pod_cidrs`` each edge's pod CIDRs by cluster ID (central's Configurations for them);
    ``records`` every shortcut (`create`'s and the operator's), for the addresses each edge
    reaches the other's pods at over them."""
    decision = decide(service, shortcuts)
    annotation = service.annotations.get(USE_DIRECT_CONNECTIONS)
    path = Path.DIRECT if annotation == "true" else Path.HUB
    details = [_annotation(service), _endpoints(service)]
    details += [f"shortcut {key}: {health.get(key, 'not found')}" for key in decision.shortcuts]
    details += _overlaps(sorted(service.endpoint_edges), pod_cidrs)
    for record in records:
        if {record.server.cluster_id, record.client.cluster_id} <= service.endpoint_edges:
            details += [f"addresses: {line}" for line, _ in addresses(record, pod_cidrs)]
    if service.foreign:
        why = f"{USE_DIRECT_CONNECTIONS} was set by someone else, and Liqo follows it"
    elif path is Path.DIRECT:
        why = f"routed over {', '.join(_marked_by(service))}"
        if not decision.routed:
            details.append(
                f"next: back to the hub at the operator's next check: {decision.message}"
            )
    else:
        why = _hub_why(decision)
        if decision.routed:
            details.append(f"next: direct at the operator's next check, {decision.message}")
    return Explanation(service.key, path, why, tuple(details), decision)


def _annotation(service: ServiceView) -> str:
    value = service.annotations.get(USE_DIRECT_CONNECTIONS)
    if value is None:
        return f"annotation: {USE_DIRECT_CONNECTIONS} is not set"
    if service.marked:
        return f"annotation: {USE_DIRECT_CONNECTIONS}={value}, set by liqo-shortcut for " + (
            ", ".join(_marked_by(service))
        )
    return f"annotation: {USE_DIRECT_CONNECTIONS}={value}, not set by liqo-shortcut (left alone)"


def _marked_by(service: ServiceView) -> list[str]:
    return [key for key in service.annotations.get(ROUTED_BY, "").split(",") if key]


def _endpoints(service: ServiceView) -> str:
    edges = sorted(service.endpoint_edges)
    return f"endpoints: on {', '.join(edges)}" if edges else "endpoints: on no edge"


def _hub_why(decision: Decision) -> str:
    if decision.reason is Reason.FEWER_THAN_TWO_EDGES:
        return f"No direct path applies: {decision.message}"
    return f"Kept on the hub: {decision.message}"


def _overlaps(edges: Sequence[str], pod_cidrs: Mapping[str, Iterable[str]]) -> list[str]:
    found = []
    for first, second in combinations(edges, 2):
        for a in pod_cidrs.get(first, ()):
            for b in pod_cidrs.get(second, ()):
                if ipaddress.ip_network(a, strict=False).overlaps(
                    ipaddress.ip_network(b, strict=False)
                ):
                    found.append(
                        f"CIDR conflict: the pod CIDRs of {first} ({a}) and {second} ({b}) "
                        "overlap; over a shortcut each edge reaches the other's pods under the "
                        "remapped CIDR in the shortcut's Configuration"
                    )
    return found


def addresses(
    record: ShortcutRecord, pod_cidrs: Mapping[str, Iterable[str]]
) -> list[tuple[str, bool]]:
    """Where a client on each edge of ``record`` reaches the other edge's pods over it, one line
    per edge that the shortcut's run has told, and whether Liqo remapped them; ``pod_cidrs`` are
    each edge's own, by cluster ID."""
    found = []
    for edge, peer in ((record.client, record.server), (record.server, record.client)):
        if not edge.peer_pod_cidrs:
            continue
        own = tuple(pod_cidrs.get(peer.cluster_id, ()))
        remapped = bool(own) and set(own) != set(edge.peer_pod_cidrs)
        how = (
            f"{peer.context}'s pod CIDR {', '.join(own)} as {edge.context}'s Liqo remapped it"
            if remapped
            else "their own pod CIDR"
        )
        found.append(
            (
                f"a client on {edge.context} reaches {peer.context}'s pods over shortcut "
                f"{record.name} at {', '.join(edge.peer_pod_cidrs)} ({how})",
                remapped,
            )
        )
    return found


def remapped(record: ShortcutRecord, pod_cidrs: Mapping[str, Iterable[str]]) -> list[str]:
    """The lines of `addresses` where Liqo remapped the other edge's pods: what `create` tells."""
    return [line for line, was_remapped in addresses(record, pod_cidrs) if was_remapped]


def status_line(resource: Mapping[str, Any]) -> str:
    """A VirtualNodeShortcut's health and path, from its status, in one line."""
    status = resource.get("status") or {}
    traffic = status.get("traffic") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    connections = []
    for edge in status.get("edges") or []:
        connection = edge.get("connection") or {}
        latency = f" {connection['latency']}" if connection.get("latency") else ""
        connections.append(f"{edge.get('name')} {connection.get('state') or 'unknown'}{latency}")
    parts = [
        f"path {traffic.get('choice') or 'not decided yet'}"
        + (f" ({traffic['reason']})" if traffic.get("reason") else ""),
        f"Connections {', '.join(connections) or 'not read yet'}",
    ]
    ready = conditions.get("Ready")
    if ready and ready.get("status") != "True":
        parts.append(f"not Ready: {ready.get('message')}")
    return "; ".join(parts)


SWITCH_PREFIX = "DirectPathActive is "  # the router's Events: how a path switch reads


@dataclass(frozen=True)
class Switch:
    """A past change of path, from the router's Events."""

    time: str
    to: Path
    reason: str
    message: str


def switches(events: Iterable[Mapping[str, Any]], last: int = 5) -> list[Switch]:
    """The last path switches among a VirtualNodeShortcut's Events, oldest first."""
    found = []
    for event in events:
        message = str(event.get("message") or "")
        if not message.startswith(SWITCH_PREFIX):
            continue
        state, _, rest = message.removeprefix(SWITCH_PREFIX).partition(": ")
        when = str(event.get("lastTimestamp") or event.get("eventTime") or "")
        to = Path.DIRECT if state == "True" else Path.HUB
        found.append(Switch(when, to, str(event.get("reason") or ""), rest))
    return sorted(found, key=lambda s: s.time)[-last:]


def report(resource: Mapping[str, Any], past: Sequence[Switch]) -> dict[str, Any]:
    """`kubectl shortcut status`'s data: health, latencies, routed Services, last switches."""
    status = resource.get("status") or {}
    metadata = resource.get("metadata") or {}
    conditions = {
        str(c.get("type")): {"status": c.get("status"), "reason": c.get("reason")}
        for c in status.get("conditions") or []
    }
    return {
        "shortcut": f"{metadata.get('namespace')}/{metadata.get('name')}",
        "conditions": conditions,
        "edges": [
            {"name": e.get("name"), "role": e.get("role"), **(e.get("connection") or {})}
            for e in status.get("edges") or []
        ],
        "path": str(status.get("path") or Path.HUB),
        "traffic": status.get("traffic") or {},
        "routedServices": [
            f"{s.get('namespace')}/{s.get('name')}" for s in status.get("routedServices") or []
        ],
        "switches": [
            {"time": s.time, "to": str(s.to), "reason": s.reason, "message": s.message}
            for s in past
        ],
    }


def report_text(data: Mapping[str, Any]) -> str:
    conditions = ", ".join(
        f"{kind}={c['status']} ({c['reason']})" for kind, c in data["conditions"].items()
    )
    lines = [f"Shortcut {data['shortcut']}: {conditions or 'no status yet'}"]
    for edge in data["edges"]:
        latency = f", latency {edge['latency']}" if edge.get("latency") else ""
        lines.append(
            f"  {edge['name']} ({edge['role']}): {edge.get('state') or 'no Connection'}{latency}"
        )
    traffic = data["traffic"]
    if traffic:
        figures = ", ".join(
            f"{label} {traffic[key]}"
            for label, key in (("direct", "directLatency"), ("hub", "hubLatency"))
            if traffic.get(key)
        )
        lines.append(
            f"  path: {data['path']} (policy {traffic.get('mode')}, chose {traffic.get('choice')}: "
            f"{traffic.get('reason')}){'; ' + figures if figures else ''}"
        )
    else:
        lines.append(f"  path: {data['path']}")
    routed = data["routedServices"]
    lines.append(f"  routed Services: {', '.join(routed) if routed else 'none'}")
    for switch in data["switches"]:
        lines.append(
            f"  {switch['time']} -> {switch['to']} ({switch['reason']}): {switch['message']}"
        )
    return "\n".join(lines)
