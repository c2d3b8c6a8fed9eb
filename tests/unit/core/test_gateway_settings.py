"""Gateway settings take liqoctl's defaults and refuse bad values with one line naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from liqoshortcut.core.gateway import GatewaySettings, usage_error
from liqoshortcut.errors import ExitCode, exit_code_for


def test_defaults_are_liqoctls() -> None:
    settings = GatewaySettings()
    assert (settings.service_type, settings.port, settings.mtu) == ("LoadBalancer", 51840, 1340)


def test_the_crd_spelling_and_the_python_spelling_both_work() -> None:
    by_alias = GatewaySettings.model_validate({"serviceType": "NodePort", "nodePort": 30001})
    by_name = GatewaySettings(service_type="NodePort", node_port=30001)
    assert by_alias == by_name
    assert by_alias.model_dump(by_alias=True, exclude_none=True)["nodePort"] == 30001


@pytest.mark.parametrize(
    ("fields", "line"),
    [
        ({"port": 0}, "invalid port: Input should be greater than or equal to 1"),
        ({"port": 70000}, "invalid port: Input should be less than or equal to 65535"),
        ({"mtu": 100}, "invalid mtu: Input should be greater than or equal to 576"),
        ({"serviceType": "Tunnel"}, "invalid serviceType: Input should be 'LoadBalancer'"),
        ({"serviceType": "NodePort", "nodePort": 80}, "invalid nodePort: Input should be greater"),
        ({"nodePort": 30001}, "invalid value: nodePort needs serviceType NodePort"),
        ({"loadBalancerIP": "not-an-ip"}, "does not appear to be an IPv4 or IPv6 address"),
        (
            {"serviceType": "ClusterIP", "loadBalancerIP": "10.0.0.1"},
            "loadBalancerIP needs serviceType LoadBalancer",
        ),
        ({"clientPort": -1}, "invalid clientPort"),
        ({"mtuu": 1400}, "invalid mtuu: Extra inputs are not permitted"),
    ],
)
def test_a_bad_value_becomes_one_usage_line_naming_the_field(
    fields: dict[str, Any], line: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        GatewaySettings.model_validate(fields)
    error = usage_error(raised.value)
    assert line in str(error)
    assert "\n" not in str(error)
    assert exit_code_for(error) is ExitCode.USAGE
