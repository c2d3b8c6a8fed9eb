"""`create --dry-run=client|server` changes nothing, and shows what a real `create` then makes.

The client-side plan is held to the objects a real run leaves on the edges (field by field, the
run-time values aside); its YAML applies as is in central and is a VirtualNodeShortcut the API
server accepts; the server-side run reports each API server's answer, including a refusal.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client import ApiClient

from lab.faults import clear_faults, set_faults
from liqoshortcut.core.plan import PLACEHOLDER_PREFIX
from liqoshortcut.errors import ExitCode
from tests.integration.admission import REFUSAL
from tests.integration.snapshots import snapshot

pytestmark = pytest.mark.integration

CLI = Callable[..., Any]
Kube = Callable[[str], ApiClient]
PLURALS = {
    "Namespace": None,
    "Configuration": "configurations",
    "GatewayServer": "gatewayservers",
    "GatewayClient": "gatewayclients",
    "PublicKey": "publickeies",
}


@pytest.fixture
def fresh_pair(kube: Kube) -> None:
    """No tenant namespace of one edge on the other: as before any peering between them.

    Other tests leave some behind, as liqoctl does (its reset keeps them).
    """
    peers = {"edge-a": "edge-b", "edge-b": "edge-a"}
    for edge, peer in peers.items():
        core = client.CoreV1Api(kube(edge))
        if core.list_namespace(field_selector=f"metadata.name=liqo-tenant-{peer}").items:
            core.delete_namespace(f"liqo-tenant-{peer}")
    deadline = time.monotonic() + 60
    for edge, peer in peers.items():
        core = client.CoreV1Api(kube(edge))
        while core.list_namespace(field_selector=f"metadata.name=liqo-tenant-{peer}").items:
            assert time.monotonic() < deadline, f"liqo-tenant-{peer} on {edge} is not going away"
            time.sleep(0.2)


@pytest.fixture
def deleted_afterwards(shortcut_cli: CLI) -> Iterator[None]:
    yield
    assert shortcut_cli("delete", "edge-a", "edge-b", "-q", "-y").returncode == ExitCode.SUCCESS


def read_back(kube: Kube, cluster: str, planned: dict[str, Any]) -> dict[str, Any]:
    meta = planned["metadata"]
    if planned["kind"] == "Namespace":
        namespace = client.CoreV1Api(kube(cluster)).read_namespace(meta["name"])
        found: dict[str, Any] = kube(cluster).sanitize_for_serialization(namespace)
        return found
    custom = client.CustomObjectsApi(kube(cluster))
    group, version = planned["apiVersion"].split("/")
    plural = PLURALS[planned["kind"]]
    assert plural is not None
    read: dict[str, Any] = custom.get_namespaced_custom_object(  # type: ignore[assignment]
        group, version, meta["namespace"], plural, meta["name"]
    )
    return read


def agrees(planned: object, actual: object, path: str = "") -> list[str]:
    """Where ``actual`` differs from ``planned``; placeholders agree with any value."""
    if isinstance(planned, str) and planned.startswith(PLACEHOLDER_PREFIX):
        return []
    if isinstance(planned, dict) and isinstance(actual, dict):
        return [
            d for key in planned for d in agrees(planned[key], actual.get(key), f"{path}.{key}")
        ]
    if isinstance(planned, list) and isinstance(actual, list) and len(planned) == len(actual):
        return [
            d
            for i, (p, a) in enumerate(zip(planned, actual, strict=True))
            for d in agrees(p, a, f"{path}[{i}]")
        ]
    return [] if planned == actual else [f"{path}: planned {planned!r}, found {actual!r}"]


def test_the_client_dry_run_changes_nothing_and_shows_exactly_what_create_makes(
    shortcut_cli: CLI, kube: Kube, fresh_pair: None, deleted_afterwards: None
) -> None:
    before = snapshot(kube)
    dry = shortcut_cli("create", "edge-a", "edge-b", "--dry-run=client", "-o", "json")
    assert dry.returncode == ExitCode.SUCCESS, dry.stderr
    assert snapshot(kube) == before
    plan = json.loads(dry.stdout)
    planned = plan["objects"]
    assert [m["kind"] for m in planned["edge-b"]] == [
        "Namespace",
        "Configuration",
        "GatewayServer",
        "PublicKey",
    ]
    assert [m["kind"] for m in planned["edge-a"]] == [
        "Namespace",
        "Configuration",
        "GatewayClient",
        "PublicKey",
    ]

    created = shortcut_cli("create", "edge-a", "edge-b", "-q")
    assert created.returncode == ExitCode.SUCCESS, created.stderr
    for cluster, manifests in planned.items():
        for manifest in manifests:
            actual = read_back(kube, cluster, manifest)
            assert agrees(manifest, actual) == [], (cluster, manifest["kind"])


def test_the_client_dry_run_yaml_applies_as_is_in_central_as_one_virtual_node_shortcut(
    shortcut_cli: CLI, kube: Kube, kubectl: Callable[..., Any], shortcut_crd: str
) -> None:
    before = snapshot(kube)
    dry = shortcut_cli("create", "edge-a", "edge-b", "--dry-run=client", "-o", "yaml")
    assert dry.returncode == ExitCode.SUCCESS, dry.stderr
    documents = [d for d in yaml.safe_load_all(dry.stdout) if d]
    assert [d["kind"] for d in documents] == ["VirtualNodeShortcut"]
    assert "# On edge-b:" in dry.stdout
    assert "#   kind: GatewayServer" in dry.stdout
    applied = kubectl("apply", "--dry-run=server", "-n", "default", "-f", "-", stdin=dry.stdout)
    assert "virtualnodeshortcut.shortcut.liqo.io/edge-a--edge-b created (server dry run)" in (
        applied.stdout
    )
    assert snapshot(kube) == before


def test_the_server_dry_run_sends_every_object_and_reports_each_answer(
    shortcut_cli: CLI, kube: Kube, shortcut_crd: str, fresh_pair: None
) -> None:
    before = snapshot(kube)
    dry = shortcut_cli("create", "edge-a", "edge-b", "--dry-run=server", "-o", "yaml")
    assert dry.returncode == ExitCode.SUCCESS, dry.stderr
    results = {r["object"]: r for r in yaml.safe_load(dry.stdout)["results"]}
    assert results["Namespace liqo-tenant-edge-a"]["verdict"] == "accepted"
    assert results["Namespace liqo-tenant-edge-b"]["verdict"] == "accepted"
    # Objects in a namespace the run would create first cannot be checked: said, not hidden.
    assert results["GatewayServer liqo-tenant-edge-a/edge-a"] == {
        "cluster": "edge-b",
        "object": "GatewayServer liqo-tenant-edge-a/edge-a",
        "verdict": "not sent",
        "message": "its namespace liqo-tenant-edge-a would be created by this run first",
    }
    assert results["VirtualNodeShortcut default/edge-a--edge-b"]["verdict"] == "accepted"
    assert snapshot(kube) == before


def test_the_server_dry_run_of_an_existing_shortcut_checks_every_object_and_keeps_them(
    shortcut_cli: CLI, kube: Kube, deleted_afterwards: None
) -> None:
    assert shortcut_cli("create", "edge-a", "edge-b", "-q").returncode == ExitCode.SUCCESS
    before = snapshot(kube)
    dry = shortcut_cli("create", "edge-a", "edge-b", "--dry-run=server", "-o", "json")
    assert dry.returncode == ExitCode.SUCCESS, dry.stderr
    verdicts = {r["object"]: r["verdict"] for r in json.loads(dry.stdout)["results"]}
    edge_objects = {o: v for o, v in verdicts.items() if not o.startswith("VirtualNodeShortcut")}
    assert set(edge_objects.values()) == {"exists"}
    assert len(edge_objects) == 6  # the tenant namespaces exist now: no Namespace steps
    assert snapshot(kube) == before


def test_a_server_dry_run_refusal_is_reported_and_fails_the_command_with_nothing_changed(
    shortcut_cli: CLI,
    kube: Kube,
    refuse_writes: Callable[[str, str, str], None],
    fresh_pair: None,
) -> None:
    refuse_writes("edge-b", "", "namespaces")
    before = snapshot(kube)
    dry = shortcut_cli("create", "edge-a", "edge-b", "--dry-run=server")
    assert dry.returncode == ExitCode.PRECONDITION_FAILED, dry.stderr
    row = next(line for line in dry.stdout.splitlines() if "Namespace liqo-tenant-edge-a" in line)
    assert row.split()[0] == "edge-b"
    assert "refused:" in row
    assert REFUSAL in row
    (error,) = dry.stderr.splitlines()
    assert error.startswith("error: 1 object(s) refused in the server-side dry run, first: ")
    assert snapshot(kube) == before


def test_a_pod_cidr_central_remapped_is_explained_and_refused_for_services_changing_nothing(
    shortcut_cli: CLI, kube: Kube
) -> None:
    """Central's own Configuration for edge-b says Liqo remapped edge-b's pod CIDR."""
    custom = client.CustomObjectsApi(kube("central"))
    where = ("networking.liqo.io", "v1beta1")
    listing: dict[str, Any] = custom.list_cluster_custom_object(  # type: ignore[assignment]
        *where, "configurations", label_selector="liqo.io/remote-cluster-id=edge-b"
    )
    (configuration,) = listing["items"]
    name, namespace = configuration["metadata"]["name"], configuration["metadata"]["namespace"]
    original = configuration["status"]["remote"]["cidr"]["pod"]

    def set_pod_cidrs(cidrs: list[str]) -> None:
        patch = {"status": {"remote": {"cidr": {"pod": cidrs}}}}
        custom.patch_namespaced_custom_object_status(
            *where, namespace, "configurations", name, patch
        )

    set_faults({"central": {"configuration": "hang"}})  # Liqo would not undo it
    set_pod_cidrs(["10.71.0.0/16"])
    try:
        before = snapshot(kube)
        dry = shortcut_cli("create", "edge-a", "edge-b", "--dry-run=client")
        # Services over such a shortcut are what Liqo v1.2.0 cannot route (seen on the real
        # data path: the other edge's ShadowEndpointSlice never maps): refused up front.
        routed = shortcut_cli("create", "edge-a", "edge-b", "--services", "all")
        after = snapshot(kube)
    finally:
        set_pod_cidrs(original)
        clear_faults()
    assert dry.returncode == ExitCode.SUCCESS, dry.stderr
    (warning,) = [line for line in dry.stderr.splitlines() if line.startswith("warning: ")]
    assert warning.startswith(
        f"warning: central reaches edge-b's pod CIDR {original[0]} as 10.71.0.0/16 (Liqo remapped"
    )
    assert routed.returncode == ExitCode.PRECONDITION_FAILED, routed.stderr
    (refusal,) = routed.stderr.splitlines()
    assert refusal.startswith(f"error: central reaches edge-b's pod CIDR {original[0]} as 10.71")
    assert "cannot route Services over a shortcut" in refusal
    assert after == before
