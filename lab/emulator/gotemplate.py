"""Liqo's gateway-template rendering (``external-network/utils/template.go: RenderTemplate``).

Liqo walks the template object and runs Go's ``text/template`` on every string. The gateway
templates only use field actions (``{{ .Spec.Endpoint.Port }}``), ``index`` on a list, and the
``{{if X}}...{{end}}`` that Liqo wraps around optional ``?key`` entries, so this module implements
that subset of Go templates; anything else raises ``TemplateError``.
"""

from __future__ import annotations

import copy
import re
from typing import Any

_ACTION = re.compile(r"{{-?\s*(.*?)\s*-?}}", re.S)
_VARIABLE = re.compile(r"{{\s*(.\S+)\s*}}")
_INT = re.compile(r"[+-]?\d+")


class TemplateError(Exception):
    """A template action this subset does not understand, or a failing lookup."""


def _go_format(value: Any) -> str:
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(_go_format(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = " ".join(f"{k}:{_go_format(v)}" for k, v in sorted(value.items()))
        return f"map[{inner}]"
    return str(value)


def _truthy(value: Any) -> bool:
    return bool(value) if value is not None else False


def _lookup(expr: str, data: Any) -> Any:
    parts = expr.split()
    if len(parts) == 3 and parts[0] == "index":
        seq = _lookup(parts[1], data)
        try:
            return seq[int(parts[2])]
        except (TypeError, IndexError, ValueError) as err:
            raise TemplateError(f"error calling index: {err}") from err
    if len(parts) != 1 or not parts[0].startswith("."):
        raise TemplateError(f"unsupported template action {expr!r}")
    value = data
    for field in filter(None, parts[0].split(".")):
        if not isinstance(value, dict):
            raise TemplateError(f"can't evaluate field {field} in {expr!r}")
        value = value.get(field)
    return value


def render_string(text: str, data: Any) -> str:
    """Execute a Go template made of field actions, ``index`` and ``if``/``end`` blocks."""
    out: list[str] = []
    stack: list[bool] = []  # whether each enclosing if-block is being emitted
    pos = 0
    for match in _ACTION.finditer(text):
        if all(stack):
            out.append(text[pos : match.start()])
        pos = match.end()
        action = match.group(1)
        if action.startswith("if "):
            stack.append(all(stack) and _truthy(_lookup(action[3:].strip(), data)))
        elif action == "end":
            if not stack:
                raise TemplateError("unexpected {{end}}")
            stack.pop()
        elif all(stack):
            out.append(_go_format(_lookup(action, data)))
    if stack:
        raise TemplateError("unexpected EOF in template")
    out.append(text[pos:])
    return "".join(out)


def _is_labels_or_annotations(obj: dict[str, Any]) -> bool:
    return "labels" in obj or "annotations" in obj


def _is_zero(value: Any) -> bool:
    return value in ("", 0, None) or value is False


def _render(obj: Any, data: Any, force_string: bool) -> Any:
    if isinstance(obj, str):
        result = render_string(obj, data)
        if not force_string and _INT.fullmatch(result):
            return int(result)
        return result
    if isinstance(obj, dict):
        force = force_string or _is_labels_or_annotations(obj)
        for key, value in list(obj.items()):
            use_key, use_value, skip_if_empty = key, value, False
            if key.startswith("?") and isinstance(value, str):
                variable = _VARIABLE.search(value)
                if variable:
                    use_key = key[1:]
                    use_value = f"{{{{if {variable.group(1)}}}}}{value}{{{{end}}}}"
                    skip_if_empty = True
                    del obj[key]
            result = _render(use_value, data, force)
            if not (skip_if_empty and _is_zero(result)):
                obj[use_key] = result
        return obj
    if isinstance(obj, list):
        for i, value in enumerate(obj):
            obj[i] = _render(value, data, force_string)
        return obj
    if force_string:
        return _go_format(obj)
    return obj


def render_template(obj: Any, data: Any, force_string: bool) -> Any:
    """RenderTemplate on a deep copy of ``obj`` (Liqo renders the freshly fetched template)."""
    return _render(copy.deepcopy(obj), data, force_string)
