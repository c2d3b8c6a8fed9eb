"""The pure parts of lab/workloads.py and of central's virtual Nodes: addresses and names."""

from __future__ import annotations

import ipaddress

import pytest

from lab.liqo_baseline import virtual_kubelet_ip, virtual_kubelet_node
from lab.topology import with_edges
from lab.workloads import allocate_ips, node_for, remap_address


def test_addresses_come_from_the_cidr_s_second_slash_24_and_skip_the_used_ones() -> None:
    ips = allocate_ips("10.242.0.0/16", 3, used={"10.242.1.2"})
    assert ips == ["10.242.1.1", "10.242.1.3", "10.242.1.4"]


def test_a_small_network_is_used_from_its_first_host_and_never_its_broadcast() -> None:
    assert allocate_ips("192.168.5.0/30", 2) == ["192.168.5.1", "192.168.5.2"]
    with pytest.raises(ValueError, match="no 3 free addresses"):
        allocate_ips("192.168.5.0/30", 3)


def test_no_addresses_asked_is_none_given() -> None:
    assert allocate_ips("10.242.0.0/16", 0) == []


def test_every_edge_has_its_own_virtual_kubelet_address_clear_of_the_workloads() -> None:
    lab = with_edges(26)
    addresses = [virtual_kubelet_ip(lab.consumer, i) for i in range(len(lab.providers))]
    assert addresses[:3] == ["10.241.0.254", "10.241.0.253", "10.241.0.252"]
    assert len(set(addresses)) == 26
    workloads = allocate_ips(lab.consumer.pod_cidr, 300, used=addresses)
    assert not set(workloads) & set(addresses)
    network = ipaddress.ip_network(lab.consumer.pod_cidr)
    assert all(ipaddress.ip_address(a) in network for a in addresses)


def test_pods_go_to_the_edge_s_virtual_node_or_to_central_s_own_node() -> None:
    lab = with_edges(3)
    assert node_for("edge-c", lab) == "edge-c"
    assert node_for("central", lab) == "central-node"
    with pytest.raises(ValueError, match="edge-d"):
        node_for("edge-d", lab)


def test_the_virtual_node_is_labelled_and_tainted_as_liqo_s_virtual_kubelet_does() -> None:
    node = virtual_kubelet_node("edge-a")
    assert node["metadata"]["name"] == "edge-a"
    labels = node["metadata"]["labels"]
    assert labels["liqo.io/type"] == "virtual-node"
    assert labels["liqo.io/remote-cluster-id"] == "edge-a"
    assert node["spec"]["taints"] == [
        {"key": "virtual-node.liqo.io/not-allowed", "value": "true", "effect": "NoExecute"}
    ]


def test_central_shows_a_remapped_edge_s_pod_in_the_remapped_cidr_host_part_kept() -> None:
    own, seen = ipaddress.IPv4Network("10.244.0.0/16"), ipaddress.IPv4Network("10.64.0.0/16")
    assert remap_address("10.244.1.7", own, seen) == "10.64.1.7"
    assert remap_address("10.64.1.7", seen, own) == "10.244.1.7"
    assert remap_address("10.243.1.7", own, seen) == "10.243.1.7"  # not in the remapped CIDR
    assert remap_address("edge-a-node", own, seen) == "edge-a-node"  # a node's hostname address
