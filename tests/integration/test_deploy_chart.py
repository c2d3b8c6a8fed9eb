"""The Helm chart renders what an operator with least privilege needs, and the API server takes it.

Rendering uses a real helm (built by `make lab-build` from the pinned module); the rendered
objects go to the lab's central kube-apiserver, with Pod Security "restricted" enforced and
warned in their namespaces. The operator's rights are checked with SubjectAccessReviews: what it
will do is allowed, and reading Secrets anywhere else, or anything cluster-wide, is not.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client import (
    ApiClient,
    AuthorizationV1Api,
    CoreV1Api,
    V1Namespace,
    V1ObjectMeta,
    V1ResourceAttributes,
    V1SubjectAccessReview,
    V1SubjectAccessReviewSpec,
)

from deploy.generate import CHART
from lab import build
from liqoshortcut.core.crd import CRD_NAME, crd_yaml
from tests.integration.conftest import Kubectl
from tests.integration.snapshots import delete_namespaces

pytestmark = pytest.mark.integration

RELEASE = "shortcut"
PSS_RESTRICTED = {
    f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "warn")
}
Manifest = dict[str, Any]


class Helm:
    """The pinned helm, with its caches in a temporary directory instead of the user's home."""

    def __init__(self, home: Path) -> None:
        self.binary = str(build.helm_binary())
        self.values_file = home / "values.yaml"
        self.env = dict(
            os.environ,
            **{f"HELM_{kind}_HOME": str(home / kind) for kind in ("CACHE", "CONFIG", "DATA")},
        )

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.binary, *args], capture_output=True, text=True, env=self.env, check=False
        )

    def template(self, namespace: str, values: Manifest) -> subprocess.CompletedProcess[str]:
        self.values_file.write_text(yaml.safe_dump(values))
        return self.run(
            "template",
            RELEASE,
            str(CHART),
            f"--namespace={namespace}",
            "--include-crds",
            f"--values={self.values_file}",
        )

    def render(self, namespace: str, values: Manifest) -> list[Manifest]:
        rendered = self.template(namespace, values)
        assert rendered.returncode == 0, rendered.stderr
        return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


@pytest.fixture(scope="module")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    return Helm(tmp_path_factory.mktemp("helm"))


@pytest.fixture(scope="module")
def namespaces(kube: Callable[[str], ApiClient]) -> Iterator[dict[str, str]]:
    """The release's namespace and two watched ones, restricted by Pod Security, on central."""
    core = CoreV1Api(kube("central"))
    stem = f"t-chart-{uuid.uuid4().hex[:6]}"
    names = {role: f"{stem}-{role}" for role in ("release", "team-a", "team-b")}
    for name in names.values():
        core.create_namespace(V1Namespace(metadata=V1ObjectMeta(name=name, labels=PSS_RESTRICTED)))
    yield names
    delete_namespaces(kube("central"), names.values())


def of_kind(objects: list[Manifest], kind: str) -> list[Manifest]:
    return [item for item in objects if item["kind"] == kind]


def in_watched_namespaces(objects: list[Manifest], kind: str) -> list[Manifest]:
    """Objects of ``kind`` but the preflight's read-only ones in Liqo's namespace."""
    return [item for item in of_kind(objects, kind) if item["metadata"].get("namespace") != "liqo"]


def operator_args(objects: list[Manifest]) -> list[str]:
    (deployment,) = of_kind(objects, "Deployment")
    args: list[str] = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    return args


PEERING_VALUES: Manifest = {
    "standalone": False,
    "replicas": 2,
    "logLevel": "debug",
    "logFormat": "json",
    "image": {"repository": "registry.example.org/liqo-shortcut", "tag": "0.1.0-rc1"},
    "resources": {"limits": {"cpu": "1", "memory": "512Mi"}},
}


def peering_values(namespaces: dict[str, str]) -> Manifest:
    return {**PEERING_VALUES, "watchNamespaces": [namespaces["team-a"], namespaces["team-b"]]}


# What the operator will do, and so all it may do, in each namespace it watches.
OPERATOR_RULES = [
    {
        "apiGroups": ["shortcut.liqo.io"],
        "resources": ["virtualnodeshortcuts"],
        "verbs": ["get", "list", "watch", "patch"],
    },
    {
        "apiGroups": ["shortcut.liqo.io"],
        "resources": ["virtualnodeshortcuts/status"],
        "verbs": ["get", "patch"],
    },
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
]
PEERING_RULE = {
    "apiGroups": ["kopf.dev"],
    "resources": ["kopfpeerings"],
    "verbs": ["get", "list", "watch", "patch"],
}


def test_the_chart_passes_helm_lint_strict(helm: Helm) -> None:
    linted = helm.run("lint", "--strict", str(CHART))
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in linted.stdout


def test_by_default_one_standalone_operator_watches_the_release_namespace(helm: Helm) -> None:
    objects = helm.render("liqo-shortcut", {})
    assert sorted(item["kind"] for item in objects) == [
        "ClusterRole",  # the preflight's reads (liqo-reader)
        "ClusterRole",  # the traffic router's (traffic-router)
        "ClusterRoleBinding",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "Deployment",
        "Role",
        "Role",
        "RoleBinding",
        "RoleBinding",
        "ServiceAccount",
    ]
    (crd,) = of_kind(objects, "CustomResourceDefinition")
    assert crd == yaml.safe_load(crd_yaml())
    assert operator_args(objects) == [
        "operator",
        "--namespace=liqo-shortcut",
        "--standalone",
        "--log-level=info",
        "--log-format=plain",
        "--liveness=http://0.0.0.0:8080/healthz",
    ]
    (deployment,) = of_kind(objects, "Deployment")
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    (role,) = in_watched_namespaces(objects, "Role")
    assert (role["metadata"]["namespace"], role["rules"]) == ("liqo-shortcut", OPERATOR_RULES)


def test_with_peering_each_watched_namespace_gets_its_role_and_kopf_peering(
    helm: Helm, namespaces: dict[str, str]
) -> None:
    objects = helm.render(namespaces["release"], peering_values(namespaces))
    watched = [namespaces["team-a"], namespaces["team-b"]]
    for kind in ("Role", "RoleBinding", "KopfPeering"):
        found = in_watched_namespaces(objects, kind)
        assert [item["metadata"]["namespace"] for item in found] == watched
    for role in in_watched_namespaces(objects, "Role"):
        assert role["rules"] == [*OPERATOR_RULES, PEERING_RULE]
    for binding in of_kind(objects, "RoleBinding"):
        (subject,) = binding["subjects"]
        assert subject["namespace"] == namespaces["release"]
    crds = {item["metadata"]["name"] for item in of_kind(objects, "CustomResourceDefinition")}
    assert crds == {CRD_NAME, "kopfpeerings.kopf.dev"}
    assert operator_args(objects)[:4] == [
        "operator",
        f"--namespace={namespaces['team-a']}",
        f"--namespace={namespaces['team-b']}",
        "--peering=liqo-shortcut",
    ]
    (deployment,) = of_kind(objects, "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example.org/liqo-shortcut:0.1.0-rc1"
    assert container["resources"]["limits"] == PEERING_VALUES["resources"]["limits"]
    assert "strategy" not in deployment["spec"]


# Cluster-wide, the operator lists what tells it which edges central has peered (its
# preflight), and its traffic router what places Services' endpoints on edges; the one write is
# a patch of Services (the direct-connection annotation); no update, no delete, no Secrets.
CLUSTER_RULES = {
    "liqo-reader": [
        {"apiGroups": ["core.liqo.io"], "resources": ["foreignclusters"], "verbs": ["list"]},
        {"apiGroups": ["networking.liqo.io"], "resources": ["configurations"], "verbs": ["list"]},
    ],
    "traffic-router": [
        {"apiGroups": [""], "resources": ["services"], "verbs": ["list", "patch"]},
        {"apiGroups": [""], "resources": ["namespaces", "nodes"], "verbs": ["list"]},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list"]},
        {"apiGroups": ["networking.liqo.io"], "resources": ["connections"], "verbs": ["list"]},
    ],
}


@pytest.mark.parametrize("values", [{}, PEERING_VALUES], ids=["standalone", "peering"])
def test_cluster_wide_the_operator_only_lists_central_s_liqo_peerings(
    helm: Helm, values: Manifest
) -> None:
    objects = helm.render("liqo-shortcut", values)
    roles = {
        purpose: role
        for role in of_kind(objects, "ClusterRole")
        for purpose in CLUSTER_RULES
        if role["metadata"]["name"].endswith(f"-{purpose}")
    }
    assert len(roles) == len(of_kind(objects, "ClusterRole"))
    assert {name: role["rules"] for name, role in roles.items()} == CLUSTER_RULES
    bound = {b["roleRef"]["name"] for b in of_kind(objects, "ClusterRoleBinding")}
    assert bound == {role["metadata"]["name"] for role in roles.values()}
    (liqo_reader,) = [r for r in of_kind(objects, "Role") if r["metadata"]["namespace"] == "liqo"]
    assert liqo_reader["rules"] == [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]},
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["list"]},
    ]


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"replicas": 2}, "replicas > 1 needs standalone=false"),
        ({"logLevel": "loud"}, "at '/logLevel': value must be one of"),
        ({"watchNamespaces": ["Team A"]}, "at '/watchNamespaces/0'"),
        ({"serviceAcount": {}}, "additional properties 'serviceAcount' not allowed"),
        ({"serviceAccount": {"create": False}}, "serviceAccount.name: name the existing"),
    ],
    ids=[
        "two standalone operators",
        "an unknown log level",
        "a namespace that is no namespace name",
        "a misspelt value",
        "no service account to run as",
    ],
)
def test_bad_values_are_refused_before_anything_is_applied(
    helm: Helm, values: Manifest, says: str
) -> None:
    rendered = helm.template("liqo-shortcut", values)
    assert rendered.returncode != 0
    assert says in rendered.stderr


def test_the_default_release_is_valid_for_the_api_server_and_pod_security(
    helm: Helm, namespaces: dict[str, str], kubectl: Kubectl
) -> None:
    objects = helm.render(namespaces["release"], {})
    dry_run = ["apply", "--server-side", "--dry-run=server", "--filename=-"]
    applied = kubectl(*dry_run, stdin=yaml.safe_dump_all(objects))
    assert applied.stdout.count("serverside-applied (server dry run)") == len(objects)
    assert "PodSecurity" not in applied.stderr


@pytest.fixture(scope="module")
def peering_release(
    helm: Helm, namespaces: dict[str, str], kubectl: Kubectl
) -> Iterator[list[Manifest]]:
    """The chart with peering applied for real (its KopfPeerings need kopf's CRD served)."""
    objects = [
        item
        for item in helm.render(namespaces["release"], peering_values(namespaces))
        if item["metadata"]["name"] != CRD_NAME
    ]
    kopf_crd = of_kind(objects, "CustomResourceDefinition")
    kubectl("apply", "--server-side", "--filename=-", stdin=yaml.safe_dump_all(kopf_crd))
    kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/kopfpeerings.kopf.dev")
    rest = [item for item in objects if item not in kopf_crd]
    applied = kubectl("apply", "--server-side", "--filename=-", stdin=yaml.safe_dump_all(rest))
    assert "PodSecurity" not in applied.stderr
    yield objects
    kubectl("delete", "crd/kopfpeerings.kopf.dev", "--wait=false")
    # What the release put outside its namespaces, which go with the module.
    outside = [
        item
        for item in rest
        if item["kind"] in ("ClusterRole", "ClusterRoleBinding")
        or item["metadata"].get("namespace") == "liqo"
    ]
    kubectl("delete", "--filename=-", "--wait=false", stdin=yaml.safe_dump_all(outside))


def operator_may(
    kube: Callable[[str], ApiClient],
    service_account: str,
    verb: str,
    resource: str,
    namespace: str | None,
) -> bool:
    """Whether the operator's ServiceAccount may ``verb`` ``resource`` (group/resource/sub)."""
    group, plural, *subresource = resource.split("/")
    name, account_namespace = service_account.split("@")
    review = V1SubjectAccessReview(
        spec=V1SubjectAccessReviewSpec(
            user=f"system:serviceaccount:{account_namespace}:{name}",
            groups=["system:serviceaccounts", f"system:serviceaccounts:{account_namespace}"],
            resource_attributes=V1ResourceAttributes(
                namespace=namespace,
                verb=verb,
                group=group,
                resource=plural,
                subresource=subresource[0] if subresource else None,
            ),
        )
    )
    reviewed = AuthorizationV1Api(kube("central")).create_subject_access_review(review)
    assert reviewed.status is not None
    return bool(reviewed.status.allowed)


# (verb, group/resource[/subresource], namespace role, allowed); None: cluster-wide.
ACCESS = [
    ("watch", "shortcut.liqo.io/virtualnodeshortcuts", "team-a", True),
    ("patch", "shortcut.liqo.io/virtualnodeshortcuts/status", "team-b", True),
    ("get", "/secrets", "team-a", True),
    ("create", "/events", "team-b", True),
    ("patch", "kopf.dev/kopfpeerings", "team-a", True),
    ("list", "/secrets", "team-a", False),
    ("get", "/secrets", "release", False),
    ("get", "/secrets", "default", False),
    ("delete", "shortcut.liqo.io/virtualnodeshortcuts", "team-a", False),
    ("update", "shortcut.liqo.io/virtualnodeshortcuts", "team-a", False),
    ("watch", "shortcut.liqo.io/virtualnodeshortcuts", "default", False),
    ("list", "shortcut.liqo.io/virtualnodeshortcuts", None, False),
    ("list", "/namespaces", None, True),  # their labels: the namespace selectors
    ("update", "/namespaces", None, False),
    ("list", "/services", None, True),
    ("patch", "/services", "default", True),  # the direct-connection annotation
    ("update", "/services", "default", False),
    ("delete", "/services", "default", False),
    ("list", "discovery.k8s.io/endpointslices", None, True),
    ("create", "discovery.k8s.io/endpointslices", "default", False),
    ("list", "/nodes", None, True),
    ("patch", "/nodes", None, False),
    ("list", "networking.liqo.io/connections", None, True),
    ("delete", "networking.liqo.io/connections", "team-a", False),
    ("list", "apiextensions.k8s.io/customresourcedefinitions", None, False),
    ("list", "core.liqo.io/foreignclusters", None, True),
    ("delete", "core.liqo.io/foreignclusters", None, False),
    ("list", "networking.liqo.io/configurations", None, True),
    ("create", "networking.liqo.io/configurations", "team-a", False),
    ("list", "/configmaps", "liqo", True),
    ("get", "/secrets", "liqo", False),
    ("list", "apps/deployments", "liqo", True),
    ("update", "apps/deployments", "liqo", False),
]


@pytest.mark.parametrize(
    ("verb", "resource", "where", "allowed"),
    ACCESS,
    ids=[
        f"{'may' if allowed else 'may not'} {verb} {resource.strip('/')} in {where or 'cluster'}"
        for verb, resource, where, allowed in ACCESS
    ],
)
def test_the_operator_may_do_its_work_in_watched_namespaces_and_nothing_else(
    kube: Callable[[str], ApiClient],
    namespaces: dict[str, str],
    peering_release: list[Manifest],
    verb: str,
    resource: str,
    where: str | None,
    allowed: bool,
) -> None:
    (account,) = of_kind(peering_release, "ServiceAccount")
    service_account = f"{account['metadata']['name']}@{namespaces['release']}"
    namespace = namespaces.get(where, where) if where else None
    assert operator_may(kube, service_account, verb, resource, namespace) is allowed
