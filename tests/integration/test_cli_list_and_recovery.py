"""`list` from central alone, and runs that die or meet API errors midway.

The record of a shortcut lives in central, so `list` is run with a kubeconfig holding only
central's context. A `kill -9` cannot roll back: the record says Creating and the next `create`
converges. An API server that refuses a write (a real ValidatingAdmissionPolicy, not a mock) at any
step of the sequence ends in a rollback to exactly the state before.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client import ApiClient

from lab.faults import clear_faults, set_faults
from lab.topology import topology_from_env
from liqoshortcut.errors import ExitCode
from tests.integration.admission import REFUSAL
from tests.integration.kubeconfigs import one_context_kubeconfig
from tests.integration.runs import create_running, wait_for_line
from tests.integration.snapshots import settled, snapshot

pytestmark = pytest.mark.integration

CLI = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def central_only(tmp_path: Path) -> Path:
    """The lab's kubeconfig cut down to central: no way to reach an edge."""
    return one_context_kubeconfig(tmp_path, "central")


@pytest.fixture
def deleted_afterwards(shortcut_cli: CLI) -> Iterator[None]:
    yield
    clear_faults()
    assert shortcut_cli("delete", "edge-a", "edge-b", "-q").returncode == ExitCode.SUCCESS


def listed(shortcut_cli: CLI, kubeconfig: Path) -> list[dict[str, Any]]:
    result = shortcut_cli("list", "--kubeconfig", str(kubeconfig), "-o", "yaml")
    assert result.returncode == ExitCode.SUCCESS, result.stderr
    shortcuts: list[dict[str, Any]] = yaml.safe_load(result.stdout)["shortcuts"]
    return shortcuts


def test_list_reads_central_alone_and_follows_create_and_delete(
    shortcut_cli: CLI, kube: Callable[[str], ApiClient], central_only: Path
) -> None:
    before = snapshot(kube)
    empty = shortcut_cli("list", "--kubeconfig", str(central_only))
    assert empty.returncode == ExitCode.SUCCESS
    assert empty.stdout == ""
    assert empty.stderr.startswith("No shortcuts found in namespace liqo of the central cluster")

    try:
        created = shortcut_cli("create", "edge-a", "edge-b", "--no-wait", "-q")
        assert created.returncode == ExitCode.SUCCESS, created.stderr
        (shortcut,) = listed(shortcut_cli, central_only)
        assert shortcut["state"] == "Created"  # --no-wait: the Connections were not waited for
        # The Configurations were configured (--no-wait waits for that much): each edge's Liqo
        # mapped the other's pods, under their own CIDRs as the lab's do not overlap.
        lab_cidrs = topology_from_env()
        assert shortcut["server"] == {
            "context": "edge-b",
            "clusterID": "edge-b",
            "peerPodCIDRs": [lab_cidrs.cluster("edge-a").pod_cidr],
        }
        assert shortcut["client"] == {
            "context": "edge-a",
            "clusterID": "edge-a",
            "peerPodCIDRs": [lab_cidrs.cluster("edge-b").pod_cidr],
        }

        waited = shortcut_cli("create", "edge-a", "edge-b", "-q")
        assert waited.returncode == ExitCode.SUCCESS, waited.stderr
        table = shortcut_cli("list", "--kubeconfig", str(central_only))
        header, row = table.stdout.splitlines()
        assert header.split() == ["NAME", "SERVER", "CLIENT", "STATE", "AGE", "SOURCE", "LIVE"]
        name, server, client_edge, state, age, source, live = row.split()
        assert (name, server, client_edge, state) == (
            "edge-a--edge-b",
            "edge-b",
            "edge-a",
            "Connected",
        )
        assert age.endswith("s")
        assert source == "cli"
        # No context of the edges in this kubeconfig: unknown, with the reason, never an error.
        assert live == "Unknown"
        assert "warning: shortcut edge-a--edge-b: edge-b could not be asked: context 'edge-b' " in (
            table.stderr
        )
        fast = shortcut_cli("list", "--kubeconfig", str(central_only), "--no-check")
        assert fast.stdout.splitlines()[0].split() == [
            "NAME", "SERVER", "CLIENT", "STATE", "AGE", "SOURCE"
        ]  # fmt: skip
        assert fast.stderr == ""
    finally:
        deleted = shortcut_cli("delete", "edge-a", "edge-b", "-o", "json")
    assert deleted.returncode == ExitCode.SUCCESS, deleted.stderr
    assert '"recordRemoved": true' in deleted.stdout
    assert listed(shortcut_cli, central_only) == []
    assert settled(kube, before) == before


def test_kill_9_midway_leaves_a_creating_record_and_create_again_converges(
    shortcut_cli: CLI,
    kube: Callable[[str], ApiClient],
    central_only: Path,
    tmp_path: Path,
    deleted_afterwards: None,
) -> None:
    before = snapshot(kube)
    set_faults({"edge-a": {"gateway-pod": "hang"}})
    stderr_path = tmp_path / "stderr"
    with create_running(stderr_path) as run:
        wait_for_line(run, stderr_path, "create GatewayClient liqo-tenant-edge-b/edge-b: done")
        run.send_signal(signal.SIGKILL)
        assert run.wait(timeout=10) == -signal.SIGKILL
    (record,) = listed(shortcut_cli, central_only)
    assert record["state"] == "Creating"  # no rollback ran: the record says so

    clear_faults()
    again = shortcut_cli("create", "edge-a", "edge-b")
    assert again.returncode == ExitCode.SUCCESS, again.stderr
    assert "create GatewayServer liqo-tenant-edge-a/edge-a: skipped (already there)" in again.stderr
    (record,) = listed(shortcut_cli, central_only)
    assert record["state"] == "Connected"

    deleted = shortcut_cli("delete", "edge-a", "edge-b", "-q")
    assert deleted.returncode == ExitCode.SUCCESS, deleted.stderr
    assert settled(kube, before) == before


def test_a_failed_rerun_keeps_what_an_earlier_run_made_and_marks_the_record_failed(
    emulated_gateways: None, shortcut_cli: CLI, central_only: Path, deleted_afterwards: None
) -> None:
    set_faults({"edge-b": {"connected": "hang"}})  # edge-b's Connection never comes up
    made = shortcut_cli("create", "edge-a", "edge-b", "--no-wait", "-q")
    assert made.returncode == ExitCode.SUCCESS, made.stderr
    rerun = shortcut_cli("create", "edge-a", "edge-b", "--timeout", "10s", "-q")
    assert rerun.returncode == ExitCode.FAILED, rerun.stderr
    assert rerun.stderr.strip().endswith("nothing had been created")
    (record,) = listed(shortcut_cli, central_only)
    assert record["state"] == "Failed"
    assert "timed out" in record["message"]


# Each write of the sequence, refused by the API server of the cluster it goes to.
REFUSED_WRITES = [
    ("central", "", "configmaps"),  # the record, the first write of all
    ("edge-b", "", "namespaces"),  # edge-a's tenant namespace on edge-b
    ("edge-a", "networking.liqo.io", "configurations"),
    ("edge-b", "networking.liqo.io", "gatewayservers"),
    ("edge-a", "networking.liqo.io", "gatewayclients"),
    ("edge-b", "networking.liqo.io", "publickeies"),
]


@pytest.mark.parametrize(
    ("cluster", "group", "plural"),
    REFUSED_WRITES,
    ids=[f"{cluster}-{plural}" for cluster, _, plural in REFUSED_WRITES],
)
def test_an_api_error_at_any_write_rolls_back_to_the_state_before(
    shortcut_cli: CLI,
    kube: Callable[[str], ApiClient],
    refuse_writes: Callable[[str, str, str], None],
    cluster: str,
    group: str,
    plural: str,
) -> None:
    refuse_writes(cluster, group, plural)
    before = snapshot(kube)
    result = shortcut_cli("create", "edge-a", "edge-b")
    assert result.returncode in (ExitCode.FAILED, ExitCode.PRECONDITION_FAILED), result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith("error: "), last
    assert REFUSAL in last, last
    assert "Traceback" not in result.stderr
    assert settled(kube, before) == before


def test_list_shows_the_operators_shortcuts_and_delete_leaves_them_to_it(
    shortcut_cli: CLI,
    kubectl: Callable[..., subprocess.CompletedProcess[str]],
    shortcut_crd: str,
    central_only: Path,
) -> None:
    dry = shortcut_cli("create", "edge-a", "edge-b", "--dry-run=client", "-o", "yaml")
    assert dry.returncode == ExitCode.SUCCESS, dry.stderr
    kubectl("apply", "-n", "default", "-f", "-", stdin=dry.stdout)
    try:
        (shortcut,) = listed(shortcut_cli, central_only)
        assert shortcut["source"] == "default/edge-a--edge-b"
        assert shortcut["server"] == {"context": "edge-b", "clusterID": "edge-b"}
        assert shortcut["state"] == "Creating"  # no operator runs here to make it Ready
        refused = shortcut_cli("delete", "edge-a", "edge-b", "-y")
        assert refused.returncode == ExitCode.PRECONDITION_FAILED, refused.stderr
        assert refused.stderr.startswith(
            "error: shortcut edge-a--edge-b belongs to VirtualNodeShortcut default/edge-a--edge-b"
        )
    finally:
        kubectl("delete", "-n", "default", "virtualnodeshortcut/edge-a--edge-b")
    assert listed(shortcut_cli, central_only) == []
