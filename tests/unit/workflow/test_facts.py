"""Recent facts: one read per client shared while it is fresh, a failure never kept."""

from __future__ import annotations

import pytest
from kubernetes.client import ApiClient

from liqoshortcut.kube.clients import Cluster
from liqoshortcut.workflow.facts import Facts, RecentFacts


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Reads:
    """A read that counts its calls and returns the count."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> int:
        self.count += 1
        return self.count


def cluster(name: str = "edge-a") -> Cluster:
    return Cluster(name=name, server="https://127.0.0.1:6443", api=ApiClient())


def test_a_fact_is_read_once_while_fresh_and_again_once_older() -> None:
    clock, reads, edge = Clock(), Reads(), cluster()
    facts = RecentFacts(max_age=10.0, clock=clock)
    assert facts.remember(edge, "id", reads) == 1
    clock.now += 10.0
    assert facts.remember(edge, "id", reads) == 1
    clock.now += 0.1
    assert facts.remember(edge, "id", reads) == 2
    assert reads.count == 2


def test_facts_are_kept_per_client_and_per_key() -> None:
    reads = Reads()
    facts = RecentFacts(max_age=10.0, clock=Clock())
    first, same_server_other_credentials = cluster(), cluster()
    assert facts.remember(first, "id", reads) == 1
    assert facts.remember(same_server_other_credentials, "id", reads) == 2
    assert facts.remember(first, "templates", reads) == 3
    assert facts.remember(first, "id", reads) == 1


def test_a_failed_read_is_not_kept() -> None:
    reads, edge = Reads(), cluster()
    facts = RecentFacts(max_age=10.0, clock=Clock())

    def refused() -> int:
        raise PermissionError("forbidden")

    with pytest.raises(PermissionError):
        facts.remember(edge, "id", refused)
    assert facts.remember(edge, "id", reads) == 1


def test_the_cli_reads_every_time() -> None:
    reads, edge = Reads(), cluster()
    assert [Facts().remember(edge, "id", reads) for _ in range(3)] == [1, 2, 3]
