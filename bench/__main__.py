"""`python -m bench` (`make bench`): run every benchmark, print it, and write results/latest.md.

``--only startup|connect|scale|traffic`` runs one benchmark module and prints it without writing
the results file (a partial run would replace the others' figures); ``--skip scale`` runs the
others and writes the file saying benchmark 4 was not run (it needs its own 16-plane lab and
about half an hour); ``--pairs`` sets the number of timed create/teardown pairs of benchmarks 2
and 3.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from bench import cli_startup, connect_vs_liqoctl, operator_scale, traffic_switch

RESULTS = Path(__file__).parent / "results" / "latest.md"


def machine() -> str:
    cpus = os.cpu_count() or 0
    return (
        f"{platform.system()} {platform.machine()}, {cpus} CPUs, Python {platform.python_version()}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--only",
        choices=("startup", "connect", "scale", "traffic"),
        help="run one benchmark module",
    )
    parser.add_argument(
        "--skip",
        choices=("scale",),
        help="run every benchmark but this one, and say so in the results file",
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=connect_vs_liqoctl.PAIRS,
        help=f"timed pairs of benchmarks 2 and 3 (default {connect_vs_liqoctl.PAIRS})",
    )
    args = parser.parse_args(argv)
    sections: list[str] = []
    if args.only in (None, "startup"):
        startup = cli_startup.measure()
        print(cli_startup.report(startup))
        sections.append(cli_startup.markdown(startup))
    if args.only in (None, "connect"):
        connect = connect_vs_liqoctl.measure(pairs=args.pairs)
        print(connect_vs_liqoctl.report(connect))
        sections.append(connect_vs_liqoctl.markdown(connect))
    if args.only in (None, "traffic"):
        switches = traffic_switch.markdown(traffic_switch.measure())
        print(switches)
        sections.append(switches)
    if args.only in (None, "scale") and args.skip != "scale":
        scale = operator_scale.markdown(operator_scale.measure())
        print(scale)
        sections.append(scale)
    elif args.skip == "scale":
        sections.append(
            "## Operator at scale (benchmark 4)\n\nNot run this time (`--skip scale`); see "
            "docs/benchmarks.md for its last figures.\n"
        )
    if args.only is not None:
        print(f"--only {args.only}: {RESULTS} left as it was")
        return
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        f"# Benchmark results\n\n{time.strftime('%Y-%m-%d %H:%M %Z')} on {machine()}. Ratios are "
        "against the baseline timed in the same run; absolute times are context only. How to run "
        "them and what they mean: [docs/benchmarks.md](../../docs/benchmarks.md).\n\n"
        + "\n".join(sections)
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
