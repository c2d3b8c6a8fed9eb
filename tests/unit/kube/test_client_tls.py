"""A client's CA, certificate and key stay in memory: nothing of them is written to ``$TMPDIR``,
and every new connection still presents the certificate (urllib3 would re-read files for each)."""

from __future__ import annotations

import base64
import json
import os
import ssl
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives import serialization

from lab.pki import ClusterPKI, KeyPair
from liqoshortcut.errors import PreconditionFailed
from liqoshortcut.kube import rest
from liqoshortcut.kube.clients import connect
from liqoshortcut.kube.kubeconfig import ResolvedContext, kubeconfig_from_bytes, load_kubeconfig


@dataclass(frozen=True)
class Material:
    ca: bytes
    certificate: bytes
    key: bytes
    server: KeyPair  # files, for the test's own TLS server
    ca_path: Path


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> Material:
    directory = tmp_path_factory.mktemp("pki")
    pki = ClusterPKI(directory, "unit")
    client = pki.issue("client", "alice", "team")
    server = pki.issue("server", "server", server_names=("127.0.0.1",))
    return Material(
        ca=pki.ca.cert.read_bytes(),
        certificate=client.cert.read_bytes(),
        key=client.key.read_bytes(),
        server=server,
        ca_path=pki.ca.cert,
    )


@pytest.fixture
def tmpdir_watched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``$TMPDIR`` (and Python's tempfile) pointed at a fresh, empty directory."""
    watched = tmp_path / "TMPDIR"
    watched.mkdir()
    monkeypatch.setenv("TMPDIR", str(watched))
    monkeypatch.setattr(tempfile, "tempdir", str(watched))
    return watched


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def resolved(
    cluster: dict[str, Any], user: dict[str, Any], file: Path | None = None
) -> ResolvedContext:
    """The context edge-a of a kubeconfig in a Secret, or in ``file`` (which may name files)."""
    document = {
        "clusters": [{"name": "edge-a", "cluster": cluster}],
        "users": [{"name": "alice", "user": user}],
        "contexts": [{"name": "edge-a", "context": {"cluster": "edge-a", "user": "alice"}}],
        "current-context": "edge-a",
    }
    if file is not None:
        file.write_text(yaml.safe_dump(document))
        return load_kubeconfig(file).resolve()
    return kubeconfig_from_bytes(yaml.safe_dump(document).encode(), "Secret s/edge-a").resolve()


def embedded(material: Material, server: str = "https://127.0.0.1:6443") -> ResolvedContext:
    return resolved(
        {"server": server, "certificate-authority-data": b64(material.ca)},
        {
            "client-certificate-data": b64(material.certificate),
            "client-key-data": b64(material.key),
        },
    )


def everything_under(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*"))


@pytest.fixture
def mtls_server(material: Material) -> Iterator[str]:
    """An HTTPS server on loopback that requires a client certificate of the CA and answers
    each request with the common name it was shown, closing every connection after it."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            assert isinstance(self.connection, ssl.SSLSocket)
            peer = self.connection.getpeercert() or {}
            names: list[Any] = [name for rdn in peer.get("subject", ()) for name in rdn]
            common = next(value for key, value in names if key == "commonName")
            body = json.dumps({"commonName": common}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(material.ca_path))
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_cert_chain(str(material.server.cert), str(material.server.key))
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_kubeconfigs_ca_certificate_and_key_are_not_written_anywhere_in_tmpdir(
    material: Material, tmpdir_watched: Path
) -> None:
    cluster = connect(embedded(material))
    configuration = cluster.api.configuration
    assert (configuration.ssl_ca_cert, configuration.cert_file, configuration.key_file) == (
        None,
        None,
        None,
    )
    context = cluster.api.rest_client.pool_manager.connection_pool_kw["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert [ca["subject"] for ca in context.get_ca_certs()] == [((("commonName", "unit-ca"),),)]
    assert everything_under(tmpdir_watched) == []


def test_every_new_connection_presents_the_certificate_loaded_once(
    material: Material, tmpdir_watched: Path, mtls_server: str
) -> None:
    cluster = connect(embedded(material, server=mtls_server))
    for _ in range(3):  # the server closes each connection: three handshakes
        answer = rest.request(cluster, "GET", "/api/v1/namespaces/liqo")
        assert answer == {"commonName": "alice"}
        cluster.api.rest_client.pool_manager.clear()
    assert everything_under(tmpdir_watched) == []


def test_certificate_files_named_by_the_kubeconfig_are_read_not_copied(
    material: Material, tmpdir_watched: Path, tmp_path: Path, mtls_server: str
) -> None:
    files = tmp_path / "files"
    files.mkdir()
    (files / "ca.crt").write_bytes(material.ca)
    (files / "alice.crt").write_bytes(material.certificate)
    (files / "alice.key").write_bytes(material.key)
    context = resolved(
        {"server": mtls_server, "certificate-authority": str(files / "ca.crt")},
        {"client-certificate": str(files / "alice.crt"), "client-key": str(files / "alice.key")},
        file=files / "kubeconfig",
    )
    cluster = connect(context)
    assert rest.request(cluster, "GET", "/api/v1/namespaces/liqo") == {"commonName": "alice"}
    assert everything_under(tmpdir_watched) == []


def test_a_key_that_does_not_match_the_certificate_is_refused_naming_the_context_only(
    material: Material, tmpdir_watched: Path, tmp_path: Path
) -> None:
    other = ClusterPKI(tmp_path / "other", "other").issue("bob", "bob")
    context = resolved(
        {"server": "https://127.0.0.1:6443", "certificate-authority-data": b64(material.ca)},
        {
            "client-certificate-data": b64(material.certificate),
            "client-key-data": b64(other.key.read_bytes()),
        },
    )
    with pytest.raises(PreconditionFailed) as raised:
        connect(context)
    message = str(raised.value)
    assert message.startswith(
        "the client certificate and key of context 'edge-a' in Secret s/edge-a"
    )
    assert "cannot be used (key values mismatch): fix that kubeconfig" in message
    assert "PRIVATE KEY" not in message
    assert b64(other.key.read_bytes())[:20] not in message
    assert everything_under(tmpdir_watched) == []


def test_an_encrypted_key_is_refused_without_asking_for_a_passphrase(
    material: Material, tmpdir_watched: Path
) -> None:
    key = serialization.load_pem_private_key(material.key, password=None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    )
    context = resolved(
        {"server": "https://127.0.0.1:6443", "certificate-authority-data": b64(material.ca)},
        {"client-certificate-data": b64(material.certificate), "client-key-data": b64(encrypted)},
    )
    with pytest.raises(PreconditionFailed, match="the key is encrypted"):
        connect(context)


def test_a_ca_that_is_no_certificate_is_refused_in_one_line(
    material: Material, tmpdir_watched: Path
) -> None:
    context = resolved(
        {"server": "https://127.0.0.1:6443", "certificate-authority-data": b64(b"not a PEM")},
        {"token": "t"},
    )
    with pytest.raises(
        PreconditionFailed,
        match=r"^the certificate authority of context 'edge-a' in Secret s/edge-a cannot be used",
    ):
        connect(context)


def test_a_missing_certificate_file_names_the_field_and_the_file(tmp_path: Path) -> None:
    context = resolved(
        {"server": "https://127.0.0.1:6443"},
        {"client-certificate": str(tmp_path / "gone.crt"), "client-key": str(tmp_path / "k")},
        file=tmp_path / "kubeconfig",
    )
    with pytest.raises(PreconditionFailed) as raised:
        connect(context)
    assert str(raised.value) == (
        f"context 'edge-a' in {tmp_path / 'kubeconfig'} cannot be used: cannot read the "
        "client-certificate "
        f"file {tmp_path / 'gone.crt'}: No such file or directory; fix that kubeconfig"
    )


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_insecure_skip_tls_verify_still_presents_the_certificate(
    material: Material, mtls_server: str, tmpdir_watched: Path
) -> None:
    context = resolved(
        {"server": mtls_server, "insecure-skip-tls-verify": True},
        {
            "client-certificate-data": b64(material.certificate),
            "client-key-data": b64(material.key),
        },
    )
    cluster = connect(context)
    assert rest.request(cluster, "GET", "/api/v1/namespaces/liqo") == {"commonName": "alice"}
    assert os.listdir(tmpdir_watched) == []
