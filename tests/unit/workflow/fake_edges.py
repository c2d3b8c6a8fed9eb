"""Two edges' API servers as dictionaries, for unit tests of the workflow's own logic.

It stands in for `liqoshortcut.kube.objects` (patched in place) and reacts to each create the way
Liqo's controllers do, at once and only as far as the workflow looks: statuses, the gateway
Deployments and keys Secrets, the Connections. It records every manifest sent, so a test can read
exactly what an API server would have received. Fidelity to Liqo is the lab's job, not this one's.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest
from kubernetes.client import ApiClient

from liqoshortcut.core.naming import REMOTE_CLUSTER_ID_LABEL
from liqoshortcut.kube import objects
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.errors import AlreadyExists, Rejected
from liqoshortcut.kube.resources import Resource
from liqoshortcut.kube.watch import WatchDenied
from liqoshortcut.workflow import steps

Manifest = dict[str, Any]
Key = tuple[str, str, str | None, str]  # cluster, kind, namespace, name
SERVER_ENDPOINT = {"addresses": ["192.0.2.10"], "port": 32100, "protocol": "UDP"}


def key_of(cluster: str) -> bytes:
    """The public key of the gateway on ``cluster``."""
    return f"public key of the gateway on {cluster}".encode()


class FakeEdges:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, names: tuple[str, ...]) -> None:
        self.clusters = {name: Cluster(name, f"https://{name}.test", ApiClient()) for name in names}
        self.objects: dict[Key, Manifest] = {}
        self.sent: list[tuple[str, Manifest]] = []
        self.deleted: list[Key] = []
        self.refused: set[str] = set()  # kinds whose create the API server refuses
        self.silent: set[str] = set()  # kinds Liqo never reacts to: waits on them hang
        self.stuck: set[Key] = set()  # objects whose deletion never finishes
        self.on_wait: list[Any] = []  # callables run at each Connection poll
        self.before_create: dict[str, Any] = {}  # by kind: run once, just before its create
        self.remaps: dict[str, list[str]] = {}  # by edge: where its Liqo maps the peer's pods
        self._uids = itertools.count(1)
        for name in names:
            for kind in ("WgGatewayServerTemplate", "WgGatewayClientTemplate"):
                template = "wireguard-" + ("server" if "Server" in kind else "client")
                self.put(name, {"kind": kind, "metadata": {"name": template, "namespace": "liqo"}})
        for function in ("get", "list_objects", "create", "delete", "wait_gone", "mutate"):
            monkeypatch.setattr(objects, function, getattr(self, function))
        monkeypatch.setattr(objects, "gateway_public_key", self.gateway_public_key)
        # These API servers refuse watches, as for Liqo's peering user: every wait polls.
        monkeypatch.setattr(steps, "Follow", self.refuse_watch)

    def put(self, cluster: str, manifest: Manifest) -> Manifest:
        metadata = manifest["metadata"]
        metadata.setdefault("uid", f"uid-{next(self._uids)}")
        key = (cluster, manifest["kind"], metadata.get("namespace"), metadata["name"])
        self.objects[key] = manifest
        return manifest

    def refuse_watch(self, cluster: Cluster, resource: Resource, *args: Any, **kw: Any) -> Any:
        raise WatchDenied(f"may not watch {resource.qualified}")

    def kinds_on(self, cluster: str) -> list[str]:
        return sorted(kind for (name, kind, _, _) in self.objects if name == cluster)

    # --- kube.objects' functions ------------------------------------------------------------
    def get(
        self,
        cluster: Cluster,
        resource: Resource,
        name: str,
        namespace: str | None = None,
        **_: Any,
    ) -> Manifest | None:
        found = self.objects.get((cluster.name, resource.kind, namespace, name))
        return copy.deepcopy(found)

    def list_objects(
        self,
        cluster: Cluster,
        resource: Resource,
        namespace: str | None = None,
        labels: dict[str, str] | None = None,
        **_: Any,
    ) -> list[Manifest]:
        if resource.kind == "Connection":
            for hook in self.on_wait:
                hook()
        return [
            copy.deepcopy(obj)
            for (name, kind, ns, _), obj in self.objects.items()
            if (name, kind, ns) == (cluster.name, resource.kind, namespace)
            and (obj["metadata"].get("labels") or {}).items() >= (labels or {}).items()
        ]

    def create(
        self, cluster: Cluster, resource: Resource, manifest: Manifest, **_: Any
    ) -> Manifest:
        if (meanwhile := self.before_create.pop(resource.kind, None)) is not None:
            meanwhile()
        self.sent.append((cluster.name, copy.deepcopy(manifest)))
        if resource.kind in self.refused:
            raise Rejected(f"create {resource.kind} on {cluster.name}: refused by the test")
        metadata = manifest["metadata"]
        if (
            cluster.name,
            resource.kind,
            metadata.get("namespace"),
            metadata["name"],
        ) in self.objects:
            raise AlreadyExists(f"{resource.kind} {metadata['name']} already exists")
        created = self.put(cluster.name, copy.deepcopy(manifest))
        if resource.kind not in self.silent:
            self._react(cluster.name, created)
        return copy.deepcopy(created)

    def mutate(
        self,
        cluster: Cluster,
        resource: Resource,
        name: str,
        namespace: str,
        change: Any,
        **_: Any,
    ) -> Manifest | None:
        found = self.objects.get((cluster.name, resource.kind, namespace, name))
        if found is not None:
            change(found)
        return copy.deepcopy(found)

    def delete(
        self, cluster: Cluster, resource: Resource, name: str, namespace: str | None, **_: Any
    ) -> bool:
        key = (cluster.name, resource.kind, namespace, name)
        self.deleted.append(key)
        if key in self.stuck:
            return True
        return self.objects.pop(key, None) is not None

    def wait_gone(
        self, cluster: Cluster, resource: Resource, name: str, namespace: str | None, **_: Any
    ) -> bool:
        return (cluster.name, resource.kind, namespace, name) not in self.objects

    def gateway_public_key(self, cluster: Cluster, secret_name: str, namespace: str) -> bytes:
        assert (cluster.name, "Secret", namespace, secret_name) in self.objects
        return key_of(cluster.name)

    # --- Liqo, reacting at once ---------------------------------------------------------------
    def _react(self, cluster: str, obj: Manifest) -> None:
        metadata = obj["metadata"]
        namespace, name = metadata.get("namespace"), metadata["name"]
        if obj["kind"] == "Configuration":
            metadata["generation"] = 1
            # The peer's pod CIDRs as this edge maps them: a remap where they overlap its own.
            mapped = self.remaps.get(cluster) or obj["spec"]["remote"]["cidr"]["pod"]
            obj["status"] = {
                "conditions": [
                    {"type": "NetworkCIDRsConfigured", "status": "True", "observedGeneration": 1}
                ],
                "remote": {"cidr": {"pod": list(mapped)}},
            }
        if obj["kind"] in ("GatewayServer", "GatewayClient"):
            secret = f"{name}-keys"
            self.put(
                cluster, {"kind": "Secret", "metadata": {"name": secret, "namespace": namespace}}
            )
            ready = {"readyReplicas": 1}
            gateway_pod = {"name": f"gw-{name}", "namespace": namespace}
            self.put(cluster, {"kind": "Deployment", "metadata": gateway_pod, "status": ready})
            obj["status"] = {"secretRef": {"name": secret}}
            if obj["kind"] == "GatewayServer":
                obj["status"]["endpoint"] = copy.deepcopy(SERVER_ENDPOINT)
        if obj["kind"] == "PublicKey":
            labels = {REMOTE_CLUSTER_ID_LABEL: metadata["labels"][REMOTE_CLUSTER_ID_LABEL]}
            # Owned by the gateway beside it, as Liqo's gateway makes its Connection.
            owners = [
                {"kind": gw["kind"], "name": gw["metadata"]["name"], "uid": gw["metadata"]["uid"]}
                for (on, kind, ns, _), gw in self.objects.items()
                if (on, ns) == (cluster, namespace) and kind in ("GatewayServer", "GatewayClient")
            ]
            connection = {
                "name": f"gw-{name}",
                "namespace": namespace,
                "labels": labels,
                "ownerReferences": owners,
            }
            self.put(
                cluster,
                {"kind": "Connection", "metadata": connection, "status": {"value": "Connected"}},
            )
