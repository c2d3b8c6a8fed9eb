"""A small JSON-over-REST client for the emulator, built on the official client's transport.

Every object is a plain ``dict`` (as the API server sends it), so the controllers can mirror Liqo's
unstructured handling without the typed models, and every resource is addressed the same way.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import quote, urlencode

from kubernetes import config
from kubernetes.client import ApiClient

Obj = dict[str, Any]
# Its own User-Agent, not the Python client's default: the emulator polls every cluster all the
# time, and benchmarks that count a tool's requests in the API servers' audit logs tell the two
# apart by this header (the product, also a Python client, sends the default one).
USER_AGENT = "liqo-lab-emulator"


@dataclass(frozen=True)
class Resource:
    """One API resource: group ('' for core), version, plural, and whether it is namespaced."""

    group: str
    version: str
    plural: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None, sub: str = "") -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{quote(namespace)}"
        base += f"/{self.plural}"
        if name:
            base += f"/{quote(name)}"
        if sub:
            base += f"/{sub}"
        return base


NET = "networking.liqo.io"
CONFIGURATIONS = Resource(NET, "v1beta1", "configurations")
GATEWAYSERVERS = Resource(NET, "v1beta1", "gatewayservers")
GATEWAYCLIENTS = Resource(NET, "v1beta1", "gatewayclients")
WGSERVERS = Resource(NET, "v1beta1", "wggatewayservers")
WGCLIENTS = Resource(NET, "v1beta1", "wggatewayclients")
PUBLICKEYS = Resource(NET, "v1beta1", "publickeies")
CONNECTIONS = Resource(NET, "v1beta1", "connections")
NETWORKS = Resource("ipam.liqo.io", "v1alpha1", "networks")
PODS = Resource("", "v1", "pods")
SERVICES = Resource("", "v1", "services")
SECRETS = Resource("", "v1", "secrets")
SERVICEACCOUNTS = Resource("", "v1", "serviceaccounts")
CONFIGMAPS = Resource("", "v1", "configmaps")
EVENTS = Resource("", "v1", "events")
NODES = Resource("", "v1", "nodes", namespaced=False)
DEPLOYMENTS = Resource("apps", "v1", "deployments")
CLUSTERROLEBINDINGS = Resource("rbac.authorization.k8s.io", "v1", "clusterrolebindings", False)


class KubeError(Exception):
    """A non-2xx answer from the API server."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status = status
        self.body = body


def kind_to_resource(kind: str) -> str:
    """Kubernetes' UnsafeGuessKindToResource, as Liqo's KindToResource uses it."""
    lower = kind.lower()
    if not lower:
        return lower
    if lower.endswith("s"):
        return lower + "es"
    if lower.endswith("y") and len(lower) > 1 and lower[-2] not in "aeiou":
        return lower[:-1] + "ies"
    return lower + "s"


def resource_for(api_version: str, kind: str) -> Resource:
    group, _, version = api_version.rpartition("/")
    return Resource(group, version, kind_to_resource(kind))


class Kube:
    """JSON requests to one cluster; thread-safe (one ApiClient per thread).

    ``api``, when given, is used as is (its own User-Agent, no kubeconfig reloads): how the lab's
    other fixtures (lab/workloads.py) send plain-dict requests through a caller's client.
    """

    def __init__(self, kubeconfig: str, context: str, api: ApiClient | None = None) -> None:
        self.kubeconfig = kubeconfig
        self.context = context
        self._given = api
        self._local = threading.local()

    def _api(self) -> ApiClient:
        """This thread's client, rebuilt when the kubeconfig changes (the lab was restarted)."""
        if self._given is not None:
            return self._given
        try:
            stamp = os.stat(self.kubeconfig).st_mtime_ns
        except OSError:
            stamp = 0
        api = getattr(self._local, "api", None)
        if api is None or getattr(self._local, "stamp", None) != stamp:
            self._local.stamp = stamp
            api = config.new_client_from_config(config_file=self.kubeconfig, context=self.context)
            api.user_agent = USER_AGENT
            self._local.api = api
        return cast(ApiClient, api)

    def raw(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        timeout: float | tuple[float, float] = 15.0,
        stream: bool = False,
    ) -> Any:
        api = self._api()
        url_path = path + ("?" + urlencode(query) if query else "")
        headers = {"Accept": "application/json", "Content-Type": content_type}
        m, url, hdrs, _, _ = api.param_serialize(
            method, url_path, header_params=headers, auth_settings=["BearerToken"]
        )
        resp = api.call_api(m, url, hdrs, body, _request_timeout=timeout)
        if stream:
            if not 200 <= resp.status <= 299:
                raise KubeError(resp.status, resp.read().decode(errors="replace"))
            return resp.response
        data = resp.read()
        if not 200 <= resp.status <= 299:
            raise KubeError(resp.status, data.decode(errors="replace"))
        return json.loads(data) if data else None

    def get(self, res: Resource, name: str, namespace: str | None = None) -> Obj | None:
        try:
            out: Obj = self.raw("GET", res.path(namespace, name))
            return out
        except KubeError as err:
            if err.status == 404:
                return None
            raise

    def list(
        self, res: Resource, namespace: str | None = None, selector: str | None = None
    ) -> list[Obj]:
        query = {"labelSelector": selector} if selector else None
        out = self.raw("GET", res.path(namespace), query)
        items: list[Obj] = out.get("items") or []
        return items

    def create(self, res: Resource, obj: Obj, namespace: str | None = None) -> Obj:
        ns = namespace or obj.get("metadata", {}).get("namespace")
        body = dict(obj)
        body.setdefault("apiVersion", res.api_version)
        out: Obj = self.raw("POST", res.path(ns), body=body)
        return out

    def update(self, res: Resource, obj: Obj, sub: str = "") -> Obj:
        meta = obj["metadata"]
        body = dict(obj)
        body.setdefault("apiVersion", res.api_version)
        out: Obj = self.raw("PUT", res.path(meta.get("namespace"), meta["name"], sub), body=body)
        return out

    def patch(
        self, res: Resource, name: str, patch: Obj, namespace: str | None = None, sub: str = ""
    ) -> Obj:
        out: Obj = self.raw(
            "PATCH",
            res.path(namespace, name, sub),
            body=patch,
            content_type="application/merge-patch+json",
        )
        return out

    def delete(
        self, res: Resource, name: str, namespace: str | None = None, grace: int | None = None
    ) -> None:
        body = {"gracePeriodSeconds": grace} if grace is not None else None
        try:
            self.raw("DELETE", res.path(namespace, name), body=body)
        except KubeError as err:
            if err.status != 404:
                raise
