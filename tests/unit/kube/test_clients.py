"""Clients are built from a resolved context and never wait on a server without a deadline."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from kubernetes.client import CoreV1Api
from pytest_mock import MockerFixture

from liqoshortcut import __version__
from liqoshortcut.errors import PreconditionFailed
from liqoshortcut.kube.clients import CONNECT_TIMEOUT, READ_TIMEOUT, connect
from liqoshortcut.kube.kubeconfig import ResolvedContext, kubeconfig_from_bytes

TOKEN = "s3cr3t-token-never-printed"


def context(cluster: dict[str, Any]) -> ResolvedContext:
    document = {
        "clusters": [{"name": "edge-a", "cluster": cluster}],
        "users": [{"name": "edge-a", "user": {"token": TOKEN}}],
        "contexts": [{"name": "edge-a", "context": {"cluster": "edge-a", "user": "edge-a"}}],
    }
    return kubeconfig_from_bytes(yaml.safe_dump(document).encode(), "Secret s/edge-a").resolve(
        "edge-a"
    )


def test_a_client_talks_to_the_contexts_server_and_is_named_after_it() -> None:
    cluster = connect(context({"server": "https://10.0.0.1:6443/"}))
    assert (cluster.name, cluster.server) == ("edge-a", "https://10.0.0.1:6443")
    assert cluster.api.configuration.host == "https://10.0.0.1:6443"
    assert connect(context({"server": "https://10.0.0.1:6443"}), name="edge A").name == "edge A"
    assert TOKEN not in repr(cluster)


def test_every_request_carries_a_timeout_unless_the_caller_sets_one(mocker: MockerFixture) -> None:
    cluster = connect(context({"server": "https://10.0.0.1:6443"}))
    request = mocker.patch.object(cluster.api.rest_client, "request", side_effect=RuntimeError)
    with pytest.raises(RuntimeError):
        CoreV1Api(cluster.api).read_namespace("liqo")
    assert request.call_args.kwargs["_request_timeout"] == (CONNECT_TIMEOUT, READ_TIMEOUT)
    with pytest.raises(RuntimeError):
        CoreV1Api(cluster.api).read_namespace("liqo", _request_timeout=1)
    assert request.call_args.kwargs["_request_timeout"] == 1


def test_a_failed_connection_is_retried_at_most_once() -> None:
    retries = connect(context({"server": "https://10.0.0.1:6443"})).api.configuration.retries
    assert (retries.total, retries.connect, retries.read) == (1, 1, 0)


def test_unusable_settings_fail_naming_the_context_not_the_credentials() -> None:
    bad = {"server": "https://10.0.0.1:6443", "certificate-authority-data": "notbase64"}
    with pytest.raises(
        PreconditionFailed, match="context 'edge-a' in Secret s/edge-a cannot be used"
    ) as raised:
        connect(context(bad))
    assert TOKEN not in str(raised.value)


def test_a_client_names_this_tool_and_its_version_to_the_api_server() -> None:
    cluster = connect(context({"server": "https://10.0.0.1:6443/"}))
    assert cluster.api.user_agent == f"liqo-shortcut/{__version__}"
