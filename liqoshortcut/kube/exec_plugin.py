"""Exec credential plugins (``users[].user.exec``), run here instead of by the kubernetes client.

The client's own runner (kubernetes.config.exec_provider) waits for a plugin forever, reports a
failure through the root logger (which also switches on urllib3's retry warnings) and then goes
on without credentials, so that the API server's 401 or 403 gets the blame. Here a plugin runs
as client-go runs it (the ExecCredential protocol of client.authentication.k8s.io: the request in
``KUBERNETES_EXEC_INFO``, the credential as JSON on stdout), within a time limit, in a process
group of its own so that a shell script's children end with it, and any failure is one line
naming the plugin and how it ended. Its stdout holds credentials: it is parsed, never quoted,
and the certificate and key it returns stay in memory (see `clients`).
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import signal
import subprocess
import threading
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from liqoshortcut.core.words import PATH_SHOWN_MAX, cut, shown
from liqoshortcut.errors import PreconditionFailed

API_GROUP = "client.authentication.k8s.io"
API_VERSIONS = (f"{API_GROUP}/v1", f"{API_GROUP}/v1beta1")  # what client-go still accepts
# client-go renews a credential this long before it expires (its refresh skew is similar), so
# that a request never leaves with one that expires on the way.
EXPIRY_MARGIN = timedelta(seconds=30)
STDERR_SHOWN = 200  # characters of the plugin's last stderr line quoted in a failure
KILL_GRACE = 2.0  # seconds to collect a killed plugin's pipes (a daemonised child may hold them)


# Plugins running now. A plugin runs in its own process group (so that a timeout kills its
# children too), which also keeps Ctrl-C and SIGTERM from reaching it: when the run ends while a
# plugin is still running in another thread, the exit handler below kills it.
_RUNNING: set[subprocess.Popen[bytes]] = set()
_RUNNING_LOCK = threading.Lock()


def stop_running_plugins() -> None:
    """Kill every plugin still running (their whole process groups)."""
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for process in running:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


atexit.register(stop_running_plugins)


class PluginFailed(PreconditionFailed):
    """An exec plugin could not be run, failed, timed out or printed no usable credential."""


@dataclass(frozen=True)
class ExecCredential:
    """What a plugin returned: a token, or a client certificate and key (PEM); never printed."""

    token: str | None = field(default=None, repr=False)
    certificate: bytes | None = field(default=None, repr=False)
    key: bytes | None = field(default=None, repr=False)
    expires: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and now >= self.expires - EXPIRY_MARGIN


@dataclass(frozen=True)
class ExecPlugin:
    """One ``exec`` entry of a kubeconfig user, and who it authenticates, for messages."""

    config: Mapping[str, Any] = field(repr=False)
    who: str  # e.g. "user 'admin' of context 'edge-a'"
    cluster: Mapping[str, Any] = field(default_factory=dict, repr=False)  # the context's cluster

    @property
    def command(self) -> str:
        return str(self.config.get("command") or "")

    def describe(self) -> str:
        return f"the exec plugin {shown(self.command, PATH_SHOWN_MAX)} of {self.who}"

    def run(self, timeout: float, environ: Mapping[str, str] | None = None) -> ExecCredential:
        """Run the plugin once, at most ``timeout`` seconds; its credential or `PluginFailed`."""
        api_version = self.config.get("apiVersion")
        if not self.command or api_version not in API_VERSIONS:
            raise PluginFailed(
                f"{self.describe()} is malformed: it needs a command and an apiVersion of "
                f"{' or '.join(API_VERSIONS)}; fix that kubeconfig"
            )
        if self.config.get("interactiveMode") == "Always":
            raise PluginFailed(
                f"{self.describe()} asks for a terminal (interactiveMode: Always), which kubectl "
                "shortcut does not give it: log in with the plugin first, or use a kubeconfig "
                "with a token or a client certificate"
            )
        argv = [self.command, *(str(arg) for arg in self.config.get("args") or [])]
        env = dict(os.environ if environ is None else environ)
        for variable in self.config.get("env") or []:
            if isinstance(variable, Mapping) and variable.get("name"):
                env[str(variable["name"])] = str(variable.get("value") or "")
        env["KUBERNETES_EXEC_INFO"] = json.dumps(self._request(str(api_version)))
        stdout = self._output(argv, env, timeout)
        return self._credential(stdout, str(api_version))

    def _request(self, api_version: str) -> dict[str, Any]:
        spec: dict[str, Any] = {"interactive": False}
        if self.config.get("provideClusterInfo"):
            spec["cluster"] = cluster_info(self.cluster)
        return {"apiVersion": api_version, "kind": "ExecCredential", "spec": spec}

    def _output(self, argv: list[str], env: dict[str, str], timeout: float) -> bytes:
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                start_new_session=True,  # its own process group: killed as a whole on timeout
            )
        except OSError as error:
            hint = self.config.get("installHint")
            fix = " ".join(str(hint).split()) if hint else "install it or fix that kubeconfig"
            raise PluginFailed(
                f"{self.describe()} cannot be started: {error.strerror or error}; {cut(fix, 200)}"
            ) from None
        with _RUNNING_LOCK:
            _RUNNING.add(process)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(process)
            raise PluginFailed(
                f"{self.describe()} did not finish within {timeout:g}s and was stopped: run it "
                "by hand to see what it waits for"
            ) from None
        except BaseException:  # Ctrl-C or SIGTERM while it runs: it must not outlive us
            _stop(process)
            raise
        finally:
            with _RUNNING_LOCK:
                _RUNNING.discard(process)
        if process.returncode != 0:
            ended = (
                f"was killed by signal {-process.returncode}"
                if process.returncode < 0
                else f"exited with status {process.returncode}"
            )
            said = _last_line(stderr)
            raise PluginFailed(f"{self.describe()} {ended}" + (f": {said}" if said else ""))
        return stdout

    def _credential(self, stdout: bytes, api_version: str) -> ExecCredential:
        try:
            data = json.loads(stdout)
        except ValueError:
            data = None
        if not isinstance(data, dict) or data.get("kind") != "ExecCredential":
            raise PluginFailed(
                f"{self.describe()} printed no ExecCredential (its output is not the JSON of "
                "one): check the plugin and its arguments"
            )
        if data.get("apiVersion") != api_version:
            raise PluginFailed(
                f"{self.describe()} answered in apiVersion {shown(str(data.get('apiVersion')))}, "
                f"not the {api_version} the kubeconfig asks for: fix the kubeconfig's apiVersion"
            )
        status = data.get("status")
        status = status if isinstance(status, dict) else {}
        token = status.get("token")
        certificate, key = status.get("clientCertificateData"), status.get("clientKeyData")
        expires = _timestamp(status.get("expirationTimestamp"))
        if isinstance(token, str) and token:
            return ExecCredential(token=token, expires=expires)
        if isinstance(certificate, str) and isinstance(key, str) and certificate and key:
            return ExecCredential(
                certificate=certificate.encode(), key=key.encode(), expires=expires
            )
        raise PluginFailed(
            f"{self.describe()} printed an ExecCredential without status.token nor both "
            "status.clientCertificateData and status.clientKeyData: check the plugin"
        )


def cluster_info(cluster: Mapping[str, Any]) -> dict[str, Any]:
    """The ``spec.cluster`` client-go sends with provideClusterInfo (clientauthentication's
    Cluster): the server and how to trust it, and the exec extension's config."""
    info: dict[str, Any] = {"server": cluster.get("server")}
    for key in ("tls-server-name", "insecure-skip-tls-verify", "proxy-url"):
        if key in cluster:
            info[key] = cluster[key]
    if cluster.get("certificate-authority-data"):
        info["certificate-authority-data"] = cluster["certificate-authority-data"]
    elif cluster.get("certificate-authority"):
        try:
            with open(str(cluster["certificate-authority"]), "rb") as ca:
                info["certificate-authority-data"] = base64.b64encode(ca.read()).decode()
        except OSError:
            pass  # the client's own TLS setup reports an unreadable CA file
    for extension in cluster.get("extensions") or []:
        if isinstance(extension, Mapping) and extension.get("name") == f"{API_GROUP}/exec":
            info["config"] = extension.get("extension")
    return info


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Kill the plugin's process group, then collect it without waiting on orphans' pipes."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    try:
        process.communicate(timeout=KILL_GRACE)
    except subprocess.TimeoutExpired:  # a child that left the group still holds a pipe
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
        process.wait()


def _last_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines()]
    said = next((line for line in reversed(lines) if line), "")
    return cut(" ".join(said.split()), STDERR_SHOWN)


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
