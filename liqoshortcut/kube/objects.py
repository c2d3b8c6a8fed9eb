"""Generic object access for every kind the tool touches: create, get, list, replace, delete,
and merge patches where the caller may patch.

On an edge the tool may do only what ``liqoctl generate peering-user`` grants (the chart's
liqo-peering-user-tenant-ns ClusterRole and liqo-peering-user-liqo-ns Role): create, get, list,
update and delete Configurations, GatewayServers, GatewayClients and PublicKeys in the tenant
namespace; get or list Connections, Services, Deployments, Secrets and the namespace itself there;
read ConfigMaps, Networks and gateway templates in ``liqo``. Hence what runs on an edge replaces
an object (PUT with the resourceVersion that was read, `mutate`) instead of patching it, and never
lists namespaces; `patch` and `patch_status` serve central (a Service's annotations, a
shortcut's status). Watches are `kube.watch`'s. Objects are plain manifests (dicts in the API's
JSON shape), as `core` forges them.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

from liqoshortcut.core.forge import Manifest
from liqoshortcut.errors import PreconditionFailed
from liqoshortcut.kube import rest
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.errors import Action, Conflict, NotFound, api_call
from liqoshortcut.kube.resources import (
    SECRET,
    Resource,
)

Propagation = Literal["Background", "Foreground", "Orphan"]

FIELD_MANAGER = "liqo-shortcut"  # names this tool in every object's managedFields
PUBLIC_KEY_FIELD = (
    "publicKey"  # the gateway keys Secret's public half (pkg/consts/externalnetwork.go)
)
POLL_INTERVAL = 0.2  # seconds between two GETs while waiting for a deletion to finish


def get(
    cluster: Cluster,
    resource: Resource,
    name: str,
    namespace: str | None = None,
    *,
    fix: str | None = None,
) -> Manifest | None:
    """The object, or None when it does not exist; ``fix`` is the advice on a 403."""
    try:
        with api_call(cluster, Action("get", resource, namespace, name), fix=fix):
            return rest.request(
                cluster, "GET", rest.path(resource, _scope(resource, namespace), name)
            )
    except NotFound:
        return None


def list_objects(
    cluster: Cluster,
    resource: Resource,
    namespace: str | None = None,
    labels: Mapping[str, str] | None = None,
    *,
    fix: str | None = None,
    fields: str | None = None,
) -> list[Manifest]:
    """The objects matching every label in ``labels`` (all objects when None), in ``namespace``
    or, for a namespaced kind without one, in all namespaces; ``fields`` is a field selector.

    ``fix`` is the advice given if the credentials may not list them (see `errors.api_call`).
    """
    query = [("labelSelector", rest.label_selector(labels))] if labels else []
    if fields:
        query.append(("fieldSelector", fields))
    with api_call(cluster, Action("list", resource, namespace), fix=fix):
        listed = rest.request(cluster, "GET", rest.path(resource, namespace), query=query)
    items = listed.get("items") or []
    return [dict(item, apiVersion=resource.api_version, kind=resource.kind) for item in items]


def create(
    cluster: Cluster, resource: Resource, manifest: Manifest, *, dry_run: bool = False
) -> Manifest:
    """Create ``manifest``; with ``dry_run`` the API server validates it and persists nothing.

    Namespaces can be created too: liqoctl creates the peer's tenant namespace when it may;
    and ConfigMaps, the record of a shortcut in the central cluster.
    """
    namespace, name = _where(manifest)
    where = rest.path(resource, _scope(resource, namespace))
    with api_call(cluster, Action("create", resource, namespace, name)):
        return rest.request(cluster, "POST", where, query=_writing(dry_run), body=manifest)


def update(cluster: Cluster, resource: Resource, manifest: Manifest) -> Manifest:
    """Replace the object with ``manifest``, which carries the resourceVersion it was read at.

    A concurrent change makes this fail with `Conflict` rather than overwrite it.
    """
    namespace, name = _where(manifest)
    where = rest.path(resource, _scope(resource, namespace), _required(name, manifest))
    with api_call(cluster, Action("update", resource, namespace, name)):
        return rest.request(cluster, "PUT", where, query=_writing(False), body=manifest)


def patch(
    cluster: Cluster,
    resource: Resource,
    name: str,
    namespace: str | None,
    change: Mapping[str, Any],
    *,
    subresource: str | None = None,
) -> Manifest:
    """Merge-patch ``change`` onto the object (or its ``subresource``); None values remove."""
    where = rest.path(resource, _scope(resource, namespace), name, subresource)
    with api_call(cluster, Action("patch", resource, namespace, name)):
        return rest.request(
            cluster,
            "PATCH",
            where,
            query=_writing(False),
            body=change,
            content_type=rest.MERGE_PATCH,
        )


def patch_status(
    cluster: Cluster, resource: Resource, current: Mapping[str, Any], status: Mapping[str, Any]
) -> None:
    """Merge ``status`` into the custom object's status, at the resourceVersion ``current`` was
    read at: a write in between makes this fail with `Conflict` instead of being overwritten."""
    metadata = current["metadata"]
    namespace, name = metadata.get("namespace"), metadata["name"]
    body = {"metadata": {"resourceVersion": metadata["resourceVersion"]}, "status": status}
    patch(cluster, resource, name, namespace, body, subresource="status")


def mutate(
    cluster: Cluster,
    resource: Resource,
    name: str,
    namespace: str,
    change: Callable[[Manifest], None],
    *,
    attempts: int = 5,
) -> Manifest | None:
    """Read the object, apply ``change`` to it and update it; None if it does not exist.

    Liqo's controllers write the status of these objects right after they appear, so an update
    based on an older read meets a `Conflict`: read again and retry, a few times.
    """
    for attempt in range(attempts):
        current = get(cluster, resource, name, namespace)
        if current is None:
            return None
        change(current)
        try:
            return update(cluster, resource, current)
        except Conflict:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")


def delete(
    cluster: Cluster,
    resource: Resource,
    name: str,
    namespace: str | None,
    *,
    propagation: Propagation = "Background",
) -> bool:
    """Ask for the object's deletion (a namespace's too); False when it was already gone."""
    query = [("propagationPolicy", propagation)]
    where = rest.path(resource, _scope(resource, namespace), name)
    try:
        with api_call(cluster, Action("delete", resource, namespace, name)):
            rest.request(cluster, "DELETE", where, query=query)
    except NotFound:
        return False
    return True


def wait_gone(
    cluster: Cluster,
    resource: Resource,
    name: str,
    namespace: str | None,
    *,
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Poll until the object is gone (finalizers done); False if it still exists at ``timeout``."""
    deadline = clock() + timeout
    while get(cluster, resource, name, namespace) is not None:
        left = deadline - clock()
        if left <= 0:
            return False
        sleep(min(POLL_INTERVAL, left))
    return True


def gateway_public_key(cluster: Cluster, secret_name: str, namespace: str) -> bytes:
    """The public key in a gateway's keys Secret (its ``status.secretRef``), as liqoctl reads it.

    The Secret also holds the gateway's private key: only the public half leaves this function.
    """
    with api_call(cluster, Action("get", SECRET, namespace, secret_name)):
        secret = rest.request(cluster, "GET", rest.path(SECRET, namespace, secret_name))
    encoded = (secret.get("data") or {}).get(PUBLIC_KEY_FIELD)
    if not encoded:
        raise PreconditionFailed(
            f"Secret {namespace}/{secret_name} on {cluster.name} has no {PUBLIC_KEY_FIELD}: "
            "the gateway has not generated its keys yet, or the Secret is not a gateway's"
        )
    return base64.b64decode(encoded)


def _writing(dry_run: bool) -> list[tuple[str, str]]:
    """The query of a create, update or patch: this tool's field manager, the dry run if asked."""
    return [("fieldManager", FIELD_MANAGER), *_dry(dry_run)]


def _dry(dry_run: bool) -> list[tuple[str, str]]:
    return [("dryRun", "All")] if dry_run else []


def _scope(resource: Resource, namespace: str | None) -> str | None:
    """The namespace of one object's path; a namespaced object needs one."""
    return _ns(namespace) if resource.namespaced else None


def _where(manifest: Manifest) -> tuple[str | None, str | None]:
    metadata = manifest.get("metadata") or {}
    return metadata.get("namespace"), metadata.get("name")


def _required(value: str | None, manifest: Manifest) -> str:
    if not value:
        raise ValueError(f"a {manifest.get('kind')} manifest needs a name and a namespace")
    return value


def _ns(namespace: str | None) -> str:
    if not namespace:
        raise ValueError("a namespaced resource needs a namespace")
    return namespace
