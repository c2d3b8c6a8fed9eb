"""Exec credential plugins run within a time limit, and fail in one line naming the plugin and how
it ended; their output (credentials) is never quoted."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from pytest_mock import MockerFixture

from liqoshortcut.kube import rest
from liqoshortcut.kube.clients import connect
from liqoshortcut.kube.exec_plugin import PluginFailed, stop_running_plugins
from liqoshortcut.kube.kubeconfig import ResolvedContext, load_kubeconfig

V1 = "client.authentication.k8s.io/v1"
SECRET = "s3cr3t-plugin-token"


def plugin(tmp_path: Path, name: str, body: str) -> Path:
    script = tmp_path / name
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return script


def with_plugin(tmp_path: Path, command: Path, **exec_fields: Any) -> ResolvedContext:
    document = {
        "clusters": [{"name": "edge-a", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "users": [
            {
                "name": "sso",
                "user": {"exec": {"apiVersion": V1, "command": str(command), **exec_fields}},
            }
        ],
        "contexts": [{"name": "edge-a", "context": {"cluster": "edge-a", "user": "sso"}}],
        "current-context": "edge-a",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(document))
    return load_kubeconfig(path).resolve()


def credential(status: dict[str, Any], api_version: str = V1) -> str:
    return json.dumps({"apiVersion": api_version, "kind": "ExecCredential", "status": status})


def authorization(cluster: Any) -> str:
    _, _, headers, *_ = cluster.api.param_serialize(
        method="GET", resource_path="/api", header_params={}, auth_settings=["BearerToken"]
    )
    return str(headers.get("authorization"))


def test_a_plugins_token_authenticates_the_client(tmp_path: Path) -> None:
    command = plugin(tmp_path, "token", f"echo '{credential({'token': SECRET})}'")
    cluster = connect(with_plugin(tmp_path, command))
    assert authorization(cluster) == f"Bearer {SECRET}"
    assert SECRET not in repr(cluster)


def test_a_plugin_gets_the_exec_request_and_its_env(tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    command = plugin(
        tmp_path,
        "token",
        f'echo "$KUBERNETES_EXEC_INFO" > {seen}; echo "$TEAM" >> {seen}; '
        f"echo '{credential({'token': SECRET})}'",
    )
    connect(
        with_plugin(
            tmp_path, command, env=[{"name": "TEAM", "value": "edge"}], provideClusterInfo=True
        )
    )
    request, team = seen.read_text().splitlines()
    assert json.loads(request) == {
        "apiVersion": V1,
        "kind": "ExecCredential",
        "spec": {"interactive": False, "cluster": {"server": "https://127.0.0.1:6443"}},
    }
    assert team == "edge"


def test_a_failing_plugin_is_named_with_its_exit_status_and_last_stderr_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    command = plugin(
        tmp_path,
        "sso-login",
        "echo starting >&2; echo 'error: the SSO session expired' >&2; exit 1",
    )
    with pytest.raises(PluginFailed) as raised:
        connect(with_plugin(tmp_path, command))
    assert str(raised.value) == (
        f"the exec plugin '{command}' of user 'sso' of context 'edge-a' in "
        f"{tmp_path / 'kubeconfig'} exited with status 1: error: the SSO session expired"
    )
    assert capfd.readouterr() == ("", "")  # no stray log lines


def test_a_hanging_plugin_and_its_children_are_stopped_at_the_timeout(tmp_path: Path) -> None:
    child = tmp_path / "child.pid"
    command = plugin(tmp_path, "hang", f"sleep 300 & echo $! > {child}; wait")
    started = time.monotonic()
    with pytest.raises(PluginFailed) as raised:
        connect(with_plugin(tmp_path, command), plugin_timeout=1)
    assert time.monotonic() - started < 5
    assert str(raised.value).endswith(
        "did not finish within 1s and was stopped: run it by hand to see what it waits for"
    )
    pid = int(child.read_text())
    deadline = time.monotonic() + 5
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # killed; the reaper collects it
    stat = Path(f"/proc/{pid}/stat")
    assert not stat.exists() or stat.read_text().split(") ")[1].startswith("Z")


def test_garbage_on_stdout_is_refused_without_quoting_it(tmp_path: Path) -> None:
    command = plugin(tmp_path, "garbage", f"echo 'token={SECRET} not json'")
    with pytest.raises(PluginFailed) as raised:
        connect(with_plugin(tmp_path, command))
    assert "printed no ExecCredential" in str(raised.value)
    assert SECRET not in str(raised.value)


@pytest.mark.parametrize(
    ("stdout", "says"),
    [
        pytest.param(
            credential({"token": SECRET}, api_version="client.authentication.k8s.io/v1beta1"),
            "answered in apiVersion 'client.authentication.k8s.io/v1beta1', not the "
            "client.authentication.k8s.io/v1 the kubeconfig asks for",
            id="other apiVersion",
        ),
        pytest.param(
            credential({"clientCertificateData": "-----BEGIN CERTIFICATE-----"}),
            "without status.token nor both status.clientCertificateData and status.clientKeyData",
            id="certificate without key",
        ),
    ],
)
def test_an_unusable_credential_is_refused_in_one_line(
    tmp_path: Path, stdout: str, says: str
) -> None:
    command = plugin(tmp_path, "odd", f"echo '{stdout}'")
    with pytest.raises(PluginFailed, match=says) as raised:
        connect(with_plugin(tmp_path, command))
    assert SECRET not in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_plugin_that_is_not_installed_gets_its_install_hint(tmp_path: Path) -> None:
    context = with_plugin(
        tmp_path, tmp_path / "missing-plugin", installHint="brew install\n  sso-plugin"
    )
    with pytest.raises(PluginFailed) as raised:
        connect(context)
    assert str(raised.value) == (
        f"the exec plugin '{tmp_path / 'missing-plugin'}' of user 'sso' of context 'edge-a' in "
        f"{tmp_path / 'kubeconfig'} cannot be started: No such file or directory; "
        "brew install sso-plugin"
    )


def test_an_expired_token_is_renewed_before_the_next_request(
    tmp_path: Path, mocker: MockerFixture
) -> None:
    runs = tmp_path / "runs"
    past = "2000-01-01T00:00:00Z"
    command = plugin(
        tmp_path,
        "token",
        f"echo run >> {runs}; n=$(wc -l < {runs}); "
        f"""echo '{{"apiVersion": "{V1}", "kind": "ExecCredential", '"""
        f"""'"status": {{"token": "t'$n'", "expirationTimestamp": "{past}"}}}}'""",
    )
    cluster = connect(with_plugin(tmp_path, command))
    sent = mocker.patch.object(cluster.api.rest_client, "request", side_effect=RuntimeError)
    with pytest.raises(RuntimeError):
        rest.request(cluster, "GET", "/api/v1/namespaces")
    assert sent.call_args.kwargs["headers"]["authorization"] == "Bearer t2"
    assert len(runs.read_text().splitlines()) == 2


def test_a_plugin_is_not_run_when_the_user_also_has_a_token(tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    command = plugin(tmp_path, "token", f"touch {ran}; echo '{credential({'token': 'x'})}'")
    context = with_plugin(tmp_path, command)
    users = context.config["users"]
    users[0]["user"]["token"] = SECRET
    cluster = connect(context)
    assert authorization(cluster) == f"Bearer {SECRET}"
    assert not os.path.exists(ran)


def test_plugins_still_running_when_the_run_ends_are_killed_with_their_children(
    tmp_path: Path,
) -> None:
    pids = tmp_path / "pids"
    command = plugin(tmp_path, "hang", f"sleep 300 & echo $$ $! > {pids}; wait")
    context = with_plugin(tmp_path, command)
    failures: list[BaseException] = []

    def connect_in_a_worker() -> None:
        try:
            connect(context, plugin_timeout=120)
        except PluginFailed as error:
            failures.append(error)

    worker = threading.Thread(target=connect_in_a_worker)
    worker.start()
    deadline = time.monotonic() + 10
    while not (pids.exists() and pids.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop_running_plugins()  # what the exit handler does
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert len(failures) == 1
    assert str(failures[0]).endswith("was killed by signal 9")
    for pid in map(int, pids.read_text().split()):
        stat = Path(f"/proc/{pid}/stat")
        deadline = time.monotonic() + 5
        while stat.exists() and time.monotonic() < deadline and ") Z" not in stat.read_text():
            time.sleep(0.05)
        assert not stat.exists() or ") Z" in stat.read_text()
