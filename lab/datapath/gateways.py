"""Gateway pods and nodes as Liqo's own processes: what kubelets and a container runtime would do.

For each Running gateway pod, its ``wireguard`` and ``gateway`` containers run as the v1.2.0
binaries with the arguments Liqo's controller rendered into the pod from its template; the lab
changes one (``--implementation=userspace``: no WireGuard module here) and adds the keys' path
(``--keys-dir``, where the kubelet would mount the Secret). Each cluster's node runs Liqo's
``fabric`` (the chart's DaemonSet) in a node namespace. Between a node and a gateway, where Liqo
has a GENEVE tunnel (the ``geneve`` container and the fabric make it; this kernel has no GENEVE),
the lab puts a veth with the same names and addresses (the InternalNode's and InternalFabric's),
so Liqo's routes, which select on those interfaces, apply unchanged. FIDELITY.md lists it.

A pod that goes away takes its processes, namespace and files with it; a process that exits is
started again at the next pass, as the kubelet restarts a container.
"""

from __future__ import annotations

import base64
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from lab.datapath import netns
from lab.datapath.relay import Relays
from lab.datapath.sandbox import ClusterAccess, ClusterAPI, Obj, Sandbox, expand
from lab.datapath.wan import Wan
from lab.topology import topology_from_env

log = logging.getLogger("lab.datapath")

CONTAINERS = ("wireguard", "gateway")  # wireguard first: the gateway pings its tunnel address
LIQO_NAMESPACE = "liqo"
FABRIC_ACCOUNT = "liqo-fabric"
INTERNAL_NODES = "/apis/networking.liqo.io/v1beta1/internalnodes"
INTERNAL_FABRICS = "/apis/networking.liqo.io/v1beta1/namespaces/{namespace}/internalfabrics"


@dataclass
class GatewayPod:
    uid: str
    cluster: str
    namespace: str
    name: str
    gateway_name: str  # the GatewayServer/Client's, as --name says
    sandbox: Sandbox
    wan_address: str
    pod_ip: str
    client: bool
    fabric_link: bool = False


def container_args(pod: Obj) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Each container's arguments with ``$(VAR)`` filled from its env's fieldRefs, and that env."""
    fields = {
        "spec.nodeName": pod["spec"].get("nodeName", ""),
        "metadata.name": pod["metadata"]["name"],
    }
    result: dict[str, tuple[list[str], dict[str, str]]] = {}
    for container in pod["spec"].get("containers") or []:
        env = {
            var["name"]: fields.get(
                var.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath", ""),
                var.get("value", ""),
            )
            for var in container.get("env") or []
        }
        args = [expand(str(arg), env) for arg in container.get("args") or []]
        result[container["name"]] = (args, env)
    return result


def flag(args: list[str], name: str) -> str | None:
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep and key == f"--{name}":
            return value
    return None


def userspace(args: list[str], keys_dir: Path) -> list[str]:
    """The wireguard container's arguments as the lab runs them (see the module docstring)."""
    kept = [a for a in args if not a.startswith(("--implementation=", "--keys-dir="))]
    return [*kept, "--implementation=userspace", f"--keys-dir={keys_dir}"]


def fabric_args(cluster: str) -> list[str]:
    """liqo-fabric-daemonset.yaml's arguments with the chart's default values."""
    return [
        f"--podname=liqo-fabric-{cluster}",
        f"--nodename={node_name(cluster)}",
        "--geneve-port=6091",
        "--health-probe-bind-address=:8081",
        "--metrics-address=:8082",
        "--enable-nft-monitor=true",
        "--enable-route-monitor=true",
        "--global-labels=liqo.io/managed=true",
    ]


def wan_link(uid: str) -> str:
    return f"w{uid[:8]}"  # the router's end of a gateway pod's eth0


def node_name(cluster: str) -> str:
    return f"{cluster}-node"  # the emulator's node of the cluster (lab/emulator/liqo.py)


class GatewayRunner:
    """Every real gateway pod and node of the lab; one per emulator process."""

    def __init__(self, lab_dir: Path, binaries: dict[str, Path]) -> None:
        self.root = lab_dir / "datapath"
        self.prefix = netns.prefix(lab_dir)
        self.binaries = binaries
        self.wan = Wan(self.prefix, topology_from_env().consumer.name, self.root)
        self.relays = Relays()
        self.pods: dict[str, GatewayPod] = {}  # by pod UID
        self.nodes: dict[str, Sandbox] = {}  # by cluster
        self._lock = threading.Lock()
        netns.sweep(self.prefix)  # what a crashed emulator left
        self.wan.ensure()

    def node_namespace(self, cluster: str) -> str:
        return f"{self.prefix}-node-{cluster}"

    def sync(self, api: ClusterAPI, access: ClusterAccess, pods: list[Obj]) -> None:
        """Make the cluster's node and running gateway pods (and only those) run as processes."""
        self._ensure_node(api, access)
        wanted = {p["metadata"]["uid"]: p for p in pods}
        with self._lock:
            gone = [u for u, g in self.pods.items() if g.cluster == access.name and u not in wanted]
        for uid in gone:
            self.stop(uid)
        for uid, pod in wanted.items():
            running = self.pods.get(uid)
            if running is None:
                self.start(api, access, pod)
                continue
            for name in running.sandbox.restart_exited():
                log.info("[%s] %s of %s restarted", access.name, name, running.sandbox.name)
            if not running.fabric_link:
                running.fabric_link = self._link_to_node(api, running)

    def _ensure_node(self, api: ClusterAPI, access: ClusterAccess) -> None:
        node = self.nodes.get(access.name)
        if node is not None:
            for name in node.restart_exited():
                log.info("[%s] %s of the node restarted", access.name, name)
            return
        node = Sandbox(
            name=node_name(access.name),
            netns=self.node_namespace(access.name),
            directory=self.root / f"node-{access.name}",
        )
        node.prepare()
        netns.sysctl(node.netns, "net.ipv4.ip_forward=1")
        self.relays.open(node.netns, access.port)
        kubeconfig = node.write_kubeconfig(api, access, LIQO_NAMESPACE, FABRIC_ACCOUNT)
        env = {
            "KUBECONFIG": str(kubeconfig),
            "NODE_NAME": node_name(access.name),
            "POD_NAME": f"liqo-fabric-{access.name}",
        }
        node.run("fabric", [str(self.binaries["fabric"]), *fabric_args(access.name)], env)
        self.nodes[access.name] = node
        log.info("[%s] node %s runs Liqo's fabric in %s", access.name, node.name, node.netns)

    def start(self, api: ClusterAPI, access: ClusterAccess, pod: Obj) -> None:
        containers = container_args(pod)
        if not all(name in containers for name in CONTAINERS):
            return
        gateway_args = containers["gateway"][0]
        client = flag(gateway_args, "mode") == "client"
        wan_address = self.wan.client_address() if client else api.load_balancer_ip(pod)
        if wan_address is None:
            return  # a server waits for its LoadBalancer IP, as its clients do
        meta = pod["metadata"]
        uid = meta["uid"]
        gateway = GatewayPod(
            uid=uid,
            cluster=access.name,
            namespace=meta["namespace"],
            name=meta["name"],
            gateway_name=flag(gateway_args, "name") or "",
            sandbox=Sandbox(
                name=f"{meta['namespace']}/{meta['name']}",
                netns=f"{self.prefix}-{uid[:8]}",
                directory=self.root / uid[:8],
            ),
            wan_address=wan_address,
            pod_ip=(pod.get("status") or {}).get("podIP", ""),
            client=client,
        )
        with self._lock:
            self.pods[uid] = gateway
        sandbox = gateway.sandbox
        try:
            sandbox.prepare()
            keys_dir = sandbox.directory / "keys"
            self._write_keys(api, pod, keys_dir)
            self.wan.attach(sandbox.netns, wan_link(uid), wan_address, gateway.pod_ip, access.name)
            self.relays.open(sandbox.netns, access.port)
            kubeconfig = sandbox.write_kubeconfig(
                api, access, gateway.namespace, pod["spec"].get("serviceAccountName") or "default"
            )
            for name in CONTAINERS:
                args, env = containers[name]
                if name == "wireguard":
                    args = userspace(args, keys_dir)
                sandbox.run(
                    name, [str(self.binaries[name]), *args], env | {"KUBECONFIG": str(kubeconfig)}
                )
            gateway.fabric_link = self._link_to_node(api, gateway)
        except (OSError, RuntimeError, ValueError, KeyError) as error:
            log.warning("[%s] gateway pod %s: %s", access.name, sandbox.name, error)
            self.stop(uid)
            return
        log.info(
            "[%s] gateway pod %s runs Liqo's gateway and wireguard in %s (WAN %s)",
            access.name,
            sandbox.name,
            sandbox.netns,
            wan_address,
        )

    @staticmethod
    def _write_keys(api: ClusterAPI, pod: Obj, keys_dir: Path) -> None:
        """The keys Secret's items as files, as its volume would mount them."""
        keys_dir.mkdir(mode=0o700)
        for volume in pod["spec"].get("volumes") or []:
            secret_name = (volume.get("secret") or {}).get("secretName")
            if not secret_name:
                continue
            secret = api.get_secret(secret_name, pod["metadata"]["namespace"])
            if secret is None:
                raise ValueError(f"Secret {secret_name} not found")
            for key, value in (secret.get("data") or {}).items():
                path = keys_dir / key
                path.touch(mode=0o600)
                path.write_bytes(base64.b64decode(value))

    def _link_to_node(self, api: ClusterAPI, gateway: GatewayPod) -> bool:
        """The stand-in for the GENEVE tunnel between the gateway and its cluster's node, once
        Liqo has named both ends (InternalNode, InternalFabric); False until then."""
        node = node_name(gateway.cluster)
        internal_node = next(
            (n for n in api.list_objects(INTERNAL_NODES) if n["metadata"]["name"] == node), None
        )
        internal_fabric = next(
            (
                f
                for f in api.list_objects(INTERNAL_FABRICS.format(namespace=gateway.namespace))
                if f["metadata"]["name"] == gateway.gateway_name
            ),
            None,
        )
        if internal_node is None or internal_fabric is None:
            return False
        node_end = internal_fabric["spec"]["interface"]["node"]["name"]
        node_ip = internal_node["spec"]["interface"]["node"]["ip"]
        gateway_end = internal_node["spec"]["interface"]["gateway"]["name"]
        gateway_ip = internal_fabric["spec"]["interface"]["gateway"]["ip"]
        mtu = internal_fabric["spec"].get("mtu") or 1340
        node_ns, gateway_ns = self.node_namespace(gateway.cluster), gateway.sandbox.netns
        netns.ip(
            "link", "add", node_end, "netns", node_ns, "type", "veth",
            "peer", "name", gateway_end, "netns", gateway_ns,
        )  # fmt: skip
        for namespace, device, address in (
            (node_ns, node_end, node_ip),
            (gateway_ns, gateway_end, gateway_ip),
        ):
            netns.ip("addr", "add", f"{address}/32", "dev", device, netns=namespace)
            # The GENEVE interface's MTU (Liqo sets it): larger packets get ICMP "fragmentation
            # needed" from the node, so a pod's TCP fits the tunnel as on a real cluster.
            netns.ip("link", "set", device, "mtu", str(mtu), "up", netns=namespace)
        if gateway.pod_ip:  # the node reaches its pods' IPs (a CNI's route; Liqo's fabric asks)
            netns.ip("route", "replace", f"{gateway.pod_ip}/32", "dev", node_end, netns=node_ns)
        log.info(
            "[%s] %s: %s (%s) <-> node %s (%s) in place of GENEVE",
            gateway.cluster,
            gateway.sandbox.name,
            gateway_end,
            gateway_ip,
            node_end,
            node_ip,
        )
        return True

    def stop(self, uid: str) -> None:
        with self._lock:
            gateway = self.pods.pop(uid, None)
        if gateway is None:
            return
        self.relays.close(gateway.sandbox.netns)
        gateway.sandbox.remove()  # the node's end of its link goes with the namespace
        self.wan.detach(wan_link(gateway.uid))
        if gateway.client:
            self.wan.release(gateway.wan_address)
        log.info("[%s] gateway pod %s stopped and removed", gateway.cluster, gateway.sandbox.name)

    def close(self) -> None:
        """Stop every process and remove the lab's namespaces."""
        for uid in list(self.pods):
            self.stop(uid)
        for node in self.nodes.values():
            self.relays.close(node.netns)
            node.remove()
        self.nodes.clear()
        self.relays.stop()
        self.wan.close()
        netns.sweep(self.prefix)
