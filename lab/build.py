"""Lab binaries and Liqo CRDs, built from published Go modules into a cache outside the repo.

Nothing built here is ever committed: the Go modules under ``lab/tools/`` pin the versions (their
``go.sum`` is the lock), and the outputs land in ``$LIQO_SHORTCUT_CACHE`` (default
``~/.cache/liqo-shortcut``) in a directory named after those versions, so a second run finds them
and builds nothing. ``KUBEBUILDER_ASSETS`` (the envtest convention) wins for any binary it holds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lab.topology import ETCD_VERSION, KUBERNETES_VERSION, LIQO_VERSION

TOOLS = Path(__file__).resolve().parent / "tools"
LIQO_MODULE = "github.com/liqotech/liqo"
LIQO_CRDS_IN_MODULE = Path("deployments/liqo/charts/liqo-crds/crds")
HELM_MODULE = "helm.sh/helm/v3"
HELM_VERSION = "v3.22.0"  # must match lab/tools/helm/go.mod (a unit test checks it)

# Go package of each binary, built in the tools module that pins it.
KUBE_PACKAGES = {
    "etcd": "go.etcd.io/etcd/server/v3",
    "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
    "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
    "kubectl": "k8s.io/kubernetes/cmd/kubectl",
}


def cache_root() -> Path:
    return Path(os.environ.get("LIQO_SHORTCUT_CACHE", Path.home() / ".cache" / "liqo-shortcut"))


def _kube_version_ldflags() -> str:
    # Without these the binaries report v0.0.0-master, which breaks clients that check versions.
    major, minor = KUBERNETES_VERSION.lstrip("v").split(".")[:2]
    flags = ["-s", "-w"]
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {package}.gitVersion={KUBERNETES_VERSION}",
            f"-X {package}.gitMajor={major}",
            f"-X {package}.gitMinor={minor}",
            f"-X {package}.gitTreeState=clean",
        ]
    return " ".join(flags)


def _go(args: list[str], module_dir: Path, log: bool = True) -> str:
    env = dict(os.environ, GOFLAGS="-mod=readonly -buildvcs=false", CGO_ENABLED="0")
    if log:
        print(
            f"lab: go {' '.join(args[:1] + args[-1:])} (in lab/tools/{module_dir.name})",
            file=sys.stderr,
        )
    result = subprocess.run(
        ["go", *args], cwd=module_dir, env=env, check=False, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"go {' '.join(args)} failed:\n{result.stderr[-4000:]}")
    return result.stdout


def _build_into(target: Path, module_dir: Path, packages: dict[str, str], ldflags: str) -> None:
    """Build into a temporary sibling, then rename: an interrupted build never looks complete."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        for name, package in packages.items():  # one at a time: Go names etcd's binary "server"
            _go(["build", "-ldflags", ldflags, "-o", str(staging / name), package], module_dir)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# Liqo's own controllers, which the lab runs as processes in place of the emulator's controller
# half (LAB_LIQO=real): built from the same module as liqoctl, with no version ldflags (they
# report none; liqoctl reads the version from the Deployment's image tag).
LIQO_RUNTIME_PACKAGES = {
    "liqo-controller-manager": f"{LIQO_MODULE}/cmd/liqo-controller-manager",
    "ipam": f"{LIQO_MODULE}/cmd/ipam",
    "webhook": f"{LIQO_MODULE}/cmd/webhook",
}


@dataclass(frozen=True)
class LabBinaries:
    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path
    kubectl: Path
    liqoctl: Path
    liqo_runtime: dict[str, Path]  # by LIQO_RUNTIME_PACKAGES' names; empty when emulated


def _from_kubebuilder_assets(name: str) -> Path | None:
    assets = os.environ.get("KUBEBUILDER_ASSETS")
    if assets and (Path(assets) / name).is_file():
        return Path(assets) / name
    return None


def kube_binaries() -> dict[str, Path]:
    """etcd, kube-apiserver, kube-controller-manager and kubectl; built once per version."""
    found = {name: _from_kubebuilder_assets(name) for name in KUBE_PACKAGES}
    built_dir = cache_root() / f"kube-{KUBERNETES_VERSION}-etcd-{ETCD_VERSION}"
    missing = [name for name, path in found.items() if path is None]
    if missing and not all((built_dir / name).is_file() for name in missing):
        _build_into(built_dir, TOOLS / "kube", KUBE_PACKAGES, _kube_version_ldflags())
    return {name: path or built_dir / name for name, path in found.items()}


def liqoctl_binary() -> Path:
    built_dir = cache_root() / f"liqoctl-{LIQO_VERSION}"
    if not (built_dir / "liqoctl").is_file():
        ldflags = f"-s -w -X {LIQO_MODULE}/pkg/liqoctl/version.LiqoctlVersion={LIQO_VERSION}"
        _build_into(built_dir, TOOLS / "liqo", {"liqoctl": f"{LIQO_MODULE}/cmd/liqoctl"}, ldflags)
    return built_dir / "liqoctl"


def liqo_runtime_binaries() -> dict[str, Path]:
    """liqo-controller-manager and ipam at the pinned release; built once per version."""
    built_dir = cache_root() / f"liqo-runtime-{LIQO_VERSION}"
    if not all((built_dir / name).is_file() for name in LIQO_RUNTIME_PACKAGES):
        _build_into(built_dir, TOOLS / "liqo", LIQO_RUNTIME_PACKAGES, "-s -w")
    return {name: built_dir / name for name in LIQO_RUNTIME_PACKAGES}


# Liqo's data path (LAB_DATAPATH=real): the gateway pod's containers, which the lab runs in one
# network namespace per gateway pod with WireGuard in userspace (the chart's implementation=
# userspace), and the fabric DaemonSet's, which it runs in each cluster's node namespace.
LIQO_GATEWAY_PACKAGES = {
    "gateway": f"{LIQO_MODULE}/cmd/gateway",
    "wireguard": f"{LIQO_MODULE}/cmd/gateway/wireguard",
    "fabric": f"{LIQO_MODULE}/cmd/fabric",
}


def liqo_gateway_binaries() -> dict[str, Path]:
    """The gateway pod's gateway and wireguard containers and the fabric at the pinned release;
    built once."""
    built_dir = cache_root() / f"liqo-gateway-{LIQO_VERSION}"
    if not all((built_dir / name).is_file() for name in LIQO_GATEWAY_PACKAGES):
        _build_into(built_dir, TOOLS / "liqo", LIQO_GATEWAY_PACKAGES, "-s -w")
    return {name: built_dir / name for name in LIQO_GATEWAY_PACKAGES}


def liqo_module_dir() -> Path:
    """The pinned Liqo module's source tree in the Go module cache (read-only)."""
    info = json.loads(
        _go(
            ["mod", "download", "-json", f"{LIQO_MODULE}@{LIQO_VERSION}"], TOOLS / "liqo", log=False
        )
    )
    return Path(info["Dir"])


def liqo_crd_files() -> list[Path]:
    """The real CRD manifests of the pinned Liqo release."""
    crd_dir = liqo_module_dir() / LIQO_CRDS_IN_MODULE
    crds = sorted(crd_dir.glob("*.yaml"))
    if not crds:
        raise RuntimeError(f"no CRDs found in {crd_dir}")
    return crds


def _helm_ldflags() -> str:
    # As helm's Makefile sets them: without the first, `helm version` says "v3.22"; the others make
    # `helm template` and `helm lint` assume the lab's Kubernetes instead of helm's fallback v1.20.
    major, minor = KUBERNETES_VERSION.lstrip("v").split(".")[:2]
    flags = ["-s", "-w", f"-X {HELM_MODULE}/internal/version.version={HELM_VERSION}"]
    for package in ("pkg/chartutil", "pkg/lint/rules"):
        flags += [
            f"-X {HELM_MODULE}/{package}.k8sVersionMajor={major}",
            f"-X {HELM_MODULE}/{package}.k8sVersionMinor={minor}",
        ]
    return " ".join(flags)


def helm_binary() -> Path:
    """helm, which only the chart tests use: the lab itself never needs it."""
    built_dir = cache_root() / f"helm-{HELM_VERSION}"
    if not (built_dir / "helm").is_file():
        _build_into(built_dir, TOOLS / "helm", {"helm": f"{HELM_MODULE}/cmd/helm"}, _helm_ldflags())
    return built_dir / "helm"


def all_binaries(*, real_liqo: bool, real_datapath: bool = False) -> LabBinaries:
    """What a lab needs; Liqo's controllers only for a lab that runs them (``real_liqo``), and
    Liqo's gateways (the emulator finds them in the cache) for a real data path."""
    kube = kube_binaries()
    if real_datapath:
        liqo_gateway_binaries()
    return LabBinaries(
        etcd=kube["etcd"],
        kube_apiserver=kube["kube-apiserver"],
        kube_controller_manager=kube["kube-controller-manager"],
        kubectl=kube["kubectl"],
        liqoctl=liqoctl_binary(),
        liqo_runtime=liqo_runtime_binaries() if real_liqo else {},
    )
