"""Requests by resource path, answered as plain JSON, through the cluster's ApiClient.

Why not the generated API classes (CoreV1Api, CustomObjectsApi, ...): importing one builds the
pydantic models of every type it mentions, about 1.5 s on a laptop before the first request of a
command that then turns each answer back into a dict anyway. The ApiClient itself still does
what it is good at: the kubeconfig's authentication, TLS, the connection pool and its timeouts.
A non-2xx answer raises the client's ApiException, so `errors.api_call` maps failures as before.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from kubernetes.client.exceptions import ApiException

from liqoshortcut.core.forge import Manifest
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.resources import Resource

Query = Sequence[tuple[str, str]]

MERGE_PATCH = "application/merge-patch+json"
# A 429 (Too Many Requests) is an API server shedding load (API Priority and Fairness, or
# max-in-flight: busy, or just restarted and relisted by every controller); it processed nothing,
# whatever the method. Like client-go, wait as its Retry-After says and ask again; the last
# answer is then the caller's, mapped like any error answer.
THROTTLED_RETRIES = 5
DEFAULT_RETRY_AFTER = 1.0  # seconds, when the 429 does not say (the API server's own default)
MAX_RETRY_AFTER = 5.0


def path(
    resource: Resource,
    namespace: str | None = None,
    name: str | None = None,
    subresource: str | None = None,
) -> str:
    """``/apis/GROUP/VERSION[/namespaces/NS]/PLURAL[/NAME[/SUB]]``; ``/api/v1/...`` for core.

    A namespaced resource without ``namespace`` is the all-namespaces collection.
    """
    parts = [f"/apis/{resource.group}/{resource.version}" if resource.group else "/api/v1"]
    if resource.namespaced and namespace:
        parts.append(f"namespaces/{quote(namespace, safe='')}")
    parts.append(resource.plural)
    if name:
        parts.append(quote(name, safe=""))
    if subresource:
        parts.append(subresource)
    return "/".join(parts)


def label_selector(labels: Mapping[str, str]) -> str:
    """``key=value,...``: every label must match."""
    return ",".join(f"{key}={value}" for key, value in labels.items())


def send(
    cluster: Cluster,
    method: str,
    resource_path: str,
    *,
    query: Query = (),
    body: Mapping[str, Any] | None = None,
    content_type: str = "application/json",
) -> Any:
    """Send one request; the answer unread (a watch reads it as a stream), whatever its status."""
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = content_type
    serialized = cluster.api.param_serialize(
        method=method,
        resource_path=resource_path,
        query_params=list(query),
        header_params=headers,
        body=dict(body) if body is not None else None,
        auth_settings=["BearerToken"],
    )
    for _ in range(THROTTLED_RETRIES):
        answer = cluster.api.call_api(*serialized)
        if answer.status != 429:
            return answer
        answer.read()  # the connection goes back to the pool
        time.sleep(_retry_after(answer.getheader("Retry-After")))
    return cluster.api.call_api(*serialized)


def _retry_after(header: str | None) -> float:
    """Seconds to wait before asking again: the answer's Retry-After (in seconds), bounded."""
    try:
        return min(max(float(header or DEFAULT_RETRY_AFTER), 0.0), MAX_RETRY_AFTER)
    except ValueError:  # an HTTP date: rare from an API server
        return DEFAULT_RETRY_AFTER


def raise_for_status(answer: Any) -> None:
    """Raise the client's ApiException for a non-2xx answer (its body read for the message)."""
    if not 200 <= answer.status <= 299:
        raise ApiException.from_response(http_resp=answer, body=answer.read().decode(), data=None)


def request(
    cluster: Cluster,
    method: str,
    resource_path: str,
    *,
    query: Query = (),
    body: Mapping[str, Any] | None = None,
    content_type: str = "application/json",
) -> Manifest:
    """Send one request; the answer's JSON object. Raises ApiException on a non-2xx answer."""
    answer = send(cluster, method, resource_path, query=query, body=body, content_type=content_type)
    raise_for_status(answer)
    data = answer.read()
    parsed = json.loads(data) if data else {}
    if not isinstance(parsed, dict):
        raise TypeError(f"expected an object from {cluster.name}, got {type(parsed).__name__}")
    return parsed
