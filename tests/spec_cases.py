"""Good and bad VirtualNodeShortcut specs, each with what pydantic and the API server must say.

One table for both judges: tests/unit checks the pydantic half in milliseconds, and
tests/integration checks both halves against a real kube-apiserver with the generated CRD, so a
rule added to one side only fails there. Specs are in CR spelling, as `kubectl apply` sends them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SpecCase:
    promise: str  # the test id: what a user may rely on
    spec: dict[str, Any]
    # A fragment of each judge's refusal; None: the judge accepts the spec.
    pydantic_says: str | None = None
    apiserver_says: str | None = None


def edge(name: str, **fields: Any) -> dict[str, Any]:
    """An edge as a CR names it: credentials from a Secret named after the edge."""
    return {"name": name, "secretRef": f"{name}-kubeconfig", **fields}


def a_spec(**overrides: Any) -> dict[str, Any]:
    """The smallest valid spec, with ``overrides`` applied."""
    return {"edges": [edge("edge-a"), edge("edge-b")], **overrides}


def gateway(**fields: Any) -> dict[str, Any]:
    return a_spec(gateway=fields)


def traffic(**fields: Any) -> dict[str, Any]:
    return a_spec(traffic=fields)


GOOD_SPECS = [
    SpecCase("two edges with their Secrets are a shortcut", a_spec()),
    SpecCase(
        "every gateway option of liqoctl can be given",
        a_spec(
            edges=[edge("edge-a", clusterID="milan"), edge("edge-b", clusterID="turin")],
            serverEdge="edge-a",
            gateway={
                "serviceType": "NodePort",
                "port": 4000,
                "nodePort": 30123,
                "mtu": 1400,
                "clientAddress": "gw.example.org",
                "clientPort": 31000,
            },
            timeout=300,
            liqoNamespace="liqo-system",
        ),
    ),
    SpecCase(
        "a load balancer IP may be IPv6",
        gateway(serviceType="LoadBalancer", loadBalancerIP="2001:db8::10"),
    ),
    SpecCase("the server may be a ClusterIP Service", gateway(serviceType="ClusterIP")),
    SpecCase(
        "all shared Services may take the direct path", traffic(services="All", path="Direct")
    ),
    SpecCase(
        "Services may be selected by namespace and by label",
        traffic(
            services="Selected",
            path="Auto",
            namespaceSelector={"matchLabels": {"team": "video"}},
            serviceSelector={
                "matchExpressions": [
                    {"key": "app.kubernetes.io/name", "operator": "In", "values": ["cam"]},
                    {"key": "canary", "operator": "DoesNotExist"},
                ]
            },
        ),
    ),
]

BAD_SPECS = [
    SpecCase(
        "one edge is refused",
        a_spec(edges=[edge("edge-a")]),
        "invalid edges: List should have at least 2 items",
        "spec.edges in body should have at least 2 items",
    ),
    SpecCase(
        "three edges are refused",
        a_spec(edges=[edge("a"), edge("b"), edge("c")]),
        "invalid edges: List should have at most 2 items",
        "spec.edges: Too many: 3: must have at most 2 items",
    ),
    SpecCase(
        "the same edge twice is refused",
        a_spec(edges=[edge("edge-a"), edge("edge-a")]),
        "invalid edges: both edges are 'edge-a': give two edges",
        "spec.edges: Invalid value: both edges have the same name: give two edges",
    ),
    SpecCase(
        "two edges expecting one cluster ID are refused",
        a_spec(edges=[edge("a", clusterID="x"), edge("b", clusterID="x")]),
        "invalid edges: both edges expect cluster ID 'x': give two edges",
        "spec.edges: Invalid value: both edges expect the same cluster ID: give two edges",
    ),
    SpecCase(
        "a server edge that is neither edge is refused",
        a_spec(serverEdge="edge-c"),
        "invalid serverEdge: 'edge-c' is neither edge",
        "spec.serverEdge: Invalid value: serverEdge must name one of the two edges",
    ),
    SpecCase(
        "an edge without a Secret is refused",
        a_spec(edges=[{"name": "edge-a"}, edge("edge-b")]),
        "invalid edges.0.secretRef: required in a VirtualNodeShortcut",
        "spec.edges[0].secretRef: Required value",
    ),
    SpecCase(
        "a kubeconfig path in a resource is refused",
        a_spec(edges=[edge("edge-a", kubeconfig="/etc/kubeconfig"), edge("edge-b")]),
        "invalid edges.0.kubeconfig: a VirtualNodeShortcut reads an edge's kubeconfig from a",
        'unknown field "spec.edges[0].kubeconfig"',
    ),
    SpecCase(
        "a kubeconfig context in a resource is refused",
        a_spec(edges=[edge("edge-a"), edge("edge-b", context="admin@edge-b")]),
        "invalid edges.1.context: a VirtualNodeShortcut reads an edge's kubeconfig from a Secret",
        'unknown field "spec.edges[1].context"',
    ),
    SpecCase(
        "an empty edge name is refused",
        a_spec(edges=[edge(""), edge("edge-b")]),
        "invalid edges.0.name ''",
        'spec.edges[0].name: Invalid value: "": spec.edges[0].name in body should be at least 1',
    ),
    SpecCase(
        "a Secret name that is no DNS subdomain is refused",
        a_spec(edges=[{"name": "a", "secretRef": "My Secret"}, edge("b")]),
        "invalid edges.0.secretRef 'My Secret'",
        "spec.edges[0].secretRef in body should match",
    ),
    SpecCase(
        "a cluster ID that is no DNS label is refused",
        a_spec(edges=[edge("a", clusterID="Edge_A"), edge("b")]),
        "invalid edges.0.clusterID 'Edge_A'",
        "spec.edges[0].clusterID in body should match",
    ),
    SpecCase(
        "port 0 is refused",
        gateway(port=0),
        "invalid gateway.port 0: Input should be greater than or equal to 1",
        "spec.gateway.port in body should be greater than or equal to 1",
    ),
    SpecCase(
        "a port above 65535 is refused",
        gateway(port=65536),
        "invalid gateway.port 65536: Input should be less than or equal to 65535",
        "spec.gateway.port in body should be less than or equal to 65535",
    ),
    SpecCase(
        "an MTU below IPv4's minimum is refused",
        gateway(mtu=575),
        "invalid gateway.mtu 575: Input should be greater than or equal to 576",
        "spec.gateway.mtu in body should be greater than or equal to 576",
    ),
    SpecCase(
        "an MTU above jumbo frames is refused",
        gateway(mtu=9001),
        "invalid gateway.mtu 9001: Input should be less than or equal to 9000",
        "spec.gateway.mtu in body should be less than or equal to 9000",
    ),
    SpecCase(
        "an unknown service type is refused",
        gateway(serviceType="Tunnel"),
        "invalid gateway.serviceType 'Tunnel': Input should be 'LoadBalancer', 'NodePort'",
        'spec.gateway.serviceType: Unsupported value: "Tunnel": supported values: "LoadBalancer"',
    ),
    SpecCase(
        "a node port without service type NodePort is refused",
        gateway(nodePort=30001),
        "invalid gateway.nodePort: give it only with service type NodePort",
        "spec.gateway.nodePort: Invalid value: give it only with service type NodePort",
    ),
    SpecCase(
        "a node port outside the node port range is refused",
        gateway(serviceType="NodePort", nodePort=80),
        "invalid gateway.nodePort 80: Input should be greater than or equal to 30000",
        "spec.gateway.nodePort in body should be greater than or equal to 30000",
    ),
    SpecCase(
        "a load balancer IP without service type LoadBalancer is refused",
        gateway(serviceType="ClusterIP", loadBalancerIP="192.0.2.10"),
        "invalid gateway.loadBalancerIP: give it only with service type LoadBalancer",
        "spec.gateway.loadBalancerIP: Invalid value: give it only with service type LoadBalancer",
    ),
    SpecCase(
        "a load balancer IP that is no IP is refused",
        gateway(loadBalancerIP="not-an-ip"),
        "invalid gateway.loadBalancerIP: 'not-an-ip' is not an IPv4 or IPv6 address",
        'spec.gateway.loadBalancerIP: Invalid value: "not-an-ip": is not an IPv4 or IPv6 address',
    ),
    SpecCase(
        "a load balancer IP with a zone is refused",
        gateway(loadBalancerIP="fe80::1%eth0"),
        "invalid gateway.loadBalancerIP: 'fe80::1%eth0' is not an IPv4 or IPv6 address",
        'spec.gateway.loadBalancerIP: Invalid value: "fe80::1%eth0": is not an IPv4 or IPv6',
    ),
    SpecCase(
        "an IPv4-mapped IPv6 load balancer IP is refused",
        gateway(loadBalancerIP="::ffff:192.0.2.10"),
        "invalid gateway.loadBalancerIP: '::ffff:192.0.2.10' is not an IPv4 or IPv6 address",
        'spec.gateway.loadBalancerIP: Invalid value: "::ffff:192.0.2.10": is not an IPv4 or IPv6',
    ),
    SpecCase(
        "client port 0 is refused",
        gateway(clientPort=0),
        "invalid gateway.clientPort 0",
        "spec.gateway.clientPort in body should be greater than or equal to 1",
    ),
    SpecCase(
        "an unknown gateway field is refused",
        gateway(mtuu=1400),
        "unknown field gateway.mtuu: remove it",
        'unknown field "spec.gateway.mtuu"',
    ),
    SpecCase(
        "a timeout below ten seconds is refused",
        a_spec(timeout=5),
        "invalid timeout 5: Input should be greater than or equal to 10",
        "spec.timeout in body should be greater than or equal to 10",
    ),
    SpecCase(
        "a Liqo namespace that is no namespace name is refused",
        a_spec(liqoNamespace="Liqo_NS"),
        "invalid liqoNamespace 'Liqo_NS'",
        "spec.liqoNamespace in body should match",
    ),
    SpecCase(
        "an unknown top-level field is refused",
        a_spec(trafic={}),
        "unknown field trafic: remove it",
        'unknown field "spec.trafic"',
    ),
    SpecCase(
        "selected Services without a selector are refused",
        traffic(services="Selected"),
        "invalid traffic.services: Selected needs a namespaceSelector or a serviceSelector",
        "spec.traffic.services: Invalid value: Selected needs a namespaceSelector",
    ),
    SpecCase(
        "a selector without Selected is refused",
        traffic(services="All", serviceSelector={"matchLabels": {"app": "cam"}}),
        "invalid traffic.services: namespaceSelector and serviceSelector apply only with Selected",
        "spec.traffic.services: Invalid value: namespaceSelector and serviceSelector apply only",
    ),
    SpecCase(
        "an unknown path mode is refused",
        traffic(path="Fastest"),
        "invalid traffic.path 'Fastest': Input should be 'Direct', 'Hub' or 'Auto'",
        'spec.traffic.path: Unsupported value: "Fastest": supported values: "Direct", "Hub"',
    ),
    SpecCase(
        "an In expression without values is refused",
        traffic(
            services="Selected",
            serviceSelector={"matchExpressions": [{"key": "app", "operator": "In"}]},
        ),
        "invalid traffic.serviceSelector.matchExpressions.0.values: In and NotIn need values",
        "spec.traffic.serviceSelector.matchExpressions[0].values: Invalid value: In and NotIn need",
    ),
    SpecCase(
        "an Exists expression with values is refused",
        traffic(
            services="Selected",
            serviceSelector={
                "matchExpressions": [{"key": "app", "operator": "Exists", "values": ["x"]}]
            },
        ),
        "invalid traffic.serviceSelector.matchExpressions.0.values: In and NotIn need values",
        "spec.traffic.serviceSelector.matchExpressions[0].values: Invalid value: In and NotIn need",
    ),
    SpecCase(
        "a label value that is no label value is refused",
        traffic(services="Selected", namespaceSelector={"matchLabels": {"team": "video team"}}),
        "invalid traffic.namespaceSelector.matchLabels.team 'video team': use letters, digits",
        "spec.traffic.namespaceSelector.matchLabels.team in body should match",
    ),
]
