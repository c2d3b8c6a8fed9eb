"""`make demo`: what liqo-shortcut does, run for real on the lab, each command printed first.

The imperative path (`kubectl shortcut create`, `list`, `delete`) and then the declarative one (a
VirtualNodeShortcut applied from the dry run's YAML, the operator making it Ready, a delete
tearing it down). Everything runs through kubectl's plugin discovery as a user would run it; the
lab stays up afterwards, with no shortcut left on it, for a look around.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import yaml

from deploy.generate import CRD_FILES
from lab import build
from lab.cluster import context_kubeconfig, kubeconfig_path

NAMESPACE = "shortcuts"  # where the demo's VirtualNodeShortcut and its Secrets live
SHORTCUT = "edge-a--edge-b"
EDGES = ("edge-a", "edge-b")


def _environment() -> dict[str, str]:
    venv = str(Path(sys.executable).parent)
    return dict(
        os.environ,
        PATH=f"{venv}{os.pathsep}{os.environ['PATH']}",
        KUBECONFIG=str(kubeconfig_path()),
    )


def _kubectl() -> str:
    return str(build.kube_binaries()["kubectl"])


def run(*argv: str, stdin: str | None = None, check: bool = True) -> str:
    """Print ``kubectl ARGV`` as typed, run it, show its output; return its stdout."""
    shown = " ".join(shlex.quote(arg) for arg in argv)
    print(f"\n$ kubectl {shown}", flush=True)
    result = subprocess.run(
        [_kubectl(), *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=_environment(),
        check=False,
    )
    sys.stdout.write(result.stderr)  # progress first, as a terminal shows it
    sys.stdout.write(result.stdout)
    sys.stdout.flush()
    if check and result.returncode != 0:
        raise SystemExit(f"demo: `kubectl {shown}` exited {result.returncode}")
    return result.stdout


def imperative() -> None:
    print(
        "\n# 1. From the central cluster, connect two edges directly (what liqoctl network "
        "connect does between them)"
    )
    run("config", "get-contexts")
    run("shortcut", "create", "edge-a", "edge-b", "--dry-run=client")
    run("shortcut", "create", "edge-a", "edge-b")
    run("shortcut", "list")
    for edge in EDGES:
        run("--context", edge, "get", "connections.networking.liqo.io", "-A")
    run("shortcut", "delete", "edge-a", "edge-b", "-y")


def declarative() -> None:
    print("\n# 2. The same shortcut declaratively: a VirtualNodeShortcut and the operator")
    run("apply", "--server-side", "-f", str(CRD_FILES[0]))
    run("wait", "--for=condition=Established", "crd/virtualnodeshortcuts.shortcut.liqo.io")
    existing = run("get", "namespace", NAMESPACE, "--ignore-not-found", "-o", "name")
    if not existing:
        run("create", "namespace", NAMESPACE)
    for edge in EDGES:
        secret = run(
            "create",
            "secret",
            "generic",
            f"{edge}-kubeconfig",
            "-n",
            NAMESPACE,
            "--from-file=kubeconfig=/dev/stdin",
            "--dry-run=client",
            "-o",
            "yaml",
            stdin=yaml.safe_dump(context_kubeconfig(edge)),
        )
        run("apply", "-n", NAMESPACE, "-f", "-", stdin=secret)
    manifest = run("shortcut", "create", "edge-a", "edge-b", "--dry-run=client", "-o", "yaml")
    print(f"\n$ kubectl shortcut operator -n {NAMESPACE} --resync 10 &", flush=True)
    operator = subprocess.Popen(
        [
            _kubectl(),
            "shortcut",
            "operator",
            "-n",
            NAMESPACE,
            "--resync",
            "10",
            "--log-level",
            "warning",
        ],
        env=_environment(),
    )
    try:
        run("apply", "-n", NAMESPACE, "-f", "-", stdin=manifest)
        started = time.monotonic()
        run("wait", "-n", NAMESPACE, "--for=condition=Ready", "--timeout=120s", f"vns/{SHORTCUT}")
        print(f"# Ready {time.monotonic() - started:.1f}s after the apply")
        run("get", "-n", NAMESPACE, "vns", "-o", "wide")
        run("shortcut", "list")
        run("delete", "-n", NAMESPACE, f"vns/{SHORTCUT}", "--timeout=120s")
        for edge in EDGES:
            run("--context", edge, "get", "gatewayservers,gatewayclients", "-A")
    finally:
        operator.terminate()
        operator.wait(30)
    run("delete", "namespace", NAMESPACE)  # its Secrets hold the edges' admin kubeconfigs


def main() -> int:
    imperative()
    declarative()
    print(
        f"\n# The lab keeps running: export KUBECONFIG={kubeconfig_path()}; make lab-down stops it."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
