"""The lab's pod CIDRs can be overridden, overlapping ones included, and typos are refused."""

from __future__ import annotations

import pytest

from lab.topology import DEFAULT_TOPOLOGY, topology_from_env


def test_without_overrides_every_cluster_has_a_distinct_pod_cidr() -> None:
    topology = topology_from_env({})
    assert topology == DEFAULT_TOPOLOGY
    assert len({c.pod_cidr for c in topology.clusters}) == len(topology.clusters)


def test_two_edges_can_be_given_the_same_pod_cidr_as_kind_clusters_have() -> None:
    topology = topology_from_env({"LAB_POD_CIDRS": "edge-a=10.244.0.0/16, edge-b=10.244.0.0/16"})
    assert topology.cluster("edge-a").pod_cidr == topology.cluster("edge-b").pod_cidr
    assert topology.consumer.pod_cidr == DEFAULT_TOPOLOGY.consumer.pod_cidr


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("edge-c=10.1.0.0/16", "unknown clusters: edge-c"),
        ("edge-a:10.1.0.0/16", "is not name=cidr"),
        ("edge-a=", "is not name=cidr"),
    ],
)
def test_a_malformed_override_is_refused_with_the_reason(value: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        topology_from_env({"LAB_POD_CIDRS": value})
