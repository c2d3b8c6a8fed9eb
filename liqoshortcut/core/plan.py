"""The connect sequence between two edges as data: which step runs on which edge, after what.

The steps and their order are `liqoctl network connect`'s (pkg/liqoctl/network/handler.go
RunConnect); the dependencies between them say which steps may run on the two edges at once. A
teardown needs no steps, only where the objects are (`place`): `workflow.disconnect` finds them
by label, so it also removes what an older or interrupted run made. Being data, a plan is what
`create --dry-run=client -o yaml` prints, what the workflow executes and what tests check, with no
cluster in sight. Values only a running sequence learns (the server's endpoint, the gateways'
public keys and uids) appear in manifests as readable placeholders; each is listed in
`Step.pending` with the earlier step that `produces` it, and `Step.resolve` fills them in.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, Protocol

from liqoshortcut.core import forge
from liqoshortcut.core.forge import CLIENT_TEMPLATE, SERVER_TEMPLATE, Manifest
from liqoshortcut.core.model import ShortcutSpec
from liqoshortcut.core.naming import REMOTE_CLUSTER_ID_LABEL, shortcut_name, tenant_namespace
from liqoshortcut.core.words import shown
from liqoshortcut.errors import PreconditionFailed, UsageError


class Side(StrEnum):
    """An edge's role: liqoctl's "remote" cluster hosts the server, its "local" one the client."""

    SERVER = "server"
    CLIENT = "client"

    @property
    def other(self) -> Side:
        return Side.CLIENT if self is Side.SERVER else Side.SERVER


SERVER: Final = Side.SERVER
CLIENT: Final = Side.CLIENT


class Action(StrEnum):
    CHECK = "check"  # read only: refuse before any change
    CREATE = "create"
    WAIT = "wait"


class Condition(StrEnum):
    """What a CHECK step finds true at once, or a WAIT step waits for, on its object."""

    TEMPLATE_EXISTS = "template exists"
    CONFIGURED = "configured"  # Liqo's AreConfigurationNetworkCIDRsConfigured
    POD_READY = "pod ready"  # waiter ForGatewayPodReady: the Deployment has a ready replica
    ENDPOINT = "status.endpoint"  # the GatewayServer's address, port and protocol
    KEY = "status.secretRef"  # the gateway's keys Secret, holding its public key
    CONNECTED = "connected"  # the one Connection found by ``selector`` is Connected


class Output(StrEnum):
    """A value only a running step learns and a later step's manifest needs.

    Values: ENDPOINT_ADDRESSES and PEER_POD_CIDRS a list of str, ENDPOINT_PORT an int, the
    others a str. PEER_POD_CIDRS no step needs: it is what the run tells its caller.
    """

    ENDPOINT_ADDRESSES = "status.endpoint.addresses"
    ENDPOINT_PORT = "status.endpoint.port"
    ENDPOINT_PROTOCOL = "status.endpoint.protocol"
    PUBLIC_KEY = "public key (status.secretRef)"
    UID = "metadata.uid"
    # Where this edge's pods reach the other edge's pods: the peer's pod CIDRs as this edge's Liqo
    # mapped them, remapped when they overlap its own (Configuration status.remote.cidr.pod).
    PEER_POD_CIDRS = "status.remote.cidr.pod"


Outputs = Mapping[Output, object]


@dataclass(frozen=True)
class EdgeFacts:
    """What was read from one edge before planning (the kube layer's discovery fills it)."""

    cluster_id: str
    pod_cidrs: tuple[str, ...]
    external_cidr: str
    # This edge's tenant namespace for the *other* edge, when it exists; None: the plan creates it
    # (liqoctl's NewCluster with createTenantNs=true).
    peer_tenant_namespace: str | None = None


class Identified(Protocol):
    """What placing a shortcut needs of an edge: `EdgeFacts` has it, and so has `EdgeIdentity`."""

    @property
    def cluster_id(self) -> str: ...

    @property
    def peer_tenant_namespace(self) -> str | None: ...


@dataclass(frozen=True)
class EdgeIdentity:
    """An edge as a teardown reads it: which cluster it is, and its tenant namespace for the
    other edge if it has one."""

    cluster_id: str
    peer_tenant_namespace: str | None = None


@dataclass(frozen=True)
class PlannedEdge:
    """One edge as the plan uses it: its name, its cluster ID, where the peer's objects live."""

    name: str  # the edge's name in the spec (a context name from the CLI)
    cluster_id: str
    namespace: str  # this edge's tenant namespace for the other edge


@dataclass(frozen=True)
class Pending:
    """A manifest field that ``step``'s ``output`` fills at run time."""

    path: tuple[str | int, ...]  # keys and list indexes from the manifest's root
    step: str
    output: Output

    @property
    def field(self) -> str:
        """``metadata.ownerReferences[0].uid``: the path as a reader spells it."""
        spelled = ""
        for key in self.path:
            spelled += f"[{key}]" if isinstance(key, int) else f".{key}"
        return spelled.lstrip(".")

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "from": self.step, "value": str(self.output)}


@dataclass(frozen=True)
class Step:
    """One thing done on one edge. ``after`` names the steps that must be done first.

    A step ``produces`` the outputs later steps' ``pending`` fields name; `resolve` fills them.
    """

    id: str
    side: Side
    cluster: str  # the edge's name in the spec (a context name from the CLI)
    action: Action
    kind: str
    name: str
    namespace: str | None
    what: str  # a progress line, e.g. "wait for GatewayServer liqo-tenant-b/b status.endpoint"
    after: tuple[str, ...] = ()
    manifest: Manifest | None = None
    pending: tuple[Pending, ...] = ()  # manifest fields only the running sequence can fill
    produces: tuple[Output, ...] = ()
    condition: Condition | None = None  # for CHECK and WAIT steps
    selector: Mapping[str, str] | None = None  # found by label, not name (``name`` is empty)

    def resolve(self, outputs: Mapping[str, Outputs]) -> Manifest:
        """The manifest to send, pending fields filled from ``outputs`` (by producing step).

        Raises ValueError if a placeholder would be left: none may ever reach an API server.
        """
        if self.manifest is None:
            raise ValueError(f"step {self.id} has no manifest")
        manifest = copy.deepcopy(self.manifest)
        for field_ in self.pending:
            _put(manifest, field_.path, outputs[field_.step][field_.output])
        left = placeholders(manifest)
        if left:
            raise ValueError(f"step {self.id} would send the placeholder {left[0]!r}")
        return manifest

    def as_dict(self) -> dict[str, Any]:
        """For `-o yaml|json`: plain data, without the (separately printed) manifest."""
        shown: dict[str, Any] = {
            "id": self.id,
            "cluster": self.cluster,
            "side": str(self.side),
            "action": str(self.action),
            "object": _object(self.kind, self.name, self.namespace),
        }
        if self.condition:
            shown["condition"] = str(self.condition)
        if self.selector:
            shown["selector"] = dict(self.selector)
        if self.after:
            shown["after"] = list(self.after)
        if self.pending:
            shown["pending"] = [field_.as_dict() for field_ in self.pending]
        if self.produces:
            shown["produces"] = [str(output) for output in self.produces]
        return shown


PLACEHOLDER_PREFIX: Final = "<at run time: "


def placeholder(what: str) -> str:
    """A value known only at run time, readable in a dry-run's YAML."""
    return f"{PLACEHOLDER_PREFIX}{what}>"


def placeholders(value: object) -> list[str]:
    """Every placeholder string anywhere in ``value`` (a manifest)."""
    if isinstance(value, str):
        return [value] if value.startswith(PLACEHOLDER_PREFIX) else []
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, list | tuple):
        return [found for item in value for found in placeholders(item)]
    return []


@dataclass(frozen=True)
class Placement:
    """Where one shortcut's objects are: its name and, per side, its edge and namespace there."""

    shortcut: str
    edges: Mapping[Side, PlannedEdge]


@dataclass(frozen=True)
class Plan(Placement):
    """The ordered steps of one shortcut; ``steps`` is a valid order to run them one by one."""

    steps: tuple[Step, ...]
    ids: Mapping[str, Step] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", {step.id: step for step in self.steps})

    def step(self, step_id: str) -> Step:
        return self.ids[step_id]

    def waves(self) -> tuple[tuple[Step, ...], ...]:
        """Groups of steps with no dependency among them: each group may run at once."""
        depth: dict[str, int] = {}
        for step in self.steps:  # topological order: every dependency already has a depth
            depth[step.id] = 1 + max((depth[d] for d in step.after), default=-1)
        return tuple(
            tuple(step for step in self.steps if depth[step.id] == level)
            for level in range(max(depth.values(), default=-1) + 1)
        )

    def peer_pod_cidrs(self, produced: Mapping[str, Outputs]) -> dict[Side, tuple[str, ...]]:
        """Per side, the CIDRs its edge reaches the other's pods at, as a run (``produced`` by
        step id) learnt them; a side missing where the run did not get that far."""
        found = {}
        for step in self.steps:
            cidrs = produced.get(step.id, {}).get(Output.PEER_POD_CIDRS)
            if isinstance(cidrs, list | tuple):
                found[step.side] = tuple(str(cidr) for cidr in cidrs)
        return found

    @property
    def waits_connected(self) -> bool:
        """Whether the run ends waiting for both Connections (`create --wait`)."""
        return any(step.condition is Condition.CONNECTED for step in self.steps)

    def pod_cidrs(self) -> dict[str, tuple[str, ...]]:
        """Each edge's own pod CIDRs by cluster ID, as the plan's Configurations describe them
        to the other edge."""
        return {
            self.edges[step.side.other].cluster_id: tuple(
                step.manifest["spec"]["remote"]["cidr"]["pod"]
            )
            for step in self.steps
            if step.kind == "Configuration" and step.manifest is not None
        }

    def manifests_by_cluster(self) -> dict[str, list[Manifest]]:
        """Per edge, every object the plan creates, in creation order: the dry-run's output."""
        manifests: dict[str, list[Manifest]] = {self.edges[side].name: [] for side in Side}
        for step in self.steps:
            if step.action is Action.CREATE and step.manifest is not None:
                manifests[step.cluster].append(step.manifest)
        return manifests


def _put(manifest: Manifest, path: tuple[str | int, ...], value: object) -> None:
    *parents, last = path
    target: Any = manifest
    for key in parents:
        target = target[key]
    target[last] = value


def _object(kind: str, name: str, namespace: str | None) -> str:
    if not name:
        return f"{kind} in {namespace}"
    return f"{kind} {namespace + '/' if namespace else ''}{name}"


def place(spec: ShortcutSpec, observed: Mapping[str, Identified]) -> Placement:
    """Where ``spec``'s objects go, or are, given each edge (by edge name) as read.

    Raises PreconditionFailed when the edges are not what the spec expects, UsageError when they
    are one cluster.
    """
    found = {SERVER: observed[spec.server.name], CLIENT: observed[spec.client.name]}
    _check_identities(spec, found)
    names = {SERVER: spec.server.name, CLIENT: spec.client.name}
    edges = {
        side: PlannedEdge(
            name=names[side],
            cluster_id=found[side].cluster_id,
            namespace=found[side].peer_tenant_namespace
            or tenant_namespace(found[side.other].cluster_id),
        )
        for side in Side
    }
    return Placement(shortcut_name(found[SERVER].cluster_id, found[CLIENT].cluster_id), edges)


def plan(
    spec: ShortcutSpec, observed: Mapping[str, EdgeFacts], *, wait_connected: bool = True
) -> Plan:
    """The connect sequence for ``spec`` given what was read from each edge (by edge name).

    Raises PreconditionFailed when the edges are not what the spec expects.
    """
    placed = place(spec, observed)
    facts = {SERVER: observed[spec.server.name], CLIENT: observed[spec.client.name]}
    builder = _Builder(spec, facts, placed.edges, placed.shortcut)
    return Plan(placed.shortcut, placed.edges, builder.connect(wait_connected))


def _check_identities(spec: ShortcutSpec, facts: Mapping[Side, Identified]) -> None:
    for side in Side:
        edge = spec.server if side is SERVER else spec.client
        found = facts[side].cluster_id
        if edge.cluster_id is not None and edge.cluster_id != found:
            raise PreconditionFailed(
                f"edge {edge.name} is cluster {found!r}, not the expected {edge.cluster_id!r}: "
                "check its context or credentials, or correct its clusterID"
            )
    ids = {spec.server.name: facts[SERVER].cluster_id, spec.client.name: facts[CLIENT].cluster_id}
    first, second = (edge.name for edge in spec.edges)
    refuse_same_cluster(first, second, ids[first], ids[second])


def refuse_same_cluster(first: str, second: str, first_id: str, second_id: str) -> None:
    """Two edge names that turn out to be one cluster (two contexts, two Secrets for it): the
    request names one edge twice, a usage error however it is found (create, delete, the
    operator's spec), in the same words."""
    if first_id == second_id:
        raise UsageError(
            f"{shown(first)} and {shown(second)} are the same cluster ({first_id}): name two "
            "different edges"
        )


class _Builder:
    """Builds the steps in run order; each helper returns the id of the step it added."""

    def __init__(
        self,
        spec: ShortcutSpec,
        facts: Mapping[Side, EdgeFacts],
        edges: Mapping[Side, PlannedEdge],
        shortcut: str,
    ) -> None:
        self.spec = spec
        self.facts = facts
        self.edges = edges
        self.shortcut = shortcut
        self.steps: list[Step] = []

    def namespace(self, side: Side) -> str:
        """On ``side``, the tenant namespace of the other edge: where all its objects live."""
        return self.edges[side].namespace

    def remote_id(self, side: Side) -> str:
        """The cluster ID that names every object on ``side`` (Liqo's default names)."""
        return self.edges[side.other].cluster_id

    def add(
        self,
        step_id: str,
        side: Side,
        action: Action,
        kind: str,
        name: str,
        namespace: str | None,
        what: str,
        **fields: Any,
    ) -> str:
        """Add the step ``step_id@side``; ``fields`` are its others (``after``: any iterable)."""
        full_id = f"{step_id}@{side}"
        fields["after"] = tuple(fields.get("after", ()))
        cluster = self.edges[side].name
        self.steps.append(
            Step(full_id, side, cluster, action, kind, name, namespace, what, **fields)
        )
        return full_id

    def step_of(self, step_id: str) -> Step:
        return next(step for step in self.steps if step.id == step_id)

    def connect(self, wait_connected: bool) -> tuple[Step, ...]:
        # Templates first, earlier than liqoctl (which checks them after the Configurations), so
        # a missing template refuses the run before anything changes.
        checks = [
            self.check_template(SERVER, SERVER_TEMPLATE),
            self.check_template(CLIENT, CLIENT_TEMPLATE),
        ]
        # liqoctl's cluster 1 is the client ("local") and goes first: NewCluster (tenant
        # namespaces), initNetworkConfigs (SetupConfiguration on both, then ForConfiguration).
        liqoctl_order = (CLIENT, SERVER)
        ready_to_write = {side: list(checks) for side in liqoctl_order}
        for side in liqoctl_order:
            if self.facts[side].peer_tenant_namespace is None:
                ready_to_write[side].append(self.create_namespace(side, checks))
        created = {
            side: self.create_configuration(side, ready_to_write[side]) for side in liqoctl_order
        }
        configured = [self.wait_configuration(side, created[side]) for side in liqoctl_order]
        server = self.create_gateway_server(configured)
        server_pod = self.wait_gateway_pod(SERVER, server)
        # liqoctl waits for the server's pod before its endpoint, but Liqo's WgGatewayServer
        # controller writes the endpoint from the Deployment and its Service alone
        # (handleEndpointStatus): the client is made while the server's pod starts.
        endpoint = self.wait_endpoint(server)
        client = self.create_gateway_client(endpoint)
        client_pod = self.wait_gateway_pod(CLIENT, client)
        # handler.go: each gateway's key, once its secretRef is set, goes to the other edge; the
        # two exchanges are independent of each other, and each starts once both pods are up.
        pods = (server_pod, client_pod)
        keys = [
            self.create_public_key(CLIENT, self.wait_key(SERVER, pods), owner=client),
            self.create_public_key(SERVER, self.wait_key(CLIENT, pods), owner=server),
        ]
        if wait_connected:  # waiter ForConnection, ForConnectionEstablished
            for side in Side:
                self.wait_connection(side, keys)
        return tuple(self.steps)

    def check_template(self, side: Side, template: tuple[str, str]) -> str:
        kind, name = template
        namespace = self.spec.liqo_namespace
        what = f"check {_object(kind, name, namespace)} exists"
        return self.add(
            "check-template",
            side,
            Action.CHECK,
            kind,
            name,
            namespace,
            what,
            condition=Condition.TEMPLATE_EXISTS,
        )

    def create(
        self,
        step_id: str,
        side: Side,
        manifest: Manifest,
        after: Iterable[str],
        **fields: Any,
    ) -> str:
        metadata = manifest["metadata"]
        kind, name, namespace = manifest["kind"], metadata["name"], metadata.get("namespace")
        what = f"create {_object(kind, name, namespace)}"
        return self.add(
            step_id,
            side,
            Action.CREATE,
            kind,
            name,
            namespace,
            what,
            after=after,
            manifest=manifest,
            **fields,
        )

    def wait(
        self,
        step_id: str,
        side: Side,
        kind: str,
        name: str,
        what: str,
        after: Iterable[str],
        **fields: Any,
    ) -> str:
        namespace = self.namespace(side)
        return self.add(
            step_id, side, Action.WAIT, kind, name, namespace, what, after=after, **fields
        )

    def create_namespace(self, side: Side, after: Iterable[str]) -> str:
        # pkg/tenantNamespace/namespaceManager.go ForgeNamespace
        manifest = forge.tenant_namespace(
            shortcut=self.shortcut, remote_cluster_id=self.remote_id(side)
        )
        manifest["metadata"]["name"] = self.namespace(side)
        return self.create("create-namespace", side, manifest, after)

    def create_configuration(self, side: Side, after: Iterable[str]) -> str:
        peer = self.facts[side.other]
        manifest = forge.configuration(
            shortcut=self.shortcut,
            remote_cluster_id=peer.cluster_id,
            namespace=self.namespace(side),
            pod_cidrs=peer.pod_cidrs,
            external_cidr=peer.external_cidr,
        )
        return self.create("create-configuration", side, manifest, after)

    def wait_configuration(self, side: Side, created: str) -> str:
        name, namespace = self.remote_id(side), self.namespace(side)
        what = f"wait for Configuration {namespace}/{name} to be ready"
        return self.wait(
            "wait-configuration",
            side,
            "Configuration",
            name,
            what,
            (created,),
            condition=Condition.CONFIGURED,
            produces=(Output.PEER_POD_CIDRS,),
        )

    def wait_gateway_pod(self, side: Side, created: str) -> str:
        # waiter ForGatewayPodReady: the gateway's Deployment, gw-<name> (pkg/gateway/forge)
        name = f"gw-{self.remote_id(side)}"
        what = f"wait for gateway pod {self.namespace(side)}/{name} to be ready"
        return self.wait(
            "wait-gateway-pod",
            side,
            "Deployment",
            name,
            what,
            (created,),
            condition=Condition.POD_READY,
        )

    def wait_endpoint(self, after: str) -> str:
        name = self.remote_id(SERVER)
        what = f"wait for {_object('GatewayServer', name, self.namespace(SERVER))} status.endpoint"
        return self.wait(
            "wait-endpoint",
            SERVER,
            "GatewayServer",
            name,
            what,
            (after,),
            condition=Condition.ENDPOINT,
            produces=(Output.ENDPOINT_ADDRESSES, Output.ENDPOINT_PORT, Output.ENDPOINT_PROTOCOL),
        )

    def wait_key(self, side: Side, after: Iterable[str]) -> str:
        kind, name = _GATEWAY_KINDS[side], self.remote_id(side)
        what = f"wait for {_object(kind, name, self.namespace(side))} status.secretRef"
        return self.wait(
            "wait-secretref",
            side,
            kind,
            name,
            what,
            after,
            condition=Condition.KEY,
            produces=(Output.PUBLIC_KEY,),
        )

    def later(
        self, manifest: Manifest, path: tuple[str | int, ...], source: str, output: Output
    ) -> Pending:
        """Put a placeholder for ``source``'s ``output`` at ``path`` in ``manifest``."""
        producer = self.step_of(source)
        shown = placeholder(f"{_object(producer.kind, producer.name, producer.namespace)} {output}")
        _put(manifest, path, [shown] if output is Output.ENDPOINT_ADDRESSES else shown)
        return Pending(path, source, output)

    def create_gateway_server(self, after: Iterable[str]) -> str:
        manifest = forge.gateway_server(
            shortcut=self.shortcut,
            remote_cluster_id=self.remote_id(SERVER),
            namespace=self.namespace(SERVER),
            settings=self.spec.gateway,
            template_namespace=self.spec.liqo_namespace,  # handler.go: the remote LiqoNamespace
        )
        return self.create("create-gatewayserver", SERVER, manifest, after, produces=(Output.UID,))

    def create_gateway_client(self, endpoint_known: str) -> str:
        gateway = self.spec.gateway
        # handler.go RunConnect: the server's status.endpoint, unless the user overrides it.
        manifest = forge.gateway_client(
            shortcut=self.shortcut,
            remote_cluster_id=self.remote_id(CLIENT),
            namespace=self.namespace(CLIENT),
            settings=gateway,
            endpoint=forge.ServerEndpoint(
                addresses=(gateway.client_address,) if gateway.client_address else (),
                port=gateway.client_port or 0,
            ),
            template_namespace=self.spec.liqo_namespace,
        )
        fills = []
        if not gateway.client_address:
            fills.append((("spec", "endpoint", "addresses"), Output.ENDPOINT_ADDRESSES))
        if not gateway.client_port:
            fills.append((("spec", "endpoint", "port"), Output.ENDPOINT_PORT))
        fills.append((("spec", "endpoint", "protocol"), Output.ENDPOINT_PROTOCOL))
        late = tuple(self.later(manifest, path, endpoint_known, out) for path, out in fills)
        return self.create(
            "create-gatewayclient",
            CLIENT,
            manifest,
            (endpoint_known,),
            pending=late,
            produces=(Output.UID,),
        )

    def create_public_key(self, side: Side, key_known: str, owner: str) -> str:
        """On ``side``, the other gateway's key, owned by ``side``'s own gateway (cluster.go)."""
        owner_step = self.step_of(owner)
        manifest = forge.public_key(
            shortcut=self.shortcut,
            remote_cluster_id=self.remote_id(side),
            namespace=self.namespace(side),
            key_base64="",
            owner=forge.OwnerGateway(kind=owner_step.kind, name=owner_step.name, uid=""),
        )
        late = (
            self.later(manifest, ("spec", "publicKey"), key_known, Output.PUBLIC_KEY),
            self.later(manifest, ("metadata", "ownerReferences", 0, "uid"), owner, Output.UID),
        )
        return self.create("create-publickey", side, manifest, (key_known, owner), pending=late)

    def wait_connection(self, side: Side, after: Iterable[str]) -> str:
        # Liqo's gateway names the Connection; liqoctl finds it by the remote cluster label.
        what = f"wait for the Connection in {self.namespace(side)} to be Connected"
        return self.wait(
            "wait-connection",
            side,
            "Connection",
            "",
            what,
            after,
            condition=Condition.CONNECTED,
            selector={REMOTE_CLUSTER_ID_LABEL: self.remote_id(side)},
        )


_GATEWAY_KINDS: Final = {SERVER: "GatewayServer", CLIENT: "GatewayClient"}
