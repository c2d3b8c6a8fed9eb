"""`create`'s traffic flags: a bad selector or combination is one line and exit 2 before any
kubeconfig is read, and good ones reach the spec as the resource's spec.traffic."""

from __future__ import annotations

from typing import Any

import pytest

from liqoshortcut.core.selectors import parse
from liqoshortcut.core.traffic import TrafficPolicy
from liqoshortcut.errors import ExitCode, PreconditionFailed
from liqoshortcut.kube import kubeconfig
from liqoshortcut.workflow import preflight
from liqoshortcut.workflow.routing import AUTO_NEEDS_THE_OPERATOR
from tests.unit.cli_runner import run_cli

# Reading it fails with exit 4: a flag refused with exit 2 was refused before it was read.
NO_KUBECONFIG = ("--kubeconfig", "/nonexistent/kubeconfig")


def create(*flags: str) -> tuple[int, str, str]:
    result = run_cli("create", "edge-a", "edge-b", *NO_KUBECONFIG, *flags)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        pytest.param(
            ["--services", "all", "--service-selector", "app=web"],
            "error: --services all selects every Service and cannot go with --service-selector",
            id="all with a service selector",
        ),
        pytest.param(
            ["--services", "none", "--namespace-selector", "team=shop"],
            "error: --services none selects no Service and cannot go with --namespace-selector",
            id="none with a namespace selector",
        ),
        pytest.param(
            ["--service-selector", "app in (web"],
            "error: invalid --service-selector: 'app in (web' is no selector requirement",
            id="an unclosed set",
        ),
        pytest.param(
            ["--namespace-selector", "team==shop,team=cart"],
            "error: invalid --namespace-selector: 'team=cart': team is already required",
            id="two values for one key",
        ),
        pytest.param(
            ["--service-selector", ""],
            "error: --service-selector is empty",
            id="an empty selector",
        ),
        pytest.param(
            ["--services", "all", "--path", "auto"],
            f"error: {AUTO_NEEDS_THE_OPERATOR}",
            id="auto without the dry run",
        ),
        pytest.param(
            ["--services", "some"],
            "error: Invalid value for '--services'",
            id="an unknown services value",
        ),
        pytest.param(
            ["--path", "fastest"],
            "error: Invalid value for '--path'",
            id="an unknown path",
        ),
    ],
)
def test_a_bad_traffic_flag_is_one_line_and_the_usage_exit_code_before_anything_is_read(
    flags: list[str], says: str
) -> None:
    code, stdout, stderr = create(*flags)
    assert code == ExitCode.USAGE, stderr
    assert stdout == ""
    assert stderr.startswith(says), stderr
    assert stderr.count("\n") == 1


@pytest.mark.parametrize(
    "flags",
    [
        ["--services", "all", "--path", "auto", "--dry-run=client"],
        ["--services", "ALL", "--path", "Hub"],
        ["--service-selector", "app=web", "--no-wait"],
    ],
    ids=["auto in a dry run", "any case", "selector without waiting"],
)
def test_good_traffic_flags_get_as_far_as_reading_the_kubeconfig(flags: list[str]) -> None:
    code, _, stderr = create(*flags)
    assert code == ExitCode.PRECONDITION_FAILED, stderr
    assert "/nonexistent/kubeconfig" in stderr


@pytest.fixture
def prepared(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What `create` hands `prepare`; the run stops there."""
    seen: dict[str, Any] = {}

    def prepare(*_: Any, **arguments: Any) -> None:
        seen.update(arguments)
        raise PreconditionFailed("stopped by the test")

    monkeypatch.setattr(kubeconfig, "load_kubeconfig", lambda *_, **__: None)
    monkeypatch.setattr(preflight, "prepare", prepare)
    return seen


@pytest.mark.parametrize(
    ("flags", "policy"),
    [
        ([], TrafficPolicy()),
        (["--services", "all"], TrafficPolicy(services="All")),
        (
            ["--namespace-selector", "team=shop", "--service-selector", "tier in (web,api)"],
            TrafficPolicy(
                services="Selected",
                namespace_selector=parse("team=shop"),
                service_selector=parse("tier in (web,api)"),
            ),
        ),
        (
            ["--services", "all", "--path", "auto", "--dry-run=client"],
            TrafficPolicy(services="All", path="Auto"),
        ),
    ],
    ids=["defaults select nothing", "all", "both selectors", "auto for the dry run"],
)
def test_the_flags_reach_the_spec_as_its_traffic_policy(
    prepared: dict[str, Any], flags: list[str], policy: TrafficPolicy
) -> None:
    code, _, stderr = create(*flags)
    assert stderr == "error: stopped by the test\n"
    assert code == ExitCode.PRECONDITION_FAILED
    assert prepared["traffic"] == policy


def test_create_help_lists_the_traffic_flags() -> None:
    result = run_cli("create", "--help")
    for flag in ("--services", "--service-selector", "--namespace-selector", "--path"):
        assert flag in result.stdout
