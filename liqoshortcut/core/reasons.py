"""Every reason a VirtualNodeShortcut's conditions give, in one place (Cluster API's habit).

The writers use these members (a reconcile pass `core.observed`, a failed pass
`operator.classify`, the traffic router `core.observed.traffic_status` with `HubWhy` from
`core.pathhealth`), and the CRD's description of a condition's reason lists them
(`core.status`), so the two cannot drift. docs/operator-resource.md says what each one means.
"""

from __future__ import annotations

from enum import StrEnum


class ConditionReason(StrEnum):
    # Ready and Connected, from a pass that converged (or is still waiting)
    SHORTCUT_READY = "ShortcutReady"
    BOTH_CONNECTED = "BothConnected"
    CONNECTING = "Connecting"
    CONNECTION_ERROR = "ConnectionError"
    NOT_OBSERVED = "NotObserved"  # the Connections were not read in this pass
    PROGRESSING = "Progressing"  # a wait still within spec.timeout: no error
    # CredentialsValid
    KUBECONFIGS_WORK = "KubeconfigsWork"
    NOT_CHECKED = "NotChecked"
    # A failed pass: Ready False (and CredentialsValid False when the edges' Secrets are at fault)
    CREDENTIALS_INVALID = "CredentialsInvalid"
    CONFLICT = "Conflict"  # another VirtualNodeShortcut joins the same two edges
    CREDENTIALS_REJECTED = "CredentialsRejected"
    ACCESS_DENIED = "AccessDenied"
    CLUSTER_UNREACHABLE = "ClusterUnreachable"
    LIQO_MISSING = "LiqoMissing"
    TIMED_OUT = "TimedOut"
    INTERRUPTED = "Interrupted"  # the teardown cut the pass short
    INVALID_SPEC = "InvalidSpec"  # only the spec's author can fix it: no retry
    CONNECT_FAILED = "ConnectFailed"
    PRECONDITION_FAILED = "PreconditionFailed"
    # DirectPathActive, from the traffic router (and the `HubWhy` reasons below)
    ROUTED = "Routed"
    PROVIDER_REFUSES = "ProviderRefuses"
    NO_SERVICE_SELECTED = "NoServiceSelected"
    NO_SERVICE_ROUTED = "NoServiceRouted"


class HubWhy(StrEnum):
    """Why a shortcut's traffic stays on (or went back to) the hub: DirectPathActive's reason."""

    POLICY = "HubPolicy"
    UNHEALTHY = "Unhealthy"
    RECOVERING = "Recovering"
    HUB_FASTER = "HubFaster"
    UNMEASURED = "NotMeasured"


def every_reason() -> list[str]:
    """All reasons a condition of the resource may give."""
    return [*ConditionReason, *HubWhy]
