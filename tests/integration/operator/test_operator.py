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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client import ApiClient, CoreV1Api, CustomObjectsApi

from lab.cluster import Lab
from lab.faults import clear_faults, set_faults
from lab.topology import topology_from_env
from liqoshortcut.core.drift import drifted_fields
from liqoshortcut.core.model import API_VERSION, KIND
from liqoshortcut.core.plan import placeholders
from liqoshortcut.operator.handlers import FINALIZER
from tests.integration.conftest import Kubectl
from tests.integration.operator.conftest import (
    NAME,
    NETWORKING,
    OBJECTS_PER_EDGE,
    RESYNC,
    Resource,
    Shortcuts,
    condition,
    counts,
    events,
    is_true,
    ours,
    ready_at,
    reasons,
    spec_for,
    uids,
)
from tests.integration.operator_run import (
    OperatorThread,
    put_secret,
    with_token,
)
from tests.integration.snapshots import Snapshot, settled, snapshot

LIQO_LATENCY_REFRESH = 10.0  # the chart's --ping-update-status-interval

pytestmark = pytest.mark.integration


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
    shortcuts.until("Ready at generation 1", ready_at(1))
    # the traffic router's first check follows: no Service selected, so nothing routed
    resource = shortcuts.until(
        "a traffic decision", lambda r: bool(condition(r, "DirectPathActive"))
    )
    status = resource["status"]
    assert FINALIZER in resource["metadata"]["finalizers"]
    assert {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]} == {
        "Ready": ("True", "ShortcutReady"),
        "Connected": ("True", "BothConnected"),
        "CredentialsValid": ("True", "KubeconfigsWork"),
        "DirectPathActive": ("False", "NoServiceSelected"),
    }
    assert (status["path"], status["routedServices"]) == ("Hub", [])
    assert "lastError" not in status
    by_name = {edge["name"]: edge for edge in status["edges"]}
    assert by_name["edge-b"]["role"] == "server"
    assert by_name["edge-a"]["role"] == "client"
    assert {edge["clusterID"] for edge in status["edges"]} == {"edge-a", "edge-b"}
    for edge in status["edges"]:
        assert edge["connection"]["state"] == "Connected"
        assert edge["connection"]["latency"].endswith("s")
    # Where each edge reaches the other's pods: the lab's pod CIDRs do not overlap, so as they are.
    lab_cidrs = topology_from_env()
    assert by_name["edge-a"]["peerPodCIDRs"] == [lab_cidrs.cluster("edge-b").pod_cidr]
    assert by_name["edge-b"]["peerPodCIDRs"] == [lab_cidrs.cluster("edge-a").pod_cidr]
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
    # Steady once the router's hysteresis is through: a new shortcut's path turns Direct after
    # its healthy checks (nothing selected, so nothing routed), which is a real status change.
    shortcuts.until(
        "Ready and the traffic decision settled",
        lambda r: ready_at(1)(r) and (r["status"].get("traffic") or {}).get("choice") == "Direct",
    )
    # Liqo's gateways measure the first latency as the tunnel comes up, handshake included
    # (hundreds of ms on the real data path), and replace it at their next refresh: a real
    # change the status follows. Steady from then on.
    time.sleep(LIQO_LATENCY_REFRESH + 1)
    ready = shortcuts.get()
    assert ready is not None
    # three resync passes and two traffic rounds, Liqo refreshing latencies meanwhile
    time.sleep(3 * float(RESYNC) + 1)
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
    set_faults({"edge-a": {"gateway-pod": "hang"}})  # the client's pod never gets ready
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
        clear_faults()
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
