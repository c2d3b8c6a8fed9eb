"""An object has drifted only where a field the plan sets holds another value on the cluster."""

from __future__ import annotations

from typing import Any

import pytest

from liqoshortcut.core.drift import drifted_fields

SERVER: dict[str, Any] = {
    "metadata": {"name": "edge-a", "labels": {"app.kubernetes.io/managed-by": "liqo-shortcut"}},
    "spec": {
        "endpoint": {"port": 51840, "serviceType": "LoadBalancer"},
        "mtu": 1340,
        "secretRef": {},
    },
}
KEY: dict[str, Any] = {
    "metadata": {"ownerReferences": [{"kind": "GatewayClient", "name": "edge-b", "uid": "u1"}]},
    "spec": {"publicKey": "a2V5"},
}


def live(desired: dict[str, Any], **spec: Any) -> dict[str, Any]:
    """``desired`` as the API server and Liqo leave it: defaults, status, more metadata."""
    return {
        "metadata": {
            **desired["metadata"],
            "uid": "x",
            "resourceVersion": "7",
            "finalizers": ["f"],
        },
        "spec": {**desired["spec"], "extra": "defaulted", **spec},
        "status": {"endpoint": {"addresses": ["10.0.0.1"]}},
    }


@pytest.mark.parametrize(
    ("desired", "found", "drifted"),
    [
        (SERVER, live(SERVER), []),
        (SERVER, live(SERVER, mtu=1300), ["spec.mtu"]),
        (
            SERVER,
            live(SERVER, endpoint={"port": 51841}),
            ["spec.endpoint.port", "spec.endpoint.serviceType"],
        ),
        (SERVER, {**live(SERVER), "spec": {**live(SERVER)["spec"], "secretRef": None}}, []),
        (KEY, live(KEY), []),
        (KEY, live(KEY, publicKey="b3RoZXI="), ["spec.publicKey"]),
        (
            KEY,
            {
                **live(KEY),
                "metadata": {
                    "ownerReferences": [{**KEY["metadata"]["ownerReferences"][0], "uid": "u2"}]
                },
            },
            ["metadata.ownerReferences[0].uid"],
        ),
    ],
    ids=[
        "defaults, status and metadata added by the cluster are no drift",
        "another MTU is drift",
        "another endpoint is drift in each differing field",
        "an empty object sent and stored as left out is no drift",
        "the same key is no drift",
        "another key is drift",
        "a PublicKey whose gateway was recreated has drifted",
    ],
)
def test_drift_is_a_planned_field_with_another_value(
    desired: dict[str, Any], found: dict[str, Any], drifted: list[str]
) -> None:
    assert drifted_fields(desired, found) == drifted


def test_an_object_without_a_spec_never_drifts() -> None:
    namespace = {"metadata": {"name": "liqo-tenant-x", "labels": {"a": "b"}}}
    assert drifted_fields(namespace, {"metadata": {"name": "liqo-tenant-x"}}) == []
