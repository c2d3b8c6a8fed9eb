"""No way of ending `kubectl shortcut` leaves a key or a certificate of the kubeconfig behind.

The kubernetes client used to write each context's CA, client certificate and private key to
``$TMPDIR``, removed only at a normal exit. Here each run gets a fresh ``TMPDIR``, is killed
mid-run (SIGKILL: no exit handler runs), hung up on (SIGHUP: it rolls back and exits 130, as on
Ctrl-C) or ends normally, and every file left under that directory is read: none may hold key
material or a certificate.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from kubernetes.client import ApiClient

from lab.cluster import Lab, kubeconfig_path
from lab.faults import clear_faults, set_faults
from liqoshortcut.errors import ExitCode
from tests.integration.runs import create_running, wait_for_line
from tests.integration.snapshots import settled, snapshot

pytestmark = pytest.mark.integration

CLI = Callable[..., subprocess.CompletedProcess[str]]
SECRETS = (b"PRIVATE KEY", b"CERTIFICATE")


def credentials_left(tmpdir: Path) -> list[str]:
    """Every file under ``tmpdir`` that holds a PEM key or certificate."""
    found = []
    for path in tmpdir.rglob("*"):
        if path.is_file() and any(secret in path.read_bytes() for secret in SECRETS):
            found.append(str(path.relative_to(tmpdir)))
    return found


def fresh_tmpdir(tmp_path: Path) -> Path:
    tmpdir = tmp_path / "TMPDIR"
    tmpdir.mkdir(mode=0o700)
    return tmpdir


def cli_with_tmpdir(tmpdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "liqoshortcut.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "KUBECONFIG": str(kubeconfig_path()), "TMPDIR": str(tmpdir)},
        timeout=180,
        check=False,
    )


@pytest.mark.parametrize("sent", [signal.SIGKILL, signal.SIGHUP], ids=["sigkill", "sighup"])
def test_a_create_killed_mid_run_leaves_no_key_nor_certificate_in_its_tmpdir(
    lab: Lab, kube: Callable[[str], ApiClient], tmp_path: Path, sent: signal.Signals
) -> None:
    before = snapshot(kube)
    tmpdir = fresh_tmpdir(tmp_path)
    stderr_path = tmp_path / "stderr"
    set_faults({"edge-b": {"gateway-pod": "hang"}})
    try:
        with create_running(stderr_path, env={"TMPDIR": str(tmpdir)}) as run:
            # All three clients are in use by now: the run waits for the server's gateway pod.
            wait_for_line(run, stderr_path, "create GatewayServer ")
            time.sleep(0.5)
            run.send_signal(sent)
            ended = -signal.SIGKILL if sent is signal.SIGKILL else ExitCode.INTERRUPTED
            assert run.wait(timeout=90) == ended
        assert credentials_left(tmpdir) == []
    finally:
        clear_faults()
        # A killed run cannot roll back: delete removes what it made (nothing after a SIGHUP).
        cleanup = cli_with_tmpdir(tmpdir, "delete", "edge-a", "edge-b", "-y")
    assert cleanup.returncode == ExitCode.SUCCESS, cleanup.stderr
    assert credentials_left(tmpdir) == []
    assert settled(kube, before) == before


def test_runs_that_end_normally_or_fail_leave_no_key_nor_certificate_in_their_tmpdir(
    lab: Lab, tmp_path: Path
) -> None:
    tmpdir = fresh_tmpdir(tmp_path)
    listed = cli_with_tmpdir(tmpdir, "list")
    planned = cli_with_tmpdir(tmpdir, "create", "edge-a", "edge-b", "--dry-run=server")
    refused = cli_with_tmpdir(tmpdir, "create", "edge-a", "central")
    assert [listed.returncode, planned.returncode, refused.returncode] == [
        ExitCode.SUCCESS,
        ExitCode.SUCCESS,
        ExitCode.USAGE,
    ], (listed.stderr, planned.stderr, refused.stderr)
    assert credentials_left(tmpdir) == []
    assert list(tmpdir.rglob("*")) == []
