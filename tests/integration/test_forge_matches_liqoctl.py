"""What liqo-shortcut forges is what liqoctl forges, field by field, but for our two labels.

``liqoctl create <kind> ... -o yaml`` prints the object liqoctl's `network connect` would create,
forged by Liqo's own code at v1.2.0, without applying it: the oracle for core/forge.py.
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
from liqoshortcut.core.naming import ownership_labels, tenant_namespace

pytestmark = pytest.mark.integration

SHORTCUT = "edge-a--edge-b"
LOCAL, REMOTE = "edge-a", "edge-b"


def liqoctl_forges(kind: str, *flags: str) -> dict[str, Any]:
    printed = subprocess.run(
        [
            str(build.liqoctl_binary()),
            "create",
            kind,
            REMOTE,
            f"--namespace={tenant_namespace(REMOTE)}",
            f"--remote-cluster-id={REMOTE}",
            f"--kubeconfig={kubeconfig_path()}",
            f"--context={LOCAL}",
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


def without_our_labels(manifest: dict[str, Any]) -> dict[str, Any]:
    labels = dict(manifest["metadata"]["labels"])
    for key, value in ownership_labels(SHORTCUT).items():
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
