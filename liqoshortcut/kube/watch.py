"""Following the objects of one query by watch: one request for a whole wait.

A wait that polls every 100 ms sends ten GETs a second; a watch sends one request and hears of
each change as it happens, which is both quicker and lighter for the API server. But Liqo's
peering user may not watch, so `Follow` raises `WatchDenied` on a 403 and the caller polls.

The watch carries no resourceVersion: the API server first sends the objects as they are (as
ADDED events), then every change. A reader thread turns the stream into snapshots of the
matching objects; the waiting thread takes them with a timeout, so it stays free to notice a
cancelled run or its deadline, and closing the follow shuts the stream down at once.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from collections.abc import Iterator, Mapping
from typing import Any, Final

import urllib3.exceptions

from liqoshortcut.core.forge import Manifest
from liqoshortcut.kube import rest
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.errors import Action, api_call
from liqoshortcut.kube.resources import Resource

ENDED: Final = None  # what the reader queues when the stream is over


class WatchDenied(Exception):
    """The credentials may not watch this resource: poll it instead."""


class Follow:
    """The objects of ``resource`` in ``namespace`` named ``name`` or matching ``labels``.

    Use as a context manager; `changed` returns the matching objects after each change.
    """

    def __init__(
        self,
        cluster: Cluster,
        resource: Resource,
        namespace: str | None,
        *,
        name: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        self.cluster, self.resource, self.namespace = cluster, resource, namespace
        query = [("watch", "true")]
        if name:
            query.append(("fieldSelector", f"metadata.name={name}"))
        if labels:
            query.append(("labelSelector", rest.label_selector(labels)))
        self._query = query
        self._snapshots: queue.Queue[list[Manifest] | None] = queue.Queue()
        self._response: urllib3.BaseHTTPResponse | None = None
        self._reader: threading.Thread | None = None
        self.ended = False

    def __enter__(self) -> Follow:
        where = rest.path(self.resource, self.namespace)
        with api_call(self.cluster, Action("watch", self.resource, self.namespace)):
            answer = rest.send(self.cluster, "GET", where, query=self._query)
            if answer.status == 403:
                answer.response.release_conn()
                raise WatchDenied(f"may not watch {self.resource.qualified}")
            rest.raise_for_status(answer)
        self._response = answer.response
        self._reader = threading.Thread(target=self._read, daemon=True, name="watch")
        self._reader.start()
        return self

    def changed(self, timeout: float) -> list[Manifest] | None:
        """The matching objects after the next change (the first call: as they are now); None
        if nothing changed within ``timeout`` seconds or the stream is over (see `ended`)."""
        if self.ended:
            return None
        try:
            snapshot = self._snapshots.get(timeout=timeout)
        except queue.Empty:
            return None
        if snapshot is ENDED:
            self.ended = True
        return snapshot

    def __exit__(self, *exc: object) -> None:
        if self._response is not None:
            # Unblocks the reader's read at once. A stream that already ended (the server closed
            # or dropped it, or the read timed out) has nothing left to unblock, and urllib3 says
            # so in one of three ways: EBADF from a closed socket, RuntimeError once the
            # connection went back to the pool, ValueError once the response was closed.
            with contextlib.suppress(OSError, RuntimeError, ValueError):
                self._response.shutdown()
        if self._reader is not None:
            self._reader.join()
        if self._response is not None:
            self._response.close()
            self._response.release_conn()

    def _read(self) -> None:
        objects: dict[str, Manifest] = {}
        try:
            for event in _events(self._stream()):
                kind, obj = event.get("type"), event.get("object") or {}
                if kind == "ERROR":  # e.g. the watch expired: the caller opens a new one
                    break
                name = (obj.get("metadata") or {}).get("name", "")
                if kind == "DELETED":
                    objects.pop(name, None)
                elif kind in ("ADDED", "MODIFIED"):
                    objects[name] = obj
                else:
                    continue  # BOOKMARK
                self._snapshots.put(list(objects.values()))
        except (urllib3.exceptions.HTTPError, OSError, ValueError):
            pass  # the stream broke or was shut down: over, like any other end
        finally:
            self._snapshots.put(ENDED)

    def _stream(self) -> Iterator[bytes]:
        if self._response is None:
            return
        while chunk := self._response.read1(64 * 1024):
            yield chunk


def _events(chunks: Iterator[bytes]) -> Iterator[dict[str, Any]]:
    """The watch events in a stream of chunks: one JSON object per line."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line.strip():
                event = json.loads(line)
                if isinstance(event, dict):
                    yield event
