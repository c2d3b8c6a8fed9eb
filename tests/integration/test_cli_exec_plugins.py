"""Exec credential plugins in a kubeconfig: a failing, hanging or garbling plugin is named in one
line with how it ended (no stray log lines, no blame on RBAC or the server), a hanging one is
stopped at --timeout, and one that returns the lab's real client certificate works.

Each case is the lab's kubeconfig with edge-b's user authenticating through a small shell script
instead of its embedded certificate.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client import ApiClient

from lab.cluster import Lab, kubeconfig_path
from liqoshortcut.errors import ExitCode
from tests.integration.snapshots import snapshot

pytestmark = pytest.mark.integration

EXEC_API = "client.authentication.k8s.io/v1"


def with_edge_b_plugin(tmp_path: Path, script: str) -> tuple[Path, Path]:
    """The lab's kubeconfig with edge-b's user running ``script``: (kubeconfig, plugin)."""
    plugin = tmp_path / "edge-b-login"
    plugin.write_text(f"#!/bin/sh\n{script}\n")
    plugin.chmod(0o755)
    config: dict[str, Any] = yaml.safe_load(kubeconfig_path().read_text())
    (context,) = [c for c in config["contexts"] if c["name"] == "edge-b"]
    user = context["context"]["user"]
    for entry in config["users"]:
        if entry["name"] == user:
            entry["user"] = {"exec": {"apiVersion": EXEC_API, "command": str(plugin)}}
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path, plugin


def edge_b_certificate() -> dict[str, str]:
    """edge-b's client certificate and key as an exec plugin returns them (PEM, not base64)."""
    config = yaml.safe_load(kubeconfig_path().read_text())
    (context,) = [c for c in config["contexts"] if c["name"] == "edge-b"]
    (user,) = [u["user"] for u in config["users"] if u["name"] == context["context"]["user"]]
    return {
        "clientCertificateData": base64.b64decode(user["client-certificate-data"]).decode(),
        "clientKeyData": base64.b64decode(user["client-key-data"]).decode(),
    }


def shortcut(
    kubeconfig: Path, *args: str, tmpdir: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    return subprocess.run(
        [sys.executable, "-m", "liqoshortcut.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("script", "says"),
    [
        pytest.param(
            "echo 'refreshing token' >&2; echo 'error: the SSO session has expired' >&2; exit 1",
            "exited with status 1: error: the SSO session has expired",
            id="exits 1",
        ),
        pytest.param(
            "echo 'token=s3cr3t this is no JSON'",
            "printed no ExecCredential (its output is not the JSON of one): check the plugin "
            "and its arguments",
            id="prints garbage",
        ),
    ],
)
@pytest.mark.parametrize("command", ["create", "delete"])
def test_a_broken_plugin_is_named_in_one_line_and_nothing_changes(
    lab: Lab,
    kube: Callable[[str], ApiClient],
    tmp_path: Path,
    command: str,
    script: str,
    says: str,
) -> None:
    kubeconfig, plugin = with_edge_b_plugin(tmp_path, script)
    before = snapshot(kube)
    result = shortcut(
        kubeconfig, command, "edge-a", "edge-b", "-y" if command == "delete" else "-q"
    )
    assert result.returncode == ExitCode.PRECONDITION_FAILED
    assert result.stdout == ""
    assert result.stderr == (
        f"error: the exec plugin '{plugin}' of user 'edge-b-admin' of context 'edge-b' in "
        f"{kubeconfig} {says}\n"
    )
    assert "s3cr3t" not in result.stderr
    assert snapshot(kube) == before


def test_a_hanging_plugin_is_stopped_at_the_timeout(
    lab: Lab, kube: Callable[[str], ApiClient], tmp_path: Path
) -> None:
    kubeconfig, plugin = with_edge_b_plugin(tmp_path, "sleep 3600")
    before = snapshot(kube)
    started = time.monotonic()
    result = shortcut(kubeconfig, "create", "edge-a", "edge-b", "--timeout", "10s")
    took = time.monotonic() - started
    assert result.returncode == ExitCode.PRECONDITION_FAILED
    assert result.stderr == (
        f"error: the exec plugin '{plugin}' of user 'edge-b-admin' of context 'edge-b' in "
        f"{kubeconfig} did not finish within 10s and was stopped: run it by hand to see what "
        "it waits for\n"
    )
    assert 10 <= took < 45  # the interpreter's start and central's reads on a loaded machine
    assert snapshot(kube) == before
    sleeping = subprocess.run(["pgrep", "-f", "sleep 3600"], capture_output=True, check=False)
    assert sleeping.stdout == b""  # the plugin's children were stopped with it


def test_a_plugin_returning_the_labs_client_certificate_authenticates_and_leaves_no_file(
    lab: Lab, tmp_path: Path
) -> None:
    answer = tmp_path / "credential.json"
    credential = {"apiVersion": EXEC_API, "kind": "ExecCredential", "status": edge_b_certificate()}
    answer.write_text(json.dumps(credential))
    kubeconfig, _ = with_edge_b_plugin(tmp_path, f"cat {answer}")
    tmpdir = tmp_path / "TMPDIR"
    tmpdir.mkdir()
    result = shortcut(
        kubeconfig, "create", "edge-a", "edge-b", "--dry-run=server", "-o", "json", tmpdir=tmpdir
    )
    assert result.returncode == ExitCode.SUCCESS, result.stderr
    answers = json.loads(result.stdout)
    on_edge_b = [a for a in answers["results"] if a["cluster"] == "edge-b"]
    assert "accepted" in {a["verdict"] for a in on_edge_b}, on_edge_b
    assert "refused" not in {a["verdict"] for a in on_edge_b}, on_edge_b
    assert list(tmpdir.rglob("*")) == []


def gone(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or ") Z" in stat.read_text()


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_a_run_interrupted_while_a_plugin_runs_ends_the_plugin_too(
    lab: Lab, tmp_path: Path, sent: signal.Signals
) -> None:
    pids = tmp_path / "pids"
    kubeconfig, _ = with_edge_b_plugin(tmp_path, f"sleep 3600 & echo $$ $! > {pids}; wait")
    run = subprocess.Popen(
        [sys.executable, "-m", "liqoshortcut.cli", "create", "edge-a", "edge-b"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "KUBECONFIG": str(kubeconfig)},
    )
    try:
        deadline = time.monotonic() + 60
        while not (pids.exists() and pids.read_text().strip()):
            assert run.poll() is None
            assert time.monotonic() < deadline
            time.sleep(0.1)
        run.send_signal(sent)
        _, stderr = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert (run.returncode, stderr) == (
        ExitCode.INTERRUPTED,
        "error: interrupted before any change\n",
    )
    plugin_pids = [int(pid) for pid in pids.read_text().split()]
    deadline = time.monotonic() + 10
    while not all(map(gone, plugin_pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(map(gone, plugin_pids))
