"""Liqo's IPAM remapping rule (``pkg/ipam``: NetworkAcquire, core/node.go allocateNetwork).

Liqo keeps a buddy tree per pool (default pools 10.0.0.0/8, 192.168.0.0/16, 172.16.0.0/12) and
rebuilds it at start-up from the ``status.cidr`` of every Network. A mutable request gets its
exact prefix when that is free inside a pool, otherwise the first free prefix of the same length
found by walking the tree (at each node: the already split child first, else the left one). This
module recomputes that walk statelessly from the set of taken prefixes, which gives the answer a
freshly synced Liqo IPAM gives.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Net = ipaddress.IPv4Network

DEFAULT_POOLS: tuple[str, ...] = ("10.0.0.0/8", "192.168.0.0/16", "172.16.0.0/12")


class IPAMError(Exception):
    """No prefix could be acquired (Liqo: 'failed to acquire network')."""


def _overlaps_any(net: Net, taken: list[Net]) -> bool:
    return any(net.overlaps(t) for t in taken)


def _split(node: Net, taken: list[Net]) -> bool:
    """A tree node is split when some taken prefix lies strictly inside it."""
    return any(t != node and t.subnet_of(node) for t in taken)


def _allocate(size: int, node: Net, taken: list[Net]) -> Net | None:
    if node in taken or node.prefixlen > size:
        return None
    if any(node.subnet_of(t) and node != t for t in taken):
        return None  # inside an acquired ancestor
    if node.prefixlen == size:
        return None if _split(node, taken) else node
    left, right = node.subnets(prefixlen_diff=1)
    first, second = (
        (right, left) if not _split(left, taken) and _split(right, taken) else (left, right)
    )
    return _allocate(size, first, taken) or _allocate(size, second, taken)


def acquire(
    cidr: str,
    taken: Iterable[str],
    immutable: bool = False,
    exclusive: bool = True,
    pools: Iterable[str] = DEFAULT_POOLS,
) -> str:
    """The prefix Liqo's IPAM maps ``cidr`` to, given the prefixes already taken."""
    prefix = ipaddress.ip_network(cidr, strict=False)
    if not isinstance(prefix, Net):
        raise IPAMError(f"IPv6 prefix {cidr} is not supported by the emulator")
    roots = [ipaddress.IPv4Network(p) for p in pools]
    taken_nets = [
        n for n in (ipaddress.ip_network(t, strict=False) for t in taken) if isinstance(n, Net)
    ]
    in_pool = any(prefix.subnet_of(r) for r in roots)
    if not in_pool and immutable and not exclusive:
        return str(prefix)
    if not in_pool and immutable:
        raise IPAMError(f"prefix {cidr!r} is not in the pool {','.join(map(str, roots))!r}")
    if in_pool and not _overlaps_any(prefix, taken_nets):
        return str(prefix)
    if immutable:
        raise IPAMError(f"failed to acquire network {cidr!r}")
    for root in roots:
        found = _allocate(prefix.prefixlen, root, taken_nets)
        if found is not None:
            return str(found)
    raise IPAMError(f"failed to acquire network {cidr!r}")
