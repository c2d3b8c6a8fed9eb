"""kubectl runs the plugin for every `kubectl shortcut --help`: keep heavy imports out of it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Each costs tens to hundreds of milliseconds; commands that need them import them inside.
HEAVY_MODULES = [
    "kubernetes",
    "kopf",
    "yaml",
    "pydantic",
    "rich",
    "rich.markdown",
    "rich.traceback",
]

PROBE = """
import io, json, sys
from liqoshortcut.cli.app import run
from liqoshortcut.cli.environment import Environment
exit_code = run(sys.argv[2:], Environment(io.StringIO(), io.StringIO(), False, True))
loaded = [name for name in json.loads(sys.argv[1]) if name in sys.modules]
print(json.dumps({"exit_code": exit_code, "loaded": loaded}))
"""


def heavy_modules_loaded_by(*args: str) -> dict[str, object]:
    """Run `kubectl shortcut ARGS` in a fresh interpreter; its exit code and the heavy modules."""
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(HEAVY_MODULES), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(probe.stdout)
    return result


def test_top_level_help_imports_none_of_the_heavy_libraries() -> None:
    assert heavy_modules_loaded_by("--help") == {"exit_code": 0, "loaded": []}


@pytest.mark.parametrize("command", ["create", "delete", "list", "version", "completion"])
def test_command_help_imports_none_of_the_heavy_libraries(command: str) -> None:
    assert heavy_modules_loaded_by(command, "--help") == {"exit_code": 0, "loaded": []}
