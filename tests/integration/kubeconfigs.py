"""Kubeconfig files cut from the lab's, as users hold them: one per cluster, or central alone."""

from __future__ import annotations

from pathlib import Path

import yaml

from lab.cluster import kubeconfig_path


def one_context_kubeconfig(tmp_path: Path, context: str) -> Path:
    """The lab's kubeconfig cut down to ``context``, as a separate file per cluster would be."""
    config = yaml.safe_load(kubeconfig_path().read_text())
    config["contexts"] = [c for c in config["contexts"] if c["name"] == context]
    (kept,) = config["contexts"]
    config["clusters"] = [c for c in config["clusters"] if c["name"] == kept["context"]["cluster"]]
    config["users"] = [u for u in config["users"] if u["name"] == kept["context"]["user"]]
    config["current-context"] = context
    path = tmp_path / f"{context}.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path
