"""Polling with a deadline, the only way the workflow waits.

Liqo's least-privilege peering user may get and list but not watch, so every wait is a short poll.
The clock and the sleep are injected so that tests of timeouts run instantly and deterministically.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from liqoshortcut.errors import Interrupted, WorkflowFailed

T = TypeVar("T")

POLL_INTERVAL = 0.1  # seconds; a GET costs ~1 ms on a LAN, and users wait on every step


class WaitTimedOut(WorkflowFailed):
    """A condition did not hold before the deadline; ``what`` is what was awaited."""

    def __init__(self, message: str, *, what: str) -> None:
        super().__init__(message)
        self.what = what


class WaitCancelled(Interrupted):
    """Another step of the run failed or was interrupted: this wait stops at once."""


@dataclass
class Deadline:
    """One budget shared by every wait of a run, as liqoctl's --timeout is."""

    seconds: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    started: float = field(init=False)
    _cancelled: threading.Event = field(init=False, default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def cancel(self) -> None:
        """Make every wait of this run, in any thread, give up at its next poll."""
        self._cancelled.set()

    def remaining(self) -> float:
        return self.seconds - (self.clock() - self.started)

    def poll(self, what: str, check: Callable[[], T | None], interval: float = POLL_INTERVAL) -> T:
        """Call ``check`` until it returns something other than None; that value is returned."""
        while True:
            if self._cancelled.is_set():
                raise WaitCancelled(f"stopped waiting for {what}")
            value = check()
            if value is not None:
                return value
            left = self.remaining()
            if left <= 0:
                raise WaitTimedOut(
                    f"timed out after {self.seconds:.0f}s waiting for {what}; "
                    "raise --timeout if the clusters are slow",
                    what=what,
                )
            self.sleep(min(interval, left))
