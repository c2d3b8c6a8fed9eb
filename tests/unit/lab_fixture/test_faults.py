"""The fault switches: a peer entry wins over its cluster's entry, which wins over "*", what a
gateway cannot do per peer is refused with the reason, and on real controllers each of their steps
maps to a stopped process or a refused write."""

from __future__ import annotations

import pytest

from lab.emulator.faults import parse_faults
from lab.faults import RealFaults, real_faults


def test_a_peer_entry_targets_only_the_connections_toward_that_peer() -> None:
    faults = parse_faults({"edge-a": {"peers": {"edge-b": {"connected": "fail"}}}})
    edge_a = faults.for_cluster("edge-a")
    assert edge_a.mode("connected", "edge-b") == "fail"
    assert edge_a.mode("connected", "central") is None
    assert edge_a.mode("connected") is None
    assert faults.for_cluster("edge-b").mode("connected", "edge-a") is None


def test_precedence_is_peer_entry_then_star_s_peer_entry_then_cluster_then_star() -> None:
    faults = parse_faults(
        {
            "*": {"connected": "hang", "latency": "1ms", "peers": {"edge-c": {"latency": "3ms"}}},
            "edge-a": {
                "connected": "fail",
                "latency": "2ms",
                "peers": {"edge-b": {"connected": "hang", "latency": "5ms"}},
            },
        }
    )
    edge_a = faults.for_cluster("edge-a")
    assert edge_a.mode("connected", "edge-b") == "hang"  # its peer entry
    assert edge_a.mode("connected", "central") == "fail"  # its own entry over "*"
    assert edge_a.latency_toward("edge-b") == "5ms"
    assert edge_a.latency_toward("edge-c") == "3ms"  # "*"'s peer entry over its own latency
    assert edge_a.latency_toward("central") == "2ms"
    edge_b = faults.for_cluster("edge-b")
    assert edge_b.mode("connected", "edge-a") == "hang"  # "*" only
    assert edge_b.latency_toward("edge-a") == "1ms"
    assert edge_b.latency_toward("edge-c") == "3ms"


def test_a_peer_entry_leaves_the_cluster_s_other_steps_as_they_were() -> None:
    faults = parse_faults(
        {"edge-a": {"keys": "hang", "connection": "fail", "peers": {"edge-b": {"latency": "9ms"}}}}
    )
    edge_a = faults.for_cluster("edge-a")
    assert edge_a.mode("keys") == "hang"
    assert edge_a.mode("connection", "edge-b") == "fail"  # the peer entry says nothing of it
    assert edge_a.latency_toward("edge-b") == "9ms"
    assert edge_a.latency_toward("central") is None


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ({"edge-a": {"peers": {"edge-b": {"keys": "hang"}}}}, "a step no gateway runs per peer"),
        ({"edge-a": {"peers": {"edge-b": {"peers": {}}}}}, "unknown key 'peers'"),
        ({"edge-a": {"peers": {"edge-b": {"connected": "slow"}}}}, "'hang' or 'fail'"),
        ({"edge-a": {"peers": {"edge-b": {"latency": 5}}}}, "latency must be a string"),
        ({"edge-a": {"peers": ["edge-b"]}}, "peers must be an object"),
        ({"edge-a": {"peers": {"edge-b": "fail"}}}, r"peers\['edge-b'\] must be an object"),
        ({"edge-a": {"gateway": "hang"}}, "unknown key 'gateway'"),
    ],
)
def test_a_malformed_fault_is_refused_naming_where(document: object, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_faults(document)


@pytest.mark.parametrize(
    ("steps", "stopped", "refused"),
    [
        ({"configuration": "hang"}, {"liqo-controller-manager"}, set()),
        ({"configuration": "fail"}, set(), {"configuration"}),
        (
            {"gateway-server": "hang", "gateway-client": "fail", "keys": "hang"},
            set(),
            {"gateway-server", "gateway-client", "keys"},
        ),
        ({"gateway-pod": "hang", "connected": "fail", "latency": "5ms"}, set(), set()),
    ],
    ids=[
        "a hung configuration stops the controller-manager",
        "a failed configuration refuses its Networks",
        "a gateway or keys step hangs or fails by the refusal of its object",
        "the gateway pods' steps are left to the emulator",
    ],
)
def test_real_controllers_are_stopped_or_refused_for_their_own_steps_only(
    steps: dict[str, str], stopped: set[str], refused: set[str]
) -> None:
    real = real_faults(parse_faults({"edge-a": steps}).for_cluster("edge-a"))
    assert real == RealFaults(frozenset(stopped), frozenset(refused))
