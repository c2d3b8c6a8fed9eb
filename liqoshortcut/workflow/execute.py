"""Runs a plan by its dependencies: each step starts as soon as the steps it comes ``after`` are
done, in a thread of its own, so a slow wait holds back only the steps that need its outcome.

Kept apart from what a step does on a cluster (`steps`), so that ordering, concurrency and
cancellation are one small piece of code, tested with fake steps. The first failure, or Ctrl-C,
cancels the run's shared `Deadline`, so the other steps' waits stop at their next poll instead of
at the deadline; no further step starts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from types import MappingProxyType
from typing import TypeVar

from liqoshortcut.core.plan import Outputs, Plan, Step
from liqoshortcut.workflow.waiting import Deadline

T = TypeVar("T")
# Runs one step, given what the steps before it produced (by step id); returns what it produced.
StepRunner = Callable[[Step, Mapping[str, Outputs]], Outputs]


def execute(plan: Plan, run_step: StepRunner, deadline: Deadline) -> dict[str, Outputs]:
    """Run every step of ``plan``; returns each step's outputs by step id.

    Every step runs in a worker thread, even a lone one: Ctrl-C then lands in this thread, never
    between a worker's create call and its journal entry.
    """
    produced: dict[str, Outputs] = {}
    waiting = list(plan.steps)
    running: dict[Future[Outputs], Step] = {}
    pool = ThreadPoolExecutor(max_workers=max(len(plan.steps), 1))
    try:
        while waiting or running:
            startable = [step for step in waiting if all(d in produced for d in step.after)]
            for step in startable:
                waiting.remove(step)
                snapshot = MappingProxyType(dict(produced))
                running[pool.submit(run_step, step, snapshot)] = step
            if not running:
                raise ValueError(f"steps wait for steps that never run: {waiting}")  # a bad plan
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                produced[running.pop(future).id] = future.result()  # the first failure raises
        return produced
    except BaseException:
        deadline.cancel()
        raise
    finally:
        pool.shutdown(wait=True)


def at_once(calls: Sequence[Callable[[], T]], deadline: Deadline) -> list[T]:
    """Run ``calls`` in worker threads at once; their results in order, or the first failure.

    Every call in a worker thread, even a single one: Ctrl-C then lands in this thread, never
    between a worker's create call and its journal entry. A failure or Ctrl-C cancels
    ``deadline``, so the other calls' waits give up at their next poll, not at the deadline.
    """
    pool = ThreadPoolExecutor(max_workers=max(len(calls), 1))
    try:
        futures = [pool.submit(call) for call in calls]
        wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            if future.done() and (error := future.exception()) is not None:
                raise error
        return [future.result() for future in futures]
    except BaseException:
        deadline.cancel()
        raise
    finally:
        pool.shutdown(wait=True)
