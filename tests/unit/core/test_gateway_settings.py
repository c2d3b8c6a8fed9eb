"""Gateway settings take liqoctl's defaults and refuse bad values with one line naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from liqoshortcut.core.gateway import GatewaySettings
from liqoshortcut.core.schema import usage_error
from liqoshortcut.errors import ExitCode, exit_code_for


def test_defaults_are_liqoctls() -> None:
    settings = GatewaySettings()
    assert (settings.service_type, settings.port, settings.mtu) == ("LoadBalancer", 51840, 1340)


def test_the_crd_spelling_and_the_python_spelling_both_work() -> None:
    by_alias = GatewaySettings.model_validate({"serviceType": "NodePort", "nodePort": 30001})
    by_name = GatewaySettings(service_type="NodePort", node_port=30001)
    assert by_alias == by_name
    assert by_alias.model_dump(exclude_none=True)["nodePort"] == 30001


@pytest.mark.parametrize(
    ("fields", "line"),
    [
        ({"port": 0}, "invalid port 0: Input should be greater than or equal to 1"),
        ({"port": 70000}, "invalid port 70000: Input should be less than or equal to 65535"),
        ({"mtu": 100}, "invalid mtu 100: Input should be greater than or equal to 576"),
        ({"mtu": 9001}, "invalid mtu 9001: Input should be less than or equal to 9000"),
        ({"serviceType": "Tunnel"}, "invalid serviceType 'Tunnel': Input should be 'LoadBalancer'"),
        (
            {"serviceType": "NodePort", "nodePort": 80},
            "invalid nodePort 80: Input should be greater",
        ),
        ({"nodePort": 30001}, "invalid nodePort: give it only with service type NodePort"),
        ({"loadBalancerIP": "not-an-ip"}, "invalid loadBalancerIP: 'not-an-ip' is not an IPv4"),
        (
            {"serviceType": "ClusterIP", "loadBalancerIP": "10.0.0.1"},
            "invalid loadBalancerIP: give it only with service type LoadBalancer",
        ),
        ({"clientPort": -1}, "invalid clientPort -1"),
        ({"clientAddress": ""}, "invalid clientAddress ''"),
        ({"mtuu": 1400}, "unknown field mtuu: remove it"),
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


@pytest.mark.parametrize(
    ("fields", "line"),
    [
        ({"port": 0}, "invalid --port 0"),
        ({"node_port": 30001}, "invalid --node-port: give it only with service type NodePort"),
        ({"load_balancer_ip": "1.2.3"}, "invalid --load-balancer-ip: '1.2.3' is not"),
    ],
)
def test_the_cli_names_the_flag_that_set_the_bad_value(fields: dict[str, Any], line: str) -> None:
    flags = {name: "--" + name.replace("_", "-") for name in GatewaySettings.model_fields}
    with pytest.raises(ValidationError) as raised:
        GatewaySettings.model_validate(fields)
    assert str(usage_error(raised.value, names=flags)).startswith(line)


def test_the_source_of_a_bad_value_is_named() -> None:
    with pytest.raises(ValidationError) as raised:
        GatewaySettings.model_validate({"port": 0})
    assert "invalid port 0 in shortcut default/ab:" in str(
        usage_error(raised.value, source="shortcut default/ab")
    )
