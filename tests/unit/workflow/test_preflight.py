"""Preflight refuses a bad request in one line naming the flag, before reaching any cluster."""

from __future__ import annotations

from typing import Any

import pytest

from liqoshortcut.core.gateway import GatewaySettings
from liqoshortcut.errors import UsageError
from liqoshortcut.kube.kubeconfig import kubeconfig_from_bytes
from liqoshortcut.workflow.preflight import prepare

# No cluster in it: a check that reached for one would fail differently.
NO_CLUSTERS = kubeconfig_from_bytes(b"apiVersion: v1\nkind: Config\n", "a test")


def prepare_with(**overrides: Any) -> None:
    arguments: dict[str, Any] = {
        "central_context": None,
        "edge_contexts": ("edge-a", "edge-b"),
        "server_edge": None,
        "settings": GatewaySettings(),
        **overrides,
    }
    prepare(NO_CLUSTERS, **arguments)


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        (
            {"edge_contexts": ("edge-a", "edge-a")},
            "both edges are 'edge-a': name two different edge contexts",
        ),
        ({"server_edge": "central"}, "--server-edge 'central' is neither 'edge-a' nor 'edge-b'"),
        ({"liqo_namespace": ""}, "invalid --liqo-namespace '': "),
    ],
    ids=["same edge twice", "server edge not an edge", "empty liqo namespace"],
)
def test_a_bad_request_is_refused_naming_the_flag(overrides: dict[str, Any], says: str) -> None:
    with pytest.raises(UsageError) as raised:
        prepare_with(**overrides)
    assert str(raised.value).startswith(says)
