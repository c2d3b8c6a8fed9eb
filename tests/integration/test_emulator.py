"""The Liqo emulator against the live lab: what liqoctl creates, forged as liqoctl forges it,
ends in two Connected Connections; fault switches make steps hang or fail; teardown is clean.

Uses the lab (the session fixture), switched to emulated Liqo for the module, with contexts
edge-a (client side) and edge-b (server side), and drives the lab's emulator process through its
faults file.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lab.cluster import Lab, faults_path, kubeconfig_path, set_emulator_faults
from lab.emulator import kube as k
from lab.emulator import parse_faults
from lab.emulator.gotemplate import render_template
from lab.emulator.ipam import acquire
from lab.emulator.kube import Kube, Obj

CLIENT, SERVER = "edge-a", "edge-b"
NET_API = "networking.liqo.io/v1beta1"
RCID = "liqo.io/remote-cluster-id"


# --------------------------------------------------------------------- pure parts, no lab
def test_fault_schema_rejects_unknown_steps() -> None:
    faults = parse_faults({"*": {"keys": "hang"}, "edge-a": {"keys": "fail", "latency": "3ms"}})
    assert faults.for_cluster("edge-a").mode("keys") == "fail"
    assert faults.for_cluster("edge-b").mode("keys") == "hang"
    assert faults.for_cluster("edge-a").latency == "3ms"
    with pytest.raises(ValueError, match="unknown key"):
        parse_faults({"edge-a": {"gateway": "hang"}})
    with pytest.raises(ValueError, match="'hang' or 'fail'"):
        parse_faults({"edge-a": {"keys": "slow"}})


def test_ipam_keeps_free_prefixes_and_remaps_overlaps() -> None:
    taken = ["10.70.0.0/16", "10.242.0.0/16", "10.80.0.0/16", "10.96.0.0/12"]
    assert acquire("10.243.0.0/16", taken) == "10.243.0.0/16"
    remapped = acquire("10.70.0.0/16", taken)
    assert remapped != "10.70.0.0/16"
    assert remapped.endswith("/16")
    assert acquire("10.70.0.0/16", [*taken, remapped]) not in (remapped, "10.70.0.0/16")


def test_template_rendering_follows_liqo() -> None:
    data = {
        "Name": "edge-a",
        "Spec": {"Endpoint": {"Port": 51840, "NodePort": None, "Addresses": ["1.2.3.4"]}},
    }
    spec = {
        "ports": [
            {"port": "{{ .Spec.Endpoint.Port }}", "?nodePort": "{{ .Spec.Endpoint.NodePort }}"}
        ],
        "args": ["--endpoint-address={{ index .Spec.Endpoint.Addresses 0 }}"],
        "metadata": {"labels": {"n": "{{ .Spec.Endpoint.Port }}"}},
    }
    out = render_template(spec, data, False)
    assert out["ports"] == [{"port": 51840}]
    assert out["args"] == ["--endpoint-address=1.2.3.4"]
    assert out["metadata"]["labels"] == {"n": "51840"}


# ------------------------------------------------------------------------- lab fixtures
@pytest.fixture(scope="module")
def kubes(lab: Lab, emulated_liqo: None) -> dict[str, Kube]:
    """Clients of the two edges, with the emulator playing Liqo's controllers for the module
    (its controller-side fault switches mean nothing to Liqo's own); the pure tests need no lab."""
    return {name: Kube(str(kubeconfig_path()), name) for name in (CLIENT, SERVER)}


@pytest.fixture(scope="module")
def faults_file(kubes: dict[str, Kube]) -> Iterator[Path]:
    """The faults file of the lab's own emulator process; emptied again after the module."""
    path = faults_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    yield path
    path.unlink(missing_ok=True)


def wait_for(what: str, fn: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def stays_false(fn: Callable[[], Any], seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if fn():
            return False
        time.sleep(0.2)
    return True


# ---------------------------------------------------------- what liqoctl creates, forged alike
def cluster_id(kube: Kube) -> str:
    cms = kube.list(k.CONFIGMAPS, "liqo", "app.kubernetes.io/name=clusterid-configmap")
    return str(cms[0]["data"]["CLUSTER_ID"])


def tenant_ns(kube: Kube, remote: str) -> str:
    """tenantnamespace.Manager.CreateNamespace: liqo-tenant-<remote cluster id>."""
    name = f"liqo-tenant-{remote}"
    if kube.get(k.Resource("", "v1", "namespaces", False), name) is None:
        kube.create(
            k.Resource("", "v1", "namespaces", False),
            {
                "metadata": {
                    "name": name,
                    "labels": {"liqo.io/tenant-namespace": "true", RCID: remote},
                }
            },
        )
    return name


def local_cidrs(kube: Kube) -> tuple[list[str], str]:
    nets = kube.list(k.NETWORKS, "liqo")
    pods = [
        n["status"]["cidr"]
        for n in nets
        if n["metadata"].get("labels", {}).get("ipam.liqo.io/network-type") == "pod-cidr"
    ]
    ext = [
        n["status"]["cidr"]
        for n in nets
        if n["metadata"].get("labels", {}).get("ipam.liqo.io/network-type") == "external-cidr"
    ]
    return pods, ext[0]


def configuration(remote_id: str, ns: str, pods: list[str], ext: str) -> Obj:
    """forge.ConfigurationForRemoteCluster + SetupConfiguration."""
    return {
        "apiVersion": NET_API,
        "kind": "Configuration",
        "metadata": {"name": remote_id, "namespace": ns, "labels": {RCID: remote_id}},
        "spec": {"remote": {"cidr": {"pod": pods, "external": [ext]}}},
    }


def gateway_server(remote_id: str, ns: str) -> Obj:
    """forge.GatewayServer with liqoctl's defaults."""
    return {
        "apiVersion": NET_API,
        "kind": "GatewayServer",
        "metadata": {"name": remote_id, "namespace": ns, "labels": {RCID: remote_id}},
        "spec": {
            "mtu": 1340,
            "endpoint": {"port": 51840, "serviceType": "LoadBalancer"},
            "serverTemplateRef": {
                "name": "wireguard-server",
                "namespace": "liqo",
                "kind": "WgGatewayServerTemplate",
                "apiVersion": NET_API,
            },
        },
    }


def gateway_client(remote_id: str, ns: str, endpoint: Obj) -> Obj:
    """forge.GatewayClient with liqoctl's defaults, pointing at the server's status endpoint."""
    return {
        "apiVersion": NET_API,
        "kind": "GatewayClient",
        "metadata": {"name": remote_id, "namespace": ns, "labels": {RCID: remote_id}},
        "spec": {
            "mtu": 1340,
            "endpoint": {
                "addresses": endpoint["addresses"],
                "port": endpoint["port"],
                "protocol": endpoint["protocol"],
            },
            "clientTemplateRef": {
                "name": "wireguard-client",
                "namespace": "liqo",
                "kind": "WgGatewayClientTemplate",
                "apiVersion": NET_API,
            },
        },
    }


def public_key(remote_id: str, ns: str, key_b64: str, owner: Obj) -> Obj:
    """forge.PublicKey + SetOwnerReference(gateway)."""
    return {
        "apiVersion": NET_API,
        "kind": "PublicKey",
        "metadata": {
            "name": remote_id,
            "namespace": ns,
            "labels": {RCID: remote_id, "networking.liqo.io/gateway-resource": "true"},
            "ownerReferences": [
                {
                    "apiVersion": NET_API,
                    "kind": owner["kind"],
                    "name": owner["metadata"]["name"],
                    "uid": owner["metadata"]["uid"],
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {"publicKey": key_b64},
    }


class Pair:
    """liqoctl network connect, step by step, between edge-a (client) and edge-b (server)."""

    def __init__(self, kubes: dict[str, Kube]) -> None:
        self.c, self.s = kubes[CLIENT], kubes[SERVER]
        self.cid, self.sid = cluster_id(self.c), cluster_id(self.s)
        self.cns, self.sns = tenant_ns(self.c, self.sid), tenant_ns(self.s, self.cid)

    def configurations(self) -> None:
        cpods, cext = local_cidrs(self.c)
        spods, sext = local_cidrs(self.s)
        self.c.create(k.CONFIGURATIONS, configuration(self.sid, self.cns, spods, sext))
        self.s.create(k.CONFIGURATIONS, configuration(self.cid, self.sns, cpods, cext))

    def configured(self, kube: Kube, ns: str, name: str) -> bool:
        cfg = kube.get(k.CONFIGURATIONS, name, ns) or {}
        for cond in (cfg.get("status") or {}).get("conditions") or []:
            if cond["type"] == "NetworkCIDRsConfigured":
                return bool(
                    cond["status"] == "True"
                    and cond["observedGeneration"] == cfg["metadata"]["generation"]
                )
        return False

    def server(self) -> Obj:
        return self.s.create(k.GATEWAYSERVERS, gateway_server(self.cid, self.sns))

    def ready(self, kube: Kube, ns: str, name: str) -> bool:
        dep = kube.get(k.DEPLOYMENTS, f"gw-{name}", ns) or {}
        return bool((dep.get("status") or {}).get("readyReplicas", 0) > 0)

    def endpoint(self) -> Obj | None:
        gw = self.s.get(k.GATEWAYSERVERS, self.cid, self.sns) or {}
        ep = (gw.get("status") or {}).get("endpoint")
        return ep if ep and ep.get("addresses") else None

    def secret_key(self, kube: Kube, res: k.Resource, ns: str, name: str) -> str | None:
        gw = kube.get(res, name, ns) or {}
        ref = (gw.get("status") or {}).get("secretRef")
        if not ref:
            return None
        secret = kube.get(k.SECRETS, ref["name"], ref.get("namespace") or ns) or {}
        key = (secret.get("data") or {}).get("publicKey")
        return str(key) if key else None

    def connection(self, kube: Kube, ns: str, remote: str) -> Obj | None:
        conns = kube.list(k.CONNECTIONS, ns, f"{RCID}={remote}")
        assert len(conns) <= 1
        return conns[0] if conns else None

    def teardown(self) -> None:
        """liqoctl network reset: gateways, then Configurations; wait until everything is gone."""
        for kube, ns, name in ((self.c, self.cns, self.sid), (self.s, self.sns, self.cid)):
            kube.delete(k.GATEWAYCLIENTS, name, ns)
            kube.delete(k.GATEWAYSERVERS, name, ns)
        for kube, ns, name in ((self.c, self.cns, self.sid), (self.s, self.sns, self.cid)):
            kube.delete(k.CONFIGURATIONS, name, ns)
        leftovers = (
            k.CONFIGURATIONS,
            k.GATEWAYSERVERS,
            k.GATEWAYCLIENTS,
            k.WGSERVERS,
            k.WGCLIENTS,
            k.PUBLICKEYS,
            k.CONNECTIONS,
            k.NETWORKS,
            k.DEPLOYMENTS,
            k.PODS,
        )

        def empty(kube: Kube, ns: str) -> Callable[[], bool]:
            return lambda: not any(kube.list(r, ns) for r in leftovers)

        for kube, ns in ((self.c, self.cns), (self.s, self.sns)):
            wait_for(f"{ns} to be empty", empty(kube, ns), 60)


@pytest.fixture
def pair(kubes: dict[str, Kube], faults_file: Path) -> Iterator[Pair]:
    set_emulator_faults({})
    p = Pair(kubes)
    p.teardown()  # a previous run's leftovers
    yield p
    set_emulator_faults({})
    p.teardown()


def connect(p: Pair) -> tuple[Obj, Obj]:
    p.configurations()
    wait_for("client Configuration", lambda: p.configured(p.c, p.cns, p.sid))
    wait_for("server Configuration", lambda: p.configured(p.s, p.sns, p.cid))
    server = p.server()
    wait_for("server gateway pod", lambda: p.ready(p.s, p.sns, p.cid))
    endpoint = wait_for("server endpoint", p.endpoint)
    client = p.c.create(k.GATEWAYCLIENTS, gateway_client(p.sid, p.cns, endpoint))
    wait_for("client gateway pod", lambda: p.ready(p.c, p.cns, p.sid))
    skey = wait_for("server key", lambda: p.secret_key(p.s, k.GATEWAYSERVERS, p.sns, p.cid))
    p.c.create(k.PUBLICKEYS, public_key(p.sid, p.cns, skey, client))
    ckey = wait_for("client key", lambda: p.secret_key(p.c, k.GATEWAYCLIENTS, p.cns, p.sid))
    p.s.create(k.PUBLICKEYS, public_key(p.cid, p.sns, ckey, server))
    return server, client


# ------------------------------------------------------------------------------ lab tests
def connected(pair: Pair, kube: Kube, ns: str, remote: str) -> Callable[[], Obj | None]:
    def check() -> Obj | None:
        conn = pair.connection(kube, ns, remote)
        return conn if conn and (conn.get("status") or {}).get("value") == "Connected" else None

    return check


def test_connect_gives_two_connected_connections(pair: Pair) -> None:
    server, client = connect(pair)
    for kube, ns, remote, gw, kind in (
        (pair.s, pair.sns, pair.cid, server, "Server"),
        (pair.c, pair.cns, pair.sid, client, "Client"),
    ):
        conn = wait_for(f"{kind} Connection Connected", connected(pair, kube, ns, remote))
        assert conn["metadata"]["name"] == f"gw-{gw['metadata']['name']}"
        assert conn["metadata"]["ownerReferences"][0]["uid"] == gw["metadata"]["uid"]
        assert conn["spec"] == {
            "type": kind,
            "gatewayRef": {
                "apiVersion": NET_API,
                "kind": f"WgGateway{kind}",
                "name": gw["metadata"]["name"],
                "namespace": ns,
                "uid": gw["metadata"]["uid"],
            },
        }
        latency = conn["status"]["latency"]
        assert latency["value"].endswith(("μs", "ms"))
        assert latency["timestamp"]
    key = base64.b64decode(pair.secret_key(pair.s, k.GATEWAYSERVERS, pair.sns, pair.cid) or "")
    assert len(key) == 32


def test_configuration_remaps_an_overlapping_external_cidr(pair: Pair) -> None:
    pair.configurations()
    wait_for("client Configuration", lambda: pair.configured(pair.c, pair.cns, pair.sid))
    cfg = pair.c.get(k.CONFIGURATIONS, pair.sid, pair.cns) or {}
    _, own_ext = local_cidrs(pair.c)
    (remote_ext,) = cfg["spec"]["remote"]["cidr"]["external"]
    (remapped,) = cfg["status"]["remote"]["cidr"]["external"]
    if remote_ext == own_ext:
        assert remapped != remote_ext
    nets = pair.c.list(k.NETWORKS, pair.cns)
    assert {n["metadata"]["labels"]["configuration.liqo.io/cidr-type"] for n in nets} == {
        "pod",
        "external",
    }
    assert all("network.ipam.liqo.io/finalizer" in n["metadata"]["finalizers"] for n in nets)


def test_gateway_pod_hang_then_recovers(pair: Pair, faults_file: Path) -> None:
    set_emulator_faults({SERVER: {"gateway-pod": "hang"}})
    pair.configurations()
    wait_for("server Configuration", lambda: pair.configured(pair.s, pair.sns, pair.cid))
    pair.server()
    wait_for("server Deployment", lambda: pair.s.get(k.DEPLOYMENTS, f"gw-{pair.cid}", pair.sns))
    assert stays_false(lambda: pair.ready(pair.s, pair.sns, pair.cid))
    set_emulator_faults({})
    wait_for("server gateway pod", lambda: pair.ready(pair.s, pair.sns, pair.cid))


def test_configuration_fail_reports_waiting_for_networks(pair: Pair, faults_file: Path) -> None:
    set_emulator_faults({CLIENT: {"configuration": "fail"}})
    pair.configurations()

    def reason() -> str | None:
        cfg = pair.c.get(k.CONFIGURATIONS, pair.sid, pair.cns) or {}
        conds = (cfg.get("status") or {}).get("conditions") or []
        return next((c["reason"] for c in conds if c["status"] == "False"), None)

    assert wait_for("condition False", reason) == "WaitingForNetworks"


def test_connection_drops_to_error_and_comes_back(pair: Pair, faults_file: Path) -> None:
    connect(pair)

    def status() -> Obj:
        conn = pair.connection(pair.c, pair.cns, pair.sid) or {}
        return dict(conn.get("status") or {})

    wait_for("Connected", lambda: status().get("value") == "Connected")
    set_emulator_faults({CLIENT: {"connected": "fail"}})
    wait_for("Error", lambda: status().get("value") == "Error")
    assert status()["latency"] == {"value": "N/A"}
    set_emulator_faults({CLIENT: {"latency": "35ms"}})
    wait_for("Connected at 35ms", lambda: status().get("latency", {}).get("value") == "35ms")
