"""The journal undoes newest first and only holds what this run created."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from liqoshortcut.workflow.journal import Journal, ObjectRef


def ref(name: str, cluster: str = "edge-a") -> ObjectRef:
    return ObjectRef(cluster, "networking.liqo.io/v1beta1", "PublicKey", "publickeies", "ns", name)


def test_rollback_order_is_the_reverse_of_creation() -> None:
    journal = Journal()
    for name in ("configuration", "gateway-server", "public-key"):
        journal.record(ref(name))
    assert [r.name for r in journal.newest_first()] == [
        "public-key",
        "gateway-server",
        "configuration",
    ]


def test_concurrent_steps_on_two_edges_lose_no_entry() -> None:
    journal = Journal()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: journal.record(ref(f"o{i}", f"edge-{i % 2}")), range(500)))
    assert len(journal) == 500
    assert len(set(journal.newest_first())) == 500


def test_an_object_reads_as_kind_namespace_name_and_cluster() -> None:
    assert str(ref("k")) == "PublicKey ns/k on edge-a"
