"""The lab behaves like real clusters: schema validation, namespace deletion, garbage collection.

These are the promises the rest of the suite leans on; if one breaks, a green integration test
elsewhere would prove nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from kubernetes import client
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from lab.cluster import kubeconfig_path
from lab.kubeclient import client_configuration

pytestmark = pytest.mark.integration

NETWORKING = ("networking.liqo.io", "v1beta1")


def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"condition not met within {timeout}s")


def gateway_server(name: str, spec: dict[str, object]) -> dict[str, object]:
    return {
        "apiVersion": "/".join(NETWORKING),
        "kind": "GatewayServer",
        "metadata": {"name": name},
        "spec": spec,
    }


def status_message(error: ApiException) -> str:
    """The human message of the API server's Status answer."""
    return str(json.loads(str(error.body))["message"])


def gone(read: Callable[[], object]) -> bool:
    try:
        read()
    except ApiException as error:
        if error.status == 404:
            return True
        raise
    return False


def test_api_server_rejects_a_liqo_field_of_the_wrong_type(
    kube: Callable[[str], ApiClient], unique_name: str
) -> None:
    api = client.CustomObjectsApi(kube("edge-a"))
    body = gateway_server(unique_name, {"mtu": "not-a-number"})
    with pytest.raises(ApiException) as rejected:
        api.create_namespaced_custom_object(*NETWORKING, "default", "gatewayservers", body)
    assert rejected.value.status == 422
    assert "spec.mtu" in status_message(rejected.value)


def test_api_server_rejects_an_unknown_liqo_field_under_strict_validation(
    kube: Callable[[str], ApiClient], unique_name: str
) -> None:
    api = client.CustomObjectsApi(kube("edge-b"))
    body = gateway_server(unique_name, {"mtu": 1340, "endpoitn": {"port": 51840}})
    with pytest.raises(ApiException) as rejected:
        api.create_namespaced_custom_object(
            *NETWORKING, "default", "gatewayservers", body, field_validation="Strict"
        )
    assert rejected.value.status == 400  # strict field validation answers Bad Request, not 422
    assert 'unknown field "spec.endpoitn"' in status_message(rejected.value)


def test_api_server_rejects_a_service_type_liqo_does_not_know(
    kube: Callable[[str], ApiClient], unique_name: str
) -> None:
    api = client.CustomObjectsApi(kube("central"))
    body = gateway_server(unique_name, {"endpoint": {"serviceType": "Tunnel", "port": 51840}})
    with pytest.raises(ApiException) as rejected:
        api.create_namespaced_custom_object(*NETWORKING, "default", "gatewayservers", body)
    assert rejected.value.status == 422
    assert "spec.endpoint.serviceType" in status_message(rejected.value)


def test_deleting_a_namespace_really_removes_it_and_what_it_held(
    kube: Callable[[str], ApiClient], unique_name: str
) -> None:
    core = client.CoreV1Api(kube("edge-a"))
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=unique_name)))
    core.create_namespaced_config_map(
        unique_name, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="inside"))
    )
    core.delete_namespace(unique_name)
    wait_until(lambda: gone(lambda: core.read_namespace(unique_name)))
    assert gone(lambda: core.read_namespaced_config_map("inside", unique_name))


def test_deleting_an_owner_garbage_collects_its_dependents(
    kube: Callable[[str], ApiClient], unique_name: str
) -> None:
    core = client.CoreV1Api(kube("edge-b"))
    owner_name, dependent_name = f"{unique_name}-owner", f"{unique_name}-dependent"
    owner = core.create_namespaced_config_map(
        "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name=owner_name))
    )
    assert owner.metadata is not None
    assert owner.metadata.uid
    reference = client.V1OwnerReference(
        api_version="v1", kind="ConfigMap", name=owner_name, uid=owner.metadata.uid
    )
    dependent = client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name=dependent_name, owner_references=[reference])
    )
    core.create_namespaced_config_map("default", dependent)
    core.delete_namespaced_config_map(owner_name, "default")
    wait_until(lambda: gone(lambda: core.read_namespaced_config_map(dependent_name, "default")))


def test_each_cluster_trusts_only_its_own_certificate_authority(lab: object) -> None:
    # central's admin certificate presented to edge-a's API server must be refused, as between
    # two real clusters: the lab cannot hide a client talking to the wrong cluster.
    edge_a, central = client_configuration("edge-a"), client_configuration("central")
    edge_a.cert_file, edge_a.key_file = central.cert_file, central.key_file
    with pytest.raises(ApiException) as refused:
        client.CoreV1Api(ApiClient(edge_a)).list_namespace()
    assert refused.value.status == 401
    assert kubeconfig_path().stat().st_mode & 0o077 == 0, "the lab kubeconfig holds keys"
