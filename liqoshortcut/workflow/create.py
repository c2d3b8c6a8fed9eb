"""The `create` use case: a checked shortcut made on both edges, recorded in central, and the
selected Services routed over it, as one promise.

`kubectl shortcut create` is this plus parsing and rendering (liqoctl's ``Options.RunConnect``,
kubectl's Complete/Validate/Run): the CLI builds the `Preflight` (`workflow.preflight.prepare`,
which a dry run prints instead), then `create` runs it. The record is written before the first
change on an edge and settled after the last (`workflow.records`); the run rolls back what it
made on failure or Ctrl-C (`workflow.connect.ConnectRun`), the Services' annotations included.
"""

from __future__ import annotations

from dataclasses import dataclass

from liqoshortcut.core.plan import Side
from liqoshortcut.core.record import EdgeRecord, ShortcutRecord, State
from liqoshortcut.core.routing import ServiceKey
from liqoshortcut.workflow.connect import ConnectRun
from liqoshortcut.workflow.preflight import Preflight
from liqoshortcut.workflow.progress import Reporter
from liqoshortcut.workflow.records import recorded, refuse_owned
from liqoshortcut.workflow.routing import ServiceRouting, routes
from liqoshortcut.workflow.waiting import Deadline


@dataclass(frozen=True)
class Created:
    """What a run made: the shortcut as recorded (with where each edge reaches the other's pods)
    and the Services routed over it (None when the policy routes none or the run did not wait)."""

    record: ShortcutRecord
    routed: tuple[ServiceKey, ...] | None


def create(preflight: Preflight, deadline: Deadline, report: Reporter) -> Created:
    """Make ``preflight``'s shortcut (its spec says which Services to route; its plan whether to
    wait for the Connections). Refuses, before any change, a shortcut a VirtualNodeShortcut
    owns; on failure, leaves nothing it made (or says what it could not remove)."""
    plan, spec = preflight.plan, preflight.spec
    server, client = plan.edges[Side.SERVER], plan.edges[Side.CLIENT]
    refuse_owned(preflight.central, plan.shortcut, {server.cluster_id, client.cluster_id}, "create")
    record = ShortcutRecord(
        name=plan.shortcut,
        server=EdgeRecord(server.name, server.cluster_id),
        client=EdgeRecord(client.name, client.cluster_id),
        state=State.CREATING,
    )
    routing = None
    if plan.waits_connected and routes(spec.traffic):
        routing = ServiceRouting(
            preflight.central, plan, spec.traffic, preflight.edges, report, spec.liqo_namespace
        )
        routing.check()  # central's Services readable, before the first change
    reached = State.CONNECTED if plan.waits_connected else State.CREATED
    with recorded(preflight.central, spec.liqo_namespace, record, reached) as recording:
        produced = ConnectRun(plan, preflight.edges, deadline, report, then=routing).run()
        recording.record = record.learnt(plan.peer_pod_cidrs(produced))
    return Created(recording.record, tuple(routing.routed) if routing is not None else None)
