"""Everything checked before the first change: the edges exist, are Liqo providers of central, run
a Liqo that can carry the shortcut, and are not the same cluster.

Both front ends call this, so a bad request gets the same one-line answer from the CLI and the
operator, and nothing is written to any cluster until every check has passed.
"""

from __future__ import annotations

from dataclasses import dataclass

from liqoshortcut.core.forge import CLIENT_TEMPLATE, SERVER_TEMPLATE
from liqoshortcut.core.gateway import GatewaySettings
from liqoshortcut.errors import PreconditionFailed, UsageError
from liqoshortcut.kube import discovery
from liqoshortcut.kube.clients import Cluster, connect
from liqoshortcut.kube.discovery import LiqoVersion
from liqoshortcut.kube.kubeconfig import Kubeconfig
from liqoshortcut.workflow.connect import Edge, Shortcut

# Liqo v1.2.0 added the data path that routes offloaded traffic over a provider-to-provider
# peering ("add direct connection between provider clusters"); older Liqo connects, never uses it.
DIRECT_PATH_LIQO = (1, 2, 0)


@dataclass(frozen=True)
class Preflight:
    shortcut: Shortcut
    central: Cluster
    warnings: tuple[str, ...]


def prepare(
    kubeconfig: Kubeconfig,
    *,
    central_context: str | None,
    edge_contexts: tuple[str, str],
    server_edge: str | None,
    settings: GatewaySettings,
    liqo_namespace: str = "liqo",
    wait_connected: bool = True,
) -> Preflight:
    """Resolve, reach and check the three clusters; raise before any change if anything is off."""
    edge_a, edge_b = edge_contexts
    if edge_a == edge_b:
        raise UsageError(f"both edges are {edge_a!r}: name two different edge contexts")
    if server_edge is not None and server_edge not in edge_contexts:
        raise UsageError(f"--server-edge {server_edge!r} is neither {edge_a!r} nor {edge_b!r}")
    central_resolved = kubeconfig.resolve(central_context)
    contexts = [kubeconfig.resolve(name) for name in edge_contexts]  # unknown names fail here
    central = connect(central_resolved, name=f"central ({central_resolved.context})")
    central_facts = discovery.discover(central, liqo_namespace=liqo_namespace, central=True)
    providers = {p.cluster_id for p in discovery.providers(central)}
    edges = []
    for resolved in contexts:
        cluster = connect(resolved)
        facts = discovery.discover(cluster, liqo_namespace=liqo_namespace)
        if facts.cluster_id == central_facts.cluster_id:
            raise UsageError(
                f"{resolved.context!r} is the central cluster ({facts.cluster_id}): name two edges"
            )
        if facts.cluster_id not in providers:
            raise PreconditionFailed(
                f"{resolved.context} (cluster ID {facts.cluster_id}) is not a Liqo provider of "
                f"the central cluster: peer it first (liqoctl peer)"
            )
        _require_direct_path_liqo(cluster.name, facts.liqo_version)
        edges.append(Edge(cluster=cluster, facts=facts, liqo_namespace=liqo_namespace))
    if edges[0].cluster_id == edges[1].cluster_id:
        raise UsageError(
            f"{edge_a!r} and {edge_b!r} are the same cluster ({edges[0].cluster_id}): "
            "name two different edges"
        )
    # liqoctl's remote cluster (the second given) hosts the server unless told otherwise.
    server_index = 0 if server_edge == edge_a else 1
    server, client = edges[server_index], edges[1 - server_index]
    _require_template(server, SERVER_TEMPLATE[1], server.facts.gateway_templates.servers)
    _require_template(client, CLIENT_TEMPLATE[1], client.facts.gateway_templates.clients)
    shortcut = Shortcut(
        server=server, client=client, settings=settings, wait_connected=wait_connected
    )
    return Preflight(shortcut=shortcut, central=central, warnings=tuple(_warnings(edges)))


def _require_template(edge: Edge, name: str, present: tuple[str, ...]) -> None:
    if name not in present:
        raise PreconditionFailed(
            f"{edge.cluster.name} has no gateway template {edge.liqo_namespace}/{name}: "
            "reinstall Liqo or restore the template from its chart"
        )


def _require_direct_path_liqo(edge: str, version: LiqoVersion) -> None:
    """A shortcut exists to carry offloaded traffic, which Liqo does only from v1.2.0 on."""
    parsed = _parse(version.version)
    if parsed is not None and parsed < DIRECT_PATH_LIQO:
        raise PreconditionFailed(
            f"{edge} runs Liqo {version.version}, and Liqo routes offloaded traffic over a "
            "shortcut only from v1.2.0 on: upgrade Liqo there"
        )


def _warnings(edges: list[Edge]) -> list[str]:
    """Situations where the peering works but the direct data path may not; said, not refused."""
    found = []
    for edge in edges:
        version = edge.facts.liqo_version
        if _parse(version.version) is None:
            found.append(
                f"the Liqo version of {edge.cluster.name} is unknown ({version.source}); the "
                "direct data path needs Liqo v1.2.0 or later"
            )
    shared = set(edges[0].facts.pod_cidrs) & set(edges[1].facts.pod_cidrs)
    if shared:
        found.append(
            f"both edges use pod CIDR {', '.join(sorted(shared))}: Liqo will remap it on the "
            "shortcut, so direct traffic uses remapped addresses"
        )
    return found


def _parse(version: str | None) -> tuple[int, ...] | None:
    try:
        return tuple(int(part) for part in (version or "").lstrip("v").split("-")[0].split("."))
    except ValueError:
        return None
