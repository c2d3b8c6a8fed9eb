"""Keeping a shortcut's record in the central cluster in step with what a run does on the edges.

The record is written before the first change on an edge and settled after the last, so that at
any moment, even after a `kill -9`, `list` shows every shortcut that has objects on the edges.
A run that fails takes back a record it created, together with its objects; a record an earlier
run left stays, marked Failed, because that run's objects stay too (this run never deletes what
it did not create); so does the record of a run whose rollback left objects behind. A run that
completed on the edges but cannot update its record says so (`Unreported`) and undoes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final, Literal

from liqoshortcut.core.forge import Manifest
from liqoshortcut.core.naming import is_owned_by
from liqoshortcut.core.record import (
    MalformedRecord,
    ShortcutRecord,
    State,
    record_name,
    record_selector,
)
from liqoshortcut.errors import (
    PreconditionFailed,
    RollbackIncomplete,
    ShortcutError,
    Unreported,
    unexpected,
)
from liqoshortcut.kube import objects
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.errors import LiqoMissing
from liqoshortcut.kube.resources import CONFIG_MAP, VIRTUAL_NODE_SHORTCUT


@dataclass
class Recording:
    """The record `recorded` writes once the run is done: the run puts what it learnt in it."""

    record: ShortcutRecord


@contextmanager
def recorded(
    central: Cluster, namespace: str, record: ShortcutRecord, reached: State
) -> Iterator[Recording]:
    """Keep ``record`` around a run: new ones say Creating until the run has ``reached`` its end,
    then hold what the run left in the `Recording` it was given.

    An exception leaving the block removes a record this call created, or marks it Failed when
    the rollback left objects (`RollbackIncomplete`), as it marks an earlier one; an existing
    record is not touched while the run works, so a re-run that changes nothing on the edges
    changes nothing here either. A PreconditionFailed leaving the block is a refusal before the
    run's first change (`ConnectRun` turns every later failure into WorkflowFailed): it leaves
    an earlier record as it was.
    """
    name = record_name(record.name)
    existing = objects.get(central, CONFIG_MAP, name, namespace)
    if existing is not None and not is_owned_by(existing["metadata"].get("labels"), record.name):
        raise PreconditionFailed(
            f"ConfigMap {namespace}/{name} on {central.name} exists and was not made by "
            "liqo-shortcut; it is left alone: rename or remove it"
        )
    creating = record.to_config_map(namespace)
    shown = ((existing or creating).get("data") or {}).get("state", str(State.CREATING))
    if existing is None:
        objects.create(central, CONFIG_MAP, creating)
    recording = Recording(record)
    try:
        yield recording
    except BaseException as error:
        # Objects the rollback could not remove keep their record, so that `list` shows them.
        left = isinstance(error, RollbackIncomplete)
        try:
            if existing is None and not left:
                objects.delete(central, CONFIG_MAP, name, namespace)
            elif isinstance(error, PreconditionFailed):
                pass  # a refusal, raised before any change: the earlier run's record still holds
            else:
                message = unexpected(error)
                failed = {**creating["data"], "state": str(State.FAILED), "message": message}
                _write(central, namespace, name, failed)
        except (Exception, KeyboardInterrupt) as unsettled:
            if existing is None and not left:
                fix = f"remove ConfigMap {namespace}/{name} from the central cluster"
            else:
                fix = f"ConfigMap {namespace}/{name} on the central cluster still says {shown}"
            raise RollbackIncomplete(
                f"{unexpected(error)}; its record could not be settled ({unexpected(unsettled)}): "
                f"{fix}"
            ) from error
        raise
    # Outside the try: the edges are done now, a failure to say so must not undo the record.
    final = {**recording.record.to_config_map(namespace)["data"], "state": str(reached)}
    if final != ((existing or creating).get("data") or {}):
        try:
            _write(central, namespace, name, final)
        except (Exception, KeyboardInterrupt) as error:
            raise Unreported(
                f"shortcut {record.name} is {str(reached).lower()} on the edges, but its record "
                f"ConfigMap {namespace}/{name} on {central.name} could not be updated and still "
                f"says {shown} ({unexpected(error)}): run the same create again to update it"
            ) from error


def forget(central: Cluster, namespace: str, shortcut: str) -> bool:
    """Remove the record of ``shortcut``; False if there was none (or it is not ours).

    Called once the edges are clean: a failure here is `Unreported` (the shortcut is gone, its
    record is not), never a "nothing was changed".
    """
    name = record_name(shortcut)
    try:
        existing = objects.get(central, CONFIG_MAP, name, namespace)
        if existing is None or not is_owned_by(existing["metadata"].get("labels"), shortcut):
            return False
        return objects.delete(central, CONFIG_MAP, name, namespace)
    except ShortcutError as error:
        raise Unreported(
            f"shortcut {shortcut} was removed from the edges, but its record ConfigMap "
            f"{namespace}/{name} on {central.name} could not be removed ({error}): run the same "
            "delete again"
        ) from error


@dataclass(frozen=True)
class Records:
    """What `list` found: the shortcuts, and a warning for each record it could not read."""

    records: list[ShortcutRecord]
    warnings: list[str]


def all_records(central: Cluster, namespace: str) -> Records:
    """Every shortcut: those `create` recorded, and the VirtualNodeShortcuts the operator owns."""
    recorded_by_create = created_records(central, namespace)
    records = recorded_by_create.records
    records += [ShortcutRecord.from_resource(item) for item in _resources(central)]
    return Records(
        sorted(records, key=lambda record: (record.name, record.source)),
        recorded_by_create.warnings,
    )


def created_records(central: Cluster, namespace: str) -> Records:
    """The shortcuts `create` recorded in ``namespace`` of central.

    A ConfigMap labelled as a record that is not one is skipped with a warning naming it, so
    that one hand-edited object never hides every other shortcut.
    """
    found = objects.list_objects(
        central,
        CONFIG_MAP,
        namespace,
        record_selector(),
        fix=f"use credentials that may list ConfigMaps in {namespace} on the central cluster",
    )
    records, warnings = [], []
    for item in found:
        try:
            records.append(ShortcutRecord.from_config_map(item))
        except MalformedRecord as malformed:
            warnings.append(str(malformed))
    return Records(records, warnings)


def _resources(central: Cluster) -> list[Manifest]:
    """VirtualNodeShortcuts in every namespace; none where the operator's CRD is not installed."""
    try:
        return objects.list_objects(
            central,
            VIRTUAL_NODE_SHORTCUT,
            fix="use credentials that may list virtualnodeshortcuts in all namespaces of central",
        )
    except LiqoMissing:
        return []


def _write(central: Cluster, namespace: str, name: str, data: dict[str, str]) -> None:
    def replace_data(config_map: Manifest) -> None:
        config_map["data"] = data

    objects.mutate(central, CONFIG_MAP, name, namespace, replace_data)


# What to tell a user whose command meets a shortcut the operator owns: why, and what to run.
OWNED_FIX: Final = {
    "create": ("whose operator makes it", "change that instead", "edit"),
    "delete": ("whose operator would make it again", "delete that instead", "delete"),
}


def refuse_owned(
    central: Cluster, shortcut: str, cluster_ids: set[str], command: Literal["create", "delete"]
) -> None:
    """Raise PreconditionFailed if a VirtualNodeShortcut owns the edges ``cluster_ids``: its
    operator makes and removes that shortcut, and `create` or `delete` would fight it."""
    owner = owning_resource(central, cluster_ids)
    if owner is None:
        return
    namespace, name = owner.source.split("/", 1)
    why, fix, verb = OWNED_FIX[command]
    raise PreconditionFailed(
        f"shortcut {shortcut} belongs to VirtualNodeShortcut {owner.source}, {why}: {fix} "
        f"(kubectl {verb} virtualnodeshortcut -n {namespace} {name})"
    )


def owning_resource(central: Cluster, cluster_ids: set[str]) -> ShortcutRecord | None:
    """The VirtualNodeShortcut that joins the edges ``cluster_ids``, if the operator owns them."""
    for item in _resources(central):
        found = ShortcutRecord.from_resource(item)
        if {found.server.cluster_id, found.client.cluster_id} == cluster_ids:
            return found
    return None
