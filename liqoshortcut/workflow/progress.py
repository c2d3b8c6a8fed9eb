"""Progress events: how the workflow tells a front end what it is doing.

The CLI renders them (live on a terminal, timestamped lines in CI logs) and the operator turns them
into log lines and Kubernetes Events; the workflow knows neither. A reporter is any callable taking
an event, so a test can collect them in a list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class Phase(Enum):
    STARTED = "started"
    DONE = "done"
    SKIPPED = "skipped"  # already in place: nothing to do
    FAILED = "failed"
    ROLLBACK = "rollback"  # undoing one object this run created


@dataclass(frozen=True)
class ProgressEvent:
    phase: Phase
    step: str  # a short sentence: "create GatewayServer edge-a on edge-b"
    cluster: str | None = None
    detail: str = ""  # never a secret: names, counts and states only


Reporter = Callable[[ProgressEvent], None]


def discard(event: ProgressEvent) -> None:
    """The reporter for callers that want no progress (``-q``)."""
