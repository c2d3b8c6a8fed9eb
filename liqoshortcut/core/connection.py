"""A Liqo Connection as the health checks read it: the tunnel's state and latency, in Liqo's
words (``status.value``; ``status.latency.value`` such as ``412μs`` and its timestamp).

Shared by the reconcile pass (`core.observed`) and the traffic router's health (`core.pathhealth`),
which reads the latencies as seconds with `core.durations`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConnectionSeen:
    """An edge's Liqo Connection to the other edge, as read; None fields were absent."""

    state: str | None
    latency: str | None = None
    latency_time: str | None = None
