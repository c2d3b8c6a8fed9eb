"""kopf's side of the operator: which pass runs when, how status, Events and retries follow.

- create, resume (operator start) and spec changes run passes until both Connections are
  Connected, as `kubectl shortcut create --wait` waits for them: a pass waits for Liqo a few
  seconds at most and is requeued a second later while the shortcut's timeout lasts, so a delete
  or a spec change never waits long behind it; a failure is retried with backoff, except a spec
  only its author can fix;
- a timer reruns the pass every resync interval without waiting for the Connections: missing or
  drifted objects are made again (drift repair) and the health of both Connections is recorded;
- delete tears the shortcut down through kopf's finalizer, which kopf adds before any handler
  runs and removes only once the teardown succeeded.

Every pass computes its part of the status from what it observed and writes it once, only when
it differs from what is stored, at the resourceVersion it read (`operator.status`: the traffic
router writes the other part); each change of a condition is also an Event. Two
passes of one shortcut never overlap (a lock per object), whichever handler started them, and a
teardown cuts a pass still waiting for Liqo short.
kopf's own progress and diff-base annotations go under this project's prefix, and its status
storage is not used: the status schema is ours.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final

import kopf

from liqoshortcut.core.model import API_GROUP, API_VERSION, PLURAL
from liqoshortcut.core.observed import Transition
from liqoshortcut.core.pathhealth import HealthSettings
from liqoshortcut.errors import ShortcutError
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.operator.reconcile import (
    FACTS_MAX_AGE_SECONDS,
    EdgeClients,
    Outcome,
    reconcile,
    tear_down,
    utc_now,
)
from liqoshortcut.operator.rivals import rival_view
from liqoshortcut.operator.router import DEFAULT_HEALTH_INTERVAL, Router
from liqoshortcut.operator.status import write_pass_status
from liqoshortcut.workflow.facts import RecentFacts
from liqoshortcut.workflow.progress import Phase, ProgressEvent, Reporter
from liqoshortcut.workflow.waiting import Deadline

FINALIZER: Final = f"{API_GROUP}/teardown"
ANNOTATION_PREFIX: Final = API_GROUP  # kopf's bookkeeping: shortcut.liqo.io/last-handled-...
VERSION: Final = API_VERSION.split("/")[1]
DEFAULT_RESYNC_SECONDS: Final = 60.0  # drift repair and health: a minute, as Liqo's own resyncs
BACKOFF_SECONDS: Final = 5.0  # the first retry; doubled at each failure up to the cap
BACKOFF_CAP_SECONDS: Final = 300.0  # an edge down for hours is retried every five minutes
REQUEUE_SECONDS: Final = 1.0  # a pass that stopped at a wait tries again this soon
NEIGHBOURS_INDEX: Final = "shortcuts_by_namespace"  # kopf passes an index by its id

Logger = logging.Logger | logging.LoggerAdapter[Any]  # kopf's per-object logger


@dataclass(frozen=True)
class OperatorOptions:
    resync_seconds: float = DEFAULT_RESYNC_SECONDS
    allow_plugins: bool = False  # kubeconfigs with exec or auth-provider plugins in Secrets
    health_interval: float = DEFAULT_HEALTH_INTERVAL  # seconds between traffic rounds
    health: HealthSettings = field(default_factory=HealthSettings)


def backoff(retry: int) -> float:
    """Seconds before retry number ``retry`` + 1 (kopf counts the first attempt as 0)."""
    return min(BACKOFF_SECONDS * 2.0**retry, BACKOFF_CAP_SECONDS)


class Shortcuts:
    """The operator's state across handlers: central's client, edge clients, the clusters'
    recently read facts, and per resource a lock (one pass at a time) and the deadline of the
    pass under way (a teardown cancels it)."""

    def __init__(
        self, central: Cluster, options: OperatorOptions, router: Router | None = None
    ) -> None:
        self.central = central
        self.options = options
        self.router = router
        self.clients = EdgeClients()
        self.facts = RecentFacts(FACTS_MAX_AGE_SECONDS)
        self._locks: dict[str, threading.Lock] = {}
        self._passes: dict[str, Deadline] = {}
        self._guard = threading.Lock()

    def _lock(self, uid: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(uid, threading.Lock())

    def _deadline(self, uid: str, seconds: float) -> Deadline:
        deadline = Deadline(seconds)
        with self._guard:
            self._passes[uid] = deadline
        return deadline

    def converge(
        self,
        body: kopf.Body,
        logger: Logger,
        *,
        wait: bool,
        elapsed: float = 0.0,
        blocking: bool = True,
        neighbours: Callable[[], Iterable[Mapping[str, Any]]] | None = None,
    ) -> Outcome | None:
        """One pass; its status is written and its news become Events. None when not
        ``blocking`` and another pass over the resource is under way (it reports for both)."""
        uid = body.metadata.uid or ""
        lock = self._lock(uid)
        if not lock.acquire(blocking=blocking):
            return None
        created: list[ProgressEvent] = []
        try:
            outcome = reconcile(
                self.central,
                body,
                _reporter(logger, created),
                clients=self.clients,
                facts=self.facts,
                allow_plugins=self.options.allow_plugins,
                wait_connected=wait,
                elapsed=elapsed,
                deadlines=partial(self._deadline, uid),
                neighbours=neighbours,
            )
        finally:
            lock.release()
        if self.router is not None and outcome.planned is not None:
            self.router.track(body, outcome.planned)
        written = write_pass_status(self.central, body, outcome.observation, utc_now)
        _post(body, created, written)
        return outcome

    def tear_down(self, body: kopf.Body, logger: Logger, retry: int) -> None:
        uid = body.metadata.uid or ""
        with self._guard:
            running = self._passes.get(uid)
        if running is not None:
            running.cancel()  # a pass still waiting for Liqo gives way at its next poll
        if self.router is not None:
            self.router.release(uid)  # its Services back on the hub before the tunnel goes
        with self._lock(uid):
            try:
                count = tear_down(
                    self.central,
                    body,
                    _reporter(logger, []),
                    clients=self.clients,
                    facts=self.facts,
                    allow_plugins=self.options.allow_plugins,
                )
            except ShortcutError as error:
                message = (
                    f"cannot tear down yet: {error} (to abandon the objects on the edges "
                    f"instead, remove the finalizer {FINALIZER})"
                )
                kopf.event(body, type="Warning", reason="TeardownFailed", message=message)
                raise kopf.TemporaryError(message, delay=backoff(retry)) from None
        with self._guard:
            self._locks.pop(uid, None)
            self._passes.pop(uid, None)
        kopf.event(
            body, type="Normal", reason="TornDown", message=f"removed {count} object(s) from edges"
        )


def register(registry: kopf.OperatorRegistry, shortcuts: Shortcuts) -> None:
    """Add the operator's handlers for VirtualNodeShortcuts to ``registry``."""
    kind = (API_GROUP, VERSION, PLURAL)

    # Every resource as `rival_view` by namespace, kept by kopf from its watch: a pass looks
    # for rivals here instead of listing the namespace (100 resources: half a megabyte).
    @kopf.index(*kind, registry=registry, id=NEIGHBOURS_INDEX)
    def by_namespace(body: kopf.Body, **_: Any) -> dict[str | None, dict[str, Any]]:
        return {body.metadata.namespace: rival_view(body)}

    def converge_or_retry(
        body: kopf.Body,
        logger: Logger,
        retry: int,
        runtime: datetime.timedelta,
        **kwargs: Any,
    ) -> None:
        elapsed = runtime.total_seconds()
        outcome = shortcuts.converge(
            body,
            logger,
            wait=True,
            elapsed=elapsed,
            neighbours=_neighbours(kwargs[NEIGHBOURS_INDEX], body),
        )
        if outcome is None or outcome.failure is None:
            return
        if outcome.progressing:
            raise kopf.TemporaryError(outcome.failure.message, delay=REQUEUE_SECONDS)
        if not outcome.retry:
            raise kopf.PermanentError(outcome.failure.message)
        raise kopf.TemporaryError(outcome.failure.message, delay=backoff(retry))

    kopf.on.create(*kind, registry=registry, id="converge")(converge_or_retry)
    kopf.on.resume(*kind, registry=registry, id="converge")(converge_or_retry)
    kopf.on.update(*kind, registry=registry, id="converge", field="spec")(converge_or_retry)

    @kopf.timer(
        *kind,
        registry=registry,
        id="resync",
        interval=shortcuts.options.resync_seconds,
        initial_delay=shortcuts.options.resync_seconds,
    )
    def resync(body: kopf.Body, logger: Logger, **kwargs: Any) -> None:
        if body.metadata.get("deletionTimestamp"):
            return  # the teardown is under way
        # A failure waits for the next tick; a pass already under way speaks for this one.
        neighbours = _neighbours(kwargs[NEIGHBOURS_INDEX], body)
        shortcuts.converge(body, logger, wait=False, blocking=False, neighbours=neighbours)

    @kopf.on.delete(*kind, registry=registry, id="teardown")
    def teardown(body: kopf.Body, logger: Logger, retry: int, **_: Any) -> None:
        shortcuts.tear_down(body, logger, retry)


def _neighbours(
    index: kopf.Index[str | None, dict[str, Any]], body: kopf.Body
) -> Callable[[], list[dict[str, Any]]]:
    """The resources of ``body``'s namespace from kopf's index, read from a worker thread while
    kopf's loop may update it: a copy, made again if an update came in the middle."""

    def read() -> list[dict[str, Any]]:
        while True:
            try:
                return list(index.get(body.metadata.namespace, ()))
            except RuntimeError:  # the store changed size while it was copied
                continue

    return read


def configure(settings: kopf.OperatorSettings, workers: int) -> None:
    """kopf's settings this operator needs, whichever way it is started."""
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(
        prefix=ANNOTATION_PREFIX
    )
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=ANNOTATION_PREFIX
    )
    # The chart grants no CRD or Namespace watch: the resources and namespaces are given.
    settings.scanning.disabled = True
    settings.execution.max_workers = workers


def _reporter(logger: Logger, changes: list[ProgressEvent]) -> Reporter:
    """Progress into the shortcut's log; the steps that created or replaced something are kept
    in ``changes``."""

    def report(event: ProgressEvent) -> None:
        if event.phase is Phase.STARTED:
            return
        detail = f" ({event.detail})" if event.detail else ""
        logger.info("%s: %s: %s%s", event.cluster, event.step, event.phase.value, detail)
        if event.phase is Phase.DONE and event.step.split(" ", 1)[0] in _CHANGES:
            changes.append(event)

    return report


_CHANGES: Final = ("create", "replace")  # the steps whose completion is news for an Event


def _post(body: kopf.Body, changes: list[ProgressEvent], written: list[Transition]) -> None:
    replaced = [event for event in changes if event.step.startswith("replace")]
    made = len(changes) - len(replaced)
    if made:
        edges = sorted({event.cluster or "" for event in changes})
        message = f"created {made} object(s) on {' and '.join(edges)}"
        kopf.event(body, type="Normal", reason="Created", message=message)
    for event in replaced:
        message = f"{event.step} on {event.cluster} ({event.detail})"
        kopf.event(body, type="Normal", reason="DriftRepaired", message=message)
    for change in written:
        message = f"{change.type} is {change.status}: {change.message}"
        kind = "Warning" if change.warning else "Normal"
        kopf.event(body, type=kind, reason=change.reason, message=message)
