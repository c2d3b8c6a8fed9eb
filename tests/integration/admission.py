"""Make a lab API server refuse liqo-shortcut's own writes (lab/admission.py makes the policy).

A test injects an API error at one step of the sequence this way: the refusal comes from the API
server's own admission chain, exactly as a site's policy engine would refuse an object.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client import ApiClient

from lab import admission
from liqoshortcut.core import forge
from liqoshortcut.core.gateway import GatewaySettings
from liqoshortcut.core.naming import MANAGED_BY, MANAGED_BY_LABEL
from liqoshortcut.core.record import EdgeRecord, ShortcutRecord, State

REFUSAL = "refused by the test's admission policy"


@pytest.fixture
def refuse_writes(kube: Callable[[str], ApiClient]) -> Iterator[Callable[[str, str, str], None]]:
    """Make one cluster's API server refuse to create one resource carrying our label."""
    made: list[tuple[str, str]] = []

    def refuse(cluster: str, group: str, plural: str) -> None:
        name = f"refuse-{plural}-{uuid.uuid4().hex[:6]}"
        ours = (
            f"has(object.metadata.labels) && '{MANAGED_BY_LABEL}' in object.metadata.labels && "
            f"object.metadata.labels['{MANAGED_BY_LABEL}'] == '{MANAGED_BY}'"
        )
        rule = {
            "apiGroups": [group],
            "apiVersions": ["*"],
            "operations": ["CREATE"],
            "resources": [plural],
        }
        admission.refuse(kube(cluster), name, [rule], ours, REFUSAL)
        made.append((cluster, name))
        admission.wait_until_enforced(
            lambda: _create_probe(kube(cluster), group, plural), REFUSAL, plural
        )

    yield refuse
    for cluster, name in made:
        admission.withdraw(kube(cluster), name)


def _probe(plural: str) -> dict[str, Any]:
    """A valid object of ``plural`` carrying our labels: schema validation runs before policies."""
    where = {"shortcut": "probe", "remote_cluster_id": "probe", "namespace": "default"}
    settings = GatewaySettings()
    objects: dict[str, Callable[[], dict[str, Any]]] = {
        "namespaces": lambda: forge.tenant_namespace(shortcut="probe", remote_cluster_id="probe"),
        "configmaps": lambda: ShortcutRecord(
            "probe", EdgeRecord("a", "a"), EdgeRecord("b", "b"), State.CREATING
        ).to_config_map("default"),
        "configurations": lambda: forge.configuration(
            **where, pod_cidrs=("10.0.0.0/16",), external_cidr="10.1.0.0/16"
        ),
        "gatewayservers": lambda: forge.gateway_server(
            **where, settings=settings, template_namespace="liqo"
        ),
        "gatewayclients": lambda: forge.gateway_client(
            **where,
            settings=settings,
            endpoint=forge.ServerEndpoint(addresses=("10.0.0.1",), port=51840),
            template_namespace="liqo",
        ),
        "publickeies": lambda: forge.public_key(
            **where,
            key_base64="cHJvYmU=",
            owner=forge.OwnerGateway(kind="GatewayServer", name="probe", uid=str(uuid.uuid4())),
        ),
    }
    return objects[plural]()


def _create_probe(api: ApiClient, group: str, plural: str) -> None:
    """Create the probe of ``plural``, dry run: refused once the policy is in force."""
    probe = _probe(plural)
    if plural == "namespaces":
        client.CoreV1Api(api).create_namespace(
            client.V1Namespace.model_validate(probe), dry_run="All"
        )
    elif plural == "configmaps":
        client.CoreV1Api(api).create_namespaced_config_map(
            "default", client.V1ConfigMap.model_validate(probe), dry_run="All"
        )
    else:
        client.CustomObjectsApi(api).create_namespaced_custom_object(
            group, "v1beta1", "default", plural, probe, dry_run="All"
        )
