"""The real data path's pure parts: a gateway pod's arguments as the lab runs them, the WAN's
TEST-NET numbering and the LAB_DATAPATH switch."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.datapath import netns
from lab.datapath.gateways import container_args, flag, userspace
from lab.datapath.wan import LOAD_BALANCER_POOL, load_balancer_ips, one_way_delay
from lab.topology import datapath_mode_from_env


def gateway_pod() -> dict[str, object]:
    env = [
        {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
    ]
    return {
        "metadata": {"name": "gw-edge-b-abc", "namespace": "liqo-tenant-edge-b", "uid": "u1"},
        "spec": {
            "nodeName": "edge-a-node",
            "containers": [
                {
                    "name": "gateway",
                    "args": ["--name=edge-b", "--node-name=$(NODE_NAME)", "--mode=client"],
                    "env": env,
                },
                {
                    "name": "wireguard",
                    "args": ["--mode=client", "--implementation=kernel", "--mtu=1340"],
                },
            ],
        },
    }


def test_the_kubelets_variables_are_filled_from_the_pods_own_fields() -> None:
    containers = container_args(gateway_pod())
    gateway_args, gateway_env = containers["gateway"]
    assert gateway_args == ["--name=edge-b", "--node-name=edge-a-node", "--mode=client"]
    assert gateway_env == {"NODE_NAME": "edge-a-node", "POD_NAME": "gw-edge-b-abc"}
    assert flag(gateway_args, "mode") == "client"
    assert flag(gateway_args, "missing") is None


def test_wireguard_runs_in_userspace_with_the_keys_where_the_lab_wrote_them() -> None:
    args, _ = container_args(gateway_pod())["wireguard"]
    assert userspace(args, Path("/lab/keys")) == [
        "--mode=client",
        "--mtu=1340",
        "--implementation=userspace",
        "--keys-dir=/lab/keys",
    ]


def test_each_cluster_has_its_own_load_balancer_ips_in_test_net_3() -> None:
    central, edge_a = load_balancer_ips(0), load_balancer_ips(1)
    assert not set(central) & set(edge_a)
    assert "203.0.113.0" not in central  # the /24's network address is never handed out
    assert len(edge_a) == 8
    assert all(ip.startswith("203.0.113.") for ip in central + edge_a)
    assert LOAD_BALANCER_POOL.prefixlen == 24
    with pytest.raises(ValueError, match="LoadBalancer IPs"):
        load_balancer_ips(32)


def test_two_labs_never_share_a_namespace_prefix(tmp_path: Path) -> None:
    first, second = netns.prefix(tmp_path / "a"), netns.prefix(tmp_path / "b")
    assert first != second
    assert first.startswith("lsc")
    assert len(first) == 7


def test_lab_datapath_is_real_unless_asked_and_refuses_unknown_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 0)
    assert datapath_mode_from_env({}) == "real"
    assert datapath_mode_from_env({"LAB_DATAPATH": "emulated"}) == "emulated"
    with pytest.raises(ValueError, match="LAB_DATAPATH"):
        datapath_mode_from_env({"LAB_DATAPATH": "kernel"})


def test_a_real_datapath_without_root_says_so_and_runs_the_emulated_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert datapath_mode_from_env({}) == "emulated"
    assert capsys.readouterr().err.count("\n") == 1
    assert datapath_mode_from_env({"LAB_DATAPATH": "emulated"}) == "emulated"
    assert capsys.readouterr().err == ""


def test_a_path_through_central_is_eight_times_a_shortcut_in_round_trip() -> None:
    edge_to_central = one_way_delay("edge-a", "central", "central")
    assert one_way_delay("central", "edge-b", "central") == edge_to_central
    shortcut = one_way_delay("edge-a", "edge-b", "central")
    assert (4 * edge_to_central) / (2 * shortcut) == 8  # 80 ms against 10 ms
