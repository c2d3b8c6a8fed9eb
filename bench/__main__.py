"""`python -m bench` (`make bench`): run every benchmark, print it, and write results/latest.md."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

from bench import cli_startup

RESULTS = Path(__file__).parent / "results" / "latest.md"


def machine() -> str:
    cpus = os.cpu_count() or 0
    return (
        f"{platform.system()} {platform.machine()}, {cpus} CPUs, Python {platform.python_version()}"
    )


def main() -> None:
    startup = cli_startup.measure()
    print(cli_startup.report(startup))
    table = "\n".join(
        f"| {label} | {median} | {ratio} |" for label, median, ratio in startup.rows()
    )
    RESULTS.write_text(
        f"# Benchmark results\n\n{time.strftime('%Y-%m-%d %H:%M %Z')} on {machine()}. Ratios are "
        "against the baseline timed in the same run; absolute times are context only.\n\n"
        f"## CLI startup (median of {cli_startup.RUNS} runs through kubectl, target ratio <= "
        f"{cli_startup.TARGET_RATIO})\n\n| command | median | ratio to kubectl version |\n"
        f"| --- | --- | --- |\n{table}\n\nImport of `liqoshortcut.cli.app`: "
        f"{startup.import_seconds * 1000:.0f} ms.\n"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
