"""What the operator reports on a VirtualNodeShortcut: the schema of its ``status``.

Conditions follow Kubernetes' metav1.Condition (positive polarity, a CamelCase reason, a message
for humans) so kubectl, `kubectl wait --for=condition=Ready` and GitOps tools read them as they
read any other resource's. Unknown fields are ignored rather than refused: the status is written
by the operator and read by CLIs that may be older than it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from liqoshortcut.core.model import CLUSTER_ID_PATTERN, MAX_EDGE_NAME_LENGTH
from liqoshortcut.core.reasons import every_reason
from liqoshortcut.core.schema import DNS_LABEL_PATTERN
from liqoshortcut.core.traffic import Path, PathMode

# metav1.Condition's own bounds and patterns (k8s.io/apimachinery/pkg/apis/meta/v1/types.go).
CONDITION_TYPE_PATTERN = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
)
CONDITION_REASON_PATTERN = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"
MAX_CONDITION_MESSAGE_LENGTH = 32768


class StatusModel(BaseModel):
    """A part of the status; as `schema.SpecModel`, but unknown fields are ignored."""

    model_config = ConfigDict(
        extra="ignore",
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


class ConditionType(StrEnum):
    READY = "Ready"  # the shortcut is made and healthy: what `kubectl wait` waits for
    CONNECTED = "Connected"  # both edges' Liqo Connections report Connected
    CREDENTIALS_VALID = "CredentialsValid"  # both edges' Secrets hold working kubeconfigs
    DIRECT_PATH_ACTIVE = "DirectPathActive"  # selected Services go over the shortcut (traffic)


class Condition(StatusModel):
    type: str = Field(max_length=316, pattern=CONDITION_TYPE_PATTERN)
    status: Literal["True", "False", "Unknown"]
    reason: str = Field(
        min_length=1,
        max_length=1024,
        pattern=CONDITION_REASON_PATTERN,
        description=f"Why, in CamelCase: one of {', '.join(every_reason())}.",
    )
    message: str = Field(max_length=MAX_CONDITION_MESSAGE_LENGTH)
    last_transition_time: datetime = Field(alias="lastTransitionTime")
    observed_generation: int | None = Field(None, alias="observedGeneration", ge=0)


class ConnectionState(StatusModel):
    """An edge's Liqo Connection to the other edge, as its status last said."""

    # Liqo's ConnectionStatusValue (apis/networking/v1beta1/connection_types.go).
    state: Literal["Connected", "Connecting", "Error"] | None = Field(
        None, description="The Liqo Connection's status.value on this edge."
    )
    latency: str | None = Field(
        None, description="The tunnel's round-trip time as Liqo measured it, e.g. 1.2ms."
    )
    # A latency that stops advancing marks a dead tunnel (the traffic work's health check).
    latency_time: datetime | None = Field(
        None, alias="latencyTime", description="When Liqo last measured the latency."
    )


class EdgeStatus(StatusModel):
    name: str = Field(max_length=MAX_EDGE_NAME_LENGTH)
    cluster_id: str | None = Field(None, alias="clusterID", pattern=CLUSTER_ID_PATTERN)
    role: Literal["server", "client"] = Field(
        description="Which gateway of the shortcut the edge hosts."
    )
    connection: ConnectionState | None = None
    peer_pod_cidrs: tuple[str, ...] | None = Field(
        None,
        alias="peerPodCIDRs",
        description="Where this edge's pods reach the other edge's pods over the shortcut: its "
        "pod CIDRs as this edge's Liqo mapped them (remapped where they overlap this edge's).",
    )


class ServiceRef(StatusModel):
    namespace: str = Field(pattern=DNS_LABEL_PATTERN)
    name: str = Field(pattern=DNS_LABEL_PATTERN)


class TrafficStatus(StatusModel):
    """The path decision of the shortcut's traffic policy and the figures behind it."""

    mode: PathMode | None = Field(None, description="spec.traffic.path.")
    choice: Path | None = Field(
        None,
        description="The path chosen: Direct only while healthy (and, with Auto, faster).",
    )
    reason: str | None = Field(None, description="Why the choice is what it is, in one line.")
    healthy: bool | None = Field(
        None, description="Both Connections Connected, their latencies refreshed."
    )
    direct_latency: str | None = Field(
        None, alias="directLatency", description="The tunnel between the edges (worse side)."
    )
    hub_latency: str | None = Field(
        None, alias="hubLatency", description="Central's tunnels to both edges, summed."
    )
    refusing: tuple[str, ...] | None = Field(
        None, description="The edges (cluster IDs) whose Liqo denies direct connections."
    )


class ShortcutStatus(StatusModel):
    observed_generation: int | None = Field(
        None,
        alias="observedGeneration",
        ge=0,
        description="The spec generation the last successful pass converged.",
    )
    conditions: tuple[Condition, ...] | None = Field(
        None,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    edges: tuple[EdgeStatus, ...] | None = Field(
        None,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
    )
    path: Path | None = Field(
        None, description="Where the selected Services' traffic goes now: Direct or through Hub."
    )
    routed_services: tuple[ServiceRef, ...] | None = Field(
        None,
        alias="routedServices",
        description="The Services whose traffic between the edges takes the shortcut.",
        json_schema_extra={
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["namespace", "name"],
        },
    )
    traffic: TrafficStatus | None = None
    last_error: str | None = Field(
        None,
        alias="lastError",
        max_length=MAX_CONDITION_MESSAGE_LENGTH,
        description="The last failure, as one line naming the problem and the fix.",
    )
