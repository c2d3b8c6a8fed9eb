"""What the edges say about recorded shortcuts: `list`'s check of each record against them.

A record says how the last run of `create` ended; `liqoctl network reset`, a hand deletion or a
tunnel gone down change the edges without telling it. So for each record `create` made, both
edges are asked, through the kubeconfig contexts the record names, for the shortcut's gateway
(ours by its labels) and the Connection that gateway keeps (Liqo's gateway makes it with the
gateway as its owner, so a peering liqoctl made in the same namespace is not taken for ours).
Every edge of every record is asked at once, and no longer than the timeout; an edge that cannot
be asked (context missing, unreachable, credentials refused, no answer in time) is Unknown with
the reason, never an error. The peering user's rights suffice: list gateways and Connections in
the tenant namespace.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from queue import Empty, Queue
from time import monotonic
from typing import Any, Final

from liqoshortcut.core.forge import Manifest
from liqoshortcut.core.naming import REMOTE_CLUSTER_ID_LABEL, ownership_labels, tenant_namespace
from liqoshortcut.core.record import EdgeRecord, ShortcutRecord, State
from liqoshortcut.errors import ShortcutError
from liqoshortcut.kube import objects
from liqoshortcut.kube.clients import Cluster, connect
from liqoshortcut.kube.kubeconfig import Kubeconfig
from liqoshortcut.kube.resources import CONNECTION, GATEWAY_CLIENT, GATEWAY_SERVER, Resource

UNKNOWN: Final = "Unknown"  # the edge could not be asked
MISSING: Final = "Missing"  # the edge holds no gateway of the shortcut
PENDING: Final = "Pending"  # the gateway is there, its Connection not (yet)
CONNECTED: Final = str(State.CONNECTED)  # Liqo's Connection status value, as the record's
# A shortcut's state from its two edges' states, worst first: one edge without its gateway means
# the shortcut is gone whatever the other says; one that cannot be asked leaves it unknown.
WORST_FIRST: Final = (MISSING, UNKNOWN)


@dataclass(frozen=True)
class EdgeLive:
    """One edge's side of a shortcut: a Connection's status value, or one of the words above."""

    state: str
    reason: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"state": self.state, **({"reason": self.reason} if self.reason else {})}


@dataclass(frozen=True)
class Live:
    """A shortcut as its edges show it, and whether that contradicts its record."""

    server: EdgeLive
    client: EdgeLive

    @property
    def state(self) -> str:
        states = (self.server.state, self.client.state)
        if states == (CONNECTED, CONNECTED):
            return CONNECTED
        for worst in WORST_FIRST:
            if worst in states:
                return worst
        return next(state for state in states if state != CONNECTED)

    def disagrees_with(self, record: ShortcutRecord) -> bool:
        """The edges contradict the record: it says Connected and they do not, or the other way
        round (a run killed after connecting). Unknown contradicts nothing; a record of a run
        with --no-wait (Created) claims only that the gateways are there."""
        state = self.state
        if state == UNKNOWN:
            return False
        if record.state is State.CREATED:
            return state == MISSING
        return (record.state is State.CONNECTED) != (state == CONNECTED)

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "server": self.server.as_dict(),
            "client": self.client.as_dict(),
        }


# Builds the client of an edge from its context name; raises a ShortcutError if it cannot.
EdgeConnector = Callable[[str], Cluster]


def kubeconfig_edges(kubeconfig: Kubeconfig, timeout: float) -> EdgeConnector:
    """Clients from the contexts of ``kubeconfig``, each request bounded by ``timeout``."""

    def edge(context: str) -> Cluster:
        return connect(kubeconfig.resolve(context), name=context, timeout=(timeout, timeout))

    return edge


def check_edges(
    records: Iterable[ShortcutRecord], edges: EdgeConnector, timeout: float
) -> dict[str, Live]:
    """The live state of each record made by `create`, by shortcut name, within ``timeout``.

    The edges are asked in daemon threads, so that an edge that never answers cannot keep the
    command from ending: at the timeout it is Unknown, and its thread is left to the exit.
    """
    asked = [record for record in records if record.source == "cli"]
    answers: Queue[tuple[str, str, EdgeLive]] = Queue()
    for record in asked:
        for side, edge, peer, kind in (
            ("server", record.server, record.client, GATEWAY_SERVER),
            ("client", record.client, record.server, GATEWAY_CLIENT),
        ):

            def ask(
                record: ShortcutRecord = record,
                side: str = side,
                edge: EdgeRecord = edge,
                peer: EdgeRecord = peer,
                kind: Resource = kind,
            ) -> None:
                try:
                    live = _edge_live(record.name, edge, peer, kind, edges)
                except Exception as error:  # a thread's failure must not vanish unseen
                    live = EdgeLive(UNKNOWN, f"{type(error).__name__}: {error}")
                answers.put((record.name, side, live))

            threading.Thread(target=ask, daemon=True, name=f"list {edge.context}").start()
    found: dict[tuple[str, str], EdgeLive] = {}
    deadline = monotonic() + timeout
    while len(found) < 2 * len(asked):
        try:
            name, side, live = answers.get(timeout=max(0.0, deadline - monotonic()))
        except Empty:
            break
        found[(name, side)] = live
    late = EdgeLive(UNKNOWN, f"no answer within {timeout:g}s")
    return {
        record.name: Live(
            server=found.get((record.name, "server"), late),
            client=found.get((record.name, "client"), late),
        )
        for record in asked
    }


def _edge_live(
    shortcut: str, edge: EdgeRecord, peer: EdgeRecord, gateway: Resource, edges: EdgeConnector
) -> EdgeLive:
    namespace = tenant_namespace(peer.cluster_id)
    try:
        cluster = edges(edge.context)
        ours = objects.list_objects(cluster, gateway, namespace, ownership_labels(shortcut))
        if not ours:
            return EdgeLive(
                MISSING,
                f"no {gateway.kind} of {shortcut} in {namespace} on {edge.context}",
            )
        uids = {item["metadata"].get("uid") for item in ours}
        found = objects.list_objects(
            cluster, CONNECTION, namespace, {REMOTE_CLUSTER_ID_LABEL: peer.cluster_id}
        )
    except ShortcutError as error:
        return EdgeLive(UNKNOWN, str(error))
    connection = next((item for item in found if _owner_uids(item) & uids), None)
    if connection is None:
        name = ours[0]["metadata"]["name"]
        return EdgeLive(
            PENDING, f"{gateway.kind} {namespace}/{name} on {edge.context} has no Connection yet"
        )
    value = (connection.get("status") or {}).get("value")
    return EdgeLive(str(value) if value else PENDING)


def _owner_uids(item: Manifest) -> set[str]:
    return {str(ref.get("uid")) for ref in item["metadata"].get("ownerReferences") or []}
