"""Benchmark 5's table: medians, spreads and ratios against the interval and the hysteresis."""

from __future__ import annotations

from bench.traffic_switch import SwitchResult, markdown


def test_the_table_reports_each_moment_against_its_bound() -> None:
    table = markdown(
        SwitchResult(
            liqo_error=(0.5, 0.7, 0.6),
            fallback=(2.0, 5.0, 4.0),
            liqo_healed=(1.0, 1.2, 1.1),
            back=(10.0, 16.0, 12.0),
        )
    )
    assert "benchmark 5: 3 drop-and-heal cycles, health interval 5 s" in table
    assert (
        "| Connection Error -> Service on the hub (fallback) | 4.00 s | 2.00-5.00 s"
        " | health interval 5 s | 0.80 |" in table
    )
    assert (
        "| Connection Connected -> Service direct again (return) | 12.00 s | 10.00-16.00 s"
        " | hysteresis 15 s | 0.80 |" in table
    )
    assert "| fault -> Connection Error (Liqo, baseline) | 0.60 s | 0.50-0.70 s | - | - |" in table
