"""Start, find and stop the lab's control planes: etcd, kube-apiserver, kube-controller-manager,
and with ``LAB_LIQO=real`` Liqo's own controller-manager and IPAM.

Each cluster is a real control plane on loopback with TLS and client certificates, so clients see
what they would see on a real cluster (RBAC, admission, garbage collection, namespace deletion).
No kubelet or scheduler runs: the Liqo emulator plays the parts that would need them. Processes
are detached (own session) so the lab outlives the command that started it; ``state.json`` in the
lab directory records their pids and ports, and ``down`` kills exactly those. A running lab
switches between ``LAB_LIQO`` modes by swapping only the processes that play Liqo's controllers.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http.client
import ipaddress
import json
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from lab import build, liqo_auth
from lab.datapath import netns
from lab.datapath.sandbox import expand
from lab.liqo_baseline import (
    IPAM_PORT,
    controller_manager_args,
    ipam_args,
    register_webhooks,
    unregister_webhooks,
    webhook_args,
)
from lab.pki import ClusterPKI, KeyPair
from lab.topology import (
    LIQO_NAMESPACE,
    ClusterSpec,
    DatapathMode,
    LiqoMode,
    Topology,
    datapath_mode_from_env,
    liqo_mode_from_env,
    topology_from_env,
)

if TYPE_CHECKING:
    from kubernetes.client import CustomObjectsApi

REPO_ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 90.0  # seconds; a cold kube-apiserver on 2 busy cores takes about 10
# The lab has no kubelets, so nothing heartbeats: node lifecycle would taint and evict everything.
DISABLED_CONTROLLERS = ("node-lifecycle-controller",)
# What ``ClusterControlPlane.start_liqo`` runs per cluster in real mode, by their names in pids.
LIQO_PROCESSES = ("ipam", "liqo-controller-manager", "webhook")
GATEWAY_PODS = "networking.liqo.io/component=gateway"


def lab_dir() -> Path:
    return Path(os.environ.get("LAB_DIR", REPO_ROOT / ".lab"))


def kubeconfig_path() -> Path:
    return lab_dir() / "kubeconfig"


def faults_path() -> Path:
    return lab_dir() / "emulator" / "faults.json"


def context_kubeconfig(context: str) -> dict[str, Any]:
    """The lab's kubeconfig cut down to ``context``, as a kubeconfig of that cluster alone."""
    config: dict[str, Any] = yaml.safe_load(kubeconfig_path().read_text())
    (kept,) = [c for c in config["contexts"] if c["name"] == context]
    config["contexts"] = [kept]
    config["clusters"] = [c for c in config["clusters"] if c["name"] == kept["context"]["cluster"]]
    config["users"] = [u for u in config["users"] if u["name"] == kept["context"]["user"]]
    config["current-context"] = context
    return config


def set_emulator_faults(faults: dict[str, object]) -> None:
    """Tell the running emulator which steps to hang or fail ({} clears them; see FIDELITY.md).

    Written atomically: the emulator re-reads the file as soon as it changes.
    """
    path = faults_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_suffix(".tmp")
    staged.write_text(json.dumps(faults))
    staged.replace(path)


@dataclass
class ClusterState:
    name: str
    etcd_port: int
    etcd_peer_port: int
    apiserver_port: int
    pids: dict[str, int] = field(default_factory=dict)
    liqo_ports: dict[str, int] = field(default_factory=dict)  # ipam, metrics, health (real Liqo)


@dataclass
class LabState:
    clusters: list[ClusterState]
    emulator_pid: int | None = None
    liqo: LiqoMode = "emulated"
    datapath: DatapathMode = "emulated"

    def save(self) -> None:
        (lab_dir() / "state.json").write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls) -> LabState | None:
        path = lab_dir() / "state.json"
        if not path.is_file():
            return None
        raw = json.loads(path.read_text())
        return cls(
            clusters=[ClusterState(**c) for c in raw["clusters"]],
            emulator_pid=raw.get("emulator_pid"),
            liqo=raw.get("liqo", "emulated"),
            datapath=raw.get("datapath", "emulated"),
        )

    def all_pids(self) -> list[int]:
        pids = [pid for c in self.clusters for pid in c.pids.values()]
        return pids + ([self.emulator_pid] if self.emulator_pid else [])


# Below Linux's ephemeral range (32768-60999): a port from bind(0) can be taken, between our
# check and the server's bind, by any outgoing connection's source port; these never are.
LAB_PORTS = range(20000, 32768)
_handed_out: set[int] = set()


def _free_port() -> int:
    """A loopback port nobody listens on, never handed out twice by this process."""
    while True:
        port = random.choice(LAB_PORTS)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child of this process still answers kill(0); its /proc state says Z.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _spawn(name: str, argv: list[str], log_dir: Path, env: dict[str, str] | None = None) -> int:
    log = (log_dir / f"{name}.log").open("ab")
    process = subprocess.Popen(
        argv,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    )
    return process.pid


class ClusterControlPlane:
    """One cluster's directory layout, certificates and processes."""

    def __init__(self, state: ClusterState) -> None:
        self.state = state
        self.dir = lab_dir() / state.name
        self.pki_dir = self.dir / "pki"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.state.apiserver_port}"

    def pair(self, stem: str) -> KeyPair:
        return KeyPair(self.pki_dir / f"{stem}.crt", self.pki_dir / f"{stem}.key")

    def issue_certificates(self, service_cidr_first_ip: str) -> None:
        pki = ClusterPKI(self.pki_dir, self.state.name)
        pki.issue(
            "apiserver",
            "kube-apiserver",
            server_names=(
                "127.0.0.1",
                "localhost",
                service_cidr_first_ip,
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
            ),
        )
        pki.issue("admin", f"{self.state.name}-admin", organization="system:masters")
        pki.issue("controller-manager", "system:kube-controller-manager")
        pki.service_account_keys()

    def kubeconfig_for(self, user: str, pair: KeyPair) -> dict[str, object]:
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": self.state.name, "cluster": self._cluster_entry()}],
            "users": [{"name": user, "user": _user_entry(pair)}],
            "contexts": [
                {"name": self.state.name, "context": {"cluster": self.state.name, "user": user}}
            ],
            "current-context": self.state.name,
        }

    def _cluster_entry(self) -> dict[str, str]:
        ca = (self.pki_dir / "ca.crt").read_bytes()
        return {"server": self.server, "certificate-authority-data": base64.b64encode(ca).decode()}

    def start_etcd(self, binary: Path) -> None:
        data = self.dir / "etcd"
        client = f"http://127.0.0.1:{self.state.etcd_port}"
        peer = f"http://127.0.0.1:{self.state.etcd_peer_port}"
        self.state.pids["etcd"] = _spawn(
            "etcd",
            [
                str(binary),
                f"--name={self.state.name}",
                f"--data-dir={data}",
                f"--listen-client-urls={client}",
                f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster={self.state.name}={peer}",
                # A throwaway lab store: skipping fsync makes start-up and writes several times
                # faster on shared disks and loses nothing that matters after a crash.
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
            self.dir,
        )

    def start_apiserver(self, binary: Path, service_cidr: str) -> None:
        pki = self.pki_dir
        self.state.pids["kube-apiserver"] = _spawn(
            "kube-apiserver",
            [
                str(binary),
                f"--etcd-servers=http://127.0.0.1:{self.state.etcd_port}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.state.apiserver_port}",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                "--service-account-issuer=https://kubernetes.default.svc",
                f"--service-cluster-ip-range={service_cidr}",
                "--authorization-mode=Node,RBAC",
                "--allow-privileged=true",
                f"--audit-policy-file={self._audit_policy()}",
                f"--audit-log-path={self.dir / 'audit.log'}",
                "--audit-log-maxsize=100",
                "--audit-log-maxbackup=1",
            ],
            self.dir,
        )

    def _audit_policy(self) -> Path:
        # Metadata-level audit lets benchmarks count requests per client at the API server.
        path = self.dir / "audit-policy.yaml"
        policy = {
            "apiVersion": "audit.k8s.io/v1",
            "kind": "Policy",
            "omitStages": ["RequestReceived"],
            "rules": [{"level": "Metadata"}],
        }
        path.write_text(yaml.safe_dump(policy))
        return path

    def start_controller_manager(self, binary: Path) -> None:
        kubeconfig = self.dir / "controller-manager.kubeconfig"
        kubeconfig.write_text(
            yaml.safe_dump(
                self.kubeconfig_for(
                    "system:kube-controller-manager", self.pair("controller-manager")
                )
            )
        )
        kubeconfig.chmod(0o600)
        controllers = ",".join(["*", *(f"-{c}" for c in DISABLED_CONTROLLERS)])
        self.state.pids["kube-controller-manager"] = _spawn(
            "kube-controller-manager",
            [
                str(binary),
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                f"--controllers={controllers}",
                f"--cluster-name={self.state.name}",
                f"--service-account-private-key-file={self.pki_dir / 'sa.key'}",
                f"--root-ca-file={self.pki_dir / 'ca.crt'}",
                "--use-service-account-credentials=true",
                # Signs CSRs with the cluster CA, as kubeadm clusters do: liqoctl's peering-user
                # kubeconfigs are client certificates issued through a CSR.
                f"--cluster-signing-cert-file={self.pki_dir / 'ca.crt'}",
                f"--cluster-signing-key-file={self.pki_dir / 'ca.key'}",
                "--leader-elect=false",
                "--secure-port=0",
            ],
            self.dir,
        )

    def start_liqo(self, binaries: dict[str, Path], spec: ClusterSpec) -> None:
        """Liqo's IPAM and controller-manager for this cluster, out of cluster, with the chart's
        arguments, the admin credentials, and free loopback ports for what the pod would bind."""
        kubeconfig = self.dir / "liqo.kubeconfig"
        kubeconfig.write_text(
            yaml.safe_dump(self.kubeconfig_for(f"{self.state.name}-admin", self.pair("admin")))
        )
        kubeconfig.chmod(0o600)
        ports = {
            name: _free_port()
            for name in (
                "ipam",
                "metrics",
                "health",
                "webhook",
                "webhook-metrics",
                "webhook-health",
            )
        }
        self.state.liqo_ports = ports
        pod = {
            "CLUSTER_ID": spec.name,
            "POD_NAMESPACE": LIQO_NAMESPACE,
            "POD_NAME": f"liqo-ipam-{spec.name}",
        }
        env = dict(os.environ, KUBECONFIG=str(kubeconfig), **pod)
        # The IPAM listens on 0.0.0.0 (Liqo v1.2.0 has no bind-address flag) at this port.
        ipam = [expand(a, pod) for a in ipam_args()]
        ipam = [f"--port={ports['ipam']}" if a == f"--port={IPAM_PORT}" else a for a in ipam]
        self.state.pids["ipam"] = _spawn(
            "ipam", _restarted("ipam", [str(binaries["ipam"]), *ipam]), self.dir, env
        )
        manager = [
            _liqo_manager_arg(expand(a, pod), ports["ipam"], spec.role)
            for a in controller_manager_args(self.server)
        ]
        manager += [
            f"--metrics-address=127.0.0.1:{ports['metrics']}",
            f"--health-probe-address=127.0.0.1:{ports['health']}",
        ]
        self.state.pids["liqo-controller-manager"] = _spawn(
            "liqo-controller-manager",
            _restarted(
                "liqo-controller-manager", [str(binaries["liqo-controller-manager"]), *manager]
            ),
            self.dir,
            env,
        )
        self.state.pids["webhook"] = _spawn(
            "webhook",
            _restarted("webhook", [str(binaries["webhook"]), *self._webhook_args(spec, pod)]),
            self.dir,
            # controller-runtime serves the certificates of $TMPDIR/k8s-webhook-server/...
            env | {"TMPDIR": str(self._webhook_certificates().parent.parent)},
        )

    def _webhook_args(self, spec: ClusterSpec, pod: dict[str, str]) -> list[str]:
        ports = self.state.liqo_ports
        return [expand(a, pod) for a in webhook_args(spec)] + [
            f"--webhook-port={ports['webhook']}",
            f"--metrics-address=127.0.0.1:{ports['webhook-metrics']}",
            f"--health-probe-address=127.0.0.1:{ports['webhook-health']}",
        ]

    def _webhook_certificates(self) -> Path:
        """The API server's serving pair (same CA, 127.0.0.1 in its SANs) as the webhook's."""
        certs = self.dir / "webhook" / "k8s-webhook-server" / "serving-certs"
        certs.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.pki_dir / "apiserver.crt", certs / "tls.crt")
        shutil.copyfile(self.pki_dir / "apiserver.key", certs / "tls.key")
        (certs / "tls.key").chmod(0o600)
        return certs

    @property
    def webhook_url(self) -> str:
        return f"https://127.0.0.1:{self.state.liqo_ports['webhook']}"

    def liqo_ready(self) -> bool:
        """Liqo's controller-manager (which connects to the IPAM first) and webhook answer their
        readiness probes."""
        for probe in ("health", "webhook-health"):
            url = f"http://127.0.0.1:{self.state.liqo_ports[probe]}/readyz"
            try:
                with urllib.request.urlopen(url, timeout=2) as answer:
                    if answer.status != 200:
                        return False
            except OSError:
                return False
        return True

    def ready(self) -> bool:
        try:
            with self._admin_get("/readyz") as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    def revision(self) -> str:
        """The store's current revision: it moves with every write to the cluster."""
        with self._admin_get("/api/v1/namespaces?limit=1") as answer:
            return str(json.load(answer)["metadata"]["resourceVersion"])

    def _admin_get(self, path: str) -> http.client.HTTPResponse:
        context = ssl.create_default_context(cafile=str(self.pki_dir / "ca.crt"))
        admin = self.pair("admin")
        context.load_cert_chain(str(admin.cert), str(admin.key))
        answer: http.client.HTTPResponse = urllib.request.urlopen(
            f"{self.server}{path}", context=context, timeout=2
        )
        return answer

    def processes_alive(self) -> bool:
        return bool(self.state.pids) and all(_alive(pid) for pid in self.state.pids.values())


# What the kubelet does for a pod's crashed container (restartPolicy Always), with a shorter
# back-off than its 10 s..5 min so tests do not sit it out. Liqo v1.2.0 needs it here: its
# controller-manager panics on a deletion its informer only learns of after a watch gap (the
# cluster's API server stopped in a test), and its IPAM exits when a sync cannot reach the
# API server.
RESTART_LOOP = """
delay=1
while :; do
  "$@"
  echo "lab: $0 exited with $?; restarted in ${delay}s, as the kubelet restarts a container" >&2
  sleep "$delay"
  [ "$delay" -lt 8 ] && delay=$((delay * 2))
done
"""


def _restarted(name: str, argv: list[str]) -> list[str]:
    """``argv`` run again whenever it exits; the group's signals reach both (stop, SIGSTOP)."""
    return ["/bin/sh", "-c", RESTART_LOOP, name, *argv]


def _liqo_manager_arg(argument: str, ipam_port: int, role: str) -> str:
    """The chart's argument, adapted to a process beside the others on one host."""
    if argument.startswith("--ipam-server="):
        return f"--ipam-server=127.0.0.1:{ipam_port}"
    if argument == "--offloading-enabled=true" and role == "consumer":
        # Central's VirtualNodes have no spec.template (Liqo's webhook fills it on a real install)
        # and no virtual kubelet can run here: the offloading module would crash on them and
        # create virtual-kubelet Deployments. The lab plays the virtual nodes itself.
        return "--offloading-enabled=false"
    return argument


def _user_entry(pair: KeyPair) -> dict[str, str]:
    return {
        "client-certificate-data": base64.b64encode(pair.cert.read_bytes()).decode(),
        "client-key-data": base64.b64encode(pair.key.read_bytes()).decode(),
    }


def _first_service_ip(service_cidr: str) -> str:
    return str(next(ipaddress.ip_network(service_cidr).hosts()))


def _wait_for_quiet(planes: list[ClusterControlPlane], timeout: float = 15.0) -> None:
    """Until a second passes without a write on any cluster, or ``timeout``: whoever takes over
    Liqo's controllers first rewrites what it disagrees with (Liqo's controller-manager about
    forty objects in its first two seconds), and a test started meanwhile would see it move.
    The emulator's latency refreshes keep writing now and then, so this never waits for more."""
    deadline = time.monotonic() + timeout
    last = [p.revision() for p in planes]
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = [p.revision() for p in planes]
        if now == last:
            return
        last = now


def _wait(what: str, predicate: Callable[[], bool], timeout: float = STARTUP_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise RuntimeError(f"lab: timed out after {timeout:.0f}s waiting for {what}")


class Lab:
    """The whole lab: every cluster of the topology, the shared kubeconfig and the emulator."""

    def __init__(
        self,
        topology: Topology | None = None,
        liqo: LiqoMode | None = None,
        datapath: DatapathMode | None = None,
    ) -> None:
        self.topology = topology or topology_from_env()
        self.liqo: LiqoMode = liqo or liqo_mode_from_env()
        self.datapath: DatapathMode = datapath or datapath_mode_from_env()

    @property
    def carrier(self) -> DatapathMode:
        """The data path the lab runs: Liqo's gateways need Liqo's controllers (their routes and
        firewall rules), so emulated controllers mean an emulated data path."""
        return self.datapath if self.liqo == "real" else "emulated"

    def running(self) -> bool:
        """Every process alive and every API server ready, in the modes asked for."""
        state = _running_state()
        return state is not None and (state.liqo, state.datapath) == (self.liqo, self.carrier)

    def up(self) -> bool:
        """Start the lab; returns False when it already runs, switched to the Liqo mode asked for
        if it ran in the other one (seconds, where a fresh lab takes minutes)."""
        state = _running_state()
        if state is not None:
            self._switch(state, self.liqo)
            return False
        binaries = build.all_binaries(
            real_liqo=self.liqo == "real", real_datapath=self.carrier == "real"
        )
        try:
            self._start(binaries)
        except RuntimeError as error:
            # One more try from scratch: on a loaded 2-core machine a control plane can miss its
            # start-up window; a second failure is real and is raised.
            print(f"lab: start failed ({error}); starting again", file=sys.stderr)
            self._start(binaries)
        return True

    def _start(self, binaries: build.LabBinaries) -> None:
        self.down()  # a half-dead lab from an interrupted run is cleaned, never patched
        started = time.monotonic()
        lab_dir().mkdir(parents=True, exist_ok=True)
        state = LabState(
            clusters=[
                ClusterState(spec.name, _free_port(), _free_port(), _free_port())
                for spec in self.topology.clusters
            ],
            liqo=self.liqo,
            datapath=self.carrier,
        )
        planes = [ClusterControlPlane(c) for c in state.clusters]
        try:
            for plane, spec in zip(planes, self.topology.clusters, strict=True):
                plane.dir.mkdir(parents=True, exist_ok=True)
                plane.issue_certificates(_first_service_ip(spec.service_cidr))
                plane.start_etcd(binaries.etcd)
            liqo_auth.issue(self.topology, {plane.state.name: plane.pki_dir for plane in planes})
            state.save()
            for plane, spec in zip(planes, self.topology.clusters, strict=True):
                plane.start_apiserver(binaries.kube_apiserver, spec.service_cidr)
            state.save()
            for plane in planes:
                _wait(f"{plane.state.name}'s kube-apiserver /readyz", plane.ready)
                plane.start_controller_manager(binaries.kube_controller_manager)
            state.save()
            self._write_kubeconfig(planes)
            self._install_liqo(binaries.kubectl)
            state.emulator_pid = self._start_emulator()
            state.save()
            if binaries.liqo_runtime:
                self._start_real_liqo(planes, binaries.liqo_runtime)
                state.save()
            self._connect_hub_networks(binaries.liqoctl)
        except BaseException:
            state.save()
            self.down()
            raise
        print(f"lab: up in {time.monotonic() - started:.1f}s, {self.describe()}", file=sys.stderr)

    def _write_kubeconfig(self, planes: list[ClusterControlPlane]) -> None:
        merged: dict[str, object] = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": p.state.name, "cluster": p._cluster_entry()} for p in planes],
            "users": [
                {"name": f"{p.state.name}-admin", "user": _user_entry(p.pair("admin"))}
                for p in planes
            ],
            "contexts": [
                {
                    "name": p.state.name,
                    "context": {"cluster": p.state.name, "user": f"{p.state.name}-admin"},
                }
                for p in planes
            ],
            "current-context": self.topology.consumer.name,
        }
        path = kubeconfig_path()
        path.write_text(yaml.safe_dump(merged, sort_keys=False))
        path.chmod(0o600)

    def _install_liqo(self, kubectl: Path) -> None:
        """Liqo's real CRDs, then the state a Liqo install and peering leave, on every cluster."""
        crds = build.liqo_crd_files()
        self._on_every_cluster(functools.partial(self._install_liqo_on, kubectl=kubectl, crds=crds))

    def _on_every_cluster(self, work: Callable[[ClusterSpec], None]) -> None:
        with ThreadPoolExecutor(max_workers=len(self.topology.clusters)) as pool:
            for done in [pool.submit(work, spec) for spec in self.topology.clusters]:
                done.result()

    def _install_liqo_on(self, spec: ClusterSpec, kubectl: Path, crds: list[Path]) -> None:
        base = [str(kubectl), f"--kubeconfig={kubeconfig_path()}", f"--context={spec.name}"]
        apply = [*base, "apply", "--server-side", "--field-manager=liqo-lab"]
        _run_patiently([*apply, *(f"--filename={crd}" for crd in crds)])
        _run_patiently(
            [*base, "wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"]
        )
        self._install_baseline_on(spec)

    def _install_baseline_on(self, spec: ClusterSpec) -> None:
        # Imported here: both modules import this one for the lab's paths.
        from lab.kubeclient import api_client
        from lab.liqo_baseline import install_baseline

        install_baseline(api_client(spec.name), spec, self.topology, liqo=self.liqo)

    def _connect_hub_networks(self, liqoctl: Path) -> None:
        """The consumer-provider network peerings, made by the real liqoctl as `liqoctl peer` does.

        Central is the gateway client and each edge the server (pkg/liqoctl/peer/handler.go), so
        the edges start with a GatewayServer for central, as on a real peered edge.
        """
        consumer = self.topology.consumer.name
        kubeconfig = kubeconfig_path()
        # A few at once: fifteen liqoctl runs on two cores would time out waiting for each other;
        # one that still does is run again (a connect converges).
        with ThreadPoolExecutor(max_workers=min(4, len(self.topology.providers))) as pool:
            runs = [
                pool.submit(
                    _run_patiently,
                    [
                        str(liqoctl),
                        "network",
                        "connect",
                        f"--kubeconfig={kubeconfig}",
                        f"--context={consumer}",
                        f"--remote-kubeconfig={kubeconfig}",
                        f"--remote-context={provider.name}",
                        "--wait",
                        "--timeout=60s",
                        "--skip-confirm",
                    ],
                )
                for provider in self.topology.providers
            ]
            for run in runs:
                run.result()

    def _start_real_liqo(self, planes: list[ClusterControlPlane], runtime: dict[str, Path]) -> None:
        """Liqo's IPAM and controller-manager on every cluster at once; ready in a few seconds,
        and ready for a test once central's ForeignClusters say Provider again: Liqo's controller
        derives their status from the peering's Identities, the lab does not write it."""
        for plane, spec in zip(planes, self.topology.clusters, strict=True):
            plane.start_liqo(runtime, spec)
        for plane in planes:
            _wait(f"{plane.state.name}'s liqo-controller-manager /readyz", plane.liqo_ready)
        from kubernetes.client import CustomObjectsApi

        from lab.kubeclient import api_client  # imports this module for the lab's paths

        for plane in planes:
            ca_bundle = base64.b64encode((plane.pki_dir / "ca.crt").read_bytes()).decode()
            register_webhooks(api_client(plane.state.name), plane.webhook_url, ca_bundle)

        central = CustomObjectsApi(api_client(self.topology.consumer.name))  # one for every poll
        _wait(
            "central's ForeignClusters to say Provider",
            functools.partial(self._providers_known, central),
        )

    def _providers_known(self, central: CustomObjectsApi) -> bool:
        listing: dict[str, Any] = central.list_cluster_custom_object(  # type: ignore[assignment]
            "core.liqo.io", "v1beta1", "foreignclusters"
        )
        roles = {
            item["metadata"]["name"]: (item.get("status") or {}).get("role")
            for item in listing["items"]
        }
        return all(roles.get(p.name) == "Provider" for p in self.topology.providers)

    def switch(self, mode: LiqoMode) -> None:
        """Have ``mode`` play Liqo's controllers on the running lab from now on."""
        state = _running_state()
        if state is None:
            raise RuntimeError("lab: not running: start it with `python -m lab up`")
        self._switch(state, mode)

    @contextlib.contextmanager
    def playing(self, mode: LiqoMode) -> Iterator[None]:
        """Liqo's controllers played by ``mode`` inside the block, by the mode before it after."""
        before = self.liqo
        self.switch(mode)
        try:
            yield
        finally:
            self.switch(before)

    @contextlib.contextmanager
    def carrying(self, mode: DatapathMode) -> Iterator[None]:
        """The gateway pods' packets carried by ``mode`` inside the block (see ``carrier``)."""
        before = self.datapath
        self.switch_datapath(mode)
        try:
            yield
        finally:
            self.switch_datapath(before)

    def switch_datapath(self, mode: DatapathMode) -> None:
        """Have ``mode`` carry the gateway pods' packets on the running lab from now on: only the
        emulator restarts (it runs the real gateways), the clusters keep everything."""
        state = _running_state()
        if state is None:
            raise RuntimeError("lab: not running: start it with `python -m lab up`")
        self.datapath = mode
        if state.datapath == self.carrier:
            return
        started = time.monotonic()
        if state.emulator_pid is not None:
            _stop([state.emulator_pid])
        state.emulator_pid, state.datapath = None, self.carrier
        state.save()
        self._ensure_gateway_binaries()
        state.emulator_pid = self._start_emulator()
        state.save()
        if self.carrier == "real":
            _wait("the real data path's nodes and gateway pods", self._datapath_running)
        print(
            f"lab: data path now {describe_datapath(self.carrier)} "
            f"({time.monotonic() - started:.1f}s)",
            file=sys.stderr,
        )

    def _datapath_running(self) -> bool:
        """Every cluster's node and every gateway pod has its namespace (lab/datapath)."""
        from lab.emulator import kube as k  # imports the kubernetes client: only when asked

        prefix = netns.prefix(lab_dir())
        owned = set(netns.owned(prefix))
        if not {f"{prefix}-node-{c.name}" for c in self.topology.clusters} <= owned:
            return False
        gateway_pods = sum(
            len(k.Kube(str(kubeconfig_path()), c.name).list(k.PODS, selector=GATEWAY_PODS))
            for c in self.topology.clusters
        )
        sandboxes = [n for n in owned if len(n) == len(prefix) + 9]  # <prefix>-<uid[:8]>
        return len(sandboxes) >= gateway_pods

    def _ensure_gateway_binaries(self) -> None:
        if self.carrier == "real":
            build.liqo_gateway_binaries()

    def _switch(self, state: LabState, mode: LiqoMode) -> None:
        """Swap what plays Liqo's controllers, keeping the clusters and everything in them.

        Neither side keeps state of its own: Liqo's IPAM rebuilds its pools from the Networks'
        status and the emulator is level-triggered, so each takes over the other's objects.
        """
        self.liqo = mode
        if state.liqo == mode:
            if state.datapath != self.carrier:
                self.switch_datapath(self.datapath)
            return
        started = time.monotonic()
        planes = [ClusterControlPlane(c) for c in state.clusters]
        stopped = [
            p.state.pids.pop(name)
            for p in planes
            for name in LIQO_PROCESSES
            if name in p.state.pids
        ]
        if state.emulator_pid is not None:
            stopped.append(state.emulator_pid)
        _stop(stopped)
        for plane in planes:
            plane.state.liqo_ports = {}
        state.emulator_pid, state.liqo, state.datapath = None, mode, self.carrier
        state.save()
        if mode == "emulated":
            from lab.kubeclient import api_client

            for plane in planes:  # nothing would answer them
                unregister_webhooks(api_client(plane.state.name))
            # Liqo's controllers rewrote some of the baseline as the lab's departures make them
            # see it (central's ForeignClusters: offloading disabled); nothing would write it
            # back, so the lab would not be the one an emulated start makes.
            self._on_every_cluster(self._install_baseline_on)
        self._ensure_gateway_binaries()
        state.emulator_pid = self._start_emulator()
        state.save()
        if mode == "real":
            self._start_real_liqo(planes, build.liqo_runtime_binaries())
            state.save()
        _wait_for_quiet(planes)
        print(
            f"lab: switched to {describe_mode(mode)} in {time.monotonic() - started:.1f}s",
            file=sys.stderr,
        )

    def _start_emulator(self) -> int:
        faults_path().parent.mkdir(parents=True, exist_ok=True)
        # With real Liqo the emulator keeps only what has no runtime here (FIDELITY.md).
        pods_only = ["--pods-only"] if self.liqo == "real" else []
        real_gateways = ["--real-gateways"] if self.carrier == "real" else []
        return _spawn(
            "emulator",
            [
                sys.executable,
                "-m",
                "lab.emulator",
                f"--kubeconfig={kubeconfig_path()}",
                f"--faults={faults_path()}",
                # Seconds between passes without events; a lab of many edges raises it (each
                # pass lists every emulated kind) to leave the API servers some CPU.
                f"--resync={os.environ.get('LAB_EMULATOR_RESYNC', '1.0')}",
                *pods_only,
                *real_gateways,
            ],
            lab_dir(),
        )

    def down(self) -> None:
        """Stop every process this lab started and remove its state."""
        state = LabState.load()
        if state is not None:
            _stop(state.all_pids())
        # The emulator removes the real gateways' namespaces as it stops; a killed one cannot.
        netns.sweep(netns.prefix(lab_dir()))
        shutil.rmtree(lab_dir(), ignore_errors=True)

    @contextlib.contextmanager
    def apiserver_stopped(self, name: str, *, crash: bool = False) -> Iterator[None]:
        """``name``'s kube-apiserver is down inside the block, and up and ready again after it,
        on the same address: an edge that goes away and comes back. ``crash`` kills it at once
        (SIGKILL: open connections drop) instead of its graceful shutdown, which serves on for
        seconds."""
        state = LabState.load()
        if state is None:
            raise RuntimeError("the lab is not running")
        plane = ClusterControlPlane(next(c for c in state.clusters if c.name == name))
        pid = plane.state.pids["kube-apiserver"]
        if crash:
            signal_group(pid, signal.SIGKILL)
            _wait(f"{name}'s kube-apiserver to die", lambda: not _alive(pid))
        else:
            _stop([pid])
        try:
            yield
        finally:
            spec = next(spec for spec in self.topology.clusters if spec.name == name)
            plane.start_apiserver(build.kube_binaries()["kube-apiserver"], spec.service_cidr)
            state.save()
            _wait(f"{name}'s kube-apiserver /readyz", plane.ready)

    def describe(self) -> str:
        state = LabState.load()
        if state is None:
            return "not running"
        rss = sum(_rss_kib(pid) for pid in state.all_pids())
        names = ", ".join(c.name for c in state.clusters)
        return (
            f"clusters {names}; {describe_mode(state.liqo)}; "
            f"data path {describe_datapath(state.datapath)}; {rss / 1024:.0f} MiB resident; "
            f"kubeconfig {kubeconfig_path()}"
        )


def describe_mode(mode: LiqoMode) -> str:
    """Who plays Liqo's controllers, in the words ``python -m lab`` prints."""
    if mode == "real":
        return "Liqo real (Liqo's controller-manager and IPAM, emulator for pods only)"
    return "Liqo emulated (the emulator plays Liqo's controllers and pods)"


def describe_datapath(mode: DatapathMode) -> str:
    if mode == "real":
        return "real (Liqo's gateway and wireguard binaries in network namespaces)"
    return "emulated (the emulator writes the gateways' Connections)"


def running_mode() -> LiqoMode | None:
    """The Liqo mode the lab runs in, whichever was asked for; None when it is not running."""
    state = _running_state()
    return None if state is None else state.liqo


def _running_state() -> LabState | None:
    """The lab's state when every process is alive and every API server ready, in either mode."""
    state = LabState.load()
    if state is None or not kubeconfig_path().is_file():
        return None
    planes = [ClusterControlPlane(c) for c in state.clusters]
    emulator_ok = state.emulator_pid is not None and _alive(state.emulator_pid)
    healthy = emulator_ok and all(p.processes_alive() and p.ready() for p in planes)
    return state if healthy else None


def _stop(pids: list[int]) -> None:
    """SIGTERM to each process group, SIGKILL to what is still alive 10 seconds later."""
    alive = [pid for pid in pids if _alive(pid)]
    for pid in alive:
        signal_group(pid, signal.SIGTERM)
        # A process a fault switch stopped (lab.faults) only acts on SIGTERM once continued.
        signal_group(pid, signal.SIGCONT)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in alive) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in alive:
        if _alive(pid):
            signal_group(pid, signal.SIGKILL)


def signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _run_patiently(command: list[str], attempts: int = 3) -> None:
    """Run a command that converges (a kubectl apply, a liqoctl connect), again after a
    failure: sixteen API servers starting on two cores time requests out now and then. The last
    failure is raised with what the command said."""
    for attempt in range(1, attempts + 1):
        done = subprocess.run(command, check=False, capture_output=True, text=True)
        if done.returncode == 0:
            return
        if attempt < attempts:
            time.sleep(2.0 * attempt)
    said = f"{done.stdout.strip()[-2000:]}\n{done.stderr.strip()[-2000:]}".strip()
    raise RuntimeError(f"lab: {' '.join(command)} failed:\n{said}")
