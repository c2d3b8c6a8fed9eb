"""Network namespaces through ``ip``, and sockets opened inside one.

Everything the data path builds is named with the lab's prefix (``prefix()``), so that ``sweep``
removes a lab's leftovers after a crash and never touches another lab's or the host's.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

NETNS_DIR = Path("/run/netns")
_CLONE_NEWNET = 0x40000000


def prefix(lab_dir: Path) -> str:
    """``lsc`` and four hex digits of the lab directory: two labs on one machine never collide."""
    return "lsc" + hashlib.sha256(str(lab_dir.resolve()).encode()).hexdigest()[:4]


def ip(*args: str, netns: str | None = None, check: bool = True) -> str:
    """Run ``ip [-n netns] args`` and return its output; a failure says what ``ip`` said."""
    argv = ["ip", *(["-n", netns] if netns else []), *args]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip()}")
    return done.stdout


def sysctl(netns: str, *settings: str) -> None:
    """``key=value`` settings inside ``netns`` (each namespace has its own net.* sysctls)."""
    for setting in settings:
        key, _, value = setting.partition("=")
        path = "/proc/sys/" + key.replace(".", "/")
        subprocess.run(
            ["ip", "netns", "exec", netns, "sh", "-c", f"echo {value} > {path}"], check=True
        )


def add(name: str) -> None:
    """A fresh namespace with loopback up and IPv6 off (no router solicitations on counters)."""
    if (NETNS_DIR / name).exists():
        delete(name)
    ip("netns", "add", name)
    ip("link", "set", "lo", "up", netns=name)
    sysctl(name, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")


def delete(name: str) -> None:
    ip("netns", "delete", name, check=False)


def exists(name: str) -> bool:
    return (NETNS_DIR / name).exists()


def owned(lab_prefix: str) -> list[str]:
    """The namespaces a lab with ``lab_prefix`` made."""
    if not NETNS_DIR.is_dir():
        return []
    return sorted(p.name for p in NETNS_DIR.iterdir() if p.name.startswith(lab_prefix + "-"))


def pids(name: str) -> list[int]:
    """The processes running in namespace ``name`` (none once it is gone)."""
    return [int(pid) for pid in ip("netns", "pids", name, check=False).split()]


def running(name: str, binary: str) -> list[int]:
    """The processes of ``binary`` (its file name) running in namespace ``name``."""
    found = []
    for pid in pids(name):
        try:
            if Path(f"/proc/{pid}/exe").resolve().name == binary:
                found.append(pid)
        except OSError:  # it exited meanwhile
            continue
    return found


def sweep(lab_prefix: str) -> None:
    """Remove every namespace of the lab (its veths go with them)."""
    for name in owned(lab_prefix):
        delete(name)


_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"setns: {os.strerror(errno)}")


@contextlib.contextmanager
def entered(name: str) -> Iterator[None]:
    """The calling thread inside ``name`` for the block: a socket made there stays there.

    setns(2) moves only the calling thread, so other threads keep the host's network.
    """
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(NETNS_DIR / name, os.O_RDONLY)
    try:
        _setns(target)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(target)
        os.close(home)
