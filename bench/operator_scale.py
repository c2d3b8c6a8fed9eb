"""Benchmark 4: the operator at scale, 100 VirtualNodeShortcuts over pairs of 15 lab edges.

The lab runs here with 15 edges (``LAB_EDGES=15``, in its own directory ``.lab-scale`` so the
default lab is left alone): 16 real control planes, since a logical edge cannot share an API
server with another (a shortcut's ``liqoNamespace`` holds for both its edges, and Liqo keeps one
cluster ID per namespace) and 16 fit in this machine's memory (about 600 MiB each). The emulator
passes every 3 s instead of every second when nothing happens, to leave the 16 API servers some
of the two cores.

The operator runs as a user runs it (`python -m liqoshortcut.operator`, one process, central's
admin kubeconfig, the default 60 s resync), and its baseline is itself: its RSS and CPU before
any shortcut exists. The run applies the shortcuts in one `kubectl apply`, times the last to
become Ready, then keeps 5 minutes of steady state and counts, in all 16 API servers' audit logs,
the requests the operator sent (kopf's User-Agent and the workflow's): reads, and writes, whose
target is zero while nothing changes. Then it deletes them all and times the teardown.
"""

from __future__ import annotations

import base64
import itertools
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from bench.audit import AuditLog, Request, requests_of
from deploy.generate import CRD_FILES
from lab import build
from lab.cluster import REPO_ROOT, Lab, context_kubeconfig, kubeconfig_path, lab_dir
from lab.kubeclient import api_client
from liqoshortcut.core.model import API_GROUP, API_VERSION, KIND, PLURAL

EDGES = 15
SHORTCUTS = 100
STEADY_SECONDS = 300.0
RESYNC_SECONDS = 60  # the operator's default
NAMESPACE = "scale"
# Past these the run reports how far it got: how many were Ready, how many were left.
READY_TIMEOUT = 1200.0
TEARDOWN_TIMEOUT = 900.0
TARGET_RSS_MIB = 150
STOP_GRACE_SECONDS = 30  # a pod's default terminationGracePeriodSeconds
PROGRESS_SECONDS = 60.0  # how often the wait for Ready says how far it got, on stderr
WRITES = ("create", "update", "patch", "delete", "deletecollection")
OPERATOR_USER_AGENTS = ("kopf/", "liqo-shortcut/")
VERSION = API_VERSION.split("/")[1]
HEAVIEST = 6  # kinds of request listed per phase, the most frequent first


@dataclass(frozen=True)
class Phase:
    """One part of the run: how long it took, the operator's CPU in it, its requests."""

    seconds: float
    cpu_seconds: float
    requests: tuple[Request, ...]
    peak_rss_mib: float

    def count(self, writes: bool) -> int:
        return sum((request.verb in WRITES) == writes for request in self.requests)

    def by_kind(self, writes_only: bool = False) -> Counter[str]:
        return Counter(r.kind for r in self.requests if r.verb in WRITES or not writes_only)


@dataclass(frozen=True)
class ScaleResult:
    edges: int
    shortcuts: int
    lab_seconds: float
    lab: str
    idle_rss_mib: float
    idle_cpu_seconds: float
    apply: Phase
    steady: Phase | None  # None when not all became Ready: there was no steady state
    teardown: Phase
    ready_after: tuple[float, ...]  # seconds from the apply to each Ready seen, in order
    left_after_teardown: int  # resources still there when the teardown's time ran out

    @property
    def phases(self) -> tuple[Phase, ...]:
        return tuple(p for p in (self.apply, self.steady, self.teardown) if p is not None)

    @property
    def peak_rss_mib(self) -> float:
        return max(phase.peak_rss_mib for phase in self.phases)

    @property
    def all_ready(self) -> bool:
        return len(self.ready_after) == self.shortcuts

    def ready_share_after(self, share: float) -> float | None:
        """Seconds from the apply until ``share`` of the shortcuts were Ready (None: never)."""
        wanted = max(1, round(share * self.shortcuts))
        return self.ready_after[wanted - 1] if len(self.ready_after) >= wanted else None

    def resync_passes(self, steady: Phase) -> float:
        return self.shortcuts * steady.seconds / RESYNC_SECONDS


@contextmanager
def scale_lab(edges: int) -> Iterator[tuple[Lab, float]]:
    """A lab of ``edges`` edges in its own directory, up for the block, removed after it."""
    saved = {key: os.environ.get(key) for key in ("LAB_DIR", "LAB_EDGES", "LAB_EMULATOR_RESYNC")}
    os.environ.update(
        LAB_DIR=str(REPO_ROOT / ".lab-scale"), LAB_EDGES=str(edges), LAB_EMULATOR_RESYNC="3"
    )
    lab = Lab()
    try:
        began = time.monotonic()
        lab.up()
        yield lab, time.monotonic() - began
    finally:
        lab.down()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def measure(
    edges: int = EDGES, shortcuts: int = SHORTCUTS, steady_seconds: float = STEADY_SECONDS
) -> ScaleResult:
    with scale_lab(edges) as (lab, lab_seconds):
        names = [spec.name for spec in lab.topology.providers]
        pairs = list(itertools.combinations(names, 2))[:shortcuts]
        if len(pairs) < shortcuts:
            raise ValueError(f"{edges} edges make only {len(pairs)} pairs, not {shortcuts}")
        central = api_client("central")
        prepare_namespace(central, names, NAMESPACE)
        logs = [AuditLog.in_lab(lab_dir(), spec.name) for spec in lab.topology.clusters]
        operator = start_operator(NAMESPACE)
        try:
            time.sleep(5)  # kopf logs in, lists the (empty) namespace and starts its watch
            idle_rss, idle_cpu = _rss_mib(operator.pid), _cpu_seconds(operator.pid)
            ready_after: list[float] = []
            apply = _phase(
                logs,
                operator.pid,
                lambda sample: _apply_and_wait(central, pairs, sample, ready_after),
            )
            steady = None
            if len(ready_after) == len(pairs):
                steady = _phase(
                    logs, operator.pid, lambda sample: _sample_for(steady_seconds, sample)
                )
            left: list[int] = []
            teardown = _phase(
                logs, operator.pid, lambda sample: left.append(_delete_all(central, sample))
            )
        finally:
            _stop(operator)
        return ScaleResult(
            edges=edges,
            shortcuts=shortcuts,
            lab_seconds=lab_seconds,
            lab=lab.describe(),
            idle_rss_mib=idle_rss,
            idle_cpu_seconds=idle_cpu,
            apply=apply,
            steady=steady,
            teardown=teardown,
            ready_after=tuple(ready_after),
            left_after_teardown=left[0],
        )


def prepare_namespace(central: client.ApiClient, edges: list[str], namespace: str) -> None:
    """The CRD installed, ``namespace`` made, and each edge's admin kubeconfig in a Secret."""
    kubectl = str(build.kube_binaries()["kubectl"])
    subprocess.run(
        [
            kubectl,
            f"--kubeconfig={kubeconfig_path()}",
            "--context=central",
            "apply",
            "--server-side",
            "-f",
            str(CRD_FILES[0]),
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            kubectl,
            f"--kubeconfig={kubeconfig_path()}",
            "--context=central",
            "wait",
            "--for=condition=Established",
            f"crd/{PLURAL}.{API_GROUP}",
        ],
        check=True,
        capture_output=True,
    )
    core = client.CoreV1Api(central)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    for edge in edges:
        content = yaml.safe_dump(context_kubeconfig(edge)).encode()
        secret = client.V1Secret(
            metadata=client.V1ObjectMeta(name=f"{edge}-kubeconfig"),
            data={"kubeconfig": base64.b64encode(content).decode()},
        )
        core.create_namespaced_secret(namespace, secret)


def _stop(operator: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as Kubernetes stops a pod; SIGKILL if it has not exited within its grace."""
    operator.terminate()
    try:
        operator.wait(STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        operator.kill()
        operator.wait()


def start_operator(namespace: str, *options: str) -> subprocess.Popen[bytes]:
    """The operator as a user runs it, on central's admin kubeconfig, watching ``namespace``."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "liqoshortcut.operator",
            f"--kubeconfig={kubeconfig_path()}",
            "--context=central",
            f"--namespace={namespace}",
            "--log-level=warning",
            *options,
        ],
        stdout=subprocess.DEVNULL,
        stderr=(lab_dir() / "operator.log").open("wb"),
    )


def _resource(first: str, second: str) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": f"{first}--{second}", "namespace": NAMESPACE},
        "spec": {
            "edges": [
                {"name": first, "secretRef": f"{first}-kubeconfig", "clusterID": first},
                {"name": second, "secretRef": f"{second}-kubeconfig", "clusterID": second},
            ],
            "timeout": 600,  # a gateway among 200 may wait for its turn on two busy cores
        },
    }


def _apply_and_wait(
    central: client.ApiClient,
    pairs: list[tuple[str, str]],
    sample: Callable[[], None],
    ready_after: list[float],
) -> None:
    """Apply a shortcut per pair; ``ready_after`` gets, per shortcut, when it was seen Ready,
    until all are or `READY_TIMEOUT` has passed."""
    kubectl = str(build.kube_binaries()["kubectl"])
    documents = yaml.safe_dump_all([_resource(a, b) for a, b in pairs])
    subprocess.run(
        [kubectl, f"--kubeconfig={kubeconfig_path()}", "--context=central", "apply", "-f", "-"],
        input=documents.encode(),
        check=True,
        capture_output=True,
    )
    applied = time.monotonic()
    deadline = applied + READY_TIMEOUT
    told = applied
    while (ready := _ready_count(central)) < len(pairs):
        ready_after.extend([time.monotonic() - applied] * (ready - len(ready_after)))
        if time.monotonic() - told >= PROGRESS_SECONDS:
            told = time.monotonic()
            print(
                f"bench: {ready} of {len(pairs)} Ready after {told - applied:.0f} s",
                file=sys.stderr,
            )
        if time.monotonic() > deadline:
            return
        sample()
        time.sleep(2)
    ready_after.extend([time.monotonic() - applied] * (len(pairs) - len(ready_after)))


def _ready_count(central: client.ApiClient) -> int:
    listed: dict[str, Any] = client.CustomObjectsApi(central).list_namespaced_custom_object(
        API_GROUP, VERSION, NAMESPACE, PLURAL
    )  # type: ignore[assignment]
    return sum(
        any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in (item.get("status") or {}).get("conditions") or []
        )
        for item in listed["items"]
    )


def _delete_all(central: client.ApiClient, sample: Callable[[], None]) -> int:
    """Delete every shortcut; how many are still there after `TEARDOWN_TIMEOUT` (0: all gone)."""
    custom = client.CustomObjectsApi(central)
    deadline = time.monotonic() + TEARDOWN_TIMEOUT
    while True:
        try:
            custom.delete_collection_namespaced_custom_object(API_GROUP, VERSION, NAMESPACE, PLURAL)
            break
        except client.ApiException as error:
            # A loaded API server may time the collection out (504) midway: ask again.
            if error.status not in (500, 504) or time.monotonic() > deadline:
                raise
    while left := len(
        custom.list_namespaced_custom_object(API_GROUP, VERSION, NAMESPACE, PLURAL)["items"]  # type: ignore[index]
    ):
        if time.monotonic() > deadline:
            return int(left)
        sample()
        time.sleep(2)
    return 0


def _phase(logs: list[AuditLog], pid: int, run: Callable[[Callable[[], None]], None]) -> Phase:
    """Run ``run``, which calls the sampler it is given now and then (the operator's RSS)."""
    marks = [(log, log.mark()) for log in logs]
    cpu_before = _cpu_seconds(pid)
    samples = [_rss_mib(pid)]
    start = datetime.now(UTC)
    began = time.monotonic()
    run(lambda: samples.append(_rss_mib(pid)))
    seconds = time.monotonic() - began
    end = datetime.now(UTC)
    samples.append(_rss_mib(pid))
    logged = [request for log, mark in marks for request in log.since(mark)]
    requests = [r for agent in OPERATOR_USER_AGENTS for r in requests_of(logged, agent, start, end)]
    return Phase(seconds, _cpu_seconds(pid) - cpu_before, tuple(requests), max(samples))


def _sample_for(seconds: float, sample: Callable[[], None]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sample()
        time.sleep(5)


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"process {pid} has no VmRSS")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


def markdown(result: ScaleResult) -> str:
    rows = [
        ("apply to all Ready" if result.all_ready else "apply until the time ran out", result.apply)
    ]
    if result.steady is not None:
        rows.append((f"steady state ({result.steady.seconds / 60:.0f} min)", result.steady))
    gone = (
        "delete to all gone" if not result.left_after_teardown else "delete until the time ran out"
    )
    rows.append((gone, result.teardown))
    rss_met = "met" if result.peak_rss_mib <= TARGET_RSS_MIB else "missed"
    lines = [
        f"## Operator at scale (benchmark 4: {result.shortcuts} VirtualNodeShortcuts over pairs "
        f"of {result.edges} edges)",
        "",
        f"Lab of {result.edges + 1} control planes up in {result.lab_seconds:.0f} s "
        f"({result.lab}). "
        f"The operator's own baseline, before any shortcut: {result.idle_rss_mib:.0f} MiB RSS, "
        f"{result.idle_cpu_seconds:.1f} s CPU since start.",
        "",
        f"Targets: writes per resync pass 0: {_steady_writes(result)}; RSS <= {TARGET_RSS_MIB} "
        f"MiB: peak {result.peak_rss_mib:.0f} MiB "
        f"({result.peak_rss_mib / result.idle_rss_mib:.2f}x the idle operator), {rss_met}.",
        "",
        f"Ready after the apply (a poll every 2 s): {_timeline(result)}.",
    ]
    if result.left_after_teardown:
        lines += [
            "",
            f"{result.left_after_teardown} of {result.shortcuts} resources were still there "
            f"{TEARDOWN_TIMEOUT:.0f} s after the delete.",
        ]
    lines += [
        "",
        "| phase | wall | operator CPU | operator RSS peak | requests | of which writes |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label, phase in rows:
        lines.append(
            f"| {label} | {phase.seconds:.1f} s | {phase.cpu_seconds:.1f} s | "
            f"{phase.peak_rss_mib:.0f} MiB | {len(phase.requests)} | "
            f"{phase.count(writes=True)} |"
        )
    if result.steady is not None and result.steady.count(writes=True):
        lines += ["", "Writes in steady state by verb and resource:", ""]
        lines += [
            f"- {kind}: {count}"
            for kind, count in result.steady.by_kind(writes_only=True).most_common()
        ]
    for label, phase in rows:
        heaviest = ", ".join(f"{kind} {n}" for kind, n in phase.by_kind().most_common(HEAVIEST))
        lines += ["", f"The {HEAVIEST} heaviest kinds of request, {label}: {heaviest}."]
    return "\n".join(lines) + "\n"


def _steady_writes(result: ScaleResult) -> str:
    if result.steady is None:
        return "not measured (not every shortcut became Ready, so there was no steady state)"
    writes = result.steady.count(writes=True)
    passes = result.resync_passes(result.steady)
    return (
        f"{writes / passes:.3f} ({writes} writes over {passes:.0f} passes), "
        f"{'met' if writes == 0 else 'missed'}"
    )


def _timeline(result: ScaleResult) -> str:
    if not result.ready_after:
        return f"none within {READY_TIMEOUT:.0f} s"
    moments = [("the first", 1 / result.shortcuts), ("half", 0.5), ("90%", 0.9), ("all", 1.0)]
    reached = [
        f"{label} at {seconds:.0f} s"
        for label, share in moments
        if (seconds := result.ready_share_after(share)) is not None
    ]
    if not result.all_ready:
        reached.append(
            f"{len(result.ready_after)} of {result.shortcuts} within {READY_TIMEOUT:.0f} s"
        )
    return ", ".join(reached)


def main() -> None:
    print(markdown(measure()))


if __name__ == "__main__":
    main()
