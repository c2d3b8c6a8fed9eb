"""How a `create` ends when the unforeseen happens: a wait longer than the client's read
timeout, an edge's API server stopped mid-wait, output that cannot be written.

Each ends in one line and an exit code that tells the truth about the clusters: a rollback to
exactly the state before (exit 1), what was left named with the command that removes it and
kept in central's record (exit 3), or a shortcut that exists although its output was lost
(exit 5). SIGHUP is among the signals of test_cli_create_delete.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes.client import ApiClient

from lab.cluster import Lab, kubeconfig_path
from lab.faults import clear_faults, set_faults
from liqoshortcut.errors import ExitCode
from tests.integration.runs import create_running, wait_for_line
from tests.integration.snapshots import Snapshot, settled, snapshot

pytestmark = pytest.mark.integration

CLI = Callable[..., subprocess.CompletedProcess[str]]
SCRIPT = str(Path(sys.executable).parent / "kubectl-shortcut")  # pip's console script


@pytest.fixture
def no_faults() -> Iterator[None]:
    yield
    clear_faults()


def test_a_wait_longer_than_the_clients_read_timeout_ends_in_a_rollback(
    shortcut_cli: CLI, kube: Callable[[str], ApiClient], no_faults: None
) -> None:
    """edge-a's gateway pod never gets ready, so the watch on it hears nothing for more than the
    client's 30 s read timeout: the stream ends, the wait opens a new one, and the run times out
    at 40 s as asked, then rolls back."""
    before = snapshot(kube)
    set_faults({"edge-a": {"gateway-pod": "hang"}})
    result = shortcut_cli("create", "edge-a", "edge-b", "--timeout", "40s")
    assert result.returncode == ExitCode.FAILED, result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith(
        "error: timed out after 40s waiting for gateway pod liqo-tenant-edge-b/gw-edge-b "
    ), last
    assert last.endswith("; everything this run created was removed"), last
    assert settled(kube, before) == before


def listed(shortcut_cli: CLI) -> list[dict[str, object]]:
    result = shortcut_cli("list", "-o", "yaml")
    assert result.returncode == ExitCode.SUCCESS, result.stderr
    shortcuts: list[dict[str, object]] = yaml.safe_load(result.stdout)["shortcuts"]
    return shortcuts


def test_an_edge_api_server_stopped_mid_wait_ends_naming_what_is_left_and_list_shows_it(
    shortcut_cli: CLI,
    kube: Callable[[str], ApiClient],
    lab: Lab,
    tmp_path: Path,
    no_faults: None,
) -> None:
    before = snapshot(kube)
    set_faults({"edge-a": {"gateway-pod": "hang"}})
    stderr_path = tmp_path / "stderr"
    with create_running(stderr_path) as run:
        wait_for_line(run, stderr_path, "create GatewayClient liqo-tenant-edge-b/edge-b: done")
        time.sleep(0.5)  # inside the wait for edge-a's gateway pod
        with lab.apiserver_stopped("edge-a"):
            code = run.wait(timeout=120)
            lines = stderr_path.read_text().splitlines()
    ended_in_rollback_or_naming_what_is_left(code, lines, lost="edge-a", answered="edge-b")
    if code == ExitCode.ROLLBACK_INCOMPLETE:
        assert "cannot reach the API server of edge-a" in lines[-1], lines[-1]
    left_nothing_once_deleted(shortcut_cli, kube, before, code)


def ended_in_rollback_or_naming_what_is_left(
    code: int, lines: list[str], *, lost: str, answered: str
) -> None:
    """One line: a rollback (exit 1), or what is left on the ``lost`` edge with the command that
    removes it (exit 3); nothing on the edge that ``answered``, whose objects are gone."""
    assert "Traceback" not in "\n".join(lines)
    assert code in (ExitCode.FAILED, ExitCode.ROLLBACK_INCOMPLETE), lines[-1]
    assert lines[-1].startswith("error: "), lines[-1]
    if code == ExitCode.ROLLBACK_INCOMPLETE:
        assert f"kubectl --context {lost}" in lines[-1], lines[-1]
        assert f"kubectl --context {answered}" not in lines[-1], lines[-1]


def left_nothing_once_deleted(
    shortcut_cli: CLI, kube: Callable[[str], ApiClient], before: Snapshot, code: int
) -> None:
    """What a run that ended with ``code`` left is listed as Failed, and `delete` removes it: the
    clusters are as ``before``."""
    if code == ExitCode.ROLLBACK_INCOMPLETE:
        (record,) = listed(shortcut_cli)
        assert record["state"] == "Failed"
        deleted = shortcut_cli("delete", "edge-a", "edge-b", "-q")
        assert deleted.returncode == ExitCode.SUCCESS, deleted.stderr
    assert listed(shortcut_cli) == []
    assert settled(kube, before) == before


def test_create_whose_output_cannot_be_written_says_the_shortcut_exists_and_claims_no_rollback(
    shortcut_cli: CLI,
) -> None:
    environ = dict(os.environ, KUBECONFIG=str(kubeconfig_path()))
    try:
        with open("/dev/full", "w") as full:
            result = subprocess.run(
                [SCRIPT, "create", "edge-a", "edge-b", "-q", "-o", "json"],
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                env=environ,
                timeout=180,
                check=False,
            )
        assert result.returncode == ExitCode.UNREPORTED, result.stderr
        assert result.stderr == (
            "error: shortcut edge-a--edge-b connected, but its output could not be written: "
            "No space left on device\n"
        )
        (record,) = listed(shortcut_cli)
        assert record["state"] == "Connected"
    finally:
        deleted = shortcut_cli("delete", "edge-a", "edge-b", "-q")
    assert deleted.returncode == ExitCode.SUCCESS, deleted.stderr


def test_an_edge_api_server_crashing_mid_step_ends_in_a_rollback_or_names_what_is_left(
    shortcut_cli: CLI, kube: Callable[[str], ApiClient], lab: Lab, tmp_path: Path
) -> None:
    """edge-b's API server dies (SIGKILL) as the run creates its first object there, so the
    steps after it on edge-b meet a refused connection, not a wait."""
    before = snapshot(kube)
    stderr_path = tmp_path / "stderr"
    with create_running(stderr_path) as run:
        wait_for_line(run, stderr_path, "create Namespace liqo-tenant-edge-a")
        with lab.apiserver_stopped("edge-b", crash=True):
            code = run.wait(timeout=150)
            lines = stderr_path.read_text().splitlines()
    ended_in_rollback_or_naming_what_is_left(code, lines, lost="edge-b", answered="edge-a")
    left_nothing_once_deleted(shortcut_cli, kube, before, code)


def test_central_stopped_mid_run_rolls_the_edges_back_and_names_the_record_it_could_not_settle(
    shortcut_cli: CLI, kube: Callable[[str], ApiClient], lab: Lab, tmp_path: Path, no_faults: None
) -> None:
    """Central goes away while the run waits on the edges: the run still times out and rolls the
    edges back, then cannot take back the record it made in central, and says so (exit 3). Once
    central is back, `list` shows that record and `delete` removes it."""
    before = snapshot(kube)
    set_faults({"edge-a": {"gateway-pod": "hang"}})
    stderr_path = tmp_path / "stderr"
    with create_running(stderr_path, "--timeout", "30s") as run:
        wait_for_line(run, stderr_path, "create GatewayClient liqo-tenant-edge-b/edge-b: done")
        with lab.apiserver_stopped("central", crash=True):
            code = run.wait(timeout=150)
            lines = stderr_path.read_text().splitlines()
    assert "Traceback" not in "\n".join(lines)
    assert code == ExitCode.ROLLBACK_INCOMPLETE, lines[-1]
    assert lines[-1].startswith("error: timed out after 30s waiting for gateway pod "), lines[-1]
    assert (
        "everything this run created was removed; its record could not be settled (" in (lines[-1])
    )
    assert lines[-1].endswith(
        "remove ConfigMap liqo/liqo-shortcut-edge-a--edge-b from the central cluster"
    ), lines[-1]
    (record,) = listed(shortcut_cli)
    assert record["state"] == "Creating"
    deleted = shortcut_cli("delete", "edge-a", "edge-b", "-q")
    assert deleted.returncode == ExitCode.SUCCESS, deleted.stderr
    assert listed(shortcut_cli) == []
    assert settled(kube, before) == before
