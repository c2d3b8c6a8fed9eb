"""The status schema: Kubernetes-style conditions, per-edge state, readable by older CLIs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from liqoshortcut.core.status import ConditionType, ShortcutStatus


def a_status(**overrides: Any) -> dict[str, Any]:
    """A status as the operator would write it, in CR spelling."""
    return {
        "observedGeneration": 3,
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "Connected",
                "message": "both edges report Connected",
                "lastTransitionTime": "2026-11-25T10:00:00Z",
                "observedGeneration": 3,
            }
        ],
        "edges": [
            {
                "name": "edge-a",
                "clusterID": "edge-a",
                "role": "client",
                "connection": {
                    "state": "Connected",
                    "latency": "1.2ms",
                    "latencyTime": "2026-11-25T10:00:05Z",
                },
            },
            {"name": "edge-b", "clusterID": "edge-b", "role": "server"},
        ],
        "path": "Hub",
        "routedServices": [{"namespace": "video", "name": "cam"}],
        **overrides,
    }


def test_a_status_reads_and_dumps_in_cr_spelling() -> None:
    status = ShortcutStatus.model_validate(a_status())
    assert status.conditions is not None
    assert status.conditions[0].last_transition_time == datetime(2026, 11, 25, 10, tzinfo=UTC)
    assert status.model_dump(mode="json", exclude_none=True)["edges"][0]["connection"] == {
        "state": "Connected",
        "latency": "1.2ms",
        "latencyTime": "2026-11-25T10:00:05Z",
    }


def test_a_status_from_a_newer_operator_still_reads() -> None:
    status = ShortcutStatus.model_validate(a_status(pathHistory=[{"at": "yesterday"}]))
    assert status.path == "Hub"


def test_the_four_conditions_are_named_as_the_design_says() -> None:
    assert [str(condition) for condition in ConditionType] == [
        "Ready",
        "Connected",
        "CredentialsValid",
        "DirectPathActive",
    ]


@pytest.mark.parametrize(
    "condition",
    [
        {"reason": "not camel case"},
        {"status": "Yes"},
        {"lastTransitionTime": "yesterday"},
    ],
    ids=["a reason with spaces", "a status besides True, False, Unknown", "a time that is none"],
)
def test_a_malformed_condition_is_refused(condition: dict[str, str]) -> None:
    conditions = [{**a_status()["conditions"][0], **condition}]
    with pytest.raises(ValidationError):
        ShortcutStatus.model_validate(a_status(conditions=conditions))
