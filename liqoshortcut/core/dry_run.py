"""What `create --dry-run` shows: the plan for every cluster and the resource the operator takes.

Pure data built from a plan, so the client-side dry run needs nothing but the reads preflight
made, and the server-side one sends exactly these objects. The VirtualNodeShortcut is the same
shortcut written for the operator: its edges name Secrets (a resource never names a context or a
file), the expected cluster IDs pin each edge to the cluster the plan was made for, and every
default is spelled out. For the server-side dry run, the values only a real run learns get
stand-ins that are valid but plainly not real (a documentation address, an all-zero key).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any, Final

from liqoshortcut.core.forge import Manifest
from liqoshortcut.core.model import EdgeRef, ShortcutSpec
from liqoshortcut.core.plan import Action, Output, Outputs, Plan, Side, Step

SECRET_SUFFIX: Final = "-kubeconfig"
_NOT_IN_A_NAME = re.compile(r"[^a-z0-9.-]+")
_MAX_SECRET_NAME: Final = 253

# Valid and obviously not real: RFC 5737's documentation address, a zero key and uid.
STAND_INS: Final[Mapping[Output, object]] = {
    Output.ENDPOINT_ADDRESSES: ["192.0.2.1"],
    Output.ENDPOINT_PORT: 51840,
    Output.ENDPOINT_PROTOCOL: "UDP",
    Output.PUBLIC_KEY: base64.b64encode(bytes(32)).decode(),
    Output.UID: "00000000-0000-0000-0000-000000000000",
}


def secret_name(edge: str) -> str:
    """The Secret expected to hold ``edge``'s kubeconfig: ``<edge>-kubeconfig``, with what a
    Secret's name may not hold (a context such as ``arn:aws:eks:...``) replaced."""
    stem = _NOT_IN_A_NAME.sub("-", edge.lower()).strip("-.")
    stem = stem[: _MAX_SECRET_NAME - len(SECRET_SUFFIX)].rstrip("-.") or "edge"
    return f"{stem}{SECRET_SUFFIX}"


def resource(spec: ShortcutSpec, plan: Plan, timeout: int) -> dict[str, Any]:
    """The VirtualNodeShortcut for ``spec``, named like the shortcut, in no namespace (kubectl's
    current one when applied)."""
    cluster_ids = {edge.name: edge.cluster_id for edge in plan.edges.values()}
    edges = tuple(
        EdgeRef(
            name=edge.name, secret_ref=secret_name(edge.name), cluster_id=cluster_ids[edge.name]
        )
        for edge in spec.edges
    )
    written = spec.model_copy(update={"edges": edges, "timeout": timeout})
    return written.to_manifest(plan.shortcut)


def secret_commands(spec: ShortcutSpec) -> list[str]:
    """How to create the Secrets the resource names, from the edges' kubeconfig contexts."""
    return [
        f"kubectl create secret generic {secret_name(edge.name)} "
        f"--from-file=kubeconfig=<a kubeconfig whose current context is {edge.name}>"
        for edge in spec.edges
    ]


def document(spec: ShortcutSpec, plan: Plan, timeout: int) -> dict[str, Any]:
    """Everything the dry run shows, as data (`-o json`, and the source of `-o yaml`)."""
    return {
        "shortcut": plan.shortcut,
        "server": plan.edges[Side.SERVER].name,
        "client": plan.edges[Side.CLIENT].name,
        "steps": [step.as_dict() for step in plan.steps],
        "objects": plan.manifests_by_cluster(),
        "virtualNodeShortcut": resource(spec, plan, timeout),
        "secrets": secret_commands(spec),
    }


def with_stand_ins(step: Step) -> Manifest:
    """``step``'s manifest with every run-time value replaced by its stand-in."""
    if step.action is not Action.CREATE:
        raise ValueError(f"step {step.id} creates nothing")
    outputs: dict[str, Outputs] = {pending.step: STAND_INS for pending in step.pending}
    return step.resolve(outputs)
