"""`create` and `delete` need no more than Liqo's peering user on each edge.

Each edge gets what ``liqoctl generate peering-user --consumer-cluster-id <other edge>`` leaves
there: the tenant namespace of the other edge, and a user bound to the chart's
``liqo-peering-user-tenant-ns`` ClusterRole in it and ``liqo-peering-user-liqo-ns`` Role in
``liqo`` (pkg/liqoctl/rest/peering-user/userfactory/roles.go). The user here is a ServiceAccount
with a TokenRequest token instead of a CSR-signed certificate: same rules, same bindings.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
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

from lab.cluster import Lab, kubeconfig_path
from liqoshortcut.errors import ExitCode

pytestmark = pytest.mark.integration

RBAC = "rbac.authorization.k8s.io"
PEER_OF = {"edge-a": "edge-b", "edge-b": "edge-a"}


def grant_peering_user(admin: ApiClient, consumer_id: str) -> tuple[str, bool]:
    """What `liqoctl generate peering-user` sets up for ``consumer_id``.

    Returns a token and whether the tenant namespace had to be made: it may already be there
    (liqoctl network connect leaves it), and is then kept as it is.
    """
    tenant = f"liqo-tenant-{consumer_id}"
    core = CoreV1Api(admin)
    labels = {"liqo.io/remote-cluster-id": consumer_id, "liqo.io/tenant-namespace": "true"}
    existing = {ns.metadata.name for ns in core.list_namespace().items if ns.metadata}
    if tenant not in existing:
        core.create_namespace(V1Namespace(metadata=V1ObjectMeta(name=tenant, labels=labels)))
    core.create_namespaced_service_account(
        tenant, V1ServiceAccount(metadata=V1ObjectMeta(name="peering-user"))
    )
    subject = RbacV1Subject(kind="ServiceAccount", name="peering-user", namespace=tenant)
    rbac = RbacAuthorizationV1Api(admin)
    for namespace, kind, role in (
        (tenant, "ClusterRole", "liqo-peering-user-tenant-ns"),
        ("liqo", "Role", "liqo-peering-user-liqo-ns"),
    ):
        rbac.create_namespaced_role_binding(
            namespace,
            V1RoleBinding(
                metadata=V1ObjectMeta(name=f"liqo-peering-user-{consumer_id}"),
                role_ref=V1RoleRef(api_group=RBAC, kind=kind, name=role),
                subjects=[subject],
            ),
        )
    granted = core.create_namespaced_service_account_token(
        "peering-user",
        tenant,
        AuthenticationV1TokenRequest(spec=V1TokenRequestSpec(audiences=[], expiration_seconds=900)),
    )
    assert granted.status is not None
    return str(granted.status.token), tenant not in existing


def revoke_peering_user(admin: ApiClient, consumer_id: str, made_namespace: bool) -> None:
    tenant, binding = f"liqo-tenant-{consumer_id}", f"liqo-peering-user-{consumer_id}"
    rbac = RbacAuthorizationV1Api(admin)
    rbac.delete_namespaced_role_binding(binding, "liqo")
    rbac.delete_namespaced_role_binding(binding, tenant)
    CoreV1Api(admin).delete_namespaced_service_account("peering-user", tenant)
    if made_namespace:
        CoreV1Api(admin).delete_namespace(tenant)


@pytest.fixture
def peering_user_kubeconfig(
    lab: Lab, kube: Callable[[str], ApiClient], tmp_path: Path
) -> Iterator[Path]:
    """Central as admin (the user's own context); each edge as the peering user for the other."""
    document: dict[str, Any] = yaml.safe_load(kubeconfig_path().read_text())
    granted = {edge: grant_peering_user(kube(edge), peer) for edge, peer in PEER_OF.items()}
    try:
        for user in document["users"]:
            edge = user["name"].removesuffix("-admin")
            if edge in granted:
                user["user"] = {"token": granted[edge][0]}
        path = tmp_path / "kubeconfig"
        path.write_text(yaml.safe_dump(document))
        path.chmod(0o600)
        yield path
    finally:
        for edge, peer in PEER_OF.items():
            revoke_peering_user(kube(edge), peer, made_namespace=granted[edge][1])


def test_create_and_delete_work_with_nothing_but_peering_user_rights_on_the_edges(
    peering_user_kubeconfig: Path,
) -> None:
    env = dict(os.environ, KUBECONFIG=str(peering_user_kubeconfig))

    def shortcut(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "liqoshortcut.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
            check=False,
        )

    created = shortcut("create", "edge-a", "edge-b", "-o", "json")
    assert created.returncode == ExitCode.SUCCESS, created.stderr
    assert '"connected": true' in created.stdout
    deleted = shortcut("delete", "edge-a", "edge-b")
    assert deleted.returncode == ExitCode.SUCCESS, deleted.stderr
    assert "deleted" in deleted.stdout
