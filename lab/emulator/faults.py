"""Fault switches: a small JSON file, re-read whenever it changes (missing file = no faults).

Schema (every key optional)::

    {
      "edge-a": {"configuration": "hang", "connected": "fail", "latency": "35ms"},
      "*":      {"gateway-pod": "hang"}
    }

Top-level keys are kubeconfig context names, or ``"*"`` for every cluster (a cluster's own entry
wins over ``"*"`` step by step). Inside, each step name maps to ``"hang"`` (the step is never
performed) or ``"fail"`` (the step reports an error the way Liqo reports it, see ``STEPS``), and
``"latency"`` pins the latency the gateway reports on that cluster's Connections.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

log = logging.getLogger("lab.emulator")

Mode = Literal["hang", "fail"]

# step -> what "fail" does (the docstring of lab.emulator and lab/FIDELITY.md say the same).
STEPS: dict[str, str] = {
    "configuration": "condition NetworkCIDRsConfigured=False, reason WaitingForNetworks",
    "gateway-server": "Warning Event on the GatewayServer; no WgGatewayServer",
    "gateway-client": "Warning Event on the GatewayClient; no WgGatewayClient",
    "gateway-pod": "gateway pod crash-loops (Running, not Ready: CrashLoopBackOff)",
    "server-endpoint": "Warning Event SyncLoadBalancerFailed on the Service; no ingress",
    "keys": "Warning Event KeysSecretEnforcedFailed on the WgGateway*; no keys Secret",
    "connection": "Warning Event on the PublicKey; no Connection",
    "connected": "Connection status Error, latency N/A, no more refreshes",
}


@dataclass(frozen=True)
class ClusterFaults:
    steps: dict[str, Mode] = field(default_factory=dict)
    latency: str | None = None

    def mode(self, step: str) -> Mode | None:
        return self.steps.get(step)


@dataclass(frozen=True)
class Faults:
    clusters: dict[str, ClusterFaults] = field(default_factory=dict)

    def for_cluster(self, name: str) -> ClusterFaults:
        star = self.clusters.get("*", ClusterFaults())
        own = self.clusters.get(name, ClusterFaults())
        return ClusterFaults(
            steps={**star.steps, **own.steps},
            latency=own.latency if own.latency is not None else star.latency,
        )


def parse_faults(data: object) -> Faults:
    """Validate the JSON document; raises ValueError naming what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("faults: the top level must be an object of cluster -> faults")
    clusters: dict[str, ClusterFaults] = {}
    for cluster, entry in data.items():
        if not isinstance(entry, dict):
            raise ValueError(f"faults[{cluster!r}] must be an object")
        steps: dict[str, Mode] = {}
        latency: str | None = None
        for key, value in entry.items():
            if key == "latency":
                if not isinstance(value, str) or not value:
                    raise ValueError(f"faults[{cluster!r}].latency must be a string like '35ms'")
                latency = value
            elif key in STEPS:
                if value not in ("hang", "fail"):
                    raise ValueError(f"faults[{cluster!r}][{key!r}] must be 'hang' or 'fail'")
                steps[key] = value
            else:
                known = ", ".join(sorted([*STEPS, "latency"]))
                raise ValueError(f"faults[{cluster!r}]: unknown key {key!r} (known: {known})")
        clusters[str(cluster)] = ClusterFaults(steps=steps, latency=latency)
    return Faults(clusters=clusters)


class FaultFile:
    """Reads the faults file when its modification time changes; keeps the last good content."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[float, int] | None = None
        self._faults = Faults()

    def current(self) -> tuple[Faults, bool]:
        """The faults in force, and whether they changed since the previous call."""
        with self._lock:
            stamp: tuple[float, int] | None = None
            if self.path is not None:
                try:
                    st = self.path.stat()
                    stamp = (st.st_mtime, st.st_size)
                except FileNotFoundError:
                    stamp = None
            if stamp == self._stamp:
                return self._faults, False
            self._stamp = stamp
            if stamp is None or self.path is None:
                self._faults = Faults()
                return self._faults, True
            try:
                self._faults = parse_faults(json.loads(self.path.read_text() or "{}"))
            except (OSError, ValueError) as err:
                log.error("faults file %s ignored: %s", self.path, err)
            return self._faults, True
