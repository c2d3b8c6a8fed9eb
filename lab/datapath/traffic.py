"""Traffic for the real data path: a TCP server for a pod, and the probes tests run.

``python -m lab.datapath.traffic serve PORT`` in a server pod answers three kinds of connection,
told apart by their first byte: ``S`` (sink: read to the end, then say how many bytes arrived),
``E`` (echo every byte back, for round-trip times) and ``R`` (a resumable transfer: the server
says how much of it arrived so far, and the client goes on from there, on a new connection and
at a new address if the old path died: what an application that retries does). ``send``,
``resume`` and ``rtt`` run in a client pod and print one JSON line. Plain sockets, so nothing
needs installing on the machine (no iperf3).
"""

from __future__ import annotations

import argparse
import json
import socket
import struct
import sys
import threading
import time
from pathlib import Path

SINK, ECHO, RESUME = b"S", b"E", b"R"
CHUNK = 64 * 1024
CONNECT_TIMEOUT = 10.0
STALL = 3.0  # seconds without progress after which a resumable transfer reconnects


_arrived: dict[int, int] = {}  # per resumable transfer: bytes received so far, on any connection
_arrived_lock = threading.Lock()


def _receive_exactly(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size and (more := connection.recv(size - len(data))):
        data += more
    return data


def _serve_resumable(connection: socket.socket) -> None:
    (transfer,) = struct.unpack("!Q", _receive_exactly(connection, 8))
    with _arrived_lock:
        connection.sendall(struct.pack("!Q", _arrived.get(transfer, 0)))
    while data := connection.recv(CHUNK):
        with _arrived_lock:
            _arrived[transfer] = _arrived.get(transfer, 0) + len(data)
    with _arrived_lock:
        connection.sendall(struct.pack("!Q", _arrived.get(transfer, 0)))


def _serve_one(connection: socket.socket) -> None:
    with connection:
        kind = connection.recv(1)
        if kind == RESUME:
            _serve_resumable(connection)
            return
        if kind == SINK:
            received = 0
            while data := connection.recv(CHUNK):
                received += len(data)
            connection.sendall(struct.pack("!Q", received))
        elif kind == ECHO:
            while data := connection.recv(CHUNK):
                connection.sendall(data)


def serve(port: int) -> None:
    listener = socket.create_server(("0.0.0.0", port), reuse_port=True)
    while True:
        connection, _ = listener.accept()
        threading.Thread(target=_serve_one, args=(connection,), daemon=True).start()


def send(address: str, port: int, size: int, timeout: float) -> dict[str, float]:
    """``size`` bytes to the server; the bytes it counted and the seconds it took."""
    started = time.monotonic()
    with socket.create_connection((address, port), timeout=CONNECT_TIMEOUT) as connection:
        connection.settimeout(timeout)
        connection.sendall(SINK)
        block, left = b"\0" * CHUNK, size
        while left > 0:
            connection.sendall(block[: min(left, CHUNK)])
            left -= min(left, CHUNK)
        connection.shutdown(socket.SHUT_WR)
        answer = b""
        while len(answer) < 8 and (data := connection.recv(8 - len(answer))):
            answer += data
    received = struct.unpack("!Q", answer)[0] if len(answer) == 8 else 0
    return {"bytes": received, "seconds": time.monotonic() - started}


def resume(address_file: str, port: int, size: int, timeout: float) -> dict[str, object]:
    """``size`` bytes to the server at the address ``address_file`` holds, over as many
    connections as it takes: when one stalls for ``STALL`` seconds, read the address again and go
    on from what the server says arrived. Which addresses were used, and the bytes it counted."""
    transfer = int(time.time() * 1e6)
    started = time.monotonic()
    addresses: list[str] = []
    arrived = 0
    while arrived < size and time.monotonic() - started < timeout:
        address = Path(address_file).read_text().strip()
        addresses.append(address)
        try:
            with socket.create_connection((address, port), timeout=STALL) as connection:
                # Closed with a reset: what a dead path still holds must never arrive later.
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                connection.sendall(RESUME + struct.pack("!Q", transfer))
                (arrived,) = struct.unpack("!Q", _receive_exactly(connection, 8))
                block, left = b"\0" * CHUNK, size - arrived
                while left > 0:
                    connection.sendall(block[: min(left, CHUNK)])
                    left -= min(left, CHUNK)
                connection.shutdown(socket.SHUT_WR)
                (arrived,) = struct.unpack("!Q", _receive_exactly(connection, 8))
        except (OSError, struct.error):
            time.sleep(0.5)  # a dead path: try again at whatever address the Service has now
    return {"bytes": arrived, "seconds": time.monotonic() - started, "addresses": addresses}


def rtt(address: str, port: int, count: int, timeout: float) -> dict[str, list[float]]:
    """Round trips of one byte on an open connection, in milliseconds."""
    samples = []
    with socket.create_connection((address, port), timeout=CONNECT_TIMEOUT) as connection:
        connection.settimeout(timeout)
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection.sendall(ECHO)
        for _ in range(count):
            started = time.perf_counter()
            connection.sendall(b"x")
            if connection.recv(1) != b"x":
                raise RuntimeError("echo closed early")
            samples.append((time.perf_counter() - started) * 1000)
            time.sleep(0.05)
    return {"ms": samples}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.datapath.traffic")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve").add_argument("port", type=int)
    for name in ("send", "rtt", "resume"):
        command = commands.add_parser(name)
        command.add_argument("address", help="an address, or (resume) a file holding it")
        command.add_argument("port", type=int)
        command.add_argument("amount", type=int, help="bytes (send) or round trips (rtt)")
        command.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.port)
        return 0
    probes = {"send": send, "rtt": rtt, "resume": resume}
    print(json.dumps(probes[args.command](args.address, args.port, args.amount, args.timeout)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
