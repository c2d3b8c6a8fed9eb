"""deploy/ is generated or checked, never hand-synced: CRD copies, versions, the image's user."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

import liqoshortcut
from deploy.generate import CHART, CRD_FILES
from liqoshortcut.core.crd import crd_yaml

REPO = Path(__file__).resolve().parents[2]


def test_both_committed_crds_are_what_the_models_generate() -> None:
    generated = crd_yaml()
    for path in CRD_FILES:
        stale = not path.is_file() or path.read_text() != generated
        assert not stale, f"{path.relative_to(REPO)} is stale: run make crd"


def test_the_chart_deploys_the_version_of_the_package() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["appVersion"] == liqoshortcut.__version__


def test_the_image_runs_the_console_script_as_the_user_the_chart_expects() -> None:
    containerfile = (REPO / "deploy" / "Containerfile").read_text()
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    entrypoint = re.search(r'^ENTRYPOINT \["([^"]+)"\]', containerfile, re.MULTILINE)
    uid = re.search(r"^ARG UID=(\d+)$", containerfile, re.MULTILINE)
    deployment = (CHART / "templates" / "deployment.yaml").read_text()
    assert entrypoint is not None
    assert uid is not None
    assert entrypoint.group(1) in scripts
    assert f'command: ["{entrypoint.group(1)}"]' in deployment
    assert f"runAsUser: {uid.group(1)}" in deployment
