"""The lab's pod CIDRs can be overridden, overlapping ones included, and typos are refused."""

from __future__ import annotations

import ipaddress

import pytest

from lab.topology import DEFAULT_TOPOLOGY, liqo_mode_from_env, topology_from_env


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
        ("edge-d=10.1.0.0/16", "unknown clusters: edge-d"),
        ("edge-a:10.1.0.0/16", "is not name=cidr"),
        ("edge-a=", "is not name=cidr"),
    ],
)
def test_a_malformed_override_is_refused_with_the_reason(value: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        topology_from_env({"LAB_POD_CIDRS": value})


def test_the_default_lab_is_central_and_edges_a_to_c() -> None:
    names = [c.name for c in topology_from_env({}).clusters]
    assert names == ["central", "edge-a", "edge-b", "edge-c"]


def test_a_lab_of_fifteen_edges_has_distinct_pod_cidrs_clear_of_liqo_s_own() -> None:
    topology = topology_from_env({"LAB_EDGES": "15"})
    assert [c.name for c in topology.providers][-1] == "edge-o"
    cidrs = [ipaddress.ip_network(c.pod_cidr) for c in topology.clusters]
    assert len(set(cidrs)) == 16
    reserved = [ipaddress.ip_network(n) for n in ("10.70.0.0/16", "10.80.0.0/16", "10.96.0.0/12")]
    assert not any(cidr.overlaps(other) for cidr in cidrs for other in reserved)


@pytest.mark.parametrize("value", ["0", "27", "many"])
def test_an_impossible_number_of_edges_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="LAB_EDGES must be"):
        topology_from_env({"LAB_EDGES": value})


def test_the_lab_runs_real_liqo_unless_the_emulated_mode_is_asked_for() -> None:
    assert liqo_mode_from_env({}) == "real"
    assert liqo_mode_from_env({"LAB_LIQO": "emulated"}) == "emulated"
    with pytest.raises(ValueError, match="LAB_LIQO must be one of emulated, real, not 'fake'"):
        liqo_mode_from_env({"LAB_LIQO": "fake"})
