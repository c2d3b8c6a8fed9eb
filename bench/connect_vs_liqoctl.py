"""Benchmarks 2 and 3: time to a shortcut, and to tear it down, against liqoctl, on the lab.

Each round runs, for each tool in turn, its create and then its own teardown between edge-a and
edge-b: `kubectl shortcut create edge-a edge-b --wait` and `kubectl shortcut delete edge-a edge-b
-y -q --no-wait` (through kubectl, as a user runs them), and `liqoctl network connect --wait` and
`liqoctl network reset` with edge-a local (gateway client) and edge-b remote (gateway server), as
the judge test runs them. Benchmark 2 is the creates, benchmark 3 the teardowns: one loop, so the
two tools alternate in both. Each command's API requests are counted at the three API servers
(`bench.audit`).

Every create starts from the same state, a fresh pair: neither edge holds a tenant namespace for
the other. liqoctl's reset leaves them behind (as real Liqo does), and our create would then
reuse them instead of creating them, so after each run the benchmark deletes any that remain and
waits until they are gone, untimed and under its own User-Agent. Neither teardown waits for its
deletions to finish (liqoctl's reset never does; ours is told so with --no-wait, its default
being to wait as kubectl delete does); ours also deletes the tenant namespaces it created.

The emulator answers as fast as it can (no faults, no latency): these figures are the cost of
orchestration and API round trips, not of a real gateway coming up.
"""

from __future__ import annotations

import argparse
import operator
import os
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from functools import partial
from pathlib import Path

from kubernetes import client
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from bench.audit import AuditLog, Mark, Request, breakdown, requests_of
from lab import build
from lab.cluster import Lab, kubeconfig_path, lab_dir
from lab.emulator.kube import USER_AGENT as EMULATOR_USER_AGENT
from lab.faults import clear_faults
from lab.kubeclient import api_client
from liqoshortcut.core.naming import tenant_namespace

PAIRS = 5
WARMUP_PAIRS = 1  # untimed: the first run of each tool pays for cold caches (imports, pages)
TARGET_TIME_RATIO = 0.6
TIMEOUT = "90s"  # the judge test's budget, given to both tools
COMMAND_TIMEOUT = 300.0  # seconds; a run stuck past both tools' own budgets is a broken lab
FRESH_PAIR_TIMEOUT = 120.0  # seconds for the namespace controller to empty a tenant namespace
EDGE_A, EDGE_B = "edge-a", "edge-b"  # lab contexts; a lab cluster's context is its cluster ID
# User-Agent prefixes: ours is liqo-shortcut/<version> (kube.clients.USER_AGENT); liqoctl sends
# client-go's "liqoctl/<version> (...)". The emulator and this benchmark's own clean-up identify
# themselves, so neither is counted as ours.
OURS_USER_AGENT = "liqo-shortcut/"
LIQOCTL_USER_AGENT = "liqoctl/"
BENCH_USER_AGENT = "liqo-shortcut-bench"
OURS, LIQOCTL = "ours", "liqoctl"


class Phase(Enum):
    CREATE = "create"
    TEARDOWN = "teardown"


TITLES = {
    Phase.CREATE: "Time to a shortcut (benchmark 2)",
    Phase.TEARDOWN: "Teardown time (benchmark 3)",
}
NOTES = {
    Phase.CREATE: (
        "Both start from a fresh pair (no tenant namespace of either edge on the other) and "
        "both create the two tenant namespaces; ours also reads and writes central, which "
        "liqoctl never talks to."
    ),
    Phase.TEARDOWN: (
        "Both ask for the deletions and wait for none of them to finish (ours with --no-wait, "
        "liqoctl's reset always); ours also deletes the two tenant namespaces it created, "
        "which liqoctl's reset leaves (the benchmark removes them afterwards and waits until "
        "the namespace controller is done, untimed)."
    ),
}


@dataclass(frozen=True)
class Tool:
    """One side of the comparison: how it creates and tears down, and how it is recognised."""

    label: str
    user_agent: str
    commands: dict[Phase, tuple[str, ...]]
    shown: dict[Phase, str]  # the command as a person would type it


def tools() -> tuple[Tool, Tool]:
    kubectl = str(build.kube_binaries()["kubectl"])
    kubeconfig = str(kubeconfig_path())
    liqoctl_flags = (
        f"--kubeconfig={kubeconfig}",
        f"--context={EDGE_A}",
        f"--remote-kubeconfig={kubeconfig}",
        f"--remote-context={EDGE_B}",
        f"--timeout={TIMEOUT}",
        "--skip-confirm",
    )
    liqoctl = str(build.liqoctl_binary())
    shortcut, budget = (kubectl, "shortcut"), f"--timeout={TIMEOUT}"
    ours = Tool(
        OURS,
        OURS_USER_AGENT,
        {
            Phase.CREATE: (*shortcut, "create", EDGE_A, EDGE_B, "--wait", budget),
            Phase.TEARDOWN: (*shortcut, "delete", EDGE_A, EDGE_B, "-y", "-q", "--no-wait", budget),
        },
        {
            Phase.CREATE: f"kubectl shortcut create {EDGE_A} {EDGE_B} --wait",
            Phase.TEARDOWN: f"kubectl shortcut delete {EDGE_A} {EDGE_B} -y -q --no-wait",
        },
    )
    reference = Tool(
        LIQOCTL,
        LIQOCTL_USER_AGENT,
        {
            Phase.CREATE: (liqoctl, "network", "connect", "--wait", *liqoctl_flags),
            Phase.TEARDOWN: (liqoctl, "network", "reset", *liqoctl_flags),
        },
        {
            Phase.CREATE: "liqoctl network connect --wait",
            Phase.TEARDOWN: "liqoctl network reset",
        },
    )
    return ours, reference


@dataclass(frozen=True)
class Run:
    """One timed command: wall and CPU time, and the API requests it sent."""

    seconds: float
    cpu_seconds: float  # user + system of the process (kubectl execs the plugin in place)
    requests: tuple[Request, ...]
    first_request: float  # seconds from start to the first request an API server received
    emulator_requests: int  # in the same window: proof the emulator is told apart

    @property
    def request_count(self) -> float:
        return len(self.requests)

    def per_cluster(self, cluster: str) -> float:
        return sum(1 for request in self.requests if request.cluster == cluster)


Metric = Callable[[Run], float]
WALL: Metric = operator.attrgetter("seconds")
CPU: Metric = operator.attrgetter("cpu_seconds")
FIRST_REQUEST: Metric = operator.attrgetter("first_request")
REQUESTS: Metric = operator.attrgetter("request_count")


@dataclass
class Comparison:
    """One benchmark: one phase, both tools, every timed run."""

    phase: Phase
    shown: dict[str, str]
    clusters: tuple[str, ...]
    runs: dict[str, list[Run]] = field(default_factory=lambda: {OURS: [], LIQOCTL: []})

    def median(self, label: str, metric: Metric) -> float:
        return statistics.median(metric(run) for run in self.runs[label])

    def spread(self, label: str) -> tuple[float, float]:
        seconds = [run.seconds for run in self.runs[label]]
        return min(seconds), max(seconds)

    def ratio(self, label: str = OURS) -> float:
        return self.median(label, WALL) / self.median(LIQOCTL, WALL)

    def per_cluster(self, label: str) -> list[float]:
        return [
            self.median(label, partial(Run.per_cluster, cluster=cluster))
            for cluster in self.clusters
        ]

    @property
    def time_ok(self) -> bool:
        return self.ratio() <= TARGET_TIME_RATIO

    @property
    def requests_ok(self) -> bool:
        return self.median(OURS, REQUESTS) <= self.median(LIQOCTL, REQUESTS)

    def mean_breakdown(self, label: str) -> dict[str, float]:
        """Requests per run by verb and resource, averaged (so the rows add up to the mean)."""
        runs = self.runs[label]
        total: Counter[str] = Counter()
        for run in runs:
            total.update(breakdown(run.requests))
        return {kind: count / len(runs) for kind, count in total.items()}

    def breakdown_rows(self) -> list[tuple[str, float, float]]:
        ours, liqoctl = self.mean_breakdown(OURS), self.mean_breakdown(LIQOCTL)
        kinds = sorted(set(ours) | set(liqoctl), key=lambda k: (-ours.get(k, 0.0), k))
        return [(kind, ours.get(kind, 0.0), liqoctl.get(kind, 0.0)) for kind in kinds]


@dataclass
class ConnectResult:
    pairs: int
    warmup: int
    comparisons: dict[Phase, Comparison]
    load: tuple[float, float]  # 1-minute load average before and after: the machine is shared


def measure(pairs: int = PAIRS, warmup: int = WARMUP_PAIRS) -> ConnectResult:
    """Start the lab if needed (and stop it afterwards if so), then run the alternating rounds."""
    lab = Lab()
    started = lab.up()
    try:
        return _measure_on(lab, pairs, warmup)
    finally:
        if started:
            lab.down()


def _measure_on(lab: Lab, pairs: int, warmup: int) -> ConnectResult:
    clear_faults()  # answers at once: no hung or failing step, no pinned latency
    clusters = tuple(spec.name for spec in lab.topology.clusters)
    logs = [AuditLog.in_lab(lab_dir(), cluster) for cluster in clusters]
    admins = {edge: _bench_client(edge) for edge in (EDGE_A, EDGE_B)}
    env = dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        KUBECONFIG=str(kubeconfig_path()),
    )
    both = tools()
    comparisons = {
        phase: Comparison(phase, {tool.label: tool.shown[phase] for tool in both}, clusters)
        for phase in Phase
    }
    load_before = os.getloadavg()[0]
    _start_clean(both, admins, env)
    try:
        for round_number in range(warmup + pairs):
            timed = round_number >= warmup
            name = f"pair {round_number - warmup + 1}" if timed else "warm-up"
            for tool in both:
                for phase in Phase:
                    run = _timed(tool, phase, logs, env)
                    if timed:
                        comparisons[phase].runs[tool.label].append(run)
                    print(
                        f"  {name:<8} {tool.label:<8} {phase.value:<8} {run.seconds:6.2f} s "
                        f"(first request {run.first_request:5.2f} s, CPU {run.cpu_seconds:5.2f} "
                        f"s) {len(run.requests):4d} requests",
                        file=sys.stderr,
                        flush=True,
                    )
                _fresh_pair(admins)
    except BaseException:
        _start_clean(both, admins, env)  # leave the lab as found, whatever broke
        raise
    emulator = sum(
        run.emulator_requests for c in comparisons.values() for r in c.runs.values() for run in r
    )
    if emulator == 0:
        raise RuntimeError(
            "no request from the emulator's User-Agent in any run: this lab's emulator predates "
            f"its {EMULATOR_USER_AGENT!r} header and is counted as ours; restart the lab "
            "(make lab-down lab-up)"
        )
    return ConnectResult(pairs, warmup, comparisons, (load_before, os.getloadavg()[0]))


def _timed(tool: Tool, phase: Phase, logs: Sequence[AuditLog], env: dict[str, str]) -> Run:
    """Run one command; its times and the requests its User-Agent sent while it ran."""
    marks: list[tuple[AuditLog, Mark]] = [(log, log.mark()) for log in logs]
    cpu_before = _children_cpu()
    start = datetime.now(UTC)
    began = time.perf_counter()
    done = subprocess.run(
        tool.commands[phase],
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    seconds = time.perf_counter() - began
    end = datetime.now(UTC)
    cpu_seconds = _children_cpu() - cpu_before
    if done.returncode != 0:
        raise RuntimeError(
            f"{tool.shown[phase]} exited {done.returncode}; a failing run is an error, not a "
            f"figure:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    logged = [request for log, mark in marks for request in log.since(mark)]
    requests = requests_of(logged, tool.user_agent, start, end)
    if not requests:
        raise RuntimeError(
            f"no request from {tool.user_agent!r} in the audit logs during {tool.shown[phase]}: "
            "the tool's User-Agent changed; fix the prefix in bench/connect_vs_liqoctl.py"
        )
    first = min(request.received for request in requests)
    return Run(
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        requests=tuple(requests),
        first_request=(first - start).total_seconds(),
        emulator_requests=len(requests_of(logged, EMULATOR_USER_AGENT, start, end)),
    )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _bench_client(context: str) -> ApiClient:
    api = api_client(context)
    api.user_agent = BENCH_USER_AGENT
    return api


def _fresh_pair(admins: dict[str, ApiClient]) -> None:
    """Delete the tenant namespaces each edge holds for the other, and wait until they are gone.

    A no-op after our teardown (it removes the ones it made); after liqoctl's reset, it removes
    the ones liqoctl made and left, and with them anything else left in them.
    """
    peers = {EDGE_A: EDGE_B, EDGE_B: EDGE_A}
    for edge, peer in peers.items():
        try:
            client.CoreV1Api(admins[edge]).delete_namespace(tenant_namespace(peer))
        except ApiException as error:
            if error.status != 404:
                raise
    deadline = time.monotonic() + FRESH_PAIR_TIMEOUT
    for edge, peer in peers.items():
        while _namespace_exists(admins[edge], tenant_namespace(peer)):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{tenant_namespace(peer)} on {edge} is not going away")
            time.sleep(0.2)


def _namespace_exists(api: ApiClient, name: str) -> bool:
    try:
        client.CoreV1Api(api).read_namespace(name)
    except ApiException as error:
        if error.status == 404:
            return False
        raise
    return True


def _start_clean(both: Sequence[Tool], admins: dict[str, ApiClient], env: dict[str, str]) -> None:
    """Whatever an earlier, interrupted run left: each tool's teardown, then a fresh pair."""
    for tool in both:
        subprocess.run(
            tool.commands[Phase.TEARDOWN],
            env=env,
            capture_output=True,
            timeout=COMMAND_TIMEOUT,
            check=False,  # nothing to tear down is fine
        )
    _fresh_pair(admins)


def _verdict(ok: bool) -> str:
    return "within" if ok else "ABOVE"


def report(result: ConnectResult) -> str:
    lines = [f"1-minute load average {result.load[0]:.1f} before, {result.load[1]:.1f} after"]
    for phase, comparison in result.comparisons.items():
        lines.append(
            f"{TITLES[phase]}: {result.pairs} pairs, alternating, after {result.warmup} warm-up"
        )
        for label in (OURS, LIQOCTL):
            low, high = comparison.spread(label)
            per_cluster = ", ".join(
                f"{cluster} {count:g}"
                for cluster, count in zip(
                    comparison.clusters, comparison.per_cluster(label), strict=True
                )
            )
            lines.append(
                f"  {comparison.shown[label]:<44} median {comparison.median(label, WALL):6.2f} s "
                f"({low:.2f}-{high:.2f}), CPU {comparison.median(label, CPU):.2f} s, first "
                f"request at {comparison.median(label, FIRST_REQUEST):.2f} s, "
                f"{comparison.median(label, REQUESTS):g} requests ({per_cluster})"
            )
        lines.append(
            f"  ratio ours/liqoctl {comparison.ratio():.2f}: {_verdict(comparison.time_ok)} the "
            f"target of {TARGET_TIME_RATIO}; requests {comparison.median(OURS, REQUESTS):g} vs "
            f"{comparison.median(LIQOCTL, REQUESTS):g}: {_verdict(comparison.requests_ok)} "
            "liqoctl's"
        )
        lines.append(f"  {'requests per run by verb and resource (mean)':<60} ours  liqoctl")
        lines.extend(
            f"    {kind:<56} {mine:6.1f} {theirs:8.1f}"
            for kind, mine, theirs in comparison.breakdown_rows()
        )
    return "\n".join(lines)


def markdown(result: ConnectResult) -> str:
    sections: list[str] = []
    for phase, comparison in result.comparisons.items():
        rows = []
        for label in (OURS, LIQOCTL):
            low, high = comparison.spread(label)
            per_cluster = " / ".join(f"{count:g}" for count in comparison.per_cluster(label))
            rows.append(
                f"| `{comparison.shown[label]}` | {comparison.median(label, WALL):.2f} s | "
                f"{low:.2f}-{high:.2f} s | {comparison.ratio(label):.2f} | "
                f"{comparison.median(label, CPU):.2f} s | "
                f"{comparison.median(label, FIRST_REQUEST):.2f} s | "
                f"{comparison.median(label, REQUESTS):g} | {per_cluster} |"
            )
        breakdown_rows = "\n".join(
            f"| {kind} | {mine:.1f} | {theirs:.1f} |"
            for kind, mine, theirs in comparison.breakdown_rows()
        )
        sections.append(
            f"## {TITLES[phase]}\n\n{result.pairs} pairs, alternating, after {result.warmup} "
            f"untimed warm-up pair(s); 1-minute load average {result.load[0]:.1f} before, "
            f"{result.load[1]:.1f} after. {NOTES[phase]}\n\n"
            f"Targets: time ratio <= {TARGET_TIME_RATIO}: {comparison.ratio():.2f}, "
            f"{_verdict(comparison.time_ok).lower()}; API requests no more than liqoctl's: "
            f"{comparison.median(OURS, REQUESTS):g} against "
            f"{comparison.median(LIQOCTL, REQUESTS):g}, {_verdict(comparison.requests_ok).lower()}."
            "\n\n| command | median | min-max | ratio to liqoctl | CPU (median) | first request "
            f"at (median) | API requests (median) | {' / '.join(comparison.clusters)} |\n"
            "| --- | --- | --- | --- | --- | --- | --- | --- |\n"
            + "\n".join(rows)
            + "\n\nRequests per run by verb and resource (mean over the runs):\n\n"
            f"| verb resource | ours | liqoctl |\n| --- | --- | --- |\n{breakdown_rows}\n"
        )
    return "\n".join(sections)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.connect_vs_liqoctl",
        description="Benchmarks 2 and 3 only; prints the figures, writes no results file.",
    )
    parser.add_argument("--pairs", type=int, default=PAIRS, help=f"timed pairs (default {PAIRS})")
    parser.add_argument(
        "--warmup", type=int, default=WARMUP_PAIRS, help=f"untimed pairs (default {WARMUP_PAIRS})"
    )
    args = parser.parse_args(argv)
    print(report(measure(pairs=args.pairs, warmup=args.warmup)))


if __name__ == "__main__":
    main()
