"""`kubectl shortcut create | delete` as a user runs it, through kubectl's plugin discovery.

Every bad input gets one line on stderr, its documented exit code and no change on any of the
three clusters (compared object by object, uid by uid, before and after).
"""

from __future__ import annotations

import io
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client import ApiClient

from lab.cluster import Lab, kubeconfig_path
from lab.faults import clear_faults, set_faults
from liqoshortcut.cli.app import run
from liqoshortcut.cli.environment import Environment
from liqoshortcut.errors import ExitCode
from tests.integration.kubeconfigs import one_context_kubeconfig
from tests.integration.runs import create_running, wait_for_line
from tests.integration.snapshots import left_by_liqo, settled, snapshot

pytestmark = pytest.mark.integration
CLUSTERS = ("central", "edge-a", "edge-b")


@pytest.fixture
def clean_pair(shortcut_cli: Callable[..., subprocess.CompletedProcess[str]]) -> Iterator[None]:
    yield
    assert shortcut_cli("delete", "edge-a", "edge-b", "-q").returncode == 0


def test_create_connects_the_edges_a_rerun_is_a_no_op_and_delete_restores_them(
    shortcut_cli: Callable[..., subprocess.CompletedProcess[str]],
    kube: Callable[[str], ApiClient],
    lab: Lab,
    clean_pair: None,
) -> None:
    created = shortcut_cli("create", "edge-a", "edge-b", "-o", "yaml")
    assert created.returncode == ExitCode.SUCCESS, created.stderr
    assert yaml.safe_load(created.stdout)["name"] == "edge-a--edge-b"
    assert "create GatewayServer liqo-tenant-edge-a/edge-a: done" in created.stderr

    after_create = snapshot(kube)
    again = shortcut_cli("create", "edge-a", "edge-b")
    assert again.returncode == ExitCode.SUCCESS, again.stderr
    assert ": done" not in "\n".join(
        line for line in again.stderr.splitlines() if " create " in line
    )
    assert snapshot(kube) == after_create

    deleted = shortcut_cli("delete", "edge-a", "edge-b")
    assert deleted.returncode == ExitCode.SUCCESS, deleted.stderr
    assert deleted.stdout.startswith("shortcut edge-a--edge-b deleted")
    # Liqo's own controller-manager made, on each edge, a ForeignCluster for the other, and keeps
    # it (F1 in lab/FIDELITY.md): delete leaves it and names it; the emulator makes none.
    left = {("edge-a", "edge-b"), ("edge-b", "edge-a")} if lab.liqo == "real" else set()
    assert left <= left_by_liqo(kube)
    named = {
        tuple(line.split()[2:5:2])
        for line in deleted.stderr.splitlines()
        if line.startswith("note: ForeignCluster ") and "stays: Liqo made it" in line
    }
    assert named == {(fc, edge) for edge, fc in left}
    gone = shortcut_cli("delete", "edge-a", "edge-b")
    assert gone.returncode == ExitCode.SUCCESS
    assert "not found: nothing to delete" in gone.stdout
    assert "note:" not in gone.stderr
    # What Liqo left is no peering: preflight does not take it for one, and create works again.
    recreated = shortcut_cli("create", "edge-a", "edge-b", "-q")
    assert recreated.returncode == ExitCode.SUCCESS, recreated.stderr


def broken_kubeconfig(tmp_path: Path) -> Path:
    path = tmp_path / "broken"
    path.write_text("apiVersion: v1\nclusters: [\n")
    return path


def unreachable_kubeconfig(tmp_path: Path) -> Path:
    """The lab's kubeconfig with edge-b's server moved to a loopback port nobody listens on."""
    config = yaml.safe_load(kubeconfig_path().read_text())
    for entry in config["clusters"]:
        if entry["name"] == "edge-b":
            entry["cluster"]["server"] = "https://127.0.0.1:9"
    path = tmp_path / "unreachable"
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path


def alias_kubeconfig(tmp_path: Path) -> Path:
    """The lab's kubeconfig with a second context, edge-a-again, for edge-a's cluster and user."""
    config = yaml.safe_load(kubeconfig_path().read_text())
    (edge_a,) = [c for c in config["contexts"] if c["name"] == "edge-a"]
    config["contexts"].append({"name": "edge-a-again", "context": dict(edge_a["context"])})
    path = tmp_path / "alias"
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path


def central_only_kubeconfig(tmp_path: Path) -> Path:
    return one_context_kubeconfig(tmp_path, "central")


BAD_INPUT = [
    ("unknown context", ["edge-a", "edge-x"], ExitCode.USAGE, "edge-x"),
    ("same edge twice", ["edge-a", "edge-a"], ExitCode.USAGE, "both edges are 'edge-a'"),
    ("central as an edge", ["central", "edge-a"], ExitCode.USAGE, "is the central cluster"),
    (
        "the same cluster under two names",
        ["edge-a", "edge-a-again", "--kubeconfig", "{alias}"],
        ExitCode.USAGE,
        "error: 'edge-a' and 'edge-a-again' are the same cluster (edge-a): name two different "
        "edges",
    ),
    ("port out of range", ["edge-a", "edge-b", "--port", "0"], ExitCode.USAGE, "invalid --port"),
    ("mtu too small", ["edge-a", "edge-b", "--mtu", "100"], ExitCode.USAGE, "invalid --mtu"),
    (
        "unknown service type",
        ["edge-a", "edge-b", "--service-type", "Tunnel"],
        ExitCode.USAGE,
        "invalid --service-type",
    ),
    (
        "node port without NodePort",
        ["edge-a", "edge-b", "--node-port", "30001"],
        ExitCode.USAGE,
        "invalid --node-port: give it only with service type NodePort",
    ),
    ("unknown flag", ["edge-a", "edge-b", "--frobnicate"], ExitCode.USAGE, "--frobnicate"),
    ("timeout too small", ["edge-a", "edge-b", "--timeout", "2s"], ExitCode.USAGE, "too small"),
    ("malformed timeout", ["edge-a", "edge-b", "--timeout", "soon"], ExitCode.USAGE, "--timeout"),
    (
        "server edge not among the edges",
        ["edge-a", "edge-b", "--server-edge", "central"],
        ExitCode.USAGE,
        "--server-edge",
    ),
    (
        "missing edge kubeconfig",
        ["edge-a", "edge-b", "--edge-b-kubeconfig", "/nonexistent/edge-b"],
        ExitCode.PRECONDITION_FAILED,
        "kubeconfig /nonexistent/edge-b does not exist: check --edge-b-kubeconfig",
    ),
    (
        "edge context not in its own kubeconfig",
        ["edge-a", "edge-b", "--edge-b-kubeconfig", "{central-only}"],
        ExitCode.USAGE,
        "context 'edge-b' not found in",
    ),
    (
        "missing kubeconfig",
        ["edge-a", "edge-b", "--kubeconfig", "/nonexistent/kubeconfig"],
        ExitCode.PRECONDITION_FAILED,
        "/nonexistent/kubeconfig",
    ),
    (
        "malformed kubeconfig",
        ["edge-a", "edge-b", "--kubeconfig", "{broken}"],
        ExitCode.PRECONDITION_FAILED,
        "broken",
    ),
    (
        "unreachable API server",
        ["edge-a", "edge-b", "--kubeconfig", "{unreachable}"],
        ExitCode.PRECONDITION_FAILED,
        "cannot reach the API server of edge-b",
    ),
]


# The gateway's flags are create's; every other case is bad input to delete too.
CREATE_ONLY = {
    "port out of range",
    "mtu too small",
    "unknown service type",
    "node port without NodePort",
    "server edge not among the edges",
}


@pytest.mark.parametrize(
    ("command", "args", "exit_code", "says"),
    [
        pytest.param(command, args, code, says, id=f"{command}: {case}")
        for command in ("create", "delete")
        for case, args, code, says in BAD_INPUT
        if command == "create" or case not in CREATE_ONLY
    ],
)
def test_bad_input_gets_one_line_its_exit_code_and_changes_nothing(
    shortcut_cli: Callable[..., subprocess.CompletedProcess[str]],
    kube: Callable[[str], ApiClient],
    tmp_path: Path,
    command: str,
    args: list[str],
    exit_code: ExitCode,
    says: str,
) -> None:
    files = {
        "{broken}": broken_kubeconfig,
        "{unreachable}": unreachable_kubeconfig,
        "{central-only}": central_only_kubeconfig,
        "{alias}": alias_kubeconfig,
    }
    argv = [str(files[a](tmp_path)) if a in files else a for a in args]
    before = snapshot(kube)
    result = shortcut_cli(command, *argv)
    assert result.returncode == exit_code, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert says in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert snapshot(kube) == before


@pytest.mark.parametrize(
    ("faults", "reached", "times", "sent"),
    [
        ({"edge-a": {"configuration": "hang"}}, "create Configuration", 2, signal.SIGINT),
        ({"edge-b": {"gateway-pod": "hang"}}, "create GatewayServer", 1, signal.SIGINT),
        ({"edge-a": {"gateway-pod": "hang"}}, "create GatewayClient", 1, signal.SIGINT),
        ({"edge-b": {"connected": "hang"}}, "create PublicKey", 2, signal.SIGINT),
        (
            {"edge-b": {"server-endpoint": "hang"}},
            "wait for gateway pod liqo-tenant-edge-a/gw-edge-a to be ready:",
            1,
            signal.SIGINT,
        ),
        ({"edge-a": {"gateway-pod": "hang"}}, "create GatewayClient", 1, signal.SIGTERM),
        ({"edge-a": {"gateway-pod": "hang"}}, "create GatewayClient", 1, signal.SIGHUP),
    ],
    ids=[
        "configuration",
        "server-pod",
        "client-pod",
        "connection",
        "endpoint",
        "sigterm-client-pod",
        "sighup-client-pod",
    ],
)
def test_ctrl_c_during_a_wait_rolls_back_everything_and_exits_130(
    lab: Lab,
    kube: Callable[[str], ApiClient],
    tmp_path: Path,
    faults: dict[str, Any],
    reached: str,
    times: int,
    sent: signal.Signals,
    request: pytest.FixtureRequest,
) -> None:
    if "connected" in str(faults):  # the emulated gateways' switch
        request.getfixturevalue("emulated_gateways")
    before = snapshot(kube)
    set_faults(faults)
    stderr_path = tmp_path / "stderr"
    try:
        with create_running(stderr_path) as run:
            wait_for_line(run, stderr_path, f"{reached} ", times)
            time.sleep(0.5)  # well inside the hung wait now
            run.send_signal(sent)
            assert run.wait(timeout=90) == ExitCode.INTERRUPTED
    finally:
        clear_faults()
    last_line = stderr_path.read_text().splitlines()[-1]
    assert last_line == "error: interrupted; everything this run created was removed"
    assert settled(kube, before) == before


def test_delete_at_a_terminal_asks_first_and_a_no_changes_nothing(
    shortcut_cli: Callable[..., subprocess.CompletedProcess[str]],
    kube: Callable[[str], ApiClient],
    monkeypatch: pytest.MonkeyPatch,
    clean_pair: None,
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig_path()))
    assert shortcut_cli("create", "edge-a", "edge-b", "-q").returncode == ExitCode.SUCCESS

    def delete_answering(answer: str, *flags: str) -> tuple[int, str]:
        stderr = io.StringIO()
        env = Environment(io.StringIO(), stderr, False, True, answers=io.StringIO(answer))
        return run(["delete", "edge-a", "edge-b", "-q", *flags], env), stderr.getvalue()

    before = snapshot(kube)
    code, stderr = delete_answering("\n")  # Enter takes the default: no
    assert code == ExitCode.INTERRUPTED
    assert stderr.startswith("Delete shortcut edge-a--edge-b and every object it made on edge-b")
    assert stderr.endswith("[y/N]: error: not confirmed: nothing was deleted\n")
    assert snapshot(kube) == before

    code, stderr = delete_answering("", "--yes")  # nobody answers: --yes must not ask
    assert code == ExitCode.SUCCESS
    assert stderr == ""
    assert snapshot(kube) != before


def test_each_cluster_from_its_own_kubeconfig_file(
    shortcut_cli: Callable[..., subprocess.CompletedProcess[str]],
    kube: Callable[[str], ApiClient],
    tmp_path: Path,
) -> None:
    """Central from --kubeconfig, each edge from its own file, as peering users' files come."""
    files = {
        name: str(one_context_kubeconfig(tmp_path, name))
        for name in ("central", "edge-a", "edge-b")
    }
    flags = [
        "--kubeconfig", files["central"],
        "--edge-a-kubeconfig", files["edge-a"],
        "--edge-b-kubeconfig", files["edge-b"],
    ]  # fmt: skip
    before = snapshot(kube)
    created = shortcut_cli("create", "edge-a", "edge-b", "-q", *flags)
    assert created.returncode == ExitCode.SUCCESS, created.stderr
    deleted = shortcut_cli("delete", "edge-a", "edge-b", "-q", *flags)
    assert deleted.returncode == ExitCode.SUCCESS, deleted.stderr
    assert deleted.stdout.startswith("shortcut edge-a--edge-b deleted")
    assert settled(kube, before) == before
