"""`create --dry-run=server`: every object of the plan sent to its API server, persisted nowhere.

Each API server validates, defaults and admits the object exactly as in a real run (schema,
CEL, admission policies, the credentials' rights) and stores nothing. Two limits, reported rather
than hidden: an object in a namespace that the run itself would create first cannot be sent (the
server would only say the namespace is missing), and values only a real run learns go as stand-ins
(see `core.dry_run.STAND_INS`). The VirtualNodeShortcut goes to central when its CRD is installed
there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from liqoshortcut.core.dry_run import with_stand_ins
from liqoshortcut.core.plan import Action, Plan
from liqoshortcut.errors import ShortcutError
from liqoshortcut.kube import objects
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.errors import AlreadyExists, LiqoMissing
from liqoshortcut.kube.resources import NAMESPACE, VIRTUAL_NODE_SHORTCUT, Resource, by_kind


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    EXISTS = "exists"  # ours already (foreign objects were refused before): create keeps it
    REFUSED = "refused"
    NOT_SENT = "not sent"


@dataclass(frozen=True)
class Answer:
    """What one API server said of one object."""

    cluster: str
    object: str
    verdict: Verdict
    message: str = ""

    def as_dict(self) -> dict[str, str]:
        shown = {"cluster": self.cluster, "object": self.object, "verdict": str(self.verdict)}
        if self.message:
            shown["message"] = self.message
        return shown


def server_dry_run(
    plan: Plan,
    edges: Mapping[str, Cluster],
    central: Cluster,
    shortcut_resource: Mapping[str, Any],
    namespace: str,
) -> list[Answer]:
    """Send every object ``plan`` creates, and ``shortcut_resource`` to ``namespace`` of central,
    with dryRun=All; the answers in plan order."""
    answers = []
    made_namespaces: set[tuple[str, str]] = set()
    for step in plan.steps:
        if step.action is not Action.CREATE:
            continue
        what = f"{step.kind} {step.namespace + '/' if step.namespace else ''}{step.name}"
        if step.namespace and (step.cluster, step.namespace) in made_namespaces:
            reason = f"its namespace {step.namespace} would be created by this run first"
            answers.append(Answer(step.cluster, what, Verdict.NOT_SENT, reason))
            continue
        if step.kind == NAMESPACE.kind:
            made_namespaces.add((step.cluster, step.name))
        answers.append(
            _send(edges[step.cluster], step.cluster, what, by_kind(step.kind), with_stand_ins(step))
        )
    metadata = {**shortcut_resource["metadata"], "namespace": namespace}
    manifest = {**shortcut_resource, "metadata": metadata}
    what = f"{VIRTUAL_NODE_SHORTCUT.kind} {namespace}/{manifest['metadata']['name']}"
    answers.append(_send(central, "central", what, VIRTUAL_NODE_SHORTCUT, manifest))
    return answers


def _send(
    cluster: Cluster, name: str, what: str, resource: Resource, manifest: Mapping[str, Any]
) -> Answer:
    try:
        objects.create(cluster, resource, dict(manifest), dry_run=True)
    except AlreadyExists:
        return Answer(name, what, Verdict.EXISTS, "already there: create keeps it")
    except LiqoMissing:
        # Only the VirtualNodeShortcut can meet this: its CRD is installed with the operator.
        reason = "its CRD is not installed there (the operator's chart installs it)"
        return Answer(name, what, Verdict.NOT_SENT, reason)
    except ShortcutError as error:
        return Answer(name, what, Verdict.REFUSED, str(error))
    return Answer(name, what, Verdict.ACCEPTED)
