"""Waits poll until a value appears and fail with a message naming what was awaited."""

from __future__ import annotations

import pytest

from liqoshortcut.errors import ExitCode, exit_code_for
from liqoshortcut.workflow.waiting import Deadline, WaitCancelled, WaitTimedOut


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_wait_returns_the_first_value_that_is_not_none() -> None:
    clock = FakeClock()
    answers = iter([None, None, "Connected"])
    deadline = Deadline(10, clock=clock, sleep=clock.sleep)
    assert deadline.poll("the Connection", lambda: next(answers)) == "Connected"
    assert len(clock.slept) == 2


def test_a_wait_that_never_succeeds_fails_at_the_deadline_naming_what_it_awaited() -> None:
    clock = FakeClock()
    deadline = Deadline(5, clock=clock, sleep=clock.sleep)
    with pytest.raises(WaitTimedOut, match="waiting for the GatewayServer endpoint") as raised:
        deadline.poll("the GatewayServer endpoint", lambda: None)
    assert clock.now - 100.0 == pytest.approx(5.0)
    assert exit_code_for(raised.value) is ExitCode.FAILED


def test_every_wait_of_a_run_shares_one_budget() -> None:
    clock = FakeClock()
    deadline = Deadline(5, clock=clock, sleep=clock.sleep)
    clock.now += 4.5  # earlier steps used most of it
    with pytest.raises(WaitTimedOut):
        deadline.poll("the second step", lambda: None)
    assert max(clock.slept) <= 0.5


def test_a_falsy_value_other_than_none_counts_as_arrived() -> None:
    deadline = Deadline(1, clock=FakeClock(), sleep=lambda _: None)
    assert deadline.poll("an empty list", lambda: []) == []


def test_a_cancelled_run_stops_every_wait_at_its_next_poll() -> None:
    clock = FakeClock()
    deadline = Deadline(60, clock=clock, sleep=clock.sleep)
    polls: list[int] = []

    def check() -> None:
        polls.append(1)
        if len(polls) == 3:
            deadline.cancel()  # another thread failed or Ctrl-C arrived

    with pytest.raises(WaitCancelled, match="stopped waiting for the Connection") as raised:
        deadline.poll("the Connection", check)
    assert len(polls) == 3
    assert exit_code_for(raised.value) is ExitCode.INTERRUPTED


class FakeWatch:
    """Reports ``states`` one per `changed` call (None: nothing within the timeout), then ends.

    Counts how often it was opened and records each timeout it was given, on the fake clock.
    """

    def __init__(self, clock: FakeClock, *streams: list[str | None]) -> None:
        self.clock = clock
        self.streams = list(streams)
        self.opened = 0
        self.closed = 0
        self.timeouts: list[float] = []
        self.ended = False
        self._states: list[str | None] = []

    def __call__(self) -> FakeWatch:
        self._states = list(self.streams.pop(0)) if self.streams else []
        self.ended = False
        self.opened += 1
        return self

    def __enter__(self) -> FakeWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed += 1

    def changed(self, timeout: float) -> str | None:
        self.timeouts.append(timeout)
        if not self._states:
            self.ended = True
            return None
        state = self._states.pop(0)
        if state is None:
            self.clock.now += timeout  # nothing came: the whole timeout went by
        return state


def connected(state: str) -> str | None:
    return state if state == "Connected" else None


def test_a_followed_wait_returns_the_first_state_judged_done_and_closes_its_watch() -> None:
    clock = FakeClock()
    watch = FakeWatch(clock, ["Pending", None, "Connecting", "Connected", "Error"])
    deadline = Deadline(10, clock=clock, sleep=clock.sleep)
    assert deadline.follow("the Connection", watch, connected) == "Connected"
    assert (watch.opened, watch.closed) == (1, 1)
    assert max(watch.timeouts) <= 0.1  # cancellation and the deadline are checked that often


def test_a_watch_the_server_ends_is_opened_again() -> None:
    clock = FakeClock()
    watch = FakeWatch(clock, ["Pending"], ["Connecting", "Connected"])
    deadline = Deadline(10, clock=clock, sleep=clock.sleep)
    assert deadline.follow("the Connection", watch, connected) == "Connected"
    assert (watch.opened, watch.closed) == (2, 2)


def test_a_followed_wait_fails_at_the_deadline_naming_what_it_awaited() -> None:
    clock = FakeClock()
    watch = FakeWatch(clock, [None] * 1000)
    deadline = Deadline(5, clock=clock, sleep=clock.sleep)
    with pytest.raises(WaitTimedOut, match="waiting for the GatewayServer endpoint"):
        deadline.follow("the GatewayServer endpoint", watch, connected)
    assert clock.now - 100.0 == pytest.approx(5.0)
    assert watch.closed == 1


def test_a_cancelled_run_stops_a_followed_wait_at_its_next_change() -> None:
    clock = FakeClock()
    deadline = Deadline(10, clock=clock, sleep=clock.sleep)

    def cancel_then_judge(state: str) -> str | None:
        deadline.cancel()
        return None

    watch = FakeWatch(clock, ["Pending", "Connected"])
    with pytest.raises(WaitCancelled, match="stopped waiting for the Connection"):
        deadline.follow("the Connection", watch, cancel_then_judge)
    assert watch.closed == 1
