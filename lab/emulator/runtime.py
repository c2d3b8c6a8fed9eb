"""Threads: one reconcile loop per cluster, woken by watches, the faults file and a resync tick."""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import traceback
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import urllib3
import yaml

from lab.datapath.gateways import GatewayRunner
from lab.datapath.sandbox import ClusterAccess
from lab.emulator import kube as k
from lab.emulator.faults import FaultFile
from lab.emulator.kube import Kube, KubeError
from lab.emulator.liqo import ClusterEmulator, Registry, Settings

log = logging.getLogger("lab.emulator")

# What the emulated controllers react to; any change to one of these wakes the cluster's loop.
WATCHED: tuple[tuple[k.Resource, str | None], ...] = (
    (k.CONFIGURATIONS, None),
    (k.NETWORKS, None),
    (k.GATEWAYSERVERS, None),
    (k.GATEWAYCLIENTS, None),
    (k.WGSERVERS, None),
    (k.WGCLIENTS, None),
    (k.PUBLICKEYS, None),
    (k.CONNECTIONS, None),
    (k.DEPLOYMENTS, None),
    (k.PODS, "networking.liqo.io/component=gateway"),
    (k.SERVICES, "networking.liqo.io/component=gateway"),
    (k.SECRETS, "networking.liqo.io/gateway-resource=true"),
)


def kubeconfig_contexts(kubeconfig: Path) -> list[str]:
    data: Any = yaml.safe_load(kubeconfig.read_text()) or {}
    return [str(c["name"]) for c in data.get("contexts") or []]


def cluster_accesses(kubeconfig: Path) -> dict[str, ClusterAccess]:
    """Each context's API server port and CA, for processes that reach it through a relay."""
    data: Any = yaml.safe_load(kubeconfig.read_text()) or {}
    clusters = {c["name"]: c["cluster"] for c in data.get("clusters") or []}
    accesses = {}
    for context in data.get("contexts") or []:
        cluster = clusters[context["context"]["cluster"]]
        port = urlsplit(cluster["server"]).port or 443
        accesses[context["name"]] = ClusterAccess(
            context["name"], port, cluster.get("certificate-authority-data", "")
        )
    return accesses


class _ClusterLoop:
    def __init__(self, emulator: ClusterEmulator, faults: FaultFile, resync: float) -> None:
        self.emu = emulator
        self.faults = faults
        self.resync = resync
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.streams: list[Any] = []
        self.lock = threading.Lock()
        self.passes = 0
        self.failure = ""

    def start(self) -> None:
        name = self.emu.name
        self.threads.append(
            threading.Thread(target=self._run, name=f"emulator-{name}", daemon=True)
        )
        for res, selector in WATCHED:
            self.threads.append(
                threading.Thread(
                    target=self._watch,
                    args=(res, selector),
                    name=f"watch-{name}-{res.plural}",
                    daemon=True,
                )
            )
        for t in self.threads:
            t.start()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        with self.lock:
            for stream in self.streams:
                with contextlib.suppress(Exception):
                    stream.shutdown()

    def join(self, timeout: float) -> None:
        for t in self.threads:
            t.join(timeout)

    def _run(self) -> None:
        while not self.stopping.is_set():
            self.wake.wait(self.resync)
            self.wake.clear()
            if self.stopping.is_set():
                break
            faults, _ = self.faults.current()
            try:
                self.emu.reconcile(faults.for_cluster(self.emu.name))
                self.failure = ""
            except (KubeError, OSError, urllib3.exceptions.HTTPError) as err:
                if type(err).__name__ != self.failure:  # once per outage, not once per pass
                    log.warning("[%s] pass failed: %s", self.emu.name, str(err)[:300])
                    self.failure = type(err).__name__
                self.emu.cluster_id = None  # the lab may come back as new clusters
            except Exception:
                log.exception("[%s] pass crashed", self.emu.name)
            self.passes += 1

    def _watch(self, res: k.Resource, selector: str | None) -> None:
        query = {"watch": "true", "timeoutSeconds": "60", "allowWatchBookmarks": "false"}
        if selector:
            query["labelSelector"] = selector
        while not self.stopping.is_set():
            try:
                resp = self.emu.kube.raw("GET", res.path(), query, timeout=(5.0, 90.0), stream=True)
                with self.lock:
                    self.streams.append(resp)
                try:
                    for _chunk in resp.stream(4096, decode_content=False):
                        self.wake.set()
                        if self.stopping.is_set():
                            break
                finally:
                    with self.lock:
                        self.streams.remove(resp)
                    resp.release_conn()
            except Exception:
                if self.stopping.wait(2.0):
                    break


# A cluster's loop passes every second or so: a minute without one is a stall worth its stacks.
STALL_SECONDS = 60.0
STALL_CHECK_SECONDS = 10.0


class Emulator:
    """The Liqo emulator for every chosen context of a kubeconfig; ``start()``/``stop()``.

    ``resync`` bounds how long a pass waits without a watch event (latency refreshes and ping
    loss need a clock); ``latency_interval`` and ``loss_timeout`` are Liqo's ping settings.
    """

    def __init__(
        self,
        kubeconfig: Path | str,
        contexts: list[str] | None = None,
        faults: Path | str | None = None,
        liqo_namespace: str = "liqo",
        resync: float = 1.0,
        latency_interval: float = 10.0,
        loss_timeout: float = 10.0,
        pods_only: bool = False,
        gateway_binaries: dict[str, Path] | None = None,
    ) -> None:
        self.kubeconfig = Path(kubeconfig)
        all_contexts = kubeconfig_contexts(self.kubeconfig)
        # Real gateways (LAB_DATAPATH=real): their namespaces and files live beside the kubeconfig.
        self.gateways = (
            GatewayRunner(self.kubeconfig.parent, gateway_binaries) if gateway_binaries else None
        )
        accesses = cluster_accesses(self.kubeconfig)
        self.contexts = list(contexts) if contexts else all_contexts
        self.fault_file = FaultFile(Path(faults) if faults else None)
        self.registry = Registry()
        self.registry.on_change = self._wake_all
        self.loops: list[_ClusterLoop] = []
        self._stopping = threading.Event()
        for name in self.contexts:
            octet = 10 + (sorted(all_contexts).index(name) if name in all_contexts else 0)
            settings = Settings(
                liqo_namespace=liqo_namespace,
                node_octet=octet,
                latency_interval=latency_interval,
                loss_timeout=loss_timeout,
                pods_only=pods_only,
                gateways=self.gateways,
                access=accesses.get(name),
            )
            emu = ClusterEmulator(Kube(str(self.kubeconfig), name), self.registry, settings)
            self.loops.append(_ClusterLoop(emu, self.fault_file, resync))

    def _wake_all(self) -> None:
        for loop in self.loops:
            loop.wake.set()

    def _watch_for_stalls(self) -> None:
        """Log every thread's stack once when a cluster's loop makes no pass for STALL_SECONDS:
        a pass blocked somewhere leaves its pods unattended, and only the stacks say where."""
        seen = {loop.emu.name: (loop.passes, 0.0) for loop in self.loops}
        reported: set[str] = set()
        elapsed = 0.0
        while not self._stopping.wait(STALL_CHECK_SECONDS):
            elapsed += STALL_CHECK_SECONDS
            for loop in self.loops:
                passes, since = seen[loop.emu.name]
                if loop.passes != passes:
                    seen[loop.emu.name] = (loop.passes, elapsed)
                    reported.discard(loop.emu.name)
                elif elapsed - since >= STALL_SECONDS and loop.emu.name not in reported:
                    reported.add(loop.emu.name)
                    names = {t.ident: t.name for t in threading.enumerate()}
                    stacks = "\n".join(
                        f"--- {names.get(ident, ident)}\n{''.join(traceback.format_stack(frame))}"
                        for ident, frame in sys._current_frames().items()
                    )
                    log.warning(
                        "[%s] no pass for %.0fs; every thread's stack:\n%s",
                        loop.emu.name, elapsed - since, stacks,
                    )  # fmt: skip

    def start(self) -> Emulator:
        for loop in self.loops:
            loop.start()
        threading.Thread(target=self._watch_for_stalls, daemon=True, name="stalls").start()
        self._wake_all()
        log.info("emulating Liqo %s on %s", "v1.2.0", ", ".join(self.contexts))
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        for loop in self.loops:
            loop.stop()
        for loop in self.loops:
            loop.join(timeout)
        if self.gateways is not None:
            self.gateways.close()

    def passes(self) -> int:
        """How many reconcile passes have completed (all clusters); lets tests wait for a pass."""
        return sum(loop.passes for loop in self.loops)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
