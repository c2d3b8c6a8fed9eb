"""A pass's failure becomes one reason a user can act on, and blames credentials only rightly."""

from __future__ import annotations

import pytest

from liqoshortcut.errors import PreconditionFailed, ShortcutError, UsageError, WorkflowFailed
from liqoshortcut.kube.credentials import CredentialsInvalid
from liqoshortcut.kube.errors import AccessDenied, ClusterUnreachable, CredentialsRejected
from liqoshortcut.operator.classify import classify
from liqoshortcut.operator.rivals import Conflicting
from liqoshortcut.workflow.waiting import WaitTimedOut

EDGES = {"edge-a", "edge-b"}


@pytest.mark.parametrize(
    ("error", "reason", "credentials"),
    [
        (CredentialsInvalid("Secret ns/x does not exist"), "CredentialsInvalid", True),
        (Conflicting("ns/other already joins these two edges"), "Conflict", False),
        (CredentialsRejected("401", cluster="edge-a"), "CredentialsRejected", True),
        (AccessDenied("403", cluster="edge-b"), "AccessDenied", True),
        (AccessDenied("403", cluster="central (central)"), "AccessDenied", False),
        (ClusterUnreachable("down", cluster="edge-a"), "ClusterUnreachable", False),
        (WaitTimedOut("timed out", what="a pod"), "TimedOut", False),
        (UsageError("bad"), "InvalidSpec", False),
        (WorkflowFailed("failed"), "ConnectFailed", False),
        (PreconditionFailed("not a provider"), "PreconditionFailed", False),
        (ShortcutError("other"), "PreconditionFailed", False),
    ],
    ids=[
        "a missing Secret blames the credentials",
        "another resource joining the same edges is a conflict",
        "an edge refusing the credentials blames them",
        "an edge denying a right blames the credentials",
        "central denying a right is the operator's own RBAC, not the edges' credentials",
        "an unreachable edge says so and blames nobody's credentials",
        "a timeout",
        "a spec the API server took but the model refuses",
        "a failed step",
        "a precondition",
        "anything else",
    ],
)
def test_each_failure_has_its_reason(error: ShortcutError, reason: str, credentials: bool) -> None:
    failure = classify(error, EDGES)
    assert (failure.reason, failure.credentials) == (reason, credentials)
    assert failure.message == str(error)
