"""Reading and writing the objects of a shortcut, within the rights of Liqo's peering user.

On an edge the tool may do only what ``liqoctl generate peering-user`` grants (the chart's
liqo-peering-user-tenant-ns ClusterRole and liqo-peering-user-liqo-ns Role): create, get, list,
update and delete Configurations, GatewayServers, GatewayClients and PublicKeys in the tenant
namespace; get or list Connections, Services, Deployments, Secrets and the namespace itself there;
read ConfigMaps, Networks and gateway templates in ``liqo``. Hence this module never patches (PUT
with the resourceVersion that was read instead), never watches (callers poll), and never lists
namespaces. Objects are plain manifests (dicts in the API's JSON shape), as `core` forges them.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal

from kubernetes.client import (
    AppsV1Api,
    CoreV1Api,
    CustomObjectsApi,
    DiscoveryV1Api,
    V1ConfigMap,
    V1Namespace,
)

from liqoshortcut.errors import PreconditionFailed
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.errors import Action, Conflict, NotFound, api_call
from liqoshortcut.kube.resources import (
    CONFIG_MAP,
    DEPLOYMENT,
    ENDPOINT_SLICE,
    NAMESPACE,
    NODE,
    SECRET,
    SERVICE,
    Resource,
)

Manifest = dict[str, Any]
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
            return _manifest(cluster, _read(cluster, resource, name, namespace))
    except NotFound:
        return None


def list_objects(
    cluster: Cluster,
    resource: Resource,
    namespace: str | None = None,
    labels: Mapping[str, str] | None = None,
    *,
    fix: str | None = None,
) -> list[Manifest]:
    """The objects matching every label in ``labels`` (all objects when None).

    ``fix`` is the advice given if the credentials may not list them (see `errors.api_call`).
    """
    selector = ",".join(f"{key}={value}" for key, value in (labels or {}).items()) or None
    with api_call(cluster, Action("list", resource, namespace), fix=fix):
        listed = _manifest(cluster, _list(cluster, resource, namespace, selector))
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
    dry = "All" if dry_run else None
    with api_call(cluster, Action("create", resource, namespace, name)):
        created: object
        if resource == NAMESPACE:
            created = CoreV1Api(cluster.api).create_namespace(
                V1Namespace.model_validate(manifest), dry_run=dry, field_manager=FIELD_MANAGER
            )
        elif resource == CONFIG_MAP:
            created = CoreV1Api(cluster.api).create_namespaced_config_map(
                _required(namespace, manifest),
                V1ConfigMap.model_validate(manifest),
                dry_run=dry,
                field_manager=FIELD_MANAGER,
            )
        else:
            created = _custom(cluster).create_namespaced_custom_object(
                resource.group,
                resource.version,
                _required(namespace, manifest),
                resource.plural,
                manifest,
                dry_run=dry,
                field_manager=FIELD_MANAGER,
            )
    return _manifest(cluster, created)


def update(
    cluster: Cluster, resource: Resource, manifest: Manifest, *, dry_run: bool = False
) -> Manifest:
    """Replace the object with ``manifest``, which carries the resourceVersion it was read at.

    A concurrent change makes this fail with `Conflict` rather than overwrite it.
    """
    namespace, name = _where(manifest)
    dry = "All" if dry_run else None
    with api_call(cluster, Action("update", resource, namespace, name)):
        replaced: object
        if resource == CONFIG_MAP:
            replaced = CoreV1Api(cluster.api).replace_namespaced_config_map(
                _required(name, manifest),
                _required(namespace, manifest),
                V1ConfigMap.model_validate(manifest),
                dry_run=dry,
                field_manager=FIELD_MANAGER,
            )
        else:
            replaced = _custom(cluster).replace_namespaced_custom_object(
                resource.group,
                resource.version,
                _required(namespace, manifest),
                resource.plural,
                _required(name, manifest),
                manifest,
                dry_run=dry,
                field_manager=FIELD_MANAGER,
            )
    return _manifest(cluster, replaced)


def patch_status(
    cluster: Cluster, resource: Resource, current: Mapping[str, Any], status: Mapping[str, Any]
) -> None:
    """Merge ``status`` into the custom object's status, at the resourceVersion ``current`` was
    read at: a write in between makes this fail with `Conflict` instead of being overwritten."""
    metadata = current["metadata"]
    namespace, name = metadata.get("namespace"), metadata["name"]
    body = {"metadata": {"resourceVersion": metadata["resourceVersion"]}, "status": status}
    with api_call(cluster, Action("patch", resource, namespace, name)):
        _custom(cluster).patch_namespaced_custom_object_status(
            resource.group,
            resource.version,
            _ns(namespace),
            resource.plural,
            name,
            body,
            _content_type="application/merge-patch+json",
        )


def mutate(
    cluster: Cluster,
    resource: Resource,
    name: str,
    namespace: str,
    change: Callable[[Manifest], None],
    *,
    attempts: int = 5,
    dry_run: bool = False,
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
            return update(cluster, resource, current, dry_run=dry_run)
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
    dry_run: bool = False,
) -> bool:
    """Ask for the object's deletion (a namespace's too); False when it was already gone."""
    dry = "All" if dry_run else None
    try:
        with api_call(cluster, Action("delete", resource, namespace, name)):
            if resource == NAMESPACE:
                CoreV1Api(cluster.api).delete_namespace(
                    name, propagation_policy=propagation, dry_run=dry
                )
            elif resource == CONFIG_MAP:
                CoreV1Api(cluster.api).delete_namespaced_config_map(
                    name, _ns(namespace), propagation_policy=propagation, dry_run=dry
                )
            else:
                _custom(cluster).delete_namespaced_custom_object(
                    resource.group,
                    resource.version,
                    _ns(namespace),
                    resource.plural,
                    name,
                    propagation_policy=propagation,
                    dry_run=dry,
                )
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
        secret = CoreV1Api(cluster.api).read_namespaced_secret(secret_name, namespace)
    encoded = (secret.data or {}).get(PUBLIC_KEY_FIELD)
    if not encoded:
        raise PreconditionFailed(
            f"Secret {namespace}/{secret_name} on {cluster.name} has no {PUBLIC_KEY_FIELD}: "
            "the gateway has not generated its keys yet, or the Secret is not a gateway's"
        )
    return base64.b64decode(encoded)


def _read(cluster: Cluster, resource: Resource, name: str, namespace: str | None) -> object:
    if resource == NAMESPACE:
        return CoreV1Api(cluster.api).read_namespace(name)
    if resource == CONFIG_MAP:
        return CoreV1Api(cluster.api).read_namespaced_config_map(name, _ns(namespace))
    if resource == SERVICE:
        return CoreV1Api(cluster.api).read_namespaced_service(name, _ns(namespace))
    if resource == DEPLOYMENT:
        return AppsV1Api(cluster.api).read_namespaced_deployment(name, _ns(namespace))
    if not resource.is_liqo:
        raise ValueError(f"no reader for {resource.qualified}")  # a programming error
    if not resource.namespaced:
        return _custom(cluster).get_cluster_custom_object(
            resource.group, resource.version, resource.plural, name
        )
    return _custom(cluster).get_namespaced_custom_object(
        resource.group, resource.version, _ns(namespace), resource.plural, name
    )


def _list(
    cluster: Cluster, resource: Resource, namespace: str | None, selector: str | None
) -> object:
    if resource == CONFIG_MAP:
        return CoreV1Api(cluster.api).list_namespaced_config_map(
            _ns(namespace), label_selector=selector
        )
    if resource == DEPLOYMENT:
        return AppsV1Api(cluster.api).list_namespaced_deployment(
            _ns(namespace), label_selector=selector
        )
    cluster_wide = _CLUSTER_WIDE_LISTERS.get(resource)
    if cluster_wide is not None and namespace is None:
        return cluster_wide(cluster)(label_selector=selector)
    if not resource.is_liqo:
        raise ValueError(f"no lister for {resource.qualified}")  # a programming error
    if not resource.namespaced or namespace is None:  # a namespaced kind: in all namespaces
        return _custom(cluster).list_cluster_custom_object(
            resource.group, resource.version, resource.plural, label_selector=selector
        )
    return _custom(cluster).list_namespaced_custom_object(
        resource.group, resource.version, _ns(namespace), resource.plural, label_selector=selector
    )


# What central's traffic policy lists across all namespaces (`kube.traffic`).
_CLUSTER_WIDE_LISTERS: Final[dict[Resource, Callable[[Cluster], Callable[..., object]]]] = {
    NAMESPACE: lambda cluster: CoreV1Api(cluster.api).list_namespace,
    NODE: lambda cluster: CoreV1Api(cluster.api).list_node,
    SERVICE: lambda cluster: CoreV1Api(cluster.api).list_service_for_all_namespaces,
    ENDPOINT_SLICE: lambda cluster: (
        DiscoveryV1Api(cluster.api).list_endpoint_slice_for_all_namespaces
    ),
}


def _custom(cluster: Cluster) -> CustomObjectsApi:
    return CustomObjectsApi(cluster.api)


def _manifest(cluster: Cluster, obj: object) -> Manifest:
    """A typed model or a custom object's JSON as a plain dict in the API's JSON shape."""
    value = cluster.api.sanitize_for_serialization(obj)
    if not isinstance(value, dict):
        raise TypeError(f"expected an object from {cluster.name}, got {type(value).__name__}")
    return value


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
