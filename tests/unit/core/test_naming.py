"""A shortcut's name is one per pair of edges, always a valid label, and ownership is by label."""

from __future__ import annotations

import pytest

from liqoshortcut.core.naming import (
    is_dns_label,
    is_owned_by,
    ownership_labels,
    shortcut_name,
    tenant_namespace,
)


def test_the_same_two_edges_give_the_same_name_in_either_order() -> None:
    assert (
        shortcut_name("edge-a", "edge-b") == shortcut_name("edge-b", "edge-a") == "edge-a--edge-b"
    )


@pytest.mark.parametrize(
    ("edge_a", "edge_b"),
    [
        ("a" * 40, "b" * 40),
        ("milan-production-cluster-0001", "turin-production-cluster-0002"),
        ("x" * 63, "y" * 63),
    ],
)
def test_long_cluster_ids_still_give_a_valid_label_value(edge_a: str, edge_b: str) -> None:
    assert is_dns_label(shortcut_name(edge_a, edge_b))


def test_two_long_pairs_sharing_a_prefix_keep_distinct_names() -> None:
    stem = "p" * 60
    assert shortcut_name(stem + "1", "q") != shortcut_name(stem + "2", "q")


def test_an_object_is_ours_only_with_both_labels_for_this_shortcut() -> None:
    ours = {**ownership_labels("a--b"), "liqo.io/remote-cluster-id": "b"}
    assert is_owned_by(ours, "a--b")
    assert not is_owned_by(ours, "a--c")
    assert not is_owned_by({"app.kubernetes.io/managed-by": "liqo-shortcut"}, "a--b")
    assert not is_owned_by(None, "a--b")


def test_the_tenant_namespace_follows_liqos_naming() -> None:
    assert tenant_namespace("edge-b") == "liqo-tenant-edge-b"
