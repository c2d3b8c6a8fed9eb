"""Kubernetes API clients for the lab's contexts, for the lab's own scripts and tests."""

from __future__ import annotations

from pathlib import Path

from kubernetes import config
from kubernetes.client import ApiClient, Configuration

from lab.cluster import kubeconfig_path


def client_configuration(context: str, kubeconfig: Path | None = None) -> Configuration:
    """The connection settings (server, CA, client certificate) of one lab context."""
    configuration = Configuration()
    config.load_kube_config(
        config_file=str(kubeconfig or kubeconfig_path()),
        context=context,
        client_configuration=configuration,
    )
    return configuration


def api_client(context: str, kubeconfig: Path | None = None) -> ApiClient:
    """A client for one lab context; each call builds its own so threads never share one."""
    return ApiClient(client_configuration(context, kubeconfig))
