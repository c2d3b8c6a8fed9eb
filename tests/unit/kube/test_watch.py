"""A watch stream's chunks become events whatever the chunk boundaries, and an ended stream is
left quietly, however it ended (the lab tests the rest)."""

from __future__ import annotations

import errno
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from kubernetes.client import ApiClient, Configuration
from pytest_mock import MockerFixture

from liqoshortcut.kube.clients import ClientTls, Cluster, _cluster
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


# A watch answer as an API server starts it: headers, then one event as a chunk.
WATCH_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
)
FIRST_EVENT = b'{"type": "ADDED", "object": {"metadata": {"name": "edge-b"}}}\n'
READ_TIMEOUT = 0.5  # seconds: the real client's 30 s, shortened


@pytest.fixture(params=["closed", "dropped", "timed-out"])
def watch_server(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """A loopback HTTP server whose watch stream ends one way after its first event: closed by
    the server (the API server's own watch timeout), dropped (an API server that died) or left
    silent past the client's read timeout (no event for 30 s). The client is the real one, with
    urllib3 underneath: its state after each end is what `Follow.__exit__` must cope with, and
    the lab cannot end a stream these ways in well under a second."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(WATCH_HEAD + b"%x\r\n%s\r\n" % (len(FIRST_EVENT), FIRST_EVENT))
            if request.param == "closed":
                connection.sendall(b"0\r\n\r\n")
            if request.param != "dropped":
                time.sleep(3 * READ_TIMEOUT)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    address = f"http://127.0.0.1:{listener.getsockname()[1]}"
    yield _cluster(
        Configuration(host=address), "edge-a", address, (1.0, READ_TIMEOUT), ClientTls(), "test"
    )
    server.join()
    listener.close()


def test_leaving_a_watch_however_its_stream_ended_is_quiet(watch_server: Cluster) -> None:
    with Follow(watch_server, GATEWAY_SERVER, "liqo-tenant-edge-b", name="edge-b") as follow:
        assert follow.changed(timeout=5) == [{"metadata": {"name": "edge-b"}}]
        assert follow.changed(timeout=5) is None
        assert follow.ended
    # Leaving raised nothing: urllib3 refuses to shut a released connection (RuntimeError).


def test_leaving_a_watch_that_is_still_streaming_stops_it_at_once() -> None:
    """The reader thread is blocked in a read the server will not answer for a long time."""
    listener = socket.create_server(("127.0.0.1", 0))
    served = threading.Event()

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(WATCH_HEAD + b"%x\r\n%s\r\n" % (len(FIRST_EVENT), FIRST_EVENT))
            served.wait(timeout=30)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    address = f"http://127.0.0.1:{listener.getsockname()[1]}"
    edge = _cluster(
        Configuration(host=address), "edge-a", address, (1.0, 30.0), ClientTls(), "test"
    )
    started = time.monotonic()
    with Follow(edge, GATEWAY_SERVER, "liqo-tenant-edge-b", name="edge-b") as follow:
        assert follow.changed(timeout=5) == [{"metadata": {"name": "edge-b"}}]
    assert time.monotonic() - started < 5
    served.set()
    server.join()
    listener.close()
