"""The router's loop outlives a failing round: Services must never be left on a dead path."""

from __future__ import annotations

import threading

from pytest_mock import MockerFixture

from liqoshortcut.errors import PreconditionFailed
from liqoshortcut.operator.router import Router


def test_a_failing_round_does_not_stop_the_next_ones(mocker: MockerFixture) -> None:
    stop = threading.Event()
    outcomes: list[BaseException | None] = [
        PreconditionFailed("central unreachable"),
        KeyError("status"),
        None,
    ]

    def round_(*_: object, **__: object) -> None:
        outcome = outcomes.pop(0)
        if not outcomes:
            stop.set()
        if outcome is not None:
            raise outcome

    router = Router(mocker.Mock(), ("shop",), interval=0.01)
    mocker.patch.object(Router, "round", side_effect=round_)
    router.run(stop)
    assert outcomes == []  # all three rounds ran
