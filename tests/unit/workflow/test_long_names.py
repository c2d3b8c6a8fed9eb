"""A very long name on the command line is cut in the one-line refusal, not echoed in full."""

from __future__ import annotations

from typing import Any

import pytest

from liqoshortcut.core.gateway import GatewaySettings
from liqoshortcut.errors import UsageError
from liqoshortcut.kube.kubeconfig import kubeconfig_from_bytes
from liqoshortcut.workflow.preflight import prepare

NO_CLUSTERS = kubeconfig_from_bytes(b"apiVersion: v1\nkind: Config\n", "a test")
LONG = "edge-" + "z" * 3000


@pytest.mark.parametrize(
    ("overrides", "starts"),
    [
        ({"edge_contexts": (LONG, LONG)}, "both edges are 'edge-zzz"),
        ({"edge_contexts": (LONG, "edge-b")}, "invalid name 'edge-zzz"),
        ({"server_edge": LONG}, "serverEdge 'edge-zzz"),
    ],
    ids=["same long edge twice", "edge name too long", "long server edge"],
)
def test_a_long_name_is_cut_in_the_refusal(overrides: dict[str, Any], starts: str) -> None:
    arguments: dict[str, Any] = {
        "central_context": None,
        "edge_contexts": ("edge-a", "edge-b"),
        "server_edge": None,
        "settings": GatewaySettings(),
        **overrides,
    }
    with pytest.raises(UsageError) as raised:
        prepare(NO_CLUSTERS, **arguments)
    message = str(raised.value)
    assert message.startswith(starts)
    assert "zzz...zzz" in message
    assert len(message) < 200
