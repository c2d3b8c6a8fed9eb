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
