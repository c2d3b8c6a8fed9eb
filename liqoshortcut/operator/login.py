"""How the operator reaches the central cluster: one explicit answer for kopf and the workflow.

In a pod, the service account (kopf's own service-account login, the kubernetes client's in-cluster
config); outside, a kubeconfig context resolved by kubectl's rules (`--kubeconfig`, `--context`).
Both kopf's watch streams and the workflow's client come from the same resolved context, so the
operator never acts with two identities.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import kopf

from liqoshortcut.kube.clients import Cluster, connect, connect_in_cluster, renew_credentials
from liqoshortcut.kube.kubeconfig import load_kubeconfig

SERVICE_ACCOUNT: Final = Path("/var/run/secrets/kubernetes.io/serviceaccount")
CENTRAL: Final = "central"  # the name messages give the central cluster


@dataclass(frozen=True)
class Central:
    """The central cluster: the workflow's client, kopf's login, the namespace to default to."""

    cluster: Cluster
    login: Callable[..., kopf.ConnectionInfo | None]
    namespace: str


def in_a_pod() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and (SERVICE_ACCOUNT / "token").is_file()


def central(kubeconfig: Path | None, context: str | None) -> Central:
    """The central cluster from ``kubeconfig``/``context``, or the pod's service account when
    neither is given and the operator runs in a pod."""
    if kubeconfig is None and context is None and in_a_pod():
        namespace = (SERVICE_ACCOUNT / "namespace").read_text().strip() or "default"
        return Central(connect_in_cluster(CENTRAL), kopf.login_with_service_account, namespace)
    resolved = load_kubeconfig(kubeconfig).resolve(context)
    cluster = connect(resolved, name=f"{CENTRAL} ({resolved.context})")
    default_namespace = resolved.namespace or "default"

    def login(**_: Any) -> kopf.ConnectionInfo:
        return connection_info(cluster, default_namespace)

    return Central(cluster, login, default_namespace)


def connection_info(cluster: Cluster, namespace: str) -> kopf.ConnectionInfo:
    """kopf's view of the client's configuration: the same server, CA and credentials.

    The CA, certificate and key of a kubeconfig go to kopf as data, as the client holds them (in
    memory); kopf writes the pair to a temporary file only while it loads its SSL context. In a
    pod they are the service account's own files.
    """
    renew_credentials(cluster)  # the credentials of exec plugins expire
    configuration = cluster.api.configuration
    tls = cluster.tls
    header = configuration.get_api_key_with_prefix("BearerToken", alias="authorization") or ""
    scheme, _, token = header.partition(" ")
    pair = tls.certificate is not None and tls.key is not None
    return kopf.ConnectionInfo(
        server=configuration.host,
        ca_path=None if tls.ca is not None else configuration.ssl_ca_cert,
        ca_data=tls.ca,
        insecure=not configuration.verify_ssl,
        username=configuration.username or None,
        password=configuration.password or None,
        scheme=scheme or None,
        token=token or None,
        certificate_path=None if pair else configuration.cert_file,
        certificate_data=tls.certificate if pair else None,
        private_key_path=None if pair else configuration.key_file,
        private_key_data=tls.key if pair else None,
        default_namespace=namespace,
    )
