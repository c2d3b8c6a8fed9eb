"""One reconcile pass of a VirtualNodeShortcut, and its teardown, over the CLI's own workflow.

Plain synchronous functions of (central's client, the resource as read, the clock): kopf runs
them in worker threads, and tests can run them without kopf. A pass reads the spec, takes each
edge's credentials from its Secret, runs the same preflight as `kubectl shortcut create`,
converges the edges (`workflow.connect.converge`: idempotent, drift repaired, nothing rolled
back) and reads both Connections. Failures come back as data (a CamelCase reason, a message
naming the fix, whether a retry may help) rather than as exceptions, so the handler writes the
status either way (`operator.status`) and decides on retries in one place.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from pydantic import ValidationError

from liqoshortcut.core.connection import ConnectionSeen
from liqoshortcut.core.forge import Manifest
from liqoshortcut.core.model import ShortcutSpec
from liqoshortcut.core.observed import (
    EdgeSeen,
    Failure,
    Observation,
)
from liqoshortcut.core.plan import Outputs, Side
from liqoshortcut.core.reasons import ConditionReason
from liqoshortcut.core.schema import usage_error
from liqoshortcut.errors import ShortcutError
from liqoshortcut.kube import discovery, objects
from liqoshortcut.kube.clients import Cluster, connect
from liqoshortcut.kube.credentials import edge_context
from liqoshortcut.kube.errors import LiqoMissing
from liqoshortcut.kube.kubeconfig import ResolvedContext
from liqoshortcut.kube.resources import VIRTUAL_NODE_SHORTCUT
from liqoshortcut.operator.classify import classify, edge_names, waited
from liqoshortcut.operator.rivals import refuse_an_older_rival, rivals
from liqoshortcut.workflow.connect import converge
from liqoshortcut.workflow.disconnect import disconnect
from liqoshortcut.workflow.facts import Facts
from liqoshortcut.workflow.health import connections
from liqoshortcut.workflow.preflight import READ_AFRESH, Located, Preflight, check, locate
from liqoshortcut.workflow.progress import Reporter
from liqoshortcut.workflow.waiting import Deadline, WaitTimedOut

# Edge clients kept between passes: building one costs a TLS context and temporary files for
# certificate data, and a steady operator would otherwise build two per shortcut per resync.
CLIENT_CACHE_SIZE: Final = 256
# How long one pass may wait for Liqo (a gateway pod, an endpoint, a Connection) before it lets
# go of the resource and is requeued: long enough for most waits to end within the pass.
PASS_BUDGET_SECONDS: Final = 5.0
# How old the cluster-wide facts a preflight reads may be (`workflow.facts`): passes of the
# shortcuts that share an edge within this long share one read of it. Half the default resync,
# so each resync pass still sees facts read since the one before.
FACTS_MAX_AGE_SECONDS: Final = 30.0


def utc_now() -> datetime:
    return datetime.now(UTC)


class EdgeClients:
    """Clients for edges, one per distinct kubeconfig, reused across passes and shortcuts.

    Keyed by a digest of the resolved kubeconfig, so a Secret whose content changes gets a new
    client at the next pass; the digest stays in memory and names nothing.
    """

    def __init__(self, size: int = CLIENT_CACHE_SIZE) -> None:
        self._clients: OrderedDict[str, Cluster] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def __call__(self, context: ResolvedContext, name: str) -> Cluster:
        config = json.dumps(context.config, sort_keys=True, default=str)
        key = hashlib.sha256(f"{name}\n{config}".encode()).hexdigest()
        with self._lock:
            cluster = self._clients.get(key)
            if cluster is None:
                cluster = self._clients[key] = connect(context, name=name)
            self._clients.move_to_end(key)
            while len(self._clients) > self._size:
                self._clients.popitem(last=False)
            return cluster


@dataclass(frozen=True)
class Outcome:
    """What a pass found: the status it makes is written by `operator.status`."""

    observation: Observation
    failure: Failure | None
    planned: Preflight | None = None  # the shortcut as checked: where its Connections are

    @property
    def retry(self) -> bool:
        """False for a spec only its author can fix."""
        return self.failure is None or self.failure.reason != ConditionReason.INVALID_SPEC

    @property
    def progressing(self) -> bool:
        """The pass stopped at a wait that is still within the shortcut's timeout."""
        return self.failure is not None and self.failure.reason == ConditionReason.PROGRESSING


def reconcile(
    central: Cluster,
    resource: Mapping[str, Any],
    report: Reporter,
    *,
    clients: EdgeClients,
    facts: Facts = READ_AFRESH,
    allow_plugins: bool = False,
    wait_connected: bool = True,
    budget: float = PASS_BUDGET_SECONDS,
    elapsed: float = 0.0,
    deadlines: Callable[[float], Deadline] = Deadline,
    neighbours: Callable[[], Iterable[Mapping[str, Any]]] | None = None,
) -> Outcome:
    """Converge ``resource``'s shortcut and observe it; never raises a ShortcutError.

    A pass waits at most ``budget`` seconds, so that a handler never holds the resource for
    long (a delete or a spec change would wait behind it): a wait still unmet is reported as
    Progressing while ``elapsed`` (since the handler first tried) plus the budget is within
    ``spec.timeout``, and as a timeout after that. ``deadlines`` makes the pass's deadline, so
    the caller can cancel it. ``neighbours`` gives the VirtualNodeShortcuts of the resource's
    namespace as `rival_view`s, from memory (kopf's index): without it they are listed.
    """
    metadata = resource["metadata"]
    edges: tuple[EdgeSeen, ...] = ()
    failure: Failure | None = None
    credentials_checked = False
    planned: Preflight | None = None
    try:
        spec = parse_spec(resource.get("spec") or {})
        contexts = edge_contexts(central, metadata["namespace"], spec, allow_plugins)
        _probe(contexts, clients)
        credentials_checked = True
        preflight = check(
            spec,
            central,
            contexts,
            central_namespace=metadata["namespace"],
            wait_connected=wait_connected,
            connector=clients,
            facts=facts,
        )
        shortcuts = neighbours() if neighbours is not None else _shortcuts(central, resource)
        refuse_an_older_rival(resource, _cluster_ids(preflight), shortcuts)
        planned = preflight
        # Recorded before the first change: a status with edges is how the teardown knows
        # that objects may exist on them.
        edges = _planned(preflight, {})
        produced: Mapping[str, Outputs] = {}
        try:
            produced = converge(preflight.plan, preflight.edges, deadlines(budget), report)
        finally:  # whatever the pass managed, the Connections say how the shortcut is doing
            edges = _observe(preflight, produced)
    except WaitTimedOut as waiting:
        failure = waited(waiting, elapsed + budget, spec.timeout)
    except ShortcutError as error:
        failure = classify(error, edges=edge_names(resource))
    observation = Observation(
        generation=int(metadata.get("generation") or 0),
        edges=edges,
        failure=failure,
        credentials_checked=credentials_checked,
    )
    return Outcome(observation=observation, failure=failure, planned=planned)


def tear_down(
    central: Cluster,
    resource: Mapping[str, Any],
    report: Reporter,
    *,
    clients: EdgeClients,
    facts: Facts = READ_AFRESH,
    allow_plugins: bool = False,
) -> int:
    """Remove every object of ``resource``'s shortcut from both edges; how many there were.

    Raises a ShortcutError when that cannot be done now (an edge unreachable, its Secret gone):
    the finalizer then stays, and so does the resource, until a retry succeeds. A resource whose
    passes never got past the preflight (its status names no edges) made nothing: it goes even
    when its edges cannot be reached, for a typo in a Secret's name must not pin it forever.
    """
    touched = bool((resource.get("status") or {}).get("edges"))
    try:
        spec = parse_spec(resource.get("spec") or {})
        contexts = edge_contexts(central, resource["metadata"]["namespace"], spec, allow_plugins)
        located = locate(spec, contexts, connector=clients, facts=facts)
    except ShortcutError:
        if touched:
            raise
        return 0
    # Read afresh: a rival deleted a moment ago must not keep these objects from going.
    if rivals(resource, _cluster_ids(located), _shortcuts(central, resource)):
        return 0  # another resource still asks for these objects: they are its now
    # A tenant namespace that holds someone else's objects stays; the reporter says so.
    return disconnect(
        located.plan, located.edges, Deadline(spec.timeout, budget="spec.timeout"), report
    ).removed


def _shortcuts(central: Cluster, resource: Mapping[str, Any]) -> list[Manifest]:
    """The VirtualNodeShortcuts of ``resource``'s namespace."""
    namespace = resource["metadata"]["namespace"]
    return objects.list_objects(
        central,
        VIRTUAL_NODE_SHORTCUT,
        namespace,
        fix=f"let the operator list virtualnodeshortcuts in {namespace}",
    )


def _cluster_ids(located: Located) -> set[str]:
    return {edge.cluster_id for edge in located.plan.edges.values()}


def parse_spec(spec: Mapping[str, Any]) -> ShortcutSpec:
    try:
        return ShortcutSpec.from_resource(spec)
    except ValidationError as error:
        raise usage_error(error) from None


def edge_contexts(
    central: Cluster, namespace: str, spec: ShortcutSpec, allow_plugins: bool
) -> dict[str, ResolvedContext]:
    contexts = {}
    for edge in spec.edges:
        if edge.secret_ref is None:  # from_resource requires it; a programming error otherwise
            raise ValueError(f"edge {edge.name} names no Secret")
        contexts[edge.name] = edge_context(
            central, namespace, edge.secret_ref, allow_plugins=allow_plugins
        )
    return contexts


def _probe(contexts: Mapping[str, ResolvedContext], clients: EdgeClients) -> None:
    """Each edge answers its API discovery with its credentials: a 401 or silence shows here."""
    for name, context in contexts.items():
        with contextlib.suppress(LiqoMissing):  # the credentials work; preflight says the rest
            discovery.require_liqo_api(clients(context, name))


def _observe(preflight: Preflight, produced: Mapping[str, Outputs]) -> tuple[EdgeSeen, ...]:
    """The edges with their Connections, read now, and the peer pod CIDRs the pass learnt."""
    peers = preflight.plan.peer_pod_cidrs(produced)
    seen = connections(preflight.plan, preflight.edges)
    return _planned(preflight, seen, peers)


def _planned(
    preflight: Preflight,
    seen: Mapping[Side, ConnectionSeen],
    peers: Mapping[Side, tuple[str, ...]] | None = None,
) -> tuple[EdgeSeen, ...]:
    """The two edges as planned, with their Connections where ``seen`` has them and the CIDRs
    they reach each other's pods at where ``peers`` has them."""
    peers = peers or {}
    return tuple(
        EdgeSeen(
            name=preflight.plan.edges[side].name,
            role="server" if side is Side.SERVER else "client",
            cluster_id=preflight.plan.edges[side].cluster_id,
            connection=seen.get(side),
            peer_pod_cidrs=peers.get(side),
        )
        for side in (Side.SERVER, Side.CLIENT)
    )
