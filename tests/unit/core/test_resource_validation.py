"""Pydantic's half of the resource's validation table (tests/integration holds both halves).

What the operator will accept from a VirtualNodeShortcut is decided here in milliseconds; the
integration suite then checks that the API server, with the generated CRD, says the same.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from liqoshortcut.core.model import ShortcutSpec, usage_error
from tests.spec_cases import BAD_SPECS, GOOD_SPECS, SpecCase


@pytest.mark.parametrize("case", GOOD_SPECS, ids=[case.promise for case in GOOD_SPECS])
def test_a_good_resource_spec_is_accepted(case: SpecCase) -> None:
    spec = ShortcutSpec.from_resource(case.spec)
    assert spec.edges[0].secret_ref == case.spec["edges"][0]["secretRef"]


@pytest.mark.parametrize("case", BAD_SPECS, ids=[case.promise for case in BAD_SPECS])
def test_a_bad_resource_spec_is_refused_with_one_line_naming_the_field(case: SpecCase) -> None:
    with pytest.raises(ValidationError) as raised:
        ShortcutSpec.from_resource(case.spec)
    line = str(usage_error(raised.value))
    assert case.pydantic_says is not None
    assert case.pydantic_says in line
    assert "\n" not in line


def test_the_cli_may_still_name_contexts_and_kubeconfig_files() -> None:
    fields = {
        "edges": [
            {"name": "edge-a", "context": "admin@edge-a"},
            {"name": "edge-b", "kubeconfig": "/etc/edge-b.yaml"},
        ]
    }
    assert ShortcutSpec.model_validate(fields).edge("edge-b").kubeconfig == "/etc/edge-b.yaml"
    with pytest.raises(ValidationError):
        ShortcutSpec.from_resource(fields)


def test_the_manifest_create_prints_reads_back_as_a_resource() -> None:
    spec = ShortcutSpec.from_resource(GOOD_SPECS[1].spec)
    manifest = spec.to_manifest("edge-a--edge-b", namespace="default")
    assert ShortcutSpec.from_resource(manifest["spec"]) == spec
