"""Preflight refuses a bad request in one line naming the field as its caller names it (the CLI:
by its flag), before reaching any cluster."""

from __future__ import annotations

from typing import Any

import pytest

from liqoshortcut.cli.options import FIELD_FLAGS
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
        "names": FIELD_FLAGS,
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


def test_without_names_a_field_is_named_as_the_spec_spells_it() -> None:
    request: dict[str, Any] = {
        "central_context": None,
        "edge_contexts": ("edge-a", "edge-b"),
        "server_edge": None,
        "settings": GatewaySettings(),
    }
    with pytest.raises(UsageError, match=r"^serverEdge 'central' is neither"):
        prepare(NO_CLUSTERS, **{**request, "server_edge": "central"})
    with pytest.raises(UsageError, match=r"^invalid liqoNamespace '': "):
        prepare(NO_CLUSTERS, **request, liqo_namespace="")
