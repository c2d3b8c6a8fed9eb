"""Read-only facts about a cluster, gathered before anything is changed.

Everything here works with Liqo's peering-user rights on an edge (see `liqo`), except what is
marked central-only, which reads with the user's own credentials on the central cluster. The facts
are plain frozen dataclasses, so the pure checks of `core` can judge them without a cluster.

The Liqo version. liqoctl reads it from the liqo-controller-manager Deployment's image tag, which
the peering user may not read on an edge. The chart stamps the same value (its ``liqo.version``,
i.e. ``--version`` of liqoctl install, which also tags every image) as the
``app.kubernetes.io/version`` label of the cluster-ID ConfigMap, which the peering user may read.
That label says which chart installed Liqo; it cannot tell a controller whose image was
overridden by hand, and it is absent from installs not made with the chart. The API discovery of
networking.liqo.io/v1beta1 says only that Liqo v1.0 or later is installed, not which one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from liqoshortcut.core import naming
from liqoshortcut.core.forge import Manifest
from liqoshortcut.errors import PreconditionFailed
from liqoshortcut.kube import objects, rest
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.errors import MISSING_LIQO_FIX, Action, LiqoMissing, api_call
from liqoshortcut.kube.resources import (
    CONFIG_MAP,
    CONFIGURATION,
    CONNECTION,
    DEPLOYMENT,
    FOREIGN_CLUSTER,
    GATEWAY_CLIENT,
    GATEWAY_SERVER,
    NAMESPACE,
    NETWORK,
    NETWORKING,
    NETWORKING_VERSION,
    PUBLIC_KEY,
    WG_GATEWAY_CLIENT_TEMPLATE,
    WG_GATEWAY_SERVER_TEMPLATE,
    WRITABLE,
)

LIQO_NAMESPACE: Final = "liqo"  # liqoctl's default --liqo-namespace
CLUSTER_ID_LABELS: Final = {"app.kubernetes.io/name": "clusterid-configmap"}  # pkg/consts
CLUSTER_ID_KEY: Final = "CLUSTER_ID"
VERSION_LABEL: Final = "app.kubernetes.io/version"
CONTROLLER_MANAGER_LABELS: Final = {  # pkg/utils/labels ControllerManagerLabelSelector
    "app.kubernetes.io/name": "controller-manager",
    "app.kubernetes.io/component": "controller-manager",
}
CONTROLLER_MANAGER_CONTAINER: Final = "controller-manager"
NETWORK_TYPE_LABEL: Final = "ipam.liqo.io/network-type"
CENTRAL_READ_FIX: Final = "run from the central cluster with the credentials used to peer it"
# What `liqoctl network connect` needs served by an edge's API server.
REQUIRED_NETWORKING: Final = (
    *WRITABLE,
    CONNECTION,
    WG_GATEWAY_SERVER_TEMPLATE,
    WG_GATEWAY_CLIENT_TEMPLATE,
)


@dataclass(frozen=True)
class LiqoVersion:
    """The installed Liqo version if it could be read (``None`` if not), and how it was read."""

    version: str | None
    source: str


@dataclass(frozen=True)
class GatewayTemplates:
    """Names of the WireGuard gateway templates in the Liqo namespace."""

    servers: tuple[str, ...]
    clients: tuple[str, ...]


@dataclass(frozen=True)
class ClusterFacts:
    """What a shortcut needs to know about one cluster before planning."""

    cluster_id: str
    liqo_version: LiqoVersion
    pod_cidrs: tuple[str, ...]
    external_cidr: str
    gateway_templates: GatewayTemplates


@dataclass(frozen=True)
class Provider:
    """A cluster central consumes resources from (a ForeignCluster with role Provider)."""

    cluster_id: str
    tenant_namespace: str | None  # central's tenant namespace for it, from the ForeignCluster


@dataclass(frozen=True)
class PeeringObject:
    """A networking object on an edge that belongs to a peering with another edge."""

    kind: str
    name: str
    namespace: str
    labels: Mapping[str, str]

    @property
    def managed_by_shortcut(self) -> bool:
        return self.labels.get(naming.MANAGED_BY_LABEL) == naming.MANAGED_BY


def discover(cluster: Cluster, *, liqo_namespace: str = LIQO_NAMESPACE) -> ClusterFacts:
    """All the facts of one edge, read with no more than the peering user's rights."""
    require_liqo_api(cluster)
    configmap = cluster_id_configmap(cluster, liqo_namespace)
    pod_cidrs, external_cidr = network_cidrs(cluster, liqo_namespace)
    return ClusterFacts(
        cluster_id=cluster_id_of(cluster, configmap),
        liqo_version=labelled_version(configmap),
        pod_cidrs=pod_cidrs,
        external_cidr=external_cidr,
        gateway_templates=gateway_templates(cluster, liqo_namespace),
    )


@dataclass(frozen=True)
class CentralFacts:
    cluster_id: str
    liqo_version: LiqoVersion


def discover_central(central: Cluster, *, liqo_namespace: str = LIQO_NAMESPACE) -> CentralFacts:
    """Central only: its cluster ID, and its Liqo version read as liqoctl reads it (central's
    virtual kubelets are what route offloaded traffic over a shortcut)."""
    configmap = cluster_id_configmap(central, liqo_namespace)
    return CentralFacts(
        cluster_id=cluster_id_of(central, configmap),
        liqo_version=controller_manager_version(central, liqo_namespace),
    )


def require_liqo_api(cluster: Cluster) -> None:
    """Raise `LiqoMissing` unless the API server serves every networking.liqo.io kind needed.

    API discovery is open to every authenticated user, so this works with any credentials.
    """
    with api_call(cluster, Action("get", CONFIGURATION)):
        served = rest.request(cluster, "GET", f"/apis/{NETWORKING}/{NETWORKING_VERSION}")
    names = {resource.get("name") for resource in served.get("resources") or []}
    missing = [r.qualified for r in REQUIRED_NETWORKING if r.plural not in names]
    if missing:
        raise LiqoMissing(
            f"Liqo on {cluster.name} lacks {', '.join(missing)} ({NETWORKING}/"
            f"{NETWORKING_VERSION}): {MISSING_LIQO_FIX}"
        )


def cluster_id_configmap(cluster: Cluster, liqo_namespace: str = LIQO_NAMESPACE) -> Manifest:
    """The ConfigMap holding the cluster ID, found by label as Liqo does (pkg/utils)."""
    found = objects.list_objects(cluster, CONFIG_MAP, liqo_namespace, CLUSTER_ID_LABELS)
    if not found:
        raise LiqoMissing(
            f"Liqo is missing on {cluster.name}: no cluster-ID ConfigMap in namespace "
            f"{liqo_namespace} (pass --liqo-namespace if Liqo lives elsewhere): {MISSING_LIQO_FIX}"
        )
    if len(found) > 1:
        raise PreconditionFailed(
            f"{cluster.name} has {len(found)} cluster-ID ConfigMaps in namespace "
            f"{liqo_namespace}; Liqo expects one: remove the stale ones"
        )
    return found[0]


def cluster_id_of(cluster: Cluster, configmap: Manifest) -> str:
    value = (configmap.get("data") or {}).get(CLUSTER_ID_KEY)
    if not value:
        raise PreconditionFailed(
            f"the cluster-ID ConfigMap on {cluster.name} has no {CLUSTER_ID_KEY}: reinstall Liqo"
        )
    return str(value)


def labelled_version(configmap: Manifest) -> LiqoVersion:
    """The version the Liqo chart stamped on the cluster-ID ConfigMap (see the module docs)."""
    version = _labels(configmap).get(VERSION_LABEL)
    if version:
        return LiqoVersion(version, f"the {VERSION_LABEL} label of the cluster-ID ConfigMap")
    return LiqoVersion(None, f"the cluster-ID ConfigMap has no {VERSION_LABEL} label")


def controller_manager_version(cluster: Cluster, liqo_namespace: str) -> LiqoVersion:
    """The image tag of the liqo-controller-manager, as `liqoctl info` reads it (central only)."""
    deployments = objects.list_objects(
        cluster, DEPLOYMENT, liqo_namespace, CONTROLLER_MANAGER_LABELS
    )
    if len(deployments) != 1:
        return LiqoVersion(None, f"found {len(deployments)} liqo-controller-manager Deployments")
    containers = deployments[0]["spec"]["template"]["spec"].get("containers") or []
    image = next(
        (c.get("image", "") for c in containers if c.get("name") == CONTROLLER_MANAGER_CONTAINER),
        "",
    )
    _, sep, tag = image.rpartition(":")
    if not sep or "/" in tag:  # no tag, or the colon was a registry port's
        return LiqoVersion(None, f"the liqo-controller-manager image {image!r} has no tag")
    return LiqoVersion(tag, "the liqo-controller-manager image tag")


def network_cidrs(cluster: Cluster, liqo_namespace: str) -> tuple[tuple[str, ...], str]:
    """The pod CIDRs and the external CIDR, from the IPAM Networks' status as liqoctl reads them."""
    pods = _network_status_cidrs(cluster, liqo_namespace, "pod-cidr")
    external = _network_status_cidrs(cluster, liqo_namespace, "external-cidr")
    if not pods:
        raise PreconditionFailed(
            f"no pod CIDR Network in namespace {liqo_namespace} on {cluster.name}: Liqo's IPAM "
            "is not initialised; check the Liqo installation there"
        )
    if len(external) != 1:
        raise PreconditionFailed(
            f"expected one external CIDR Network in namespace {liqo_namespace} on "
            f"{cluster.name}, found {len(external)}: check the Liqo installation there"
        )
    return pods, external[0]


def gateway_templates(cluster: Cluster, liqo_namespace: str) -> GatewayTemplates:
    return GatewayTemplates(
        servers=_names(objects.list_objects(cluster, WG_GATEWAY_SERVER_TEMPLATE, liqo_namespace)),
        clients=_names(objects.list_objects(cluster, WG_GATEWAY_CLIENT_TEMPLATE, liqo_namespace)),
    )


def tenant_namespace(cluster: Cluster, remote_cluster_id: str) -> str | None:
    """The tenant namespace for ``remote_cluster_id``, or None when there is none.

    Raises `AccessDenied` when the credentials may not see it, as a peering user made for another
    cluster may not.
    Gotten by its default name, ``liqo-tenant-<id>``, as liqoctl does when the user may not list
    namespaces (pkg/tenantNamespace), and trusted only if Liqo's labels say it is that tenant's.
    """
    # A peering user may get only the tenant namespace it was made for: any other is a 403.
    fix = (
        f"these are not the credentials of a peering user for {remote_cluster_id} (liqoctl "
        f"generate peering-user --consumer-cluster-id {remote_cluster_id})"
    )
    namespace = objects.get(cluster, NAMESPACE, naming.tenant_namespace(remote_cluster_id), fix=fix)
    if namespace is None:
        return None
    labels = _labels(namespace)
    if labels.get(naming.REMOTE_CLUSTER_ID_LABEL) != remote_cluster_id:
        return None
    if naming.TENANT_NAMESPACE_LABEL not in labels:
        return None
    return str(namespace["metadata"]["name"])


def providers(central: Cluster) -> list[Provider]:
    """Central only: the clusters it has peered as providers, from its ForeignClusters."""
    found: list[Provider] = []
    for foreign in objects.list_objects(central, FOREIGN_CLUSTER, fix=CENTRAL_READ_FIX):
        status = foreign.get("status") or {}
        if status.get("role") != "Provider":
            continue
        cluster_id = (foreign.get("spec") or {}).get("clusterID") or foreign["metadata"]["name"]
        tenant = (status.get("tenantNamespace") or {}).get("local")
        found.append(Provider(cluster_id=cluster_id, tenant_namespace=tenant))
    return sorted(found, key=lambda provider: provider.cluster_id)


def central_pod_cidr_remaps(central: Cluster, provider: Provider) -> dict[str, str]:
    """Central only: which of ``provider``'s pod CIDRs central reaches under other addresses.

    Read from central's Configuration for the provider: Liqo's IPAM writes in its status the CIDR
    each remote CIDR was remapped to (the same one when there was no clash). Empty when central
    has no network peering with the provider (it may offload without one).
    """
    if provider.tenant_namespace is None:
        return {}
    selector = {naming.REMOTE_CLUSTER_ID_LABEL: provider.cluster_id}
    remaps: dict[str, str] = {}
    configurations = objects.list_objects(
        central, CONFIGURATION, provider.tenant_namespace, selector, fix=CENTRAL_READ_FIX
    )
    for configuration in configurations:
        spec = ((configuration.get("spec") or {}).get("remote") or {}).get("cidr") or {}
        status = ((configuration.get("status") or {}).get("remote") or {}).get("cidr") or {}
        for original, seen in zip(spec.get("pod") or [], status.get("pod") or [], strict=False):
            if seen and seen != original:
                remaps[str(original)] = str(seen)
    return remaps


def peering_objects(
    cluster: Cluster, namespace: str, remote_cluster_id: str
) -> list[PeeringObject]:
    """The Configurations, gateways and PublicKeys for ``remote_cluster_id`` in ``namespace``.

    Those carrying ``app.kubernetes.io/managed-by: liqo-shortcut`` are this tool's; any other is a
    peering made by someone else, to be reported and left alone.
    """
    selector = {naming.REMOTE_CLUSTER_ID_LABEL: remote_cluster_id}
    found: list[PeeringObject] = []
    for resource in (CONFIGURATION, GATEWAY_SERVER, GATEWAY_CLIENT, PUBLIC_KEY):
        for obj in objects.list_objects(cluster, resource, namespace, selector):
            metadata = obj["metadata"]
            found.append(PeeringObject(resource.kind, metadata["name"], namespace, _labels(obj)))
    return found


def _network_status_cidrs(cluster: Cluster, liqo_namespace: str, kind: str) -> tuple[str, ...]:
    networks = objects.list_objects(cluster, NETWORK, liqo_namespace, {NETWORK_TYPE_LABEL: kind})
    cidrs = []
    for network in networks:
        cidr = (network.get("status") or {}).get("cidr")
        if not cidr:
            raise PreconditionFailed(
                f"Network {network['metadata']['name']} on {cluster.name} has no status.cidr "
                "yet: Liqo's IPAM has not allocated it; retry in a moment"
            )
        cidrs.append(str(cidr))
    return tuple(sorted(cidrs))


def _names(found: list[Manifest]) -> tuple[str, ...]:
    return tuple(sorted(str(obj["metadata"]["name"]) for obj in found))


def _labels(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})
