"""A WAN delay line without netem: a TUN device that gives every packet back D ms later.

``python -m lab.datapath.delay DEVICE MILLISECONDS``, run inside the WAN router's namespace,
opens TUN device DEVICE and writes each packet the kernel routes into it back after the delay;
what it writes re-enters the stack on DEVICE and is forwarded as usual. The router's policy rules
choose which paths go through which line (``wan.Wan``). Method and figures:
``../shared/studies/wan-delay.md``.
"""

from __future__ import annotations

import collections
import fcntl
import os
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
MAX_PACKET = 65536


def open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def run(name: str, delay: float) -> None:
    fd = open_tun(name)
    os.set_blocking(fd, False)
    queue: collections.deque[tuple[float, bytes]] = collections.deque()
    while True:
        timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else None
        readable, _, _ = select.select([fd], [], [], timeout)
        if readable:
            due = time.monotonic() + delay
            try:
                while True:  # everything that arrived, before the next select
                    queue.append((due, os.read(fd, MAX_PACKET)))
            except BlockingIOError:
                pass
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            os.write(fd, queue.popleft()[1])


def main(argv: list[str] | None = None) -> int:
    name, milliseconds = (argv if argv is not None else sys.argv[1:])[:2]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run(name, float(milliseconds) / 1000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
