"""The lab as a pytest session fixture: reused when ``make lab-up`` already runs it.

A lab this session started is stopped at the end (set ``LAB_KEEP=1`` to keep it for debugging);
a lab somebody else started is left running.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kubernetes.client import ApiClient

from deploy.generate import CRD_FILES
from lab import build
from lab.cluster import Lab, kubeconfig_path, lab_dir
from lab.faults import clear_faults
from lab.kubeclient import api_client
from lab.topology import overlapping_edges, topology_from_env
from liqoshortcut.core.crd import CRD_NAME
from tests.integration.admission import refuse_writes  # noqa: F401  (a fixture, shared)

Kubectl = Callable[..., subprocess.CompletedProcess[str]]

# The suite in overlapping/ needs a lab whose edge-a and edge-b share a pod CIDR, so it runs on a
# lab of its own (`make integration` starts it second, with OVERLAPPING_LAB's settings); no other
# lab collects it, and that run fails ("no tests ran") if the settings did not reach it.
if not overlapping_edges(topology_from_env()):
    collect_ignore = ["overlapping"]


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    lab = Lab()
    started = lab.up()
    clear_faults()  # a session killed midway may have left a process stopped or a policy on
    yield lab
    if started and not os.environ.get("LAB_KEEP"):
        lab.down()


@pytest.fixture(scope="module")
def emulated_liqo(lab: Lab) -> Iterator[None]:
    """The module's tests with the emulator playing Liqo's controllers, whatever mode the
    session asked for (back to it after): tests that judge the emulator, or drive its
    controller-side fault switches, prove nothing when Liqo's own controllers answer them."""
    with lab.playing("emulated"):
        yield


@pytest.fixture(scope="module")
def real_datapath(lab: Lab) -> Iterator[Path]:
    """The module's tests with Liqo's controllers and Liqo's own gateways carrying packets
    (lab/datapath), whatever the session asked for; yields the lab's directory."""
    with lab.playing("real"), lab.carrying("real"):
        yield lab_dir()


@pytest.fixture
def emulated_gateways(lab: Lab) -> Iterator[None]:
    """The test with the emulator playing the gateway pods (LAB_DATAPATH=emulated): the tests
    that drive its connection and latency switches, which no real gateway reads."""
    with lab.carrying("emulated"):
        yield


@pytest.fixture(scope="module")
def emulated_gateways_in_module(lab: Lab) -> Iterator[None]:
    """``emulated_gateways`` for a whole module (one switch instead of one per test)."""
    with lab.carrying("emulated"):
        yield


@pytest.fixture(scope="session")
def kube(lab: Lab) -> Callable[[str], ApiClient]:
    """``kube("edge-a")``: an admin API client for a lab context, one per context per session."""
    clients: dict[str, ApiClient] = {}

    def client(context: str) -> ApiClient:
        if context not in clients:
            clients[context] = api_client(context)
        return clients[context]

    return client


@pytest.fixture
def unique_name() -> str:
    """A DNS-safe name no other test uses, so tests never trip over each other's objects."""
    return f"t-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def shortcut_cli(lab: Lab) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``kubectl shortcut ARGS`` as a user would: through kubectl, with the venv on PATH."""
    kubectl = str(build.kube_binaries()["kubectl"])
    env = dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        KUBECONFIG=str(kubeconfig_path()),
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [kubectl, "shortcut", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
            check=False,
        )

    return run


@pytest.fixture(scope="session")
def kubectl(lab: Lab) -> Kubectl:
    """``kubectl("apply", "-f", "-", stdin=...)``: the lab's kubectl on central, as a user runs it.

    Fails the test with kubectl's own words when it fails, unless ``check=False``.
    """
    binary = str(build.kube_binaries()["kubectl"])

    def run(
        *args: str, stdin: str | None = None, context: str = "central", check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = [binary, f"--kubeconfig={kubeconfig_path()}", f"--context={context}", *args]
        result = subprocess.run(
            command, input=stdin, capture_output=True, text=True, timeout=120, check=False
        )
        if check and result.returncode != 0:
            pytest.fail(f"kubectl {' '.join(args)} failed:\n{result.stderr}")
        return result

    return run


@pytest.fixture(scope="session")
def shortcut_crd(kubectl: Kubectl) -> Iterator[str]:
    """The committed VirtualNodeShortcut CRD, installed on central as a user installs it."""
    kubectl("apply", "--server-side", "--force-conflicts", f"--filename={CRD_FILES[0]}")
    kubectl("wait", "--for=condition=Established", "--timeout=60s", f"crd/{CRD_NAME}")
    yield CRD_NAME
    kubectl("delete", f"crd/{CRD_NAME}", "--wait=false")
