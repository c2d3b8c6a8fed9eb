"""What every model of the VirtualNodeShortcut spec shares: one pydantic base and the CEL rules a
model hands to the CRD.

The pydantic models are the CRD's single source of truth (`core.crd` derives the schema from
them). Bounds and enums translate by themselves; a check across fields cannot, so each model
states it twice, side by side: as a pydantic validator and, through `validations`, as a CEL rule
the API server runs. Tests hold the two in agreement against a real kube-apiserver.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

from liqoshortcut.core.words import shown
from liqoshortcut.errors import UsageError


class SpecModel(BaseModel):
    """A part of the spec: frozen, unknown fields refused, CR spelling in and out.

    A base class rather than a shared ConfigDict: pydantic's mypy plugin reads a config only when
    it is written out in the class or a base, and then checks constructor calls by field name.
    A subclass's own ``model_config`` (e.g. its CEL rules) is merged over this one.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,  # a dump is CR YAML
    )


# Kubernetes' name and label syntaxes (k8s.io/apimachinery/pkg/util/validation).
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"  # e.g. a namespace
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"  # e.g. a Secret
LABEL_VALUE_PATTERN = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
# What a user must change when a value misses one of them: a regex is no help on a terminal.
PATTERN_MEANINGS = {
    DNS_LABEL_PATTERN: "use lowercase letters, digits and '-' (a DNS-1123 name)",
    DNS_SUBDOMAIN_PATTERN: "use lowercase letters, digits and '-' (a DNS-1123 name)",
    LABEL_VALUE_PATTERN: "use letters, digits, '-', '_' and '.' between letters or digits",
}

# The kube-apiserver key for CEL rules on a schema node (apiextensions.k8s.io/v1).
VALIDATIONS_KEY = "x-kubernetes-validations"


def rule(expression: str, message: str, field_path: str | None = None) -> dict[str, str]:
    """One CEL rule; ``field_path`` (e.g. ``.nodePort``) names the field the API server blames,
    as `gateway.field_error` does for pydantic, so both refusals name the same field."""
    cel = {"rule": expression, "message": message}
    if field_path:
        cel["fieldPath"] = field_path
    return cel


def validations(*rules: dict[str, str]) -> dict[str, Any]:
    """A model's or field's ``json_schema_extra``: the CEL rules of that schema node."""
    return {VALIDATIONS_KEY: list(rules)}


def field_error(name: str, alias: str, message: str) -> PydanticCustomError:
    """A check across fields, blamed on one field so the user's line names it (see usage_error).

    Pydantic reports model-level errors with an empty location; the field travels in ``ctx``.
    """
    return PydanticCustomError("field_conflict", message, {"field": name, "alias": alias})


def usage_error(
    error: ValidationError, source: str = "", names: Mapping[str, str] | None = None
) -> UsageError:
    """Pydantic's report as one line: the first bad field, its value, what is wrong, and where.

    Fields are named as the input spelled them (the CLI validates by Python name, a CR by its
    camelCase alias); ``names`` renames a dotted path for the reader, e.g. to the CLI flag that
    set it. One line, because the CLI prints exactly one line per error.
    """
    first = error.errors()[0]
    names = names or {}
    path = [str(part) for part in first["loc"]]
    ctx = first.get("ctx") or {}
    if first["type"] == "field_conflict":
        by_name = ".".join([*path, str(ctx["field"])])
        field = names.get(by_name) or ".".join([*path, str(ctx["alias"])])
        value = None
    else:
        dotted = ".".join(path) or "value"
        field = names.get(dotted, dotted)
        value = first.get("input")
    where = f" in {source}" if source else ""
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "string_pattern_mismatch":
        message = PATTERN_MEANINGS.get(str(ctx.get("pattern")), message)
    # YAML and flags have lists, not tuples
    message = message.replace("Tuple should", "List should").replace("valid tuple", "valid list")
    if first["type"] == "extra_forbidden":
        return UsageError(f"unknown field {field}{where}: remove it")
    if first["type"] == "missing":
        return UsageError(f"missing {field}{where}: it is required")
    given = f" {value!r}" if isinstance(value, (int, float)) else ""
    if isinstance(value, str):
        given = f" {shown(value)}"  # cut when very long: a pasted token, a runaway script
    return UsageError(f"invalid {field}{given}{where}: {message}")
