"""Benchmark 4's summary: the two targets judged, the Ready timeline, each phase's figures."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench import __main__ as bench_main
from bench.audit import Request
from bench.operator_scale import Phase, ScaleResult, markdown

AT = datetime(2026, 12, 2, tzinfo=UTC)


def request(verb: str, resource: str) -> Request:
    return Request("edge-1", f"{verb}-{resource}", verb, resource, "liqo-shortcut/0.1", AT)


def result(
    steady_requests: tuple[Request, ...],
    steady_rss: float,
    ready_after: tuple[float, ...] = (8.0, 10.0, 30.0, 40.0),
    left: int = 0,
) -> ScaleResult:
    return ScaleResult(
        edges=4,
        shortcuts=4,
        lab_seconds=30.0,
        lab="5 planes",
        idle_rss_mib=60.0,
        idle_cpu_seconds=1.0,
        apply=Phase(40.0, 12.0, (request("create", "gatewayservers"),), 90.0),
        steady=Phase(300.0, 6.0, steady_requests, steady_rss) if len(ready_after) == 4 else None,
        teardown=Phase(20.0, 3.0, (request("delete", "gatewayservers"),), 100.0),
        ready_after=ready_after,
        left_after_teardown=left,
    )


def test_a_steady_state_of_reads_meets_both_targets() -> None:
    table = markdown(result((request("get", "connections"),) * 3, steady_rss=95.0))
    assert "writes per resync pass 0: 0.000 (0 writes over 20 passes), met" in table
    assert "RSS <= 150 MiB: peak 100 MiB (1.67x the idle operator), met" in table
    assert "the first at 8 s, half at 10 s, 90% at 40 s, all at 40 s" in table
    assert "| steady state (5 min) | 300.0 s | 6.0 s | 95 MiB | 3 | 0 |" in table
    assert "| delete to all gone | 20.0 s | 3.0 s | 100 MiB | 1 | 1 |" in table
    assert "Writes in steady state" not in table
    assert "heaviest kinds of request, steady state (5 min): get connections 3." in table


def test_writes_in_steady_state_and_a_large_peak_are_missed_and_listed() -> None:
    table = markdown(result((request("patch", "virtualnodeshortcuts/status"),) * 2, 160.0))
    assert "writes per resync pass 0: 0.100 (2 writes over 20 passes), missed" in table
    assert "peak 160 MiB (2.67x the idle operator), missed" in table
    assert "- patch virtualnodeshortcuts/status: 2" in table


def test_a_run_that_ran_out_of_time_says_how_far_it_got() -> None:
    table = markdown(result((), steady_rss=0.0, ready_after=(50.0, 70.0), left=1))
    assert "writes per resync pass 0: not measured (not every shortcut became Ready" in table
    assert "the first at 50 s, half at 70 s, 2 of 4 within 1200 s" in table
    assert "1 of 4 resources were still there 900 s after the delete" in table
    assert "| apply until the time ran out | 40.0 s |" in table
    assert "| delete until the time ran out | 20.0 s |" in table
    assert "| steady state" not in table


def test_the_results_file_takes_benchmark_4_from_its_own_run_saying_when(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = tmp_path / "operator-scale.md"
    monkeypatch.setattr(bench_main, "SCALE_RESULTS", kept)
    assert "nor alone yet" in bench_main._scale_run_alone()
    kept.write_text("<!-- 2026-12-02 15:00 UTC on 2 CPUs -->\n## Operator at scale\n\nfigures\n")
    assert bench_main._scale_run_alone() == (
        "## Operator at scale\n\nNot run with the others (`--skip scale`): its own run, "
        "2026-12-02 15:00 UTC on 2 CPUs.\n\nfigures\n"
    )
