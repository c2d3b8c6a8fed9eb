"""A plan runs wave by wave, a wave's steps at once, and a failure or Ctrl-C stops every wait now.

The steps here are fakes (no cluster): what is tested is the order, the concurrency, the values
handed from step to step, and how quickly the rest of a run stops.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Mapping

import pytest

from liqoshortcut.core.plan import Action, Output, Outputs, Plan, PlannedEdge, Side, Step
from liqoshortcut.errors import WorkflowFailed
from liqoshortcut.workflow.execute import execute
from liqoshortcut.workflow.waiting import Deadline, WaitCancelled

EDGES = {
    Side.SERVER: PlannedEdge("edge-b", "turin", "liqo-tenant-milan"),
    Side.CLIENT: PlannedEdge("edge-a", "milan", "liqo-tenant-turin"),
}
STOPPED_AT_ONCE = 5.0  # seconds; every wait below would otherwise last a minute


def a_step(step_id: str, *after: str) -> Step:
    return Step(
        id=step_id,
        side=Side.SERVER,
        cluster="edge-b",
        action=Action.WAIT,
        kind="Thing",
        name=step_id,
        namespace="ns",
        what=f"wait for {step_id}",
        after=after,
    )


def a_plan(*steps: Step) -> Plan:
    return Plan("milan--turin", EDGES, steps)


StepBody = Callable[[Mapping[str, Outputs]], Outputs]


class FakeSteps:
    """Runs each step's body by id and records when steps start and end, thread-safely."""

    def __init__(self, bodies: Mapping[str, StepBody]) -> None:
        self.bodies = bodies
        self.events: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, step: Step, produced: Mapping[str, Outputs]) -> Outputs:
        with self.lock:
            self.events.append(("start", step.id))
        outputs = self.bodies[step.id](produced)
        with self.lock:
            self.events.append(("end", step.id))
        return outputs

    def started(self) -> list[str]:
        return [step_id for event, step_id in self.events if event == "start"]


def nothing(produced: Mapping[str, Outputs]) -> Outputs:
    return {}


def test_each_wave_starts_when_the_one_before_ended_and_gets_its_outputs() -> None:
    seen: dict[str, Outputs] = {}

    def client_uid(produced: Mapping[str, Outputs]) -> Outputs:
        return {Output.UID: "uid-of-a"}

    def key(produced: Mapping[str, Outputs]) -> Outputs:
        seen.update(produced)
        return {Output.PUBLIC_KEY: "a2V5"}

    steps = FakeSteps({"a": client_uid, "b": nothing, "c": key})
    plan = a_plan(a_step("a"), a_step("b"), a_step("c", "a", "b"))
    results = execute(plan, steps, Deadline(60))
    assert steps.events.index(("start", "c")) > max(
        steps.events.index(("end", "a")), steps.events.index(("end", "b"))
    )
    assert seen == {"a": {Output.UID: "uid-of-a"}, "b": {}}
    assert results == {"a": {Output.UID: "uid-of-a"}, "b": {}, "c": {Output.PUBLIC_KEY: "a2V5"}}


def test_the_steps_of_one_wave_run_at_the_same_time() -> None:
    both_running = threading.Barrier(2, timeout=STOPPED_AT_ONCE)  # broken if run one by one

    def meet(produced: Mapping[str, Outputs]) -> Outputs:
        both_running.wait()
        return {}

    steps = FakeSteps({"on-server": meet, "on-client": meet})
    execute(a_plan(a_step("on-server"), a_step("on-client")), steps, Deadline(60))
    assert sorted(steps.started()) == ["on-client", "on-server"]


class Waiting:
    """A step that polls under the run's deadline until it is stopped; says when it polls."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline
        self.polling = threading.Event()
        self.stopped_by: BaseException | None = None

    def __call__(self, produced: Mapping[str, Outputs]) -> Outputs:
        def never() -> None:
            self.polling.set()

        try:
            self.deadline.poll("something that never comes", never)
        except WaitCancelled as error:
            self.stopped_by = error
            raise
        raise AssertionError("unreachable: the poll above only ends by raising")


def test_the_first_failure_stops_the_other_waits_at_once_and_no_later_wave_runs() -> None:
    deadline = Deadline(60)
    waiting = Waiting(deadline)

    def fail(produced: Mapping[str, Outputs]) -> Outputs:
        waiting.polling.wait(STOPPED_AT_ONCE)
        raise WorkflowFailed("the Configuration on edge-a was refused")

    steps = FakeSteps({"waits": waiting, "fails": fail, "later": nothing})
    plan = a_plan(a_step("waits"), a_step("fails"), a_step("later", "waits", "fails"))
    began = time.monotonic()
    with pytest.raises(WorkflowFailed, match="Configuration on edge-a was refused"):
        execute(plan, steps, deadline)
    assert time.monotonic() - began < STOPPED_AT_ONCE
    assert isinstance(waiting.stopped_by, WaitCancelled)
    assert "later" not in steps.started()


def test_ctrl_c_stops_every_wait_at_once_and_reaches_the_caller() -> None:
    deadline = Deadline(60)
    waiting = Waiting(deadline)
    main = threading.main_thread().ident
    assert main is not None

    def press_ctrl_c(produced: Mapping[str, Outputs]) -> Outputs:
        waiting.polling.wait(STOPPED_AT_ONCE)
        signal.pthread_kill(main, signal.SIGINT)  # what the terminal does: SIGINT to main
        return {}

    steps = FakeSteps({"waits": waiting, "user": press_ctrl_c, "later": nothing})
    plan = a_plan(a_step("waits"), a_step("user"), a_step("later", "waits", "user"))
    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        execute(plan, steps, deadline)
    assert time.monotonic() - began < STOPPED_AT_ONCE
    assert isinstance(waiting.stopped_by, WaitCancelled)
    assert "later" not in steps.started()
