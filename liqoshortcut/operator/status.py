"""Writing a reconcile pass's part of a VirtualNodeShortcut's status beside the traffic router's.

Two writers share the status: a pass owns Ready, Connected, CredentialsValid, ``edges``,
``observedGeneration`` and ``lastError``; the router owns DirectPathActive, ``path``,
``routedServices`` and ``traffic``. A JSON merge patch replaces the conditions list whole, so each
writer sends the other's conditions as it read them. Both therefore write at the resourceVersion
they read (`kube.objects.patch_status`): the one that read before the other's write meets a
Conflict instead of putting an old value back. The router redoes its round; a pass reads the
resource again and recomputes its status from the same observation, so a pass that overlaps a
router flip keeps the flip (and the flip's Event is not posted twice).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from liqoshortcut.core.observed import (
    Observation,
    Transition,
    status_for,
    status_patch,
    transitions,
)
from liqoshortcut.errors import ShortcutError
from liqoshortcut.kube import objects
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.errors import Conflict
from liqoshortcut.kube.resources import VIRTUAL_NODE_SHORTCUT

log = logging.getLogger(__name__)
# Conflicts in a row before a pass gives up writing (the next pass writes): the router writes
# at most once per round, so more than a couple means something else is writing.
WRITE_ATTEMPTS: Final = 4


def write_pass_status(
    central: Cluster,
    resource: Mapping[str, Any],
    observation: Observation,
    now: Callable[[], datetime],
) -> list[Transition]:
    """Write what ``observation`` makes of ``resource``'s status; the conditions it changed (for
    Events), none when nothing needed writing or it could not be written (logged: the next pass
    writes it)."""
    current: Mapping[str, Any] | None = resource
    metadata = resource["metadata"]
    for _ in range(WRITE_ATTEMPTS):
        if current is None:
            return []  # deleted meanwhile: nothing left to tell
        previous = current.get("status") or {}
        status = status_for(observation, previous, now())
        patch = status_patch(previous, status)
        if not patch:
            return []
        try:
            objects.patch_status(central, VIRTUAL_NODE_SHORTCUT, current, patch)
        except Conflict:  # written since it was read (the router): compute again from that
            current = objects.get(
                central, VIRTUAL_NODE_SHORTCUT, metadata["name"], metadata.get("namespace")
            )
            continue
        except ShortcutError as error:
            log.warning("%s: status not written in this pass: %s", metadata["name"], error)
            return []
        return transitions(previous, status)
    log.warning("%s: status not written in this pass: it kept changing", metadata["name"])
    return []
