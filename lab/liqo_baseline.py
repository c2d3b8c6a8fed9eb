"""Put one lab cluster in the state a Liqo v1.2.0 install plus the hub peerings leave it in.

The lab runs bare control planes: no Helm, no Liqo controllers, no kubelet. This module writes,
with server-side apply, the objects that ``liqoctl network connect|disconnect|reset``, ``liqoctl
info`` and ``liqoctl generate peering-user`` read, exactly as the chart (rendered with liqoctl's
values for a generic install, release "liqo" in namespace "liqo") and Liqo's controllers make them:
the cluster-identity ConfigMap, the IPAM Networks with the status Liqo's IPAM writes, the WireGuard
gateway templates, the controller-manager Deployment (liqoctl's version and API-server source) and
the peering-user RBAC; and, for the peerings (central consumes every edge, the edges are not
peered with each other), the ForeignClusters, tenant namespaces and VirtualNodes with the status an
established peering has, and on central the core/v1 Node each VirtualNode's virtual kubelet
registers (so that pods bound to it count for kube-controller-manager, as in lab/workloads.py).
Status goes through the status subresource, as Liqo writes it.

Not made here: the hub peerings' networking objects (Configurations, gateways, Connections) and
their authentication objects (Tenants, Identities, ResourceSlices): the emulator's or later work.
Each builder names the Liqo v1.2.0 file it follows. Re-running converges and changes nothing.
"""

from __future__ import annotations

import contextlib
import ipaddress
from typing import Any

import yaml
from kubernetes.client import ApiClient
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import NotFoundError

from lab import build, liqo_auth
from lab.topology import (
    KUBERNETES_VERSION,
    LIQO_NAMESPACE,
    LIQO_VERSION,
    ClusterSpec,
    LiqoMode,
    Topology,
)

Obj = dict[str, Any]
CHART_FILES = "deployments/liqo/files"  # in the Liqo module: files the chart's templates include

FIELD_MANAGER = "liqo-lab"
RELEASE = "liqo"  # liqoctl's Helm release name (pkg/liqoctl/install/const.go)
REMOTE_CLUSTER_ID = "liqo.io/remote-cluster-id"
TENANT_NAMESPACE_PREFIX = "liqo-tenant-"
GATEWAY_IMAGE = "ghcr.io/liqotech/gateway"
# The controller-manager's --default-node-resources (chart default), used as the granted quota.
DEFAULT_NODE_RESOURCES = {"cpu": "4", "ephemeral-storage": "20Gi", "memory": "8Gi", "pods": "110"}


# ---------------------------------------------------------------------------------------------
# Labels and names


def selector_labels(name: str, component: str) -> dict[str, str]:
    """The chart's "liqo.selectorLabels" (deployments/liqo/templates/_helpers.tpl)."""
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": f"{RELEASE}-{name}",
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": "liqo",
    }


def chart_labels(name: str, component: str) -> dict[str, str]:
    """The chart's "liqo.labels" for a component (deployments/liqo/templates/_helpers.tpl)."""
    return selector_labels(name, component) | {
        "helm.sh/chart": f"liqo-{LIQO_VERSION}",
        "app.kubernetes.io/version": LIQO_VERSION,
        "app.kubernetes.io/managed-by": "Helm",
    }


def tenant_namespace_name(remote_cluster_id: str) -> str:
    """``liqo-tenant-<cluster ID>`` (pkg/tenantNamespace/namespaceManager.go)."""
    return TENANT_NAMESPACE_PREFIX + remote_cluster_id


def pod_cidr_network_name(cidr: str) -> str:
    """``pod-cidr-10-244-0-0-16`` for 10.244.0.0/16 (templates/liqo-ipam-networks.yaml)."""
    return "pod-cidr-" + cidr.replace("/", "-").replace(".", "-")


# ---------------------------------------------------------------------------------------------
# Install: what the chart and the IPAM leave in every cluster


def liqo_namespace() -> Obj:
    # Helm's CreateNamespace: no labels of its own (pkg/liqoctl/install/handler.go). The label the
    # API server puts on every namespace is applied too, so that this apply owns a field and a
    # re-run finds the object unchanged.
    name_label = {"kubernetes.io/metadata.name": LIQO_NAMESPACE}
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": LIQO_NAMESPACE, "labels": name_label},
    }


def cluster_id_configmap(cluster: ClusterSpec) -> Obj:
    # deployments/liqo/templates/liqo-clusterid-configmap.yaml; read by pkg/utils/cluster_info.go.
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "liqo-clusterid-configmap",
            "namespace": LIQO_NAMESPACE,
            "labels": chart_labels("clusterid-configmap", "clusterid-configmap"),
        },
        "data": {"CLUSTER_ID": cluster.name},
    }


def ipam_network(name: str, cidr: str, network_type: str, *, shared: bool) -> Obj:
    # deployments/liqo/templates/liqo-ipam-networks.yaml (liqoctl passes no externalCIDR or
    # internalCIDR, so those two are remappable and not shared).
    labels = chart_labels("ipam", "ipam") | {"ipam.liqo.io/network-type": network_type}
    if shared:
        labels |= {
            "ipam.liqo.io/network-not-remapped": "true",
            "ipam.liqo.io/network-shared": "true",
        }
    spec: Obj = {"cidr": cidr}
    if network_type == "external-cidr":
        spec["preAllocated"] = 1  # the unknown-source IP
    return {
        "apiVersion": "ipam.liqo.io/v1alpha1",
        "kind": "Network",
        "metadata": {
            "name": name,
            "namespace": LIQO_NAMESPACE,
            "labels": labels,
            "annotations": {"liqo.io/preinstalled": "true"},
        },
        "spec": spec,
    }


def ipam_networks(cluster: ClusterSpec) -> list[Obj]:
    # One Network per podCIDR, plus service, external and internal CIDRs (same chart file).
    return [
        ipam_network(
            pod_cidr_network_name(cluster.pod_cidr), cluster.pod_cidr, "pod-cidr", shared=True
        ),
        ipam_network("service-cidr", cluster.service_cidr, "service-cidr", shared=True),
        ipam_network("external-cidr", cluster.external_cidr, "external-cidr", shared=False),
        ipam_network("internal-cidr", cluster.internal_cidr, "internal-cidr", shared=False),
    ]


def network_status(network: Obj) -> Obj:
    # The IPAM grants each free CIDR as asked: status.cidr = spec.cidr
    # (cmd/liqo-controller-manager/modules/networking.go initialize*Networks).
    return {"cidr": network["spec"]["cidr"]}


def _gateway_template_selector(*, service: bool) -> dict[str, str]:
    # "liqo.selectorTemplate" (deployments/liqo/templates/_helpers.tpl).
    labels = {
        "app.kubernetes.io/name": "{{ .Name }}",
        "app.kubernetes.io/instance": f"{RELEASE}-{{{{ .Name }}}}",
        "app.kubernetes.io/component": "networking",
        "app.kubernetes.io/part-of": "liqo",
        "app.kubernetes.io/managed-by": "Helm",
        "networking.liqo.io/component": "gateway",
        "networking.liqo.io/gateway-name": "{{ .Name }}",
        "networking.liqo.io/gateway-namespace": "{{ .Namespace }}",
    }
    return labels | ({"networking.liqo.io/active": "true"} if service else {})


def _gateway_template_metadata() -> Obj:
    # "liqo.metadataTemplate" with one gateway replica (deployments/liqo/templates/_helpers.tpl).
    labels = _gateway_template_selector(service=False) | {
        "helm.sh/chart": f"liqo-{LIQO_VERSION}",
        "app.kubernetes.io/version": LIQO_VERSION,
        "networking.liqo.io/active": "true",
    }
    return {"name": "{{ .Name }}", "namespace": "{{ .Namespace }}", "labels": labels}


def _gateway_container(name: str, image: str, mode: str, args: list[str], port: int) -> Obj:
    # One container of the gateway pod (liqo-wireguard-gateway-{server,client}-template.yaml).
    identity = ["--name={{ .Name }}", "--namespace={{ .Namespace }}"]
    identity += ["--remote-cluster-id={{ .ClusterID }}"]
    node = ["--node-name=$(NODE_NAME)", "--pod-name=$(POD_NAME)"] if name != "wireguard" else []
    tail = [f"--mode={mode}", f"--container-name={name}"]
    container: Obj = {
        "name": name,
        "image": f"{image}:{LIQO_VERSION}",
        "imagePullPolicy": "IfNotPresent",
        "resources": {"limits": {}, "requests": {}},
        "args": [*identity, *node, "--gateway-uid={{ .GatewayUID }}", *tail, *args],
        "volumeMounts": [{"name": "ipc", "mountPath": "/ipc"}],
        "ports": [{"containerPort": port, "name": "healthz"}],
        "securityContext": {"capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}},
    }
    if node:
        container["env"] = [
            {"name": env, "valueFrom": {"fieldRef": {"fieldPath": path}}}
            for env, path in (("NODE_NAME", "spec.nodeName"), ("POD_NAME", "metadata.name"))
        ]
    return container


def _gateway_pod_containers(mode: str) -> list[Obj]:
    # The gateway, wireguard and geneve containers with the chart's default values.
    leader = "--leader-election=false"
    gateway = _gateway_container(
        "gateway",
        GATEWAY_IMAGE,
        mode,
        [
            "--concurrent-containers-names=wireguard,geneve",
            "--global-labels=liqo.io/managed=true",
            "--health-probe-bind-address=:8083",
            "--ping-enabled=true",
            "--ping-loss-threshold=5",
            "--ping-interval=2s",
            "--ping-update-status-interval=10s",
            leader,
            "--enable-nft-monitor=true",
            "--enable-route-monitor=true",
        ],
        8083,
    )
    gateway["securityContext"] = {"privileged": True} | gateway["securityContext"]
    if mode == "server":
        endpoint = ["--listen-port={{ .Spec.Endpoint.Port }}"]
    else:
        endpoint = [
            "--endpoint-address={{ index .Spec.Endpoint.Addresses 0 }}",
            "--endpoint-port={{ .Spec.Endpoint.Port }}",
        ]
    wireguard_args = ["--mtu={{ .Spec.MTU }}", *endpoint, "--health-probe-bind-address=:8085"]
    wireguard_args += [leader, "--implementation=kernel"]
    if mode == "server":
        wireguard_args.append("--preserve-client-endpoint=true")
    wireguard = _gateway_container(
        "wireguard", f"{GATEWAY_IMAGE}/wireguard", mode, wireguard_args, 8085
    )
    wireguard["volumeMounts"].append(
        {"name": "wireguard-config", "mountPath": "/etc/wireguard/keys"}
    )
    geneve_args = ["--geneve-port=6091", "--health-probe-bind-address=:8087", leader]
    # The v1.2.0 chart gives the geneve container --mode=server in the client template too.
    geneve = _gateway_container("geneve", f"{GATEWAY_IMAGE}/geneve", "server", geneve_args, 8087)
    return [gateway, wireguard, geneve]


def gateway_template(mode: str) -> Obj:
    # deployments/liqo/templates/liqo-wireguard-gateway-{server,client}-template.yaml; names are
    # liqoctl's defaults (pkg/liqo-controller-manager/networking/forge/gateway{server,client}.go).
    kind = "WgGatewayServer" if mode == "server" else "WgGatewayClient"
    name = f"wireguard-{mode}"
    metadata = _gateway_template_metadata()
    pod_spec = {
        "serviceAccount": "{{ .Name }}",
        "serviceAccountName": "{{ .Name }}",
        "containers": _gateway_pod_containers(mode),
        "volumes": [
            {"name": "wireguard-config", "secret": {"secretName": "{{ .SecretName }}"}},
            {"name": "ipc", "emptyDir": {}},
        ],
    }
    deployment = {
        "metadata": metadata,
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": _gateway_template_selector(service=False)},
            "template": {"metadata": metadata, "spec": pod_spec},
        },
    }
    template_spec: Obj = {"secretRef": {"name": "{{ .Spec.SecretRef.Name }}"}}
    if mode == "server":
        # A leading "?" marks a field Liqo drops when its value renders empty.
        template_spec["service"] = {
            "metadata": metadata,
            "spec": {
                "selector": _gateway_template_selector(service=True),
                "type": "{{ .Spec.Endpoint.ServiceType }}",
                "?loadBalancerIP": "{{ .Spec.Endpoint.LoadBalancerIP }}",
                "ports": [
                    {
                        "port": "{{ .Spec.Endpoint.Port }}",
                        "protocol": "UDP",
                        "targetPort": "{{ .Spec.Endpoint.Port }}",
                        "?nodePort": "{{ .Spec.Endpoint.NodePort }}",
                    }
                ],
            },
        }
    template_spec["deployment"] = deployment
    return {
        "apiVersion": "networking.liqo.io/v1beta1",
        "kind": f"{kind}Template",
        "metadata": {
            "name": name,
            "namespace": LIQO_NAMESPACE,
            "labels": chart_labels(name, "networking"),
        },
        "spec": {
            "objectKind": {"apiVersion": "networking.liqo.io/v1beta1", "kind": kind},
            "template": {"metadata": metadata, "spec": template_spec},
        },
    }


def controller_manager_service_account() -> Obj:
    # deployments/liqo/templates/liqo-controller-manager-rbac.yaml (the Deployment's pods need it).
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": "liqo-controller-manager",
            "namespace": LIQO_NAMESPACE,
            "labels": chart_labels("controller-manager", "controller-manager"),
        },
    }


def fabric_rbac() -> list[Obj]:
    """liqo-fabric-rbac.yaml: the fabric DaemonSet's ServiceAccount, bound to its ClusterRole
    (which ``chart_cluster_role("fabric", ...)`` makes from the chart's file)."""
    labels = chart_labels("fabric", "networking")
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "liqo-fabric", "namespace": LIQO_NAMESPACE, "labels": labels},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "liqo-fabric", "labels": labels},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "liqo-fabric",
            },
            "subjects": [
                {"kind": "ServiceAccount", "name": "liqo-fabric", "namespace": LIQO_NAMESPACE}
            ],
        },
    ]


IPAM_PORT = 6000  # the chart's liqo-ipam Service port


def controller_manager_args(api_server_url: str) -> list[str]:
    """The chart's arguments of liqo-controller-manager; ``$(VAR)`` as in the pod spec."""
    return [
        "--cluster-id=$(CLUSTER_ID)",
        "--liqo-namespace=$(POD_NAMESPACE)",
        "--networking-enabled=true",
        "--authentication-enabled=true",
        "--tls-compatibility-mode=false",
        "--offloading-enabled=true",
        "--default-limits-enforcement=None",
        "--default-node-resources="
        + ",".join(f"{k}={v}" for k, v in DEFAULT_NODE_RESOURCES.items()),
        "--global-labels=liqo.io/managed=true",
        f"--api-server-address-override={api_server_url}",
        "--fabric-route-rule-priority=0",
        "--fabric-full-masquerade-enabled=false",
        "--gateway-masquerade-bypass-enabled=false",
        "--geneve-port=6091",
        "--gateway-server-resources=networking.liqo.io/v1beta1/wggatewayservers",
        "--gateway-client-resources=networking.liqo.io/v1beta1/wggatewayclients",
        f"--ipam-server=liqo-ipam.{LIQO_NAMESPACE}:{IPAM_PORT}",
        "--enable-storage=true",
        "--webhook-port=9443",
        "--virtual-storage-class-name=liqo",
        "--real-storage-class-name=",
        "--storage-namespace=liqo-storage",
        "--ingress-classes=",
        "--load-balancer-classes=",
        "--enable-api-server-ip-remapping=true",
    ]


def webhook_args(cluster: ClusterSpec) -> list[str]:
    """The chart's arguments of liqo-webhook (liqo-webhook-deployment.yaml, default values), but
    its certificates: the lab serves them from files, not from the chart's Secret."""
    return [
        "--cluster-id=$(CLUSTER_ID)",
        "--liqo-namespace=$(POD_NAMESPACE)",
        "--liqo-runtime-class=liqo",
        f"--podcidr={cluster.pod_cidr}",
        f"--vk-options-default-template={LIQO_NAMESPACE}/virtual-kubelet-default",
    ]


# The webhooks of the chart's liqo-{mutating,validating}-webhook.yaml that the real gateways
# depend on (rule names, unique tables); the others stay off, as the emulator never needed them.
NETWORKING_WEBHOOKS = {
    "mutating": (("firewallconfiguration.mutate.liqo.io", "firewallconfigurations", "mutate"),),
    "validating": (
        ("firewallconfiguration.validate.liqo.io", "firewallconfigurations", "validate"),
        ("routeconfiguration.validate.liqo.io", "routeconfigurations", "validate"),
    ),
}
WEBHOOK_CONFIGURATION_NAME = "liqo-webhook"


def webhook_configurations(url: str, ca_bundle: str) -> list[Obj]:
    """The chart's webhook registrations for NETWORKING_WEBHOOKS, pointing at ``url``."""
    configurations = []
    for kind, hooks in NETWORKING_WEBHOOKS.items():
        webhooks = [
            {
                "name": name,
                "admissionReviewVersions": ["v1", "v1beta1"],
                "clientConfig": {"url": f"{url}/{verb}/{resource}", "caBundle": ca_bundle},
                "rules": [
                    {
                        "operations": ["CREATE", "UPDATE"],
                        "apiGroups": ["networking.liqo.io"],
                        "apiVersions": ["v1beta1"],
                        "resources": [resource],
                    }
                ],
                "sideEffects": "None",
                "failurePolicy": "Fail",
                "objectSelector": {
                    "matchExpressions": [
                        {"key": "liqo.io/webhook-skip", "operator": "NotIn", "values": ["true"]}
                    ]
                },
            }
            for name, resource, verb in hooks
        ]
        configurations.append(
            {
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": f"{kind.capitalize()}WebhookConfiguration",
                "metadata": {
                    "name": WEBHOOK_CONFIGURATION_NAME,
                    "labels": chart_labels("webhook", "webhook"),
                },
                "webhooks": webhooks,
            }
        )
    return configurations


def register_webhooks(api: ApiClient, url: str, ca_bundle: str) -> None:
    dyn = DynamicClient(api)
    for configuration in webhook_configurations(url, ca_bundle):
        _apply(dyn, configuration)


def unregister_webhooks(api: ApiClient) -> None:
    dyn = DynamicClient(api)
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        resource = dyn.resources.get(api_version="admissionregistration.k8s.io/v1", kind=kind)
        with contextlib.suppress(NotFoundError):
            resource.delete(name=WEBHOOK_CONFIGURATION_NAME)


def ipam_args() -> list[str]:
    """The chart's arguments of the IPAM (deployments/liqo/templates/liqo-ipam-deployment.yaml
    with the default values)."""
    return [
        "--pod-name=$(POD_NAME)",
        f"--port={IPAM_PORT}",
        "--sync-interval=2m",
        "--sync-graceperiod=30s",
        "--pools=10.0.0.0/8,192.168.0.0/16,172.16.0.0/12",
        "--enable-graphviz=false",
    ]


def controller_manager_deployment(api_server_url: str) -> Obj:
    # deployments/liqo/templates/liqo-controller-manager-deployment.yaml, as `liqoctl install
    # generic --api-server-url` renders it. liqoctl reads the image tag (Liqo version), and the
    # --api-server-address-override, --cluster-labels and --tls-compatibility-mode arguments
    # (pkg/utils/getters/k8sGetters.go GetLiqoVersion, pkg/liqoctl/info/localstatus/local_info.go).
    container = {
        "name": "controller-manager",
        "image": f"ghcr.io/liqotech/liqo-controller-manager:{LIQO_VERSION}",
        "imagePullPolicy": "IfNotPresent",
        "securityContext": {"allowPrivilegeEscalation": False},
        "command": ["/usr/bin/liqo-controller-manager"],
        "args": controller_manager_args(api_server_url),
        "env": [
            {
                "name": "CLUSTER_ID",
                "valueFrom": {
                    "configMapKeyRef": {"name": "liqo-clusterid-configmap", "key": "CLUSTER_ID"}
                },
            },
            {
                "name": "POD_NAMESPACE",
                "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
            },
        ],
        "resources": {"limits": {}, "requests": {}},
        "ports": [
            {"name": "webhook", "containerPort": 9443, "protocol": "TCP"},
            {"name": "healthz", "containerPort": 8081, "protocol": "TCP"},
            {"name": "metrics", "containerPort": 8082, "protocol": "TCP"},
        ],
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "healthz"}},
    }
    labels = chart_labels("controller-manager", "controller-manager")
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "liqo-controller-manager",
            "namespace": LIQO_NAMESPACE,
            "labels": labels,
        },
        "spec": {
            "replicas": 1,
            "selector": {
                "matchLabels": selector_labels("controller-manager", "controller-manager")
            },
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 1000,
                        "runAsGroup": 1000,
                        "fsGroup": 1000,
                    },
                    "serviceAccountName": "liqo-controller-manager",
                    "containers": [container],
                },
            },
        },
    }


def proxy_service() -> Obj:
    # deployments/liqo/templates/liqo-proxy-service.yaml (proxy.enabled, the default): Liqo's
    # controller-manager will not start without it (EnforceAPIServerProxyIPRemapping).
    labels = chart_labels("proxy", "networking")
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "liqo-proxy", "namespace": LIQO_NAMESPACE, "labels": labels},
        "spec": {
            "type": "ClusterIP",
            "ports": [{"name": "http", "port": 8118, "targetPort": 8118, "protocol": "TCP"}],
            "selector": selector_labels("proxy", "networking"),
        },
    }


def _rule(group: str, resources: list[str], verbs: list[str]) -> Obj:
    return {"apiGroups": [group], "resources": resources, "verbs": verbs}


def peering_user_cluster_role() -> Obj:
    # deployments/liqo/files/liqo-peering-user-tenant-ns-ClusterRole.yaml via liqo-peer-rbac.yaml;
    # bound in the tenant namespace by pkg/liqoctl/rest/peering-user/userfactory/roles.go.
    crud = ["create", "delete", "get", "list", "update"]
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {
            "name": "liqo-peering-user-tenant-ns",
            "labels": chart_labels("peering-user", "peering-user"),
        },
        "rules": [
            _rule("", ["namespaces", "services"], ["get"]),
            _rule("", ["secrets"], ["create", "delete", "get", "list"]),
            _rule("apps", ["deployments"], ["get"]),
            _rule("authentication.liqo.io", ["tenants"], crud),
            _rule("ipam.liqo.io", ["ips"], ["create", "delete", "get", "update"]),
            _rule(
                "networking.liqo.io",
                ["configurations", "gatewayclients", "gatewayservers", "publickeies"],
                crud,
            ),
            _rule("networking.liqo.io", ["connections"], ["get", "list"]),
            _rule(
                "networking.liqo.io", ["gatewayclients/status", "gatewayservers/status"], ["get"]
            ),
        ],
    }


def chart_cluster_role(name: str, module: str) -> Obj:
    """The chart's ClusterRole ``liqo-<name>``: its rules are the chart's own file, read from the
    pinned module (the templates include ``files/liqo-<name>-ClusterRole.yaml``)."""
    rules_file = build.liqo_module_dir() / CHART_FILES / f"liqo-{name}-ClusterRole.yaml"
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": f"liqo-{name}", "labels": chart_labels(name, module)},
        "rules": yaml.safe_load(rules_file.read_text())["rules"],
    }


# What Liqo's Tenant controller binds to a consumer's control plane (in its tenant namespace, and
# cluster-wide); it reconciles no Tenant until both exist (tenant_controller.go).
TENANT_CLUSTER_ROLES = (("remote-controlplane", "authentication"),)
TENANT_CLUSTER_ROLES_CLUSTER_WIDE = (("virtual-kubelet-remote-clusterwide", "virtualkubelet"),)
# The data path's: what Liqo's gateway controllers bind each gateway pod's ServiceAccount to
# (liqo-gateway-rbac.yaml; --wg-gateway-{server,client}-cluster-role-name), and the fabric's
# (liqo-fabric-rbac.yaml): the real gateways and fabric run with exactly these rights.
DATAPATH_CLUSTER_ROLES = (("gateway", "networking"), ("fabric", "networking"))


def peering_user_liqo_ns_role() -> Obj:
    # deployments/liqo/files/liqo-peering-user-liqo-ns-Role.yaml via liqo-peer-rbac.yaml.
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {
            "name": "liqo-peering-user-liqo-ns",
            "namespace": LIQO_NAMESPACE,
            "labels": chart_labels("peering-user", "peering-user"),
        },
        "rules": [
            _rule("", ["configmaps"], ["get", "list", "watch"]),
            _rule("ipam.liqo.io", ["ips"], ["get"]),
            _rule("ipam.liqo.io", ["networks"], ["get", "list"]),
            _rule(
                "networking.liqo.io",
                ["wggatewayclienttemplates", "wggatewayservertemplates"],
                ["get", "list"],
            ),
        ],
    }


# ---------------------------------------------------------------------------------------------
# Peering: what `liqoctl peer` (run on central against each edge) leaves behind


def tenant_namespace(remote_cluster_id: str) -> Obj:
    # pkg/tenantNamespace/namespaceManager.go ForgeNamespace.
    privileged = "privileged"
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": tenant_namespace_name(remote_cluster_id),
            "labels": {
                REMOTE_CLUSTER_ID: remote_cluster_id,
                "liqo.io/tenant-namespace": "true",
                "pod-security.kubernetes.io/audit": privileged,
                "pod-security.kubernetes.io/enforce": privileged,
                "pod-security.kubernetes.io/warn": privileged,
            },
        },
    }


def foreign_cluster(remote_cluster_id: str) -> Obj:
    # pkg/liqo-controller-manager/core/foreigncluster-controller/foreigncluster_controller.go
    # foreignclusterEnqueuer: named after the cluster ID, labelled with it.
    return {
        "apiVersion": "core.liqo.io/v1beta1",
        "kind": "ForeignCluster",
        "metadata": {"name": remote_cluster_id, "labels": {REMOTE_CLUSTER_ID: remote_cluster_id}},
        "spec": {"clusterID": remote_cluster_id},
    }


def _fc_condition(kind: str, status: str, reason: str, message: str, since: str) -> Obj:
    return {
        "type": kind,
        "status": status,
        "lastTransitionTime": since,
        "reason": reason,
        "message": message,
    }


def foreign_cluster_status(
    local: ClusterSpec, remote: ClusterSpec, since: str, generation: int
) -> Obj:
    # pkg/liqo-controller-manager/core/foreigncluster-controller/{status,conditions}.go once the
    # peering is established. liqoctl peer puts the GatewayServer on the provider and the
    # GatewayClient on the consumer (pkg/liqoctl/peer/handler.go ensureNetworking).
    remote_is_provider = remote.role == "provider"
    gateway = "NetworkGatewayClientStatus" if remote_is_provider else "NetworkGatewayServerStatus"
    networking = [
        _fc_condition(
            "NetworkConfigurationStatus",
            "Ready",
            "NetworkConfigurationPresence",
            "The network configuration of the peer cluster is present",
            since,
        ),
        _fc_condition(gateway, "Ready", "GatewaysReady", "All gateway replicas are ready", since),
        _fc_condition(
            "NetworkConnectionStatus",
            "Established",
            "ConnectionEstablished",
            "The network connection with the foreign cluster is established",
            since,
        ),
        _fc_condition(
            "NetworkGatewayPresence",
            "Ready",
            "GatewayPresence",
            "There is a gateway connecting to the foreign cluster",
            since,
        ),
    ]
    tenant_ns: Obj = {"local": tenant_namespace_name(remote.name)}
    if remote_is_provider:
        # Consumer side: the ControlPlane Identity says both tenant namespaces; the VirtualNode
        # makes the offloading module active.
        authentication = [
            _fc_condition(
                "AuthIdentityControlPlaneStatus",
                "Ready",
                "IdentityReady",
                "The identity has been successfully configured",
                since,
            )
        ]
        offloading: Obj = {
            "enabled": True,
            "conditions": [
                _fc_condition(
                    "OffloadingVirtualNodeStatus",
                    "Ready",
                    "VirtualNodesReady",
                    "All virtual nodes are ready",
                    since,
                ),
                _fc_condition(
                    "OffloadingNodeStatus", "Ready", "NodesReady", "All nodes are ready", since
                ),
            ],
        }
        tenant_ns["remote"] = tenant_namespace_name(local.name)
    else:
        # Provider side: the Tenant resource; no VirtualNode, so offloading stays disabled.
        authentication = [
            _fc_condition(
                "AuthTenantStatus",
                "Ready",
                "TenantReady",
                "The tenant has been successfully configured",
                since,
            )
        ]
        offloading = {"enabled": False}
    return {
        "observedGeneration": generation,
        "role": "Provider" if remote_is_provider else "Consumer",
        "modules": {
            "networking": {"enabled": True, "conditions": networking},
            "authentication": {"enabled": True, "conditions": authentication},
            "offloading": offloading,
        },
        "tenantNamespace": tenant_ns,
    }


def virtual_node(remote_cluster_id: str) -> Obj:
    # pkg/liqo-controller-manager/virtualnodecreator-controller/virtualnodecreator_controller.go
    # with pkg/liqo-controller-manager/offloading/forge/virtualnode.go: named after the
    # ResourceSlice (which liqoctl peer names after the provider's cluster ID), in the tenant
    # namespace; createNode and disableNetworkCheck are the webhook's chart defaults.
    return {
        "apiVersion": "offloading.liqo.io/v1beta1",
        "kind": "VirtualNode",
        "metadata": {
            "name": remote_cluster_id,
            "namespace": tenant_namespace_name(remote_cluster_id),
            "labels": {
                REMOTE_CLUSTER_ID: remote_cluster_id,
                "liqo.io/resourceslice-name": remote_cluster_id,
            },
        },
        "spec": {
            "clusterID": remote_cluster_id,
            "createNode": True,
            "disableNetworkCheck": False,
            "kubeconfigSecretRef": {"name": f"kubeconfig-resourceslice-{remote_cluster_id}"},
            "labels": {REMOTE_CLUSTER_ID: remote_cluster_id},
            "resourceQuota": {"hard": dict(DEFAULT_NODE_RESOURCES)},
        },
    }


def virtual_node_status(since: str) -> Obj:
    # pkg/liqo-controller-manager/offloading/virtualnode-controller/virtualkubelet.go: both
    # conditions Running once the virtual kubelet runs.
    return {
        "conditions": [
            {"type": kind, "status": "Running", "lastTransitionTime": since}
            for kind in ("VirtualKubelet", "Node")
        ]
    }


# The virtual kubelet's --listen-port default (cmd/virtual-kubelet/root/opts.go DefaultListenPort).
VIRTUAL_KUBELET_PORT = 10250
VIRTUAL_NODE_TAINT = "virtual-node.liqo.io/not-allowed"  # pkg/consts/webhook.go


def virtual_kubelet_ip(consumer: ClusterSpec, index: int) -> str:
    """The virtual kubelet pod's IP for the ``index``-th provider: central's pod CIDR, counted
    down from the top of its first /24 (the emulator's gateway pods count up from .11).

    The virtual kubelet gets --node-ip=$(POD_IP) (pkg/vkMachinery/forge/forge.go
    forgeVKContainers): it is the Node's InternalIP and the hostIP of every pod on that node.
    """
    network = ipaddress.ip_network(consumer.pod_cidr)
    top = min(network.num_addresses, 256) - 2  # the last host of the first /24
    if not 0 <= index < top:
        raise ValueError(f"no virtual kubelet address {index} in {consumer.pod_cidr}")
    return str(network[top - index])


def virtual_kubelet_node(remote_cluster_id: str) -> Obj:
    # pkg/virtualKubelet/liqoNodeProvider/setup.go node(): named --nodename (the VirtualNode's
    # name, pkg/vkMachinery/forge/forge.go), its labels and NoExecute taint; then
    # utils.go desiredVirtualNodeMetadata merges the VirtualNode's spec.labels and
    # storage.liqo.io/available (false: the baseline's VirtualNode has no storage classes). The
    # chart's virtualKubelet.virtualNode.extra labels and annotations are empty.
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": remote_cluster_id,
            "labels": {
                "kubernetes.io/hostname": remote_cluster_id,
                "kubernetes.io/role": "agent",
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "liqo.io/type": "virtual-node",
                REMOTE_CLUSTER_ID: remote_cluster_id,
                "node.kubernetes.io/exclude-from-external-load-balancers": "true",
                "alpha.service-controller.kubernetes.io/exclude-balancer": "true",
                "storage.liqo.io/available": "false",
            },
        },
        "spec": {"taints": [{"key": VIRTUAL_NODE_TAINT, "value": "true", "effect": "NoExecute"}]},
    }


def _node_condition(kind: str, status: str, reason: str, message: str, since: str) -> Obj:
    return {
        "type": kind,
        "status": status,
        "lastHeartbeatTime": since,
        "lastTransitionTime": since,
        "reason": reason,
        "message": message,
    }


def virtual_kubelet_node_status(internal_ip: str, since: str) -> Obj:
    # pkg/virtualKubelet/liqoNodeProvider/conditions.go and nodeProvider.go recomputeNodeState
    # once the resources are granted and the network is up (--node-check-network defaults to
    # true, so NetworkUnavailable is set); capacity = allocatable = the VirtualNode's
    # resourceQuota (utils.go applyVirtualNodeStatus); kubeletVersion = the API server's version
    # (cmd/virtual-kubelet/root/root.go getVersion). Heartbeats are pinned to ``since`` so that a
    # re-run changes nothing (node lifecycle, which would judge them, is off in the lab).
    sufficient = "The remote cluster is advertising sufficient resources"
    return {
        "conditions": [
            _node_condition(
                "Ready",
                "True",
                "KubeletReady",
                "The Liqo Virtual Kubelet is posting ready status",
                since,
            ),
            _node_condition(
                "MemoryPressure", "False", "RemoteClusterHasSufficientMemory", sufficient, since
            ),
            _node_condition(
                "DiskPressure", "False", "RemoteClusterHasNoDiskPressure", sufficient, since
            ),
            _node_condition(
                "PIDPressure", "False", "RemoteClusterHasNoPIDPressure", sufficient, since
            ),
            _node_condition(
                "NetworkUnavailable",
                "False",
                "LiqoNetworkingUp",
                "The Liqo cluster interconnection is established",
                since,
            ),
        ],
        "addresses": [{"type": "InternalIP", "address": internal_ip}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": VIRTUAL_KUBELET_PORT}},
        "capacity": dict(DEFAULT_NODE_RESOURCES),
        "allocatable": dict(DEFAULT_NODE_RESOURCES),
        "nodeInfo": {
            "kubeletVersion": KUBERNETES_VERSION,
            "architecture": "amd64",
            "operatingSystem": "Linux",
        },
    }


# ---------------------------------------------------------------------------------------------
# Applying


def _apply(dyn: DynamicClient, obj: Obj) -> Obj:
    """Server-side apply ``obj``; returns the object as the API server now has it."""
    resource = dyn.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
    namespace = obj["metadata"].get("namespace")
    applied = dyn.server_side_apply(
        resource, body=obj, namespace=namespace, field_manager=FIELD_MANAGER, force_conflicts=True
    )
    result: Obj = applied.to_dict()
    return result


def _apply_status(dyn: DynamicClient, obj: Obj, status: Obj) -> None:
    """Server-side apply ``status`` through the status subresource of ``obj``."""
    resource = dyn.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
    metadata = {k: v for k, v in obj["metadata"].items() if k in ("name", "namespace")}
    body = {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "metadata": metadata}
    dyn.server_side_apply(
        resource.status,
        body=body | {"status": status},
        name=metadata["name"],
        namespace=metadata.get("namespace"),
        field_manager=FIELD_MANAGER,
        force_conflicts=True,
    )


def _created(applied: Obj) -> str:
    """The object's creation time: a stable lastTransitionTime, so re-runs change nothing."""
    return str(applied["metadata"]["creationTimestamp"])


def install_baseline(
    api: ApiClient, cluster: ClusterSpec, topology: Topology, *, liqo: LiqoMode
) -> None:
    """Make ``cluster`` look like Liqo v1.2.0 installed and peered as ``topology`` says.

    With ``liqo="real"`` the ForeignClusters' status is left to Liqo's own ForeignCluster
    controller, which derives it from the Identities and Tenants written here: a status written
    by the lab as well would be rewritten by it at once, and again at every install.
    """
    dyn = DynamicClient(api)
    for obj in (
        liqo_namespace(),
        cluster_id_configmap(cluster),
        controller_manager_service_account(),
        controller_manager_deployment(str(api.configuration.host)),
        proxy_service(),
        gateway_template("server"),
        gateway_template("client"),
        peering_user_cluster_role(),
        *(
            chart_cluster_role(name, module)
            for name, module in TENANT_CLUSTER_ROLES
            + TENANT_CLUSTER_ROLES_CLUSTER_WIDE
            + DATAPATH_CLUSTER_ROLES
        ),
        peering_user_liqo_ns_role(),
        *fabric_rbac(),
    ):
        _apply(dyn, obj)
    for network in ipam_networks(cluster):
        _apply(dyn, network)
        _apply_status(dyn, network, network_status(network))

    peers = topology.providers if cluster.role == "consumer" else (topology.consumer,)
    for remote in peers:
        if remote.name == cluster.name:
            continue
        _apply(dyn, tenant_namespace(remote.name))
        fc = foreign_cluster(remote.name)
        applied = _apply(dyn, fc)
        if liqo == "emulated":
            status = foreign_cluster_status(
                cluster, remote, _created(applied), int(applied["metadata"]["generation"])
            )
            _apply_status(dyn, fc, status)
        if remote.role == "provider":
            node = virtual_node(remote.name)
            _apply_status(dyn, node, virtual_node_status(_created(_apply(dyn, node))))
            # The Node the VirtualNode's virtual kubelet registers (createNode: true).
            kubelet_node = virtual_kubelet_node(remote.name)
            address = virtual_kubelet_ip(cluster, topology.providers.index(remote))
            since = _created(_apply(dyn, kubelet_node))
            _apply_status(dyn, kubelet_node, virtual_kubelet_node_status(address, since))
            # The TaintNodesByCondition admission plugin gives a new Node the not-ready NoSchedule
            # taint, which node lifecycle (off in the lab) lifts once the Node is Ready; applying
            # the taints again does the same (and nothing on a re-run).
            _apply(dyn, kubelet_node)
    # Last: the Identities, nonces and Tenants live in the tenant namespaces made above.
    for obj in liqo_auth.for_lab(cluster, topology):
        _apply(dyn, obj)
