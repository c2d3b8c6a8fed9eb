from __future__ import annotations

import re

import pytest

from liqoshortcut.cli import version
from liqoshortcut.errors import (
    ExitCode,
    Interrupted,
    PreconditionFailed,
    RollbackIncomplete,
    ShortcutError,
    Unreported,
    UsageError,
    WorkflowFailed,
    exit_code_for,
)
from tests.unit.cli_runner import run_cli


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (WorkflowFailed("gateway never got an endpoint"), 1),
        (UsageError("edge-a given twice"), 2),
        (RollbackIncomplete("GatewayServer edge-b/x left behind"), 3),
        (PreconditionFailed("context edge-c not in kubeconfig"), 4),
        (Interrupted("interrupted"), 130),
        (Unreported("shortcut edge-a--edge-b connected, but its output could not be written"), 5),
        (ShortcutError("any other domain failure"), 1),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, ShortcutError) else str(value),
)
def test_every_domain_error_ends_the_run_with_its_documented_exit_code(
    error: ShortcutError, code: int
) -> None:
    assert exit_code_for(error) == code


def test_a_subclass_of_a_domain_error_keeps_its_parents_exit_code() -> None:
    class ServerNeverReady(WorkflowFailed):
        pass

    assert exit_code_for(ServerNeverReady("...")) is ExitCode.FAILED


def test_exit_codes_are_the_documented_stable_numbers() -> None:
    assert {code.name: code.value for code in ExitCode} == {
        "SUCCESS": 0,
        "FAILED": 1,
        "USAGE": 2,
        "ROLLBACK_INCOMPLETE": 3,
        "PRECONDITION_FAILED": 4,
        "UNREPORTED": 5,
        "UNEXPECTED": 70,
        "INTERRUPTED": 130,
    }


@pytest.fixture
def version_fails_with_a_precondition(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: object, **__: object) -> None:
        raise PreconditionFailed("edge-a runs Liqo v1.1; direct connections need v1.2 or later")

    monkeypatch.setattr(version, "write_data", fail)


@pytest.mark.usefixtures("version_fails_with_a_precondition")
def test_a_domain_error_is_one_line_on_stderr_with_its_exit_code() -> None:
    result = run_cli("version")

    assert result.exit_code == 4
    assert result.stdout == ""
    assert result.stderr == (
        "error: edge-a runs Liqo v1.1; direct connections need v1.2 or later\n"
    )


@pytest.mark.usefixtures("version_fails_with_a_precondition")
def test_verbose_adds_the_stack_trace_above_the_error_line() -> None:
    result = run_cli("-v", "version")

    assert result.exit_code == 4
    assert result.stderr.startswith("Traceback (most recent call last):\n")
    assert re.search(r"PreconditionFailed: edge-a runs Liqo v1\.1", result.stderr)
    assert result.stderr.endswith(
        "\nerror: edge-a runs Liqo v1.1; direct connections need v1.2 or later\n"
    )


def test_ctrl_c_outside_the_workflow_is_one_line_and_exit_code_130(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(version, "write_data", interrupted)
    result = run_cli("version")
    assert result.exit_code == 130
    assert result.stderr == "error: interrupted before any change\n"


@pytest.fixture
def version_has_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: object, **__: object) -> None:
        raise RuntimeError("Cannot shutdown as connection has already been released to the pool")

    monkeypatch.setattr(version, "write_data", fail)


@pytest.mark.usefixtures("version_has_a_bug")
def test_an_unexpected_error_outside_a_run_is_one_line_and_claims_no_rollback() -> None:
    result = run_cli("version")

    assert result.exit_code == ExitCode.UNEXPECTED
    assert ExitCode.UNEXPECTED.meaning.endswith("nothing was rolled back")
    assert result.stderr == (
        "error: unexpected RuntimeError: Cannot shutdown as connection has already been released "
        "to the pool; nothing was rolled back (-v shows where it came from)\n"
    )


@pytest.mark.usefixtures("version_has_a_bug")
def test_verbose_shows_where_an_unexpected_error_came_from() -> None:
    result = run_cli("-v", "version")

    assert result.exit_code == ExitCode.UNEXPECTED
    assert result.stderr.startswith("Traceback (most recent call last):\n")
    assert "RuntimeError: Cannot shutdown as connection" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: unexpected RuntimeError: ")
