"""Make one step of Liqo's connect sequence hang or fail on one cluster, whatever the lab mode.

Tests say "this step hangs (or fails) on that cluster" here, once, in the fault switches' format
(lab/FIDELITY.md, "Fault switches"). The emulator reads the switches from a file, and in real mode
still plays the gateway pods' steps from it. Liqo's real controller-manager reads no such file, so
with ``LAB_LIQO=real`` its steps are made to hang or fail from outside, as they would on a real
cluster: a stopped process (SIGSTOP, like a frozen pod) or an admission policy that refuses the
controller's write (like a site's policy engine). Clearing the switches resumes every process and
withdraws every policy made here, so a test's teardown leaves the lab as it found it.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from kubernetes import client
from kubernetes.client import ApiClient

from lab import admission
from lab.cluster import ClusterState, LabState, lab_dir, set_emulator_faults, signal_group
from lab.datapath import netns
from lab.emulator.faults import PEER_STEPS, ClusterFaults, Faults, parse_faults
from lab.kubeclient import api_client

FAULT_LABEL = "lab.liqo-shortcut.io/fault"  # on the policies made here: the step they fail
PROBE_NAMESPACE = "default"


@dataclass(frozen=True)
class Refusal:
    """The create of Liqo's controller-manager that a policy refuses to fail a step: objects of
    ``plural`` that carry the label ``label``. ``probe_spec`` is the smallest spec the API server
    accepts, since a dry-run probe passes schema validation before it meets the policy."""

    group: str
    version: str
    kind: str
    plural: str
    label: str
    probe_spec: dict[str, Any]


# The first write of each step on Liqo v1.2.0's code path (lab/FIDELITY.md says what Liqo shows).
REFUSALS: dict[str, Refusal] = {
    # configuration/network.go EnsureNetwork: one Network per remote CIDR, before any status
    "configuration": Refusal(
        "ipam.liqo.io",
        "v1alpha1",
        "Network",
        "networks",
        "configuration.liqo.io/cidr-type",
        {"cidr": "10.255.0.0/16"},
    ),
    # server-operator and client-operator: the WgGateway* rendered from the template
    "gateway-server": Refusal(
        "networking.liqo.io",
        "v1beta1",
        "WgGatewayServer",
        "wggatewayservers",
        "liqo.io/remote-cluster-id",
        {"deployment": {}, "service": {}},
    ),
    "gateway-client": Refusal(
        "networking.liqo.io",
        "v1beta1",
        "WgGatewayClient",
        "wggatewayclients",
        "liqo.io/remote-cluster-id",
        {"deployment": {}},
    ),
    # wireguard/utils.go ensureKeysSecret, through pkg/gateway/tunnel/wireguard CreateKeysSecret
    "keys": Refusal("", "v1", "Secret", "secrets", "networking.liqo.io/gateway-resource", {}),
}
# A configuration that hangs: the controller-manager is stopped. Stopping the IPAM instead hangs
# only the remapping of new CIDRs: the Configuration controller still rewrites a status from
# Networks already remapped, and the acquire that waited completes on resume for a Network the
# rollback is deleting, leaving its CIDR taken in the IPAM until the next sync.
CONTROLLER_MANAGER = "liqo-controller-manager"
STOPPED_BY_HANG = {"configuration": CONTROLLER_MANAGER}


@dataclass(frozen=True)
class RealFaults:
    """What one cluster's real Liqo processes are made to do: which are stopped, and which
    steps' writes are refused."""

    stopped: frozenset[str] = frozenset()
    refused: frozenset[str] = frozenset()


def real_faults(faults: ClusterFaults) -> RealFaults:
    """The processes to stop and the writes to refuse for one cluster's controller-side faults."""
    stopped: set[str] = set()
    refused: set[str] = set()
    for step, mode in faults.steps.items():
        # The later steps hang by the refusal too: stopping the controller-manager would hang the
        # configuration before them, and a refused create is, to anything that waits for the
        # object, a step never performed (Liqo retries with backoff).
        if mode == "hang" and step in STOPPED_BY_HANG:
            stopped.add(STOPPED_BY_HANG[step])
        elif step in REFUSALS:
            refused.add(step)
    return RealFaults(frozenset(stopped), frozenset(refused))


def set_faults(faults: Mapping[str, object]) -> None:
    """Make the steps ``faults`` names hang or fail from now on, and no others ({} clears them).

    Returns once they are in force: processes stopped, policies enforced, the emulator's file
    written (it re-reads it at once). Raises ValueError, changing nothing, on a malformed entry.
    """
    parsed = parse_faults(faults)
    state = LabState.load()
    if state is not None and state.datapath == "real" and _on_the_gateways(parsed):
        raise ValueError(
            "connection and latency switches are the emulated gateways': on the real data path "
            "drop_tunnel() stops a tunnel, or a test runs with lab.carrying('emulated')"
        )
    set_emulator_faults(dict(faults))
    if state is not None and state.datapath == "real":
        _resume_gateways()
    if state is None or state.liqo != "real":
        return
    # One cluster at a time would add up each policy's second or so to take effect (or stop).
    with ThreadPoolExecutor(max_workers=len(state.clusters)) as pool:
        enforced = [
            pool.submit(_enforce, cluster, real_faults(parsed.for_cluster(cluster.name)))
            for cluster in state.clusters
        ]
        for done in enforced:
            done.result()


def _on_the_gateways(faults: Faults) -> bool:
    """Whether ``faults`` names a step the gateway pods' containers run, or a latency."""
    return any(
        cluster.latency is not None
        or any(step in PEER_STEPS for step in cluster.steps)
        or any(peer.steps or peer.latency is not None for peer in cluster.peers.values())
        for cluster in faults.clusters.values()
    )


def drop_tunnel(cluster: str, remote: str) -> None:
    """``cluster``'s tunnel toward ``remote`` stops carrying packets until ``clear_faults()``.

    On the real data path its gateway pod's wireguard process is stopped (SIGSTOP, a frozen
    container) and Liqo's own pings find out, in about ten seconds; on the emulated one the
    emulator's switch turns the Connection to Error at its next pass.
    """
    state = LabState.load()
    if state is None or state.datapath != "real":
        set_faults({cluster: {"peers": {remote: {"connected": "fail"}}}})
        return
    pods = client.CoreV1Api(api_client(cluster)).list_namespaced_pod(
        f"liqo-tenant-{remote}", label_selector="networking.liqo.io/component=gateway"
    )
    for pod in pods.items:
        uid = str(pod.metadata.uid if pod.metadata else "")
        sandbox = f"{netns.prefix(lab_dir())}-{uid[:8]}"
        for pid in netns.running(sandbox, "wireguard"):
            os.kill(pid, signal.SIGSTOP)


def _resume_gateways() -> None:
    """SIGCONT to every process of the lab's gateway namespaces (nothing to a running one)."""
    for namespace in netns.owned(netns.prefix(lab_dir())):
        for pid in netns.pids(namespace):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def clear_faults() -> None:
    """No step hangs or fails any more: every process resumed, every policy withdrawn."""
    set_faults({})


def _enforce(cluster: ClusterState, wanted: RealFaults) -> None:
    # SIGCONT to a running process does nothing: every stoppable one gets a signal either way.
    for process in set(STOPPED_BY_HANG.values()):
        stop = process in wanted.stopped
        signal_group(cluster.pids[process], signal.SIGSTOP if stop else signal.SIGCONT)
    api = api_client(cluster.name)
    policies = client.AdmissionregistrationV1Api(api).list_validating_admission_policy(
        label_selector=FAULT_LABEL
    )
    present = {(p.metadata.labels or {})[FAULT_LABEL] for p in policies.items if p.metadata}
    for step in sorted(present - wanted.refused):
        admission.withdraw(api, _policy_name(step))
        _wait_for_policy(api, cluster.name, step, enforced=False)
    for step in sorted(wanted.refused - present):
        refusal = REFUSALS[step]
        rule = {
            "apiGroups": [refusal.group],
            "apiVersions": [refusal.version],
            "operations": ["CREATE"],
            "resources": [refusal.plural],
        }
        labelled = f"has(object.metadata.labels) && '{refusal.label}' in object.metadata.labels"
        admission.refuse(
            api,
            _policy_name(step),
            [rule],
            labelled,
            _message(cluster.name, step),
            labels={FAULT_LABEL: step},
        )
        _wait_for_policy(api, cluster.name, step, enforced=True)


def _policy_name(step: str) -> str:
    return f"lab-fault-{step}"


def _message(cluster: str, step: str) -> str:
    """What the API server answers the refused controller, so its log says why."""
    return f"refused by the lab's fault switch: step {step} fails on {cluster}"


def _wait_for_policy(api: ApiClient, cluster: str, step: str, *, enforced: bool) -> None:
    refusal = REFUSALS[step]
    probe = {
        "apiVersion": "/".join(filter(None, (refusal.group, refusal.version))),
        "kind": refusal.kind,
        "metadata": {"name": "lab-fault-probe", "labels": {refusal.label: "probe"}},
        **({"spec": refusal.probe_spec} if refusal.probe_spec else {}),
    }

    def create() -> object:
        if not refusal.group:  # the keys Secret, the one core kind refused
            return client.CoreV1Api(api).create_namespaced_secret(
                PROBE_NAMESPACE, client.V1Secret.model_validate(probe), dry_run="All"
            )
        return client.CustomObjectsApi(api).create_namespaced_custom_object(
            refusal.group, refusal.version, PROBE_NAMESPACE, refusal.plural, probe, dry_run="All"
        )

    what = f"{refusal.plural} on {cluster}"
    admission.wait_until_enforced(create, _message(cluster, step), what, enforced=enforced)


@contextlib.contextmanager
def liqo_paused(cluster: str) -> Iterator[None]:
    """Liqo's controller-manager on ``cluster`` stopped inside the block (real mode), so that a
    test can set a state Liqo would at once write back (a ForeignCluster's role); the emulator
    never writes what a test sets that way, so emulated mode needs nothing."""
    state = LabState.load()
    if state is None or state.liqo != "real":
        yield
        return
    (pid,) = [c.pids[CONTROLLER_MANAGER] for c in state.clusters if c.name == cluster]
    signal_group(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        signal_group(pid, signal.SIGCONT)
