"""The record of a shortcut kept in the central cluster, so `list` needs no edge credentials.

`create` writes it before touching the edges and updates it when done; `delete` removes it last.
A run killed midway therefore leaves a record saying ``Creating``, which `list` shows and a re-run
or a `delete` settles. It is a ConfigMap in Liqo's namespace of the central cluster: every Liqo
install has that namespace, and a ConfigMap needs no CRD. It holds names and cluster IDs only:
nothing secret (no server address, no credential) ever goes in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from liqoshortcut.core.naming import MANAGED_BY, MANAGED_BY_LABEL, SHORTCUT_LABEL, ownership_labels
from liqoshortcut.core.plan import Side

COMPONENT_LABEL: Final = "app.kubernetes.io/component"
RECORD_COMPONENT: Final = "shortcut-record"
RECORD_PREFIX: Final = "liqo-shortcut-"


# The keys `to_config_map` writes that a record cannot be read without (``state`` may be edited
# by hand: it is shown as Failed then).
EDGE_KEYS: Final = ("server.context", "server.clusterID", "client.context", "client.clusterID")


class MalformedRecord(ValueError):
    """A ConfigMap that carries the records' labels but is no record (edited or made by hand)."""


class State(StrEnum):
    CREATING = "Creating"  # a run is (or was, if killed) under way: re-run create or delete
    CONNECTED = "Connected"  # both Connections reported Connected
    CREATED = "Created"  # made with --no-wait: the Connections were not waited for
    FAILED = "Failed"  # a run failed over objects it or an earlier run left: see ``message``


@dataclass(frozen=True)
class EdgeRecord:
    context: str  # the edge's name as the user gave it
    cluster_id: str
    # Where this edge's pods reach the other edge's pods (Liqo's mapping, remapped on overlap);
    # empty until a run learnt it.
    peer_pod_cidrs: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"context": self.context, "clusterID": self.cluster_id}
        if self.peer_pod_cidrs:
            shown["peerPodCIDRs"] = list(self.peer_pod_cidrs)
        return shown


@dataclass(frozen=True)
class ShortcutRecord:
    name: str
    server: EdgeRecord
    client: EdgeRecord
    state: State
    message: str = ""
    created: datetime | None = None  # set by the API server; None before the first write
    source: str = "cli"  # "cli", or the VirtualNodeShortcut (namespace/name) the operator owns

    def learnt(self, peer_pod_cidrs: Mapping[Side, tuple[str, ...]]) -> ShortcutRecord:
        """This record with the CIDRs a run found each side reaching the other's pods at."""
        return replace(
            self,
            server=replace(self.server, peer_pod_cidrs=peer_pod_cidrs.get(Side.SERVER, ())),
            client=replace(self.client, peer_pod_cidrs=peer_pod_cidrs.get(Side.CLIENT, ())),
        )

    def to_config_map(self, namespace: str) -> dict[str, Any]:
        data = {
            "server.context": self.server.context,
            "server.clusterID": self.server.cluster_id,
            "client.context": self.client.context,
            "client.clusterID": self.client.cluster_id,
            "state": str(self.state),
        }
        for side, edge in (("server", self.server), ("client", self.client)):
            if edge.peer_pod_cidrs:
                data[f"{side}.peerPodCIDRs"] = ",".join(edge.peer_pod_cidrs)
        if self.message:
            data["message"] = self.message
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": record_name(self.name),
                "namespace": namespace,
                "labels": record_selector() | ownership_labels(self.name),
            },
            "data": data,
        }

    @classmethod
    def from_config_map(cls, config_map: dict[str, Any]) -> ShortcutRecord:
        """The record ``config_map`` holds; MalformedRecord, naming what is missing, if none."""
        metadata, data = config_map["metadata"], config_map.get("data") or {}
        name = (metadata.get("labels") or {}).get(SHORTCUT_LABEL)
        missing = [f"label {SHORTCUT_LABEL}"] if not name else []
        missing += [f"key {key}" for key in EDGE_KEYS if not data.get(key)]
        if missing:
            raise MalformedRecord(
                f"ConfigMap {metadata.get('namespace')}/{metadata.get('name')} is labelled as a "
                f"shortcut's record but has no {', no '.join(missing)}: it is not listed; remove "
                "it or its labels"
            )
        created = metadata.get("creationTimestamp")
        try:
            state, message = State(data.get("state", "")), data.get("message", "")
        except ValueError:  # edited by hand: show it, do not fail the whole listing
            state, message = State.FAILED, f"unknown state {data.get('state')!r}"
        return cls(
            name=str(name),
            server=_edge_record(data, "server"),
            client=_edge_record(data, "client"),
            state=state,
            message=message,
            created=datetime.fromisoformat(created) if created else None,
        )

    def as_dict(self) -> dict[str, Any]:
        """For `-o json|yaml`: camelCase like the Kubernetes objects it sits beside."""
        shown: dict[str, Any] = {
            "name": self.name,
            "server": self.server.as_dict(),
            "client": self.client.as_dict(),
            "state": str(self.state),
        }
        if self.message:
            shown["message"] = self.message
        if self.created is not None:
            shown["created"] = self.created.isoformat().replace("+00:00", "Z")
        shown["source"] = self.source
        return shown

    @classmethod
    def from_resource(cls, resource: dict[str, Any]) -> ShortcutRecord:
        """A VirtualNodeShortcut as `list` shows it, its state from its Ready condition."""
        metadata, spec = resource["metadata"], resource.get("spec") or {}
        status = resource.get("status") or {}
        edges = {edge["name"]: dict(edge) for edge in spec.get("edges") or []}
        peers: dict[str, tuple[str, ...]] = {}
        for seen in status.get("edges") or []:  # the operator found the IDs the spec left out
            if seen.get("name") in edges and seen.get("clusterID"):
                edges[seen["name"]].setdefault("clusterID", seen["clusterID"])
            peers[str(seen.get("name"))] = tuple(seen.get("peerPodCIDRs") or ())
        names = list(edges)
        server = spec.get("serverEdge") or (names[-1] if names else "")
        client = next((name for name in names if name != server), "")
        ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
        if ready is None:
            state, message = State.CREATING, ""
        elif ready.get("status") == "True":
            state, message = State.CONNECTED, ""
        else:
            state, message = State.FAILED, f"{ready.get('reason')}: {ready.get('message')}"
        created = metadata.get("creationTimestamp")
        return cls(
            name=metadata["name"],
            server=EdgeRecord(
                server, (edges.get(server) or {}).get("clusterID", ""), peers.get(server, ())
            ),
            client=EdgeRecord(
                client, (edges.get(client) or {}).get("clusterID", ""), peers.get(client, ())
            ),
            state=state,
            message=message,
            created=datetime.fromisoformat(created) if created else None,
            source=f"{metadata.get('namespace')}/{metadata['name']}",
        )


def _edge_record(data: dict[str, str], side: str) -> EdgeRecord:
    peers = data.get(f"{side}.peerPodCIDRs", "")
    return EdgeRecord(
        data[f"{side}.context"],
        data[f"{side}.clusterID"],
        tuple(cidr for cidr in peers.split(",") if cidr),
    )


def record_name(shortcut: str) -> str:
    return f"{RECORD_PREFIX}{shortcut}"


def record_selector() -> dict[str, str]:
    """The labels every record carries, whatever its shortcut: how `list` finds them all."""
    return {MANAGED_BY_LABEL: MANAGED_BY, COMPONENT_LABEL: RECORD_COMPONENT}


def age(since: datetime | None, now: datetime) -> str:
    """A short age in kubectl's spirit: 90s, 12m, 5h, 3d (a unit once two of it have passed)."""
    if since is None:
        return "<unknown>"
    seconds = max(0, int((now - since).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= 2 * size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
