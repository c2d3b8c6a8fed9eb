"""What liqo-shortcut forges is what liqoctl forges, field by field, but for our two labels.

``liqoctl create <kind> ... -o yaml`` prints the object liqoctl's `network connect` would create,
forged by Liqo's own code at v1.2.0, without applying it: the oracle for core/forge.py, and for
core/plan.py's wiring (which cluster ID, namespace and role each edge's objects get). liqoctl needs
a live API server only to map the template resource to its kind, hence the lab.
"""

from __future__ import annotations

import base64
import subprocess
from typing import Any

import pytest
import yaml

from lab import build
from lab.cluster import Lab, kubeconfig_path
from liqoshortcut.core import forge
from liqoshortcut.core.gateway import GatewaySettings
from liqoshortcut.core.model import ShortcutSpec
from liqoshortcut.core.naming import ownership_labels, tenant_namespace
from liqoshortcut.core.plan import Action, EdgeFacts, Output, Step, plan

pytestmark = pytest.mark.integration

SHORTCUT = "edge-a--edge-b"
LOCAL, REMOTE = "edge-a", "edge-b"


def liqoctl_forges(
    kind: str,
    *flags: str,
    remote: str = REMOTE,
    namespace: str | None = None,
    context: str = LOCAL,
) -> dict[str, Any]:
    """What liqoctl forges, on ``context``, for the peer ``remote`` (named after it, as connect)."""
    printed = subprocess.run(
        [
            str(build.liqoctl_binary()),
            "create",
            kind,
            remote,
            f"--namespace={namespace or tenant_namespace(remote)}",
            f"--remote-cluster-id={remote}",
            f"--kubeconfig={kubeconfig_path()}",
            f"--context={context}",
            "--output=yaml",
            *flags,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    manifest: dict[str, Any] = yaml.safe_load(printed)
    manifest.pop("status", None)  # printed empty; the API server ignores status on create
    return manifest


def without_our_labels(manifest: dict[str, Any], shortcut: str = SHORTCUT) -> dict[str, Any]:
    labels = dict(manifest["metadata"]["labels"])
    for key, value in ownership_labels(shortcut).items():
        assert labels.pop(key) == value, f"{manifest['kind']} lacks our label {key}"
    return {**manifest, "metadata": {**manifest["metadata"], "labels": labels}}


@pytest.mark.parametrize(
    ("settings", "flags"),
    [
        (GatewaySettings(), []),
        (
            GatewaySettings(service_type="NodePort", node_port=30123, port=4000, mtu=1400),
            ["--service-type=NodePort", "--node-port=30123", "--port=4000", "--mtu=1400"],
        ),
        (
            GatewaySettings(load_balancer_ip="192.0.2.10"),
            ["--load-balancer-ip=192.0.2.10"],
        ),
        # No ClusterIP row: `liqoctl create gatewayserver` refuses it (rest/gatewayserver/types.go
        # allows LoadBalancer and NodePort) though `network connect` passes it to the same forge.
    ],
    ids=["defaults", "node-port", "load-balancer-ip"],
)
def test_gateway_server_matches_liqoctl(
    lab: Lab, settings: GatewaySettings, flags: list[str]
) -> None:
    ours = forge.gateway_server(
        shortcut=SHORTCUT,
        remote_cluster_id=REMOTE,
        namespace=tenant_namespace(REMOTE),
        settings=settings,
        template_namespace="liqo",
    )
    theirs = liqoctl_forges("gatewayserver", "--template-namespace=liqo", *flags)
    assert without_our_labels(ours) == theirs


def test_gateway_client_matches_liqoctl(lab: Lab) -> None:
    endpoint = forge.ServerEndpoint(addresses=("127.0.12.100",), port=51840, protocol="UDP")
    ours = forge.gateway_client(
        shortcut=SHORTCUT,
        remote_cluster_id=REMOTE,
        namespace=tenant_namespace(REMOTE),
        settings=GatewaySettings(mtu=1400),
        endpoint=endpoint,
        template_namespace="liqo",
    )
    theirs = liqoctl_forges(
        "gatewayclient",
        "--template-namespace=liqo",
        "--addresses=127.0.12.100",
        "--port=51840",
        "--protocol=UDP",
        "--mtu=1400",
    )
    assert without_our_labels(ours) == theirs


def test_configuration_matches_liqoctl(lab: Lab) -> None:
    ours = forge.configuration(
        shortcut=SHORTCUT,
        remote_cluster_id=REMOTE,
        namespace=tenant_namespace(REMOTE),
        pod_cidrs=("10.243.0.0/16",),
        external_cidr="10.70.0.0/16",
    )
    theirs = liqoctl_forges(
        "configuration", "--pod-cidr=10.243.0.0/16", "--external-cidr=10.70.0.0/16"
    )
    assert without_our_labels(ours) == theirs


def test_public_key_matches_liqoctl_and_belongs_to_the_local_gateway(lab: Lab) -> None:
    key = base64.b64encode(bytes(range(32))).decode()
    owner = forge.OwnerGateway(kind="GatewayClient", name=REMOTE, uid="0b5d-uid")
    ours = forge.public_key(
        shortcut=SHORTCUT,
        remote_cluster_id=REMOTE,
        namespace=tenant_namespace(REMOTE),
        key_base64=key,
        owner=owner,
    )
    # `liqoctl create publickey` does not set the owner; `network connect` adds it with
    # controllerutil.SetOwnerReference: apiVersion, kind, name and uid, nothing else.
    references = ours["metadata"].pop("ownerReferences")
    assert references == [
        {
            "apiVersion": "networking.liqo.io/v1beta1",
            "kind": "GatewayClient",
            "name": REMOTE,
            "uid": "0b5d-uid",
        }
    ]
    theirs = liqoctl_forges("publickey", f"--public-key={key}")
    assert without_our_labels(ours) == theirs


# --- the plan's objects, edge by edge -------------------------------------------------------------
# Made-up cluster IDs: liqoctl create takes the remote ID as a flag and never reads the local one.
PLAN_IDS = {"edge-a": "rome-0001", "edge-b": "oslo-0002"}
PLAN_FACTS = {
    "edge-a": EdgeFacts(PLAN_IDS["edge-a"], ("10.201.0.0/16",), "10.211.0.0/16"),
    "edge-b": EdgeFacts(PLAN_IDS["edge-b"], ("10.202.0.0/16",), "10.212.0.0/16"),
}
KEY = base64.b64encode(bytes(range(32, 64))).decode()


def liqoctl_flags_for(step: Step, peer: EdgeFacts, spec: ShortcutSpec) -> list[str]:
    """The flags `network connect` passes to the forge that makes ``step``'s object."""
    gateway = spec.gateway
    if step.kind == "Configuration":
        return [f"--pod-cidr={peer.pod_cidrs[0]}", f"--external-cidr={peer.external_cidr}"]
    if step.kind == "GatewayServer":
        return [
            f"--template-namespace={spec.liqo_namespace}",
            f"--service-type={gateway.service_type}",
            f"--port={gateway.port}",
            f"--mtu={gateway.mtu}",
        ]
    if step.kind == "GatewayClient":
        return [
            f"--template-namespace={spec.liqo_namespace}",
            "--addresses=198.51.100.20",
            "--port=32100",
            "--protocol=UDP",
            f"--mtu={gateway.mtu}",
        ]
    assert step.kind == "PublicKey", step.kind
    return [f"--public-key={KEY}"]


# What the running sequence learns, as liqoctl's flags above give it.
RUN_TIME_VALUES: dict[Output, object] = {
    Output.ENDPOINT_ADDRESSES: ["198.51.100.20"],
    Output.ENDPOINT_PORT: 32100,
    Output.ENDPOINT_PROTOCOL: "UDP",
    Output.PUBLIC_KEY: KEY,
    Output.UID: "0b5d-uid",
}


def with_run_time_values(step: Step) -> dict[str, Any]:
    """The step's manifest as the running sequence completes it (`Step.resolve`)."""
    manifest = step.resolve({late.step: RUN_TIME_VALUES for late in step.pending})
    if step.kind == "PublicKey":
        del manifest["metadata"]["ownerReferences"]  # connect adds it; create does not
    return manifest


@pytest.mark.parametrize("server_edge", ["edge-b", "edge-a"])
def test_every_object_the_plan_creates_on_an_edge_is_what_liqoctl_forges_there(
    lab: Lab, server_edge: str
) -> None:
    spec = ShortcutSpec.model_validate(
        {
            "edges": [{"name": "edge-a", "context": "edge-a"}, {"name": "edge-b"}],
            "serverEdge": server_edge,
            "gateway": {"mtu": 1420, "port": 4500},
            "liqoNamespace": "liqo",
        }
    )
    built = plan(spec, PLAN_FACTS)
    compared = set()
    for step in built.steps:
        if step.action is not Action.CREATE or step.kind == "Namespace":
            continue  # no `liqoctl create namespace`; the unit tests hold its labels
        peer_name = "edge-a" if step.cluster == "edge-b" else "edge-b"
        peer = PLAN_FACTS[peer_name]
        theirs = liqoctl_forges(
            step.kind.lower(),
            *liqoctl_flags_for(step, peer, spec),
            remote=peer.cluster_id,
            namespace=step.namespace,
            context=step.cluster,
        )
        assert without_our_labels(with_run_time_values(step), built.shortcut) == theirs, step.id
        compared.add((step.cluster, step.kind))
    server, client = server_edge, "edge-a" if server_edge == "edge-b" else "edge-b"
    assert compared == {
        (server, "Configuration"),
        (client, "Configuration"),
        (server, "GatewayServer"),
        (client, "GatewayClient"),
        (server, "PublicKey"),
        (client, "PublicKey"),
    }
