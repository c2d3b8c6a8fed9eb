"""The operator on the lab, shared by its test modules: a namespace of central watched by the
operator as the chart's ServiceAccount, the edges' peering-user Secrets in it, the operator
itself (kopf in this process), and VirtualNodeShortcuts read and written as central's admin.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import ApiClient, CoreV1Api, CustomObjectsApi, V1Namespace, V1ObjectMeta
from kubernetes.client.exceptions import ApiException

from lab.cluster import Lab
from lab.faults import clear_faults
from liqoshortcut.core.model import API_GROUP, API_VERSION, KIND, PLURAL
from tests.integration.conftest import Kubectl
from tests.integration.operator_run import (
    OperatorThread,
    operator_identity,
    put_secret,
    with_token,
)
from tests.integration.peering_users import PEER_OF, grant_peering_user, revoke_peering_user
from tests.integration.snapshots import Snapshot, delete_namespaces, snapshot

VERSION = API_VERSION.split("/")[1]
NAME = "edge-a--edge-b"
RESYNC = "3"  # seconds: drift repair and health within a few seconds, not a minute
NETWORKING = ("networking.liqo.io", "v1beta1")
OBJECTS_PER_EDGE = {  # what a shortcut leaves on each edge, tenant namespace aside
    "edge-a": {"configurations": 1, "gatewayclients": 1, "publickeies": 1},
    "edge-b": {"configurations": 1, "gatewayservers": 1, "publickeies": 1},
}

Resource = dict[str, Any]


@pytest.fixture(scope="module")
def namespace(lab: Lab, kube: Callable[[str], ApiClient], shortcut_crd: str) -> Iterator[str]:
    name = f"t-op-{uuid.uuid4().hex[:6]}"
    core = CoreV1Api(kube("central"))
    core.create_namespace(V1Namespace(metadata=V1ObjectMeta(name=name)))
    yield name
    custom = CustomObjectsApi(kube("central"))
    left: Resource = custom.list_namespaced_custom_object(API_GROUP, VERSION, name, PLURAL)  # type: ignore[assignment]
    for item in left["items"]:
        # A test that failed midway may leave one behind its finalizer: let the namespace go.
        patch = {"metadata": {"finalizers": None}}
        custom.patch_namespaced_custom_object(
            API_GROUP, VERSION, name, PLURAL, item["metadata"]["name"], patch
        )
    delete_namespaces(kube("central"), [name])


@pytest.fixture(scope="module")
def identity(
    namespace: str,
    kube: Callable[[str], ApiClient],
    kubectl: Kubectl,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Path]:
    with operator_identity(namespace, kube, kubectl, tmp_path_factory.mktemp("chart")) as path:
        yield path


@pytest.fixture(scope="module")
def edge_tokens(namespace: str, kube: Callable[[str], ApiClient]) -> Iterator[dict[str, str]]:
    """Per edge, a peering user for the other edge, its kubeconfig in Secret EDGE-kubeconfig."""
    granted = {edge: grant_peering_user(kube(edge), peer) for edge, peer in PEER_OF.items()}
    for edge, (token, _) in granted.items():
        put_secret(kube("central"), namespace, f"{edge}-kubeconfig", with_token(edge, token))
    yield {edge: token for edge, (token, _) in granted.items()}
    for edge, peer in PEER_OF.items():
        revoke_peering_user(kube(edge), peer, made_namespace=granted[edge][1])


@pytest.fixture
def operator_args() -> list[str]:
    """Options a test module adds to the operator's command line (override it there)."""
    return []


@pytest.fixture
def operator(
    identity: Path, namespace: str, edge_tokens: dict[str, str], operator_args: list[str]
) -> Iterator[OperatorThread]:
    clear_faults()
    running = OperatorThread(
        ["--kubeconfig", str(identity), "-n", namespace, "--resync", RESYNC, *operator_args]
    ).start()
    yield running
    running.stop()


@pytest.fixture
def before(lab: Lab, kube: Callable[[str], ApiClient], edge_tokens: dict[str, str]) -> Snapshot:
    clear_faults()
    return snapshot(kube)


class Shortcuts:
    """VirtualNodeShortcuts in the test namespace, read and written as central's admin."""

    def __init__(self, api: ApiClient, namespace: str) -> None:
        self.custom = CustomObjectsApi(api)
        self.namespace = namespace

    def apply(self, spec: dict[str, Any], name: str = NAME) -> Resource:
        body = {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": name}, "spec": spec}
        created: Resource = self.custom.create_namespaced_custom_object(
            API_GROUP, VERSION, self.namespace, PLURAL, body
        )  # type: ignore[assignment]
        return created

    def get(self, name: str = NAME) -> Resource | None:
        try:
            found: Resource = self.custom.get_namespaced_custom_object(
                API_GROUP, VERSION, self.namespace, PLURAL, name
            )  # type: ignore[assignment]
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return found

    def patch(self, spec: dict[str, Any], name: str = NAME) -> None:
        self.custom.patch_namespaced_custom_object(
            API_GROUP, VERSION, self.namespace, PLURAL, name, {"spec": spec}
        )

    def delete(self, name: str = NAME) -> None:
        self.custom.delete_namespaced_custom_object(
            API_GROUP, VERSION, self.namespace, PLURAL, name
        )

    def until(
        self, what: str, holds: Callable[[Resource], bool], timeout: float = 90, name: str = NAME
    ) -> Resource:
        deadline = time.monotonic() + timeout
        while True:
            current = self.get(name)
            if current is not None and holds(current):
                return current
            assert time.monotonic() < deadline, f"{what} not reached in {timeout}s: {current}"
            time.sleep(0.3)

    def gone(self, timeout: float = 90, name: str = NAME) -> None:
        deadline = time.monotonic() + timeout
        while self.get(name) is not None:
            assert time.monotonic() < deadline, f"{name} still there after {timeout}s"
            time.sleep(0.3)


@pytest.fixture
def shortcuts(kube: Callable[[str], ApiClient], namespace: str) -> Iterator[Shortcuts]:
    made = Shortcuts(kube("central"), namespace)
    yield made
    if made.get() is not None:  # torn down while the test's operator runs
        made.delete()
        try:
            made.gone()
        finally:  # never left pinned by its finalizer for the next test to trip over
            if made.get() is not None:
                made.custom.patch_namespaced_custom_object(
                    API_GROUP, VERSION, namespace, PLURAL, NAME, {"metadata": {"finalizers": None}}
                )


def condition(resource: Resource, kind: str) -> dict[str, Any]:
    found = [c for c in (resource.get("status") or {}).get("conditions") or [] if c["type"] == kind]
    return found[0] if found else {}


def is_true(kind: str) -> Callable[[Resource], bool]:
    return lambda resource: condition(resource, kind).get("status") == "True"


def ready_at(generation: int) -> Callable[[Resource], bool]:
    return lambda resource: (
        is_true("Ready")(resource) and (resource["status"].get("observedGeneration") == generation)
    )


def spec_for(**overrides: Any) -> dict[str, Any]:
    return {
        "edges": [
            {"name": "edge-a", "secretRef": "edge-a-kubeconfig"},
            {"name": "edge-b", "secretRef": "edge-b-kubeconfig"},
        ],
        "serverEdge": "edge-b",
        **overrides,
    }


def ours(kube: Callable[[str], ApiClient], edge: str, plural: str) -> list[Resource]:
    listed: Resource = CustomObjectsApi(kube(edge)).list_cluster_custom_object(
        *NETWORKING, plural, label_selector=f"shortcut.liqo.io/name={NAME}"
    )  # type: ignore[assignment]
    items: list[Resource] = listed["items"]
    return items


def counts(kube: Callable[[str], ApiClient]) -> dict[str, dict[str, int]]:
    return {
        edge: {plural: len(ours(kube, edge, plural)) for plural in kinds}
        for edge, kinds in OBJECTS_PER_EDGE.items()
    }


def uids(kube: Callable[[str], ApiClient]) -> dict[str, dict[str, list[str]]]:
    """Per edge and kind, the uids of the shortcut's objects: same uids, same objects."""
    return {
        edge: {p: sorted(o["metadata"]["uid"] for o in ours(kube, edge, p)) for p in kinds}
        for edge, kinds in OBJECTS_PER_EDGE.items()
    }


def events(kube: Callable[[str], ApiClient], namespace: str) -> list[Any]:
    return list(CoreV1Api(kube("central")).list_namespaced_event(namespace).items)


def reasons(kube: Callable[[str], ApiClient], namespace: str) -> set[str]:
    return {str(event.reason) for event in events(kube, namespace)}
