"""Every object on a cluster, normalised so that two runs of the same peering compare equal.

What differs between two runs by nature, not by behaviour, is replaced by a placeholder: uids
(also where other objects quote them), resourceVersions, timestamps, managedFields, the random
parts of generated names and pod-template hashes, addresses the API server or the kubelet hands
out (cluster IPs, pod IPs), WireGuard keys and measured latencies. Liqo's remapped CIDRs are
kept: both sides must compute the same ones.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

Obj = dict[str, Any]
# (kind, namespace, name), with the name normalised; callers may put more in front.
Key = tuple[str, ...]

# Written by the API server and the kubelet on every object, or refreshed on a timer: noise.
DROPPED_METADATA = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "selfLink")
# Lists of things nobody's behaviour decides: heartbeats and API-server bookkeeping.
SKIPPED_KINDS = ("events", "events.events.k8s.io", "leases.coordination.k8s.io")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
# The projected token volume the ServiceAccount admission adds to each pod, with a random suffix.
SERVICE_ACCOUNT_VOLUME = re.compile(r"kube-api-access-[a-z0-9]{5}")
UID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def snapshot(kubectl: Path, kubeconfig: Path, context: str) -> dict[Key, Obj]:
    """Every listable object of ``context``, normalised, by kind, namespace and name."""
    base = (str(kubectl), f"--kubeconfig={kubeconfig}", f"--context={context}")
    listed = _run([*base, "get", _listable_kinds(base), "--all-namespaces", "--output=json"])
    return normalise(json.loads(listed)["items"])


@functools.cache
def _listable_kinds(kubectl: tuple[str, ...]) -> str:
    """The kinds to list, asked once: the lab installs no CRD while tests run."""
    kinds = _run([*kubectl, "api-resources", "--verbs=list", "--output=name"]).split()
    return ",".join(k for k in kinds if k not in SKIPPED_KINDS)


def _run(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(command[:4])} ... failed:\n{done.stderr}")
    return done.stdout


def normalise(items: Iterable[Obj]) -> dict[Key, Obj]:
    objects = [copy.deepcopy(o) for o in items]
    # Values other objects quote (an owner's uid, a generated pod name in an Endpoints, a
    # pod-template hash in a name) are replaced wherever they appear, generated names first (they
    # hold the hash); addresses where they are whole, a cluster IP by its Service's name (it is
    # also the name of an IPAddress, which must stay unique).
    generated: dict[str, str] = {}
    placeholders: dict[str, str] = {}
    addresses: dict[str, str] = {}
    for obj in objects:
        meta = obj["metadata"]
        if meta.get("generateName"):
            generated[meta["name"]] = meta["generateName"] + "<random>"
        placeholders[meta.get("uid", "")] = "<uid>"
        template_hash = (meta.get("labels") or {}).get("pod-template-hash")
        if template_hash:
            placeholders[template_hash] = "<hash>"
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        where = f"{meta.get('namespace', '')}/{meta['name']}"
        addresses.update(dict.fromkeys(spec.get("clusterIPs") or [], f"<cluster IP of {where}>"))
        addresses.update(dict.fromkeys((p["ip"] for p in status.get("podIPs") or []), "<pod IP>"))
    placeholders.pop("", None)
    found: dict[Key, Obj] = {}
    for obj in objects:
        meta = obj["metadata"]
        for field in DROPPED_METADATA:
            meta.pop(field, None)
        _blank_random_values(obj)
        clean = _replace(obj, [generated, placeholders], addresses)
        meta = clean["metadata"]
        found[(clean["kind"], meta.get("namespace", ""), meta["name"])] = clean
    return found


def _blank_random_values(obj: Obj) -> None:
    """Keys and ports are drawn at random on each run; that they exist is what counts."""
    if obj["kind"] == "Secret":
        obj["data"] = dict.fromkeys(obj.get("data") or {}, "<bytes>")
    if obj["kind"] == "PublicKey":
        obj["spec"]["publicKey"] = "<key>"
    if obj["kind"] == "Connection":
        latency = (obj.get("status") or {}).get("latency") or {}
        if latency.get("value") not in (None, "N/A"):
            latency["value"] = "<latency>"
    if obj["kind"] == "Service":
        for port in obj["spec"].get("ports") or []:
            if "nodePort" in port:
                port["nodePort"] = "<port>"


def _replace(value: Any, replacements: list[dict[str, str]], addresses: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _replace(v, replacements, addresses) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, replacements, addresses) for v in value]
    if isinstance(value, str):
        if TIMESTAMP.match(value):
            return "<time>"
        if value in addresses:
            return addresses[value]
        for replacement in replacements:
            for found, placeholder in replacement.items():
                value = value.replace(found, placeholder)
        value = SERVICE_ACCOUNT_VOLUME.sub("kube-api-access-<random>", value)
        return UID.sub("<uid>", value)
    return value


def changes(before: dict[Key, Obj], after: dict[Key, Obj]) -> dict[Key, Obj | None]:
    """What ``after`` holds that ``before`` did not, or held otherwise; None where it is gone."""
    changed: dict[Key, Obj | None] = {k: o for k, o in after.items() if before.get(k) != o}
    changed.update(dict.fromkeys(before.keys() - after.keys()))
    return changed


def readable_diff(expected: dict[Key, Any], got: dict[Key, Any], names: tuple[str, str]) -> str:
    """A unified diff of two sets of objects, object by object, in YAML."""
    lines: list[str] = []
    for key in sorted(expected.keys() | got.keys()):
        left, right = expected.get(key, "<absent>"), got.get(key, "<absent>")
        if left != right:
            lines += difflib.unified_diff(
                yaml.safe_dump(left, sort_keys=True).splitlines(),
                yaml.safe_dump(right, sort_keys=True).splitlines(),
                f"{names[0]}: {'/'.join(key)}",
                f"{names[1]}: {'/'.join(key)}",
                lineterm="",
            )
    return "\n".join(lines)
