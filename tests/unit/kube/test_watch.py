"""A watch stream's chunks become events whatever the chunk boundaries, and an ended stream is
left quietly (the lab tests the rest)."""

from __future__ import annotations

import errno
import json

from kubernetes.client import ApiClient
from pytest_mock import MockerFixture

from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.resources import GATEWAY_SERVER
from liqoshortcut.kube.watch import Follow, _events


def test_events_are_whole_lines_however_the_stream_is_cut() -> None:
    events = [
        {"type": "ADDED", "object": {"metadata": {"name": "a"}}},
        {"type": "MODIFIED", "object": {"metadata": {"name": "a"}, "status": {"value": "ok"}}},
        {"type": "DELETED", "object": {"metadata": {"name": "a"}}},
    ]
    stream = b"".join(json.dumps(event).encode() + b"\n" for event in events)
    for size in (1, 7, 64, len(stream)):
        chunks = [stream[i : i + size] for i in range(0, len(stream), size)]
        assert list(_events(iter(chunks))) == events


def test_a_line_cut_off_by_the_end_of_the_stream_is_not_an_event() -> None:
    whole = json.dumps({"type": "ADDED", "object": {}}).encode() + b"\n"
    assert list(_events(iter([whole, b'{"type": "MODI']))) == [{"type": "ADDED", "object": {}}]


class EndedStream:
    """An answer whose stream the server has ended and urllib3 closed, socket and all."""

    status = 200

    def __init__(self) -> None:
        self.response = self
        self.closed = False

    def read1(self, size: int) -> bytes:
        del size
        return b""

    def shutdown(self) -> None:
        raise OSError(errno.EBADF, "Bad file descriptor")

    def close(self) -> None:
        self.closed = True

    def release_conn(self) -> None:
        pass


def test_leaving_a_watch_whose_stream_already_ended_is_quiet(mocker: MockerFixture) -> None:
    ended = EndedStream()
    mocker.patch("liqoshortcut.kube.watch.rest.send", return_value=ended)
    edge = Cluster(name="edge-a", server="https://127.0.0.1:6443", api=ApiClient())
    with Follow(edge, GATEWAY_SERVER, "liqo-tenant-edge-b", name="edge-b") as follow:
        assert follow.changed(timeout=5) is None
        assert follow.ended
    assert ended.closed
