"""`python -m bench` (`make bench`): run every benchmark, print it, and write results/latest.md.

``--only startup|connect|scale|traffic`` runs one benchmark module and prints it without writing
the results file (a partial run would replace the others' figures), except that ``--only scale``
keeps its section in results/operator-scale.md: benchmark 4 needs its own 16-plane lab and most
of an hour, so it is usually run alone. ``--skip scale`` runs the others and writes the results
file with benchmark 4's section from that file, saying when it was run. ``--pairs`` sets the
number of timed create/teardown pairs of benchmarks 2 and 3.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from bench import cli_startup, connect_vs_liqoctl, operator_scale, traffic_switch

RESULTS = Path(__file__).parent / "results" / "latest.md"
SCALE_RESULTS = RESULTS.with_name("operator-scale.md")  # benchmark 4's own run


def machine() -> str:
    cpus = os.cpu_count() or 0
    return (
        f"{platform.system()} {platform.machine()}, {cpus} CPUs, Python {platform.python_version()}"
    )


def stamp() -> str:
    return time.strftime("%Y-%m-%d %H:%M %Z")


def _scale_run_alone() -> str:
    """Benchmark 4's section as its own run (``--only scale``) wrote it, said to be that run's."""
    if not SCALE_RESULTS.exists():
        return "## Operator at scale (benchmark 4)\n\nNot run (`--skip scale`), nor alone yet.\n"
    when, _, section = SCALE_RESULTS.read_text().partition("\n")
    heading, _, body = section.partition("\n")
    run = when.removeprefix("<!-- ").removesuffix(" -->")
    return f"{heading}\n\nNot run with the others (`--skip scale`): its own run, {run}.\n{body}"


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
        if args.only == "scale":
            SCALE_RESULTS.write_text(f"<!-- {stamp()} on {machine()} -->\n{scale}")
            print(f"wrote {SCALE_RESULTS}")
    elif args.skip == "scale":
        sections.append(_scale_run_alone())
    if args.only is not None:
        print(f"--only {args.only}: {RESULTS} left as it was")
        return
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        f"# Benchmark results\n\n{stamp()} on {machine()}. Ratios are "
        "against the baseline timed in the same run; absolute times are context only. How to run "
        "them and what they mean: [docs/benchmarks.md](../../docs/benchmarks.md).\n\n"
        + "\n".join(sections)
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
