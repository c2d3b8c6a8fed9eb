"""Two VirtualNodeShortcuts that ask for the same two edges: the older one wins.

One pair of edges is one set of objects on them (one name, `core.naming.shortcut_name`), so two
resources asking for it would fight over it, and deleting one would break the other. A pass
refuses a resource that has an older rival (its Ready condition says which); a teardown leaves
the objects to a rival that still asks for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from liqoshortcut.errors import PreconditionFailed


def rivals(
    resource: Mapping[str, Any], cluster_ids: set[str], shortcuts: Iterable[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """Those of ``shortcuts`` other than ``resource`` that join the same two edges and are not
    being deleted, oldest first. An edge's cluster ID is taken from a rival's status (its
    operator found it) or its spec."""
    uid = resource["metadata"].get("uid")
    return sorted(
        (
            other
            for other in shortcuts
            if other["metadata"].get("uid") != uid
            and not other["metadata"].get("deletionTimestamp")
            and _joins(other) == cluster_ids
        ),
        key=_age,
    )


def rival_view(resource: Mapping[str, Any]) -> dict[str, Any]:
    """What `rivals` reads of a VirtualNodeShortcut: kept per resource by the operator, which
    would otherwise list every resource of the namespace in every pass."""
    metadata = resource.get("metadata") or {}
    kept = ("uid", "name", "namespace", "creationTimestamp", "deletionTimestamp")
    return {
        "metadata": {key: metadata[key] for key in kept if metadata.get(key)},
        "spec": {"edges": (resource.get("spec") or {}).get("edges")},
        "status": {"edges": (resource.get("status") or {}).get("edges")},
    }


class Conflicting(PreconditionFailed):
    """Another VirtualNodeShortcut already joins the same two edges."""


def refuse_an_older_rival(
    resource: Mapping[str, Any], cluster_ids: set[str], shortcuts: Iterable[Mapping[str, Any]]
) -> None:
    older = [r for r in rivals(resource, cluster_ids, shortcuts) if _age(r) < _age(resource)]
    if older:
        name = f"{older[0]['metadata']['namespace']}/{older[0]['metadata']['name']}"
        raise Conflicting(
            f"VirtualNodeShortcut {name} already joins these two edges; this one is left "
            "waiting: delete one of the two"
        )


def _joins(resource: Mapping[str, Any]) -> set[str]:
    status_ids = {e.get("clusterID") for e in (resource.get("status") or {}).get("edges") or []}
    spec_ids = {e.get("clusterID") for e in (resource.get("spec") or {}).get("edges") or []}
    for ids in (status_ids, spec_ids):
        if None not in ids and len(ids) == 2:
            return {str(i) for i in ids}
    return set()


def _age(resource: Mapping[str, Any]) -> tuple[str, str]:
    metadata = resource["metadata"]
    return (str(metadata.get("creationTimestamp") or ""), str(metadata.get("name")))
