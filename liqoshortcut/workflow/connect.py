"""`liqoctl network connect` between two edges, run from elsewhere: once with a journal and
rollback (the CLI's `ConnectRun`), or as a reconcile pass that converges (the operator's
`converge`).

The sequence itself is `core.plan`'s: this module runs a plan (`execute`, one wave after another,
the steps of a wave on the two edges at once, each step by `steps.EdgeSteps`) and owns what a run
promises around it. Anything in the plan's way that is not ours is refused before any change. A
`ConnectRun` journals only the objects it created, and on any failure, timeout or Ctrl-C deletes
them newest first. A `converge` pass leaves what exists for the next pass to build on, and
repairs what drifted; tearing down is the operator's finalizer's job.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import NoReturn, Protocol

from liqoshortcut.core.plan import Outputs, Plan
from liqoshortcut.errors import (
    Interrupted,
    RollbackIncomplete,
    ShortcutError,
    WorkflowFailed,
    unexpected,
)
from liqoshortcut.kube import objects
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.resources import by_kind
from liqoshortcut.workflow.execute import execute
from liqoshortcut.workflow.foreign import refuse_foreign
from liqoshortcut.workflow.journal import Journal, ObjectRef
from liqoshortcut.workflow.progress import Phase, ProgressEvent, Reporter
from liqoshortcut.workflow.steps import EdgeSteps
from liqoshortcut.workflow.waiting import Deadline

ROLLBACK_TIMEOUT = 60.0  # seconds per object: namespaces take the longest (their contents go first)


class Followup(Protocol):
    """A step after the plan that the run's rollback also undoes (`routing.ServiceRouting`)."""

    @property
    def changed(self) -> int:
        """How many changes `run()` made so far."""
        ...

    def run(self) -> object: ...

    def undo(self) -> list[str]:
        """Undo what `run()` changed; what could not be undone, as the commands that would."""
        ...


class ConnectRun:
    """One run of ``plan`` on the edges' ``clusters`` (by edge name); `run()` either completes or
    leaves nothing it made. ``then`` runs after the plan, inside the same promise: if it fails,
    it is undone first, then the plan's objects are removed."""

    def __init__(
        self,
        plan: Plan,
        clusters: Mapping[str, Cluster],
        deadline: Deadline,
        report: Reporter,
        then: Followup | None = None,
    ) -> None:
        self.plan = plan
        self.clusters = clusters
        self.deadline = deadline
        self.report = report
        self.then = then
        self.journal = Journal()

    def run(self) -> dict[str, Outputs]:
        """Each step's outputs by step id, once everything is done."""
        found = refuse_foreign(self.plan, self.clusters)  # before any change: nothing to undo
        steps = EdgeSteps(
            self.clusters, self.plan.shortcut, self.deadline, self.report, self.journal, found
        )
        try:
            produced = execute(self.plan, steps, self.deadline)
            if self.then is not None:
                self.then.run()
            return produced
        except KeyboardInterrupt:
            self._roll_back("interrupted", Interrupted)
        except ShortcutError as error:
            self._roll_back(str(error), WorkflowFailed)
        except BaseException as error:  # the promise holds for failures nobody foresaw too
            self._roll_back(unexpected(error), WorkflowFailed)

    def _roll_back(self, reason: str, failure: type[ShortcutError]) -> NoReturn:
        """Delete what this run created, newest first, and raise ``failure`` saying how it went."""
        followed = self.then is not None and self.then.changed > 0
        if not len(self.journal) and not followed:
            raise failure(f"{reason}; nothing had been created")
        # Newest first: what ``then`` changed came after every object of the plan.
        left_changes = self.then.undo() if self.then is not None and followed else []
        leftovers: list[ObjectRef] = []
        for ref in self.journal.newest_first():
            cluster, resource = self.clusters[ref.cluster], by_kind(ref.kind)
            # A progress line that cannot be written must not keep the object from going.
            with contextlib.suppress(Exception):
                self.report(ProgressEvent(Phase.ROLLBACK, f"delete {ref}", cluster.name))
            try:
                objects.delete(cluster, resource, ref.name, ref.namespace)
                # Rollback gets its own budget: the run's may be what just ran out.
                gone = objects.wait_gone(
                    cluster, resource, ref.name, ref.namespace, timeout=ROLLBACK_TIMEOUT
                )
            except (Exception, KeyboardInterrupt):  # named as left below; the others go on
                gone = False
            if not gone:
                leftovers.append(ref)
        if leftovers or left_changes:
            commands = "; ".join([*left_changes, *(_delete_command(ref) for ref in leftovers)])
            left = [f"{len(leftovers)} object(s)"] if leftovers else []
            left += [f"{len(left_changes)} Service(s) annotated"] if left_changes else []
            verb = "undo" if left_changes else "remove"
            raise RollbackIncomplete(
                f"{reason}; rollback left {' and '.join(left)}, {verb} them with: {commands}"
            )
        raise failure(f"{reason}; everything this run created was removed")


def converge(
    plan: Plan, clusters: Mapping[str, Cluster], deadline: Deadline, report: Reporter
) -> dict[str, Outputs]:
    """Make the edges hold exactly what ``plan`` creates: missing objects made, drifted ones
    replaced, the rest left alone; each step's outputs by step id. Idempotent; a failure leaves
    everything for the next pass."""
    found = refuse_foreign(plan, clusters)
    steps = EdgeSteps(clusters, plan.shortcut, deadline, report, Journal(), found, repair=True)
    return execute(plan, steps, deadline)


def _delete_command(ref: ObjectRef) -> str:
    scope = f" -n {ref.namespace}" if ref.namespace else ""
    return f"kubectl --context {ref.cluster}{scope} delete {ref.plural} {ref.name}"
