"""`make demo` creates the operator's Secrets without printing the kubeconfigs inside them."""

from __future__ import annotations

import base64
import subprocess
from typing import Any

import pytest
import yaml
from pytest_mock import MockerFixture

from lab import demo
from lab.cluster import LabState

KEY = "-----BEGIN EC PRIVATE KEY-----\nZGVtby1rZXktbWF0ZXJpYWw=\n-----END EC PRIVATE KEY-----\n"
KUBECONFIG: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Config",
    "users": [
        {"name": "admin", "user": {"client-key-data": base64.b64encode(KEY.encode()).decode()}}
    ],
}


def fake_kubectl(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """kubectl's answers: the Secret manifest for a client-side dry run, a name for apply."""
    stdin = kwargs["input"]
    if argv[1:3] == ["create", "secret"]:
        data = base64.b64encode(stdin.encode()).decode()
        manifest = yaml.safe_dump(
            {"apiVersion": "v1", "kind": "Secret", "data": {"kubeconfig": data}}
        )
        return subprocess.CompletedProcess(argv, 0, stdout=manifest, stderr="")
    assert argv[1:2] == ["apply"]
    return subprocess.CompletedProcess(
        argv, 0, stdout="secret/edge-a-kubeconfig created\n", stderr=""
    )


def test_the_demo_creates_a_kubeconfig_secret_without_echoing_its_content(
    mocker: MockerFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    mocker.patch.object(demo, "_kubectl", return_value="kubectl")
    mocker.patch.object(demo, "context_kubeconfig", return_value=KUBECONFIG)
    kubectl = mocker.patch.object(subprocess, "run", side_effect=fake_kubectl)
    demo.create_kubeconfig_secret("edge-a")
    shown = capsys.readouterr()
    assert shown.out == (
        "\n$ kubectl create secret generic edge-a-kubeconfig -n shortcuts "
        "--from-file=kubeconfig=edge-a.yaml\nsecret/edge-a-kubeconfig created\n"
    )
    assert shown.err == ""
    applied = kubectl.call_args_list[-1]
    assert applied.args[0][1:] == ["apply", "-n", "shortcuts", "-f", "-"]
    secret = yaml.safe_load(applied.kwargs["input"])
    assert yaml.safe_load(base64.b64decode(secret["data"]["kubeconfig"])) == KUBECONFIG


@pytest.mark.parametrize(
    ("mode", "said"), [("real", "Liqo v1.2.0's own"), ("emulated", "emulator")]
)
def test_the_demo_says_first_who_plays_liqo(
    mode: str, said: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("LAB_DIR", str(tmp_path))
    LabState(clusters=[], liqo=mode).save()  # type: ignore[arg-type]
    demo.announce_liqo()
    out = capsys.readouterr().out
    assert said in out.splitlines()[0]
    assert f"LAB_LIQO={mode}" in out
