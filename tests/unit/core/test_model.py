"""A shortcut spec is one schema for flags and CRs: defaults spelled out, a bad field one line."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from liqoshortcut.core.model import API_VERSION, KIND, ShortcutSpec, usage_error
from liqoshortcut.errors import ExitCode, exit_code_for


def spec_fields(**overrides: Any) -> dict[str, Any]:
    """A valid spec in CR spelling, with ``overrides`` applied."""
    return {"edges": [{"name": "edge-a"}, {"name": "edge-b"}], **overrides}


def test_defaults_are_liqoctls() -> None:
    spec = ShortcutSpec.model_validate(spec_fields())
    assert (spec.timeout, spec.liqo_namespace, spec.gateway.port) == (120, "liqo", 51840)


def test_the_second_edge_given_hosts_the_server_by_default() -> None:
    spec = ShortcutSpec.model_validate(spec_fields())
    assert (spec.server.name, spec.client.name) == ("edge-b", "edge-a")


def test_server_edge_chooses_which_edge_hosts_the_server() -> None:
    spec = ShortcutSpec.model_validate(spec_fields(serverEdge="edge-a"))
    assert (spec.server.name, spec.client.name) == ("edge-a", "edge-b")


def test_an_edge_records_where_its_credentials_come_from() -> None:
    edges = [
        {"name": "edge-a", "secretRef": "edge-a-kubeconfig", "clusterID": "milan"},
        {"name": "edge-b", "context": "edge-b", "kubeconfig": "/etc/edge-b.yaml"},
    ]
    spec = ShortcutSpec.model_validate(spec_fields(edges=edges))
    assert spec.edge("edge-a").secret_ref == "edge-a-kubeconfig"
    assert spec.edge("edge-a").cluster_id == "milan"
    assert spec.edge("edge-b").kubeconfig == "/etc/edge-b.yaml"


def test_the_manifest_spells_every_default_and_reads_back_as_the_same_spec() -> None:
    spec = ShortcutSpec.model_validate(spec_fields())
    manifest = spec.to_manifest("edge-a--edge-b", namespace="default")
    assert (manifest["apiVersion"], manifest["kind"]) == (API_VERSION, KIND)
    assert manifest["metadata"] == {"name": "edge-a--edge-b", "namespace": "default"}
    assert manifest["spec"]["serverEdge"] == "edge-b"
    assert manifest["spec"]["gateway"] == {
        "serviceType": "LoadBalancer",
        "port": 51840,
        "mtu": 1340,
    }
    assert manifest["spec"]["liqoNamespace"] == "liqo"
    assert ShortcutSpec.model_validate(manifest["spec"]).server == spec.server


def test_flags_by_python_name_and_a_cr_by_alias_give_the_same_spec() -> None:
    by_alias = ShortcutSpec.model_validate(spec_fields(liqoNamespace="liqo-system"))
    by_name = ShortcutSpec.model_validate(spec_fields(liqo_namespace="liqo-system"))
    assert by_alias == by_name


def test_a_spec_is_immutable() -> None:
    spec = ShortcutSpec.model_validate(spec_fields())
    with pytest.raises(ValidationError):
        spec.timeout = 30  # type: ignore[misc]  # mypy sees it too; the runtime refusal is tested


BAD_SPECS = [
    (
        "one edge",
        {"edges": [{"name": "edge-a"}]},
        "invalid edges: List should have at least 2 items",
    ),
    (
        "three edges",
        {"edges": [{"name": "a"}, {"name": "b"}, {"name": "c"}]},
        "invalid edges:",
    ),
    ("no edges", {"edges": None}, "invalid edges"),
    (
        "the same edge twice",
        {"edges": [{"name": "edge-a"}, {"name": "edge-a"}]},
        "invalid edges: both edges are 'edge-a': give two edges",
    ),
    (
        "the same expected cluster ID twice",
        {"edges": [{"name": "a", "clusterID": "x"}, {"name": "b", "clusterID": "x"}]},
        "invalid edges: both edges expect cluster ID 'x'",
    ),
    ("an empty edge name", {"edges": [{"name": ""}, {"name": "b"}]}, "invalid edges.0.name ''"),
    ("an edge without a name", {"edges": [{}, {"name": "b"}]}, "missing edges.0.name"),
    (
        "a cluster ID that is no DNS label",
        {"edges": [{"name": "a", "clusterID": "Edge_A"}, {"name": "b"}]},
        "invalid edges.0.clusterID 'Edge_A': use lowercase letters, digits and '-'",
    ),
    (
        "a secret name that is no DNS subdomain",
        {"edges": [{"name": "a", "secretRef": "My Secret"}, {"name": "b"}]},
        "invalid edges.0.secretRef 'My Secret'",
    ),
    (
        "a Secret and a kubeconfig file for one edge",
        {"edges": [{"name": "a", "secretRef": "s", "kubeconfig": "/k"}, {"name": "b"}]},
        "invalid edges.0.secretRef: give either a kubeconfig file or a Secret, not both",
    ),
    (
        "an unknown edge field",
        {"edges": [{"name": "a", "ctx": "x"}, {"name": "b"}]},
        "unknown field edges.0.ctx",
    ),
    (
        "a server edge that is neither edge",
        {"serverEdge": "edge-c"},
        "invalid serverEdge: 'edge-c' is neither edge: give 'edge-a' or 'edge-b'",
    ),
    (
        "a timeout too small",
        {"timeout": 5},
        "invalid timeout 5: Input should be greater than or equal to 10",
    ),
    ("a timeout that is no number", {"timeout": "soon"}, "invalid timeout 'soon'"),
    ("an empty liqo namespace", {"liqoNamespace": ""}, "invalid liqoNamespace ''"),
    ("a bad gateway port", {"gateway": {"port": 0}}, "invalid gateway.port 0"),
    ("a bad gateway mtu", {"gateway": {"mtu": 70}}, "invalid gateway.mtu 70"),
    (
        "a node port without NodePort",
        {"gateway": {"nodePort": 30001}},
        "invalid gateway.nodePort: give it only with service type NodePort",
    ),
    ("an unknown top-level field", {"trafic": {}}, "unknown field trafic: remove it"),
]


@pytest.mark.parametrize(
    ("fields", "line"),
    [case[1:] for case in BAD_SPECS],
    ids=[case[0] for case in BAD_SPECS],
)
def test_every_bad_field_gives_one_usage_line_naming_it(fields: dict[str, Any], line: str) -> None:
    with pytest.raises(ValidationError) as raised:
        ShortcutSpec.model_validate(spec_fields(**fields))
    error = usage_error(raised.value)
    assert str(error).startswith(line)
    assert "\n" not in str(error)
    assert exit_code_for(error) is ExitCode.USAGE
