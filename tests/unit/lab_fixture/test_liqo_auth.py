"""The authentication objects the lab writes pass the checks Liqo's own controllers make on them
(pkg/liqo-controller-manager/authentication: tenant_controller.go verifyHandshake, csr.go
CheckCSRForControlPlane), so that its Tenant controller accepts them and its ForeignCluster
controller keeps the roles the baseline writes."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

from lab import liqo_auth
from lab.pki import ClusterPKI
from lab.topology import DEFAULT_TOPOLOGY, Topology

TOPOLOGY: Topology = DEFAULT_TOPOLOGY
SERVERS = {spec.name: f"https://127.0.0.1:{20000 + i}" for i, spec in enumerate(TOPOLOGY.clusters)}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pki")
    dirs = {spec.name: root / spec.name for spec in TOPOLOGY.clusters}
    for name, directory in dirs.items():
        ClusterPKI(directory, name)
    liqo_auth.issue(TOPOLOGY, dirs)
    return dirs


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def decoded(value: str) -> bytes:
    return base64.b64decode(value)


def test_every_cluster_has_ed25519_authentication_keys_in_liqo_s_secret(
    pki: dict[str, Path],
) -> None:
    for spec in TOPOLOGY.clusters:
        (secret,) = [
            o
            for o in liqo_auth.objects(spec, TOPOLOGY, pki, SERVERS)
            if o["metadata"]["name"] == "authentication-keys"
        ]
        private = serialization.load_pem_private_key(
            decoded(secret["data"]["privateKey"]), password=None
        )
        assert isinstance(private, ed25519.Ed25519PrivateKey)
        assert decoded(secret["data"]["publicKey"]) == private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def test_each_provider_s_tenant_signs_its_nonce_with_the_consumer_s_key_and_asks_for_its_cn(
    pki: dict[str, Path],
) -> None:
    consumer = TOPOLOGY.consumer.name
    for provider in TOPOLOGY.providers:
        found = liqo_auth.objects(provider, TOPOLOGY, pki, SERVERS)
        (tenant,) = by_kind(found, "Tenant")
        (nonce,) = [o for o in found if o["metadata"]["name"] == "liqo-nonce"]
        assert nonce["metadata"]["labels"] == {
            "liqo.io/nonce": "true",
            "liqo.io/remote-cluster-id": consumer,
        }
        assert tenant["metadata"]["namespace"] == nonce["metadata"]["namespace"]
        spec = tenant["spec"]
        public = serialization.load_pem_public_key(decoded(spec["publicKey"]))
        assert isinstance(public, ed25519.Ed25519PublicKey)
        public.verify(decoded(spec["signature"]), decoded(nonce["data"]["nonce"]))  # raises
        csr = x509.load_pem_x509_csr(decoded(spec["csr"]))
        assert csr.is_signature_valid
        assert csr.public_key() == public
        assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == consumer
        assert csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "liqo.io"


def test_the_consumer_s_identity_for_each_provider_holds_a_certificate_of_that_provider_s_ca(
    pki: dict[str, Path],
) -> None:
    consumer_key = serialization.load_pem_private_key(
        (pki["central"] / "liqo-authentication.key").read_bytes(), password=None
    )
    assert isinstance(consumer_key, ed25519.Ed25519PrivateKey)
    identities = by_kind(liqo_auth.objects(TOPOLOGY.consumer, TOPOLOGY, pki, SERVERS), "Identity")
    assert [i["spec"]["clusterID"] for i in identities] == [p.name for p in TOPOLOGY.providers]
    for identity in identities:
        provider = identity["spec"]["clusterID"]
        params = identity["spec"]["authParams"]
        assert params["apiServer"] == SERVERS[provider]
        ca = x509.load_pem_x509_certificate(decoded(params["ca"]))
        assert ca == x509.load_pem_x509_certificate((pki[provider] / "ca.crt").read_bytes())
        certificate = x509.load_pem_x509_certificate(decoded(params["signedCRT"]))
        certificate.verify_directly_issued_by(ca)  # raises if another CA signed it
        assert certificate.public_key() == consumer_key.public_key()
        assert certificate.subject.rfc4514_string() == "O=liqo.io,CN=central"


def test_installing_twice_writes_the_same_objects(pki: dict[str, Path]) -> None:
    for spec in TOPOLOGY.clusters:
        assert liqo_auth.objects(spec, TOPOLOGY, pki, SERVERS) == liqo_auth.objects(
            spec, TOPOLOGY, pki, SERVERS
        )
