"""The plan is liqoctl's connect sequence as data: order, concurrency, objects, placement."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import yaml

from liqoshortcut.core.model import ShortcutSpec
from liqoshortcut.core.naming import ownership_labels
from liqoshortcut.core.plan import (
    Action,
    Condition,
    EdgeFacts,
    EdgeIdentity,
    Output,
    Plan,
    PlannedEdge,
    Side,
    Step,
    place,
    placeholders,
    plan,
)
from liqoshortcut.errors import PreconditionFailed, UsageError

A_ID, B_ID = "milan", "turin"
SHORTCUT = "milan--turin"


def a_spec(**fields: Any) -> ShortcutSpec:
    edges = fields.pop("edges", [{"name": "edge-a"}, {"name": "edge-b"}])
    return ShortcutSpec.model_validate({"edges": edges, **fields})


def observed(*, namespaces: bool = False) -> dict[str, EdgeFacts]:
    """Facts read from the lab-like edges; ``namespaces``: the tenant namespaces exist already."""
    return {
        "edge-a": EdgeFacts(
            A_ID, ("10.1.0.0/16",), "10.71.0.0/16", "liqo-tenant-turin" if namespaces else None
        ),
        "edge-b": EdgeFacts(
            B_ID, ("10.2.0.0/16",), "10.72.0.0/16", "liqo-tenant-milan" if namespaces else None
        ),
    }


def ids(steps: Any) -> list[str]:
    return [step.id for step in steps]


def wave_of(built: Plan, step_id: str) -> int:
    return next(i for i, wave in enumerate(built.waves()) if step_id in ids(wave))


def ancestors(built: Plan, step_id: str) -> set[str]:
    found: set[str] = set()
    pending = list(built.step(step_id).after)
    while pending:
        current = pending.pop()
        if current not in found:
            found.add(current)
            pending.extend(built.step(current).after)
    return found


def test_steps_follow_liqoctl_network_connect_order() -> None:
    built = plan(a_spec(), observed(namespaces=True))
    assert ids(built.steps) == [
        "check-template@server",
        "check-template@client",
        "create-configuration@client",
        "create-configuration@server",
        "wait-configuration@client",
        "wait-configuration@server",
        "create-gatewayserver@server",
        "wait-gateway-pod@server",
        "wait-endpoint@server",
        "create-gatewayclient@client",
        "wait-gateway-pod@client",
        "wait-secretref@server",
        "create-publickey@client",
        "wait-secretref@client",
        "create-publickey@server",
        "wait-connection@server",
        "wait-connection@client",
    ]


def test_every_step_comes_after_the_steps_it_needs() -> None:
    built = plan(a_spec(), observed())
    seen: set[str] = set()
    for step in built.steps:
        assert set(step.after) <= seen, step.id
        seen.add(step.id)


def test_nothing_is_created_before_both_gateway_templates_are_checked() -> None:
    built = plan(a_spec(), observed())
    for step in built.steps:
        if step.action is Action.CREATE:
            assert {"check-template@server", "check-template@client"} <= ancestors(built, step.id)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("check-template@server", "check-template@client"),
        ("create-configuration@server", "create-configuration@client"),
        ("wait-configuration@server", "wait-configuration@client"),
        ("wait-secretref@server", "wait-secretref@client"),
        ("create-publickey@server", "create-publickey@client"),
        ("wait-connection@server", "wait-connection@client"),
    ],
)
def test_the_same_step_runs_on_the_two_edges_at_once(first: str, second: str) -> None:
    built = plan(a_spec(), observed(namespaces=True))
    assert wave_of(built, first) == wave_of(built, second)
    assert built.step(first).cluster != built.step(second).cluster


@pytest.mark.parametrize(
    ("step_id", "needs"),
    [
        ("create-gatewayserver@server", "wait-configuration@client"),
        ("create-gatewayserver@server", "wait-configuration@server"),
        ("create-gatewayclient@client", "wait-endpoint@server"),
        ("create-publickey@client", "wait-secretref@server"),
        ("create-publickey@client", "create-gatewayclient@client"),
        ("create-publickey@server", "wait-secretref@client"),
        ("wait-connection@server", "create-publickey@client"),
    ],
)
def test_a_step_waits_for_what_liqoctl_waits_for(step_id: str, needs: str) -> None:
    assert needs in ancestors(plan(a_spec(), observed()), step_id)


def test_without_wait_the_plan_ends_with_the_key_exchange() -> None:
    built = plan(a_spec(), observed(), wait_connected=False)
    assert built.steps[-1].id == "create-publickey@server"
    assert not [step for step in built.steps if step.kind == "Connection"]


def test_a_missing_tenant_namespace_is_created_before_its_configuration() -> None:
    facts = observed(namespaces=True)
    facts["edge-a"] = EdgeFacts(A_ID, ("10.1.0.0/16",), "10.71.0.0/16")
    built = plan(a_spec(), facts)
    created = [step for step in built.steps if step.kind == "Namespace"]
    assert [(step.cluster, step.name) for step in created] == [("edge-a", "liqo-tenant-turin")]
    assert "create-namespace@client" in built.step("create-configuration@client").after


def test_an_existing_tenant_namespace_is_used_as_found() -> None:
    facts = observed()
    facts["edge-b"] = EdgeFacts(B_ID, ("10.2.0.0/16",), "10.72.0.0/16", "tenant-of-milan")
    built = plan(a_spec(), facts)
    on_b = built.manifests_by_cluster()["edge-b"]
    assert {manifest["metadata"]["namespace"] for manifest in on_b} == {"tenant-of-milan"}


def test_each_edge_holds_objects_named_after_the_other_in_its_tenant_namespace() -> None:
    built = plan(a_spec(), observed())
    by_cluster = built.manifests_by_cluster()
    for cluster, peer in (("edge-a", B_ID), ("edge-b", A_ID)):
        for manifest in by_cluster[cluster]:
            metadata = manifest["metadata"]
            assert metadata["labels"]["liqo.io/remote-cluster-id"] == peer
            assert metadata["name"] == (
                f"liqo-tenant-{peer}" if manifest["kind"] == "Namespace" else peer
            )
            assert metadata.get("namespace", f"liqo-tenant-{peer}") == f"liqo-tenant-{peer}"


def test_the_server_edge_gets_the_server_and_the_other_the_client() -> None:
    kinds = {
        cluster: [manifest["kind"] for manifest in manifests]
        for cluster, manifests in plan(a_spec(), observed()).manifests_by_cluster().items()
    }
    assert kinds == {
        "edge-b": ["Namespace", "Configuration", "GatewayServer", "PublicKey"],
        "edge-a": ["Namespace", "Configuration", "GatewayClient", "PublicKey"],
    }


def test_server_edge_swaps_the_roles_but_not_the_name() -> None:
    default = plan(a_spec(), observed())
    swapped = plan(a_spec(serverEdge="edge-a"), observed())
    assert swapped.step("create-gatewayserver@server").cluster == "edge-a"
    assert swapped.step("create-gatewayclient@client").cluster == "edge-b"
    assert default.shortcut == swapped.shortcut == SHORTCUT


def test_every_manifest_carries_our_two_labels() -> None:
    for manifests in plan(a_spec(), observed()).manifests_by_cluster().values():
        for manifest in manifests:
            assert manifest["metadata"]["labels"].items() >= ownership_labels(SHORTCUT).items()


def test_each_configuration_describes_the_other_edges_networks() -> None:
    by_cluster = plan(a_spec(), observed(namespaces=True)).manifests_by_cluster()
    on_a = next(m for m in by_cluster["edge-a"] if m["kind"] == "Configuration")
    assert on_a["spec"]["remote"]["cidr"] == {"pod": ["10.2.0.0/16"], "external": ["10.72.0.0/16"]}


def test_gateway_settings_reach_the_gateways() -> None:
    spec = a_spec(
        gateway={"serviceType": "NodePort", "nodePort": 30500, "mtu": 1400}, liqoNamespace="lq"
    )
    built = plan(spec, observed())
    server = built.step("create-gatewayserver@server").manifest
    client = built.step("create-gatewayclient@client").manifest
    assert server is not None
    assert client is not None
    assert server["spec"]["endpoint"] == {
        "port": 51840,
        "serviceType": "NodePort",
        "nodePort": 30500,
    }
    assert server["spec"]["mtu"] == client["spec"]["mtu"] == 1400
    assert server["spec"]["serverTemplateRef"]["namespace"] == "lq"
    assert built.step("check-template@client").namespace == "lq"


def fields(step: Step) -> list[str]:
    return [late.field for late in step.pending]


def test_values_known_only_at_run_time_are_listed_and_shown_as_placeholders() -> None:
    built = plan(a_spec(), observed())
    client = built.step("create-gatewayclient@client")
    key = built.step("create-publickey@client")
    assert fields(client) == [
        "spec.endpoint.addresses",
        "spec.endpoint.port",
        "spec.endpoint.protocol",
    ]
    assert client.manifest is not None
    assert key.manifest is not None
    assert client.manifest["spec"]["endpoint"]["addresses"][0].startswith("<at run time: ")
    assert fields(key) == ["spec.publicKey", "metadata.ownerReferences[0].uid"]
    assert key.manifest["spec"]["publicKey"].startswith("<at run time: ")
    assert key.manifest["metadata"]["ownerReferences"][0]["kind"] == "GatewayClient"
    assert not built.step("create-gatewayserver@server").pending
    assert len(placeholders(built.manifests_by_cluster())) == len(fields(client)) + 2 * 2


@pytest.mark.parametrize(
    ("consumer", "field", "producer", "output"),
    [
        (
            "create-gatewayclient@client",
            "spec.endpoint.addresses",
            "wait-endpoint@server",
            Output.ENDPOINT_ADDRESSES,
        ),
        (
            "create-gatewayclient@client",
            "spec.endpoint.port",
            "wait-endpoint@server",
            Output.ENDPOINT_PORT,
        ),
        ("create-publickey@client", "spec.publicKey", "wait-secretref@server", Output.PUBLIC_KEY),
        (
            "create-publickey@client",
            "metadata.ownerReferences[0].uid",
            "create-gatewayclient@client",
            Output.UID,
        ),
        ("create-publickey@server", "spec.publicKey", "wait-secretref@client", Output.PUBLIC_KEY),
        (
            "create-publickey@server",
            "metadata.ownerReferences[0].uid",
            "create-gatewayserver@server",
            Output.UID,
        ),
    ],
)
def test_each_run_time_value_comes_from_the_step_liqoctl_reads_it_from(
    consumer: str, field: str, producer: str, output: Output
) -> None:
    step = plan(a_spec(), observed()).step(consumer)
    assert (producer, output) in [(p.step, p.output) for p in step.pending if p.field == field]


def test_every_pending_value_is_produced_by_a_step_that_runs_before() -> None:
    built = plan(a_spec(), observed())
    for step in built.steps:
        for late in step.pending:
            assert late.step in ancestors(built, step.id), (step.id, late.field)
            assert late.output in built.step(late.step).produces, (step.id, late.field)


def run_time_values() -> dict[str, dict[Output, object]]:
    return {
        "wait-endpoint@server": {
            Output.ENDPOINT_ADDRESSES: ["198.51.100.20"],
            Output.ENDPOINT_PORT: 32100,
            Output.ENDPOINT_PROTOCOL: "UDP",
        },
        "wait-secretref@server": {Output.PUBLIC_KEY: "c2VydmVy"},
        "create-gatewayclient@client": {Output.UID: "client-uid"},
    }


def test_resolving_fills_every_pending_field_and_leaves_the_plan_as_it_was() -> None:
    built = plan(a_spec(), observed())
    client = built.step("create-gatewayclient@client").resolve(run_time_values())
    key = built.step("create-publickey@client").resolve(run_time_values())
    assert client["spec"]["endpoint"] == {
        "addresses": ["198.51.100.20"],
        "port": 32100,
        "protocol": "UDP",
    }
    assert key["spec"]["publicKey"] == "c2VydmVy"
    assert key["metadata"]["ownerReferences"][0]["uid"] == "client-uid"
    assert placeholders([client, key]) == []
    assert placeholders(built.step("create-publickey@client").manifest) != []


def test_a_manifest_that_would_keep_a_placeholder_is_refused() -> None:
    step = plan(a_spec(), observed()).step("create-gatewayclient@client")
    unfilled = replace(step, pending=step.pending[1:])
    with pytest.raises(ValueError, match="would send the placeholder"):
        unfilled.resolve(run_time_values())


def test_a_server_behind_nat_is_dialled_at_the_given_address_and_port() -> None:
    spec = a_spec(gateway={"clientAddress": "203.0.113.7", "clientPort": 31000})
    client = plan(spec, observed()).step("create-gatewayclient@client")
    assert client.manifest is not None
    endpoint = client.manifest["spec"]["endpoint"]
    assert (endpoint["addresses"], endpoint["port"]) == (["203.0.113.7"], 31000)
    assert fields(client) == ["spec.endpoint.protocol"]
    resolved = client.resolve(run_time_values())["spec"]["endpoint"]
    assert resolved == {"addresses": ["203.0.113.7"], "port": 31000, "protocol": "UDP"}


@pytest.mark.parametrize(
    ("step_id", "condition"),
    [
        ("check-template@server", Condition.TEMPLATE_EXISTS),
        ("wait-configuration@client", Condition.CONFIGURED),
        ("wait-gateway-pod@server", Condition.POD_READY),
        ("wait-endpoint@server", Condition.ENDPOINT),
        ("wait-secretref@client", Condition.KEY),
        ("wait-connection@server", Condition.CONNECTED),
    ],
)
def test_every_check_and_wait_says_what_it_looks_for(step_id: str, condition: Condition) -> None:
    built = plan(a_spec(), observed())
    assert built.step(step_id).condition is condition
    looking = [s for s in built.steps if s.action in (Action.CHECK, Action.WAIT)]
    assert all(step.condition is not None for step in looking)


def test_the_plan_knows_each_edges_cluster_and_tenant_namespace() -> None:
    facts = observed()
    facts["edge-b"] = EdgeFacts(B_ID, ("10.2.0.0/16",), "10.72.0.0/16", "tenant-of-milan")
    built = plan(a_spec(), facts)
    assert built.edges[Side.SERVER] == PlannedEdge("edge-b", B_ID, "tenant-of-milan")
    assert built.edges[Side.CLIENT] == PlannedEdge("edge-a", A_ID, "liqo-tenant-turin")


def test_connections_are_found_by_the_remote_cluster_label() -> None:
    step = plan(a_spec(), observed()).step("wait-connection@client")
    assert step.selector == {"liqo.io/remote-cluster-id": B_ID}
    assert step.namespace == "liqo-tenant-turin"


def test_a_teardown_places_the_shortcut_as_the_plan_does_from_identities_alone() -> None:
    identities = {
        "edge-a": EdgeIdentity(A_ID),
        "edge-b": EdgeIdentity(B_ID, peer_tenant_namespace="tenant-of-milan"),
    }
    placed = place(a_spec(), identities)
    facts = observed()
    facts["edge-b"] = EdgeFacts(B_ID, ("10.2.0.0/16",), "10.72.0.0/16", "tenant-of-milan")
    built = plan(a_spec(), facts)
    assert (placed.shortcut, placed.edges) == (built.shortcut, built.edges)
    assert placed.edges[Side.SERVER] == PlannedEdge("edge-b", B_ID, "tenant-of-milan")


def test_placing_refuses_what_planning_refuses() -> None:
    spec = a_spec(edges=[{"name": "edge-a", "clusterID": "rome"}, {"name": "edge-b"}])
    with pytest.raises(PreconditionFailed, match="edge edge-a is cluster 'milan'"):
        place(spec, {"edge-a": EdgeIdentity(A_ID), "edge-b": EdgeIdentity(B_ID)})
    with pytest.raises(UsageError, match="are the same cluster"):
        place(a_spec(), {"edge-a": EdgeIdentity(A_ID), "edge-b": EdgeIdentity(A_ID)})


def test_an_edge_that_is_not_the_expected_cluster_is_refused() -> None:
    spec = a_spec(edges=[{"name": "edge-a", "clusterID": "rome"}, {"name": "edge-b"}])
    with pytest.raises(
        PreconditionFailed, match="edge edge-a is cluster 'milan', not the expected 'rome'"
    ):
        plan(spec, observed())


def test_two_edges_that_are_the_same_cluster_are_refused() -> None:
    facts = observed()
    facts["edge-b"] = facts["edge-a"]
    with pytest.raises(UsageError) as raised:
        plan(a_spec(), facts)
    assert str(raised.value) == (
        f"'edge-a' and 'edge-b' are the same cluster ({A_ID}): name two different edges"
    )


def test_a_plan_prints_as_plain_yaml() -> None:
    built = plan(a_spec(), observed())
    printed = yaml.safe_dump(
        {
            "steps": [step.as_dict() for step in built.steps],
            "clusters": built.manifests_by_cluster(),
        }
    )
    steps = yaml.safe_load(printed)["steps"]
    assert steps[0] == {
        "id": "check-template@server",
        "cluster": "edge-b",
        "side": "server",
        "action": "check",
        "object": "WgGatewayServerTemplate liqo/wireguard-server",
        "condition": "template exists",
    }
    key = next(step for step in steps if step["id"] == "create-publickey@server")
    assert key["pending"][1] == {
        "field": "metadata.ownerReferences[0].uid",
        "from": "create-gatewayserver@server",
        "value": "metadata.uid",
    }
    server = next(step for step in steps if step["id"] == "create-gatewayserver@server")
    assert server["produces"] == ["metadata.uid"]


def test_sides_know_each_other() -> None:
    assert Side.SERVER.other is Side.CLIENT
    assert Side.CLIENT.other is Side.SERVER
