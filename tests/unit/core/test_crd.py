"""The CRD derived from the models is structural, and its defaults are the models' defaults."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from liqoshortcut.core.crd import custom_resource_definition, structural
from liqoshortcut.core.gateway import GatewaySettings
from liqoshortcut.core.model import CLI_ONLY_FIELDS
from liqoshortcut.core.schema import VALIDATIONS_KEY
from liqoshortcut.core.traffic import TrafficPolicy

# Keys of pydantic's JSON Schema that a structural schema may not hold.
NOT_STRUCTURAL = {"$ref", "$defs", "anyOf", "oneOf", "allOf", "title", "prefixItems"}


def schema_of(part: str) -> dict[str, Any]:
    version = custom_resource_definition()["spec"]["versions"][0]
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]["properties"][part]
    return schema


def nodes(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema node with its dotted path."""
    yield path, schema
    for name, child in schema.get("properties", {}).items():
        yield from nodes(child, f"{path}.{name}")
    if "items" in schema:
        yield from nodes(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from nodes(schema["additionalProperties"], f"{path}{{}}")


@pytest.mark.parametrize("part", ["spec", "status"])
def test_every_node_has_a_type_and_nothing_a_structural_schema_forbids(part: str) -> None:
    for path, node in nodes(schema_of(part), part):
        assert "type" in node, f"{path} has no type"
        assert not NOT_STRUCTURAL & node.keys(), f"{path} holds {NOT_STRUCTURAL & node.keys()}"
        assert node.get("additionalProperties", True) is not False, path
        assert node.get("default", "") is not None, f"{path} defaults to null"


def test_a_resource_names_only_a_secret_for_an_edges_credentials() -> None:
    edge = schema_of("spec")["properties"]["edges"]["items"]
    assert not set(CLI_ONLY_FIELDS) & edge["properties"].keys()
    assert "secretRef" in edge["required"]


def test_the_api_server_fills_in_the_models_defaults() -> None:
    properties = schema_of("spec")["properties"]
    assert properties["gateway"]["default"] == GatewaySettings().model_dump(
        mode="json", exclude_none=True
    )
    assert properties["traffic"]["default"] == TrafficPolicy().model_dump(
        mode="json", exclude_none=True
    )
    assert (properties["timeout"]["default"], properties["liqoNamespace"]["default"]) == (
        120,
        "liqo",
    )


def test_edges_are_immutable_and_every_cel_rule_explains_itself() -> None:
    spec = schema_of("spec")
    assert spec["properties"]["edges"][VALIDATIONS_KEY][0]["rule"] == "self == oldSelf"
    rules = [rule for _, node in nodes(spec) for rule in node.get(VALIDATIONS_KEY, [])]
    assert rules
    assert all(rule["message"] for rule in rules)  # else the API server says "failed rule: ..."


def test_a_union_with_no_structural_form_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="no structural form"):
        structural({"anyOf": [{"type": "string"}, {"type": "integer"}]}, {})


def test_shortcuts_list_with_liqos_resources_and_show_edges_path_and_readiness() -> None:
    crd = custom_resource_definition()["spec"]
    assert (crd["scope"], crd["names"]["categories"], crd["names"]["shortNames"]) == (
        "Namespaced",
        ["liqo"],
        ["vns"],
    )
    columns = [column["name"] for column in crd["versions"][0]["additionalPrinterColumns"]]
    assert columns == ["Edge A", "Edge B", "Path", "Ready", "Server", "Connected", "Age"]
    assert crd["versions"][0]["subresources"] == {"status": {}}
