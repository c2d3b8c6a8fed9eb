"""Timing helpers shared by the benchmarks: wall time of a command, medians, ratios.

Machines here are noisy, so a benchmark always times its baseline in the same run, interleaved
with what it measures, and reports the ratio; absolute times are context only.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    """Wall times of one command, in seconds."""

    label: str
    seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def ratio_to(self, baseline: Sample) -> float:
        return self.median / baseline.median


def wall_time(argv: Sequence[str], env: Mapping[str, str] | None = None) -> float:
    """Seconds from start to exit of ``argv``; a failing command is an error, not a figure."""
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def interleaved(
    commands: Mapping[str, Sequence[str]],
    runs: int,
    warmup: int = 2,
    env: Mapping[str, str] | None = None,
) -> dict[str, Sample]:
    """Time every command ``runs`` times, round-robin, after ``warmup`` untimed rounds each."""
    for _ in range(warmup):
        for argv in commands.values():
            wall_time(argv, env)
    times: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(runs):
        for label, argv in commands.items():
            times[label].append(wall_time(argv, env))
    return {label: Sample(label, tuple(seconds)) for label, seconds in times.items()}


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"
