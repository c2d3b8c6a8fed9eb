"""The cluster's API server, reachable from inside a gateway's namespace.

The lab's API servers bind loopback, and a namespace's loopback is its own. A relay listens on
the API server's address inside the namespace and copies each connection to the host's: the
gateway binaries keep the kubeconfig (``https://127.0.0.1:PORT``, the certificate's address) that
a process on the host would use. One thread runs every relay of the lab.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from concurrent.futures import Future

from lab.datapath import netns

_CHUNK = 64 * 1024


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()


class Relays:
    """Loopback-to-loopback relays from namespaces to the host, on one event-loop thread."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._servers: dict[tuple[str, int], asyncio.Server] = {}
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="relays")
        self._thread.start()

    def open(self, namespace: str, port: int) -> None:
        """Serve 127.0.0.1:``port`` inside ``namespace`` from the host's 127.0.0.1:``port``."""
        with netns.entered(namespace):
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        listener.setblocking(False)
        self._call(self._serve(namespace, port, listener)).result(timeout=10)

    def close(self, namespace: str) -> None:
        """Stop the namespace's relays (their open connections end with the namespace)."""
        self._call(self._close(namespace)).result(timeout=10)

    def stop(self) -> None:
        for namespace in {ns for ns, _ in self._servers}:
            self.close(namespace)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def _call(self, coroutine: object) -> Future[None]:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)  # type: ignore[arg-type]

    async def _serve(self, namespace: str, port: int, listener: socket.socket) -> None:
        async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                writer.close()
                return
            await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))

        self._servers[(namespace, port)] = await asyncio.start_server(connected, sock=listener)

    async def _close(self, namespace: str) -> None:
        for key in [key for key in self._servers if key[0] == namespace]:
            server = self._servers.pop(key)
            server.close()
