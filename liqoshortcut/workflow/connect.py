"""`liqoctl network connect` between two edges, run from elsewhere, with a journal and rollback.

The sequence is liqoctl's (pkg/liqoctl/network/handler.go RunConnect): Configurations on both
sides, the GatewayServer on the server edge, the GatewayClient on the client edge, each side's
PublicKey on the other, then the Connections. Steps that do not depend on each other run on the
two edges at once. Every object is looked up by its deterministic name first: one that is ours is
kept (a re-run converges), one that is not is refused before anything changes. Only objects this
run created are journalled, and on any failure, timeout or Ctrl-C they are deleted newest first.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TypeVar

from liqoshortcut.core import forge
from liqoshortcut.core.gateway import GatewaySettings
from liqoshortcut.core.naming import (
    REMOTE_CLUSTER_ID_LABEL,
    is_owned_by,
    shortcut_name,
    tenant_namespace,
)
from liqoshortcut.errors import (
    Interrupted,
    PreconditionFailed,
    RollbackIncomplete,
    ShortcutError,
    WorkflowFailed,
)
from liqoshortcut.kube import discovery, liqo
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.discovery import ClusterFacts
from liqoshortcut.kube.resources import (
    CONFIGURATION,
    CONNECTION,
    DEPLOYMENT,
    GATEWAY_CLIENT,
    GATEWAY_SERVER,
    NAMESPACE,
    PUBLIC_KEY,
    Resource,
)
from liqoshortcut.workflow.journal import Journal, ObjectRef
from liqoshortcut.workflow.progress import Phase, ProgressEvent, Reporter
from liqoshortcut.workflow.waiting import Deadline

T = TypeVar("T")

ROLLBACK_TIMEOUT = 60.0  # seconds per object: namespaces take the longest (their contents go first)
ROLLBACK_RESOURCES = {
    r.kind: r for r in (NAMESPACE, CONFIGURATION, GATEWAY_SERVER, GATEWAY_CLIENT, PUBLIC_KEY)
}


@dataclass(frozen=True)
class Edge:
    """One side of the shortcut: how to reach it and what discovery found there."""

    cluster: Cluster
    facts: ClusterFacts
    liqo_namespace: str = "liqo"

    @property
    def cluster_id(self) -> str:
        return self.facts.cluster_id


@dataclass(frozen=True)
class Shortcut:
    """What to connect: the GatewayServer goes on ``server``, the GatewayClient on ``client``."""

    server: Edge
    client: Edge
    settings: GatewaySettings
    wait_connected: bool = True

    @property
    def name(self) -> str:
        return shortcut_name(self.server.cluster_id, self.client.cluster_id)

    def namespace_on(self, edge: Edge) -> str:
        """The tenant namespace, on ``edge``, of the other edge: where its objects live."""
        return tenant_namespace(self.peer_of(edge).cluster_id)

    def peer_of(self, edge: Edge) -> Edge:
        return self.client if edge is self.server else self.server


class ConnectRun:
    """One run of the connect sequence; `run()` either completes or leaves nothing it made."""

    def __init__(self, shortcut: Shortcut, deadline: Deadline, report: Reporter) -> None:
        self.shortcut = shortcut
        self.deadline = deadline
        self.report = report
        self.journal = Journal()

    def run(self) -> None:
        self._refuse_foreign_peerings()  # before any change: a refusal leaves nothing to undo
        try:
            self._connect()
        except KeyboardInterrupt:
            self._roll_back("interrupted", Interrupted)
        except ShortcutError as error:
            self._roll_back(str(error), WorkflowFailed)

    # --- the sequence -------------------------------------------------------------------------
    def _connect(self) -> None:
        shortcut = self.shortcut
        server, client = shortcut.server, shortcut.client
        self._on_both(self._ensure_tenant_namespace)
        self._on_both(self._ensure_configuration)
        self._on_both(self._wait_configuration_ready)
        gateway_server = self._ensure(
            server,
            GATEWAY_SERVER,
            forge.gateway_server(
                shortcut=shortcut.name,
                remote_cluster_id=client.cluster_id,
                namespace=shortcut.namespace_on(server),
                settings=shortcut.settings,
                template_namespace=server.liqo_namespace,
            ),
        )
        self._wait_gateway_pod(server, gateway_server)
        status = self._wait_status(server, GATEWAY_SERVER, "endpoint", "addresses")
        gateway_client = self._ensure(
            client,
            GATEWAY_CLIENT,
            forge.gateway_client(
                shortcut=shortcut.name,
                remote_cluster_id=server.cluster_id,
                namespace=shortcut.namespace_on(client),
                settings=shortcut.settings,
                endpoint=forge.client_endpoint(status["endpoint"], shortcut.settings),
                template_namespace=client.liqo_namespace,
            ),
        )
        self._wait_gateway_pod(client, gateway_client)
        gateways = {id(server): gateway_server, id(client): gateway_client}
        self._on_both(lambda edge: self._exchange_key(edge, gateways))
        if shortcut.wait_connected:
            self._on_both(self._wait_connected)

    def _refuse_foreign_peerings(self) -> None:
        """An A<->B peering made by someone else (liqoctl, by hand) is reported and left alone."""
        for edge in (self.shortcut.server, self.shortcut.client):
            peer = self.shortcut.peer_of(edge)
            foreign = [
                obj
                for obj in discovery.peering_objects(
                    edge.cluster, self.shortcut.namespace_on(edge), peer.cluster_id
                )
                if not is_owned_by(dict(obj.labels), self.shortcut.name)
            ]
            if foreign:
                names = ", ".join(f"{obj.kind} {obj.namespace}/{obj.name}" for obj in foreign)
                raise PreconditionFailed(
                    f"{edge.cluster.name} already has a Liqo network peering with "
                    f"{peer.cluster.name} not made by liqo-shortcut ({names}); "
                    "it is left alone: remove it with liqoctl network reset to let liqo-shortcut "
                    "manage the pair"
                )

    def _ensure_tenant_namespace(self, edge: Edge) -> None:
        """liqoctl creates the peer's tenant namespace when missing; so does this run."""
        peer = self.shortcut.peer_of(edge)
        if discovery.tenant_namespace(edge.cluster, peer.cluster_id) is None:
            self._ensure(
                edge,
                NAMESPACE,
                forge.tenant_namespace(
                    shortcut=self.shortcut.name, remote_cluster_id=peer.cluster_id
                ),
            )

    def _ensure_configuration(self, edge: Edge) -> None:
        peer = self.shortcut.peer_of(edge)
        self._ensure(
            edge,
            CONFIGURATION,
            forge.configuration(
                shortcut=self.shortcut.name,
                remote_cluster_id=peer.cluster_id,
                namespace=self.shortcut.namespace_on(edge),
                pod_cidrs=peer.facts.pod_cidrs,
                external_cidr=peer.facts.external_cidr,
            ),
        )

    def _wait_configuration_ready(self, edge: Edge) -> None:
        name = self.shortcut.peer_of(edge).cluster_id
        namespace = self.shortcut.namespace_on(edge)

        def ready() -> bool | None:
            # Liqo's AreConfigurationNetworkCIDRsConfigured: the condition is True for this
            # generation of the spec.
            configuration = liqo.get(edge.cluster, CONFIGURATION, name, namespace) or {}
            generation = configuration.get("metadata", {}).get("generation")
            for condition in (configuration.get("status") or {}).get("conditions") or []:
                if (
                    condition.get("type") == "NetworkCIDRsConfigured"
                    and condition.get("status") == "True"
                    and condition.get("observedGeneration") == generation
                ):
                    return True
            return None

        self._step(edge, f"wait for Configuration {namespace}/{name} to be ready", ready)

    def _wait_gateway_pod(self, edge: Edge, gateway: liqo.Manifest) -> None:
        name, namespace = gateway["metadata"]["name"], gateway["metadata"]["namespace"]

        def ready() -> bool | None:
            deployment = liqo.get(edge.cluster, DEPLOYMENT, f"gw-{name}", namespace) or {}
            return True if (deployment.get("status") or {}).get("readyReplicas") else None

        self._step(edge, f"wait for gateway pod gw-{name} to be ready", ready)

    def _wait_status(self, edge: Edge, resource: Resource, *path: str) -> liqo.Manifest:
        peer = self.shortcut.peer_of(edge)
        namespace = self.shortcut.namespace_on(edge)

        def status() -> liqo.Manifest | None:
            found = liqo.get(edge.cluster, resource, peer.cluster_id, namespace) or {}
            value: object = found.get("status") or {}
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            return found["status"] if value else None

        what = f"{resource.kind} {namespace}/{peer.cluster_id} status.{'.'.join(path)}"
        return self._step(edge, f"wait for {what}", status)

    def _exchange_key(self, edge: Edge, gateways: dict[int, liqo.Manifest]) -> None:
        """Read ``edge``'s gateway public key and give it to the peer, owned by its gateway."""
        peer = self.shortcut.peer_of(edge)
        resource = GATEWAY_SERVER if edge is self.shortcut.server else GATEWAY_CLIENT
        status = self._wait_status(edge, resource, "secretRef", "name")
        key = liqo.gateway_public_key(
            edge.cluster, status["secretRef"]["name"], self.shortcut.namespace_on(edge)
        )
        owner = gateways[id(peer)]["metadata"]
        self._ensure(
            peer,
            PUBLIC_KEY,
            forge.public_key(
                shortcut=self.shortcut.name,
                remote_cluster_id=edge.cluster_id,
                namespace=self.shortcut.namespace_on(peer),
                key_base64=base64.b64encode(key).decode(),
                owner=forge.OwnerGateway(
                    kind=gateways[id(peer)]["kind"], name=owner["name"], uid=owner["uid"]
                ),
            ),
        )

    def _wait_connected(self, edge: Edge) -> None:
        peer = self.shortcut.peer_of(edge)
        namespace = self.shortcut.namespace_on(edge)
        labels = {REMOTE_CLUSTER_ID_LABEL: peer.cluster_id}

        def connected() -> bool | None:
            connections = liqo.list_objects(edge.cluster, CONNECTION, namespace, labels)
            states = [(c.get("status") or {}).get("value") for c in connections]
            return True if states == ["Connected"] else None

        self._step(edge, f"wait for the Connection to {peer.cluster.name}", connected)

    # --- mechanics ----------------------------------------------------------------------------
    def _on_both(self, action: Callable[[Edge], None]) -> None:
        """Run ``action`` on the two edges at once; the first failure (or Ctrl-C) stops both."""
        pool = ThreadPoolExecutor(max_workers=2)
        try:
            edges = (self.shortcut.client, self.shortcut.server)
            futures = [pool.submit(action, edge) for edge in edges]
            wait(futures, return_when=FIRST_EXCEPTION)
            for future in futures:
                if future.done() and (error := future.exception()) is not None:
                    raise error
        except BaseException:
            self.deadline.cancel()  # the other edge's wait gives up now, not at the deadline
            raise
        finally:
            pool.shutdown(wait=True)

    def _step(self, edge: Edge, what: str, check: Callable[[], T | None]) -> T:
        self.report(ProgressEvent(Phase.STARTED, what, edge.cluster.name))
        try:
            value = self.deadline.poll(f"{what} on {edge.cluster.name}", check)
        except ShortcutError as error:
            self.report(ProgressEvent(Phase.FAILED, what, edge.cluster.name, str(error)))
            raise
        self.report(ProgressEvent(Phase.DONE, what, edge.cluster.name))
        return value

    def _ensure(self, edge: Edge, resource: Resource, manifest: liqo.Manifest) -> liqo.Manifest:
        """The object as it is on the cluster: ours if present, else created and journalled."""
        metadata = manifest["metadata"]
        name, namespace = metadata["name"], metadata.get("namespace")
        what = f"create {resource.kind} {namespace + '/' if namespace else ''}{name}"
        existing = liqo.get(edge.cluster, resource, name, namespace)
        if existing is not None:
            if not is_owned_by(existing["metadata"].get("labels"), self.shortcut.name):
                raise PreconditionFailed(
                    f"{what[len('create ') :]} on {edge.cluster.name} exists and was not made "
                    "by liqo-shortcut; it is left alone"
                )
            self.report(ProgressEvent(Phase.SKIPPED, what, edge.cluster.name, "already there"))
            return existing
        self.report(ProgressEvent(Phase.STARTED, what, edge.cluster.name))
        created = liqo.create(edge.cluster, resource, manifest)
        self.journal.record(
            ObjectRef(
                edge.cluster.name,
                resource.api_version,
                resource.kind,
                resource.plural,
                namespace,
                name,
            )
        )
        self.report(ProgressEvent(Phase.DONE, what, edge.cluster.name))
        return created

    def _roll_back(self, reason: str, failure: type[ShortcutError]) -> None:
        """Delete what this run created, newest first, and raise ``failure`` saying how it went."""
        if not len(self.journal):
            raise failure(f"{reason}; nothing had been created")
        edges = {e.cluster.name: e for e in (self.shortcut.server, self.shortcut.client)}
        leftovers: list[ObjectRef] = []
        for ref in self.journal.newest_first():
            edge, resource = edges[ref.cluster], ROLLBACK_RESOURCES[ref.kind]
            self.report(ProgressEvent(Phase.ROLLBACK, f"delete {ref}", ref.cluster))
            try:
                liqo.delete(edge.cluster, resource, ref.name, ref.namespace)
                # Rollback gets its own budget: the run's may be what just ran out.
                gone = liqo.wait_gone(
                    edge.cluster, resource, ref.name, ref.namespace, timeout=ROLLBACK_TIMEOUT
                )
            except (ShortcutError, KeyboardInterrupt):
                gone = False
            if not gone:
                leftovers.append(ref)
        if leftovers:
            commands = "; ".join(_delete_command(ref) for ref in leftovers)
            raise RollbackIncomplete(
                f"{reason}; rollback left {len(leftovers)} object(s), remove them with: {commands}"
            )
        raise failure(f"{reason}; everything this run created was removed")


def _delete_command(ref: ObjectRef) -> str:
    scope = f" -n {ref.namespace}" if ref.namespace else ""
    return f"kubectl --context {ref.cluster}{scope} delete {ref.plural} {ref.name}"
