"""`create`'s traffic flags against the lab: which of central's offloaded Services it routes over
the shortcut, what `delete` takes back, and bad flags changing nothing.

Workloads are offloaded with `lab.workloads.offload`: Pods on central bound to the edges' virtual
nodes, so kube-controller-manager writes the EndpointSlices the policy reads. edge-a and edge-b
get the shortcut; edge-c has none.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client import ApiClient

from lab import admission
from lab.cluster import Lab
from lab.workloads import list_workloads, offload, remove
from liqoshortcut.core.routing import ROUTED_BY, USE_DIRECT_CONNECTIONS
from liqoshortcut.errors import ExitCode
from tests.integration.conftest import Kubectl
from tests.integration.snapshots import delete_namespaces, settled, snapshot

pytestmark = pytest.mark.integration

Cli = Callable[..., subprocess.CompletedProcess[str]]
Clients = Callable[[str], ApiClient]
KEY = "edge-a--edge-b"  # the shortcut's name: create's key in the routed-by mark
OURS = {USE_DIRECT_CONNECTIONS: "true", ROUTED_BY: KEY}
BOTH_EDGES = {"edge-a": 1, "edge-b": 1}
MERGE_PATCH = "application/merge-patch+json"
MARKS = "no marks"  # what central says when it refuses our mark on a Service


@pytest.fixture
def namespace(lab: Lab, kube: Clients, unique_name: str) -> Iterator[str]:
    """A namespace for the test's workloads, labelled team=<its name>; removed and waited out
    at the end (other modules' snapshots count namespaces)."""
    yield unique_name
    api = kube("central")
    for workload in list_workloads(api, unique_name):
        remove(api, unique_name, workload.app)
    delete_namespaces(api, [unique_name])


@pytest.fixture
def clean_pair(shortcut_cli: Cli) -> Iterator[None]:
    yield
    assert shortcut_cli("delete", "edge-a", "edge-b", "-q", "-y").returncode == 0


def workload(kube: Clients, namespace: str, app: str, placements: dict[str, int], **kw: Any) -> str:
    offload(kube("central"), namespace, app, placements, namespace_labels=_team(namespace), **kw)
    return f"{namespace}/{app}"


def _team(namespace: str) -> dict[str, str]:
    return {"liqo.io/scheduling-enabled": "true", "team": namespace}


def annotations_of(kube: Clients, service: str) -> dict[str, str]:
    namespace, name = service.split("/")
    read = client.CoreV1Api(kube("central")).read_namespaced_service(name, namespace)
    assert read.metadata is not None
    return dict(read.metadata.annotations or {})


def all_annotations(kube: Clients) -> dict[str, dict[str, str]]:
    """Every Service of central with its annotations: what routing could have changed."""
    services = client.CoreV1Api(kube("central")).list_service_for_all_namespaces().items
    return {
        f"{s.metadata.namespace}/{s.metadata.name}": dict(s.metadata.annotations or {})
        for s in services
        if s.metadata is not None
    }


def annotate(kube: Clients, service: str, values: dict[str, str]) -> None:
    namespace, name = service.split("/")
    client.CoreV1Api(kube("central")).patch_namespaced_service(
        name,
        namespace,
        {"metadata": {"annotations": values}},
        _content_type=MERGE_PATCH,
    )


def routed(result: subprocess.CompletedProcess[str], namespace: str) -> list[str]:
    """The routedServices of a `-o json` summary, within the test's namespace."""
    assert result.returncode == ExitCode.SUCCESS, result.stderr
    summary = json.loads(result.stdout)
    return [name for name in summary["routedServices"] if name.startswith(f"{namespace}/")]


def test_services_all_routes_a_service_across_the_two_edges_and_not_one_reaching_edge_c(
    shortcut_cli: Cli, kube: Clients, namespace: str, clean_pair: None
) -> None:
    across = workload(kube, namespace, "across", BOTH_EDGES)
    to_c = workload(kube, namespace, "to-c", {"edge-a": 1, "edge-c": 1})
    one_edge = workload(kube, namespace, "one-edge", {"edge-a": 2, "central": 1})

    created = shortcut_cli("create", "edge-a", "edge-b", "--services", "all", "-o", "json")
    assert routed(created, namespace) == [across]
    assert annotations_of(kube, across) == OURS
    assert annotations_of(kube, to_c) == {}
    assert annotations_of(kube, one_edge) == {}
    assert f"route Service {across} over the shortcut: done" in created.stderr
    assert (
        f"route Service {to_c} over the shortcut: skipped (it has endpoints on edge-a and edge-c "
        "and no shortcut joins them)" in created.stderr
    )
    assert one_edge not in created.stderr

    again = shortcut_cli("create", "edge-a", "edge-b", "--services", "all")
    assert again.returncode == ExitCode.SUCCESS, again.stderr
    assert f"route Service {across} over the shortcut: skipped (already routed)" in again.stderr
    assert "Services routed over it: " in again.stdout
    assert across in again.stdout


def test_selectors_route_what_they_match_and_a_rerun_takes_back_what_they_no_longer_do(
    shortcut_cli: Cli, kube: Clients, namespace: str, clean_pair: None
) -> None:
    web = workload(kube, namespace, "web", BOTH_EDGES, service_labels={"tier": "web"})
    db = workload(kube, namespace, "db", BOTH_EDGES, service_labels={"tier": "db"})
    in_namespace = f"team={namespace}"

    first = shortcut_cli(
        "create", "edge-a", "edge-b", "--namespace-selector", in_namespace, "-o", "json"
    )
    assert routed(first, namespace) == [db, web]
    assert json.loads(first.stdout)["routedServices"] == [db, web]  # nothing outside it

    second = shortcut_cli(
        "create", "edge-a", "edge-b", "--namespace-selector", in_namespace,
        "--service-selector", "tier in (web,api),!legacy", "-o", "json",
    )  # fmt: skip
    assert routed(second, namespace) == [web]
    assert annotations_of(kube, web) == OURS
    assert annotations_of(kube, db) == {}
    assert f"take Service {db} back to the hub: done" in second.stderr


def test_delete_removes_exactly_our_annotations_and_leaves_a_foreign_one_alone(
    shortcut_cli: Cli, kube: Clients, namespace: str, clean_pair: None
) -> None:
    ours = workload(kube, namespace, "ours", BOTH_EDGES)
    foreign = workload(kube, namespace, "foreign", BOTH_EDGES)
    annotate(kube, foreign, {USE_DIRECT_CONNECTIONS: "true", "owner": "someone"})
    annotate(kube, ours, {"owner": "someone"})

    created = shortcut_cli("create", "edge-a", "edge-b", "--services", "all", "-o", "json")
    assert routed(created, namespace) == [ours]
    assert f"route Service {foreign} over the shortcut: skipped (" in created.stderr
    assert annotations_of(kube, foreign) == {USE_DIRECT_CONNECTIONS: "true", "owner": "someone"}

    deleted = shortcut_cli("delete", "edge-a", "edge-b", "-y", "-o", "json")
    assert deleted.returncode == ExitCode.SUCCESS, deleted.stderr
    assert json.loads(deleted.stdout)["unroutedServices"] == [ours]
    assert f"take Service {ours} back to the hub: done" in deleted.stderr
    assert annotations_of(kube, ours) == {"owner": "someone"}
    assert annotations_of(kube, foreign) == {USE_DIRECT_CONNECTIONS: "true", "owner": "someone"}
    # Traffic back on the hub before the tunnel goes (after the steps, notes on what Liqo keeps).
    steps = [
        line.split(" ", 1)[1]
        for line in deleted.stderr.splitlines()
        if not line.startswith("note: ")
    ]
    assert "back to the hub" in steps[0]
    assert all(" delete " in step or step.endswith("to be gone: done") for step in steps[1:])
    assert any(" delete " in step for step in steps[1:])


def test_neither_the_hub_path_nor_no_wait_annotates_a_service(
    shortcut_cli: Cli, kube: Clients, namespace: str, clean_pair: None
) -> None:
    across = workload(kube, namespace, "across", BOTH_EDGES)

    no_wait = shortcut_cli("create", "edge-a", "edge-b", "--services", "all", "--no-wait")
    assert no_wait.returncode == ExitCode.SUCCESS, no_wait.stderr
    assert no_wait.stderr.startswith(
        "warning: --no-wait: the Connections are not seen Connected, so no Service is routed"
    )
    assert annotations_of(kube, across) == {}

    hub = shortcut_cli("create", "edge-a", "edge-b", "--services", "all", "--path", "hub")
    assert hub.returncode == ExitCode.SUCCESS, hub.stderr
    assert hub.stdout.endswith("the selected Services stay on the hub path (--path hub)\n")
    assert annotations_of(kube, across) == {}


BAD_FLAGS = [
    ("bad selector", ["--service-selector", "tier in web"], "invalid --service-selector"),
    ("bad value", ["--namespace-selector", "team=-x"], "invalid --namespace-selector"),
    (
        "all with a selector",
        ["--services", "all", "--service-selector", "tier=web"],
        "--services all selects every Service and cannot go with --service-selector",
    ),
    ("auto on the imperative path", ["--services", "all", "--path", "auto"], "--path auto needs"),
]


@pytest.mark.parametrize(
    ("flags", "says"), [pytest.param(flags, says, id=case) for case, flags, says in BAD_FLAGS]
)
def test_bad_traffic_flags_get_one_line_the_usage_exit_code_and_change_nothing(
    shortcut_cli: Cli, kube: Clients, namespace: str, flags: list[str], says: str
) -> None:
    workload(kube, namespace, "across", BOTH_EDGES)
    before, services_before = snapshot(kube), all_annotations(kube)
    result = shortcut_cli("create", "edge-a", "edge-b", *flags)
    assert result.returncode == ExitCode.USAGE, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {says}")
    assert result.stdout == ""
    assert snapshot(kube) == before
    assert all_annotations(kube) == services_before


def test_the_dry_run_carries_the_policy_into_a_resource_the_api_server_accepts(
    shortcut_cli: Cli, kubectl: Kubectl, shortcut_crd: str
) -> None:
    result = shortcut_cli(
        "create", "edge-a", "edge-b", "--namespace-selector", "team=shop",
        "--service-selector", "tier in (web,api),!legacy", "--path", "auto",
        "--dry-run=client", "-o", "yaml",
    )  # fmt: skip
    assert result.returncode == ExitCode.SUCCESS, result.stderr
    resource = [doc for doc in yaml.safe_load_all(result.stdout) if doc][-1]
    assert resource["spec"]["traffic"] == {
        "services": "Selected",
        "namespaceSelector": {"matchLabels": {"team": "shop"}},
        "serviceSelector": {
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["web", "api"]},
                {"key": "legacy", "operator": "DoesNotExist"},
            ]
        },
        "path": "Auto",
    }
    kubectl("apply", "--dry-run=server", "-n", "default", "-f", "-", stdin=result.stdout)


# ---------------------------------------------------------------- rollback of the annotations
@pytest.fixture
def refuse_marking(kube: Clients) -> Iterator[Callable[[str], None]]:
    """Make central refuse to put our mark on one Service (a real ValidatingAdmissionPolicy)."""
    made: list[str] = []
    central = kube("central")

    def refuse(service: str) -> None:
        namespace, name = service.split("/")
        policy_name = f"refuse-mark-{uuid.uuid4().hex[:6]}"
        marked = (
            f"object.metadata.namespace == '{namespace}' && object.metadata.name == '{name}' && "
            f"has(object.metadata.annotations) && '{ROUTED_BY}' in object.metadata.annotations"
        )
        rule = {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["UPDATE"]}
        admission.refuse(central, policy_name, [{**rule, "resources": ["services"]}], marked, MARKS)
        made.append(policy_name)
        probe = {"metadata": {"annotations": {ROUTED_BY: "probe"}}}
        admission.wait_until_enforced(
            lambda: client.CoreV1Api(central).patch_namespaced_service(
                name, namespace, probe, dry_run="All", _content_type=MERGE_PATCH
            ),
            MARKS,
            "services",
        )

    yield refuse
    for policy_name in made:
        admission.withdraw(central, policy_name)


def test_an_annotation_refused_midway_rolls_back_the_annotations_and_the_shortcut(
    shortcut_cli: Cli,
    kube: Clients,
    namespace: str,
    refuse_marking: Callable[[str], None],
) -> None:
    first = workload(kube, namespace, "a-first", BOTH_EDGES)
    refused = workload(kube, namespace, "z-refused", BOTH_EDGES)
    refuse_marking(refused)
    before, services_before = snapshot(kube), all_annotations(kube)

    result = shortcut_cli("create", "edge-a", "edge-b", "--services", "all")
    assert result.returncode == ExitCode.FAILED, result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith("error: ")
    assert MARKS in last
    assert last.endswith("everything this run created was removed")
    assert f"route Service {first} over the shortcut: done" in result.stderr
    assert f"restore the annotations of Service {first}: rollback" in result.stderr
    assert all_annotations(kube) == services_before
    assert settled(kube, before) == before
