"""The command line's half of the traffic policy: `create` annotates the selected Services once,
`delete` takes them back to the hub.

The operator re-decides every Service every few seconds (`operator.router`); a command runs once,
so it routes only what is safe to route at that moment and for as long as nobody changes it: right
after both Connections were seen Connected, on the Direct path. It has no health fallback (a dead
tunnel keeps the annotation until `delete` or the operator) and no latency choice, so
the Auto path is the operator's alone. Decisions are `core.routing`'s, over one `ShortcutView`
for this shortcut, so the CLI and the operator agree on which Services are safe.

What a create run changes on central is journaled (each Service's two annotations as they were),
and `ConnectRun` undoes it with the rest of its rollback. Only our mark is ever taken off: a
`liqo.io/use-direct-connections` set by someone else is left alone, and a Service another
shortcut routes is left to it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

from liqoshortcut.core.forge import Manifest
from liqoshortcut.core.plan import Placement, Plan
from liqoshortcut.core.routing import (
    ROUTED_BY,
    USE_DIRECT_CONNECTIONS,
    Change,
    ServiceKey,
    ServiceView,
    ShortcutView,
    changes,
    selects,
)
from liqoshortcut.core.selectors import selection
from liqoshortcut.core.traffic import PathMode, ServiceSelection, TrafficPolicy
from liqoshortcut.errors import ShortcutError, stopped_midway
from liqoshortcut.kube import objects, traffic
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.errors import (
    PEERING_USER_FIX,
    AccessDenied,
    Conflict,
    NotFound,
    Rejected,
)
from liqoshortcut.kube.resources import SERVICE
from liqoshortcut.workflow.progress import Phase, ProgressEvent, Reporter


def routes(policy: TrafficPolicy) -> bool:
    """Whether `create` annotates Services for ``policy``: some selected, on the Direct path."""
    return policy.services != ServiceSelection.NONE and policy.path == PathMode.DIRECT


def describe(policy: TrafficPolicy) -> str:
    """Which Services the policy selects, for one-line messages."""
    match policy.services:
        case ServiceSelection.NONE:
            return "no Service"
        case ServiceSelection.ALL:
            return "every offloaded Service with endpoints on both edges"
    selected = selection(policy, "in namespaces", "labelled")
    return f"the offloaded Services with endpoints on both edges {selected}"


def shortcut_key(plan: Placement) -> str:
    """The name ``create`` routes Services under, in their ``shortcut.liqo.io/routed-by`` mark:
    the shortcut's own name. The operator's keys are ``namespace/name`` of a
    VirtualNodeShortcut; a shortcut's name holds no '/', so the two never collide."""
    return plan.shortcut


def marks(annotations: Mapping[str, str]) -> set[str]:
    """The shortcuts our mark names as routing a Service (none when unmarked)."""
    return {key.strip() for key in annotations.get(ROUTED_BY, "").split(",") if key.strip()}


def service_name(key: ServiceKey) -> str:
    return "/".join(key)


@dataclass(frozen=True)
class _Before:
    """A Service's two annotations before this run patched them (None: absent)."""

    service: ServiceKey
    annotations: dict[str, str | None]


class ServiceRouting:
    """`create`'s routing step: annotate, once, the Services the policy selects over the shortcut
    between ``edges`` (by edge name, as the plan's); `undo()` puts back what `run()` changed.

    Run only when both Connections were just seen Connected (``direct=True``). A Service whose
    mark names exactly this shortcut and which is no longer to be routed (a re-run with another
    selection, endpoints moved) is taken back to the hub.
    """

    def __init__(
        self,
        central: Cluster,
        plan: Plan,
        policy: TrafficPolicy,
        edges: Mapping[str, Cluster],
        report: Reporter,
        liqo_namespace: str = "liqo",
    ) -> None:
        self.central = central
        self.plan = plan
        self.policy = policy
        self.edges = edges
        self.report = report
        self.liqo_namespace = liqo_namespace
        self.key = shortcut_key(plan)
        self.routed: list[ServiceKey] = []  # after run(): the Services routed over the shortcut
        self._before: list[_Before] = []
        self._lock = threading.Lock()

    def check(self) -> None:
        """Before any change: central lets these credentials read what `run()` reads (a
        refusal here is a precondition failure with nothing changed, not a rollback)."""
        try:
            traffic.service_views(self.central)
        except AccessDenied as error:
            raise AccessDenied(
                f"{str(error).removesuffix(': ' + PEERING_USER_FIX)}: routing Services needs "
                "the rights to list Services, EndpointSlices, Nodes and Namespaces and to patch "
                "Services on central; grant them, or make the shortcut without routing Services",
                cluster=error.cluster,
            ) from None

    @property
    def changed(self) -> int:
        with self._lock:
            return len(self._before)

    def run(self) -> list[ServiceKey]:
        view = ShortcutView(
            key=self.key,
            edges=frozenset(edge.cluster_id for edge in self.plan.edges.values()),
            policy=self.policy,
            direct=True,  # both Connections were just seen Connected
            refusing=refusing_edges(self.plan, self.edges, self.liqo_namespace),
        )
        services = sorted(traffic.service_views(self.central), key=lambda s: s.key)
        patches, decisions = changes(services, [view])
        patch_of = {change.service: change for change in patches}
        routed = []
        for service in services:
            decision = decisions[service.key]
            marked_by = marks(service.annotations)
            change = patch_of.get(service.key)
            what = f"route Service {service_name(service.key)} over the shortcut"
            if decision.routed and marked_by - {self.key}:
                # Another shortcut's mark: it routes the Service, and its router decides it.
                if self.key in marked_by:
                    routed.append(service.key)
                detail = f"already routed by {', '.join(sorted(marked_by - {self.key}))}"
                self._tell(Phase.SKIPPED, what, detail)
            elif decision.routed and change is None:
                self._tell(Phase.SKIPPED, what, "already routed")
                routed.append(service.key)
            elif decision.routed and change is not None:
                if self._annotate(service, change):
                    self._tell(Phase.DONE, what, decision.message)
                    routed.append(service.key)
                else:
                    self._tell(Phase.SKIPPED, what, "deleted meanwhile")
            elif marked_by == {self.key} and change is not None:
                back = f"take Service {service_name(service.key)} back to the hub"
                gone = not self._annotate(service, change)
                self._tell(Phase.SKIPPED if gone else Phase.DONE, back, decision.message)
            elif self._concerns(view, service):
                self._tell(Phase.SKIPPED, what, decision.message)
        self.routed = routed
        return routed

    def undo(self) -> list[str]:
        """Put back, newest first, the annotations `run()` changed; what could not be put back,
        as the commands that would."""
        with self._lock:
            before = list(reversed(self._before))
        left = []
        for previous in before:
            name = service_name(previous.service)
            self.report(
                ProgressEvent(
                    Phase.ROLLBACK, f"restore the annotations of Service {name}", self.central.name
                )
            )
            try:
                change = Change(previous.service, previous.annotations, routed=False)
                traffic.annotate(self.central, change)
            except NotFound:
                continue  # deleted meanwhile: nothing of ours left on it
            except (Exception, KeyboardInterrupt):  # named as left; the others go on
                left.append(_annotate_command(self.central, previous))
        return left

    def _annotate(self, service: ServiceView, change: Change) -> bool:
        """Patch ``change``, journaled; False when the Service was deleted since it was read."""
        before = _Before(service.key, {k: service.annotations.get(k) for k in change.annotations})
        with self._lock:
            self._before.append(before)  # first: an interrupt during the patch still undoes it
        try:
            traffic.annotate(self.central, change)
        except (AccessDenied, NotFound, Rejected, Conflict) as error:
            with self._lock:  # refused by the API server: nothing to undo on this one
                self._before.remove(before)
            if isinstance(error, NotFound):
                return False
            raise
        return True

    def _tell(self, phase: Phase, step: str, detail: str) -> None:
        self.report(ProgressEvent(phase, step, self.central.name, detail))

    def _concerns(self, view: ShortcutView, service: ServiceView) -> bool:
        """Selected, with endpoints on one of the edges and another, and still not routed:
        worth saying why (an edge without a shortcut, someone else's annotation, ...)."""
        edges = service.endpoint_edges
        return selects(self.policy, service) and len(edges) > 1 and bool(view.edges & edges)


def refusing_edges(
    plan: Placement, clusters: Mapping[str, Cluster], liqo_namespace: str
) -> frozenset[str]:
    """The cluster IDs of ``plan``'s edges whose Liqo denies direct connections, where that can
    be read (a peering user may not read Liqo's Deployments: then Liqo itself has the last
    word)."""
    refusing = set()
    for edge in plan.edges.values():
        try:
            denied = traffic.refuses_direct_connections(clusters[edge.name], liqo_namespace)
        except ShortcutError:
            denied = None
        if denied:
            refusing.add(edge.cluster_id)
    return frozenset(refusing)


def _annotate_command(central: Cluster, previous: _Before) -> str:
    namespace, name = previous.service
    settings = " ".join(
        f"{key}-" if value is None else f"{key}={value}"
        for key, value in previous.annotations.items()
    )
    return (
        f"kubectl -n {namespace} annotate --overwrite service {name} {settings} on {central.name}"
    )


@dataclass(frozen=True)
class Unrouted:
    """What `unroute` did: the Services taken off this shortcut, and what it could not do."""

    services: tuple[ServiceKey, ...]
    warnings: tuple[str, ...]


def unroute(central: Cluster, key: str, report: Reporter) -> Unrouted:
    """Take every Service whose mark names ``key`` off the shortcut, before it is torn down.

    A Service marked by ``key`` alone loses both annotations (back to the hub); one whose mark
    names other shortcuts too keeps the annotation and loses only ``key`` from its mark, since
    those shortcuts still route it. A Service without our mark is never touched.
    """
    try:
        found = objects.list_objects(central, SERVICE)
    except AccessDenied as error:
        return Unrouted(
            (),
            (
                f"{error}; any Service this shortcut routed keeps {USE_DIRECT_CONNECTIONS}: "
                f"find them by their {ROUTED_BY} annotation",
            ),
        )
    unrouted: list[ServiceKey] = []
    try:
        warnings = _take_back(central, key, found, report, unrouted)
    except (ShortcutError, KeyboardInterrupt) as error:
        if not unrouted:
            raise  # nothing was changed yet
        midway = (
            f"the teardown of shortcut {key} stopped after taking {len(unrouted)} Service(s) back "
            "to the hub, before its objects on the edges: run the same delete again to finish it"
        )
        raise stopped_midway(error, midway) from error
    return Unrouted(tuple(unrouted), tuple(warnings))


def _take_back(
    central: Cluster,
    key: str,
    found: list[Manifest],
    report: Reporter,
    unrouted: list[ServiceKey],
) -> list[str]:
    """`unroute`'s changes, each Service taken back appended to ``unrouted`` as it is done;
    the warnings."""
    warnings = []
    for manifest in sorted(found, key=_key_of):
        annotations = manifest["metadata"].get("annotations") or {}
        marked_by = marks(annotations)
        if key not in marked_by:
            continue
        service = _key_of(manifest)
        others = sorted(marked_by - {key})
        patch: dict[str, str | None] = (
            {ROUTED_BY: ",".join(others)}
            if others
            else {USE_DIRECT_CONNECTIONS: None, ROUTED_BY: None}
        )
        what = f"take Service {service_name(service)} back to the hub"
        if others:
            what = f"take shortcut {key} off the mark of Service {service_name(service)}"
            warnings.append(
                f"Service {service_name(service)} is also routed by {', '.join(others)}: it "
                f"keeps {USE_DIRECT_CONNECTIONS}, and their router decides it from now on"
            )
        report(ProgressEvent(Phase.STARTED, what, central.name))
        try:
            traffic.annotate(central, Change(service, patch, routed=bool(others)))
        except NotFound:
            continue  # deleted meanwhile
        unrouted.append(service)
        report(ProgressEvent(Phase.DONE, what, central.name))
    return warnings


def _key_of(manifest: Mapping[str, object]) -> ServiceKey:
    metadata = manifest["metadata"]
    assert isinstance(metadata, Mapping)
    return (str(metadata["namespace"]), str(metadata["name"]))
