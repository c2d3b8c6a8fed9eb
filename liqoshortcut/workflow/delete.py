"""The `delete` use case: the shortcut's Services back on the hub, its objects gone from both
edges, then its record, in that order.

Traffic goes first, because a Service still annotated would lose its path with the tunnel; the
record goes last, once the edges are clean, so that `list` shows a shortcut for as long as it
has objects anywhere. `kubectl shortcut delete` is this plus parsing, the confirmation and the
rendering; `workflow.preflight.prepare_teardown` has already refused what must not be deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

from liqoshortcut.core.routing import ServiceKey
from liqoshortcut.workflow.disconnect import KeptNamespace, LeftByLiqo, disconnect
from liqoshortcut.workflow.preflight import Teardown
from liqoshortcut.workflow.progress import Reporter
from liqoshortcut.workflow.records import forget
from liqoshortcut.workflow.routing import shortcut_key, unroute
from liqoshortcut.workflow.waiting import Deadline


@dataclass(frozen=True)
class Deleted:
    """What a teardown did."""

    name: str
    removed: int  # objects removed from the edges
    record_removed: bool
    unrouted: tuple[ServiceKey, ...]  # Services taken back to the hub path
    warnings: tuple[str, ...]  # Services that could not be taken back, namespaces kept
    kept: tuple[KeptNamespace, ...]
    left_by_liqo: tuple[LeftByLiqo, ...]

    @property
    def found(self) -> bool:
        """Whether there was anything of the shortcut anywhere."""
        return bool(self.removed or self.record_removed or self.unrouted or self.kept)


def delete(
    teardown: Teardown, liqo_namespace: str, deadline: Deadline, report: Reporter, wait: bool
) -> Deleted:
    """Take ``teardown``'s shortcut down; a shortcut that is not there is not an error.
    ``wait``: until every deleted object is gone (kubectl delete), or only until the API servers
    accepted the deletions (liqoctl network reset)."""
    plan = teardown.plan
    unrouted = unroute(teardown.central, shortcut_key(plan), report)
    done = disconnect(plan, teardown.edges, deadline, report, wait=wait)
    return Deleted(
        name=plan.shortcut,
        removed=done.removed,
        record_removed=forget(teardown.central, liqo_namespace, plan.shortcut),
        unrouted=tuple(unrouted.services),
        warnings=(*unrouted.warnings, *map(str, done.kept)),
        kept=tuple(done.kept),
        left_by_liqo=tuple(done.left_by_liqo),
    )
