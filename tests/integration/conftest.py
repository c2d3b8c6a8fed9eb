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

from lab import build
from lab.cluster import Lab, kubeconfig_path
from lab.kubeclient import api_client


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    lab = Lab()
    started = lab.up()
    yield lab
    if started and not os.environ.get("LAB_KEEP"):
        lab.down()


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
