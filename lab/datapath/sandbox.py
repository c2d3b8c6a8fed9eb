"""What a container runtime gives a Liqo process here: a network namespace, the API, files.

A sandbox is one pod's (or one node's) directory and network namespace. Its processes run inside
``ip netns exec`` (which already gives each a private mount namespace) with a private ``/run``
(wireguard-go's UAPI socket has one fixed path) and ``/etc/iproute2`` (Liqo's route controller
appends to ``rt_tables``), shared by the sandbox's processes as a pod's volumes would be. They
reach the cluster's API server through a relay, with a token of their own ServiceAccount (the
TokenRequest a projected volume holds), so Liqo's ClusterRoles are exactly what they may do.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from lab.datapath import netns

Obj = dict[str, Any]
PROCESS_SHELL = """set -e
sandbox=$1; shift
mount -t tmpfs lab-run /run
mkdir -p /run/wireguard
mount --bind "$sandbox/run-wireguard" /run/wireguard
mount --bind "$sandbox/iproute2" /etc/iproute2
exec "$@"
"""
STOP_GRACE = 5.0
TOKEN_SECONDS = 86400


def expand(argument: str, variables: dict[str, str]) -> str:
    """An argument with the pod's ``$(VAR)`` references filled in, as the kubelet does."""
    for name, value in variables.items():
        argument = argument.replace(f"$({name})", value)
    return argument


class ClusterAPI(Protocol):
    """What the data path asks of a cluster (the emulator's client answers it)."""

    def raw(self, method: str, path: str, body: Obj | None = None) -> Any: ...

    def get_secret(self, name: str, namespace: str) -> Obj | None: ...

    def load_balancer_ip(self, pod: Obj) -> str | None: ...

    def list_objects(self, path: str) -> list[Obj]: ...


@dataclass(frozen=True)
class ClusterAccess:
    """How a process reaches the cluster's API server: its loopback port and CA."""

    name: str
    port: int
    ca_data: str


@dataclass
class Sandbox:
    name: str  # what logs call it
    netns: str
    directory: Path
    argv: dict[str, list[str]] = field(default_factory=dict)
    env: dict[str, dict[str, str]] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def prepare(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory.mkdir(parents=True, mode=0o700)
        (self.directory / "run-wireguard").mkdir()
        shutil.copytree("/etc/iproute2", self.directory / "iproute2")
        netns.add(self.netns)
        netns.sysctl(
            self.netns, "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"
        )

    def write_kubeconfig(
        self, api: ClusterAPI, access: ClusterAccess, namespace: str, account: str
    ) -> Path:
        review = api.raw(
            "POST",
            f"/api/v1/namespaces/{namespace}/serviceaccounts/{account}/token",
            body={
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenRequest",
                "spec": {"expirationSeconds": TOKEN_SECONDS},
            },
        )
        cluster = {
            "server": f"https://127.0.0.1:{access.port}",
            "certificate-authority-data": access.ca_data,
        }
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": access.name, "cluster": cluster}],
            "users": [{"name": account, "user": {"token": review["status"]["token"]}}],
            "contexts": [
                {"name": access.name, "context": {"cluster": access.name, "user": account}}
            ],
            "current-context": access.name,
        }
        path = self.directory / "kubeconfig"
        path.touch(mode=0o600)
        path.write_text(yaml.safe_dump(config))
        return path

    def run(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.argv[name], self.env[name] = argv, env
        self._spawn(name)

    def _spawn(self, name: str) -> None:
        with (self.directory / f"{name}.log").open("ab") as log_file:
            self.processes[name] = subprocess.Popen(
                [
                    "ip",
                    "netns",
                    "exec",
                    self.netns,
                    "sh",
                    "-c",
                    PROCESS_SHELL,
                    "sh",
                    str(self.directory),
                    *self.argv[name],
                ],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **self.env[name]},
            )

    def restart_exited(self) -> list[str]:
        """Start again what exited, as the kubelet restarts a container; returns their names."""
        exited = [n for n, p in self.processes.items() if p.poll() is not None]
        for name in exited:
            self._spawn(name)
        return exited

    def remove(self) -> None:
        """Stop the processes, then remove the namespace (its veths go with it) and the files."""
        running = [p for p in self.processes.values() if p.poll() is None]
        for process in running:
            process.send_signal(signal.SIGCONT)  # a fault may have stopped it
            process.terminate()
        deadline = time.monotonic() + STOP_GRACE
        for process in running:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        netns.delete(self.netns)
        shutil.rmtree(self.directory, ignore_errors=True)
