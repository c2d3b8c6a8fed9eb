"""Clusters that cannot carry a shortcut are refused before any change, in one line.

Each case alters one lab cluster the way a real installation can be off (an edge central has not
peered, Liqo gone from an edge, an old Liqo on an edge or on central, a deleted gateway template,
credentials without rights), takes the snapshot, runs `create`, and checks the one error line,
the exit code and that all three clusters are exactly as before. The lab's own baseline install
then puts the clusters back exactly (field managers included), so later tests see the lab as it
started. A shortcut made before its edge became unfit is still removed by `delete`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client import ApiClient

from lab.cluster import Lab, kubeconfig_path
from lab.faults import liqo_paused
from lab.liqo_baseline import install_baseline
from liqoshortcut.errors import ExitCode
from tests.integration.snapshots import snapshot

pytestmark = pytest.mark.integration

CLI = Callable[..., Any]
Kube = Callable[[str], ApiClient]
Alteration = Callable[[Kube, Path], Iterator[list[str]]]
CLUSTER_ID_LABELS = "app.kubernetes.io/name=clusterid-configmap"


def edge_b_cluster_id_configmap(core: client.CoreV1Api) -> Any:
    (found,) = core.list_namespaced_config_map("liqo", label_selector=CLUSTER_ID_LABELS).items
    return found


@contextmanager
def edge_b_not_peered(kube: Kube, tmp_path: Path) -> Iterator[list[str]]:
    """Central knows edge-b but has no peering with it: its ForeignCluster's role is Unknown.

    Liqo's controller-manager on central would write the role back at its next reconcile of that
    ForeignCluster (a refreshed Connection is enough): it is paused meanwhile."""
    custom = client.CustomObjectsApi(kube("central"))
    coordinates = ("core.liqo.io", "v1beta1", "foreignclusters", "edge-b")

    def set_role(role: str) -> None:
        custom.patch_cluster_custom_object_status(*coordinates, {"status": {"role": role}})

    with liqo_paused("central"):
        set_role("Unknown")
        try:
            yield []
        finally:
            set_role("Provider")


@contextmanager
def without_liqo_on_edge_b(kube: Kube, tmp_path: Path) -> Iterator[list[str]]:
    """Liqo uninstalled from edge-b, its CRDs left behind: no cluster-ID ConfigMap any more."""
    core = client.CoreV1Api(kube("edge-b"))
    found = edge_b_cluster_id_configmap(core)
    core.delete_namespaced_config_map(str(found.metadata.name), "liqo")
    yield []


@contextmanager
def old_liqo_on_edge_b(kube: Kube, tmp_path: Path) -> Iterator[list[str]]:
    """edge-b's Liqo chart says v1.1.0, which connects but never routes offloaded traffic."""
    core = client.CoreV1Api(kube("edge-b"))
    name = str(edge_b_cluster_id_configmap(core).metadata.name)

    def set_version(version: str) -> None:
        patch = {"metadata": {"labels": {"app.kubernetes.io/version": version}}}
        core.patch_namespaced_config_map(name, "liqo", patch)

    set_version("v1.1.0")
    yield []


@contextmanager
def old_liqo_on_central(kube: Kube, tmp_path: Path) -> Iterator[list[str]]:
    """Central runs Liqo v1.1.0: its virtual kubelets would never route over a shortcut."""
    apps = client.AppsV1Api(kube("central"))
    deployment = apps.read_namespaced_deployment("liqo-controller-manager", "liqo")
    assert deployment.spec is not None
    container = deployment.spec.template.spec.containers[0]  # type: ignore[union-attr]
    image = str(container.image).rsplit(":", 1)[0]
    patch = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": container.name, "image": f"{image}:v1.1.0"}]}
            }
        }
    }
    apps.patch_namespaced_deployment("liqo-controller-manager", "liqo", patch)
    yield []


@contextmanager
def no_server_template_on_edge_b(kube: Kube, tmp_path: Path) -> Iterator[list[str]]:
    """The gateway server template, which the GatewayServer on edge-b would use, was deleted."""
    custom = client.CustomObjectsApi(kube("edge-b"))
    where = ("networking.liqo.io", "v1beta1", "liqo", "wggatewayservertemplates")
    template: dict[str, Any] = custom.get_namespaced_custom_object(*where, "wireguard-server")  # type: ignore[assignment]
    custom.delete_namespaced_custom_object(*where, "wireguard-server")
    try:
        yield []
    finally:
        metadata = template["metadata"]
        template["metadata"] = {
            k: metadata[k] for k in ("name", "namespace", "labels") if k in metadata
        }
        custom.create_namespaced_custom_object(*where, template)


@contextmanager
def edge_b_credentials_without_rights(kube: Kube, tmp_path: Path) -> Iterator[list[str]]:
    """edge-b reached with a valid token of a ServiceAccount bound to nothing."""
    core = client.CoreV1Api(kube("edge-b"))
    core.create_namespaced_service_account(
        "default", client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="nobody"))
    )
    try:
        token = core.create_namespaced_service_account_token(
            "nobody",
            "default",
            client.AuthenticationV1TokenRequest(
                spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=600)
            ),
        )
        assert token.status is not None
        document: dict[str, Any] = yaml.safe_load(kubeconfig_path().read_text())
        for user in document["users"]:
            if user["name"] == "edge-b-admin":
                user["user"] = {"token": token.status.token}
        path = tmp_path / "nobody"
        path.write_text(yaml.safe_dump(document))
        path.chmod(0o600)
        yield ["--kubeconfig", str(path)]
    finally:
        core.delete_namespaced_service_account("nobody", "default")


UNFIT = [
    ("edge not peered", edge_b_not_peered, ExitCode.PRECONDITION_FAILED, "not a Liqo provider"),
    (
        "liqo missing",
        without_liqo_on_edge_b,
        ExitCode.PRECONDITION_FAILED,
        "Liqo is missing on edge-b",
    ),
    ("liqo too old", old_liqo_on_edge_b, ExitCode.PRECONDITION_FAILED, "edge-b runs Liqo v1.1.0"),
    (
        "liqo too old on central",
        old_liqo_on_central,
        ExitCode.PRECONDITION_FAILED,
        "central (central) runs Liqo v1.1.0",
    ),
    (
        "missing gateway template",
        no_server_template_on_edge_b,
        ExitCode.PRECONDITION_FAILED,
        "edge-b has no gateway template liqo/wireguard-server",
    ),
    (
        "credentials without rights",
        edge_b_credentials_without_rights,
        ExitCode.PRECONDITION_FAILED,
        "the credentials for edge-b may not",
    ),
]


@pytest.mark.parametrize(
    ("alteration", "exit_code", "says"),
    [pytest.param(alteration, code, says, id=case) for case, alteration, code, says in UNFIT],
)
def test_an_unfit_cluster_is_refused_in_one_line_and_nothing_changes(
    lab: Lab,
    shortcut_cli: CLI,
    kube: Kube,
    tmp_path: Path,
    alteration: Callable[[Kube, Path], Any],
    exit_code: ExitCode,
    says: str,
) -> None:
    try:
        with alteration(kube, tmp_path) as extra_args:
            before = snapshot(kube)
            result = shortcut_cli("create", "edge-a", "edge-b", *extra_args)
            after = snapshot(kube)
    finally:
        for cluster in lab.topology.clusters:
            install_baseline(kube(cluster.name), cluster, lab.topology, liqo=lab.liqo)
    assert result.returncode == exit_code, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert says in lines[0]
    assert result.stdout == ""
    assert after == before


@pytest.mark.parametrize(
    "alteration",
    [edge_b_not_peered, no_server_template_on_edge_b],
    ids=["edge not peered", "missing gateway template"],
)
def test_delete_removes_a_shortcut_whose_edge_became_unfit_and_nothing_else(
    lab: Lab,
    shortcut_cli: CLI,
    kube: Kube,
    tmp_path: Path,
    alteration: Callable[[Kube, Path], Any],
) -> None:
    created = shortcut_cli("create", "edge-a", "edge-b", "-q")
    assert created.returncode == ExitCode.SUCCESS, created.stderr
    try:
        with alteration(kube, tmp_path):
            unfit = snapshot(kube)
            deleted = shortcut_cli("delete", "edge-a", "edge-b", "-y", "-o", "json")
            after = snapshot(kube)
    finally:
        for cluster in lab.topology.clusters:
            install_baseline(kube(cluster.name), cluster, lab.topology, liqo=lab.liqo)
    assert deleted.returncode == ExitCode.SUCCESS, deleted.stderr
    assert json.loads(deleted.stdout)["removed"] >= 6  # 2 keys, 2 gateways, 2 Configurations
    for name in unfit:
        assert after[name] <= unfit[name], f"delete made or changed something on {name}"
    removed = {name: unfit[name] - after[name] for name in unfit}
    assert {where for _, where, _ in removed["central"]} == {"liqo/liqo-shortcut-edge-a--edge-b"}
    for edge, peer in (("edge-a", "edge-b"), ("edge-b", "edge-a")):
        tenant = f"liqo-tenant-{peer}"
        wheres = {where for _, where, _ in removed[edge]}
        assert all(where == tenant or where.startswith(f"{tenant}/") for where in wheres)
    gateways = {(kind, where) for name in removed for kind, where, _ in removed[name]}
    assert ("gatewayclients", "liqo-tenant-edge-b/edge-b") in gateways
    assert ("gatewayservers", "liqo-tenant-edge-a/edge-a") in gateways
