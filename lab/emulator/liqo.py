"""What Liqo v1.2.0's controllers do on one cluster, one level-triggered pass at a time.

``ClusterEmulator.reconcile()`` lists the objects and brings every one a step closer to what
Liqo's controllers (and the kubelet, the scheduler and a load-balancer implementation, which the
lab lacks) would make of it. Source references are in lab/FIDELITY.md, one row per behaviour.
"""

from __future__ import annotations

import base64
import copy
import ipaddress
import logging
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from lab.datapath.gateways import GatewayRunner
from lab.datapath.sandbox import ClusterAccess
from lab.datapath.wan import load_balancer_ips
from lab.emulator import kube as k
from lab.emulator.faults import ClusterFaults
from lab.emulator.gotemplate import TemplateError, render_template
from lab.emulator.ipam import IPAMError, acquire
from lab.emulator.kube import Kube, KubeError, Obj

log = logging.getLogger("lab.emulator")

# Label, annotation and finalizer names, as in pkg/consts (v1.2.0).
REMOTE_CLUSTER_ID = "liqo.io/remote-cluster-id"
GATEWAY_RESOURCE = "networking.liqo.io/gateway-resource"
GATEWAY_NAME = "networking.liqo.io/gateway-name"
GATEWAY_NAMESPACE = "networking.liqo.io/gateway-namespace"
COMPONENT = "networking.liqo.io/component"
ACTIVE = "networking.liqo.io/active"
MANAGED_BY = "app.kubernetes.io/managed-by"
CIDR_TYPE = "configuration.liqo.io/cidr-type"
NETWORK_TYPE = "ipam.liqo.io/network-type"
NOT_REMAPPED = "ipam.liqo.io/network-not-remapped"
SHARED = "ipam.liqo.io/network-shared"
PREINSTALLED = "liqo.io/preinstalled"
CRB_FINALIZER = "networking.liqo.io/clusterrolebinding"
NETWORK_FINALIZER = "network.ipam.liqo.io/finalizer"
CONDITION = "NetworkCIDRsConfigured"
GATEWAY_CLUSTER_ROLE = "liqo-gateway"  # --wg-gateway-{server,client}-cluster-role-name default
NET_API = "networking.liqo.io/v1beta1"
WIREGUARD_VOLUME = "wireguard-config"
COMPONENT_NAME = "liqo-emulator"
# The chart's --global-labels, which Liqo's resource.CreateOrUpdate wrapper puts on everything it
# creates through it (pkg/utils/resource/wrappers.go); the Wg objects, made by the dynamic client,
# do not get it.
GLOBAL_LABELS = {"liqo.io/managed": "true"}
# pkg/consts/annotations.go: the template keys mapsutil.SmartMerge* last copied onto an object.
TEMPLATE_LABELS = "liqo.io/template-labels"
TEMPLATE_ANNOTATIONS = "liqo.io/template-annotations"


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(obj: Obj) -> dict[str, Any]:
    m: dict[str, Any] = obj.setdefault("metadata", {})
    return m


def labels(obj: Obj) -> dict[str, str]:
    out: dict[str, str] = meta(obj).get("labels") or {}
    return out


def deleting(obj: Obj) -> bool:
    return bool(meta(obj).get("deletionTimestamp"))


def is_subset(want: Any, have: Any) -> bool:
    """Whether everything ``want`` sets is already so in ``have`` (server defaults ignored)."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(
            is_subset(v, have.get(key)) for key, v in want.items()
        )
    if isinstance(want, list):
        return (
            isinstance(have, list)
            and len(want) == len(have)
            and all(is_subset(w, h) for w, h in zip(want, have, strict=True))
        )
    if want is None:
        return have is None
    return bool(want == have or str(want) == str(have))


def owner_ref(obj: Obj, controller: bool, block_owner_deletion: bool = True) -> Obj:
    """controllerutil.SetControllerReference (blocking) or a plain owner reference."""
    ref: Obj = {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": meta(obj)["name"],
        "uid": meta(obj)["uid"],
    }
    if controller:
        ref["controller"] = True
        if block_owner_deletion:
            ref["blockOwnerDeletion"] = True
    return ref


def serialize_keys(values: dict[str, str]) -> str:
    """pkg/utils/maps SerializeMap: the sorted keys, each followed by a comma."""
    return "".join(f"{key}," for key in sorted(values))


def controlled_by(obj: Obj, owner_uid: str) -> bool:
    return any(
        r.get("controller") and r.get("uid") == owner_uid
        for r in meta(obj).get("ownerReferences") or []
    )


def wireguard_keypair() -> tuple[bytes, bytes]:
    """A Curve25519 key pair as WireGuard uses it (wgtypes.GeneratePrivateKey)."""
    private = X25519PrivateKey.generate()
    raw = serialization.Encoding.Raw
    pri = private.private_bytes(raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    pub = private.public_key().public_bytes(raw, serialization.PublicFormat.Raw)
    return pri, pub


def format_latency(seconds: float) -> str:
    """pkg/utils/time FormatLatency."""
    micro = int(seconds * 1_000_000)
    if micro == 0:
        return "N/A"
    if micro >= 1000:
        return f"{micro // 1000}ms"
    return f"{micro}μs"


def set_condition(conditions: list[Obj], new: Obj) -> list[Obj]:
    """apimachinery meta.SetStatusCondition."""
    out = [dict(c) for c in conditions]
    for cond in out:
        if cond.get("type") == new["type"]:
            if cond.get("status") != new["status"]:
                cond["status"] = new["status"]
                cond["lastTransitionTime"] = now_rfc3339()
            for key in ("reason", "message", "observedGeneration"):
                cond[key] = new[key]
            return out
    out.append({**new, "lastTransitionTime": now_rfc3339()})
    return out


@dataclass
class GatewayView:
    """What one running gateway pod exposes to its peer (for the emulated tunnel check)."""

    own_key: str | None  # base64 public key from the gateway's keys Secret
    peer_key: str | None  # base64 key of the PublicKey the gateway configured as its peer


@dataclass
class Registry:
    """Gateways of every emulated cluster, by cluster ID, so a tunnel is up only when both ends
    hold each other's keys; shared by the per-cluster threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    clusters: dict[str, dict[tuple[str, str], GatewayView]] = field(default_factory=dict)
    on_change: Callable[[], None] | None = None

    def publish(self, cluster_id: str, views: dict[tuple[str, str], GatewayView]) -> None:
        with self.lock:
            changed = self.clusters.get(cluster_id) != views
            self.clusters[cluster_id] = views
        if changed and self.on_change is not None:
            self.on_change()

    def peer(self, cluster_id: str, mode: str, remote: str) -> tuple[bool, GatewayView | None]:
        """(whether the remote cluster is emulated here, its gateway towards ``cluster_id``)."""
        with self.lock:
            if remote not in self.clusters:
                return False, None
            other = "client" if mode == "server" else "server"
            return True, self.clusters[remote].get((other, cluster_id))


@dataclass
class Pinger:
    """conncheck's per-peer state: when the last pong arrived, when status was last written."""

    last_pong: float
    last_write: float = 0.0


@dataclass
class Settings:
    liqo_namespace: str = "liqo"
    node_octet: int = 10  # 127.0.<octet>.x: node InternalIP .1, load balancer IPs .100 up
    latency_interval: float = 10.0  # --ping-update-status-interval (chart: 10s)
    loss_timeout: float = 10.0  # --ping-loss-threshold x --ping-interval (chart: 5 x 2s)
    # Only what has no runtime here (node, kubelet, load balancer, the gateway pods' containers):
    # Liqo's own controller-manager and IPAM run the controllers (the lab's LAB_LIQO=real).
    pods_only: bool = False
    # LAB_DATAPATH=real: Liqo's own gateway binaries run the gateway pods (lab/datapath), and
    # the emulator writes none of their Connections.
    gateways: GatewayRunner | None = None
    access: ClusterAccess | None = None


class ClusterEmulator:
    """Liqo's networking controllers, gateway pods, kubelet and load balancer on one cluster."""

    def __init__(self, kube: Kube, registry: Registry, settings: Settings) -> None:
        self.kube = kube
        self.name = kube.context
        self.registry = registry
        self.settings = settings
        self.node_name = f"{self.name}-node"
        self.faults = ClusterFaults()
        self.cluster_id: str | None = None
        self.pingers: dict[str, Pinger] = {}
        self.events_sent: set[tuple[str, str]] = set()
        self.last_errors: dict[str, str] = {}

    # ----------------------------------------------------------------- helpers
    def _guard(self, what: str, fn: Any, *args: Any) -> None:
        """Run one reconcile; log an error once per distinct message (a controller's requeue)."""
        try:
            fn(*args)
            self.last_errors.pop(what, None)
        except (KubeError, TemplateError, IPAMError, KeyError, ValueError, TypeError) as err:
            msg = str(err)
            if self.last_errors.get(what) != msg:
                log.warning("[%s] %s: %s", self.name, what, msg)
                self.last_errors[what] = msg

    def event(self, obj: Obj, reason: str, message: str, component: str) -> None:
        """Record a Warning Event once per object and reason."""
        key = (meta(obj).get("uid", ""), reason)
        if key in self.events_sent:
            return
        self.events_sent.add(key)
        ns = meta(obj).get("namespace") or "default"
        stamp = now_rfc3339()
        self.kube.create(
            k.EVENTS,
            {
                "metadata": {
                    "name": f"{meta(obj)['name']}.{uuid.uuid4().hex[:16]}",
                    "namespace": ns,
                },
                "involvedObject": {
                    "apiVersion": obj.get("apiVersion"),
                    "kind": obj.get("kind"),
                    "name": meta(obj)["name"],
                    "namespace": ns,
                    "uid": meta(obj).get("uid"),
                },
                "reason": reason,
                "message": message,
                "type": "Warning",
                "source": {"component": component},
                "count": 1,
                "firstTimestamp": stamp,
                "lastTimestamp": stamp,
            },
        )

    def patch_status(self, res: k.Resource, obj: Obj, status: Obj) -> None:
        m = meta(obj)
        self.kube.patch(res, m["name"], {"status": status}, m.get("namespace"), sub="status")

    def set_finalizers(self, res: k.Resource, obj: Obj, finalizers: list[str]) -> None:
        m = meta(obj)
        patch = {"metadata": {"finalizers": finalizers, "resourceVersion": m["resourceVersion"]}}
        self.kube.patch(res, m["name"], patch, m.get("namespace"))

    # ------------------------------------------------------------- the pass
    def reconcile(self, faults: ClusterFaults) -> None:
        self.faults = faults
        self._guard("node", self.ensure_node)
        if self.cluster_id is None:
            self._guard("cluster-id", self.read_cluster_id)
        if not self.settings.pods_only:
            self.reconcile_controllers()
        pods = self.kube.list(k.PODS, selector=f"{COMPONENT}=gateway")
        for pod in pods:
            self._guard(f"kubelet {meta(pod)['name']}", self.kubelet, pod, pods)
        for svc in self.kube.list(k.SERVICES, selector=f"{COMPONENT}=gateway"):
            self._guard(f"load balancer {meta(svc)['name']}", self.load_balancer, svc)
        self._guard("gateway pods", self.gateway_pods)

    def reconcile_controllers(self) -> None:
        """The part Liqo's controller-manager and IPAM play: Networks, Configurations, gateways."""
        networks = self.kube.list(k.NETWORKS)
        for nw in networks:
            self._guard(f"network {meta(nw)['name']}", self.reconcile_network, nw, networks)
        for cfg in self.kube.list(k.CONFIGURATIONS):
            self._guard(
                f"configuration {meta(cfg)['name']}", self.reconcile_configuration, cfg, networks
            )
        for mode, res in (("server", k.GATEWAYSERVERS), ("client", k.GATEWAYCLIENTS)):
            for gw in self.kube.list(res):
                self._guard(f"gateway {mode} {meta(gw)['name']}", self.reconcile_gateway, gw, mode)
        for mode, res in (("server", k.WGSERVERS), ("client", k.WGCLIENTS)):
            for wg in self.kube.list(res):
                self._guard(f"wg {mode} {meta(wg)['name']}", self.reconcile_wg, wg, mode, res)

    def read_cluster_id(self) -> None:
        cms = self.kube.list(
            k.CONFIGMAPS, self.settings.liqo_namespace, "app.kubernetes.io/name=clusterid-configmap"
        )
        if len(cms) != 1:
            raise ValueError(f"expected one cluster-ID ConfigMap in {self.settings.liqo_namespace}")
        self.cluster_id = str((cms[0].get("data") or {})["CLUSTER_ID"])

    # --------------------------------------------------- kubelet: node, pods
    def ensure_node(self) -> None:
        if self.kube.get(k.NODES, self.node_name) is not None:
            return
        ip = f"127.0.{self.settings.node_octet}.1"
        status = {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "emulated kubelet is posting ready status",
                    "lastHeartbeatTime": now_rfc3339(),
                    "lastTransitionTime": now_rfc3339(),
                }
            ],
            "addresses": [
                {"type": "InternalIP", "address": ip},
                {"type": "Hostname", "address": self.node_name},
            ],
            "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
            "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
            "nodeInfo": {
                "kubeletVersion": "emulated",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        }
        node = {
            "kind": "Node",
            "metadata": {
                "name": self.node_name,
                "labels": {
                    "kubernetes.io/hostname": self.node_name,
                    "kubernetes.io/os": "linux",
                    "liqo.io/emulated": "true",
                },
            },
            "status": status,
        }
        self.kube.create(k.NODES, node)
        self.kube.patch(k.NODES, self.node_name, {"status": status}, sub="status")
        log.info("[%s] registered node %s (%s)", self.name, self.node_name, ip)

    def _pod_cidr(self) -> ipaddress.IPv4Network:
        for nw in self.kube.list(k.NETWORKS, selector=f"{NETWORK_TYPE}=pod-cidr"):
            cidr = (nw.get("status") or {}).get("cidr") or (nw.get("spec") or {}).get("cidr")
            if cidr:
                net = ipaddress.ip_network(cidr, strict=False)
                if isinstance(net, ipaddress.IPv4Network):
                    return net
        return ipaddress.IPv4Network("10.244.0.0/16")

    def kubelet(self, pod: Obj, pods: list[Obj]) -> None:
        m = meta(pod)
        node = (pod.get("spec") or {}).get("nodeName")
        mode = self.faults.mode("gateway-pod")
        if not node:
            if deleting(pod) or mode == "hang":
                return
            binding = {
                "apiVersion": "v1",
                "kind": "Binding",
                "metadata": {"name": m["name"]},
                "target": {"apiVersion": "v1", "kind": "Node", "name": self.node_name},
            }
            self.kube.raw("POST", k.PODS.path(m["namespace"], m["name"], "binding"), body=binding)
            return
        if node != self.node_name:
            return
        if deleting(pod):
            self.kube.delete(k.PODS, m["name"], m["namespace"], grace=0)
            return
        status = pod.get("status") or {}
        volumes = (pod.get("spec") or {}).get("volumes") or []
        started = status.get("phase") == "Running"  # mounted volumes stay mounted
        missing = [
            v["secret"]["secretName"]
            for v in volumes
            if not started
            and v.get("secret")
            and self.kube.get(k.SECRETS, v["secret"]["secretName"], m["namespace"]) is None
        ]
        containers = (pod.get("spec") or {}).get("containers") or []
        if missing:
            want_phase, ready, waiting = "Pending", False, "ContainerCreating"
        elif mode == "fail":
            want_phase, ready, waiting = "Running", False, "CrashLoopBackOff"
        else:
            want_phase, ready, waiting = "Running", True, ""
        current_ready = any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in status.get("conditions") or []
        )
        if status.get("phase") == want_phase and current_ready == ready and status.get("podIP"):
            return
        pod_ip = status.get("podIP") or self._free_pod_ip(pods)
        host_ip = f"127.0.{self.settings.node_octet}.1"
        stamp = now_rfc3339()
        flag = "True" if ready else "False"
        conditions = [
            {"type": "PodReadyToStartContainers", "status": "True" if not missing else "False"},
            {"type": "Initialized", "status": "True"},
            {"type": "Ready", "status": flag},
            {"type": "ContainersReady", "status": flag},
            {"type": "PodScheduled", "status": "True"},
        ]
        for cond in conditions:
            cond["lastTransitionTime"] = stamp
        statuses = []
        for c in containers:
            state: Obj = (
                {"running": {"startedAt": stamp}} if ready else {"waiting": {"reason": waiting}}
            )
            statuses.append(
                {
                    "name": c["name"],
                    "image": c.get("image", ""),
                    "imageID": "",
                    "containerID": f"emulated://{m['uid']}-{c['name']}" if not missing else None,
                    "ready": ready,
                    "started": ready,
                    "restartCount": 0 if ready or missing else 1,
                    "state": state,
                }
            )
        self.patch_status(
            k.PODS,
            pod,
            {
                "phase": want_phase,
                "conditions": conditions,
                "hostIP": host_ip,
                "hostIPs": [{"ip": host_ip}],
                "podIP": pod_ip,
                "podIPs": [{"ip": pod_ip}],
                "startTime": status.get("startTime") or stamp,
                "containerStatuses": statuses,
            },
        )
        log.info(
            "[%s] pod %s/%s -> %s ready=%s", self.name, m["namespace"], m["name"], want_phase, ready
        )

    def _free_pod_ip(self, pods: list[Obj]) -> str:
        used = {(p.get("status") or {}).get("podIP") for p in pods}
        for i, host in enumerate(self._pod_cidr().hosts()):
            if i >= 10 and str(host) not in used:
                return str(host)
        raise ValueError("pod CIDR exhausted")

    # ------------------------------------------------ load balancer (MetalLB-like)
    def load_balancer(self, svc: Obj) -> None:
        spec = svc.get("spec") or {}
        if spec.get("type") != "LoadBalancer" or deleting(svc):
            return
        if ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress"):
            return
        mode = self.faults.mode("server-endpoint")
        if mode == "hang":
            return
        if mode == "fail":
            self.event(
                svc,
                "SyncLoadBalancerFailed",
                "Error syncing load balancer: emulated fault",
                "service-controller",
            )
            return
        ip = spec.get("loadBalancerIP") or self._free_lb_ip()
        self.patch_status(
            k.SERVICES, svc, {"loadBalancer": {"ingress": [{"ip": ip, "ipMode": "VIP"}]}}
        )
        log.info(
            "[%s] service %s/%s: load balancer %s",
            self.name,
            meta(svc)["namespace"],
            meta(svc)["name"],
            ip,
        )

    def _free_lb_ip(self) -> str:
        used = {
            ing.get("ip")
            for s in self.kube.list(k.SERVICES)
            for ing in ((s.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        }
        for ip in load_balancer_ips(self.settings.node_octet - 10):
            if ip not in used:
                return ip
        raise ValueError("load-balancer addresses exhausted")

    # ------------------------------------------------------------- IPAM
    def reconcile_network(self, nw: Obj, networks: list[Obj]) -> None:
        m = meta(nw)
        status = nw.get("status") or {}
        ours = CIDR_TYPE in labels(nw) or not status.get("cidr")
        if not ours:
            return
        finalizers = list(m.get("finalizers") or [])
        if deleting(nw):
            if NETWORK_FINALIZER in finalizers:
                finalizers.remove(NETWORK_FINALIZER)
                self.set_finalizers(k.NETWORKS, nw, finalizers)
            return
        if NETWORK_FINALIZER not in finalizers and not self._flag(
            m.get("annotations"), PREINSTALLED
        ):
            self.set_finalizers(k.NETWORKS, nw, [*finalizers, NETWORK_FINALIZER])
            return
        if status.get("cidr"):
            return
        taken = [
            (o.get("status") or {}).get("cidr")
            for o in networks
            if (o.get("status") or {}).get("cidr")
            and not deleting(o)
            and meta(o)["uid"] != m["uid"]
        ]
        cidr = acquire(
            nw["spec"]["cidr"],
            [t for t in taken if t],
            immutable=self._flag(labels(nw), NOT_REMAPPED),
            exclusive=labels(nw).get(SHARED) != "true",
        )
        self.patch_status(k.NETWORKS, nw, {"cidr": cidr})
        nw["status"] = {"cidr": cidr}  # later networks of this pass see it taken
        log.info(
            "[%s] IPAM: mapped %s/%s %s -> %s",
            self.name,
            m["namespace"],
            m["name"],
            nw["spec"]["cidr"],
            cidr,
        )

    @staticmethod
    def _flag(values: dict[str, str] | None, key: str) -> bool:
        if not values or key not in values:
            return False
        return str(values[key]).lower() != "false"

    # ----------------------------------------------------- Configuration
    def reconcile_configuration(self, cfg: Obj, networks: list[Obj]) -> None:
        mode = self.faults.mode("configuration")
        if mode == "hang" or deleting(cfg):
            return
        m = meta(cfg)
        if not (cfg.get("spec") or {}).get("local"):
            pods = [
                (n.get("status") or {}).get("cidr")
                for n in networks
                if labels(n).get(NETWORK_TYPE) == "pod-cidr"
            ]
            ext = [
                (n.get("status") or {}).get("cidr")
                for n in networks
                if labels(n).get(NETWORK_TYPE) == "external-cidr"
            ]
            if not pods or not all(pods) or len(ext) != 1 or not ext[0]:
                raise ValueError("unable to retrieve the podCIDR/externalCIDR of the local cluster")
            cfg = self.kube.patch(
                k.CONFIGURATIONS,
                m["name"],
                {"spec": {"local": {"cidr": {"pod": pods, "external": ext}}}},
                m["namespace"],
            )
            m = meta(cfg)
        status = copy.deepcopy(cfg.get("status") or {})
        if mode == "fail":
            complete = False
        else:
            remote_id = labels(cfg).get(REMOTE_CLUSTER_ID)
            if not remote_id:
                raise ValueError(f"missing label {REMOTE_CLUSTER_ID}")
            spec_cidr = ((cfg.get("spec") or {}).get("remote") or {}).get("cidr") or {}
            for cidr_type in ("pod", "external"):
                wanted: list[str] = spec_cidr.get(cidr_type) or []
                mine = [
                    n
                    for n in networks
                    if labels(n).get(CIDR_TYPE) == cidr_type
                    and labels(n).get(REMOTE_CLUSTER_ID) == remote_id
                    and meta(n)["namespace"] == m["namespace"]
                    and controlled_by(n, m["uid"])
                ]
                pending = False
                for n in mine:
                    name_ok = meta(n)["name"] == self._network_name(
                        cfg, cidr_type, n["spec"]["cidr"]
                    )
                    if n["spec"]["cidr"] in wanted and name_ok:
                        continue
                    pending = True
                    if not deleting(n):
                        self.kube.delete(k.NETWORKS, meta(n)["name"], m["namespace"])
                if pending:
                    continue
                remapped = [
                    self._ensure_network(cfg, cidr_type, c, remote_id, mine) for c in wanted
                ]
                status.setdefault("remote", {}).setdefault("cidr", {})[cidr_type] = remapped
            cidrs = (status.get("remote") or {}).get("cidr") or {}
            complete = (
                "remote" in status
                and all(
                    len(cidrs.get(t) or []) == len(spec_cidr.get(t) or [])
                    for t in ("pod", "external")
                )
                and all(all(cidrs.get(t) or []) for t in ("pod", "external"))
            )
        status["conditions"] = set_condition(
            status.get("conditions") or [],
            {
                "type": CONDITION,
                "status": "True" if complete else "False",
                "reason": "NetworkCIDRsConfigured" if complete else "WaitingForNetworks",
                "message": "All network CIDRs are configured"
                if complete
                else "Waiting for all networks to be ready",
                "observedGeneration": m.get("generation", 0),
            },
        )
        if status != (cfg.get("status") or {}):
            self.patch_status(k.CONFIGURATIONS, cfg, status)
            log.info(
                "[%s] configuration %s/%s: %s=%s",
                self.name,
                m["namespace"],
                m["name"],
                CONDITION,
                complete,
            )

    @staticmethod
    def _network_name(cfg: Obj, cidr_type: str, cidr: str) -> str:
        return f"{meta(cfg)['name']}-{cidr_type}-{cidr.replace('/', '-').replace('.', '-')}"

    def _ensure_network(
        self, cfg: Obj, cidr_type: str, cidr: str, remote_id: str, mine: list[Obj]
    ) -> str:
        name = self._network_name(cfg, cidr_type, cidr)
        for n in mine:
            if meta(n)["name"] == name:
                return str((n.get("status") or {}).get("cidr") or "")
        existing = self.kube.get(k.NETWORKS, name, meta(cfg)["namespace"])
        if existing is not None:
            return str((existing.get("status") or {}).get("cidr") or "")
        self.kube.create(
            k.NETWORKS,
            {
                "kind": "Network",
                "metadata": {
                    "name": name,
                    "namespace": meta(cfg)["namespace"],
                    "labels": {REMOTE_CLUSTER_ID: remote_id, CIDR_TYPE: cidr_type, **GLOBAL_LABELS},
                    "ownerReferences": [owner_ref(cfg, controller=True)],
                },
                # network.go CreateOrUpdate writes the whole spec, its zero value included.
                "spec": {"cidr": cidr, "preAllocated": 0},
            },
        )
        return ""

    # --------------------------------------- GatewayServer / GatewayClient
    def reconcile_gateway(self, gw: Obj, mode: str) -> None:
        step = f"gateway-{mode}"
        if deleting(gw) or self.faults.mode(step) == "hang":
            return
        m = meta(gw)
        if self.faults.mode(step) == "fail":
            self.event(
                gw,
                "EmulatedFault",
                f"unable to ensure the gateway {mode}: emulated fault",
                COMPONENT_NAME,
            )
            return
        remote_id = labels(gw).get(REMOTE_CLUSTER_ID)
        if not remote_id:
            raise ValueError(
                f"missing label {REMOTE_CLUSTER_ID} on Gateway{mode.title()} {m['name']}"
            )
        spec = gw.get("spec") or {}
        ref = spec.get("serverTemplateRef" if mode == "server" else "clientTemplateRef") or {}
        template_res = k.resource_for(ref["apiVersion"], ref["kind"])
        template = self.kube.get(template_res, ref["name"], ref.get("namespace"))
        if template is None:
            raise ValueError(
                f"unable to get the {mode} template {ref.get('namespace')}/{ref['name']}"
            )
        tspec = template["spec"]
        kind = tspec["objectKind"]
        data = {
            "Spec": self._go_spec(spec, mode),
            "Name": m["name"],
            "Namespace": m["namespace"],
            "GatewayUID": m["uid"],
            "ClusterID": remote_id,
            "SecretName": (spec.get("secretRef") or {}).get("name", ""),
        }
        tmeta = tspec["template"]["metadata"]
        name = render_template(tmeta["name"], data, True)
        namespace = render_template(tmeta["namespace"], data, True)
        child_meta: Obj = {
            "name": name,
            "namespace": namespace,
            # server_controller.go sets Controller only, so no blockOwnerDeletion.
            "ownerReferences": [owner_ref(gw, controller=True, block_owner_deletion=False)],
        }
        if "labels" in tmeta:
            child_meta["labels"] = render_template(tmeta["labels"], data, True)
        if "annotations" in tmeta:
            child_meta["annotations"] = render_template(tmeta["annotations"], data, True)
        child_meta["labels"] = {**(child_meta.get("labels") or {}), REMOTE_CLUSTER_ID: remote_id}
        child_spec = render_template(tspec["template"]["spec"], data, False)
        if mode == "server":
            for fld, values in (
                ("annotations", spec.get("serviceAnnotations")),
                ("labels", spec.get("serviceLabels")),
            ):
                if values:
                    svc_meta = child_spec.setdefault("service", {}).setdefault("metadata", {})
                    svc_meta[fld] = {**(svc_meta.get(fld) or {}), **values}
        child_res = k.resource_for(kind["apiVersion"], kind["kind"])
        child = self.kube.get(child_res, name, namespace)
        desired = {
            "apiVersion": kind["apiVersion"],
            "kind": kind["kind"],
            "metadata": child_meta,
            "spec": child_spec,
        }
        if child is None:
            child = self.kube.create(child_res, desired)
            log.info("[%s] created %s %s/%s", self.name, kind["kind"], namespace, name)
        elif not is_subset({"metadata": child_meta, "spec": child_spec}, child):
            child = self.kube.patch(
                child_res, name, {"metadata": child_meta, "spec": child_spec}, namespace
            )
        cm = meta(child)
        new_status = dict(gw.get("status") or {})
        ref_key = "serverRef" if mode == "server" else "clientRef"
        new_status[ref_key] = {
            "apiVersion": child["apiVersion"],
            "kind": child["kind"],
            "name": cm["name"],
            "namespace": cm["namespace"],
            "uid": cm["uid"],
        }
        cstatus = child.get("status") or {}
        keys = (
            ("endpoint", "secretRef", "internalEndpoint")
            if mode == "server"
            else ("secretRef", "internalEndpoint")
        )
        for key in keys:
            if cstatus.get(key):
                new_status[key] = cstatus[key]
        if new_status != (gw.get("status") or {}):
            self.patch_status(
                k.GATEWAYSERVERS if mode == "server" else k.GATEWAYCLIENTS, gw, new_status
            )

    @staticmethod
    def _go_spec(spec: Obj, mode: str) -> Obj:
        """The Gateway spec with Go field names, as text/template sees the typed struct."""
        ep = spec.get("endpoint") or {}
        out: Obj = {
            "MTU": spec.get("mtu", 0),
            "SecretRef": {"Name": (spec.get("secretRef") or {}).get("name", "")},
        }
        if mode == "server":
            out["Endpoint"] = {
                "Port": ep.get("port", 0),
                "ServiceType": ep.get("serviceType", ""),
                "NodePort": ep.get("nodePort"),
                "LoadBalancerIP": ep.get("loadBalancerIP"),
            }
            out["ServiceAnnotations"] = spec.get("serviceAnnotations")
            out["ServiceLabels"] = spec.get("serviceLabels")
        else:
            out["Endpoint"] = {
                "Addresses": ep.get("addresses") or [],
                "Port": ep.get("port", 0),
                "Protocol": ep.get("protocol"),
            }
        return out

    # ------------------------------------------- WgGatewayServer / Client
    def reconcile_wg(self, wg: Obj, mode: str, res: k.Resource) -> None:
        m = meta(wg)
        ns, name = m["namespace"], m["name"]
        finalizers = list(m.get("finalizers") or [])
        if deleting(wg):
            if CRB_FINALIZER in finalizers:
                for crb in self.kube.list(
                    k.CLUSTERROLEBINDINGS,
                    selector=f"{GATEWAY_NAME}={name},{GATEWAY_NAMESPACE}={ns}",
                ):
                    self.kube.delete(k.CLUSTERROLEBINDINGS, meta(crb)["name"])
                finalizers.remove(CRB_FINALIZER)
                self.set_finalizers(res, wg, finalizers)
            return
        spec = wg.get("spec") or {}
        dep_spec = (spec.get("deployment") or {}).get("spec") or {}
        sa_name = ((dep_spec.get("template") or {}).get("spec") or {}).get(
            "serviceAccountName"
        ) or "default"
        if self.kube.get(k.SERVICEACCOUNTS, sa_name, ns) is None:
            self.kube.create(
                k.SERVICEACCOUNTS,
                {
                    "metadata": {
                        "name": sa_name,
                        "namespace": ns,
                        "labels": GLOBAL_LABELS,
                        "ownerReferences": [owner_ref(wg, True)],
                    }
                },
            )
        crb_name = f"{GATEWAY_CLUSTER_ROLE}-{ns}-{name}"
        if self.kube.get(k.CLUSTERROLEBINDINGS, crb_name) is None:
            self.kube.create(
                k.CLUSTERROLEBINDINGS,
                {
                    "metadata": {
                        "name": crb_name,
                        "labels": {
                            GATEWAY_NAME: name,
                            GATEWAY_NAMESPACE: ns,
                            MANAGED_BY: "liqo",
                            **GLOBAL_LABELS,
                        },
                    },
                    "roleRef": {
                        "apiGroup": "rbac.authorization.k8s.io",
                        "kind": "ClusterRole",
                        "name": GATEWAY_CLUSTER_ROLE,
                    },
                    "subjects": [{"kind": "ServiceAccount", "name": sa_name, "namespace": ns}],
                },
            )
        if CRB_FINALIZER not in finalizers:
            self.set_finalizers(res, wg, [*finalizers, CRB_FINALIZER])
            return
        deploy_name = f"gw-{name}"
        deploy = self.kube.get(k.DEPLOYMENTS, deploy_name, ns)
        old_status = wg.get("status") or {}
        status: Obj = dict(old_status)
        try:
            if mode == "server":
                status["endpoint"] = self._endpoint_status(ns, deploy_name, deploy)
            status["internalEndpoint"] = None
            if deploy is not None:
                pod = self._active_gateway_pod(ns)
                status["internalEndpoint"] = {
                    "ip": pod["status"]["podIP"],
                    "node": pod["spec"].get("nodeName", ""),
                }
            secret_name = (spec.get("secretRef") or {}).get("name", "")
            if not secret_name:
                self._ensure_keys_secret(wg, mode)
            elif self.kube.get(k.SECRETS, secret_name, ns) is None:
                raise ValueError(f"secret {ns}/{secret_name} not found")
            secret = self._wireguard_secret(wg)
            status["secretRef"] = (
                None if secret is None else {"name": meta(secret)["name"], "namespace": ns}
            )
            self._ensure_deployment(wg, deploy_name, deploy, status.get("secretRef"))
            if mode == "server":
                self._ensure_service(wg, deploy_name)
        finally:
            clean = {key: v for key, v in status.items() if v is not None}
            if clean != old_status:
                self.patch_status(res, wg, status)

    def _endpoint_status(self, ns: str, svc_name: str, deploy: Obj | None) -> Obj | None:
        if deploy is None:
            return None
        svc = self.kube.get(k.SERVICES, svc_name, ns)
        if svc is None:
            raise ValueError(f'services "{svc_name}" not found')
        sspec = svc.get("spec") or {}
        ports = sspec.get("ports") or []
        if not ports:
            raise ValueError(f"service {ns}/{svc_name} has no ports")
        protocol = ports[0].get("protocol", "TCP")
        stype = sspec.get("type")
        if stype == "ClusterIP":
            return {
                "protocol": protocol,
                "port": ports[0]["port"],
                "addresses": sspec.get("clusterIPs") or [],
            }
        if stype == "NodePort":
            pod = self._active_gateway_pod(ns)
            node = self.kube.get(k.NODES, pod["spec"].get("nodeName", ""))
            address = ""
            if node is not None and any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in (node.get("status") or {}).get("conditions") or []
            ):
                addrs = (node.get("status") or {}).get("addresses") or []
                for kind in ("ExternalIP", "InternalIP", "Hostname"):
                    found = [a["address"] for a in addrs if a.get("type") == kind]
                    if found:
                        address = found[0]
                        break
            return {
                "protocol": protocol,
                "port": ports[0].get("nodePort", 0),
                "addresses": [address],
            }
        if stype == "LoadBalancer":
            ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
            addresses = [i.get("ip") or i.get("hostname") for i in ingress]
            out: Obj = {"protocol": protocol, "port": ports[0]["port"]}
            if addresses:
                out["addresses"] = [a for a in addresses if a]
            return out
        raise ValueError(f"service type {stype!r} not supported for WireGuard server Service")

    def _active_gateway_pod(self, ns: str) -> Obj:
        pods = self.kube.list(k.PODS, ns, f"{ACTIVE}=true,{COMPONENT}=gateway")
        active = [
            p for p in pods if (p.get("status") or {}).get("phase") == "Running" and not deleting(p)
        ]
        if not active:
            raise ValueError(f'no active gateway pods found in namespace "{ns}"')
        if len(active) > 1:
            raise ValueError(
                f'multiple ({len(active)}) active gateway pods found in namespace "{ns}"'
            )
        if not active[0]["status"].get("podIP"):
            raise ValueError("active gateway pod does not have IP assigned yet")
        return active[0]

    def _wireguard_secret(self, wg: Obj) -> Obj | None:
        remote = labels(wg).get(REMOTE_CLUSTER_ID)
        if not remote:
            raise ValueError(f"missing {REMOTE_CLUSTER_ID!r} label in WireGuard gateway")
        secrets = self.kube.list(
            k.SECRETS,
            meta(wg)["namespace"],
            f"{GATEWAY_RESOURCE}=true,{REMOTE_CLUSTER_ID}={remote}",
        )
        if len(secrets) > 1:
            raise ValueError(
                f"found multiple secrets associated to WireGuard gateway {meta(wg)['name']}"
            )
        return secrets[0] if secrets else None

    def _ensure_keys_secret(self, wg: Obj, mode: str) -> None:
        if self._wireguard_secret(wg) is not None:
            return
        fault = self.faults.mode("keys")
        if fault == "fail":
            self.event(
                wg,
                "KeysSecretEnforcedFailed",
                "Failed to enforce keys secret",
                f"wg-gateway-{mode}-controller",
            )
        if fault is not None:
            return
        owner = next(
            (
                r
                for r in meta(wg).get("ownerReferences") or []
                if r.get("controller") and r.get("kind") in ("GatewayServer", "GatewayClient")
            ),
            None,
        )
        if owner is None:
            raise ValueError(
                f"WireGuard gateway {meta(wg)['name']} has no Gateway controller owner"
            )
        pri, pub = wireguard_keypair()
        self.kube.create(
            k.SECRETS,
            {
                "metadata": {
                    "name": f"gw-{owner['name']}",
                    "namespace": meta(wg)["namespace"],
                    "labels": {
                        REMOTE_CLUSTER_ID: labels(wg)[REMOTE_CLUSTER_ID],
                        GATEWAY_RESOURCE: "true",
                        **GLOBAL_LABELS,
                    },
                    "ownerReferences": [
                        {
                            "apiVersion": NET_API,
                            "kind": owner["kind"],
                            "name": owner["name"],
                            "uid": owner["uid"],
                        }
                    ],
                },
                "data": {
                    "privateKey": base64.b64encode(pri).decode(),
                    "publicKey": base64.b64encode(pub).decode(),
                },
            },
        )
        log.info(
            "[%s] keys secret gw-%s/%s created", self.name, owner["name"], meta(wg)["namespace"]
        )

    def _ensure_deployment(
        self, wg: Obj, name: str, deploy: Obj | None, secret_ref: Obj | None
    ) -> None:
        tmpl = (wg.get("spec") or {}).get("deployment") or {}
        spec = copy.deepcopy(tmpl.get("spec") or {})
        if secret_ref is not None:
            for vol in ((spec.get("template") or {}).get("spec") or {}).get("volumes") or []:
                if vol.get("name") == WIREGUARD_VOLUME:
                    vol["secret"] = {"secretName": secret_ref["name"]}
                    break
        tmeta = tmpl.get("metadata") or {}
        self._create_or_update(k.DEPLOYMENTS, wg, name, deploy, tmeta, spec)

    def _ensure_service(self, wg: Obj, name: str) -> None:
        tmpl = (wg.get("spec") or {}).get("service") or {}
        current = self.kube.get(k.SERVICES, name, meta(wg)["namespace"])
        spec = copy.deepcopy(tmpl.get("spec") or {})
        if current is not None and "loadBalancerClass" not in spec:
            lbc = (current.get("spec") or {}).get("loadBalancerClass")
            if lbc:
                spec["loadBalancerClass"] = lbc
        self._create_or_update(k.SERVICES, wg, name, current, tmpl.get("metadata") or {}, spec)

    def _create_or_update(
        self, res: k.Resource, wg: Obj, name: str, current: Obj | None, tmeta: Obj, spec: Obj
    ) -> None:
        ns = meta(wg)["namespace"]
        template_labels, template_annotations = (
            tmeta.get("labels") or {},
            tmeta.get("annotations") or {},
        )
        # mapsutil.SmartMergeLabels/Annotations: the template's entries plus, in an annotation
        # each, which keys came from it; then the global labels of resource.CreateOrUpdate.
        want_meta: Obj = {
            "labels": {**template_labels, **GLOBAL_LABELS},
            "annotations": {
                **template_annotations,
                TEMPLATE_LABELS: serialize_keys(template_labels),
                TEMPLATE_ANNOTATIONS: serialize_keys(template_annotations),
            },
            "ownerReferences": [owner_ref(wg, controller=True)],
        }
        if current is None:
            self.kube.create(
                res, {"metadata": {"name": name, "namespace": ns, **want_meta}, "spec": spec}
            )
            log.info("[%s] created %s %s/%s", self.name, res.plural, ns, name)
            return
        if is_subset({"metadata": want_meta, "spec": spec}, current):
            return
        updated = copy.deepcopy(current)
        um = meta(updated)
        um["labels"] = {**(um.get("labels") or {}), **want_meta["labels"]}
        um["annotations"] = {**(um.get("annotations") or {}), **want_meta["annotations"]}
        um["ownerReferences"] = want_meta["ownerReferences"]
        merged = copy.deepcopy(updated.get("spec") or {})
        merged.update(spec)
        updated["spec"] = merged
        self.kube.update(res, updated)

    # ------------------------------------------------- the gateway pods
    def gateway_pods(self) -> None:
        views: dict[tuple[str, str], GatewayView] = {}
        pods = [
            pod
            for pod in self.kube.list(k.PODS, selector=f"{COMPONENT}=gateway")
            if not deleting(pod)
            and (pod.get("status") or {}).get("phase") == "Running"
            and any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in (pod.get("status") or {}).get("conditions") or []
            )
        ]
        if self.settings.gateways is not None and self.settings.access is not None:
            self.settings.gateways.sync(self, self.settings.access, pods)
            return
        for pod in pods:
            args: dict[str, str] = {}
            for c in (pod.get("spec") or {}).get("containers") or []:
                for arg in c.get("args") or []:
                    key, sep, value = str(arg).partition("=")
                    if sep and key.startswith("--"):
                        args.setdefault(key[2:], value)
            if not {"name", "namespace", "remote-cluster-id", "gateway-uid", "mode"} <= args.keys():
                continue
            self._guard(f"gateway pod {meta(pod)['name']}", self._gateway_pod, args, views)
        if self.cluster_id is not None:
            self.registry.publish(self.cluster_id, views)

    def _gateway_pod(self, args: dict[str, str], views: dict[tuple[str, str], GatewayView]) -> None:
        name, ns, remote, mode = (
            args["name"],
            args["namespace"],
            args["remote-cluster-id"],
            args["mode"],
        )
        secret = self.kube.get(k.SECRETS, f"gw-{name}", ns)
        own_key = ((secret or {}).get("data") or {}).get("publicKey")
        pks = self.kube.list(k.PUBLICKEYS, ns, f"{REMOTE_CLUSTER_ID}={remote}")
        view = GatewayView(own_key=own_key, peer_key=None)
        views[(mode, remote)] = view
        if not pks:
            return
        if mode == "client" and not self._resolves(args.get("endpoint-address", "")):
            return  # the wireguard container waits for the DNS resolution of the endpoint
        fault = self.faults.mode("connection", remote)
        if fault == "fail":
            self.event(
                pks[0],
                "EmulatedFault",
                "unable to configure the WireGuard device: emulated fault",
                COMPONENT_NAME,
            )
        if fault is not None:
            return
        view.peer_key = (pks[0].get("spec") or {}).get("publicKey")
        conn_name = f"gw-{name}"
        conn = self.kube.get(k.CONNECTIONS, conn_name, ns)
        if conn is None:
            conn = self.kube.create(
                k.CONNECTIONS,
                {
                    "kind": "Connection",
                    "metadata": {
                        "name": conn_name,
                        "namespace": ns,
                        "labels": {REMOTE_CLUSTER_ID: remote},
                        "ownerReferences": [
                            {
                                "apiVersion": NET_API,
                                "kind": "GatewayServer" if mode == "server" else "GatewayClient",
                                "name": name,
                                "uid": args["gateway-uid"],
                            }
                        ],
                    },
                    "spec": {
                        "type": "Server" if mode == "server" else "Client",
                        "gatewayRef": {
                            "apiVersion": NET_API,
                            "kind": "WgGatewayServer" if mode == "server" else "WgGatewayClient",
                            "name": name,
                            "namespace": ns,
                            "uid": args["gateway-uid"],
                        },
                    },
                },
            )
            log.info("[%s] connection %s/%s created", self.name, ns, conn_name)
        if not (conn.get("status") or {}).get("value"):
            self.patch_status(k.CONNECTIONS, conn, {"value": "Connecting"})
            conn["status"] = {"value": "Connecting"}
        self._ping(conn, mode, remote, view)

    # What lab.datapath's GatewayRunner asks of a cluster (its ClusterAPI).
    def raw(self, method: str, path: str, body: Obj | None = None) -> Any:
        return self.kube.raw(method, path, body=body)

    def get_secret(self, name: str, namespace: str) -> Obj | None:
        return self.kube.get(k.SECRETS, name, namespace)

    def list_objects(self, path: str) -> list[Obj]:
        items: list[Obj] = (self.kube.raw("GET", path) or {}).get("items") or []
        return items

    def load_balancer_ip(self, pod: Obj) -> str | None:
        """The LoadBalancer IP of the gateway Service that selects ``pod``, once it has one."""
        pod_labels = labels(pod)
        for svc in self.kube.list(k.SERVICES, meta(pod)["namespace"], f"{COMPONENT}=gateway"):
            selector = (svc.get("spec") or {}).get("selector") or {}
            if selector and all(pod_labels.get(key) == value for key, value in selector.items()):
                for ingress in ((svc.get("status") or {}).get("loadBalancer") or {}).get(
                    "ingress"
                ) or []:
                    if ingress.get("ip"):
                        return str(ingress["ip"])
        return None

    @staticmethod
    def _resolves(address: str) -> bool:
        try:
            ipaddress.ip_address(address)
            return True
        except ValueError:
            pass
        try:
            socket.getaddrinfo(address, None)
            return True
        except OSError:
            return False

    def _tunnel_up(self, mode: str, remote: str, view: GatewayView) -> bool:
        if view.peer_key is None or self.cluster_id is None:
            return False
        emulated, peer = self.registry.peer(self.cluster_id, mode, remote)
        if not emulated:
            return True  # the remote cluster is not emulated here: trust the local side
        return peer is not None and peer.peer_key == view.own_key and view.peer_key == peer.own_key

    def _ping(self, conn: Obj, mode: str, remote: str, view: GatewayView) -> None:
        uid = meta(conn)["uid"]
        now = time.monotonic()
        pinger = self.pingers.setdefault(uid, Pinger(last_pong=now))
        fault = self.faults.mode("connected", remote)
        if fault == "hang":
            return
        if fault != "fail" and self._tunnel_up(mode, remote, view):
            pinger.last_pong = now
            pinned = self.faults.latency_toward(remote)
            latency = pinned or format_latency(random.uniform(0.00015, 0.0009))
            self._update_connection(conn, pinger, "Connected", latency, now)
        elif fault == "fail" or now - pinger.last_pong > self.settings.loss_timeout:
            self._update_connection(conn, pinger, "Error", "N/A", now)

    def _update_connection(
        self, conn: Obj, pinger: Pinger, value: str, latency: str, now: float
    ) -> None:
        """pkg/gateway/connection UpdateConnectionStatus: on a change of value, or when the
        last written latency is older than the update-status interval. So a latency fault set
        (or changed) while the value stays Connected shows at the next such refresh: within
        ``latency_interval`` (10 s, as Liqo's chart) plus one pass."""
        current = (conn.get("status") or {}).get("value")
        stale = value == "Connected" and now - pinger.last_write > self.settings.latency_interval
        if current == value and not stale:
            return
        timestamp = now_rfc3339() if value == "Connected" else None
        self.patch_status(
            k.CONNECTIONS,
            conn,
            {"value": value, "latency": {"value": latency, "timestamp": timestamp}},
        )
        pinger.last_write = now
        if current != value:
            log.info(
                "[%s] connection %s/%s -> %s",
                self.name,
                meta(conn)["namespace"],
                meta(conn)["name"],
                value,
            )
