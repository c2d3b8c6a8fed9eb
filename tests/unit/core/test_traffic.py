"""The traffic policy in the spec: by default it selects no Service, so nothing leaves the hub."""

from __future__ import annotations

from liqoshortcut.core.model import ShortcutSpec
from liqoshortcut.core.traffic import TrafficPolicy
from tests.spec_cases import a_spec


def test_a_shortcut_moves_no_traffic_unless_asked() -> None:
    policy = ShortcutSpec.from_resource(a_spec()).traffic
    # Selected Services would go direct while healthy; none is selected.
    assert (policy.services, policy.path) == ("None", "Direct")


def test_a_selector_reads_as_kubernetes_writes_it() -> None:
    policy = TrafficPolicy.model_validate(
        {
            "services": "Selected",
            "serviceSelector": {
                "matchLabels": {"app": "cam"},
                "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}],
            },
        }
    )
    assert policy.service_selector is not None
    assert policy.service_selector.match_labels == {"app": "cam"}
    dumped = policy.model_dump(mode="json", exclude_none=True)
    assert dumped["serviceSelector"]["matchExpressions"] == [
        {"key": "tier", "operator": "NotIn", "values": ["db"]}
    ]
