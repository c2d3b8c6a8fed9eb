"""Waiting with a deadline: following a watch where the credentials may, else polling.

A watch hears of each change as it happens, in one request; Liqo's least-privilege peering user
may get and list but not watch, so for it every wait is a short poll. Both check the run's
cancellation and deadline at least every `POLL_INTERVAL`. The clock and the sleep are injected
so that tests of timeouts run instantly and deterministically.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol, TypeVar

from liqoshortcut.errors import Interrupted, WorkflowFailed

T = TypeVar("T")
S = TypeVar("S")

POLL_INTERVAL = 0.1  # seconds; a GET costs ~1 ms on a LAN, and users wait on every step


class Changes(Protocol[S]):
    """An open watch (`kube.watch.Follow`): the state after each change, until it ends."""

    ended: bool

    def __enter__(self) -> Changes[S]: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    def changed(self, timeout: float) -> S | None:
        """The state after the next change; None if none came within ``timeout``."""
        ...


class WaitTimedOut(WorkflowFailed):
    """A condition did not hold before the deadline; ``what`` is what was awaited."""

    def __init__(self, message: str, *, what: str) -> None:
        super().__init__(message)
        self.what = what


class WaitCancelled(Interrupted):
    """Another step of the run failed or was interrupted: this wait stops at once."""


@dataclass
class Deadline:
    """One budget shared by every wait of a run, as liqoctl's --timeout is; ``budget`` names it
    as its user set it (``--timeout``, ``spec.timeout``) in the timeout's message."""

    seconds: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    budget: str = "the timeout"
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
            self._going_on(what)
            value = check()
            if value is not None:
                return value
            self.sleep(min(interval, self._left(what)))

    def follow(
        self,
        what: str,
        watch: Callable[[], Changes[S]],
        judge: Callable[[S], T | None],
        interval: float = POLL_INTERVAL,
    ) -> T:
        """Judge each state ``watch`` reports until ``judge`` returns something other than None;
        that value is returned. A watch that ends (the server closes it) is opened again."""
        while True:
            with watch() as changes:
                while not changes.ended:
                    self._going_on(what)
                    state = changes.changed(min(interval, self._left(what)))
                    if state is not None and (value := judge(state)) is not None:
                        return value
            self.sleep(min(interval, self._left(what)))

    def _going_on(self, what: str) -> None:
        if self._cancelled.is_set():
            raise WaitCancelled(f"stopped waiting for {what}")

    def _left(self, what: str) -> float:
        """Seconds left before the deadline; raises `WaitTimedOut` when there are none."""
        left = self.remaining()
        if left <= 0:
            raise WaitTimedOut(
                f"timed out after {self.seconds:.0f}s waiting for {what}; "
                f"raise {self.budget} if the clusters are slow",
                what=what,
            )
        return left
