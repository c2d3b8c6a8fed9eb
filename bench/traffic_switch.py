"""Benchmark 5: how fast the operator moves a Service off a dead shortcut, and back.

On the default lab, an offloaded Service with endpoints on edge-a and edge-b, a
VirtualNodeShortcut selecting it, and the operator as a user runs it (default 5 s health
interval, 3 healthy checks to return). Each cycle edge-a's tunnel to edge-b drops
(``lab.faults.drop_tunnel``: a stopped wireguard process on the real data path, the emulator's
switch on the emulated one), then heals. Four moments are timed by this process's clock,
polling every 50 ms: the Connection turning Error (Liqo's part, the baseline), the annotation
gone (the fallback), the Connection Connected again, the annotation back (the return). The
fallback is reported against the health interval (the bound the design promises is one
interval plus a round of requests), the return against the hysteresis (healthy checks x
interval).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubernetes import client

from bench.operator_scale import prepare_namespace, start_operator
from lab import workloads
from lab.cluster import Lab
from lab.faults import clear_faults, drop_tunnel
from lab.kubeclient import api_client
from liqoshortcut.core.model import API_GROUP, API_VERSION, KIND, PLURAL

CYCLES = 5
NAMESPACE = "bench-traffic"
APPS = "bench-shop"
HEALTH_INTERVAL = 5.0  # the operator's default
HEALTHY_CHECKS = 3  # the operator's default
POLL = 0.05
ANNOTATION = "liqo.io/use-direct-connections"
VERSION = API_VERSION.split("/")[1]


@dataclass(frozen=True)
class SwitchResult:
    liqo_error: tuple[float, ...]  # fault -> Connection Error
    fallback: tuple[float, ...]  # Connection Error -> annotation removed
    liqo_healed: tuple[float, ...]  # fault cleared -> Connection Connected
    back: tuple[float, ...]  # Connection Connected -> annotation back


def _until(what: str, holds: Callable[[], bool], timeout: float = 120.0) -> float:
    deadline = time.monotonic() + timeout
    while not holds():
        if time.monotonic() > deadline:
            raise RuntimeError(f"bench: {what} not reached in {timeout:.0f}s")
        time.sleep(POLL)
    return time.monotonic()


def measure(cycles: int = CYCLES) -> SwitchResult:
    Lab().up()
    central = api_client("central")
    edge_a = api_client("edge-a")
    prepare_namespace(central, ["edge-a", "edge-b"], NAMESPACE)
    workloads.offload(central, APPS, "cart", {"edge-a": 1, "edge-b": 1})
    operator = start_operator(NAMESPACE)
    core = client.CoreV1Api(central)

    def routed() -> bool:
        service = core.read_namespaced_service("cart", APPS)
        return (service.metadata.annotations or {}).get(ANNOTATION) == "true"  # type: ignore[union-attr]

    def connection(state: str) -> Callable[[], bool]:
        def holds() -> bool:
            listed: Any = client.CustomObjectsApi(edge_a).list_cluster_custom_object(
                "networking.liqo.io",
                "v1beta1",
                "connections",
                label_selector="liqo.io/remote-cluster-id=edge-b",
            )
            return any((c.get("status") or {}).get("value") == state for c in listed["items"])

        return holds

    timings: list[tuple[float, float, float, float]] = []
    try:
        client.CustomObjectsApi(central).create_namespaced_custom_object(
            API_GROUP, VERSION, NAMESPACE, PLURAL, _resource()
        )
        _until("the Service routed", routed, timeout=300)
        for _ in range(cycles):
            dropped = time.monotonic()
            drop_tunnel("edge-a", "edge-b")
            error = _until("edge-a's Connection in Error", connection("Error"))
            hub = _until("the Service on the hub", lambda: not routed())
            healed = time.monotonic()
            clear_faults()
            connected = _until("edge-a's Connection Connected", connection("Connected"))
            direct = _until("the Service routed again", routed)
            timings.append((error - dropped, hub - error, connected - healed, direct - connected))
    finally:
        clear_faults()
        client.CustomObjectsApi(central).delete_namespaced_custom_object(
            API_GROUP, VERSION, NAMESPACE, PLURAL, "edge-a--edge-b"
        )
        _until("the shortcut gone", lambda: not _exists(central), timeout=300)
        operator.terminate()
        operator.wait(60)
        workloads.remove(central, APPS, "cart")
        for namespace in (NAMESPACE, APPS):
            core.delete_namespace(namespace)
    columns = list(zip(*timings, strict=True))
    return SwitchResult(*(tuple(column) for column in columns))


def _exists(central: client.ApiClient) -> bool:
    listed: Any = client.CustomObjectsApi(central).list_namespaced_custom_object(
        API_GROUP, VERSION, NAMESPACE, PLURAL
    )
    return bool(listed["items"])


def _resource() -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": "edge-a--edge-b"},
        "spec": {
            "edges": [
                {"name": edge, "secretRef": f"{edge}-kubeconfig"} for edge in ("edge-a", "edge-b")
            ],
            "traffic": {"services": "All"},
        },
    }


def markdown(result: SwitchResult) -> str:
    def row(label: str, values: tuple[float, ...], against: str, bound: float | None) -> str:
        median = statistics.median(values)
        ratio = f"{median / bound:.2f}" if bound else "-"
        spread = f"{min(values):.2f}-{max(values):.2f} s"
        return f"| {label} | {median:.2f} s | {spread} | {against} | {ratio} |"

    hysteresis = HEALTHY_CHECKS * HEALTH_INTERVAL
    return "\n".join(
        [
            f"## Traffic path switches (benchmark 5: {len(result.fallback)} drop-and-heal cycles, "
            f"health interval {HEALTH_INTERVAL:g} s, {HEALTHY_CHECKS} healthy checks to return)",
            "",
            "| moment | median | min-max | against | ratio |",
            "| --- | --- | --- | --- | --- |",
            row("fault -> Connection Error (Liqo, baseline)", result.liqo_error, "-", None),
            row(
                "Connection Error -> Service on the hub (fallback)",
                result.fallback,
                f"health interval {HEALTH_INTERVAL:g} s",
                HEALTH_INTERVAL,
            ),
            row("heal -> Connection Connected (Liqo, baseline)", result.liqo_healed, "-", None),
            row(
                "Connection Connected -> Service direct again (return)",
                result.back,
                f"hysteresis {hysteresis:g} s",
                hysteresis,
            ),
            "",
            "The fallback target is within 15 s of the Connection turning unhealthy.",
            "",
        ]
    )
