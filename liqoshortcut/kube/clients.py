"""One API client per cluster, built from a resolved context, that fails in seconds.

The kubernetes client waits forever by default (no request timeout, three silent retries), so a
mistyped server address or a firewalled edge would hang a run for minutes. Every client built here
carries a connect and a read timeout and retries a failed connection only once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import urllib3
from kubernetes import config
from kubernetes.client import ApiClient, Configuration
from kubernetes.config.config_exception import ConfigException

from liqoshortcut import __version__
from liqoshortcut.errors import PreconditionFailed
from liqoshortcut.kube.kubeconfig import ResolvedContext

CONNECT_TIMEOUT = 5.0  # seconds: a TCP+TLS handshake to a reachable API server takes milliseconds
READ_TIMEOUT = 30.0  # seconds: the API server's own default request timeout is 60s; lists are small
# One retry for a dropped connection (an API server restarting behind a load balancer), no more:
# with the connect timeout above an unreachable server fails within about ten seconds.
USER_AGENT = f"liqo-shortcut/{__version__}"
RETRIES = urllib3.Retry(total=1, connect=1, read=0, redirect=0, status=0, other=0)


@dataclass(frozen=True)
class Cluster:
    """A cluster as the tool talks to it: its name in messages, its API server, its client."""

    name: str
    server: str
    api: ApiClient = field(repr=False, compare=False)


class TimedApiClient(ApiClient):
    """An ApiClient whose every request has a timeout unless the caller gives its own."""

    def __init__(self, configuration: Configuration, timeout: tuple[float, float]) -> None:
        super().__init__(configuration)
        self.timeout = timeout

    def call_api(  # type: ignore[no-untyped-def]
        self,
        method,
        url,
        header_params=None,
        body=None,
        post_params=None,
        _request_timeout=None,
    ) -> Any:
        return super().call_api(
            method, url, header_params, body, post_params, _request_timeout or self.timeout
        )


def connect(
    context: ResolvedContext,
    *,
    name: str | None = None,
    timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
) -> Cluster:
    """A client for ``context``, named ``name`` (default: the context's name) in messages.

    Nothing is sent yet: an unreachable server is reported by the first call (see `errors`).
    """
    configuration = Configuration()
    try:
        config.load_kube_config_from_dict(
            dict(context.config),
            context=context.context,
            client_configuration=configuration,
            persist_config=False,
        )
    except (ConfigException, ValueError) as error:
        # The library's messages name keys and files, or say what a value is not (e.g. not
        # base64), never quote the values themselves.
        reason = " ".join(str(error).split()) or "unusable settings"
        raise PreconditionFailed(
            f"context {context.context!r} in {context.origin} cannot be used: {reason}; fix "
            "that kubeconfig"
        ) from None
    return _cluster(configuration, name or context.context, context.server, timeout)


def connect_in_cluster(
    name: str, *, timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT)
) -> Cluster:
    """A client for the cluster this process runs in, with its pod's service account."""
    configuration = Configuration()
    try:
        config.load_incluster_config(client_configuration=configuration)
    except ConfigException as error:
        raise PreconditionFailed(
            f"not running in a pod with a service account ({error}): pass --kubeconfig"
        ) from None
    return _cluster(configuration, name, configuration.host, timeout)


def _cluster(
    configuration: Configuration, name: str, server: str, timeout: tuple[float, float]
) -> Cluster:
    configuration.retries = RETRIES
    api = TimedApiClient(configuration, timeout)
    api.user_agent = USER_AGENT  # API servers' audit logs and metrics name this tool
    return Cluster(name=name, server=server, api=api)
