"""What a shortcut is, as data: the schema of both the CLI flags and the VirtualNodeShortcut spec.

One model for both front ends, so `create --dry-run=client -o yaml` prints a spec the operator
accepts as is and a value refused on the command line is refused in a CR for the same reason.
Fields carry the CR's camelCase spelling as aliases; Python code uses the snake_case names.
Where an edge's credentials come from (a context, a kubeconfig file, a Secret) is only recorded
here: reading them is the kube layer's job. A resource may name only a Secret (`from_resource`):
a kubeconfig path or context in a CR would let whoever writes CRs pick files and identities
inside the operator's pod.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pydantic import ConfigDict, Field, ValidationInfo, model_validator

from liqoshortcut.core.gateway import GatewaySettings
from liqoshortcut.core.schema import (
    DNS_LABEL_PATTERN,
    DNS_SUBDOMAIN_PATTERN,
    SpecModel,
    field_error,
    rule,
    usage_error,
    validations,
)
from liqoshortcut.core.traffic import TrafficPolicy

__all__ = [
    "API_VERSION",
    "KIND",
    "EdgeRef",
    "GatewaySettings",
    "ShortcutSpec",
    "TrafficPolicy",
    "usage_error",
]

API_GROUP: Final = "shortcut.liqo.io"
API_VERSION: Final = f"{API_GROUP}/v1alpha1"  # alpha: the schema may still change (issue 4)
KIND: Final = "VirtualNodeShortcut"
PLURAL: Final = "virtualnodeshortcuts"

DEFAULT_LIQO_NAMESPACE: Final = "liqo"  # liqoctl's --liqo-namespace default
DEFAULT_TIMEOUT_SECONDS: Final = 120  # liqoctl network connect's --timeout default (2m)
# Configurations, two gateway pods, a key exchange and two Connections each take a few polls on a
# healthy pair; below 10 s the run would time out and roll back every time.
MIN_TIMEOUT_SECONDS: Final = 10

# Liqo requires cluster IDs to be DNS-1123 labels (pkg/utils/args/cluster-identity.go).
CLUSTER_ID_PATTERN: Final = DNS_LABEL_PATTERN
SECRET_NAME_PATTERN: Final = DNS_SUBDOMAIN_PATTERN
MAX_EDGE_NAME_LENGTH: Final = 253

# The validation context of a spec read from a VirtualNodeShortcut (see from_resource).
RESOURCE: Final = "resource"
# Where the CLI finds an edge's kubeconfig; a resource names a Secret instead.
CLI_ONLY_FIELDS: Final = ("context", "kubeconfig")

CLI_ONLY_IN_RESOURCE = (
    "a VirtualNodeShortcut reads an edge's kubeconfig from a Secret: use secretRef"
)
SECRET_REF_REQUIRED = "required in a VirtualNodeShortcut: the Secret holding the edge's kubeconfig"
ONE_KUBECONFIG_SOURCE = "give either a kubeconfig file or a Secret, not both"
EDGES_ARE_IMMUTABLE = "edges are immutable: delete the shortcut and create a new one"
TWO_EDGES = "give two edges"
SERVER_IS_AN_EDGE = "serverEdge must name one of the two edges"


def _from_resource(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get(RESOURCE))


def _resource_edge_schema(schema: dict[str, Any]) -> None:
    """An edge as the CRD sees it: a Secret is its only source of credentials."""
    for name in CLI_ONLY_FIELDS:
        del schema["properties"][name]
    schema["required"] = [*schema["required"], "secretRef"]


class EdgeRef(SpecModel):
    """One edge: a name to show and where its credentials come from.

    ``context`` (in ``kubeconfig`` or the default kubeconfig) serves the CLI; ``secretRef`` names a
    Secret in the CR's namespace holding a kubeconfig, which the operator reads. ``clusterID``, when
    given, is what the edge must turn out to be: a guard against a context pointing elsewhere.
    """

    model_config = ConfigDict(json_schema_extra=_resource_edge_schema)

    name: str = Field(
        min_length=1, max_length=MAX_EDGE_NAME_LENGTH, description="The edge's name, as shown."
    )
    context: str | None = Field(None, min_length=1)
    kubeconfig: str | None = Field(None, min_length=1)
    secret_ref: str | None = Field(
        None,
        alias="secretRef",
        pattern=SECRET_NAME_PATTERN,
        description="Secret in the shortcut's namespace whose key 'kubeconfig' reaches the edge.",
    )
    cluster_id: str | None = Field(
        None,
        alias="clusterID",
        pattern=CLUSTER_ID_PATTERN,
        description="The Liqo cluster ID the edge must have; a guard against a wrong kubeconfig.",
    )

    @model_validator(mode="after")
    def _credentials_fit_their_source(self, info: ValidationInfo) -> EdgeRef:
        if _from_resource(info):
            for name in CLI_ONLY_FIELDS:
                if getattr(self, name) is not None:
                    raise field_error(name, name, CLI_ONLY_IN_RESOURCE)
            if self.secret_ref is None:
                raise field_error("secret_ref", "secretRef", SECRET_REF_REQUIRED)
        if self.secret_ref is not None and self.kubeconfig is not None:
            raise field_error("secret_ref", "secretRef", ONE_KUBECONFIG_SOURCE)
        return self


class ShortcutSpec(SpecModel):
    """A shortcut between two edges; the order of ``edges`` matters only for the default server.

    ``serverEdge`` names the edge hosting the GatewayServer (liqoctl's "remote" cluster); left
    out, it is the second edge given, as in `liqoctl network connect` run on the first.
    """

    model_config = ConfigDict(
        json_schema_extra=validations(
            # Guarded: the API server runs CEL even when edges has the wrong length, and would
            # report an index out of bounds next to the real error.
            rule(
                "size(self.edges) != 2 || self.edges[0].name != self.edges[1].name",
                f"both edges have the same name: {TWO_EDGES}",
                ".edges",
            ),
            rule(
                "size(self.edges) != 2 || !has(self.edges[0].clusterID)"
                " || !has(self.edges[1].clusterID)"
                " || self.edges[0].clusterID != self.edges[1].clusterID",
                f"both edges expect the same cluster ID: {TWO_EDGES}",
                ".edges",
            ),
            rule(
                "!has(self.serverEdge) || self.edges.exists(e, e.name == self.serverEdge)",
                SERVER_IS_AN_EDGE,
                ".serverEdge",
            ),
        ),
    )

    edges: tuple[EdgeRef, ...] = Field(
        min_length=2,
        max_length=2,
        description="The two edges to connect directly; fixed once the shortcut exists.",
        json_schema_extra=validations(rule("self == oldSelf", EDGES_ARE_IMMUTABLE)),
    )
    server_edge: str | None = Field(
        None,
        alias="serverEdge",
        min_length=1,
        max_length=MAX_EDGE_NAME_LENGTH,
        description="The edge hosting the gateway server; the second edge when left out.",
    )
    gateway: GatewaySettings = Field(
        default_factory=GatewaySettings, description="The gateways' settings, as liqoctl's flags."
    )
    traffic: TrafficPolicy = Field(
        default_factory=TrafficPolicy,
        description=(
            "Which Services use the shortcut, on which path; the defaults select no Service, "
            "so a shortcut moves no traffic until told to."
        ),
    )
    timeout: int = Field(  # seconds
        DEFAULT_TIMEOUT_SECONDS,
        ge=MIN_TIMEOUT_SECONDS,
        description="Seconds each connect step may take before it counts as failed.",
    )
    liqo_namespace: str = Field(
        DEFAULT_LIQO_NAMESPACE,
        alias="liqoNamespace",
        min_length=1,
        pattern=DNS_LABEL_PATTERN,
        description="The namespace Liqo is installed in on the edges.",
    )

    @classmethod
    def from_resource(cls, spec: Mapping[str, Any]) -> ShortcutSpec:
        """The spec of a VirtualNodeShortcut: as the CRD's schema, credentials from Secrets only."""
        return cls.model_validate(spec, context={RESOURCE: True})

    @model_validator(mode="after")
    def _two_different_edges(self) -> ShortcutSpec:
        first, second = self.edges
        if first.name == second.name:
            raise field_error("edges", "edges", f"both edges are {first.name!r}: {TWO_EDGES}")
        if first.cluster_id is not None and first.cluster_id == second.cluster_id:
            raise field_error(
                "edges",
                "edges",
                f"both edges expect cluster ID {first.cluster_id!r}: {TWO_EDGES}",
            )
        if self.server_edge is not None and self.server_edge not in (first.name, second.name):
            raise field_error(
                "server_edge",
                "serverEdge",
                f"{self.server_edge!r} is neither edge: give {first.name!r} or {second.name!r}",
            )
        return self

    @property
    def server(self) -> EdgeRef:
        """The edge hosting the GatewayServer."""
        first, second = self.edges
        return first if self.server_edge == first.name else second

    @property
    def client(self) -> EdgeRef:
        """The edge hosting the GatewayClient, dialing the server."""
        first, second = self.edges
        return second if self.server is first else first

    def edge(self, name: str) -> EdgeRef:
        return next(edge for edge in self.edges if edge.name == name)

    def to_manifest(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        """The VirtualNodeShortcut the operator consumes, with every default spelled out."""
        spec = self.model_copy(update={"server_edge": self.server.name})
        metadata: dict[str, Any] = {"name": name}
        if namespace:
            metadata["namespace"] = namespace
        return {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": metadata,
            "spec": spec.model_dump(mode="json", exclude_none=True),
        }
