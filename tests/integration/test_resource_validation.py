"""A real kube-apiserver, with the generated CRD, judges a VirtualNodeShortcut as pydantic does.

Every case of tests/spec_cases.py goes to both judges: a good spec is accepted by both and stored
with exactly pydantic's defaults; a bad one is refused by both, each naming the field. Requests
use strict field validation, as `kubectl apply` does, so an unknown field is an error, not a
silently dropped key.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from kubernetes.client import ApiClient, CustomObjectsApi
from kubernetes.client.exceptions import ApiException
from pydantic import ValidationError

from liqoshortcut.core.crd import VERSION
from liqoshortcut.core.model import (
    API_GROUP,
    API_VERSION,
    EDGES_ARE_IMMUTABLE,
    KIND,
    PLURAL,
    ShortcutSpec,
    usage_error,
)
from liqoshortcut.core.status import Condition, ConnectionState, EdgeStatus, ShortcutStatus
from tests.integration.conftest import Kubectl
from tests.spec_cases import BAD_SPECS, GOOD_SPECS, SpecCase, a_spec, edge

pytestmark = pytest.mark.integration

NAMESPACE = "default"


class Shortcuts:
    """VirtualNodeShortcuts on central through the API, as kubectl sends them."""

    def __init__(self, client: ApiClient) -> None:
        self.api = CustomObjectsApi(client)

    def create(self, name: str, spec: dict[str, Any], dry_run: bool = True) -> dict[str, Any]:
        body = {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": name}, "spec": spec}
        created = self.api.create_namespaced_custom_object(
            API_GROUP,
            VERSION,
            NAMESPACE,
            PLURAL,
            body,
            dry_run="All" if dry_run else None,
            field_validation="Strict",
        )
        return cast(dict[str, Any], created)

    def refusal(self, call: Callable[[], object]) -> str:
        """The API server's message refusing ``call``; the test fails if it was accepted."""
        with pytest.raises(ApiException) as raised:
            call()
        assert raised.value.status in (400, 422), raised.value.body
        return str(json.loads(raised.value.body or "{}")["message"])

    def patch(self, name: str, patch: dict[str, Any], status: bool = False) -> dict[str, Any]:
        method = (
            self.api.patch_namespaced_custom_object_status
            if status
            else self.api.patch_namespaced_custom_object
        )
        return cast(dict[str, Any], method(API_GROUP, VERSION, NAMESPACE, PLURAL, name, patch))

    def delete(self, name: str) -> None:
        self.api.delete_namespaced_custom_object(API_GROUP, VERSION, NAMESPACE, PLURAL, name)


@pytest.fixture(scope="module")
def shortcuts(kube: Callable[[str], ApiClient], shortcut_crd: str) -> Shortcuts:
    return Shortcuts(kube("central"))


@pytest.fixture
def stored(shortcuts: Shortcuts, unique_name: str) -> Iterator[str]:
    """A shortcut really stored on central (not a dry run), deleted after the test."""
    shortcuts.create(unique_name, a_spec(), dry_run=False)
    yield unique_name
    shortcuts.delete(unique_name)


@pytest.mark.parametrize("case", GOOD_SPECS, ids=[case.promise for case in GOOD_SPECS])
def test_a_good_spec_is_accepted_by_both_and_stored_with_pydantics_defaults(
    shortcuts: Shortcuts, case: SpecCase
) -> None:
    by_pydantic = ShortcutSpec.from_resource(case.spec)
    by_apiserver = shortcuts.create("probe", case.spec)["spec"]
    assert by_apiserver == by_pydantic.model_dump(mode="json", exclude_none=True)
    assert ShortcutSpec.from_resource(by_apiserver) == by_pydantic


@pytest.mark.parametrize("case", BAD_SPECS, ids=[case.promise for case in BAD_SPECS])
def test_a_bad_spec_is_refused_by_both_naming_the_field(
    shortcuts: Shortcuts, case: SpecCase
) -> None:
    with pytest.raises(ValidationError) as raised:
        ShortcutSpec.from_resource(case.spec)
    assert case.pydantic_says is not None
    assert case.apiserver_says is not None
    assert case.pydantic_says in str(usage_error(raised.value))
    assert case.apiserver_says in shortcuts.refusal(lambda: shortcuts.create("probe", case.spec))


def test_the_manifest_create_prints_applies_as_is(shortcuts: Shortcuts) -> None:
    spec = ShortcutSpec.from_resource(a_spec(serverEdge="edge-a"))
    manifest = spec.to_manifest("edge-a--edge-b", namespace=NAMESPACE)
    created = shortcuts.create(manifest["metadata"]["name"], manifest["spec"])
    assert ShortcutSpec.from_resource(created["spec"]) == spec


def test_edges_cannot_change_once_the_shortcut_exists_but_settings_can(
    shortcuts: Shortcuts, stored: str
) -> None:
    other_pair = {"spec": {"edges": [edge("edge-a"), edge("edge-c")]}}
    refusal = shortcuts.refusal(lambda: shortcuts.patch(stored, other_pair))
    assert f"spec.edges: Invalid value: {EDGES_ARE_IMMUTABLE}" in refusal
    patched = shortcuts.patch(stored, {"spec": {"gateway": {"mtu": 1400}}})
    assert patched["spec"]["gateway"]["mtu"] == 1400


def operator_status() -> ShortcutStatus:
    """A status as the operator will write it once both edges are connected."""
    now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    return ShortcutStatus(
        observed_generation=1,
        conditions=(
            Condition(
                type="Ready",
                status="True",
                reason="Connected",
                message="both edges report Connected",
                last_transition_time=now,
                observed_generation=1,
            ),
            Condition(
                type="Connected",
                status="True",
                reason="BothConnected",
                message="",
                last_transition_time=now,
            ),
        ),
        edges=(
            EdgeStatus(
                name="edge-a",
                cluster_id="edge-a",
                role="client",
                connection=ConnectionState(state="Connected", latency="1.2ms", latency_time=now),
            ),
            EdgeStatus(name="edge-b", cluster_id="edge-b", role="server"),
        ),
        path="Hub",
    )


def test_the_status_the_operator_writes_is_stored_and_shown_by_kubectl(
    shortcuts: Shortcuts, stored: str, kubectl: Kubectl
) -> None:
    written = operator_status()
    status = written.model_dump(mode="json", exclude_none=True)
    patched = shortcuts.patch(stored, {"status": status}, status=True)
    assert ShortcutStatus.model_validate(patched["status"]) == written
    table = kubectl("get", "vns", stored, f"--namespace={NAMESPACE}", "--output=wide").stdout
    header, row = (line.split() for line in table.splitlines())
    assert header[:9] == ["NAME", "EDGE", "A", "EDGE", "B", "PATH", "READY", "SERVER", "CONNECTED"]
    assert row[:7] == [stored, "edge-a", "edge-b", "Hub", "True", "edge-b", "True"]


def test_a_condition_without_a_camel_case_reason_is_refused(
    shortcuts: Shortcuts, stored: str
) -> None:
    condition = {
        "type": "Ready",
        "status": "False",
        "reason": "edge down",
        "message": "",
        "lastTransitionTime": "2026-11-25T10:00:00Z",
    }
    refusal = shortcuts.refusal(
        lambda: shortcuts.patch(stored, {"status": {"conditions": [condition]}}, status=True)
    )
    assert 'status.conditions[0].reason: Invalid value: "edge down"' in refusal


def test_shortcuts_are_listed_with_liqos_resources(stored: str, kubectl: Kubectl) -> None:
    listed = kubectl("get", "liqo", f"--namespace={NAMESPACE}", "--output=name").stdout
    assert f"virtualnodeshortcut.shortcut.liqo.io/{stored}" in listed.split()
