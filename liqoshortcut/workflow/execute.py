"""Runs a plan wave by wave: the steps of one wave at once, the next wave only when all are done.

Kept apart from what a step does on a cluster (`steps`), so that ordering, concurrency and
cancellation are one small piece of code, tested with fake steps. The first failure, or Ctrl-C,
cancels the run's shared `Deadline`, so the other steps' waits stop at their next poll instead of
at the deadline; no later wave starts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from functools import partial
from types import MappingProxyType
from typing import TypeVar

from liqoshortcut.core.plan import Outputs, Plan, Step
from liqoshortcut.workflow.waiting import Deadline

T = TypeVar("T")
# Runs one step, given what the steps before it produced (by step id); returns what it produced.
StepRunner = Callable[[Step, Mapping[str, Outputs]], Outputs]


def execute(plan: Plan, run_step: StepRunner, deadline: Deadline) -> dict[str, Outputs]:
    """Run every step of ``plan``; returns each step's outputs by step id."""
    produced: dict[str, Outputs] = {}
    for wave in plan.waves():
        outputs = _run_wave(wave, run_step, MappingProxyType(produced), deadline)
        produced.update(zip((step.id for step in wave), outputs, strict=True))
    return produced


def _run_wave(
    wave: tuple[Step, ...],
    run_step: StepRunner,
    produced: Mapping[str, Outputs],
    deadline: Deadline,
) -> list[Outputs]:
    return at_once([partial(run_step, step, produced) for step in wave], deadline)


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
