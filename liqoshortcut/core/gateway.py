"""Gateway settings of a shortcut, with liqoctl's defaults and the checks liqoctl leaves to Liqo.

The same model backs the CLI flags and the VirtualNodeShortcut spec (camelCase aliases), so a bad
value is refused before anything is created, with a line naming the field.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from liqoshortcut.errors import UsageError

ServiceType = Literal["LoadBalancer", "NodePort", "ClusterIP"]

DEFAULT_SERVICE_TYPE: ServiceType = "LoadBalancer"  # liqoctl network connect's default
DEFAULT_PORT = 51840  # liqoctl's default WireGuard server port
DEFAULT_MTU = 1340  # Liqo's default: 1500 minus WireGuard and Geneve headroom
MIN_MTU = 576  # IPv4's minimum datagram every link must carry; below it tunnels break
MAX_MTU = 9000  # jumbo frames: the largest MTU any common underlay offers
NODE_PORT_RANGE = (30000, 32767)  # kube-apiserver's default --service-node-port-range


class GatewaySettings(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,  # a dump is CR YAML
    )

    service_type: ServiceType = Field(DEFAULT_SERVICE_TYPE, alias="serviceType")
    port: int = Field(DEFAULT_PORT, ge=1, le=65535)
    node_port: int | None = Field(
        None, alias="nodePort", ge=NODE_PORT_RANGE[0], le=NODE_PORT_RANGE[1]
    )
    load_balancer_ip: str | None = Field(None, alias="loadBalancerIP")
    mtu: int = Field(DEFAULT_MTU, ge=MIN_MTU, le=MAX_MTU)
    # For a server behind NAT: what the client dials instead of the server's reported endpoint.
    client_address: str | None = Field(None, alias="clientAddress", min_length=1)
    client_port: int | None = Field(None, alias="clientPort", ge=1, le=65535)

    @model_validator(mode="after")
    def _options_match_the_service_type(self) -> GatewaySettings:
        # liqoctl passes these through and Liqo's gateway controller ignores a node port on a
        # LoadBalancer Service (and vice versa): refusing here tells the user before anything runs.
        if self.node_port is not None and self.service_type != "NodePort":
            raise field_error("node_port", "nodePort", "give it only with service type NodePort")
        if self.load_balancer_ip is not None:
            if self.service_type != "LoadBalancer":
                raise field_error(
                    "load_balancer_ip",
                    "loadBalancerIP",
                    "give it only with service type LoadBalancer",
                )
            try:
                ipaddress.ip_address(self.load_balancer_ip)
            except ValueError:
                raise field_error(
                    "load_balancer_ip",
                    "loadBalancerIP",
                    f"{self.load_balancer_ip!r} is not an IPv4 or IPv6 address",
                ) from None
        return self


def field_error(name: str, alias: str, message: str) -> PydanticCustomError:
    """A check across fields, blamed on one field so the user's line names it (see usage_error).

    Pydantic reports model-level errors with an empty location; the field travels in ``ctx``.
    """
    return PydanticCustomError("field_conflict", message, {"field": name, "alias": alias})


def usage_error(
    error: ValidationError, source: str = "", names: Mapping[str, str] | None = None
) -> UsageError:
    """Pydantic's report as one line: the first bad field, its value, what is wrong, and where.

    Fields are named as the input spelled them (the CLI validates by Python name, a CR by its
    camelCase alias); ``names`` renames a dotted path for the reader, e.g. to the CLI flag that
    set it. One line, because the CLI prints exactly one line per error.
    """
    first = error.errors()[0]
    names = names or {}
    path = [str(part) for part in first["loc"]]
    ctx = first.get("ctx") or {}
    if first["type"] == "field_conflict":
        by_name = ".".join([*path, str(ctx["field"])])
        field = names.get(by_name) or ".".join([*path, str(ctx["alias"])])
        value = None
    else:
        dotted = ".".join(path) or "value"
        field = names.get(dotted, dotted)
        value = first.get("input")
    where = f" in {source}" if source else ""
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "string_pattern_mismatch":  # the patterns are Kubernetes' DNS-1123 names
        message = "use lowercase letters, digits and '-' (a DNS-1123 name)"
    # YAML and flags have lists, not tuples
    message = message.replace("Tuple should", "List should").replace("valid tuple", "valid list")
    if first["type"] == "extra_forbidden":
        return UsageError(f"unknown field {field}{where}: remove it")
    if first["type"] == "missing":
        return UsageError(f"missing {field}{where}: it is required")
    shown = f" {value!r}" if isinstance(value, (str, int, float)) else ""
    return UsageError(f"invalid {field}{shown}{where}: {message}")
