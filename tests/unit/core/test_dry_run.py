"""What the dry run shows: a resource the operator accepts, Secrets with valid names, and
stand-ins that leave no placeholder in what a server-side dry run sends."""

from __future__ import annotations

import re

import pytest

from liqoshortcut.core.dry_run import document, resource, secret_name, with_stand_ins
from liqoshortcut.core.model import EdgeRef, ShortcutSpec
from liqoshortcut.core.plan import Action, EdgeFacts, placeholders, plan
from liqoshortcut.core.schema import DNS_SUBDOMAIN_PATTERN

SPEC = ShortcutSpec(
    edges=(EdgeRef(name="edge-a", context="edge-a"), EdgeRef(name="edge-b", context="edge-b"))
)
OBSERVED = {
    "edge-a": EdgeFacts("a-id", ("10.1.0.0/16",), "10.70.0.0/16"),
    "edge-b": EdgeFacts("b-id", ("10.2.0.0/16",), "10.70.0.0/16"),
}
PLAN = plan(SPEC, OBSERVED)


@pytest.mark.parametrize(
    ("edge", "secret"),
    [
        ("edge-a", "edge-a-kubeconfig"),
        (
            "arn:aws:eks:eu-west-1:123:cluster/Edge_A",
            "arn-aws-eks-eu-west-1-123-cluster-edge-a-kubeconfig",
        ),
        ("gke_proj_zone_edge.b", "gke-proj-zone-edge.b-kubeconfig"),
        ("--", "edge-kubeconfig"),
        ("x" * 300, "x" * (253 - len("-kubeconfig")) + "-kubeconfig"),
    ],
)
def test_secret_names_are_valid_for_any_context_name(edge: str, secret: str) -> None:
    assert secret_name(edge) == secret
    assert re.fullmatch(DNS_SUBDOMAIN_PATTERN, secret)


def test_the_resource_is_a_spec_the_operator_accepts_pinned_to_the_planned_clusters() -> None:
    manifest = resource(SPEC, PLAN, timeout=90)
    assert manifest["kind"] == "VirtualNodeShortcut"
    assert manifest["metadata"] == {"name": PLAN.shortcut}
    read = ShortcutSpec.from_resource(manifest["spec"])  # a CR may only name Secrets
    assert [(e.name, e.secret_ref, e.cluster_id) for e in read.edges] == [
        ("edge-a", "edge-a-kubeconfig", "a-id"),
        ("edge-b", "edge-b-kubeconfig", "b-id"),
    ]
    assert read.server_edge == "edge-b"
    assert read.timeout == 90


def test_the_document_lists_every_object_per_edge_and_how_to_make_the_secrets() -> None:
    shown = document(SPEC, PLAN, timeout=120)
    assert set(shown["objects"]) == {"edge-a", "edge-b"}
    assert len(shown["objects"]["edge-a"]) + len(shown["objects"]["edge-b"]) == 8
    assert shown["secrets"][0].startswith("kubectl create secret generic edge-a-kubeconfig ")


def test_stand_ins_leave_no_placeholder_in_any_object_sent() -> None:
    creates = [step for step in PLAN.steps if step.action is Action.CREATE]
    assert any(step.pending for step in creates)
    for step in creates:
        assert placeholders(with_stand_ins(step)) == []


def test_only_create_steps_have_an_object_to_send() -> None:
    wait = next(step for step in PLAN.steps if step.action is Action.WAIT)
    with pytest.raises(ValueError, match="creates nothing"):
        with_stand_ins(wait)
