"""`create` and `delete` need no more than Liqo's peering user on each edge.

Each edge gets what ``liqoctl generate peering-user --consumer-cluster-id <other edge>`` leaves
there (`peering_users`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client import ApiClient

from lab.cluster import Lab, kubeconfig_path
from liqoshortcut.errors import ExitCode
from tests.integration.peering_users import PEER_OF, grant_peering_user, revoke_peering_user

pytestmark = pytest.mark.integration


@pytest.fixture
def peering_user_kubeconfig(
    lab: Lab, kube: Callable[[str], ApiClient], tmp_path: Path
) -> Iterator[Path]:
    """Central as admin (the user's own context); each edge as the peering user for the other."""
    document: dict[str, Any] = yaml.safe_load(kubeconfig_path().read_text())
    granted = {edge: grant_peering_user(kube(edge), peer) for edge, peer in PEER_OF.items()}
    try:
        for user in document["users"]:
            edge = user["name"].removesuffix("-admin")
            if edge in granted:
                user["user"] = {"token": granted[edge][0]}
        path = tmp_path / "kubeconfig"
        path.write_text(yaml.safe_dump(document))
        path.chmod(0o600)
        yield path
    finally:
        for edge, peer in PEER_OF.items():
            revoke_peering_user(kube(edge), peer, made_namespace=granted[edge][1])


def test_create_and_delete_work_with_nothing_but_peering_user_rights_on_the_edges(
    peering_user_kubeconfig: Path,
) -> None:
    env = dict(os.environ, KUBECONFIG=str(peering_user_kubeconfig))

    def shortcut(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "liqoshortcut.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
            check=False,
        )

    created = shortcut("create", "edge-a", "edge-b", "-o", "json")
    assert created.returncode == ExitCode.SUCCESS, created.stderr
    assert '"connected": true' in created.stdout
    deleted = shortcut("delete", "edge-a", "edge-b")
    assert deleted.returncode == ExitCode.SUCCESS, deleted.stderr
    assert "deleted" in deleted.stdout
