"""Go durations read as liqoctl and Liqo mean them, whatever else durationpy would take."""

from __future__ import annotations

import pytest

from liqoshortcut.core.durations import seconds


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", 90.0),
        ("2m", 120.0),
        ("1m30s", 90.0),
        ("1h", 3600.0),
        ("1.5m", 90.0),
        ("412μs", 412e-6),  # Greek mu, as Liqo's FormatLatency writes it
        ("412µs", 412e-6),  # the micro sign
        ("3ms", 0.003),
        ("3000ns", 3e-6),  # a timedelta holds whole microseconds: finer is rounded
        (" 90s ", 90.0),
    ],
)
def test_go_durations_read_as_seconds(text: str, expected: float) -> None:
    assert seconds(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    "text", ["N/A", "", None, "90", "1d", "2w", "1y", "-5s", "+5s", "s", "5 s"]
)
def test_what_go_would_not_parse_is_no_duration(text: str | None) -> None:
    assert seconds(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("412μs", 412e-6), ("412µs", 412e-6), ("3ms", 3e-3), ("1.5s", 1.5), ("N/A", None), ("", None)],
)
def test_liqo_latencies_read_as_seconds(text: str, expected: float | None) -> None:
    """As Liqo's gateway writes a Connection's status.latency.value."""
    assert seconds(text) == (pytest.approx(expected) if expected is not None else None)
