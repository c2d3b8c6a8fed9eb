"""Kubernetes label selectors: matching labels against one, and reading kubectl's ``-l`` syntax.

The traffic policy picks Services by a namespace selector and a Service selector, written as
`traffic.LabelSelector` in a VirtualNodeShortcut and as ``-l``-style text on the command line
(``tier=web,env in (prod,staging),!legacy``); both end as the same model, so the operator and
`kubectl shortcut create` select exactly the same Services. The semantics are apimachinery's
(pkg/labels/selector.go): every requirement must hold, ``!=`` and ``notin`` also hold where the
key is absent, and an empty selector selects everything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import ValidationError

from liqoshortcut.core.traffic import LabelSelector, LabelSelectorRequirement, TrafficPolicy

_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_SET = re.compile(rf"^({_KEY})\s+(in|notin)\s+\(([^()]*)\)$")
_EQUALITY = re.compile(rf"^({_KEY})\s*(==|!=|=)\s*([-A-Za-z0-9_.]*)$")
_EXISTS = re.compile(rf"^(!?)\s*({_KEY})$")
# A comma outside parentheses separates requirements; inside ``(a,b)`` it separates values.
_SPLIT = re.compile(r",(?![^()]*\))")


class SelectorSyntaxError(ValueError):
    """The text is no label selector; the message names the part that is wrong."""


def matches(selector: LabelSelector | None, labels: Mapping[str, str]) -> bool:
    """Whether ``labels`` satisfy ``selector``; no selector at all matches everything."""
    if selector is None:
        return True
    if any(labels.get(key) != value for key, value in (selector.match_labels or {}).items()):
        return False
    return all(_holds(req, labels) for req in selector.match_expressions or ())


def _holds(requirement: LabelSelectorRequirement, labels: Mapping[str, str]) -> bool:
    present = requirement.key in labels
    value = labels.get(requirement.key)
    values = requirement.values or ()
    match requirement.operator:
        case "In":
            return present and value in values
        case "NotIn":
            return not present or value not in values
        case "Exists":
            return present
        case "DoesNotExist":
            return not present


def parse(text: str) -> LabelSelector:
    """kubectl's selector text as a LabelSelector; raises SelectorSyntaxError."""
    try:
        return _parse(text)
    except ValidationError as error:  # a key or value the Kubernetes syntax refuses
        first = error.errors()[0]
        raise SelectorSyntaxError(f"{text!r}: {first['msg']}") from None


def _parse(text: str) -> LabelSelector:
    labels: dict[str, str] = {}
    expressions: list[LabelSelectorRequirement] = []
    for raw in _SPLIT.split(text.strip()) if text.strip() else []:
        part = raw.strip()
        if found := _SET.match(part):
            key, operator, listed = found.groups()
            values = tuple(v.strip() for v in listed.split(",") if v.strip())
            if not values:
                raise SelectorSyntaxError(f"{part!r}: {operator} needs at least one value")
            kind = "In" if operator == "in" else "NotIn"
            expressions.append(LabelSelectorRequirement(key=key, operator=kind, values=values))
        elif found := _EQUALITY.match(part):
            key, operator, value = found.groups()
            if operator == "!=":
                expressions.append(
                    LabelSelectorRequirement(key=key, operator="NotIn", values=(value,))
                )
            elif labels.setdefault(key, value) != value:
                raise SelectorSyntaxError(
                    f"{part!r}: {key} is already required to be another value"
                )
        elif found := _EXISTS.match(part):
            negated, key = found.groups()
            kind = "DoesNotExist" if negated else "Exists"
            expressions.append(LabelSelectorRequirement(key=key, operator=kind))
        else:
            raise SelectorSyntaxError(
                f"{part!r} is no selector requirement (write key=value, key!=value, "
                "key in (a,b), key notin (a,b), key or !key)"
            )
    return LabelSelector(match_labels=labels or None, match_expressions=tuple(expressions) or None)


def render(selector: LabelSelector) -> str:
    """The selector in kubectl's syntax, for one-line messages."""
    parts = [f"{key}={value}" for key, value in sorted((selector.match_labels or {}).items())]
    for req in selector.match_expressions or ():
        values = ",".join(req.values or ())
        parts.append(
            {
                "In": f"{req.key} in ({values})",
                "NotIn": f"{req.key} notin ({values})",
                "Exists": req.key,
                "DoesNotExist": f"!{req.key}",
            }[req.operator]
        )
    return ",".join(parts) or "(everything)"


def selection(policy: TrafficPolicy, namespaces: str, services: str) -> str:
    """``policy``'s selectors in one phrase, each after its word (the spec's field names for
    ``explain``, plain words for the CLI's messages): ``in namespaces tier=web and labelled
    app=cart``."""
    return " and ".join(
        f"{what} {render(selector)}"
        for what, selector in (
            (namespaces, policy.namespace_selector),
            (services, policy.service_selector),
        )
        if selector is not None
    )
