"""Benchmark 1: how long `kubectl shortcut` takes to start, against `kubectl version --client`.

Both run through kubectl, as a user runs them (kubectl finds `kubectl-shortcut` on PATH), so the
ratio is what a person at a terminal feels: the plugin's cost on top of kubectl's own start.
Also reports Python's import time of the CLI module (``-X importtime``), the part this project
controls. Target: the plugin's median at most 4.0 times kubectl's.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.stats import Sample, interleaved, milliseconds
from lab import build

RUNS = 20
TARGET_RATIO = 4.0
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|\s+(\S.*)$")


@dataclass(frozen=True)
class StartupResult:
    samples: dict[str, Sample]
    import_seconds: float

    @property
    def baseline(self) -> Sample:
        return self.samples["kubectl version --client"]

    def rows(self) -> list[tuple[str, str, str]]:
        return [
            (label, milliseconds(sample.median), f"{sample.ratio_to(self.baseline):.2f}")
            for label, sample in self.samples.items()
        ]


def measure(runs: int = RUNS) -> StartupResult:
    kubectl = str(build.kube_binaries()["kubectl"])
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    samples = interleaved(
        {
            "kubectl version --client": [kubectl, "version", "--client"],
            "kubectl shortcut --help": [kubectl, "shortcut", "--help"],
            "kubectl shortcut create --help": [kubectl, "shortcut", "create", "--help"],
        },
        runs=runs,
        env=env,
    )
    return StartupResult(samples, cli_import_seconds())


def cli_import_seconds() -> float:
    """Cumulative import time of liqoshortcut.cli.app, as Python's own -X importtime reports."""
    probe = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import liqoshortcut.cli.app"],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in probe.stderr.splitlines():
        match = _IMPORT_LINE.search(line)
        if match and match.group(3).strip() == "liqoshortcut.cli.app":
            return int(match.group(2)) / 1e6
    raise RuntimeError("liqoshortcut.cli.app not found in the -X importtime report")


def report(result: StartupResult) -> str:
    lines = [f"{label:<32} median {median:>7}  x{ratio}" for label, median, ratio in result.rows()]
    worst = max(s.ratio_to(result.baseline) for s in result.samples.values())
    verdict = "within" if worst <= TARGET_RATIO else "ABOVE"
    lines.append(f"import liqoshortcut.cli.app       {milliseconds(result.import_seconds)}")
    lines.append(f"worst ratio {worst:.2f}: {verdict} the target of {TARGET_RATIO}")
    return "\n".join(lines)


def markdown(result: StartupResult) -> str:
    table = "\n".join(f"| {label} | {median} | {ratio} |" for label, median, ratio in result.rows())
    return (
        f"## CLI startup (benchmark 1: median of {RUNS} runs through kubectl, target ratio <= "
        f"{TARGET_RATIO})\n\n| command | median | ratio to kubectl version |\n"
        f"| --- | --- | --- |\n{table}\n\nImport of `liqoshortcut.cli.app`: "
        f"{result.import_seconds * 1000:.0f} ms.\n"
    )


if __name__ == "__main__":
    print(report(measure()))
