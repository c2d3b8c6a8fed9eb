"""Regenerate the VirtualNodeShortcut CRD in deploy/crd/ and in the Helm chart (`make crd`).

Both copies are written from `liqoshortcut.core.crd` (the pydantic models), never edited by hand;
tests/unit/test_deploy.py fails when either is stale.
"""

from pathlib import Path

from liqoshortcut.core.crd import FILE_NAME, crd_yaml

DEPLOY = Path(__file__).resolve().parent
CHART = DEPLOY / "helm" / "liqo-shortcut"
# The chart installs CRDs from its crds/ directory before anything else, as Helm prescribes.
CRD_FILES = (DEPLOY / "crd" / FILE_NAME, CHART / "crds" / FILE_NAME)


def write_crds() -> list[Path]:
    text = crd_yaml()
    for path in CRD_FILES:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return list(CRD_FILES)


if __name__ == "__main__":
    for path in write_crds():
        print(f"wrote {path.relative_to(DEPLOY.parent)}")
