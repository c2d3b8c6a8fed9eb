from __future__ import annotations

import json

import yaml

from liqoshortcut import __version__
from tests.unit.cli_runner import run_cli


def test_version_prints_the_package_name_and_version_on_stdout() -> None:
    result = run_cli("version")

    assert result.exit_code == 0
    assert result.stdout == f"liqo-shortcut {__version__}\n"
    assert result.stderr == ""


def test_version_as_json_is_an_object_with_the_version() -> None:
    result = run_cli("version", "-o", "json")

    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"version": __version__}


def test_version_as_yaml_is_a_mapping_with_the_version() -> None:
    result = run_cli("version", "--output", "yaml")

    assert result.exit_code == 0
    assert yaml.safe_load(result.stdout) == {"version": __version__}


def test_an_unknown_output_format_is_a_usage_error_that_prints_nothing_on_stdout() -> None:
    result = run_cli("version", "-o", "xml")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "'xml' is not one of" in result.stderr
