"""`make demo`: what liqo-shortcut does, run for real on the lab, each command printed first.

The imperative path (`kubectl shortcut create`, `list`, `delete`; on the real data path with the
bytes of a transfer between the edges' pods before, during and after) and then the declarative
one (a VirtualNodeShortcut applied from the dry run's YAML, the operator making it Ready), with
traffic: an offloaded Service with endpoints on both edges taken onto the shortcut, explained,
sent back to the hub when the tunnel drops, and returned once it is healthy again; a delete
tears it all down. Everything runs through kubectl's plugin discovery as a user would run it; the
lab stays up afterwards, with no shortcut left on it, for a look around.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import yaml

from deploy.generate import CRD_FILES
from lab import build, workloads
from lab.cluster import LabState, context_kubeconfig, kubeconfig_path, lab_dir
from lab.datapath.service import Sent, TwoEdgeService, two_edge_service
from lab.faults import clear_faults, drop_tunnel

NAMESPACE = "shortcuts"  # where the demo's VirtualNodeShortcut and its Secrets live
SHORTCUT = "edge-a--edge-b"
EDGES = ("edge-a", "edge-b")
SHOP = "shop"  # the offloaded workload's namespace


def _environment() -> dict[str, str]:
    venv = str(Path(sys.executable).parent)
    return dict(
        os.environ,
        PATH=f"{venv}{os.pathsep}{os.environ['PATH']}",
        KUBECONFIG=str(kubeconfig_path()),
    )


def _kubectl() -> str:
    return str(build.kube_binaries()["kubectl"])


def _kubectl_run(argv: tuple[str, ...], stdin: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_kubectl(), *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=_environment(),
        check=False,
    )


def run(*argv: str, stdin: str | None = None, check: bool = True) -> str:
    """Print ``kubectl ARGV`` as typed, run it, show its output; return its stdout."""
    shown = " ".join(shlex.quote(arg) for arg in argv)
    print(f"\n$ kubectl {shown}", flush=True)
    result = _kubectl_run(argv, stdin)
    sys.stdout.write(result.stderr)  # progress first, as a terminal shows it
    sys.stdout.write(result.stdout)
    sys.stdout.flush()
    if check and result.returncode != 0:
        raise SystemExit(f"demo: `kubectl {shown}` exited {result.returncode}")
    return result.stdout


def create_kubeconfig_secret(edge: str) -> None:
    """The operator's Secret for ``edge``, made as the README says, never showing its content:
    the kubeconfig in it holds the edge's admin client key."""
    name = f"{edge}-kubeconfig"
    print(
        f"\n$ kubectl create secret generic {name} -n {NAMESPACE} "
        f"--from-file=kubeconfig={edge}.yaml",
        flush=True,
    )
    # Made with a client-side dry run and applied, so a second demo finds it already there; the
    # manifest (the kubeconfig, base64) goes from one kubectl to the other, not to the terminal.
    manifest = _quiet(
        "create",
        "secret",
        "generic",
        name,
        "-n",
        NAMESPACE,
        "--from-file=kubeconfig=/dev/stdin",
        "--dry-run=client",
        "-o",
        "yaml",
        stdin=yaml.safe_dump(context_kubeconfig(edge)),
    )
    sys.stdout.write(_quiet("apply", "-n", NAMESPACE, "-f", "-", stdin=manifest))
    sys.stdout.flush()


def _quiet(*argv: str, stdin: str) -> str:
    """Run ``kubectl ARGV`` and return its stdout without showing it; on failure only its exit
    status and stderr (kubectl's errors name objects, not their data)."""
    result = _kubectl_run(argv, stdin)
    if result.returncode != 0:
        sys.stdout.write(result.stderr)
        raise SystemExit(f"demo: `kubectl {argv[0]} {argv[1]}` exited {result.returncode}")
    return result.stdout


def real_datapath() -> bool:
    state = LabState.load()
    return state is not None and state.datapath == "real"


def show(sent: Sent, path: str) -> None:
    """One transfer's figures, as measured (lab/datapath/probe.py)."""
    print(
        f"# {path}: {sent.received / 1e6:.1f} MB from edge-a's pod to edge-b's in "
        f"{sent.seconds:.1f}s; central's node saw {sent.through_central / 1e6:.1f} MB of it; "
        f"round trip {sent.rtt_ms:.1f} ms",
        flush=True,
    )


def imperative() -> None:
    print(
        "\n# 1. From the central cluster, connect two edges directly (what liqoctl network "
        "connect does between them)"
    )
    run("config", "get-contexts")
    run("shortcut", "create", "edge-a", "edge-b", "--dry-run=client")
    if not real_datapath():
        run("shortcut", "create", "edge-a", "edge-b")
        connected()
        run("shortcut", "delete", "edge-a", "edge-b", "-y")
        return
    print(
        "\n# Real packets: a Service of central with a pod on edge-a and one on edge-b; Liqo's own "
        "gateways carry\n# what edge-a's pod sends to the address Liqo gives it for edge-b's pod"
    )
    with two_edge_service(lab_dir(), "bytes") as service:
        show(service.send(service.address_seen_by("edge-a")), "through central")
        run("shortcut", "create", "edge-a", "edge-b", "--services=all")
        connected()
        show(service.send(service.address_seen_by("edge-a")), "over the shortcut")
        run("shortcut", "delete", "edge-a", "edge-b", "-y")
        show(service.send(service.address_seen_by("edge-a")), "after delete, through central")


def connected() -> None:
    run("shortcut", "list")
    for edge in EDGES:
        run("--context", edge, "get", "connections.networking.liqo.io", "-A")


def declarative() -> None:
    print("\n# 2. The same shortcut declaratively: a VirtualNodeShortcut and the operator")
    run("apply", "--server-side", "-f", str(CRD_FILES[0]))
    run("wait", "--for=condition=Established", "crd/virtualnodeshortcuts.shortcut.liqo.io")
    existing = run("get", "namespace", NAMESPACE, "--ignore-not-found", "-o", "name")
    if not existing:
        run("create", "namespace", NAMESPACE)
    for edge in EDGES:
        create_kubeconfig_secret(edge)
    print(
        "\n# An offloaded workload: pods on edge-a's and edge-b's virtual nodes behind a Service "
        "(lab/workloads.py plays Liqo's reflection; the EndpointSlices are real)"
    )
    with contextlib.ExitStack() as placed:
        service = None
        if real_datapath():  # the pods run on their edges too, and bytes can be sent
            service = placed.enter_context(two_edge_service(lab_dir(), SHOP, app="cart"))
        else:
            workloads.offload("central", SHOP, "cart", {"edge-a": 1, "edge-b": 1})
        run("get", "pods,endpointslices", "-n", SHOP, "-o", "wide")
        with_operator(service)
    if not real_datapath():
        workloads.remove("central", SHOP, "cart")
        run("delete", "namespace", SHOP)


def with_operator(service: TwoEdgeService | None) -> None:
    manifest = run(
        "shortcut", "create", "edge-a", "edge-b", "--services=all", "--dry-run=client", "-o", "yaml"
    )
    options = ["-n", NAMESPACE, "--resync", "10", "--health-interval", "1"]
    print(f"\n$ kubectl shortcut operator {' '.join(options)} &", flush=True)
    operator = subprocess.Popen(
        [_kubectl(), "shortcut", "operator", *options, "--log-level", "warning"],
        env=_environment(),
    )
    try:
        run("apply", "-n", NAMESPACE, "-f", "-", stdin=manifest)
        started = time.monotonic()
        run("wait", "-n", NAMESPACE, "--for=condition=Ready", "--timeout=120s", f"vns/{SHORTCUT}")
        print(f"# Ready {time.monotonic() - started:.1f}s after the apply")
        traffic(service)
        run("get", "-n", NAMESPACE, "vns", "-o", "wide")
        run("shortcut", "list")
        run("delete", "-n", NAMESPACE, f"vns/{SHORTCUT}", "--timeout=120s")
        run("shortcut", "explain", "cart", "-n", SHOP)
        for edge in EDGES:
            run("--context", edge, "get", "gatewayservers,gatewayclients", "-A")
    finally:
        clear_faults()
        operator.terminate()
        operator.wait(30)
    run("delete", "namespace", NAMESPACE)  # its Secrets hold the edges' admin kubeconfigs


def traffic(service: TwoEdgeService | None) -> None:
    """The Service onto the shortcut, back to the hub when the tunnel drops, and back again;
    on the real data path, with the bytes of a transfer on each path."""
    wait_active = ["wait", "-n", NAMESPACE, "--timeout=120s", f"vns/{SHORTCUT}"]
    run(*wait_active, "--for=condition=DirectPathActive")
    run("get", "service", "cart", "-n", SHOP, "-o", "jsonpath={.metadata.annotations}{'\\n'}")
    run("shortcut", "explain", "cart", "-n", SHOP)
    if service is not None:
        show(service.send(service.address_seen_by("edge-a")), "over the shortcut")
    print("\n# edge-a's tunnel to edge-b stops carrying packets (its Connection turns Error)")
    drop_tunnel("edge-a", "edge-b")
    dropped = time.monotonic()
    run(*wait_active, "--for=condition=DirectPathActive=false")
    print(f"# back on the hub {time.monotonic() - dropped:.1f}s after the drop")
    run("shortcut", "explain", "cart", "-n", SHOP)
    if service is not None:
        show(service.send(service.address_seen_by("edge-a")), "on the hub again")
    print("\n# The tunnel heals; the Service returns after three healthy checks in a row")
    clear_faults()
    healed = time.monotonic()
    run(*wait_active, "--for=condition=DirectPathActive")
    print(f"# direct again {time.monotonic() - healed:.1f}s after the tunnel healed")
    if service is not None:
        show(service.send(service.address_seen_by("edge-a")), "over the shortcut again")
    run("shortcut", "status", "edge-a", "edge-b")


def announce_liqo() -> None:
    """Say first who plays Liqo on this lab: every promise below is checked against it."""
    state = LabState.load()
    if state is not None and state.liqo == "real" and state.datapath == "real":
        print(
            "# Liqo here is Liqo v1.2.0's own code: liqo-controller-manager, ipam and webhook on\n"
            "# every cluster, its fabric on each node and its gateway and wireguard binaries in\n"
            "# every gateway pod, carrying real packets between network namespaces (LAB_LIQO and\n"
            "# LAB_DATAPATH real); the lab plays the kubelet, a load balancer, GENEVE (veths) and\n"
            "# the virtual kubelet's reflection (lab/FIDELITY.md).",
            flush=True,
        )
    elif state is not None and state.liqo == "real":
        print(
            "# Liqo here is Liqo v1.2.0's own liqo-controller-manager and ipam on every cluster\n"
            "# (LAB_LIQO=real); the emulator plays only what has no runtime here: kubelet,\n"
            "# load balancer and the gateway pods' containers (lab/FIDELITY.md).",
            flush=True,
        )
    else:
        print(
            "# Liqo here is played by the lab's emulator (LAB_LIQO=emulated, the fast mode);\n"
            "# unset LAB_LIQO for Liqo's own controllers (lab/FIDELITY.md).",
            flush=True,
        )


def main() -> int:
    announce_liqo()
    imperative()
    declarative()
    print(
        f"\n# The lab keeps running: export KUBECONFIG={kubeconfig_path()}; make lab-down stops it."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
