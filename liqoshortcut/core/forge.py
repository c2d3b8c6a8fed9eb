"""The objects `liqoctl network connect` creates, forged as Liqo v1.2.0 does, plus our labels.

Each function mirrors one forge of pkg/liqo-controller-manager/networking/forge/ as liqoctl calls
it (pkg/liqoctl/network/): same names (the remote cluster ID), namespaces (the tenant namespace of
the remote cluster), labels and spec fields, so Liqo's controllers treat a shortcut exactly like a
peering made with liqoctl. tests/integration/test_forge_matches_liqoctl.py holds them to
`liqoctl create ... -o yaml`. Pure: every fact read from a cluster comes in as an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from liqoshortcut.core import naming
from liqoshortcut.core.gateway import GatewaySettings
from liqoshortcut.core.naming import (
    GATEWAY_RESOURCE_LABEL,
    REMOTE_CLUSTER_ID_LABEL,
    ownership_labels,
)

Manifest = dict[str, Any]

NETWORKING_API = "networking.liqo.io/v1beta1"
# liqoctl's default gateway types (--gw-server-type / --gw-client-type) resolve to these kinds.
SERVER_TEMPLATE = ("WgGatewayServerTemplate", "wireguard-server")
CLIENT_TEMPLATE = ("WgGatewayClientTemplate", "wireguard-client")


@dataclass(frozen=True)
class ServerEndpoint:
    """Where the client dials: the GatewayServer's status.endpoint, or the NAT override."""

    addresses: tuple[str, ...]
    port: int
    protocol: str = "UDP"


@dataclass(frozen=True)
class OwnerGateway:
    """The gateway a PublicKey belongs to (liqoctl sets it as a non-controller owner)."""

    kind: str
    name: str
    uid: str


def _metadata(
    name: str, namespace: str, remote_cluster_id: str, shortcut: str, **extra: str
) -> Manifest:
    labels = {REMOTE_CLUSTER_ID_LABEL: remote_cluster_id, **extra, **ownership_labels(shortcut)}
    return {"name": name, "namespace": namespace, "labels": labels}


def configuration(
    *,
    shortcut: str,
    remote_cluster_id: str,
    namespace: str,
    pod_cidrs: tuple[str, ...],
    external_cidr: str,
) -> Manifest:
    """The remote cluster's networks, as seen locally (forge/configuration.go Configuration)."""
    return {
        "apiVersion": NETWORKING_API,
        "kind": "Configuration",
        "metadata": _metadata(remote_cluster_id, namespace, remote_cluster_id, shortcut),
        "spec": {"remote": {"cidr": {"pod": list(pod_cidrs), "external": [external_cidr]}}},
    }


def _template_ref(kind_and_name: tuple[str, str], namespace: str) -> Manifest:
    kind, name = kind_and_name
    return {"apiVersion": NETWORKING_API, "kind": kind, "name": name, "namespace": namespace}


def gateway_server(
    *,
    shortcut: str,
    remote_cluster_id: str,
    namespace: str,
    settings: GatewaySettings,
    template_namespace: str,
) -> Manifest:
    """The server side of the tunnel (forge/gatewayserver.go MutateGatewayServer)."""
    endpoint: Manifest = {"port": settings.port, "serviceType": settings.service_type}
    if settings.node_port:
        endpoint["nodePort"] = settings.node_port
    if settings.load_balancer_ip:
        endpoint["loadBalancerIP"] = settings.load_balancer_ip
    return {
        "apiVersion": NETWORKING_API,
        "kind": "GatewayServer",
        "metadata": _metadata(remote_cluster_id, namespace, remote_cluster_id, shortcut),
        "spec": {
            "endpoint": endpoint,
            "mtu": settings.mtu,
            "secretRef": {},
            "serverTemplateRef": _template_ref(SERVER_TEMPLATE, template_namespace),
        },
    }


def gateway_client(
    *,
    shortcut: str,
    remote_cluster_id: str,
    namespace: str,
    settings: GatewaySettings,
    endpoint: ServerEndpoint,
    template_namespace: str,
) -> Manifest:
    """The client side, dialing the server's endpoint (forge/gatewayclient.go)."""
    return {
        "apiVersion": NETWORKING_API,
        "kind": "GatewayClient",
        "metadata": _metadata(remote_cluster_id, namespace, remote_cluster_id, shortcut),
        "spec": {
            "clientTemplateRef": _template_ref(CLIENT_TEMPLATE, template_namespace),
            "endpoint": {
                "addresses": list(endpoint.addresses),
                "port": endpoint.port,
                "protocol": endpoint.protocol,
            },
            "mtu": settings.mtu,
            "secretRef": {},
        },
    }


def server_endpoint(status_endpoint: Manifest) -> ServerEndpoint:
    """A GatewayServer's status.endpoint: where its client dials unless the user overrides it.

    The overrides (``clientAddress``, ``clientPort``) are the plan's business: it leaves the
    overridden fields out of what it fills at run time (handler.go RunConnect).
    """
    return ServerEndpoint(
        addresses=tuple(status_endpoint.get("addresses") or ()),
        port=int(status_endpoint["port"]),
        protocol=str(status_endpoint.get("protocol") or "UDP"),
    )


def public_key(
    *,
    shortcut: str,
    remote_cluster_id: str,
    namespace: str,
    key_base64: str,
    owner: OwnerGateway,
) -> Manifest:
    """The peer gateway's WireGuard public key (forge/publickey.go, cluster.go EnsurePublicKey)."""
    metadata = _metadata(
        remote_cluster_id,
        namespace,
        remote_cluster_id,
        shortcut,
        **{GATEWAY_RESOURCE_LABEL: "true"},
    )
    metadata["ownerReferences"] = [
        {"apiVersion": NETWORKING_API, "kind": owner.kind, "name": owner.name, "uid": owner.uid}
    ]
    return {
        "apiVersion": NETWORKING_API,
        "kind": "PublicKey",
        "metadata": metadata,
        "spec": {"publicKey": key_base64},
    }


def tenant_namespace(*, shortcut: str, remote_cluster_id: str) -> Manifest:
    """Liqo's tenant namespace for a peer (pkg/tenantNamespace ForgeNamespace), made if missing."""
    privileged = "privileged"  # gateway pods need NET_ADMIN: Liqo labels its namespaces so
    labels = {
        REMOTE_CLUSTER_ID_LABEL: remote_cluster_id,
        naming.TENANT_NAMESPACE_LABEL: "true",
        "pod-security.kubernetes.io/audit": privileged,
        "pod-security.kubernetes.io/enforce": privileged,
        "pod-security.kubernetes.io/warn": privileged,
        **ownership_labels(shortcut),
    }
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": naming.tenant_namespace(remote_cluster_id), "labels": labels},
    }
