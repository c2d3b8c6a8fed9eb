"""Liqo's peering user on a lab edge, as `liqoctl generate peering-user` leaves it.

The edge gets the tenant namespace of the consumer, and a user bound to the chart's
``liqo-peering-user-tenant-ns`` ClusterRole in it and ``liqo-peering-user-liqo-ns`` Role in
``liqo`` (pkg/liqoctl/rest/peering-user/userfactory/roles.go). The user here is a ServiceAccount
with a TokenRequest token instead of a CSR-signed certificate: same rules, same bindings.
"""

from __future__ import annotations

import time

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
        _wait_gone(admin, tenant)


def _wait_gone(admin: ApiClient, namespace: str, timeout: float = 120.0) -> None:
    """Until the namespace controller has emptied and removed ``namespace``: a later test's
    snapshot must not catch its content on the way out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            CoreV1Api(admin).read_namespace(namespace)
        except ApiException as error:
            if error.status == 404:
                return
            raise
        time.sleep(0.5)
    raise AssertionError(f"namespace {namespace} still there {timeout:.0f}s after its deletion")
