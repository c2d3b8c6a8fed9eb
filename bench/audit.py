"""API requests counted where they land: the lab API servers' audit logs, per client and per run.

Each lab kube-apiserver writes a Metadata-level audit event per request stage to ``audit.log`` in
its cluster's lab directory (see `lab.cluster`). A benchmark marks every log before a run, and
afterwards reads what was appended since the mark, keeping the requests one client sent during the
run: the client is told by its User-Agent (the emulator and the controller managers talk to the
same servers all the time, under their own), the run by the time the request was received (the
other tool's cleanup and late events of earlier runs fall outside it).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

AUDIT_LOG = "audit.log"  # lab.cluster: --audit-log-path=<lab dir>/<cluster>/audit.log


@dataclass(frozen=True)
class Request:
    """One API request as its audit events record it."""

    cluster: str
    audit_id: str
    verb: str
    resource: str  # "configurations", "gatewayservers/status"; a path ("/api") when none
    user_agent: str
    received: datetime

    @property
    def kind(self) -> str:
        """What the breakdown counts by: ``"get configurations"``, ``"get /version"``."""
        return f"{self.verb} {self.resource}"


def parse_event(cluster: str, line: str) -> Request | None:
    """The request one audit log line records; None for a line that is not a whole event.

    A log is read while its API server keeps writing, so a mark can fall inside a line: the cut
    line, and anything else that is not an audit Event, is skipped rather than failing the run.
    """
    try:
        event = json.loads(line)
    except ValueError:
        return None
    if not isinstance(event, dict) or event.get("kind") != "Event":
        return None
    try:
        reference = event.get("objectRef") or {}
        resource = reference.get("resource")
        if resource and reference.get("subresource"):
            resource = f"{resource}/{reference['subresource']}"
        return Request(
            cluster=cluster,
            audit_id=event["auditID"],
            verb=event["verb"],
            resource=resource or event["requestURI"].split("?", 1)[0],
            user_agent=event.get("userAgent", ""),
            received=datetime.fromisoformat(event["requestReceivedTimestamp"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def requests_of(
    requests: Iterable[Request], user_agent_prefix: str, start: datetime, end: datetime
) -> list[Request]:
    """The requests of one client (by User-Agent prefix) received in [start, end], each once.

    A request has an event per stage (long-running ones such as watches log ResponseStarted and
    ResponseComplete), so requests are told apart by audit ID.
    """
    seen: dict[tuple[str, str], Request] = {}
    for request in requests:
        if request.user_agent.startswith(user_agent_prefix) and start <= request.received <= end:
            seen.setdefault((request.cluster, request.audit_id), request)
    return list(seen.values())


def breakdown(requests: Iterable[Request]) -> Counter[str]:
    """How many requests of each verb and resource, e.g. ``{"get configurations": 12}``."""
    return Counter(request.kind for request in requests)


@dataclass(frozen=True)
class Mark:
    """Where a log ended when marked: the file (by inode) and its length then."""

    inode: int
    offset: int


@dataclass(frozen=True)
class AuditLog:
    """One cluster's audit log in the lab directory."""

    cluster: str
    path: Path

    @classmethod
    def in_lab(cls, lab_dir: Path, cluster: str) -> AuditLog:
        return cls(cluster, lab_dir / cluster / AUDIT_LOG)

    def mark(self) -> Mark:
        status = self.path.stat()
        return Mark(status.st_ino, status.st_size)

    def since(self, mark: Mark) -> Iterator[Request]:
        """Every request logged after ``mark``, across one rotation of the log.

        The API server rotates at --audit-log-maxsize by renaming the file (to
        ``audit-<time>.log``) and starting a new one: the marked file is then found by its inode.
        """
        current = self.path.stat()
        if current.st_ino == mark.inode:
            yield from self._read(self.path, mark.offset)
            return
        for rotated in self.path.parent.glob(f"{self.path.stem}-*{self.path.suffix}"):
            if rotated.stat().st_ino == mark.inode:
                yield from self._read(rotated, mark.offset)
        yield from self._read(self.path, 0)

    def _read(self, path: Path, offset: int) -> Iterator[Request]:
        with path.open("rb") as log:
            log.seek(min(offset, os.fstat(log.fileno()).st_size))
            for line in log:
                request = parse_event(self.cluster, line.decode(errors="replace"))
                if request is not None:
                    yield request
