"""``python -m lab up|down|status|build|show``: the lab from the command line (make calls it).

``up`` on a lab running in the other ``LAB_LIQO`` mode switches it in seconds instead of a rebuild.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from lab import build
from lab.cluster import Lab, kubeconfig_path, running_mode

# What a Liqo user looks at first: peerings, network pools, gateway templates and gateways.
LIQO_KINDS = (
    "foreignclusters.core.liqo.io",
    "virtualnodes.offloading.liqo.io",
    "networks.ipam.liqo.io",
    "wggatewayservertemplates.networking.liqo.io",
    "wggatewayclienttemplates.networking.liqo.io",
    "configurations.networking.liqo.io",
    "gatewayservers.networking.liqo.io",
    "gatewayclients.networking.liqo.io",
    "connections.networking.liqo.io",
)


def show(lab: Lab) -> None:
    """Print, per context, the Liqo resources a user would list with kubectl."""
    kubectl = [str(build.kube_binaries()["kubectl"]), f"--kubeconfig={kubeconfig_path()}"]
    print(f"$ export KUBECONFIG={kubeconfig_path()}\n$ kubectl config get-contexts", flush=True)
    subprocess.run([*kubectl, "config", "get-contexts"], check=True)
    for spec in lab.topology.clusters:
        kinds = ",".join(kind.split(".")[0] for kind in LIQO_KINDS)
        print(f"\n$ kubectl --context {spec.name} get {kinds} -A", flush=True)
        subprocess.run(
            [*kubectl, f"--context={spec.name}", "get", ",".join(LIQO_KINDS), "-A"], check=True
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status", "build", "show"])
    args = parser.parse_args(argv)
    lab = Lab()
    if args.command == "build":
        binaries = build.all_binaries(
            real_liqo=lab.liqo == "real", real_datapath=lab.carrier == "real"
        )
        helm = build.helm_binary()  # not the lab's: the chart tests', built here so no test waits
        print(f"lab: binaries ready in {binaries.kube_apiserver.parent}, {helm}", file=sys.stderr)
    elif args.command == "up":
        if not lab.up():
            print(f"lab: already running: {lab.describe()}", file=sys.stderr)
    elif args.command == "down":
        lab.down()
        print("lab: stopped and removed", file=sys.stderr)
    elif args.command == "show":
        show(lab)
    else:
        # Running in either mode: `up` would switch it, not rebuild it.
        print(f"lab: {'running' if running_mode() else 'not running'}: {lab.describe()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
