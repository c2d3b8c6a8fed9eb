"""Gateway pods as Liqo's own processes: what a kubelet and a container runtime would do for them.

For each Running gateway pod, its ``wireguard`` and ``gateway`` containers run as the v1.2.0
binaries with the arguments Liqo's controller rendered into the pod from its template; the lab
changes one (``--implementation=userspace``: no WireGuard module here) and adds the keys' path
(``--keys-dir``, where the kubelet would mount the Secret). The ``geneve`` container is not run:
this kernel has no GENEVE (FIDELITY.md says what stands in for it). Each pod gets:

- a network namespace with ``eth0`` on the WAN (``wan``);
- the cluster's API server through a relay, and a kubeconfig with a token of the pod's own
  ServiceAccount, so Liqo's ``liqo-gateway`` ClusterRole is what the binaries may do;
- a private ``/run`` (wireguard-go's UAPI socket has one fixed path) and ``/etc/iproute2`` (Liqo's
  route controller appends to ``rt_tables``), shared by the pod's two processes as a pod's
  volumes would be.

A pod that goes away takes its processes, namespace and files with it; a process that exits is
started again at the next pass, as the kubelet restarts a container.
"""

from __future__ import annotations

import base64
import logging
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from lab.datapath import netns
from lab.datapath.relay import Relays
from lab.datapath.wan import Wan

log = logging.getLogger("lab.datapath")

Obj = dict[str, Any]
CONTAINERS = ("wireguard", "gateway")  # wireguard first: the gateway pings its tunnel address
# Run inside ``ip netns exec`` (which already gives a private mount namespace): the pod's own
# /run/wireguard and /etc/iproute2 over the host's, then the container's binary.
CONTAINER_SHELL = """set -e
pod_dir=$1; shift
mount -t tmpfs lab-pod-run /run
mkdir -p /run/wireguard
mount --bind "$pod_dir/run-wireguard" /run/wireguard
mount --bind "$pod_dir/iproute2" /etc/iproute2
exec "$@"
"""
STOP_GRACE = 5.0


class ClusterAPI(Protocol):
    """What the runner needs of a cluster: the emulator's client and the cluster's identity."""

    def raw(self, method: str, path: str, body: Obj | None = None) -> Any: ...

    def get_secret(self, name: str, namespace: str) -> Obj | None: ...

    def load_balancer_ip(self, pod: Obj) -> str | None: ...


@dataclass(frozen=True)
class ClusterAccess:
    """How a process reaches the cluster's API server: its loopback port and CA."""

    name: str
    port: int
    ca_data: str


@dataclass
class RunningPod:
    uid: str
    cluster: str
    namespace: str
    name: str
    netns: str
    directory: Path
    wan_address: str
    client: bool
    argv: dict[str, list[str]]
    env: dict[str, dict[str, str]]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)


def container_args(pod: Obj) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Each container's arguments with ``$(VAR)`` filled from its env's fieldRefs, and that env."""
    fields = {
        "spec.nodeName": pod["spec"].get("nodeName", ""),
        "metadata.name": pod["metadata"]["name"],
    }
    result: dict[str, tuple[list[str], dict[str, str]]] = {}
    for container in pod["spec"].get("containers") or []:
        env = {
            var["name"]: fields.get(
                var.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath", ""),
                var.get("value", ""),
            )
            for var in container.get("env") or []
        }
        args = [_expand(str(arg), env) for arg in container.get("args") or []]
        result[container["name"]] = (args, env)
    return result


def _expand(argument: str, env: dict[str, str]) -> str:
    for name, value in env.items():
        argument = argument.replace(f"$({name})", value)
    return argument


def flag(args: list[str], name: str) -> str | None:
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep and key == f"--{name}":
            return value
    return None


def userspace(args: list[str], keys_dir: Path) -> list[str]:
    """The wireguard container's arguments as the lab runs them (see the module docstring)."""
    kept = [a for a in args if not a.startswith(("--implementation=", "--keys-dir="))]
    return [*kept, "--implementation=userspace", f"--keys-dir={keys_dir}"]


class GatewayRunner:
    """Every real gateway pod of the lab, keyed by pod UID; one per emulator process."""

    def __init__(self, lab_dir: Path, binaries: dict[str, Path]) -> None:
        self.root = lab_dir / "datapath"
        self.prefix = netns.prefix(lab_dir)
        self.binaries = binaries
        self.wan = Wan(self.prefix)
        self.relays = Relays()
        self.pods: dict[str, RunningPod] = {}
        self._lock = threading.Lock()
        netns.sweep(self.prefix)  # what a crashed emulator left
        self.wan.ensure()

    def sync(self, api: ClusterAPI, access: ClusterAccess, pods: list[Obj]) -> None:
        """Make the cluster's running gateway pods (and only those) run as processes."""
        wanted = {p["metadata"]["uid"]: p for p in pods}
        with self._lock:
            gone = [u for u, r in self.pods.items() if r.cluster == access.name and u not in wanted]
        for uid in gone:
            self.stop(uid)
        for uid, pod in wanted.items():
            running = self.pods.get(uid)
            if running is None:
                self.start(api, access, pod)
            else:
                self._restart_exited(running)

    def start(self, api: ClusterAPI, access: ClusterAccess, pod: Obj) -> None:
        containers = container_args(pod)
        if not all(name in containers for name in CONTAINERS):
            return
        gateway_args = containers["gateway"][0]
        client = flag(gateway_args, "mode") == "client"
        wan_address = self.wan.client_address() if client else api.load_balancer_ip(pod)
        if wan_address is None:
            return  # a server waits for its LoadBalancer IP, as its clients do
        uid, meta = pod["metadata"]["uid"], pod["metadata"]
        running = RunningPod(
            uid=uid,
            cluster=access.name,
            namespace=meta["namespace"],
            name=meta["name"],
            netns=f"{self.prefix}-{uid[:8]}",
            directory=self.root / uid[:8],
            wan_address=wan_address,
            client=client,
            argv={},
            env={},
        )
        with self._lock:
            self.pods[uid] = running
        try:
            self._prepare(api, access, pod, running)
            keys_dir = running.directory / "keys"
            for name in CONTAINERS:
                args, env = containers[name]
                if name == "wireguard":
                    args = userspace(args, keys_dir)
                running.argv[name] = [str(self.binaries[name]), *args]
                running.env[name] = env | {"KUBECONFIG": str(running.directory / "kubeconfig")}
                self._spawn(running, name)
        except (OSError, RuntimeError, ValueError, KeyError) as error:
            log.warning(
                "[%s] gateway pod %s/%s: %s", access.name, running.namespace, running.name, error
            )
            self.stop(uid)
            return
        log.info(
            "[%s] gateway pod %s/%s runs Liqo's gateway and wireguard in %s (%s)",
            access.name,
            running.namespace,
            running.name,
            running.netns,
            running.wan_address,
        )

    def _prepare(
        self, api: ClusterAPI, access: ClusterAccess, pod: Obj, running: RunningPod
    ) -> None:
        directory = running.directory
        shutil.rmtree(directory, ignore_errors=True)
        (directory / "keys").mkdir(parents=True, mode=0o700)
        (directory / "run-wireguard").mkdir()
        shutil.copytree("/etc/iproute2", directory / "iproute2")
        self._write_keys(api, pod, directory / "keys")
        self._write_kubeconfig(api, access, pod, directory / "kubeconfig")
        netns.add(running.netns)
        netns.sysctl(
            running.netns, "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"
        )
        self.wan.attach(
            running.netns,
            f"w{running.uid[:8]}",
            running.wan_address,
            pod.get("status", {}).get("podIP", ""),
        )
        self.relays.open(running.netns, access.port)

    @staticmethod
    def _write_keys(api: ClusterAPI, pod: Obj, keys_dir: Path) -> None:
        """The keys Secret's items as files, as its volume would mount them."""
        for volume in pod["spec"].get("volumes") or []:
            secret_name = (volume.get("secret") or {}).get("secretName")
            if not secret_name:
                continue
            secret = api.get_secret(secret_name, pod["metadata"]["namespace"])
            if secret is None:
                raise ValueError(f"Secret {secret_name} not found")
            for key, value in (secret.get("data") or {}).items():
                path = keys_dir / key
                path.write_bytes(base64.b64decode(value))
                path.chmod(0o600)

    @staticmethod
    def _write_kubeconfig(api: ClusterAPI, access: ClusterAccess, pod: Obj, path: Path) -> None:
        """A kubeconfig with a token of the pod's ServiceAccount (TokenRequest, as a projected
        service-account volume holds), never an admin's credentials."""
        namespace = pod["metadata"]["namespace"]
        account = pod["spec"].get("serviceAccountName") or "default"
        review = api.raw(
            "POST",
            f"/api/v1/namespaces/{namespace}/serviceaccounts/{account}/token",
            body={
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenRequest",
                "spec": {"expirationSeconds": 86400},
            },
        )
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": access.name,
                    "cluster": {
                        "server": f"https://127.0.0.1:{access.port}",
                        "certificate-authority-data": access.ca_data,
                    },
                }
            ],
            "users": [{"name": account, "user": {"token": review["status"]["token"]}}],
            "contexts": [
                {"name": access.name, "context": {"cluster": access.name, "user": account}}
            ],
            "current-context": access.name,
        }
        path.touch(mode=0o600)
        path.write_text(yaml.safe_dump(config))

    def _spawn(self, running: RunningPod, name: str) -> None:
        log_file = (running.directory / f"{name}.log").open("ab")
        running.processes[name] = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                running.netns,
                "sh",
                "-c",
                CONTAINER_SHELL,
                "sh",
                str(running.directory),
                *running.argv[name],
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **running.env[name]},
        )
        log_file.close()

    def _restart_exited(self, running: RunningPod) -> None:
        for name, process in running.processes.items():
            if process.poll() is not None:
                log.info(
                    "[%s] %s of %s/%s exited (%s); starting it again",
                    running.cluster,
                    name,
                    running.namespace,
                    running.name,
                    process.returncode,
                )
                self._spawn(running, name)

    def stop(self, uid: str) -> None:
        with self._lock:
            running = self.pods.pop(uid, None)
        if running is None:
            return
        processes = list(running.processes.values())
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)  # a fault may have stopped it
                process.terminate()
        deadline = time.monotonic() + STOP_GRACE
        for process in processes:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.relays.close(running.netns)
        netns.delete(running.netns)
        if running.client:
            self.wan.release(running.wan_address)
        shutil.rmtree(running.directory, ignore_errors=True)
        log.info(
            "[%s] gateway pod %s/%s stopped, %s removed",
            running.cluster,
            running.namespace,
            running.name,
            running.netns,
        )

    def close(self) -> None:
        """Stop every pod's processes and remove the lab's namespaces."""
        for uid in list(self.pods):
            self.stop(uid)
        self.relays.stop()
        netns.sweep(self.prefix)
