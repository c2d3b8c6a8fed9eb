"""One API client per cluster, built from a resolved context, that fails in seconds and leaves no
credential on disk.

The kubernetes client waits forever by default (no request timeout, three silent retries), so a
mistyped server address or a firewalled edge would hang a run for minutes. Every client built here
carries a connect and a read timeout and retries a failed connection only once.

The kubernetes client's kubeconfig loader also writes each ``*-data`` field (CA, client
certificate, private key) to a file in ``$TMPDIR`` and removes it only at a normal exit: a run
ended by SIGKILL or SIGHUP would leave the key behind. Here the loader never sees those fields:
they are read into memory (`ClientTls`) and loaded once into an `ssl.SSLContext` that the
client's connection pool uses for every connection (urllib3 would otherwise re-read the files
at each new connection). Python's ``load_cert_chain`` reads only from a path, so the certificate
and key go through a memfd: an anonymous file in this process's memory, on no filesystem, gone
with the process however it ends. Where there is no memfd (not Linux), a file that exists for
that one call (0600, in a fresh 0700 directory, removed in a ``finally``) is the fallback.
Exec credential plugins are run by `exec_plugin`, within ``plugin_timeout``, for the same reason
and because the client's runner waits forever and hides their failures.
"""

from __future__ import annotations

import base64
import binascii
import os
import ssl
import tempfile
import threading
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import config
from kubernetes.client import ApiClient, Configuration
from kubernetes.config.config_exception import ConfigException
from urllib3.util.ssl_ import create_urllib3_context

from liqoshortcut import __version__
from liqoshortcut.core.words import shown
from liqoshortcut.errors import PreconditionFailed
from liqoshortcut.kube.exec_plugin import ExecCredential, ExecPlugin
from liqoshortcut.kube.kubeconfig import Kubeconfig, ResolvedContext

CONNECT_TIMEOUT = 5.0  # seconds: a TCP+TLS handshake to a reachable API server takes milliseconds
READ_TIMEOUT = 30.0  # seconds: the API server's own default request timeout is 60s; lists are small
# One retry for a dropped connection (an API server restarting behind a load balancer), no more:
# with the connect timeout above an unreachable server fails within about ten seconds.
USER_AGENT = f"liqo-shortcut/{__version__}"
# urllib3 would also take a 429 with Retry-After as a failure (MaxRetryError, "too many 429 error
# responses", read as an unreachable server): `rest.send` waits and asks again instead.
RETRIES = urllib3.Retry(
    total=1, connect=1, read=0, redirect=0, status=0, other=0, respect_retry_after_header=False
)
# How long an exec credential plugin may run: liqoctl's default --timeout; the commands that
# take a --timeout give it theirs.
PLUGIN_TIMEOUT = 120.0
# The kubeconfig fields whose content the kubernetes loader would write to temporary files.
_CLUSTER_TLS = ("certificate-authority", "certificate-authority-data")
_USER_TLS = ("client-certificate", "client-certificate-data", "client-key", "client-key-data")
# Authentication the kubernetes loader prefers to an exec plugin (kube_config._load_authentication).
_BEFORE_EXEC = ("auth-provider", "token", "tokenFile")


@dataclass
class ClientTls:
    """A client's TLS material as PEM, in memory only; an exec plugin may renew the pair."""

    ca: bytes | None = field(default=None, repr=False)
    certificate: bytes | None = field(default=None, repr=False)
    key: bytes | None = field(default=None, repr=False)
    verify: bool = True


@dataclass(frozen=True)
class Cluster:
    """A cluster as the tool talks to it: its name in messages, its API server, its client."""

    name: str
    server: str
    api: ApiClient = field(repr=False, compare=False)
    tls: ClientTls = field(default_factory=ClientTls, repr=False, compare=False)


class TimedApiClient(ApiClient):
    """An ApiClient whose every request has a timeout unless the caller gives its own, and
    renews an exec plugin's credential before a request is built when it is about to expire."""

    def __init__(self, configuration: Configuration, timeout: tuple[float, float]) -> None:
        super().__init__(configuration)
        self.timeout = timeout
        self.renewal: _Renewal | None = None

    def renew_credentials(self) -> None:
        if self.renewal is not None:
            self.renewal.renew_if_expired()

    def param_serialize(self, *args: Any, **kwargs: Any) -> Any:
        # Before the Authorization header is rendered from the configuration's token.
        self.renew_credentials()
        return super().param_serialize(*args, **kwargs)

    def call_api(  # type: ignore[no-untyped-def]
        self,
        method,
        url,
        header_params=None,
        body=None,
        post_params=None,
        _request_timeout=None,
    ) -> Any:
        return super().call_api(
            method, url, header_params, body, post_params, _request_timeout or self.timeout
        )


def connect(
    context: ResolvedContext,
    *,
    name: str | None = None,
    timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
    plugin_timeout: float = PLUGIN_TIMEOUT,
) -> Cluster:
    """A client for ``context``, named ``name`` (default: the context's name) in messages.

    Nothing is sent yet: an unreachable server is reported by the first call (see `errors`). An
    exec plugin runs now, at most ``plugin_timeout`` seconds.
    """
    where = f"context {shown(context.context)} in {context.origin}"
    cluster_entry, user_name, user_entry = _entries(context.config)
    try:
        tls = ClientTls(
            ca=_pem(cluster_entry, "certificate-authority"),
            certificate=_pem(user_entry, "client-certificate"),
            key=_pem(user_entry, "client-key"),
        )
    except _Unusable as error:
        raise PreconditionFailed(f"{where} cannot be used: {error}; fix that kubeconfig") from None
    plugin = None
    if "exec" in user_entry and not any(key in user_entry for key in _BEFORE_EXEC):
        who = f"user {shown(user_name)} of {where}"
        plugin = ExecPlugin(config=user_entry["exec"], who=who, cluster=cluster_entry)
    configuration = Configuration()
    try:
        _load(_without_files(context.config), context.context, configuration, user_entry)
    except (ConfigException, ValueError) as error:
        # The library's messages name keys and files, or say what a value is not (e.g. not
        # base64), never quote the values themselves.
        reason = " ".join(str(error).split()) or "unusable settings"
        raise PreconditionFailed(f"{where} cannot be used: {reason}; fix that kubeconfig") from None
    tls.verify = bool(configuration.verify_ssl)
    credential = plugin.run(plugin_timeout) if plugin is not None else None
    if credential is not None:
        _use(credential, configuration, tls)
    cluster = _cluster(configuration, name or context.context, context.server, timeout, tls, where)
    if plugin is not None and credential is not None and credential.expires is not None:
        api = cluster.api
        assert isinstance(api, TimedApiClient)
        api.renewal = _Renewal(plugin, credential, plugin_timeout, api, tls, where)
    return cluster


def connector(plugin_timeout: float) -> Callable[[ResolvedContext, str], Cluster]:
    """`connect` as preflight calls it (context, name), its exec plugins given ``plugin_timeout``
    seconds: a command's --timeout bounds them too."""

    def connect_within(context: ResolvedContext, name: str) -> Cluster:
        return connect(context, name=name, plugin_timeout=plugin_timeout)

    return connect_within


@dataclass(frozen=True)
class Central:
    """The central cluster's client and the context it was built from."""

    cluster: Cluster
    context: ResolvedContext


def connect_central(
    kubeconfig: Kubeconfig,
    context: str | None = None,
    connector: Callable[[ResolvedContext, str], Cluster] | None = None,
) -> Central:
    """Central's client from ``context`` (kubectl's ``--context``; default the current one),
    named as every message names it, ``central (CONTEXT)``; ``connector`` builds it (default
    `connect`)."""
    resolved = kubeconfig.resolve(context)
    name = f"central ({resolved.context})"
    cluster = connector(resolved, name) if connector else connect(resolved, name=name)
    return Central(cluster, resolved)


def connect_in_cluster(
    name: str, *, timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT)
) -> Cluster:
    """A client for the cluster this process runs in, with its pod's service account (whose
    token and CA are files the kubelet mounted: nothing is written here)."""
    configuration = Configuration()
    try:
        config.load_incluster_config(client_configuration=configuration)
    except ConfigException as error:
        raise PreconditionFailed(
            f"not running in a pod with a service account ({error}): pass --kubeconfig"
        ) from None
    return _cluster(configuration, name, configuration.host, timeout, ClientTls(), name)


def renew_credentials(cluster: Cluster) -> None:
    """Renew ``cluster``'s exec credential now if it is about to expire (kopf's login reads it)."""
    if isinstance(cluster.api, TimedApiClient):
        cluster.api.renew_credentials()


def ssl_context(tls: ClientTls, where: str = "the kubeconfig") -> ssl.SSLContext:
    """An SSL context trusting ``tls.ca`` (else the system's CAs) and presenting its certificate.

    Raises PreconditionFailed naming ``where`` (never the data) when OpenSSL refuses them.
    """
    context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
    if not tls.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        if tls.ca is not None:
            context.load_verify_locations(cadata=tls.ca.decode("ascii"))
        else:
            context.load_default_certs()
    except (ssl.SSLError, UnicodeDecodeError, ValueError) as error:
        raise PreconditionFailed(
            f"the certificate authority of {where} cannot be used ({_openssl(error)}): fix that "
            "kubeconfig"
        ) from None
    if tls.certificate is not None and tls.key is not None:
        try:
            _load_cert_chain(context, tls.certificate, tls.key)
        except (ssl.SSLError, _Encrypted) as error:
            raise PreconditionFailed(
                f"the client certificate and key of {where} cannot be used ({_openssl(error)}): "
                "fix that kubeconfig"
            ) from None
    return context


class _Unusable(Exception):
    """A TLS field of a kubeconfig that cannot be read; the message names the field."""


class _Encrypted(Exception):
    """A client key that needs a passphrase, which kubectl does not support either."""

    def __str__(self) -> str:
        return "the key is encrypted"


class _Renewal:
    """Runs an exec plugin again when its credential is about to expire (thread-safe)."""

    def __init__(
        self,
        plugin: ExecPlugin,
        credential: ExecCredential,
        timeout: float,
        api: TimedApiClient,
        tls: ClientTls,
        where: str,
    ) -> None:
        self.plugin, self.credential, self.timeout = plugin, credential, timeout
        self.api, self.tls, self.where = api, tls, where
        self.lock = threading.Lock()

    def renew_if_expired(self) -> bool:
        with self.lock:
            if not self.credential.expired(datetime.now(UTC)):
                return False
            fresh = self.plugin.run(self.timeout)
            _use(fresh, self.api.configuration, self.tls)
            if fresh.certificate is not None:
                _install(self.api, self.tls, self.where)
                self.api.rest_client.pool_manager.clear()  # no connection keeps the old pair
            self.credential = fresh
            return True


def _entries(document: Mapping[str, Any]) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """The cluster, the user's name and the user of a resolved one-context kubeconfig."""
    clusters, users = document.get("clusters") or [], document.get("users") or []
    cluster = dict(clusters[0]["cluster"]) if clusters else {}
    user = users[0] if users else {}
    return cluster, str(user.get("name") or ""), dict(user.get("user") or {})


def _without_files(document: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` without the fields the loader would write to files, nor the exec plugin."""
    stripped = dict(document)
    stripped["clusters"] = [
        {**entry, "cluster": {k: v for k, v in entry["cluster"].items() if k not in _CLUSTER_TLS}}
        for entry in document.get("clusters") or []
    ]
    stripped["users"] = [
        {
            **entry,
            "user": {
                k: v for k, v in (entry.get("user") or {}).items() if k not in (*_USER_TLS, "exec")
            },
        }
        for entry in document.get("users") or []
    ]
    return stripped


def _load(
    document: dict[str, Any], context: str, configuration: Configuration, user: Mapping[str, Any]
) -> None:
    if "auth-provider" not in user:
        config.load_kube_config_from_dict(
            document, context=context, client_configuration=configuration, persist_config=False
        )
        return
    # An OIDC provider's CA is still written to a file by the loader: into a directory of ours,
    # removed as soon as the loader is done with it.
    with tempfile.TemporaryDirectory(prefix="liqo-shortcut-") as scratch:
        config.load_kube_config_from_dict(
            document,
            context=context,
            client_configuration=configuration,
            persist_config=False,
            temp_file_path=scratch,
        )
    configuration.ssl_ca_cert = None


def _pem(entry: Mapping[str, Any], key: str) -> bytes | None:
    """The PEM of ``key``: ``key-data`` (base64, wins as in kubectl) or the file ``key`` names."""
    data = entry.get(f"{key}-data")
    if data:
        try:
            return base64.b64decode(str(data), validate=True)
        except (binascii.Error, ValueError):
            raise _Unusable(f"{key}-data is not base64 data") from None
    path = entry.get(key)
    if path:
        try:
            return Path(str(path)).read_bytes()
        except OSError as error:
            raise _Unusable(
                f"cannot read the {key} file {path}: {error.strerror or type(error).__name__}"
            ) from None
    return None


def _use(credential: ExecCredential, configuration: Configuration, tls: ClientTls) -> None:
    if credential.token is not None:
        configuration.api_key["BearerToken"] = f"Bearer {credential.token}"
    if credential.certificate is not None and credential.key is not None:
        tls.certificate, tls.key = credential.certificate, credential.key


def _cluster(
    configuration: Configuration,
    name: str,
    server: str,
    timeout: tuple[float, float],
    tls: ClientTls,
    where: str,
) -> Cluster:
    configuration.retries = RETRIES
    api = TimedApiClient(configuration, timeout)
    api.user_agent = USER_AGENT  # API servers' audit logs and metrics name this tool
    if tls.ca is not None or tls.certificate is not None:
        _install(api, tls, where)
    return Cluster(name=name, server=server, api=api, tls=tls)


def _install(api: ApiClient, tls: ClientTls, where: str) -> None:
    """Make every new connection of ``api`` use an SSL context built from ``tls`` once."""
    api.rest_client.pool_manager.connection_pool_kw["ssl_context"] = ssl_context(tls, where)


def _load_cert_chain(context: ssl.SSLContext, certificate: bytes, key: bytes) -> None:
    """``context.load_cert_chain`` from memory: see the module's docstring."""
    pem = certificate.rstrip(b"\n") + b"\n" + key

    def no_passphrase() -> bytes:
        raise _Encrypted  # rather than OpenSSL asking on the terminal

    memfd = getattr(os, "memfd_create", None)
    if memfd is not None and Path("/proc/self/fd").is_dir():
        descriptor = memfd("liqo-shortcut-client-certificate", os.MFD_CLOEXEC)
        try:
            with open(descriptor, "wb", closefd=False) as memory:
                memory.write(pem)
            context.load_cert_chain(f"/proc/self/fd/{descriptor}", password=no_passphrase)
        finally:
            os.close(descriptor)
        return
    directory = tempfile.mkdtemp(prefix="liqo-shortcut-")  # mode 0700
    path = os.path.join(directory, "client.pem")
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(descriptor, "wb") as file:
            file.write(pem)
        context.load_cert_chain(path, password=no_passphrase)
    finally:
        with suppress(FileNotFoundError):
            os.unlink(path)
        os.rmdir(directory)


def _openssl(error: BaseException) -> str:
    """OpenSSL's reason, e.g. ``KEY_VALUES_MISMATCH``, without file names or data."""
    if isinstance(error, ssl.SSLError) and error.reason:
        return str(error.reason).lower().replace("_", " ")
    return str(error) or type(error).__name__
