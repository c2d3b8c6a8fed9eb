"""The operator on the lab as a platform team runs it: the chart's RBAC, edge Secrets, a process.

`operator_identity` installs what the Helm chart grants (rendered by the pinned helm, applied to
central) for one watched namespace and returns a kubeconfig holding that ServiceAccount's token,
so the operator runs with exactly the chart's rights. `edge_secrets` puts, per edge, the
kubeconfig of Liqo's peering user for the other edge into that namespace. `OperatorThread` runs
the operator in this process (kopf in a thread, stopped through its stop flag) and keeps every
log record it emits, for the tests that scan them.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from kubernetes.client import (
    ApiClient,
    AuthenticationV1TokenRequest,
    CoreV1Api,
    V1ObjectMeta,
    V1Secret,
    V1TokenRequestSpec,
)

from deploy.generate import CHART
from lab import build
from lab.cluster import context_kubeconfig
from liqoshortcut.operator.main import parse_arguments, serve
from tests.integration.conftest import Kubectl

RELEASE = "shortcut"
TOKEN_SECONDS = 3600  # longer than the operator tests take


def render_chart(namespace: str, home: Path) -> list[dict[str, Any]]:
    values = home / "values.yaml"
    values.write_text(yaml.safe_dump({"watchNamespaces": [namespace]}))
    rendered = subprocess.run(
        [
            str(build.helm_binary()),
            "template",
            RELEASE,
            str(CHART),
            f"--namespace={namespace}",
            f"--values={values}",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={f"HELM_{kind}_HOME": str(home / kind) for kind in ("CACHE", "CONFIG", "DATA")},
    )
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


RBAC_KINDS = ("ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")


@contextmanager
def operator_identity(
    namespace: str, kube: Callable[[str], ApiClient], kubectl: Kubectl, home: Path
) -> Iterator[Path]:
    """A kubeconfig for central as the chart's ServiceAccount, its RBAC applied meanwhile."""
    rbac = [doc for doc in render_chart(namespace, home) if doc["kind"] in RBAC_KINDS]
    manifests = yaml.safe_dump_all(rbac)
    kubectl("apply", "--server-side", "--filename=-", stdin=manifests)
    try:
        (account,) = [doc for doc in rbac if doc["kind"] == "ServiceAccount"]
        token = token_for(kube("central"), account["metadata"]["name"], namespace)
        path = home / "operator.kubeconfig"
        path.write_text(yaml.safe_dump(with_token("central", token)))
        path.chmod(0o600)
        yield path
    finally:
        kubectl("delete", "--filename=-", "--wait=false", stdin=manifests, check=False)


def token_for(admin: ApiClient, account: str, namespace: str) -> str:
    granted = CoreV1Api(admin).create_namespaced_service_account_token(
        account,
        namespace,
        AuthenticationV1TokenRequest(
            spec=V1TokenRequestSpec(audiences=[], expiration_seconds=TOKEN_SECONDS)
        ),
    )
    assert granted.status is not None
    return str(granted.status.token)


def with_token(context: str, token: str) -> dict[str, Any]:
    """The lab's kubeconfig cut to ``context``, its user replaced by ``token``."""
    config = context_kubeconfig(context)
    config["users"][0]["user"] = {"token": token}
    return config


def put_secret(
    admin: ApiClient, namespace: str, name: str, kubeconfig: dict[str, Any] | bytes
) -> None:
    content = kubeconfig if isinstance(kubeconfig, bytes) else yaml.safe_dump(kubeconfig).encode()
    secret = V1Secret(
        metadata=V1ObjectMeta(name=name),
        data={"kubeconfig": base64.b64encode(content).decode()},
    )
    CoreV1Api(admin).create_namespaced_secret(namespace, secret)


class OperatorThread:
    """`kubectl shortcut operator ARGS` in this process; `records` holds what it logged."""

    def __init__(self, args: list[str]) -> None:
        self.arguments = parse_arguments(args)
        self.records: list[logging.LogRecord] = []
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="operator", daemon=True)
        self._handler = _Keep(self.records)

    def _run(self) -> None:
        asyncio.run(serve(self.arguments, stop_flag=self._stop, ready_flag=self._ready))

    def start(self) -> OperatorThread:
        logging.getLogger().addHandler(self._handler)
        logging.getLogger().setLevel(logging.DEBUG)
        self._thread.start()
        assert self._ready.wait(60), "the operator did not get ready in 60s"
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(120)
        logging.getLogger().removeHandler(self._handler)
        assert not self._thread.is_alive(), "the operator did not stop in 120s"

    def logged(self) -> str:
        return "\n".join(_formatted(record) for record in self.records)


class _Keep(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.DEBUG)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _formatted(record: logging.LogRecord) -> str:
    text = record.getMessage()
    if record.exc_info and record.exc_info[1] is not None:
        text += f" {record.exc_info[1]!r}"
    return text
