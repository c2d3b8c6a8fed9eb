"""`kubectl shortcut operator` without the operator extra says how to install it, in one line."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from importlib.machinery import ModuleSpec

from pytest_mock import MockerFixture

from liqoshortcut.errors import ExitCode
from tests.unit.cli_runner import run_cli

INSTALL_THE_EXTRA = (
    "error: the operator needs kopf, which is installed with the operator extra only: "
    "pip install 'liqo-shortcut[operator]'\n"
)


def without_kopf(mocker: MockerFixture) -> None:
    """``importlib.util.find_spec`` as in an installation without the operator extra."""
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> ModuleSpec | None:
        return None if name == "kopf" else real(name, package)

    mocker.patch.object(importlib.util, "find_spec", side_effect=find_spec)


def test_the_operator_without_kopf_says_to_install_the_extra_and_exits_4(
    mocker: MockerFixture,
) -> None:
    without_kopf(mocker)
    execv = mocker.patch("os.execv")
    result = run_cli("operator", "-n", "shortcuts")
    assert (result.exit_code, result.stdout, result.stderr) == (
        ExitCode.PRECONDITION_FAILED,
        "",
        INSTALL_THE_EXTRA,
    )
    execv.assert_not_called()


def test_the_operator_with_kopf_replaces_the_process_with_its_module(
    mocker: MockerFixture,
) -> None:
    execv = mocker.patch("os.execv")  # returns, where the real one never does
    assert run_cli("operator", "-n", "shortcuts", "--standalone").stderr == ""
    execv.assert_called_once_with(
        sys.executable,
        [sys.executable, "-m", "liqoshortcut.operator", "-n", "shortcuts", "--standalone"],
    )


def test_the_operator_module_run_without_kopf_says_the_same_without_a_traceback() -> None:
    # None in sys.modules makes `import kopf` fail as it does where kopf is not installed.
    program = (
        "import runpy, sys; sys.modules['kopf'] = None; "
        "runpy.run_module('liqoshortcut.operator', run_name='__main__')"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False, timeout=60
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        ExitCode.PRECONDITION_FAILED,
        "",
        INSTALL_THE_EXTRA,
    )
