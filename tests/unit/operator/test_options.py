"""`kubectl shortcut operator`'s options: kopf's flag names, one-line refusals, exit code 2."""

from __future__ import annotations

import pytest

from liqoshortcut.core.pathhealth import HealthSettings
from liqoshortcut.errors import ExitCode
from liqoshortcut.operator.handlers import DEFAULT_RESYNC_SECONDS, backoff
from liqoshortcut.operator.main import parse_arguments


def test_the_chart_s_arguments_are_understood() -> None:
    parsed = parse_arguments(
        [
            "--namespace=team-a",
            "--namespace=team-b",
            "--peering=liqo-shortcut",
            "--log-level=debug",
            "--log-format=json",
            "--liveness=http://0.0.0.0:8080/healthz",
        ]
    )
    assert parsed.namespaces == ("team-a", "team-b")
    assert parsed.peering == "liqo-shortcut"
    assert (parsed.log_level, parsed.log_format) == ("debug", "json")
    assert parsed.liveness == "http://0.0.0.0:8080/healthz"


def test_by_default_it_runs_standalone_refuses_exec_plugins_and_resyncs_every_minute() -> None:
    parsed = parse_arguments([])
    assert parsed.peering is None
    assert parsed.namespaces == ()
    assert parsed.options.allow_plugins is False
    assert parsed.options.resync_seconds == DEFAULT_RESYNC_SECONDS == 60
    # traffic: checked every 5 s, stale after three of Liqo's 10 s refreshes, back after 3
    assert parsed.options.health_interval == 5
    assert parsed.options.health == HealthSettings(30, 3, 3)


def test_health_options_reach_the_router_settings() -> None:
    parsed = parse_arguments(["--health-interval=1", "--stale-after=12", "--healthy-checks=2"])
    assert parsed.options.health_interval == 1
    assert parsed.options.health == HealthSettings(
        stale_after=12, healthy_samples=2, faster_samples=2
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--standalone", "--peering=x"], "not allowed with argument"),
        (["--log-level=loud"], "invalid choice: 'loud'"),
        (["--resync=1"], "give at least 2 seconds"),
        (["--health-interval=0.1"], "give at least 0.5 seconds"),
        (["--healthy-checks=0"], "give at least 1 check"),
        (["--stale-after=soon"], "invalid float value: 'soon'"),
        (["--frobnicate"], "unrecognized arguments: --frobnicate"),
    ],
    ids=[
        "standalone and peering",
        "unknown log level",
        "resync too short",
        "health interval too short",
        "no healthy checks",
        "stale-after not a number",
        "unknown flag",
    ],
)
def test_a_bad_option_gets_one_line_and_exit_code_2(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_arguments(args)
    assert exited.value.code == ExitCode.USAGE
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: ")
    assert says in line
    assert line.endswith("(see kubectl shortcut operator --help)")


@pytest.mark.parametrize(("retry", "seconds"), [(0, 5), (1, 10), (3, 40), (6, 300), (50, 300)])
def test_retries_back_off_doubling_up_to_five_minutes(retry: int, seconds: float) -> None:
    assert backoff(retry) == seconds
