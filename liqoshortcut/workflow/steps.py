"""What one step of a plan does on its edge: check, create or wait, and the values it produces.

CREATE starts from what `refuse_foreign` found by the object's deterministic name just before the
run: ours is kept (a re-run converges), anyone else's was refused, and a new one is journalled
as soon as the API server has it, so a rollback finds it; one made in between (a concurrent run
of the same shortcut) meets AlreadyExists and is then looked up like the others. With ``repair``
(the operator's reconcile) ours is also compared with what the plan would create now, and one
that has drifted (other gateway settings, a gateway recreated under a PublicKey) is deleted and
created anew; one on its way out is waited out and recreated.
CHECK reads once; WAIT follows a watch under the run's deadline, or polls where the credentials
may not watch (Liqo's peering user). The values later steps need (the server's endpoint, each
gateway's public key and uid) are returned as the step's outputs; the plan says which step needs
which (`Step.pending`).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Final

from liqoshortcut.core import forge
from liqoshortcut.core.drift import drifted_fields
from liqoshortcut.core.forge import Manifest
from liqoshortcut.core.plan import Action, Condition, Output, Outputs, Step
from liqoshortcut.errors import PreconditionFailed, ShortcutError
from liqoshortcut.kube import objects
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.errors import AlreadyExists
from liqoshortcut.kube.resources import Resource, by_kind
from liqoshortcut.kube.watch import Follow, WatchDenied
from liqoshortcut.workflow.foreign import find_ours
from liqoshortcut.workflow.journal import Journal, ObjectRef
from liqoshortcut.workflow.progress import Phase, ProgressEvent, Reporter
from liqoshortcut.workflow.waiting import Deadline

# Judges a wait's objects as they are now: the outputs if its condition holds, None if not (yet).
Judge = Callable[[Cluster, list[Manifest]], Outputs | None]


class EdgeSteps:
    """Runs plan steps on the edges' clusters (by edge name) for the shortcut ``shortcut``."""

    def __init__(
        self,
        clusters: Mapping[str, Cluster],
        shortcut: str,
        deadline: Deadline,
        report: Reporter,
        journal: Journal,
        found: Mapping[str, Manifest | None],
        *,
        repair: bool = False,
    ) -> None:
        self.clusters = clusters
        self.shortcut = shortcut
        self.deadline = deadline
        self.report = report
        self.journal = journal
        self.repair = repair
        # What `refuse_foreign` found where each CREATE step creates, just before the run.
        self.found = dict(found)
        # (cluster, resource) pairs whose watch was refused (Liqo's peering user): polled.
        self.unwatchable: set[tuple[str, Resource]] = set()

    def __call__(self, step: Step, produced: Mapping[str, Outputs]) -> Outputs:
        cluster = self.clusters[step.cluster]
        if step.action is Action.CREATE:
            return self._ensure(cluster, step, produced)
        if step.action is Action.CHECK and step.condition is Condition.TEMPLATE_EXISTS:
            return self._reported(cluster, step, lambda: _require_template(cluster, step))
        if step.action is Action.WAIT and step.condition is not None:
            judge = WAITS[step.condition]
            return self._reported(cluster, step, lambda: self._await(cluster, step, judge))
        raise ValueError(f"no way to run step {step.id} ({step.action}, {step.condition})")

    def _await(self, cluster: Cluster, step: Step, judge: Judge) -> Outputs:
        """Wait until ``judge`` finds ``step``'s condition: by watch, unless this cluster refused
        one for the kind."""
        # "wait for X" is the step; the timeout message says "waiting for X".
        what = f"{step.what.removeprefix('wait for ')} on {cluster.name}"
        resource = by_kind(step.kind)
        if (cluster.name, resource) not in self.unwatchable:
            try:
                return self.deadline.follow(
                    what,
                    lambda: Follow(
                        cluster, resource, step.namespace, name=step.name, labels=step.selector
                    ),
                    lambda seen: judge(cluster, seen),
                )
            except WatchDenied:
                self.unwatchable.add((cluster.name, resource))
        return self.deadline.poll(what, lambda: judge(cluster, _read(cluster, resource, step)))

    def _ensure(self, cluster: Cluster, step: Step, produced: Mapping[str, Outputs]) -> Outputs:
        """The object as it is on the cluster: ours if present, else created and journalled."""
        # Read just before the run; one made since then meets its create's AlreadyExists.
        existing = self.found.pop(step.id) if step.id in self.found else None
        manifest = step.resolve(produced)
        if existing is not None and self.repair:
            drifted = drifted_fields(manifest, existing)
            if drifted or existing["metadata"].get("deletionTimestamp"):
                detail = f"drifted: {', '.join(drifted)}" if drifted else "was being deleted"
                self._replace(cluster, step, detail)
                existing = None
        if existing is not None:
            self.report(ProgressEvent(Phase.SKIPPED, step.what, cluster.name, "already there"))
            return _uid(existing)
        return self._reported(cluster, step, lambda: self._create(cluster, step, manifest))

    def _replace(self, cluster: Cluster, step: Step, detail: str) -> None:
        """Delete ``step``'s object and wait until it is gone, so that it can be made anew."""
        resource, what = by_kind(step.kind), f"replace {step.what.removeprefix('create ')}"
        self.report(ProgressEvent(Phase.STARTED, what, cluster.name, detail))
        objects.delete(cluster, resource, step.name, step.namespace)
        self.deadline.poll(
            f"{step.kind} {step.namespace}/{step.name} to go on {cluster.name}",
            lambda: gone(cluster, resource, step.name, step.namespace),
        )
        self.report(ProgressEvent(Phase.DONE, what, cluster.name, detail))

    def _create(self, cluster: Cluster, step: Step, manifest: Manifest) -> Outputs:
        resource = by_kind(step.kind)
        try:
            created = objects.create(cluster, resource, manifest)
        except AlreadyExists:
            # Made since the run looked (another run of this shortcut, at the same time): ours
            # is used as it is and not journalled, anyone else's refused.
            if (made := find_ours(cluster, step, self.shortcut)) is None:
                raise
            return _uid(made)
        self.journal.record(
            ObjectRef(
                step.cluster,
                resource.api_version,
                resource.kind,
                resource.plural,
                step.namespace,
                step.name,
            )
        )
        return _uid(created)

    def _reported(self, cluster: Cluster, step: Step, action: Callable[[], Outputs]) -> Outputs:
        self.report(ProgressEvent(Phase.STARTED, step.what, cluster.name))
        try:
            outputs = action()
        except ShortcutError as error:
            self.report(ProgressEvent(Phase.FAILED, step.what, cluster.name, str(error)))
            raise
        self.report(ProgressEvent(Phase.DONE, step.what, cluster.name))
        return outputs


def gone(cluster: Cluster, resource: Resource, name: str, namespace: str | None) -> bool | None:
    """A poll check: True once the object no longer exists, None while it does."""
    return True if objects.get(cluster, resource, name, namespace) is None else None


def missing_template(cluster: str, namespace: str, name: str) -> PreconditionFailed:
    return PreconditionFailed(
        f"{cluster} has no gateway template {namespace}/{name}: "
        "reinstall Liqo or restore the template from its chart"
    )


def _require_template(cluster: Cluster, step: Step) -> Outputs:
    if objects.get(cluster, by_kind(step.kind), step.name, step.namespace) is None:
        raise missing_template(cluster.name, _namespace(step), step.name)
    return {}


def _uid(obj: Manifest) -> Outputs:
    return {Output.UID: obj["metadata"]["uid"]}


def _namespace(step: Step) -> str:
    if not step.namespace:
        raise ValueError(f"step {step.id} names no namespace")  # a programming error
    return step.namespace


def _read(cluster: Cluster, resource: Resource, step: Step) -> list[Manifest]:
    """The objects a wait judges, read once: the one named, or those the selector finds."""
    if step.selector:
        return objects.list_objects(cluster, resource, step.namespace, step.selector)
    found = objects.get(cluster, resource, step.name, step.namespace)
    return [] if found is None else [found]


def _status(seen: list[Manifest]) -> Manifest:
    return (seen[0].get("status") or {}) if seen else {}


def _configured(cluster: Cluster, seen: list[Manifest]) -> Outputs | None:
    # Liqo's AreConfigurationNetworkCIDRsConfigured: the condition is True for this generation of
    # the spec.
    for configuration in seen:
        generation = configuration.get("metadata", {}).get("generation")
        status = configuration.get("status") or {}
        for condition in status.get("conditions") or []:
            if (
                condition.get("type") == "NetworkCIDRsConfigured"
                and condition.get("status") == "True"
                and condition.get("observedGeneration") == generation
            ):
                mapped = ((status.get("remote") or {}).get("cidr") or {}).get("pod") or []
                return {Output.PEER_POD_CIDRS: [str(cidr) for cidr in mapped]}
    return None


def _pod_ready(cluster: Cluster, seen: list[Manifest]) -> Outputs | None:
    return {} if _status(seen).get("readyReplicas") else None


def _endpoint(cluster: Cluster, seen: list[Manifest]) -> Outputs | None:
    reported = _status(seen).get("endpoint") or {}
    if not reported.get("addresses"):
        return None
    endpoint = forge.server_endpoint(reported)
    return {
        Output.ENDPOINT_ADDRESSES: list(endpoint.addresses),
        Output.ENDPOINT_PORT: endpoint.port,
        Output.ENDPOINT_PROTOCOL: endpoint.protocol,
    }


def _key(cluster: Cluster, seen: list[Manifest]) -> Outputs | None:
    secret = (_status(seen).get("secretRef") or {}).get("name")
    if not secret:
        return None
    namespace = seen[0]["metadata"]["namespace"]
    key = objects.gateway_public_key(cluster, secret, namespace)
    return {Output.PUBLIC_KEY: base64.b64encode(key).decode()}


def _connected(cluster: Cluster, seen: list[Manifest]) -> Outputs | None:
    states = [(c.get("status") or {}).get("value") for c in seen]
    return {} if states == ["Connected"] else None


WAITS: Final[Mapping[Condition, Judge]] = {
    Condition.CONFIGURED: _configured,
    Condition.POD_READY: _pod_ready,
    Condition.ENDPOINT: _endpoint,
    Condition.KEY: _key,
    Condition.CONNECTED: _connected,
}
