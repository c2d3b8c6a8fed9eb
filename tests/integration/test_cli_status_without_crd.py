"""`status` where the VirtualNodeShortcut CRD is not installed says so, and where a shortcut's
state can be read instead, rather than blaming Liqo.

The central cluster here is edge-a's context: an API server that never gets the CRD (the tests
that need it install it on central), whatever the other tests of the session did.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest

from liqoshortcut.errors import ExitCode

pytestmark = pytest.mark.integration


def test_status_without_the_crd_names_the_crd_and_where_to_look_instead(
    shortcut_cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    result = shortcut_cli("status", "edge-b", "edge-c", "--context", "edge-a")
    assert result.returncode == ExitCode.PRECONDITION_FAILED
    assert result.stdout == ""
    assert result.stderr == (
        "error: the VirtualNodeShortcut CRD is not installed in the central cluster (context "
        "edge-a), so no shortcut there has the operator's status; a shortcut made by `kubectl "
        "shortcut create` shows in `kubectl shortcut list`, its tunnel in `kubectl --context "
        "edge-b get connections.networking.liqo.io -A`\n"
    )
    assert "Liqo" not in result.stderr.split(";")[0]


def test_explain_without_the_crd_explains_the_service_with_no_shortcut(
    shortcut_cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    result = shortcut_cli("explain", "kubernetes", "-n", "default", "--context", "edge-a")
    assert result.returncode == ExitCode.SUCCESS, result.stderr
    assert result.stdout.startswith("Service default/kubernetes: Hub path.")
    assert result.stderr == ""
