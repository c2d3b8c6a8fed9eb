"""The VirtualNodeShortcut CRD, derived from the pydantic models so the two cannot drift apart.

`deploy/generate.py` writes `crd_yaml()` to deploy/ and into the Helm chart; a unit test fails
when the committed files differ from it. Pydantic's JSON Schema is close to what the API server
wants but not structural (apiextensions.k8s.io/v1 "structural schema"): `structural` inlines
``$ref``, turns ``X | None`` into an optional ``X`` (a dump leaves None out), drops titles and
docstrings meant for developers, and keeps bounds, patterns, enums, defaults, descriptions and
the ``x-kubernetes-*`` extensions the models declare.
"""

from __future__ import annotations

import copy
from typing import Any, Final

import yaml

from liqoshortcut.core.model import API_GROUP, KIND, PLURAL, ShortcutSpec
from liqoshortcut.core.status import ConditionType, ShortcutStatus

VERSION: Final = "v1alpha1"
CRD_NAME: Final = f"{PLURAL}.{API_GROUP}"
SHORT_NAME: Final = "vns"  # free among Liqo v1.2.0's short names (vn is VirtualNode's)
CATEGORY: Final = "liqo"  # `kubectl get liqo` lists shortcuts with Liqo's own resources
FILE_NAME: Final = f"{API_GROUP}_{PLURAL}.yaml"  # controller-gen's naming, as Liqo's CRDs

Schema = dict[str, Any]

# Pydantic keys the API server refuses or that mean nothing to it.
_DROPPED: Final = frozenset({"title", "$defs"})


def structural(schema: Schema, defs: dict[str, Schema]) -> Schema:
    """A node of pydantic's JSON Schema as a structural OpenAPI v3 schema node."""
    node = dict(schema)
    if "anyOf" in node:
        branches = [branch for branch in node.pop("anyOf") if branch != {"type": "null"}]
        if len(branches) != 1:
            raise ValueError(f"no structural form for a union of {branches}")
        node = {**branches[0], **node}
        if node.get("default", ...) is None:
            del node["default"]  # None is "left out", which needs no default
    if "$ref" in node:  # a nested model; its docstring is for developers, the field's is kept
        referenced = copy.deepcopy(defs[node.pop("$ref").rsplit("/", 1)[-1]])
        referenced.pop("description", None)
        node = {**referenced, **node}
    if node.get("additionalProperties") is False:
        del node["additionalProperties"]  # the API server prunes unknown fields by itself
    elif isinstance(node.get("additionalProperties"), dict):  # a map
        node["additionalProperties"] = structural(node["additionalProperties"], defs)
    if "properties" in node:
        required = node.get("required", ())
        node["properties"] = {
            name: _defaulted(structural(child, defs), child, name in required)
            for name, child in node["properties"].items()
        }
    if "items" in node:
        node["items"] = structural(node["items"], defs)
    return {key: value for key, value in node.items() if key not in _DROPPED}


def _defaulted(node: Schema, pydantic_node: Schema, required: bool) -> Schema:
    """A nested model neither required nor with a default in pydantic's schema is a
    ``default_factory=Model`` field: the API server gets the model's defaults as the field's
    default, so they are applied and stored as pydantic applies them.

    The default is spelled out rather than ``{}``: the API server checks a default against the
    CEL rules as is, without filling in the nested defaults first.
    """
    nested_model = node.get("type") == "object" and "properties" in node
    if nested_model and not required and "default" not in pydantic_node:
        defaults = {
            name: child["default"]
            for name, child in node["properties"].items()
            if "default" in child
        }
        return {**node, "default": defaults}
    return node


def _model_schema(model: type[ShortcutSpec] | type[ShortcutStatus]) -> Schema:
    raw = model.model_json_schema(by_alias=True, mode="validation")
    node = structural(raw, raw.get("$defs", {}))
    node.pop("description", None)
    return node


def _condition(condition: ConditionType) -> str:
    return f'.status.conditions[?(@.type=="{condition}")].status'


def _column(name: str, json_path: str, kind: str = "string", wide: bool = False) -> Schema:
    column: Schema = {"name": name, "type": kind, "jsonPath": json_path}
    if wide:
        column["priority"] = 1  # shown by -o wide only
    return column


# A column shows only the first value a JSONPath yields, so each edge has its own; the server
# comes from status, where the operator spells out the default that spec may leave implicit.
PRINTER_COLUMNS: Final = [
    _column("Edge A", ".spec.edges[0].name"),
    _column("Edge B", ".spec.edges[1].name"),
    _column("Path", ".status.path"),
    _column("Ready", _condition(ConditionType.READY)),
    _column("Server", '.status.edges[?(@.role=="server")].name', wide=True),
    _column("Connected", _condition(ConditionType.CONNECTED), wide=True),
    _column("Age", ".metadata.creationTimestamp", kind="date"),
]


def custom_resource_definition() -> dict[str, Any]:
    spec = _model_schema(ShortcutSpec)
    spec["description"] = "The two edges to connect directly and how."
    status = _model_schema(ShortcutStatus)
    status["description"] = "What the operator last observed and did; written by it only."
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD_NAME},
        "spec": {
            "group": API_GROUP,
            "names": {
                "kind": KIND,
                "listKind": f"{KIND}List",
                "plural": PLURAL,
                "singular": KIND.lower(),
                "shortNames": [SHORT_NAME],
                "categories": [CATEGORY],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": PRINTER_COLUMNS,
                    "schema": {
                        "openAPIV3Schema": {
                            "description": (
                                "A direct Liqo network peering between two edge clusters, "
                                "created and owned from the central cluster."
                            ),
                            "type": "object",
                            "required": ["spec"],
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": spec,
                                "status": status,
                            },
                        }
                    },
                }
            ],
        },
    }


HEADER: Final = (
    "# Generated by deploy/generate.py from liqoshortcut/core (the pydantic models): do not edit.\n"
)


def crd_yaml() -> str:
    """The CRD as committed under deploy/: keys sorted as controller-gen sorts them, a header."""
    return HEADER + yaml.safe_dump(custom_resource_definition(), sort_keys=True, width=100)
