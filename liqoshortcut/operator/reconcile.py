"""One reconcile pass of a VirtualNodeShortcut, and its teardown, over the CLI's own workflow.

Plain synchronous functions of (central's client, the resource as read, the clock): kopf runs
them in worker threads, and tests can run them without kopf. A pass reads the spec, takes each
edge's credentials from its Secret, runs the same preflight as `kubectl shortcut create`,
converges the edges (`workflow.connect.converge`: idempotent, drift repaired, nothing rolled
back), reads both Connections and computes the status from what it saw. Failures come back as
data (a CamelCase reason, a message naming the fix, whether a retry may help) rather than as
exceptions, so the handler writes the status either way and decides on retries in one place.
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

from liqoshortcut.core.model import ShortcutSpec
from liqoshortcut.core.observed import (
    PROGRESSING,
    ConnectionSeen,
    EdgeSeen,
    Failure,
    Observation,
    Status,
    Transition,
    status_for,
    status_patch,
    transitions,
)
from liqoshortcut.core.plan import Outputs, Side
from liqoshortcut.core.routing import CONFLICT
from liqoshortcut.core.schema import usage_error
from liqoshortcut.errors import (
    Interrupted,
    PreconditionFailed,
    ShortcutError,
    UsageError,
    WorkflowFailed,
)
from liqoshortcut.kube import discovery, liqo
from liqoshortcut.kube.clients import Cluster, connect
from liqoshortcut.kube.credentials import CredentialsInvalid, edge_context
from liqoshortcut.kube.errors import (
    AccessDenied,
    ClusterFailure,
    ClusterUnreachable,
    CredentialsRejected,
    LiqoMissing,
)
from liqoshortcut.kube.kubeconfig import ResolvedContext
from liqoshortcut.kube.resources import VIRTUAL_NODE_SHORTCUT
from liqoshortcut.workflow.connect import converge
from liqoshortcut.workflow.disconnect import disconnect
from liqoshortcut.workflow.facts import Facts
from liqoshortcut.workflow.health import connections
from liqoshortcut.workflow.preflight import READ_AFRESH, Located, Preflight, check, locate
from liqoshortcut.workflow.progress import Reporter
from liqoshortcut.workflow.waiting import Deadline, WaitTimedOut

Clock = Callable[[], datetime]
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
    """What a pass found and what to write: ``patch`` is empty when the status already says it."""

    patch: Status
    transitions: list[Transition]
    failure: Failure | None
    planned: Preflight | None = None  # the shortcut as checked: where its Connections are

    @property
    def retry(self) -> bool:
        """False for a spec only its author can fix."""
        return self.failure is None or self.failure.reason != INVALID_SPEC

    @property
    def progressing(self) -> bool:
        """The pass stopped at a wait that is still within the shortcut's timeout."""
        return self.failure is not None and self.failure.reason == PROGRESSING


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
    now: Clock = utc_now,
) -> Outcome:
    """Converge ``resource``'s shortcut and compute its status; never raises a ShortcutError.

    A pass waits at most ``budget`` seconds, so that a handler never holds the resource for
    long (a delete or a spec change would wait behind it): a wait still unmet is reported as
    `PROGRESSING` while ``elapsed`` (since the handler first tried) plus the budget is within
    ``spec.timeout``, and as a timeout after that. ``deadlines`` makes the pass's deadline, so
    the caller can cancel it. ``neighbours`` gives the VirtualNodeShortcuts of the resource's
    namespace as `rival_view`s, from memory (kopf's index): without it they are listed.
    """
    metadata = resource["metadata"]
    previous = resource.get("status") or {}
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
        _refuse_an_older_rival(resource, _cluster_ids(preflight), shortcuts)
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
        failure = _waited(waiting, elapsed + budget, spec.timeout)
    except ShortcutError as error:
        failure = classify(error, edges=_edge_names(resource))
    observation = Observation(
        generation=int(metadata.get("generation") or 0),
        edges=edges,
        failure=failure,
        credentials_checked=credentials_checked,
    )
    status = status_for(observation, previous, now())
    return Outcome(
        patch=status_patch(previous, status),
        transitions=transitions(previous, status),
        failure=failure,
        planned=planned,
    )


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
    if _rivals(resource, _cluster_ids(located), _shortcuts(central, resource)):
        return 0  # another resource still asks for these objects: they are its now
    # A tenant namespace that holds someone else's objects stays; the reporter says so.
    return disconnect(located.plan, located.edges, Deadline(spec.timeout), report).removed


def _shortcuts(central: Cluster, resource: Mapping[str, Any]) -> list[liqo.Manifest]:
    """The VirtualNodeShortcuts of ``resource``'s namespace."""
    namespace = resource["metadata"]["namespace"]
    return liqo.list_objects(
        central,
        VIRTUAL_NODE_SHORTCUT,
        namespace,
        fix=f"let the operator list virtualnodeshortcuts in {namespace}",
    )


def _rivals(
    resource: Mapping[str, Any], cluster_ids: set[str], shortcuts: Iterable[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """Those of ``shortcuts`` other than ``resource`` that join the same two edges and are not
    being deleted, oldest first.

    One pair of edges is one set of objects on them (one name, `core.naming.shortcut_name`), so
    two resources asking for it would fight over it, and deleting one would break the other.
    An edge's cluster ID is taken from a rival's status (its operator found it) or its spec.
    """
    uid = resource["metadata"].get("uid")
    return sorted(
        (
            other
            for other in shortcuts
            if other["metadata"].get("uid") != uid
            and not other["metadata"].get("deletionTimestamp")
            and _joins(other) == cluster_ids
        ),
        key=_age,
    )


def rival_view(resource: Mapping[str, Any]) -> dict[str, Any]:
    """What `_rivals` reads of a VirtualNodeShortcut: kept per resource by the operator, which
    would otherwise list every resource of the namespace in every pass."""
    metadata = resource.get("metadata") or {}
    kept = ("uid", "name", "namespace", "creationTimestamp", "deletionTimestamp")
    return {
        "metadata": {key: metadata[key] for key in kept if metadata.get(key)},
        "spec": {"edges": (resource.get("spec") or {}).get("edges")},
        "status": {"edges": (resource.get("status") or {}).get("edges")},
    }


class Conflicting(PreconditionFailed):
    """Another VirtualNodeShortcut already joins the same two edges."""


def _refuse_an_older_rival(
    resource: Mapping[str, Any], cluster_ids: set[str], shortcuts: Iterable[Mapping[str, Any]]
) -> None:
    older = [r for r in _rivals(resource, cluster_ids, shortcuts) if _age(r) < _age(resource)]
    if older:
        name = f"{older[0]['metadata']['namespace']}/{older[0]['metadata']['name']}"
        raise Conflicting(
            f"VirtualNodeShortcut {name} already joins these two edges; this one is left "
            "waiting: delete one of the two"
        )


def _joins(resource: Mapping[str, Any]) -> set[str]:
    status_ids = {e.get("clusterID") for e in (resource.get("status") or {}).get("edges") or []}
    spec_ids = {e.get("clusterID") for e in (resource.get("spec") or {}).get("edges") or []}
    for ids in (status_ids, spec_ids):
        if None not in ids and len(ids) == 2:
            return {str(i) for i in ids}
    return set()


def _age(resource: Mapping[str, Any]) -> tuple[str, str]:
    metadata = resource["metadata"]
    return (str(metadata.get("creationTimestamp") or ""), str(metadata.get("name")))


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


def _waited(waiting: WaitTimedOut, waited: float, timeout: int) -> Failure:
    if waited < timeout:
        # No running count in the message: the status changes only when the wait does.
        return Failure(PROGRESSING, f"waiting for {waiting.what} (timeout {timeout}s)")
    return Failure(
        "TimedOut",
        f"timed out after {timeout}s waiting for {waiting.what}; raise spec.timeout if the "
        "clusters are slow",
    )


INVALID_SPEC: Final = "InvalidSpec"
# The most specific class first; a reason per failure a user can act on.
_REASONS: Final[tuple[tuple[type[ShortcutError], str], ...]] = (
    (CredentialsInvalid, "CredentialsInvalid"),
    (Conflicting, CONFLICT),
    (CredentialsRejected, "CredentialsRejected"),
    (AccessDenied, "AccessDenied"),
    (ClusterUnreachable, "ClusterUnreachable"),
    (LiqoMissing, "LiqoMissing"),
    (WaitTimedOut, "TimedOut"),
    (Interrupted, "Interrupted"),  # the teardown cut the pass short
    (UsageError, INVALID_SPEC),
    (WorkflowFailed, "ConnectFailed"),
    (ShortcutError, "PreconditionFailed"),
)


def classify(error: ShortcutError, edges: set[str]) -> Failure:
    """The Failure ``error`` stands for. The edges' credentials are to blame for a Secret's
    fault, and for a 401 or 403 from one of ``edges`` (central's are the operator's own)."""
    reason = next(reason for kind, reason in _REASONS if isinstance(error, kind))
    refused_by_edge = isinstance(error, CredentialsRejected | AccessDenied) and (
        isinstance(error, ClusterFailure) and error.cluster in edges
    )
    blame = isinstance(error, CredentialsInvalid) or refused_by_edge
    return Failure(reason=reason, message=str(error), credentials=blame)


def _edge_names(resource: Mapping[str, Any]) -> set[str]:
    edges = (resource.get("spec") or {}).get("edges")
    return {str(edge.get("name")) for edge in edges or [] if isinstance(edge, Mapping)}
