"""Fault switches: a small JSON file, re-read whenever it changes (missing file = no faults).

Schema (every key optional)::

    {
      "edge-a": {
        "configuration": "hang", "connected": "fail", "latency": "35ms",
        "peers": {"edge-b": {"connected": "fail", "latency": "5ms"}}
      },
      "*":      {"gateway-pod": "hang", "peers": {"edge-c": {"connected": "hang"}}}
    }

Top-level keys are kubeconfig context names, or ``"*"`` for every cluster. Inside, each step name
maps to ``"hang"`` (the step is never performed) or ``"fail"`` (the step reports an error the way
Liqo reports it, see ``STEPS``), and ``"latency"`` pins the latency the gateway reports on that
cluster's Connected Connections. ``"peers"`` narrows faults to the cluster's gateways toward one
remote cluster ID: only ``PEER_STEPS`` and ``"latency"`` can be given there, as those are the
steps a gateway runs for one peer.

Precedence, step by step (and for the latency): the cluster's peer entry, then ``"*"``'s peer
entry, then the cluster's own entry, then ``"*"``: the more specific target wins.

A pinned latency shows on a Connection that stays Connected at its next status refresh, which
comes, as in Liqo, once the last write is older than the update interval (10 s by default); a
change of value (Connected <-> Error) is written at once.
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
# The steps a gateway pod runs for one remote cluster, so the ones a "peers" entry can target.
PEER_STEPS = ("connection", "connected")


@dataclass(frozen=True)
class PeerFaults:
    """Faults of one cluster's gateways toward one remote cluster."""

    steps: dict[str, Mode] = field(default_factory=dict)
    latency: str | None = None


@dataclass(frozen=True)
class ClusterFaults:
    steps: dict[str, Mode] = field(default_factory=dict)
    latency: str | None = None
    peers: dict[str, PeerFaults] = field(default_factory=dict)

    def mode(self, step: str, peer: str | None = None) -> Mode | None:
        """The step's fault; toward ``peer``, that peer's entry wins over the cluster's."""
        toward = self.peers.get(peer) if peer is not None else None
        if toward is not None and step in toward.steps:
            return toward.steps[step]
        return self.steps.get(step)

    def latency_toward(self, peer: str) -> str | None:
        """The latency pinned on the Connections toward ``peer``, if any."""
        toward = self.peers.get(peer)
        if toward is not None and toward.latency is not None:
            return toward.latency
        return self.latency


def _merge(wide: PeerFaults, narrow: PeerFaults) -> PeerFaults:
    latency = narrow.latency if narrow.latency is not None else wide.latency
    return PeerFaults(steps={**wide.steps, **narrow.steps}, latency=latency)


@dataclass(frozen=True)
class Faults:
    clusters: dict[str, ClusterFaults] = field(default_factory=dict)

    def for_cluster(self, name: str) -> ClusterFaults:
        star = self.clusters.get("*", ClusterFaults())
        own = self.clusters.get(name, ClusterFaults())
        peers = {
            peer: _merge(star.peers.get(peer, PeerFaults()), own.peers.get(peer, PeerFaults()))
            for peer in sorted(star.peers.keys() | own.peers.keys())
        }
        return ClusterFaults(
            steps={**star.steps, **own.steps},
            latency=own.latency if own.latency is not None else star.latency,
            peers=peers,
        )


def _parse_entry(where: str, entry: object, steps_allowed: tuple[str, ...]) -> PeerFaults:
    """The steps and latency of one entry (``where`` names it in errors); "peers" is skipped."""
    if not isinstance(entry, dict):
        raise ValueError(f"{where} must be an object")
    steps: dict[str, Mode] = {}
    latency: str | None = None
    for key, value in entry.items():
        if key == "latency":
            if not isinstance(value, str) or not value:
                raise ValueError(f"{where}.latency must be a string like '35ms'")
            latency = value
        elif key in steps_allowed:
            if value not in ("hang", "fail"):
                raise ValueError(f"{where}[{key!r}] must be 'hang' or 'fail'")
            steps[key] = value
        elif key != "peers" or steps_allowed == PEER_STEPS:
            known = ", ".join(sorted([*steps_allowed, "latency"]))
            what = "a step no gateway runs per peer" if key in STEPS else "unknown key"
            raise ValueError(f"{where}: {what} {key!r} (known: {known})")
    return PeerFaults(steps=steps, latency=latency)


def parse_faults(data: object) -> Faults:
    """Validate the JSON document; raises ValueError naming what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("faults: the top level must be an object of cluster -> faults")
    clusters: dict[str, ClusterFaults] = {}
    for cluster, entry in data.items():
        where = f"faults[{cluster!r}]"
        own = _parse_entry(where, entry, tuple(STEPS))
        raw_peers = entry.get("peers", {})
        if not isinstance(raw_peers, dict):
            raise ValueError(f"{where}.peers must be an object of remote cluster ID -> faults")
        peers = {
            str(peer): _parse_entry(f"{where}.peers[{peer!r}]", faults, PEER_STEPS)
            for peer, faults in raw_peers.items()
        }
        clusters[str(cluster)] = ClusterFaults(steps=own.steps, latency=own.latency, peers=peers)
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
