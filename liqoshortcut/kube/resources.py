"""The Kubernetes and Liqo resource types the tool touches, named once.

Group, version and plural are what the API paths need and what error messages name; they follow
Liqo v1.2.0's CRDs (deployments/liqo/charts/liqo-crds/crds/), where PublicKey's plural really is
``publickeies``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from liqoshortcut.core.model import API_GROUP, API_VERSION, KIND, PLURAL


@dataclass(frozen=True)
class Resource:
    """A resource type; ``group`` is empty for the core API."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """``configurations.networking.liqo.io``: how kubectl and RBAC spell it."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def is_liqo(self) -> bool:
        return self.group.endswith(".liqo.io")


NETWORKING: Final = "networking.liqo.io"
NETWORKING_VERSION: Final = "v1beta1"

CONFIGURATION: Final = Resource(NETWORKING, NETWORKING_VERSION, "configurations", "Configuration")
GATEWAY_SERVER: Final = Resource(NETWORKING, NETWORKING_VERSION, "gatewayservers", "GatewayServer")
GATEWAY_CLIENT: Final = Resource(NETWORKING, NETWORKING_VERSION, "gatewayclients", "GatewayClient")
PUBLIC_KEY: Final = Resource(NETWORKING, NETWORKING_VERSION, "publickeies", "PublicKey")
CONNECTION: Final = Resource(NETWORKING, NETWORKING_VERSION, "connections", "Connection")
WG_GATEWAY_SERVER_TEMPLATE: Final = Resource(
    NETWORKING, NETWORKING_VERSION, "wggatewayservertemplates", "WgGatewayServerTemplate"
)
WG_GATEWAY_CLIENT_TEMPLATE: Final = Resource(
    NETWORKING, NETWORKING_VERSION, "wggatewayclienttemplates", "WgGatewayClientTemplate"
)
NETWORK: Final = Resource("ipam.liqo.io", "v1alpha1", "networks", "Network")
FOREIGN_CLUSTER: Final = Resource(
    "core.liqo.io", "v1beta1", "foreignclusters", "ForeignCluster", namespaced=False
)

# The kinds a shortcut creates on an edge: exactly the ones Liqo's peering user may write.
WRITABLE: Final = (CONFIGURATION, GATEWAY_SERVER, GATEWAY_CLIENT, PUBLIC_KEY)

NAMESPACE: Final = Resource("", "v1", "namespaces", "Namespace", namespaced=False)
CONFIG_MAP: Final = Resource("", "v1", "configmaps", "ConfigMap")
SECRET: Final = Resource("", "v1", "secrets", "Secret")
SERVICE: Final = Resource("", "v1", "services", "Service")
DEPLOYMENT: Final = Resource("apps", "v1", "deployments", "Deployment")
NODE: Final = Resource("", "v1", "nodes", "Node", namespaced=False)
ENDPOINT_SLICE: Final = Resource("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice")
# This project's own resource, in the central cluster.
VIRTUAL_NODE_SHORTCUT: Final = Resource(API_GROUP, API_VERSION.split("/")[1], PLURAL, KIND)

_BY_KIND: Final = {
    r.kind: r
    for r in (
        *WRITABLE,
        CONNECTION,
        WG_GATEWAY_SERVER_TEMPLATE,
        WG_GATEWAY_CLIENT_TEMPLATE,
        NAMESPACE,
        DEPLOYMENT,
    )
}


def by_kind(kind: str) -> Resource:
    """The resource type of a kind a plan step names, e.g. ``GatewayServer``."""
    try:
        return _BY_KIND[kind]
    except KeyError:
        raise ValueError(f"no resource type for kind {kind!r}") from None  # a programming error
