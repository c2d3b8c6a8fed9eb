"""Certificates for one lab cluster: its own CA, the API server's serving cert, client certs.

Each lab cluster gets a separate CA, as real clusters do, so a kubeconfig for one cluster can never
authenticate to another. Keys are ECDSA P-256: fast to generate and accepted by every component.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=30)  # a lab lives for hours; a short life limits leaked certs


@dataclass(frozen=True)
class KeyPair:
    cert: Path
    key: Path


def write_key(key: PrivateKeyTypes, path: Path) -> None:
    """``key`` as unencrypted PKCS#8 PEM that only its owner may read."""
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


class ClusterPKI:
    """Issues every certificate one cluster needs, into ``directory``."""

    def __init__(self, directory: Path, cluster_name: str) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._ca_key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        self._ca_cert = (
            x509.CertificateBuilder()
            .subject_name(_name(f"{cluster_name}-ca"))
            .issuer_name(_name(f"{cluster_name}-ca"))
            .public_key(self._ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._ca_key, hashes.SHA256())
        )
        self.ca = KeyPair(directory / "ca.crt", directory / "ca.key")
        self.ca.cert.write_bytes(self._ca_cert.public_bytes(serialization.Encoding.PEM))
        write_key(self._ca_key, self.ca.key)

    def issue(
        self,
        stem: str,
        common_name: str,
        organization: str | None = None,
        server_names: tuple[str, ...] = (),
    ) -> KeyPair:
        """A leaf certificate; ``server_names`` (IPs or DNS names) make it a serving cert."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server_names else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name, organization))
            .issuer_name(self._ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if server_names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([_general_name(n) for n in server_names]),
                critical=False,
            )
        pair = KeyPair(self.directory / f"{stem}.crt", self.directory / f"{stem}.key")
        cert = builder.sign(self._ca_key, hashes.SHA256())
        pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        write_key(key, pair.key)
        return pair

    def service_account_keys(self) -> KeyPair:
        """``sa.key`` signs service-account tokens; ``sa.pub`` is what the API server verifies."""
        key = ec.generate_private_key(ec.SECP256R1())
        pair = KeyPair(cert=self.directory / "sa.pub", key=self.directory / "sa.key")
        write_key(key, pair.key)
        pair.cert.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        return pair


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)
