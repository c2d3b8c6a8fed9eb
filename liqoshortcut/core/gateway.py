"""Gateway settings of a shortcut, with liqoctl's defaults and the checks liqoctl leaves to Liqo.

The same model backs the CLI flags and the VirtualNodeShortcut spec (camelCase aliases), so a bad
value is refused before anything is created, with a line naming the field.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

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
        extra="forbid", frozen=True, validate_by_name=True, validate_by_alias=True
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
        if self.node_port is not None and self.service_type != "NodePort":
            raise ValueError("nodePort needs serviceType NodePort")
        if self.load_balancer_ip is not None:
            if self.service_type != "LoadBalancer":
                raise ValueError("loadBalancerIP needs serviceType LoadBalancer")
            ipaddress.ip_address(self.load_balancer_ip)  # ValueError names the bad address
        return self


def usage_error(
    error: ValidationError, source: str = "", names: Mapping[str, str] | None = None
) -> UsageError:
    """Pydantic's report as one line: the first bad field, what is wrong, and where it came from.

    ``names`` renames fields for the reader, e.g. to the CLI flag that set them.
    """
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "value"
    field = (names or {}).get(field, field)
    message = first["msg"].removeprefix("Value error, ")
    where = f" in {source}" if source else ""
    return UsageError(f"invalid {field}{where}: {message}")
