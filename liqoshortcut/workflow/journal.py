"""What this run created, in order, so that a failure undoes exactly that and nothing else.

An object is journalled only when this run's create call succeeded; objects found already in place
(made by an earlier run, by liqoctl or by hand) are never journalled and so never rolled back.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class ObjectRef:
    """Enough to find an object again and to name it to a user."""

    cluster: str
    api_version: str
    kind: str
    plural: str
    namespace: str | None
    name: str

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name} on {self.cluster}"


class Journal:
    """Append-only and thread-safe: the two edges' steps may create objects concurrently."""

    def __init__(self) -> None:
        self._created: list[ObjectRef] = []
        self._lock = threading.Lock()

    def record(self, ref: ObjectRef) -> None:
        with self._lock:
            self._created.append(ref)

    def newest_first(self) -> list[ObjectRef]:
        with self._lock:
            return list(reversed(self._created))

    def __len__(self) -> int:
        with self._lock:
            return len(self._created)
