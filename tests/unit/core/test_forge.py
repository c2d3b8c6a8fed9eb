"""The forges fill only what liqoctl fills: optional endpoint fields absent, owners as liqoctl."""

from __future__ import annotations

from liqoshortcut.core import forge
from liqoshortcut.core.gateway import GatewaySettings

SHORTCUT = "edge-a--edge-b"


def server_endpoint(settings: GatewaySettings) -> dict[str, object]:
    manifest = forge.gateway_server(
        shortcut=SHORTCUT,
        remote_cluster_id="edge-a",
        namespace="liqo-tenant-edge-a",
        settings=settings,
        template_namespace="liqo",
    )
    endpoint: dict[str, object] = manifest["spec"]["endpoint"]
    return endpoint


def test_a_default_server_endpoint_names_only_port_and_service_type() -> None:
    assert server_endpoint(GatewaySettings()) == {"port": 51840, "serviceType": "LoadBalancer"}


def test_a_fixed_node_port_and_load_balancer_ip_are_passed_through() -> None:
    assert (
        server_endpoint(GatewaySettings(service_type="NodePort", node_port=30001))["nodePort"]
        == 30001
    )
    assert (
        server_endpoint(GatewaySettings(load_balancer_ip="192.0.2.1"))["loadBalancerIP"]
        == "192.0.2.1"
    )


def test_the_client_dials_the_servers_reported_endpoint() -> None:
    status = {"addresses": ["198.51.100.4"], "port": 32001, "protocol": "UDP"}
    assert forge.server_endpoint(status) == forge.ServerEndpoint(
        addresses=("198.51.100.4",), port=32001, protocol="UDP"
    )


def test_an_endpoint_without_a_protocol_is_dialled_over_udp() -> None:
    # WireGuard runs over UDP only; Liqo's status may leave the protocol out.
    assert forge.server_endpoint({"addresses": ["10.0.0.4"], "port": 51840}).protocol == "UDP"


def test_a_public_key_belongs_to_the_local_gateway_without_controlling_it() -> None:
    manifest = forge.public_key(
        shortcut=SHORTCUT,
        remote_cluster_id="edge-b",
        namespace="liqo-tenant-edge-b",
        key_base64="a2V5",
        owner=forge.OwnerGateway(kind="GatewayClient", name="edge-b", uid="u-1"),
    )
    (reference,) = manifest["metadata"]["ownerReferences"]
    assert "controller" not in reference  # controllerutil.SetOwnerReference, not SetController
    assert manifest["metadata"]["labels"]["networking.liqo.io/gateway-resource"] == "true"


def test_a_tenant_namespace_is_labelled_as_liqo_labels_its_own() -> None:
    labels = forge.tenant_namespace(shortcut=SHORTCUT, remote_cluster_id="edge-b")["metadata"][
        "labels"
    ]
    assert labels["liqo.io/tenant-namespace"] == "true"
    assert labels["liqo.io/remote-cluster-id"] == "edge-b"
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
