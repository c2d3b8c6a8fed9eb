"""The VirtualNodeShortcut operator, run against the lab with exactly the Helm chart's rights.

Each test starts the operator (kopf in this process, watching one namespace of central as the
chart's ServiceAccount), applies resources as a GitOps tool would and watches the edges with
admin clients. The edges' Secrets hold Liqo peering-user kubeconfigs, so the operator is held to
the same least privilege on the edges as `kubectl shortcut create`.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client import ApiClient, CoreV1Api, CustomObjectsApi, V1Namespace, V1ObjectMeta
from kubernetes.client.exceptions import ApiException

from lab.cluster import Lab, set_emulator_faults
from liqoshortcut.core.drift import drifted_fields
from liqoshortcut.core.model import API_GROUP, API_VERSION, KIND, PLURAL
from liqoshortcut.core.plan import placeholders
from liqoshortcut.operator.handlers import FINALIZER
from tests.integration.conftest import Kubectl
from tests.integration.operator_run import (
    OperatorThread,
    operator_identity,
    put_secret,
    with_token,
)
from tests.integration.peering_users import PEER_OF, grant_peering_user, revoke_peering_user
from tests.integration.snapshots import Snapshot, settled, snapshot

pytestmark = pytest.mark.integration

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
    core.delete_namespace(name)


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
def operator(
    identity: Path, namespace: str, edge_tokens: dict[str, str]
) -> Iterator[OperatorThread]:
    set_emulator_faults({})
    running = OperatorThread(
        ["--kubeconfig", str(identity), "-n", namespace, "--resync", RESYNC]
    ).start()
    yield running
    running.stop()


@pytest.fixture
def before(lab: Lab, kube: Callable[[str], ApiClient], edge_tokens: dict[str, str]) -> Snapshot:
    set_emulator_faults({})
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


def test_a_resource_becomes_ready_with_both_connections_and_delete_tears_it_down(
    operator: OperatorThread,
    shortcuts: Shortcuts,
    kube: Callable[[str], ApiClient],
    kubectl: Kubectl,
    namespace: str,
    before: Snapshot,
) -> None:
    shortcuts.apply(spec_for())
    waited = kubectl(
        "wait", "-n", namespace, "--for=condition=Ready", "--timeout=90s", f"vns/{NAME}"
    )
    assert "condition met" in waited.stdout
    resource = shortcuts.until("Ready at generation 1", ready_at(1))
    status = resource["status"]
    assert FINALIZER in resource["metadata"]["finalizers"]
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "Ready": "True",
        "Connected": "True",
        "CredentialsValid": "True",
    }
    assert status["path"] == "Hub"
    assert "lastError" not in status
    by_name = {edge["name"]: edge for edge in status["edges"]}
    assert by_name["edge-b"]["role"] == "server"
    assert by_name["edge-a"]["role"] == "client"
    assert {edge["clusterID"] for edge in status["edges"]} == {"edge-a", "edge-b"}
    for edge in status["edges"]:
        assert edge["connection"]["state"] == "Connected"
        assert edge["connection"]["latency"].endswith("s")
    assert counts(kube) == OBJECTS_PER_EDGE
    assert {"Created", "ShortcutReady", "BothConnected", "KubeconfigsWork"} <= reasons(
        kube, namespace
    )
    header, row = kubectl("get", "-n", namespace, "vns", NAME).stdout.splitlines()
    assert header.split() == ["NAME", "EDGE", "A", "EDGE", "B", "PATH", "READY", "AGE"]
    assert row.split()[:5] == [NAME, "edge-a", "edge-b", "Hub", "True"]

    shortcuts.delete()
    shortcuts.gone()
    assert settled(kube, before) == before
    assert "TornDown" in reasons(kube, namespace)


def test_a_steady_shortcut_is_not_rewritten_by_the_resync(
    operator: OperatorThread, shortcuts: Shortcuts, kube: Callable[[str], ApiClient]
) -> None:
    shortcuts.apply(spec_for())
    ready = shortcuts.until("Ready", ready_at(1))
    time.sleep(3 * float(RESYNC) + 1)  # three resync passes, Liqo refreshing latencies meanwhile
    later = shortcuts.get()
    assert later is not None
    assert later["metadata"]["resourceVersion"] == ready["metadata"]["resourceVersion"]


def test_changed_gateway_settings_are_applied_to_the_gateways(
    operator: OperatorThread, shortcuts: Shortcuts, kube: Callable[[str], ApiClient]
) -> None:
    shortcuts.apply(spec_for())
    shortcuts.until("Ready", ready_at(1))
    (server,) = ours(kube, "edge-b", "gatewayservers")
    shortcuts.patch({"gateway": {"mtu": 1300, "port": 51999}})
    shortcuts.until("Ready at generation 2", ready_at(2), timeout=120)
    (replaced,) = ours(kube, "edge-b", "gatewayservers")
    (client,) = ours(kube, "edge-a", "gatewayclients")
    assert replaced["metadata"]["uid"] != server["metadata"]["uid"]
    assert replaced["spec"]["mtu"] == client["spec"]["mtu"] == 1300
    assert replaced["spec"]["endpoint"]["port"] == 51999
    assert counts(kube) == OBJECTS_PER_EDGE


def test_a_deleted_gateway_client_is_made_again(
    operator: OperatorThread,
    shortcuts: Shortcuts,
    kube: Callable[[str], ApiClient],
    namespace: str,
) -> None:
    shortcuts.apply(spec_for())
    shortcuts.until("Ready", ready_at(1))
    (client,) = ours(kube, "edge-a", "gatewayclients")
    CustomObjectsApi(kube("edge-a")).delete_namespaced_custom_object(
        *NETWORKING,
        client["metadata"]["namespace"],
        "gatewayclients",
        client["metadata"]["name"],
    )

    def repaired(resource: Resource) -> bool:
        found = ours(kube, "edge-a", "gatewayclients")
        fresh = [c for c in found if c["metadata"]["uid"] != client["metadata"]["uid"]]
        complete = counts(kube) == OBJECTS_PER_EDGE
        return bool(fresh) and complete and is_true("Connected")(resource)

    shortcuts.until("a new GatewayClient, its key exchanged, Connected", repaired, timeout=60)
    repairs = [
        event
        for event in events(kube, namespace)
        if (event.reason == "Created" and str(event.message).endswith(" on edge-a"))
        or (event.reason == "DriftRepaired" and " on edge-a (drifted: " in str(event.message))
    ]
    assert repairs, [(e.reason, e.message) for e in events(kube, namespace)]


def test_a_second_resource_for_the_same_edges_waits_and_its_delete_leaves_the_first_alone(
    operator: OperatorThread, shortcuts: Shortcuts, kube: Callable[[str], ApiClient]
) -> None:
    shortcuts.apply(spec_for())
    shortcuts.until("Ready", ready_at(1))
    made = uids(kube)
    shortcuts.apply(spec_for(serverEdge="edge-a"), name="second")
    try:
        second = shortcuts.until(
            "the second refused",
            lambda r: condition(r, "Ready").get("reason") == "Conflict",
            name="second",
        )
        assert (
            f"{shortcuts.namespace}/{NAME} already joins these two edges"
            in (condition(second, "Ready")["message"])
        )
    finally:
        shortcuts.delete("second")
        shortcuts.gone(name="second")
    time.sleep(float(RESYNC) + 1)  # a resync pass of the first, after the second has gone
    first = shortcuts.get()
    assert first is not None
    assert is_true("Ready")(first)
    assert uids(kube) == made


def test_a_missing_secret_sets_credentials_invalid_and_changes_nothing(
    operator: OperatorThread,
    shortcuts: Shortcuts,
    kube: Callable[[str], ApiClient],
    namespace: str,
    before: Snapshot,
) -> None:
    spec = spec_for()
    spec["edges"][1]["secretRef"] = "edge-b-missing"
    shortcuts.apply(spec)
    resource = shortcuts.until(
        "CredentialsValid False",
        lambda r: condition(r, "CredentialsValid").get("status") == "False",
    )
    credentials = condition(resource, "CredentialsValid")
    assert credentials["reason"] == "CredentialsInvalid"
    assert f"Secret {namespace}/edge-b-missing does not exist" in credentials["message"]
    assert condition(resource, "Ready")["status"] == "False"
    assert resource["status"]["lastError"] == credentials["message"]
    assert snapshot(kube) == before

    put_secret(kube("central"), namespace, "edge-b-missing", _edge_b_secret(kube, namespace))
    try:
        shortcuts.until("Ready once the Secret exists", ready_at(1), timeout=120)
        shortcuts.delete()  # while the Secret is there: the teardown needs it
        shortcuts.gone()
    finally:
        CoreV1Api(kube("central")).delete_namespaced_secret("edge-b-missing", namespace)


def _edge_b_secret(kube: Callable[[str], ApiClient], namespace: str) -> bytes:
    secret = CoreV1Api(kube("central")).read_namespaced_secret("edge-b-kubeconfig", namespace)
    return base64.b64decode((secret.data or {})["kubeconfig"])


def test_an_exec_plugin_kubeconfig_is_refused_and_never_run(
    operator: OperatorThread,
    shortcuts: Shortcuts,
    kube: Callable[[str], ApiClient],
    namespace: str,
    tmp_path: Path,
    before: Snapshot,
) -> None:
    marker = tmp_path / "plugin-ran"
    kubeconfig = with_token("edge-b", "unused")
    kubeconfig["users"][0]["user"] = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "/bin/sh",
            "args": ["-c", f"touch {marker}"],
            "interactiveMode": "Never",
        }
    }
    put_secret(kube("central"), namespace, "edge-b-exec", kubeconfig)
    spec = spec_for()
    spec["edges"][1]["secretRef"] = "edge-b-exec"
    try:
        shortcuts.apply(spec)
        resource = shortcuts.until(
            "CredentialsValid False",
            lambda r: condition(r, "CredentialsValid").get("status") == "False",
        )
        assert (
            "exec plugin, which is not run here"
            in condition(resource, "CredentialsValid")["message"]
        )
        assert not marker.exists()
        assert snapshot(kube) == before
    finally:
        CoreV1Api(kube("central")).delete_namespaced_secret("edge-b-exec", namespace)


def test_an_edge_api_server_that_goes_away_is_waited_for_and_nothing_is_deleted(
    operator: OperatorThread, shortcuts: Shortcuts, kube: Callable[[str], ApiClient], lab: Lab
) -> None:
    shortcuts.apply(spec_for())
    shortcuts.until("Ready", ready_at(1))
    servers = ours(kube, "edge-b", "gatewayservers")
    made = uids(kube)
    with lab.apiserver_stopped("edge-a"):
        down = shortcuts.until(
            "Ready False while edge-a is down",
            lambda r: condition(r, "Ready").get("reason") == "ClusterUnreachable",
            timeout=60,
        )
        assert "cannot reach the API server of edge-a" in condition(down, "Ready")["message"]
        assert ours(kube, "edge-b", "gatewayservers") == servers
    shortcuts.until("Ready again", is_true("Ready"), timeout=120)
    assert uids(kube) == made


def test_an_operator_killed_midway_is_replaced_and_converges_without_duplicates(
    identity: Path,
    namespace: str,
    edge_tokens: dict[str, str],
    shortcuts: Shortcuts,
    kube: Callable[[str], ApiClient],
    tmp_path: Path,
) -> None:
    set_emulator_faults({"edge-a": {"gateway-pod": "hang"}})  # the client's pod never gets ready
    log = tmp_path / "operator.log"
    args = ["--kubeconfig", str(identity), "-n", namespace, "--resync", RESYNC]
    with log.open("w") as output:
        first = subprocess.Popen(
            [sys.executable, "-m", "liqoshortcut.operator", *args],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=dict(os.environ),
        )
    try:
        shortcuts.apply(spec_for())
        deadline = time.monotonic() + 60
        while "create GatewayClient" not in log.read_text():
            assert first.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
        set_emulator_faults({})
    second = OperatorThread(args).start()
    try:
        shortcuts.until("Ready after the restart", ready_at(1), timeout=120)
        assert counts(kube) == OBJECTS_PER_EDGE
        shortcuts.delete()
        shortcuts.gone()
    finally:
        second.stop()


def test_no_secret_reaches_status_events_or_logs(
    operator: OperatorThread,
    shortcuts: Shortcuts,
    kube: Callable[[str], ApiClient],
    namespace: str,
    identity: Path,
    edge_tokens: dict[str, str],
) -> None:
    shortcuts.apply(spec_for())
    shortcuts.until("Ready", ready_at(1))
    shortcuts.patch({"edges": spec_for()["edges"], "timeout": 30})
    resource = shortcuts.until("Ready at generation 2", ready_at(2))
    shortcuts.delete()
    shortcuts.gone()
    operator_token = yaml.safe_load(identity.read_text())["users"][0]["user"]["token"]
    secrets = [operator_token, *edge_tokens.values()]
    published = json.dumps(resource) + json.dumps(
        [{"reason": e.reason, "message": e.message} for e in events(kube, namespace)]
    )
    logged = operator.logged()
    assert logged  # the scan read something
    for secret in secrets:
        for fragment in (secret, secret[:24], secret[-24:]):
            assert fragment not in published
            assert fragment not in logged
    for marker in ("BEGIN", "PRIVATE KEY", "client-key-data", "token:"):
        assert marker not in published
        assert marker not in logged


def without_placeholders(manifest: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` without the fields only a running sequence knows (a dry run's placeholders)."""
    return {
        key: without_placeholders(value) if isinstance(value, dict) else value
        for key, value in manifest.items()
        if isinstance(value, dict) or not placeholders(value)
    }


def test_the_dry_run_s_resource_applies_as_is_and_the_operator_makes_that_shortcut(
    operator: OperatorThread,
    shortcuts: Shortcuts,
    shortcut_cli: Callable[..., subprocess.CompletedProcess[str]],
    kubectl: Kubectl,
    kube: Callable[[str], ApiClient],
    namespace: str,
) -> None:
    planned = shortcut_cli("create", "edge-a", "edge-b", "--dry-run=client", "-o", "json")
    assert planned.returncode == 0, planned.stderr
    manifest = shortcut_cli("create", "edge-a", "edge-b", "--dry-run=client", "-o", "yaml")
    kubectl("apply", "-n", namespace, "-f", "-", stdin=manifest.stdout)
    shortcuts.until("Ready", ready_at(1))
    objects = json.loads(planned.stdout)["objects"]
    assert sorted(objects) == ["edge-a", "edge-b"]
    for edge, manifests in objects.items():
        for wanted in manifests:
            group, version = wanted["apiVersion"].split("/")
            meta = wanted["metadata"]
            plural = {"PublicKey": "publickeies"}.get(wanted["kind"], wanted["kind"].lower() + "s")
            live: Resource = CustomObjectsApi(kube(edge)).get_namespaced_custom_object(
                group, version, meta["namespace"], plural, meta["name"]
            )  # type: ignore[assignment]
            assert live["metadata"]["labels"] == meta["labels"]
            assert drifted_fields(without_placeholders(wanted), live) == []
    listed = json.loads(shortcut_cli("list", "-o", "json").stdout)["shortcuts"]
    assert [(s["source"], s["state"]) for s in listed] == [(f"{namespace}/{NAME}", "Connected")]


def test_a_bad_field_is_refused_by_the_api_server_naming_it(
    kubectl: Kubectl, namespace: str, edge_tokens: dict[str, str]
) -> None:
    bad = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": "bad-port"},
        "spec": spec_for(gateway={"port": 0}),
    }
    refused = kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump(bad), check=False)
    assert refused.returncode != 0
    assert "spec.gateway.port" in refused.stderr
