"""A shortcut's name is one per pair of edges, always a valid label, and ownership is by label."""

from __future__ import annotations

import pytest

from liqoshortcut.core.naming import (
    DNS_LABEL_MAX,
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


def test_a_long_name_is_pinned_so_an_upgrade_still_finds_what_an_older_version_made() -> None:
    long_a, long_b = "a" * 50, "b" * 50
    assert (
        shortcut_name(long_a, long_b) == shortcut_name(long_b, long_a) == "a" * 50 + "-badb96ca3e"
    )


@pytest.mark.parametrize(
    ("edge_a", "edge_b"),
    [
        ("a" * 40, "b" * 40),
        ("milan-production-cluster-0001", "turin-production-cluster-0002"),
        ("x" * 63, "y" * 63),
        ("a" * 30 + "-" + "b" * 30, "c-" * 31 + "c"),
    ],
)
def test_long_cluster_ids_still_give_a_valid_label_value(edge_a: str, edge_b: str) -> None:
    name = shortcut_name(edge_a, edge_b)
    assert is_dns_label(name)
    assert len(name) <= DNS_LABEL_MAX


def test_two_long_pairs_sharing_a_prefix_keep_distinct_names() -> None:
    stem = "p" * 60
    assert shortcut_name(stem + "1", "q") != shortcut_name(stem + "2", "q")


def test_ids_holding_the_separator_cannot_make_two_pairs_share_a_name() -> None:
    # "a--b" + "c" and "a" + "b--c" would both read "a--b--c".
    first, second = shortcut_name("a--b", "c"), shortcut_name("a", "b--c")
    assert first != second
    assert is_dns_label(first)
    assert is_dns_label(second)


def test_an_object_is_ours_only_with_both_labels_for_this_shortcut() -> None:
    ours = {**ownership_labels("a--b"), "liqo.io/remote-cluster-id": "b"}
    assert is_owned_by(ours, "a--b")
    assert not is_owned_by(ours, "a--c")
    assert not is_owned_by({"app.kubernetes.io/managed-by": "liqo-shortcut"}, "a--b")
    assert not is_owned_by(None, "a--b")


def test_ownership_labels_are_the_two_the_design_names() -> None:
    assert ownership_labels("a--b") == {
        "app.kubernetes.io/managed-by": "liqo-shortcut",
        "shortcut.liqo.io/name": "a--b",
    }


def test_the_tenant_namespace_follows_liqos_naming() -> None:
    assert tenant_namespace("edge-b") == "liqo-tenant-edge-b"
