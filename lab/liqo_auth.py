"""What Liqo's authentication leaves after `liqoctl peer`: keys, Identities, nonces and Tenants.

The baseline writes each ForeignCluster's status (role, tenant namespace) as a peered cluster has
it. Liqo's own ForeignCluster controller does not take that status as given: it derives it from
the authentication objects (a ControlPlane `Identity` on the consumer makes the remote cluster a
Provider; a `Tenant` on the provider makes the remote cluster a Consumer) and erases what they do
not back. So the lab writes those objects too, as the handshake of Liqo v1.2.0 leaves them
(pkg/liqo-controller-manager/authentication/: keys.go, csr.go, forge/identity.go, forge/tenant.go,
forge/nonce.go): every cluster's Ed25519 `liqo/authentication-keys`; on each provider the nonce it
handed the consumer and the consumer's Tenant, signed with the consumer's key; on the consumer a
ControlPlane Identity per provider whose certificate the provider's CA signed for the consumer's
key (CN the consumer's cluster ID, O ``liqo.io``), as the provider's Tenant controller would.

The key material is made once per lab (`issue`) and kept in each cluster's ``pki`` directory, so
installing the baseline again changes nothing.
"""

from __future__ import annotations

import base64
import datetime
import secrets
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lab.pki import VALIDITY, write_key
from lab.topology import LIQO_NAMESPACE, ClusterSpec, Topology

Obj = dict[str, Any]
AUTH_API = "authentication.liqo.io/v1beta1"
CONTROL_PLANE_ORGANIZATION = "liqo.io"  # csr.go OrganizationControlPlaneCSR
REMOTE_CLUSTER_ID = "liqo.io/remote-cluster-id"


def _key_path(pki: Path) -> Path:
    return pki / "liqo-authentication.key"


def _certificate_path(provider_pki: Path, consumer: str) -> Path:
    return provider_pki / f"liqo-controlplane-{consumer}.crt"


def _nonce_path(provider_pki: Path, consumer: str) -> Path:
    return provider_pki / f"liqo-nonce-{consumer}"


def issue(topology: Topology, pki_dir: dict[str, Path]) -> None:
    """Every cluster's authentication key, and per peering the provider's nonce and the
    certificate its CA signs for the consumer's key; into each cluster's ``pki_dir``."""
    for spec in topology.clusters:
        write_key(ed25519.Ed25519PrivateKey.generate(), _key_path(pki_dir[spec.name]))
    consumer = topology.consumer.name
    consumer_key = _private_key(pki_dir[consumer])
    for provider in topology.providers:
        pki = pki_dir[provider.name]
        _nonce_path(pki, consumer).write_bytes(secrets.token_bytes(64))
        certificate = _sign_control_plane(pki, consumer, consumer_key.public_key())
        _certificate_path(pki, consumer).write_bytes(
            certificate.public_bytes(serialization.Encoding.PEM)
        )


def for_lab(cluster: ClusterSpec, topology: Topology) -> list[Obj]:
    """`objects` of ``cluster`` in the running lab."""
    from lab.cluster import ClusterControlPlane, LabState  # which imports the baseline

    state = LabState.load()
    if state is None:
        raise RuntimeError("the lab's state is gone: start it again")
    planes = {c.name: ClusterControlPlane(c) for c in state.clusters}
    pki_dir = {name: plane.pki_dir for name, plane in planes.items()}
    servers = {name: plane.server for name, plane in planes.items()}
    return objects(cluster, topology, pki_dir, servers)


def objects(
    cluster: ClusterSpec, topology: Topology, pki_dir: dict[str, Path], servers: dict[str, str]
) -> list[Obj]:
    """The authentication objects ``cluster`` holds once peered as ``topology`` says, from the
    material `issue` put in ``pki_dir``; ``servers`` are the API servers' URLs, by cluster."""
    found = [_keys_secret(_private_key(pki_dir[cluster.name]))]
    consumer = topology.consumer.name
    if cluster.role == "consumer":
        for provider in topology.providers:
            pki = pki_dir[provider.name]
            found.append(
                _identity(
                    provider.name,
                    ca=(pki / "ca.crt").read_bytes(),
                    certificate=_certificate_path(pki, consumer).read_bytes(),
                    server=servers[provider.name],
                    remote_namespace=_tenant_namespace(consumer),
                )
            )
    else:
        consumer_key = _private_key(pki_dir[consumer])
        nonce = _nonce_path(pki_dir[cluster.name], consumer).read_bytes()
        found += [_nonce_secret(consumer, nonce), _tenant(consumer, consumer_key, nonce)]
    return found


def _private_key(pki: Path) -> ed25519.Ed25519PrivateKey:
    key = serialization.load_pem_private_key(_key_path(pki).read_bytes(), password=None)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise TypeError(f"{_key_path(pki)} is not an Ed25519 key")
    return key


def _public_pem(key: ed25519.Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _control_plane_name(consumer: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, consumer),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, CONTROL_PLANE_ORGANIZATION),
        ]
    )


def _sign_control_plane(
    provider_pki: Path, consumer: str, public_key: ed25519.Ed25519PublicKey
) -> x509.Certificate:
    ca_key = serialization.load_pem_private_key(
        (provider_pki / "ca.key").read_bytes(), password=None
    )
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise TypeError("the lab's cluster CAs are ECDSA (lab/pki.py)")
    ca = x509.load_pem_x509_certificate((provider_pki / "ca.crt").read_bytes())
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_control_plane_name(consumer))
        .issuer_name(ca.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _tenant_namespace(remote_cluster_id: str) -> str:
    return f"liqo-tenant-{remote_cluster_id}"


def _keys_secret(key: ed25519.Ed25519PrivateKey) -> Obj:
    # keys.go InitClusterKeys: the controller-manager makes this Secret only when it is missing.
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "authentication-keys", "namespace": LIQO_NAMESPACE},
        "data": {"privateKey": _b64(private), "publicKey": _b64(_public_pem(key))},
    }


def _identity(
    provider: str, *, ca: bytes, certificate: bytes, server: str, remote_namespace: str
) -> Obj:
    # forge/identity.go IdentityForRemoteCluster, type ControlPlane, in the provider's tenant
    # namespace on the consumer; spec.namespace is the consumer's tenant namespace there.
    return {
        "apiVersion": AUTH_API,
        "kind": "Identity",
        "metadata": {
            "name": f"controlplane-{provider}",
            "namespace": _tenant_namespace(provider),
            "labels": {REMOTE_CLUSTER_ID: provider},
        },
        "spec": {
            "clusterID": provider,
            "type": "ControlPlane",
            "namespace": remote_namespace,
            "authParams": {"ca": _b64(ca), "signedCRT": _b64(certificate), "apiServer": server},
        },
    }


def _nonce_secret(consumer: str, nonce: bytes) -> Obj:
    # forge/nonce.go: the nonce the provider hands the consumer to sign.
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "liqo-nonce",
            "namespace": _tenant_namespace(consumer),
            "labels": {"liqo.io/nonce": "true", REMOTE_CLUSTER_ID: consumer},
        },
        "data": {"nonce": _b64(nonce)},
    }


def _tenant(consumer: str, key: ed25519.Ed25519PrivateKey, nonce: bytes) -> Obj:
    # forge/tenant.go TenantForRemoteCluster: the consumer's public key (PEM), a control-plane CSR
    # made with it (csr.go), and its signature of the nonce (keys.go SignNonce). Ed25519 signs
    # deterministically, so the same key and nonce give the same Tenant on every install.
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(_control_plane_name(consumer))
        .sign(key, None)
        .public_bytes(serialization.Encoding.PEM)
    )
    return {
        "apiVersion": AUTH_API,
        "kind": "Tenant",
        "metadata": {
            "name": consumer,
            "namespace": _tenant_namespace(consumer),
            "labels": {REMOTE_CLUSTER_ID: consumer},
        },
        "spec": {
            "clusterID": consumer,
            "publicKey": _b64(_public_pem(key)),
            "csr": _b64(csr),
            "signature": _b64(key.sign(nonce)),
        },
    }
