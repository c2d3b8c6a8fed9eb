"""What a shortcut is, as data: the schema of both the CLI flags and the VirtualNodeShortcut spec.

One model for both front ends, so `create --dry-run=client -o yaml` prints a spec the operator
accepts as is and a value refused on the command line is refused in a CR for the same reason.
Fields carry the CR's camelCase spelling as aliases; Python code uses the snake_case names.
Where an edge's credentials come from (a context, a kubeconfig file, a Secret) is only recorded
here: reading them is the kube layer's job.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, model_validator

from liqoshortcut.core.gateway import GatewaySettings, field_error, usage_error

__all__ = [
    "API_VERSION",
    "KIND",
    "EdgeRef",
    "GatewaySettings",
    "ShortcutSpec",
    "usage_error",
]

API_GROUP: Final = "shortcut.liqo.io"
API_VERSION: Final = f"{API_GROUP}/v1alpha1"  # alpha: the schema may still change (issue 4)
KIND: Final = "VirtualNodeShortcut"

DEFAULT_LIQO_NAMESPACE: Final = "liqo"  # liqoctl's --liqo-namespace default
DEFAULT_TIMEOUT_SECONDS: Final = 120  # liqoctl network connect's --timeout default (2m)
# Configurations, two gateway pods, a key exchange and two Connections each take a few polls on a
# healthy pair; below 10 s the run would time out and roll back every time.
MIN_TIMEOUT_SECONDS: Final = 10

# Liqo requires cluster IDs to be DNS-1123 labels (pkg/utils/args/cluster-identity.go).
CLUSTER_ID_PATTERN: Final = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
# A Secret's name is a DNS-1123 subdomain (k8s.io/apimachinery IsDNS1123Subdomain).
SECRET_NAME_PATTERN: Final = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"

_CONFIG = ConfigDict(
    extra="forbid",
    frozen=True,
    validate_by_name=True,
    validate_by_alias=True,
    serialize_by_alias=True,  # a dump is CR YAML
)


class EdgeRef(BaseModel):
    """One edge: a name to show and where its credentials come from.

    ``context`` (in ``kubeconfig`` or the default kubeconfig) serves the CLI; ``secretRef`` names a
    Secret in the CR's namespace holding a kubeconfig, which the operator reads. ``clusterID``, when
    given, is what the edge must turn out to be: a guard against a context pointing elsewhere.
    """

    model_config = _CONFIG

    name: str = Field(min_length=1, max_length=253)
    context: str | None = Field(None, min_length=1)
    kubeconfig: str | None = Field(None, min_length=1)
    secret_ref: str | None = Field(None, alias="secretRef", pattern=SECRET_NAME_PATTERN)
    cluster_id: str | None = Field(None, alias="clusterID", pattern=CLUSTER_ID_PATTERN)

    @model_validator(mode="after")
    def _one_kubeconfig_source(self) -> EdgeRef:
        if self.secret_ref is not None and self.kubeconfig is not None:
            raise field_error(
                "secret_ref", "secretRef", "give either a kubeconfig file or a Secret, not both"
            )
        return self


class ShortcutSpec(BaseModel):
    """A shortcut between two edges; the order of ``edges`` matters only for the default server.

    ``serverEdge`` names the edge hosting the GatewayServer (liqoctl's "remote" cluster); left
    out, it is the second edge given, as in `liqoctl network connect` run on the first.
    """

    model_config = _CONFIG

    edges: tuple[EdgeRef, ...] = Field(min_length=2, max_length=2)
    server_edge: str | None = Field(None, alias="serverEdge", min_length=1)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    timeout: int = Field(DEFAULT_TIMEOUT_SECONDS, ge=MIN_TIMEOUT_SECONDS)  # seconds
    liqo_namespace: str = Field(DEFAULT_LIQO_NAMESPACE, alias="liqoNamespace", min_length=1)

    @model_validator(mode="after")
    def _two_different_edges(self) -> ShortcutSpec:
        first, second = self.edges
        if first.name == second.name:
            raise field_error("edges", "edges", f"both edges are {first.name!r}: give two edges")
        if first.cluster_id is not None and first.cluster_id == second.cluster_id:
            raise field_error(
                "edges", "edges", f"both edges expect cluster ID {first.cluster_id!r}"
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
