"""Everything checked before the first change: the edges exist, are Liqo providers of central, run
a Liqo that can carry the shortcut, and are not the same cluster.

Both front ends call this, so a bad request gets the same one-line answer from the CLI and the
operator, and nothing is written to any cluster until every check has passed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Final

from pydantic import ValidationError

from liqoshortcut.core.forge import CLIENT_TEMPLATE, SERVER_TEMPLATE
from liqoshortcut.core.gateway import GatewaySettings
from liqoshortcut.core.model import EdgeRef, ShortcutSpec
from liqoshortcut.core.plan import (
    EdgeFacts,
    EdgeIdentity,
    Placement,
    Plan,
    place,
    plan,
    refuse_same_cluster,
)
from liqoshortcut.core.schema import usage_error
from liqoshortcut.core.traffic import PathMode, ServiceSelection, TrafficPolicy
from liqoshortcut.core.words import shown
from liqoshortcut.errors import PreconditionFailed, UsageError
from liqoshortcut.kube import discovery
from liqoshortcut.kube.clients import Cluster, connect, connect_central
from liqoshortcut.kube.discovery import ClusterFacts, LiqoVersion
from liqoshortcut.kube.kubeconfig import Kubeconfig, ResolvedContext
from liqoshortcut.workflow.facts import Facts
from liqoshortcut.workflow.records import refuse_owned
from liqoshortcut.workflow.steps import missing_template

# Liqo v1.2.0 added the data path that routes offloaded traffic over a provider-to-provider
# peering ("add direct connection between provider clusters"); older Liqo connects, never uses it.
DIRECT_PATH_LIQO = (1, 2, 0)
# How a message names a spec field the command line set, unless the caller names it (the CLI
# by its flag: a bad value is blamed on what the user typed).
SPEC_FIELDS: Final = {"server_edge": "serverEdge", "liqo_namespace": "liqoNamespace"}


READ_AFRESH = Facts()

# Makes the client of an edge from its credentials and its name in the spec.
Connector = Callable[[ResolvedContext, str], Cluster]


def connect_named(context: ResolvedContext, name: str) -> Cluster:
    return connect(context, name=name)


@dataclass(frozen=True)
class Edge:
    """One edge as discovered: how to reach it and what was read there."""

    cluster: Cluster
    facts: ClusterFacts
    central_remaps: Mapping[str, str] = field(
        default_factory=dict
    )  # pod CIDR -> as central sees it


@dataclass(frozen=True)
class Located:
    """Where a shortcut's objects are, and a client per edge (by edge name)."""

    plan: Placement
    edges: Mapping[str, Cluster]  # by edge name: the plan's ``Step.cluster``


@dataclass(frozen=True)
class Preflight(Located):
    """A shortcut checked and planned, ready to be made."""

    plan: Plan
    spec: ShortcutSpec
    central: Cluster
    central_namespace: str  # the central context's namespace, as kubectl would use it
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
    edge_kubeconfigs: Mapping[str, Kubeconfig] | None = None,
    traffic: TrafficPolicy | None = None,
    connector: Connector = connect_named,
    names: Mapping[str, str] = SPEC_FIELDS,
) -> Preflight:
    """The CLI's preflight: build the spec from the command line, resolve the three contexts,
    then `check`. Edges are named by their contexts, looked up in ``edge_kubeconfigs[edge]``
    when given (an edge's own file, e.g. a peering user's), else in ``kubeconfig``. ``traffic``
    is the spec's traffic policy (the default selects no Service); ``connector`` makes the
    three clients; ``names`` says how messages name the fields the caller set."""
    asked = _request(
        kubeconfig,
        central_context,
        edge_contexts,
        server_edge=server_edge,
        settings=settings,
        liqo_namespace=liqo_namespace,
        edge_kubeconfigs=edge_kubeconfigs,
        traffic=traffic,
        connector=connector,
        names=names,
    )
    return check(
        asked.spec,
        asked.central,
        asked.edge_contexts,
        central_namespace=asked.central_namespace,
        wait_connected=wait_connected,
        connector=connector,
    )


@dataclass(frozen=True)
class Teardown(Located):
    """A shortcut located for `delete`, with central's client (its record, its routing)."""

    central: Cluster


def prepare_teardown(
    kubeconfig: Kubeconfig,
    *,
    central_context: str | None,
    edge_contexts: tuple[str, str],
    liqo_namespace: str = "liqo",
    edge_kubeconfigs: Mapping[str, Kubeconfig] | None = None,
    connector: Connector = connect_named,
    names: Mapping[str, str] = SPEC_FIELDS,
) -> Teardown:
    """`delete`'s preflight: the same refusals of bad input as `prepare`, then `locate`. Of
    central only its cluster ID is read, so that neither edge can be central itself, and the
    VirtualNodeShortcuts, so that a shortcut the operator owns is left to it."""
    asked = _request(
        kubeconfig,
        central_context,
        edge_contexts,
        liqo_namespace=liqo_namespace,
        edge_kubeconfigs=edge_kubeconfigs,
        connector=connector,
        names=names,
    )
    with ThreadPoolExecutor(max_workers=2) as pool:
        central_read = pool.submit(READ_AFRESH.cluster_id, asked.central, liqo_namespace)
        edges_read = pool.submit(locate, asked.spec, asked.edge_contexts, connector=connector)
    central_id = central_read.result()  # central's failure first, as `check` judges them
    located = edges_read.result()
    for edge in located.plan.edges.values():
        _refuse_central(asked.edge_contexts[edge.name], edge.cluster_id, central_id)
    cluster_ids = {edge.cluster_id for edge in located.plan.edges.values()}
    refuse_owned(asked.central, located.plan.shortcut, cluster_ids, "delete")
    return Teardown(plan=located.plan, edges=located.edges, central=asked.central)


@dataclass(frozen=True)
class _Request:
    """A command line's shortcut: its spec, central's client, the edges' credentials."""

    spec: ShortcutSpec
    central: Cluster
    central_namespace: str
    edge_contexts: Mapping[str, ResolvedContext]


def _request(
    kubeconfig: Kubeconfig,
    central_context: str | None,
    edge_contexts: tuple[str, str],
    *,
    server_edge: str | None = None,
    settings: GatewaySettings | None = None,
    liqo_namespace: str,
    edge_kubeconfigs: Mapping[str, Kubeconfig] | None,
    traffic: TrafficPolicy | None = None,
    connector: Connector = connect_named,
    names: Mapping[str, str],
) -> _Request:
    """Refuse a bad command line before any cluster is contacted, then connect to central."""
    edge_a, edge_b = edge_contexts
    if edge_a == edge_b:
        raise UsageError(f"both edges are {shown(edge_a)}: name two different edge contexts")
    if server_edge is not None and server_edge not in edge_contexts:
        raise UsageError(
            f"{names['server_edge']} {shown(server_edge)} is neither {shown(edge_a)} nor "
            f"{shown(edge_b)}"
        )
    try:
        spec = ShortcutSpec(
            edges=(EdgeRef(name=edge_a, context=edge_a), EdgeRef(name=edge_b, context=edge_b)),
            server_edge=server_edge,
            gateway=settings or GatewaySettings(),
            traffic=traffic or TrafficPolicy(),
            liqo_namespace=liqo_namespace,
        )
    except ValidationError as error:
        raise usage_error(error, names=names) from None
    # Unknown names fail here, central's first, before any cluster is contacted.
    kubeconfig.resolve(central_context)
    own = edge_kubeconfigs or {}
    contexts = {name: own.get(name, kubeconfig).resolve(name) for name in edge_contexts}
    central = connect_central(kubeconfig, central_context, connector)
    return _Request(
        spec=spec,
        central=central.cluster,
        central_namespace=central.context.namespace or "default",
        edge_contexts=contexts,
    )


def check(
    spec: ShortcutSpec,
    central: Cluster,
    edge_contexts: Mapping[str, ResolvedContext],
    *,
    central_namespace: str = "default",
    wait_connected: bool = True,
    connector: Connector = connect_named,
    facts: Facts = READ_AFRESH,
) -> Preflight:
    """Reach and check the three clusters, then plan; raise before any change if anything is off.

    ``edge_contexts`` holds each of ``spec``'s edges (by name) resolved to credentials: the CLI
    takes them from kubeconfig contexts, the operator from Secrets; ``connector`` makes their
    clients and ``facts`` reads what they hold (the operator reuses both between passes).
    """
    liqo_namespace = spec.liqo_namespace

    def read_central() -> tuple[discovery.CentralFacts, tuple[discovery.Provider, ...]]:
        return facts.central(central, liqo_namespace), facts.providers(central)

    def read_edge(ref: EdgeRef) -> tuple[Cluster, ClusterFacts]:
        cluster = connector(edge_contexts[ref.name], ref.name)
        return cluster, facts.edge(cluster, liqo_namespace)

    # The three clusters are read at once (each read is a few round trips in a row); their
    # failures are then judged in a fixed order, central first, so the message never depends
    # on which answer came first.
    with ThreadPoolExecutor(max_workers=3) as pool:
        central_read = pool.submit(read_central)
        edge_reads = [pool.submit(read_edge, ref) for ref in spec.edges]
    central_facts, found = central_read.result()
    _require_direct_path_liqo(central.name, central_facts.liqo_version)
    providers = {p.cluster_id: p for p in found}
    edges: dict[str, Edge] = {}
    for ref, edge_read in zip(spec.edges, edge_reads, strict=True):
        cluster, found_there = edge_read.result()
        resolved = edge_contexts[ref.name]
        cluster_id = found_there.cluster_id
        _refuse_central(resolved, cluster_id, central_facts.cluster_id)
        if cluster_id not in providers:
            raise PreconditionFailed(
                f"{ref.name} (cluster ID {cluster_id}) is not a Liqo provider of "
                f"the central cluster: peer it first (liqoctl peer)"
            )
        _require_direct_path_liqo(cluster.name, found_there.liqo_version)
        remaps = facts.pod_cidr_remaps(central, providers[cluster_id])
        edges[ref.name] = Edge(cluster=cluster, facts=found_there, central_remaps=remaps)
    edge_a, edge_b = (ref.name for ref in spec.edges)
    refuse_same_cluster(
        edge_a, edge_b, edges[edge_a].facts.cluster_id, edges[edge_b].facts.cluster_id
    )
    if _routes_services(spec.traffic):
        _refuse_remapped_by_central(list(edges.values()))
    server, client = edges[spec.server.name], edges[spec.client.name]
    _require_template(
        server, liqo_namespace, SERVER_TEMPLATE[1], server.facts.gateway_templates.servers
    )
    _require_template(
        client, liqo_namespace, CLIENT_TEMPLATE[1], client.facts.gateway_templates.clients
    )
    observed = {
        name: _edge_facts(edge, peer=edges[edge_b if name == edge_a else edge_a])
        for name, edge in edges.items()
    }
    return Preflight(
        spec=spec,
        plan=plan(spec, observed, wait_connected=wait_connected),
        edges={name: edge.cluster for name, edge in edges.items()},
        central=central,
        central_namespace=central_namespace,
        warnings=tuple(_warnings(list(edges.values()))),
    )


def locate(
    spec: ShortcutSpec,
    edge_contexts: Mapping[str, ResolvedContext],
    *,
    connector: Connector = connect_named,
    facts: Facts = READ_AFRESH,
) -> Located:
    """Reach both edges and find where ``spec``'s objects are: all a teardown needs.

    Each edge is asked only which cluster it is and whether it holds a tenant namespace for the
    other: a teardown must work even when an edge is no longer peered with central or has lost
    a gateway template, since removing a shortcut should never depend on it being healthy.
    """
    first, second = (ref.name for ref in spec.edges)
    clusters = {ref.name: connector(edge_contexts[ref.name], ref.name) for ref in spec.edges}
    with ThreadPoolExecutor(max_workers=2) as pool:
        asked = {
            name: pool.submit(facts.cluster_id, cluster, spec.liqo_namespace)
            for name, cluster in clusters.items()
        }
        ids = {name: answer.result() for name, answer in asked.items()}
        peer = {first: ids[second], second: ids[first]}
        tenants = {
            name: pool.submit(discovery.tenant_namespace, cluster, peer[name])
            for name, cluster in clusters.items()
        }
        identities = {name: EdgeIdentity(ids[name], tenants[name].result()) for name in clusters}
    return Located(plan=place(spec, identities), edges=clusters)


def _refuse_central(edge: ResolvedContext, cluster_id: str, central_id: str) -> None:
    if cluster_id == central_id:
        raise UsageError(
            f"{shown(edge.context)} is the central cluster ({cluster_id}): name two edges"
        )


def _edge_facts(edge: Edge, peer: Edge) -> EdgeFacts:
    """What the plan needs of ``edge``, including its tenant namespace for ``peer`` if any."""
    return EdgeFacts(
        cluster_id=edge.facts.cluster_id,
        pod_cidrs=edge.facts.pod_cidrs,
        external_cidr=edge.facts.external_cidr,
        peer_tenant_namespace=discovery.tenant_namespace(edge.cluster, peer.facts.cluster_id),
    )


def _require_template(edge: Edge, namespace: str, name: str, present: tuple[str, ...]) -> None:
    if name not in present:
        raise missing_template(edge.cluster.name, namespace, name)


def _require_direct_path_liqo(cluster: str, version: LiqoVersion) -> None:
    """A shortcut exists to carry offloaded traffic, which Liqo does only from v1.2.0 on."""
    parsed = _parse(version.version)
    if parsed is not None and parsed < DIRECT_PATH_LIQO:
        raise PreconditionFailed(
            f"{cluster} runs Liqo {version.version}, and Liqo routes offloaded traffic over a "
            "shortcut only from v1.2.0 on: upgrade Liqo there"
        )


def _routes_services(policy: TrafficPolicy) -> bool:
    """Whether the shortcut may put Services on the direct path (now, or later for Auto)."""
    return policy.services != ServiceSelection.NONE and policy.path != PathMode.HUB


def _refuse_remapped_by_central(edges: list[Edge]) -> None:
    """Liqo v1.2.0 cannot route a Service over a shortcut to an edge whose pod CIDR central
    remapped: central's virtual kubelet hands the other edge the endpoint at central's remapped
    address, and that edge's ShadowEndpointSlice controller maps a direct-connection address
    only within the edge's own pod CIDR (pkg/utils/ipam/mapping ForceMapAddressWithConfiguration:
    "no remote pod CIDR contains address"), so its EndpointSlice stops being updated. Seen on
    the lab with Liqo's own controllers (tests/integration/test_datapath.py)."""
    for edge in edges:
        for original, seen in sorted(edge.central_remaps.items()):
            raise PreconditionFailed(
                f"central reaches {edge.cluster.name}'s pod CIDR {original} as {seen} (Liqo "
                "remapped it), and Liqo v1.2.0 cannot route Services over a shortcut to such an "
                "edge: the other edge would get its endpoints at central's remapped addresses, "
                "which Liqo maps over the shortcut only within the edge's own pod CIDR; create "
                "the shortcut without selecting Services, or give the edges pod CIDRs central "
                "need not remap"
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
    for edge in edges:
        for original, seen in sorted(edge.central_remaps.items()):
            found.append(
                f"central reaches {edge.cluster.name}'s pod CIDR {original} as {seen} (Liqo "
                "remapped it): the peering works, but Liqo v1.2.0 cannot route Services with "
                "endpoints there over the shortcut, so none will be"
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
