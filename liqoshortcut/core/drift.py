"""Whether an object on an edge still is what the plan would create: the operator's drift check.

The API server and Liqo's controllers add to what was sent (defaults, status, finalizers, owner
details), so an object has drifted only when a field the plan sets holds another value there: the
plan's manifest must be contained in the live object. Only the fields that decide what Liqo builds
are compared, the ``spec`` and, for a PublicKey, the gateway owning it; labels are how the object
was found, so they match by construction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

COMPARED = (("spec",), ("metadata", "ownerReferences"))


def drifted_fields(desired: Mapping[str, Any], live: Mapping[str, Any]) -> list[str]:
    """The dotted paths where ``live`` does not hold what ``desired`` sets; empty if none."""
    found: list[str] = []
    for path in COMPARED:
        want, have = _at(desired, path), _at(live, path)
        if want is not None:
            _compare(want, have, ".".join(path), found)
    return found


def _at(manifest: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = manifest
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _compare(want: Any, have: Any, where: str, found: list[str]) -> None:
    if isinstance(want, Mapping):
        if have is None and not want:  # an empty object sent may be stored as left out
            return
        if not isinstance(have, Mapping):
            found.append(where)
            return
        for key, value in want.items():
            _compare(value, have.get(key), f"{where}.{key}", found)
    elif isinstance(want, list):
        if not isinstance(have, list) or len(want) != len(have):
            found.append(where)
            return
        for index, (item, live_item) in enumerate(zip(want, have, strict=True)):
            _compare(item, live_item, f"{where}[{index}]", found)
    elif want != have:
        found.append(where)
