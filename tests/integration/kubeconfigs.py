"""Kubeconfig files cut from the lab's, as users hold them: one per cluster, or central alone."""

from __future__ import annotations

from pathlib import Path

import yaml

from lab.cluster import context_kubeconfig


def one_context_kubeconfig(tmp_path: Path, context: str) -> Path:
    """The lab's kubeconfig cut down to ``context``, as a separate file per cluster would be."""
    path = tmp_path / f"{context}.kubeconfig"
    path.write_text(yaml.safe_dump(context_kubeconfig(context)))
    path.chmod(0o600)
    return path
