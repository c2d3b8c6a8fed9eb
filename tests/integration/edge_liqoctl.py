"""Liqo's own liqoctl between the lab's edge-a (local, the gateway client) and edge-b (remote,
the gateway server), as the tests that hold the lab's Liqo to liqoctl run it."""

from __future__ import annotations

import subprocess

from lab import build
from lab.cluster import kubeconfig_path


def liqoctl(*args: str) -> subprocess.CompletedProcess[str]:
    kubeconfig = str(kubeconfig_path())
    return subprocess.run(
        [
            str(build.liqoctl_binary()),
            *args,
            f"--kubeconfig={kubeconfig}",
            "--context=edge-a",
            f"--remote-kubeconfig={kubeconfig}",
            "--remote-context=edge-b",
            "--timeout=90s",
            "--skip-confirm",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
