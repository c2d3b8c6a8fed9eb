"""What a failed pass reports: a CamelCase reason per failure a user can act on, and whether
the edges' credentials are to blame (CredentialsValid False).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from liqoshortcut.core.observed import Failure
from liqoshortcut.core.reasons import ConditionReason as Reason
from liqoshortcut.errors import Interrupted, ShortcutError, UsageError, WorkflowFailed
from liqoshortcut.kube.credentials import CredentialsInvalid
from liqoshortcut.kube.errors import (
    AccessDenied,
    ClusterFailure,
    ClusterUnreachable,
    CredentialsRejected,
    LiqoMissing,
)
from liqoshortcut.operator.rivals import Conflicting
from liqoshortcut.workflow.waiting import WaitTimedOut


def waited(waiting: WaitTimedOut, waited: float, timeout: int) -> Failure:
    if waited < timeout:
        # No running count in the message: the status changes only when the wait does.
        return Failure(Reason.PROGRESSING, f"waiting for {waiting.what} (timeout {timeout}s)")
    return Failure(
        Reason.TIMED_OUT,
        f"timed out after {timeout}s waiting for {waiting.what}; raise spec.timeout if the "
        "clusters are slow",
    )


# The most specific class first; a reason per failure a user can act on.
_REASONS: Final[tuple[tuple[type[ShortcutError], Reason], ...]] = (
    (CredentialsInvalid, Reason.CREDENTIALS_INVALID),
    (Conflicting, Reason.CONFLICT),
    (CredentialsRejected, Reason.CREDENTIALS_REJECTED),
    (AccessDenied, Reason.ACCESS_DENIED),
    (ClusterUnreachable, Reason.CLUSTER_UNREACHABLE),
    (LiqoMissing, Reason.LIQO_MISSING),
    (WaitTimedOut, Reason.TIMED_OUT),
    (Interrupted, Reason.INTERRUPTED),
    (UsageError, Reason.INVALID_SPEC),
    (WorkflowFailed, Reason.CONNECT_FAILED),
    (ShortcutError, Reason.PRECONDITION_FAILED),
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


def edge_names(resource: Mapping[str, Any]) -> set[str]:
    edges = (resource.get("spec") or {}).get("edges")
    return {str(edge.get("name")) for edge in edges or [] if isinstance(edge, Mapping)}
