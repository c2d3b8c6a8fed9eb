"""Every API or transport failure becomes one line naming the cluster, the action and the fix."""

from __future__ import annotations

import json
import socket
import ssl

import pytest
import urllib3.exceptions
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException
from urllib3.connection import HTTPSConnection

from liqoshortcut.errors import PreconditionFailed, ShortcutError
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.errors import (
    AccessDenied,
    Action,
    AlreadyExists,
    ApiError,
    ClusterUnreachable,
    Conflict,
    CredentialsRejected,
    LiqoMissing,
    NamespaceTerminating,
    NotFound,
    Rejected,
    ShortcutCrdMissing,
    api_call,
)
from liqoshortcut.kube.resources import CONFIGURATION, NAMESPACE, VIRTUAL_NODE_SHORTCUT

EDGE = Cluster(name="edge-a", server="https://10.0.0.1:6443", api=ApiClient())
CREATE = Action("create", CONFIGURATION, "liqo-tenant-edge-b", "edge-b")


def status(code: int, reason: str, message: str, **details: str) -> ApiException:
    """An ApiException as the kubernetes client raises it for a Kubernetes Status answer."""
    body = {"kind": "Status", "status": "Failure", "code": code, "reason": reason}
    body |= {"message": message, "details": details}
    return ApiException(status=code, reason=reason, body=json.dumps(body))


def fail_with(error: BaseException, action: Action = CREATE) -> ShortcutError:
    with pytest.raises(ShortcutError) as raised, api_call(EDGE, action):
        raise error
    return raised.value


@pytest.mark.parametrize(
    ("error", "expected", "words"),
    [
        pytest.param(
            status(401, "Unauthorized", "Unauthorized"),
            CredentialsRejected,
            "API server of edge-a at https://10.0.0.1:6443 rejected the credentials",
            id="401 says the credentials were rejected",
        ),
        pytest.param(
            status(403, "Forbidden", "configurations is forbidden: User cannot create"),
            AccessDenied,
            "the credentials for edge-a may not create configurations.networking.liqo.io in "
            "liqo-tenant-edge-b: grant the rights of Liqo's peering user "
            "(liqoctl generate peering-user)",
            id="403 names verb, resource, namespace and the peering user",
        ),
        pytest.param(
            ApiException(status=404, reason="Not Found", body="404 page not found\n"),
            LiqoMissing,
            "Liqo is missing on edge-a: its API server does not serve "
            "configurations.networking.liqo.io/v1beta1",
            id="404 of a Liqo API group says Liqo is missing",
        ),
        pytest.param(
            status(
                404,
                "NotFound",
                'namespaces "liqo-tenant-edge-b" not found',
                kind="namespaces",
                name="liqo-tenant-edge-b",
            ),
            NotFound,
            "namespaces 'liqo-tenant-edge-b' not found on edge-a",
            id="404 of a named object names it",
        ),
        pytest.param(
            status(409, "AlreadyExists", 'configurations "edge-b" already exists', name="edge-b"),
            AlreadyExists,
            "Configuration liqo-tenant-edge-b/edge-b already exists on edge-a",
            id="409 on create says it already exists",
        ),
        pytest.param(
            status(409, "Conflict", "the object has been modified"),
            Conflict,
            "changed on edge-a while being updated",
            id="409 on update is a conflict",
        ),
        pytest.param(
            status(422, "Invalid", "spec.remote: Invalid value"),
            Rejected,
            "edge-a refused to create Configuration liqo-tenant-edge-b/edge-b: spec.remote",
            id="422 quotes the server's reason",
        ),
        pytest.param(
            status(500, "InternalError", "etcd\nis down"),
            ApiError,
            "failed with HTTP 500: etcd is down",
            id="anything else keeps the status on one line",
        ),
    ],
)
def test_api_errors_map_to_one_line(
    error: ApiException, expected: type[ShortcutError], words: str
) -> None:
    mapped = fail_with(error)
    assert type(mapped) is expected
    assert words in str(mapped)
    assert "\n" not in str(mapped)


def test_a_404_of_the_virtualnodeshortcut_api_blames_its_crd_not_liqo() -> None:
    listing = Action("list", VIRTUAL_NODE_SHORTCUT)
    mapped = fail_with(
        ApiException(status=404, reason="Not Found", body="404 page not found\n"), listing
    )
    assert isinstance(mapped, ShortcutCrdMissing)
    assert isinstance(mapped, LiqoMissing)  # callers that read it as "none here" still do
    assert str(mapped) == (
        "the VirtualNodeShortcut CRD is not installed on edge-a: its API server does not serve "
        "virtualnodeshortcuts.shortcut.liqo.io/v1alpha1; the operator's Helm chart installs it "
        "(or kubectl apply -f deploy/crd/)"
    )


@pytest.mark.parametrize(
    ("action", "words"),
    [
        (Action("list", NAMESPACE), "may not list namespaces cluster-wide"),
        (Action("get", NAMESPACE, name="liqo-tenant-b"), "may not get namespaces/liqo-tenant-b"),
    ],
)
def test_a_forbidden_cluster_scoped_call_names_its_scope(action: Action, words: str) -> None:
    assert words in str(fail_with(status(403, "Forbidden", "no"), action))


def test_a_404_of_a_core_resource_is_not_blamed_on_liqo() -> None:
    mapped = fail_with(
        ApiException(status=404, reason="Not Found", body="404 page not found"),
        Action("get", NAMESPACE),
    )
    assert type(mapped) is ApiError


def _connection() -> HTTPSConnection:
    return HTTPSConnection("10.0.0.1", 6443)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        pytest.param(
            urllib3.exceptions.MaxRetryError(
                None,  # type: ignore[arg-type]
                "/api",
                urllib3.exceptions.NewConnectionError(
                    _connection(),
                    "Failed to establish a new connection: [Errno 111] Connection refused",
                ),
            ),
            "connection refused",
            id="connection refused",
        ),
        pytest.param(
            urllib3.exceptions.NameResolutionError(
                "edge-a.invalid", _connection(), socket.gaierror(-2, "Name or service not known")
            ),
            "the host name does not resolve",
            id="DNS",
        ),
        pytest.param(
            urllib3.exceptions.ConnectTimeoutError(_connection(), "timed out"),
            "the connection timed out",
            id="connect timeout",
        ),
        pytest.param(
            urllib3.exceptions.ReadTimeoutError(None, "/api", "read timed out"),  # type: ignore[arg-type]
            "did not answer in time",
            id="read timeout",
        ),
        pytest.param(
            urllib3.exceptions.SSLError(
                ssl.SSLCertVerificationError(
                    1, "certificate verify failed: self-signed certificate"
                )
            ),
            "TLS failed",
            id="TLS",
        ),
        pytest.param(
            urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError()),
            "closed mid-request",
            id="connection reset",
        ),
    ],
)
def test_transport_errors_say_the_server_cannot_be_reached(error: Exception, reason: str) -> None:
    mapped = fail_with(error)
    assert isinstance(mapped, ClusterUnreachable)
    assert isinstance(mapped, PreconditionFailed)
    assert str(mapped).startswith(
        "cannot reach the API server of edge-a at https://10.0.0.1:6443: "
    )
    assert reason in str(mapped)


def test_other_exceptions_pass_through_untouched() -> None:
    with pytest.raises(KeyError), api_call(EDGE, CREATE):
        raise KeyError("a programming error stays one")


def test_creating_in_a_namespace_being_deleted_is_not_blamed_on_rights() -> None:
    message = (
        'configurations "edge-b" is forbidden: unable to create new content in namespace '
        "liqo-tenant-edge-b because it is being terminated"
    )
    error = fail_with(status(403, "Forbidden", message))
    assert isinstance(error, NamespaceTerminating)
    assert str(error) == (
        "edge-a is deleting namespace liqo-tenant-edge-b, so nothing can be created in it: "
        "wait until it is gone, then run again"
    )
