"""Names and labels: how every object of a shortcut is found again, by this run or the next.

Lookups go by deterministic name and by label, never by memory, so a re-run after a crash finds
what an earlier run made, and delete or rollback touch only objects carrying both our labels.
"""

from __future__ import annotations

import hashlib
import re

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "liqo-shortcut"
SHORTCUT_LABEL = "shortcut.liqo.io/name"
# Liqo's own labels (pkg/consts at v1.2.0): which remote cluster an object concerns, and the mark
# of gateway resources that the PublicKey forge adds.
REMOTE_CLUSTER_ID_LABEL = "liqo.io/remote-cluster-id"
GATEWAY_RESOURCE_LABEL = "networking.liqo.io/gateway-resource"
TENANT_NAMESPACE_LABEL = "liqo.io/tenant-namespace"
TENANT_NAMESPACE_PREFIX = "liqo-tenant-"  # liqoctl's name when it may not list namespaces

DNS_LABEL_MAX = 63  # RFC 1123 label: label values and most object names
PAIR_SEPARATOR = "--"  # readable between two IDs; IDs may hold it too, see shortcut_name
HASH_LENGTH = 10  # hex digits: 40 bits, no collision in any realistic number of edge pairs
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def is_dns_label(value: str) -> bool:
    return len(value) <= DNS_LABEL_MAX and bool(_DNS_LABEL.match(value))


def shortcut_name(edge_a_id: str, edge_b_id: str) -> str:
    """One name per pair of edges whatever the argument order: A<->B is a single shortcut.

    Order-independent because the network peering A<->B is one thing on the clusters (one
    Configuration, one gateway per side, named after the peer): a second shortcut B<->A could only
    fight the first over the same objects. Which edge hosts the gateway server is a setting of the
    shortcut, not part of its identity. Cluster IDs are DNS-1123 labels (Liqo enforces it), so
    ``a--b`` is one too when short enough. A name that is too long, or ambiguous (an ID holding
    ``--`` could split two ways), is cut and suffixed with a hash of the exact pair, so it stays a
    valid label and object name and distinct pairs keep distinct names.
    """
    first, second = sorted((edge_a_id, edge_b_id))
    name = f"{first}{PAIR_SEPARATOR}{second}"
    ambiguous = PAIR_SEPARATOR in first or PAIR_SEPARATOR in second
    if len(name) <= DNS_LABEL_MAX and not ambiguous and is_dns_label(name):
        return name
    digest = hashlib.sha256(f"{first}\n{second}".encode()).hexdigest()[:HASH_LENGTH]
    stem = re.sub(r"[^a-z0-9-]", "-", name.lower())[: DNS_LABEL_MAX - HASH_LENGTH - 1]
    return f"{stem.strip('-') or 'shortcut'}-{digest}"


def ownership_labels(shortcut: str) -> dict[str, str]:
    """The two labels that make an object ours to update, delete and roll back."""
    return {MANAGED_BY_LABEL: MANAGED_BY, SHORTCUT_LABEL: shortcut}


def is_owned_by(labels: dict[str, str] | None, shortcut: str) -> bool:
    return (labels or {}).items() >= ownership_labels(shortcut).items()


def tenant_namespace(remote_cluster_id: str) -> str:
    return f"{TENANT_NAMESPACE_PREFIX}{remote_cluster_id}"
