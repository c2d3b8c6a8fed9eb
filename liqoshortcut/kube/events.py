"""Events on central's objects from outside kopf's handlers (the traffic router's thread), in the
shape kopf posts them, so `kubectl describe` shows both sources alike."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from liqoshortcut.kube import objects, rest
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.errors import Action, api_call
from liqoshortcut.kube.resources import Resource

EVENT: Final = Resource("", "v1", "events", "Event")
COMPONENT: Final = "liqo-shortcut"


def post(
    central: Cluster, about: Mapping[str, Any], *, reason: str, message: str, warning: bool
) -> None:
    """One Event about the object ``about`` (a manifest with apiVersion, kind and metadata)."""
    metadata = about["metadata"]
    namespace = metadata["namespace"]
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {
        "metadata": {"name": f"{metadata['name']}.{uuid.uuid4().hex[:16]}", "namespace": namespace},
        "involvedObject": {
            "apiVersion": about["apiVersion"],
            "kind": about["kind"],
            "name": metadata["name"],
            "namespace": namespace,
            "uid": metadata.get("uid"),
        },
        "reason": reason,
        "message": message[:1024],
        "type": "Warning" if warning else "Normal",
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "count": 1,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
    }
    with api_call(central, Action("create", EVENT, namespace)):
        rest.request(central, "POST", rest.path(EVENT, namespace), body=body)


def about(central: Cluster, resource: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The Events about ``resource`` (by its uid), as plain manifests."""
    metadata = resource["metadata"]
    namespace = metadata["namespace"]
    with api_call(central, Action("list", EVENT, namespace)):
        return objects.list_objects(
            central, EVENT, namespace, fields=f"involvedObject.uid={metadata.get('uid')}"
        )
