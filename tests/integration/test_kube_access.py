"""Cluster access against the lab's real API servers: discovery of all three clusters, fast and
clear failures, and the least-privilege proof: everything the tool reads or writes on an edge
works with exactly the rights of Liqo's peering user (the chart's RBAC, bound as liqoctl's
userfactory binds it, to a ServiceAccount token instead of a certificate user).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from kubernetes.client import (
    ApiClient,
    AuthenticationV1TokenRequest,
    CoreV1Api,
    RbacAuthorizationV1Api,
    RbacV1Subject,
    V1Namespace,
    V1ObjectMeta,
    V1RoleBinding,
    V1RoleRef,
    V1ServiceAccount,
    V1TokenRequestSpec,
)
from kubernetes.client.exceptions import ApiException

from lab.cluster import Lab, kubeconfig_path
from liqoshortcut.core.forge import Manifest
from liqoshortcut.kube import discovery, objects
from liqoshortcut.kube.clients import Cluster, connect
from liqoshortcut.kube.errors import AccessDenied, ClusterUnreachable
from liqoshortcut.kube.kubeconfig import kubeconfig_from_bytes, load_kubeconfig
from liqoshortcut.kube.resources import CONFIGURATION
from liqoshortcut.kube.watch import Follow, WatchDenied
from tests.integration.snapshots import delete_namespaces

pytestmark = pytest.mark.integration

EDGE = "edge-a"
LIQO = "liqo"
RBAC = "rbac.authorization.k8s.io"
REMOTE_ID = "liqo.io/remote-cluster-id"


def lab_cluster(context: str) -> Cluster:
    return connect(load_kubeconfig(kubeconfig_path()).resolve(context))


def token_cluster(context: str, token: str) -> Cluster:
    """A client for ``context`` that authenticates with ``token`` instead of the lab's admin."""
    document: dict[str, Any] = yaml.safe_load(kubeconfig_path().read_bytes())
    user = {"name": "token-user", "user": {"token": token}}
    document["users"] = [user]
    document["contexts"] = [
        {"name": context, "context": {"cluster": context, "user": "token-user"}}
    ]
    content = yaml.safe_dump(document).encode()
    return connect(kubeconfig_from_bytes(content, "a test kubeconfig").resolve(context))


def service_account_token(admin: ApiClient, namespace: str, name: str) -> str:
    """A short-lived token for a new ServiceAccount (the TokenRequest API), bound to nothing."""
    core = CoreV1Api(admin)
    core.create_namespaced_service_account(
        namespace, V1ServiceAccount(metadata=V1ObjectMeta(name=name))
    )
    request = AuthenticationV1TokenRequest(
        spec=V1TokenRequestSpec(audiences=[], expiration_seconds=600)
    )
    granted = core.create_namespaced_service_account_token(name, namespace, request)
    assert granted.status is not None
    assert granted.status.token
    return granted.status.token


@pytest.fixture
def namespaces(kube: Callable[[str], ApiClient]) -> Iterator[Callable[[str, dict[str, str]], str]]:
    """``make(name, labels)`` creates a namespace on edge-a, deleted (with its content) after."""
    core = CoreV1Api(kube(EDGE))
    made: list[str] = []

    def make(name: str, labels: dict[str, str]) -> str:
        core.create_namespace(V1Namespace(metadata=V1ObjectMeta(name=name, labels=labels)))
        made.append(name)
        return name

    yield make
    delete_namespaces(kube(EDGE), made)


def test_discovery_reads_each_lab_cluster(lab: Lab) -> None:
    for spec in lab.topology.clusters:
        facts = discovery.discover(lab_cluster(spec.name))
        assert facts.cluster_id == spec.name
        assert facts.pod_cidrs == (spec.pod_cidr,)
        assert facts.external_cidr == spec.external_cidr
        assert facts.liqo_version.version == "v1.2.0"
        assert facts.gateway_templates == discovery.GatewayTemplates(
            servers=("wireguard-server",), clients=("wireguard-client",)
        )


def test_central_knows_both_edges_as_providers(lab: Lab) -> None:
    providers = discovery.providers(lab_cluster("central"))
    assert providers == [
        discovery.Provider(spec.name, f"liqo-tenant-{spec.name}") for spec in lab.topology.providers
    ]


def test_an_edge_has_a_tenant_namespace_for_central_only(lab: Lab) -> None:
    edge = lab_cluster(EDGE)
    assert discovery.tenant_namespace(edge, "central") == "liqo-tenant-central"
    assert discovery.tenant_namespace(edge, "never-peered") is None


def test_the_version_is_read_like_liqoctl_on_central_and_from_the_chart_label_on_edges(
    lab: Lab,
) -> None:
    central = discovery.discover_central(lab_cluster("central")).liqo_version
    edge = discovery.discover(lab_cluster(EDGE)).liqo_version
    assert central.source == "the liqo-controller-manager image tag"
    assert "cluster-ID ConfigMap" in edge.source
    assert central.version == edge.version == "v1.2.0"


def test_an_unreachable_api_server_fails_fast_with_one_line(lab: Lab) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    document = yaml.safe_load(kubeconfig_path().read_bytes())
    for entry in document["clusters"]:
        entry["cluster"]["server"] = f"https://127.0.0.1:{port}"
    resolved = kubeconfig_from_bytes(yaml.safe_dump(document).encode(), "test").resolve(EDGE)
    started = time.monotonic()
    with pytest.raises(ClusterUnreachable) as raised:
        discovery.discover(connect(resolved))
    assert time.monotonic() - started < 5
    assert str(raised.value) == (
        f"cannot reach the API server of {EDGE} at https://127.0.0.1:{port}: connection refused; "
        "check that the cluster is up and the kubeconfig's server address"
    )


def test_credentials_without_rights_get_the_peering_user_message(
    kube: Callable[[str], ApiClient],
    namespaces: Callable[[str, dict[str, str]], str],
    unique_name: str,
) -> None:
    namespace = namespaces(unique_name, {})
    nobody = token_cluster(EDGE, service_account_token(kube(EDGE), namespace, "nobody"))
    with pytest.raises(AccessDenied) as raised:
        discovery.discover(nobody)
    assert str(raised.value) == (
        f"the credentials for {EDGE} may not list configmaps in liqo: grant the rights of "
        "Liqo's peering user (liqoctl generate peering-user)"
    )


@pytest.fixture
def peering_user(
    kube: Callable[[str], ApiClient],
    namespaces: Callable[[str, dict[str, str]], str],
    unique_name: str,
) -> Iterator[tuple[Cluster, str, str]]:
    """A client on edge-a with exactly the peering user's rights for a fresh remote cluster ID.

    The two RoleBindings are liqoctl's (pkg/liqoctl/rest/peering-user/userfactory/roles.go).
    Yields the client, the remote cluster ID and its tenant namespace.
    """
    remote_id = unique_name
    labels = {"liqo.io/remote-cluster-id": remote_id, "liqo.io/tenant-namespace": "true"}
    tenant = namespaces(f"liqo-tenant-{remote_id}", labels)
    admin = kube(EDGE)
    rbac = RbacAuthorizationV1Api(admin)
    subject = RbacV1Subject(kind="ServiceAccount", name="peering-user", namespace=tenant)
    writer = V1RoleBinding(
        metadata=V1ObjectMeta(name=f"{remote_id}-tenant-ns-writer"),
        role_ref=V1RoleRef(api_group=RBAC, kind="ClusterRole", name="liqo-peering-user-tenant-ns"),
        subjects=[subject],
    )
    reader = V1RoleBinding(
        metadata=V1ObjectMeta(name=f"{remote_id}-liqo-ns-reader"),
        role_ref=V1RoleRef(api_group=RBAC, kind="Role", name="liqo-peering-user-liqo-ns"),
        subjects=[subject],
    )
    rbac.create_namespaced_role_binding(tenant, writer)
    rbac.create_namespaced_role_binding(LIQO, reader)
    try:
        token = service_account_token(admin, tenant, "peering-user")
        yield token_cluster(EDGE, token), remote_id, tenant
    finally:
        try:
            rbac.delete_namespaced_role_binding(f"{remote_id}-liqo-ns-reader", LIQO)
        except ApiException as error:
            if error.status != 404:
                raise


def configuration(name: str, namespace: str, remote_id: str) -> Manifest:
    return {
        "apiVersion": CONFIGURATION.api_version,
        "kind": CONFIGURATION.kind,
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                "liqo.io/remote-cluster-id": remote_id,
                "app.kubernetes.io/managed-by": "liqo-shortcut",
            },
        },
        "spec": {"remote": {"cidr": {"pod": ["10.250.0.0/16"], "external": ["10.70.0.0/16"]}}},
    }


def test_the_peering_users_rights_suffice_for_discovery(
    peering_user: tuple[Cluster, str, str],
) -> None:
    edge, remote_id, tenant = peering_user
    facts = discovery.discover(edge)
    assert facts.cluster_id == EDGE
    assert facts.liqo_version.version == "v1.2.0"
    assert discovery.tenant_namespace(edge, remote_id) == tenant
    with pytest.raises(AccessDenied, match="not the credentials of a peering user for other"):
        discovery.tenant_namespace(edge, "other")
    assert discovery.peering_objects(edge, tenant, remote_id) == []


def test_the_peering_users_rights_suffice_for_a_configurations_lifecycle(
    peering_user: tuple[Cluster, str, str],
) -> None:
    edge, remote_id, tenant = peering_user
    manifest = configuration(remote_id, tenant, remote_id)

    previewed = objects.create(edge, CONFIGURATION, manifest, dry_run=True)
    assert previewed["metadata"]["name"] == remote_id
    assert objects.get(edge, CONFIGURATION, remote_id, tenant) is None  # dry run persisted nothing

    objects.create(edge, CONFIGURATION, manifest)
    read = objects.get(edge, CONFIGURATION, remote_id, tenant)
    assert read is not None
    assert read["spec"]["remote"]["cidr"]["pod"] == ["10.250.0.0/16"]
    listed = objects.list_objects(
        edge, CONFIGURATION, tenant, {"liqo.io/remote-cluster-id": remote_id}
    )
    assert [obj["metadata"]["name"] for obj in listed] == [remote_id]
    [peering] = discovery.peering_objects(edge, tenant, remote_id)
    assert (peering.kind, peering.managed_by_shortcut) == ("Configuration", True)

    def mark(obj: Manifest) -> None:
        obj["metadata"]["labels"]["liqo-shortcut.test/updated"] = "true"

    # The emulator, like Liqo's controllers, writes the status meanwhile: mutate retries.
    updated = objects.mutate(edge, CONFIGURATION, remote_id, tenant, mark)
    assert updated is not None
    assert updated["metadata"]["labels"]["liqo-shortcut.test/updated"] == "true"

    assert objects.delete(edge, CONFIGURATION, remote_id, tenant) is True
    assert objects.wait_gone(edge, CONFIGURATION, remote_id, tenant, timeout=30)
    assert objects.delete(edge, CONFIGURATION, remote_id, tenant) is False  # absent: not an error


def snapshots_until(follow: Follow, done: Callable[[list[Manifest]], bool]) -> list[Any]:
    """The snapshots ``follow`` reports until one is ``done`` (at most 30 s)."""
    seen: list[Any] = []
    stop = time.monotonic() + 30
    while time.monotonic() < stop and not follow.ended:
        snapshot = follow.changed(timeout=0.5)
        if snapshot is not None:
            seen.append(snapshot)
            if done(snapshot):
                return seen
    raise AssertionError(f"the watch reported {seen} and then nothing that was done")


def test_a_watch_reports_an_object_as_it_is_and_then_each_change(
    namespaces: Callable[[str, dict[str, str]], str], unique_name: str
) -> None:
    edge = lab_cluster(EDGE)
    tenant = namespaces(f"liqo-tenant-{unique_name}", {})
    objects.create(edge, CONFIGURATION, configuration("first", tenant, unique_name))
    with Follow(edge, CONFIGURATION, tenant, name="second") as follow:
        assert follow.changed(timeout=0.5) is None  # not there yet: nothing to report
        objects.create(edge, CONFIGURATION, configuration("second", tenant, unique_name))
        [created] = snapshots_until(follow, lambda seen: len(seen) == 1)[-1]
        assert created["metadata"]["name"] == "second"  # the field selector left "first" out
        objects.delete(edge, CONFIGURATION, "second", tenant)
        assert snapshots_until(follow, lambda seen: not seen)[-1] == []
    with Follow(edge, CONFIGURATION, tenant, labels={REMOTE_ID: unique_name}) as follow:
        [existing] = snapshots_until(follow, lambda seen: len(seen) == 1)[0]
        assert existing["metadata"]["name"] == "first"  # an existing object comes first, as ADDED


def test_the_peering_user_may_not_watch_so_waits_poll(
    peering_user: tuple[Cluster, str, str],
) -> None:
    edge, remote_id, tenant = peering_user
    with pytest.raises(WatchDenied), Follow(edge, CONFIGURATION, tenant, name=remote_id):
        pass
