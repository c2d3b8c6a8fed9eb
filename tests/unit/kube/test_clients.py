"""Clients are built from a resolved context and never wait on a server without a deadline."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import yaml
from kubernetes.client import CoreV1Api
from pytest_mock import MockerFixture

from liqoshortcut import __version__
from liqoshortcut.errors import PreconditionFailed
from liqoshortcut.kube import rest
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


def test_a_429_is_asked_again_after_its_retry_after_and_a_lasting_one_is_an_answer_not_a_hang() -> (
    None
):
    """A busy (or just restarted) API server sheds load with 429 and Retry-After: like client-go,
    the client waits and asks again, whatever the method (a 429 changed nothing), and never takes
    it for an unreachable server."""
    answers = [429, 200, 429, 429, 201] + [429] * 10
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def answer(self) -> None:
            asked.append(self.command)
            status = answers.pop(0)
            body = b"{}"
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", "0")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        cluster = connect(context({"server": f"http://127.0.0.1:{server.server_port}"}))
        assert rest.send(cluster, "GET", "/api/v1/namespaces").status == 200
        created = rest.send(cluster, "POST", "/api/v1/namespaces", body={"metadata": {}})
        assert (created.status, asked) == (201, ["GET"] * 2 + ["POST"] * 3)
        lasting = rest.send(cluster, "POST", "/api/v1/namespaces", body={"metadata": {}})
        assert lasting.status == 429  # mapped by errors.api_call as any error answer
        assert len(asked) == 5 + 1 + rest.THROTTLED_RETRIES
    finally:
        server.shutdown()
