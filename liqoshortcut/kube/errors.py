"""The one place where API and transport failures become domain errors.

Every API call runs inside `api_call`, which names the cluster, the action and the fix in one line:
a user at a terminal, a CI log and an operator condition all read the same sentence. Response
bodies are parsed only for the server's own message and the Status details; request headers, which
carry the credentials, never reach a message.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import urllib3.exceptions
from kubernetes.client.exceptions import ApiException

from liqoshortcut.errors import PreconditionFailed, ShortcutError
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.resources import VIRTUAL_NODE_SHORTCUT, Resource

PEERING_USER_FIX = "grant the rights of Liqo's peering user (liqoctl generate peering-user)"
MISSING_LIQO_FIX = "install Liqo v1.2.0 or later there (liqoctl install)"
MISSING_CRD_FIX = "the operator's Helm chart installs it (or kubectl apply -f deploy/crd/)"


@dataclass(frozen=True)
class Action:
    """What was being done, in RBAC's words: ``create configurations.networking.liqo.io in ns``."""

    verb: str
    resource: Resource
    namespace: str | None = None
    name: str | None = None

    def describe(self) -> str:
        """E.g. ``list configmaps in liqo`` or ``get namespaces/liqo-tenant-x``."""
        if self.namespace:
            return f"{self.verb} {self.resource.qualified} in {self.namespace}"
        if self.name:
            return f"{self.verb} {self.resource.qualified}/{self.name}"
        return f"{self.verb} {self.resource.qualified} cluster-wide"

    def object(self) -> str:
        name = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.resource.kind} {name}" if name else self.resource.qualified


class ClusterFailure(PreconditionFailed):
    """A failure that concerns one cluster as a whole; ``cluster`` is its name in messages, so
    the operator can tell an edge's broken credentials from its own."""

    def __init__(self, message: str, *, cluster: str) -> None:
        super().__init__(message)
        self.cluster = cluster


class ClusterUnreachable(ClusterFailure):
    """The API server did not answer: refused, unresolvable, timed out or TLS failure."""


class CredentialsRejected(ClusterFailure):
    """401: the API server does not accept the credentials at all."""


class AccessDenied(ClusterFailure):
    """403: the credentials are valid but lack a right the tool needs."""


class LiqoMissing(PreconditionFailed):
    """404 of a Liqo API group or version: Liqo (or a recent enough one) is not installed."""


class ShortcutCrdMissing(LiqoMissing):
    """404 of this project's own VirtualNodeShortcut API: its CRD is not installed (Liqo may well
    be). A LiqoMissing still, so that code reading "no such CRD" as "no such objects" goes on."""


class NotFound(PreconditionFailed):
    """404 of one named object, e.g. a tenant namespace that should exist."""


class AlreadyExists(ShortcutError):
    """409 on create: an object with that name exists."""


class NamespaceTerminating(PreconditionFailed):
    """403 on create in a namespace being deleted: a passing state, not missing rights."""


class Conflict(ShortcutError):
    """409 on update: the object changed since it was read."""


class Rejected(ShortcutError):
    """400 or 422: the API server refused the object; its message says which field."""


class ApiError(ShortcutError):
    """Any other API failure, e.g. a 500 of an overloaded server."""


class api_call:  # lower case: it reads as a function, `with api_call(cluster, action):`
    """Run one API call; turn its failure into a domain error naming the cluster and the action.

    ``fix`` is the advice for a 403; by default the peering user's rights, since edges are meant
    to be driven with exactly those. A class rather than a generator so that type checkers know
    it never swallows an exception.
    """

    def __init__(self, cluster: Cluster, action: Action, *, fix: str | None = None) -> None:
        self.cluster, self.action, self.fix = cluster, action, fix

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if isinstance(error, ApiException):
            raise map_api_exception(self.cluster, self.action, error, fix=self.fix) from None
        if isinstance(error, urllib3.exceptions.HTTPError):
            raise ClusterUnreachable(
                f"cannot reach the API server of {self.cluster.name} at {self.cluster.server}: "
                f"{transport_reason(error)}; check that the cluster is up and the kubeconfig's "
                "server address",
                cluster=self.cluster.name,
            ) from None


def map_api_exception(
    cluster: Cluster, action: Action, error: ApiException, *, fix: str | None = None
) -> ShortcutError:
    """The domain error for an HTTP error answer to ``action`` on ``cluster``."""
    name, server = cluster.name, cluster.server
    status = error.status or 0
    body = _status_body(error.body)
    message = _one_line(str(body.get("message") or error.reason or ""))
    details = body.get("details")
    details = details if isinstance(details, dict) else {}
    doing = action.describe()
    if status == 401:
        return CredentialsRejected(
            f"the API server of {name} at {server} rejected the credentials (401 "
            f"Unauthorized) while trying to {doing}: renew the kubeconfig of {name}",
            cluster=name,
        )
    if status == 403 and "being terminated" in message:
        # The namespace controller refuses new content while a namespace is being deleted.
        return NamespaceTerminating(
            f"{name} is deleting namespace {action.namespace}, so nothing can be created in it: "
            "wait until it is gone, then run again"
        )
    if status == 403:
        return AccessDenied(
            f"the credentials for {name} may not {doing}: {fix or PEERING_USER_FIX}", cluster=name
        )
    if status == 404 and details.get("name"):
        kind = details.get("kind") or action.resource.plural
        return NotFound(f"{kind} {details['name']!r} not found on {name} (while trying to {doing})")
    if status == 404 and action.resource == VIRTUAL_NODE_SHORTCUT:
        return ShortcutCrdMissing(
            f"the VirtualNodeShortcut CRD is not installed on {name}: its API server does not "
            f"serve {action.resource.qualified}/{action.resource.version}; {MISSING_CRD_FIX}"
        )
    if status == 404 and action.resource.is_liqo:
        return LiqoMissing(
            f"Liqo is missing on {name}: its API server does not serve "
            f"{action.resource.qualified}/{action.resource.version}: {MISSING_LIQO_FIX}"
        )
    if status == 409 and body.get("reason") == "AlreadyExists":
        return AlreadyExists(f"{action.object()} already exists on {name}")
    if status == 409:
        return Conflict(f"{action.object()} changed on {name} while being updated: {message}")
    if status in (400, 422):
        return Rejected(f"{name} refused to {action.verb} {action.object()}: {message}")
    return ApiError(f"{doing} on {name} failed with HTTP {status}: {message}")


def transport_reason(error: BaseException) -> str:
    """Why a request got no HTTP answer, in a few words (urllib3 buries it in wrappers)."""
    if isinstance(error, urllib3.exceptions.MaxRetryError) and error.reason is not None:
        error = error.reason
    if isinstance(error, urllib3.exceptions.NameResolutionError):
        return "the host name does not resolve"
    if isinstance(error, urllib3.exceptions.NewConnectionError):
        return _strip_errno(str(error).rsplit(": ", 1)[-1]).lower()
    if isinstance(error, urllib3.exceptions.ConnectTimeoutError):
        return "the connection timed out"
    if isinstance(error, urllib3.exceptions.ReadTimeoutError):
        return "it accepted the connection but did not answer in time"
    if isinstance(error, urllib3.exceptions.SSLError):
        return f"TLS failed ({_one_line(str(error.args[0] if error.args else error))})"
    if isinstance(error, urllib3.exceptions.ProtocolError):
        return "the connection was closed mid-request"
    return _one_line(str(error)) or type(error).__name__


def _status_body(body: Any) -> dict[str, Any]:
    """The Kubernetes Status the server sent, or {} when the body is not one (plain 404s)."""
    try:
        parsed = json.loads(body) if isinstance(body, str | bytes) else None
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _strip_errno(text: str) -> str:
    return re.sub(r"^\[Errno -?\d+\]\s*", "", text.strip())


def _one_line(text: str) -> str:
    return " ".join(text.split())
