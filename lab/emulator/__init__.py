"""The Liqo emulator: a test fixture playing Liqo v1.2.0's networking controllers on the lab.

The lab runs real kube-apiservers and kube-controller-managers but no kubelet, no scheduler, no
load balancer and no Liqo pods. This package reacts to what ``liqoctl network connect`` creates
(Configuration, GatewayServer, GatewayClient, PublicKey) the way Liqo v1.2.0 does, with the same
derived objects, names, labels, owner references, finalizers, status fields and conditions:

* liqo-controller-manager: the external-network Configuration controller (spec.local, one
  ipam Network per remote CIDR, status.remote, condition ``NetworkCIDRsConfigured``), the IPAM
  Network controller (finalizer, remapping of overlapping CIDRs), the GatewayServer/Client
  controllers (WgGatewayServer/Client rendered from the template) and the WgGatewayServer/Client
  controllers (ServiceAccount, ClusterRoleBinding + finalizer, keys Secret, Deployment
  ``gw-<name>``, Service, status endpoint/secretRef/internalEndpoint);
* the kubelet and scheduler, for gateway pods only (a Node ``<context>-node``, binding, Running and
  Ready status, final deletion); a MetalLB-like load balancer for gateway Services (127.0.<n>.100+);
* the gateway pod itself: Connection ``gw-<gateway>`` once the PublicKey of its peer exists,
  ``Connecting`` then ``Connected`` when both ends hold each other's keys, latency refreshed every
  ``latency_interval`` seconds; ``Error`` after ``loss_timeout`` seconds without the peer.

Run it with ``python -m lab.emulator --kubeconfig .lab/kubeconfig --faults
.lab/emulator/faults.json [--context edge-a ...]``, or in process::

    with Emulator(".lab/kubeconfig", ["edge-a", "edge-b"], faults=path):
        ...

Fault switches: a JSON file, re-read whenever it changes (missing = no faults)::

    {"edge-a": {"gateway-pod": "hang", "latency": "35ms",
                "peers": {"edge-b": {"connected": "fail"}}}, "*": {...}}

Keys are contexts or ``"*"`` (all clusters; a cluster's own entry wins step by step); ``"peers"``
narrows ``connection``, ``connected`` and ``latency`` to a cluster's gateways toward one remote
cluster ID (a peer entry wins over the cluster's own entry, which wins over ``"*"``). Steps, each
``"hang"`` (never performed) or ``"fail"`` (reported as Liqo reports it, or as a Warning Event where
Liqo reports nothing): ``configuration`` (fail: condition NetworkCIDRsConfigured=False,
WaitingForNetworks), ``gateway-server`` / ``gateway-client`` (fail: Event EmulatedFault),
``gateway-pod`` (hang: never scheduled; fail: CrashLoopBackOff, not Ready), ``server-endpoint``
(fail: Event SyncLoadBalancerFailed), ``keys`` (fail: Event KeysSecretEnforcedFailed),
``connection`` (fail: Event EmulatedFault on the PublicKey), ``connected`` (hang: stays as it
is; fail: Error, latency "N/A", no more refreshes). ``"latency": "35ms"`` pins the reported
latency (shown at the next refresh, within ``latency_interval``). lab/FIDELITY.md maps every
behaviour to the Liqo source it follows.
"""

from __future__ import annotations

from lab.emulator.faults import STEPS, Faults, parse_faults
from lab.emulator.runtime import Emulator

__all__ = ["STEPS", "Emulator", "Faults", "parse_faults"]
