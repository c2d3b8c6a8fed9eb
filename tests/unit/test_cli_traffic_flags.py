"""`create`'s traffic flags: a bad selector or combination is one line and exit 2 before any
kubeconfig is read, and good ones reach the spec as the resource's spec.traffic."""

from __future__ import annotations

from typing import Any

import pytest

from liqoshortcut.cli.traffic_flags import (
    AUTO_NEEDS_THE_OPERATOR,
    planned,
    require_imperative,
    traffic_policy,
)
from liqoshortcut.core.selectors import parse
from liqoshortcut.core.traffic import TrafficPolicy
from liqoshortcut.errors import ExitCode, PreconditionFailed, UsageError
from liqoshortcut.workflow import clusters, preflight
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

    monkeypatch.setattr(clusters, "load", lambda *_, **__: None)
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


@pytest.mark.parametrize(
    ("flags", "policy"),
    [
        pytest.param((None, None, None, "direct"), TrafficPolicy(), id="no flag selects nothing"),
        pytest.param(
            ("all", None, None, "hub"),
            TrafficPolicy(services="All", path="Hub"),
            id="all on the hub path",
        ),
        pytest.param(
            (None, "app=web", None, "direct"),
            TrafficPolicy(services="Selected", service_selector=parse("app=web")),
            id="a service selector means Selected",
        ),
        pytest.param(
            (None, None, "team in (shop,cart)", "auto"),
            TrafficPolicy(
                services="Selected", namespace_selector=parse("team in (shop,cart)"), path="Auto"
            ),
            id="a namespace selector means Selected",
        ),
        pytest.param(
            (None, "tier!=db,!legacy", "team=shop", "direct"),
            TrafficPolicy(
                services="Selected",
                service_selector=parse("tier!=db,!legacy"),
                namespace_selector=parse("team=shop"),
            ),
            id="both selectors must match",
        ),
    ],
)
def test_the_flags_read_as_the_resources_traffic_policy(
    flags: tuple[Any, ...], policy: TrafficPolicy
) -> None:
    assert traffic_policy(*flags) == policy


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        pytest.param(
            ("all", "app=web", None),
            "--services all selects every Service and cannot go with --service-selector: "
            "drop --services to select by it",
            id="all with a selector",
        ),
        pytest.param(
            ("none", None, "team=shop"),
            "--services none selects no Service and cannot go with --namespace-selector",
            id="none with a selector",
        ),
        pytest.param(
            (None, "app in ()", None),
            "invalid --service-selector: 'app in ()': in needs at least one value",
            id="an empty set",
        ),
        pytest.param(
            (None, None, "team shop"),
            "invalid --namespace-selector: 'team shop' is no selector requirement",
            id="not a requirement",
        ),
        pytest.param(
            (None, "app=-web-", None),
            "invalid --service-selector: ",
            id="a value kubernetes refuses",
        ),
        pytest.param(
            (None, " ", None),
            "--service-selector is empty: give labels such as app=web",
            id="an empty selector",
        ),
    ],
)
def test_a_bad_selector_or_combination_is_a_usage_error_naming_the_flag(
    flags: tuple[str | None, str | None, str | None], says: str
) -> None:
    services, service_selector, namespace_selector = flags
    with pytest.raises(UsageError) as raised:
        traffic_policy(services, service_selector, namespace_selector, "direct")
    assert str(raised.value).startswith(says)
    assert "\n" not in str(raised.value)


def test_path_auto_is_refused_on_the_imperative_path_naming_the_way_out() -> None:
    with pytest.raises(UsageError) as raised:
        require_imperative(TrafficPolicy(services="All", path="Auto"))
    assert str(raised.value) == AUTO_NEEDS_THE_OPERATOR
    require_imperative(TrafficPolicy(services="All", path="Hub"))  # the rest is allowed


@pytest.mark.parametrize(
    ("policy", "wait", "says"),
    [
        (TrafficPolicy(), True, None),
        (TrafficPolicy(services="All"), True, "then, on central: annotate every offloaded Service"),
        (TrafficPolicy(services="All"), False, "no Service is routed (--no-wait)"),
        (TrafficPolicy(services="All", path="Hub"), True, "stay on the hub path"),
        (TrafficPolicy(services="All", path="Auto"), True, "the operator routes"),
    ],
    ids=["nothing selected", "direct", "no wait", "hub", "auto"],
)
def test_the_dry_run_says_what_the_run_would_do_with_services(
    policy: TrafficPolicy, wait: bool, says: str | None
) -> None:
    said = planned(policy, wait)
    assert said is None if says is None else says in (said or "")
