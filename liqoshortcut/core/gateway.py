"""Gateway settings of a shortcut, with liqoctl's defaults and the checks liqoctl leaves to Liqo.

The same model backs the CLI flags and the VirtualNodeShortcut spec (camelCase aliases), so a bad
value is refused before anything is created, with a line naming the field.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from liqoshortcut.core.schema import SpecModel, field_error, rule, validations

ServiceType = Literal["LoadBalancer", "NodePort", "ClusterIP"]

DEFAULT_SERVICE_TYPE: ServiceType = "LoadBalancer"  # liqoctl network connect's default
DEFAULT_PORT = 51840  # liqoctl's default WireGuard server port
DEFAULT_MTU = 1340  # Liqo's default: 1500 minus WireGuard and Geneve headroom
MIN_MTU = 576  # IPv4's minimum datagram every link must carry; below it tunnels break
MAX_MTU = 9000  # jumbo frames: the largest MTU any common underlay offers
NODE_PORT_RANGE = (30000, 32767)  # kube-apiserver's default --service-node-port-range
MAX_IP_LENGTH = 45  # the longest text form of an IPv6 address (RFC 4291, IPv4 tail included)
MAX_HOST_LENGTH = 253  # a DNS name

NODE_PORT_NEEDS_NODEPORT = "give it only with service type NodePort"
LOAD_BALANCER_IP_NEEDS_LOADBALANCER = "give it only with service type LoadBalancer"
NOT_AN_IP = "is not an IPv4 or IPv6 address (no zone, not IPv4-mapped)"


class GatewaySettings(SpecModel):
    model_config = ConfigDict(
        json_schema_extra=validations(
            rule(
                "!has(self.nodePort) || self.serviceType == 'NodePort'",
                NODE_PORT_NEEDS_NODEPORT,
                ".nodePort",
            ),
            rule(
                "!has(self.loadBalancerIP) || self.serviceType == 'LoadBalancer'",
                LOAD_BALANCER_IP_NEEDS_LOADBALANCER,
                ".loadBalancerIP",
            ),
        ),
    )

    service_type: ServiceType = Field(
        DEFAULT_SERVICE_TYPE,
        alias="serviceType",
        description="Type of the Service exposing the gateway server.",
    )
    port: int = Field(
        DEFAULT_PORT, ge=1, le=65535, description="The gateway server's WireGuard (UDP) port."
    )
    node_port: int | None = Field(
        None,
        alias="nodePort",
        ge=NODE_PORT_RANGE[0],
        le=NODE_PORT_RANGE[1],
        description="Node port of the gateway server's Service; only with serviceType NodePort.",
    )
    load_balancer_ip: str | None = Field(
        None,
        alias="loadBalancerIP",
        max_length=MAX_IP_LENGTH,
        description="IP to ask the load balancer for; only with serviceType LoadBalancer.",
        json_schema_extra=validations(rule("isIP(self)", NOT_AN_IP)),
    )
    mtu: int = Field(
        DEFAULT_MTU, ge=MIN_MTU, le=MAX_MTU, description="MTU of the tunnel's interfaces."
    )
    # For a server behind NAT: what the client dials instead of the server's reported endpoint.
    client_address: str | None = Field(
        None,
        alias="clientAddress",
        min_length=1,
        max_length=MAX_HOST_LENGTH,
        description="Address the client dials instead of the server's reported one (NAT).",
    )
    client_port: int | None = Field(
        None,
        alias="clientPort",
        ge=1,
        le=65535,
        description="Port the client dials instead of the server's reported one (NAT).",
    )

    @model_validator(mode="after")
    def _options_match_the_service_type(self) -> GatewaySettings:
        # liqoctl passes these through and Liqo's gateway controller ignores a node port on a
        # LoadBalancer Service (and vice versa): refusing here tells the user before anything runs.
        if self.node_port is not None and self.service_type != "NodePort":
            raise field_error("node_port", "nodePort", NODE_PORT_NEEDS_NODEPORT)
        if self.load_balancer_ip is not None:
            if self.service_type != "LoadBalancer":
                raise field_error(
                    "load_balancer_ip", "loadBalancerIP", LOAD_BALANCER_IP_NEEDS_LOADBALANCER
                )
            if not is_ip(self.load_balancer_ip):
                raise field_error(
                    "load_balancer_ip", "loadBalancerIP", f"{self.load_balancer_ip!r} {NOT_AN_IP}"
                )
        return self


def is_ip(text: str) -> bool:
    """An IP address as the API server's CEL ``isIP`` reads one, so both accept the same values.

    Python also takes zones (``fe80::1%eth0``) and IPv4-mapped IPv6 addresses; Go's netip, which
    CEL uses, takes them too but Kubernetes refuses both (k8s.io/apiserver/pkg/cel/library/ip.go).
    """
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return not (
        isinstance(address, ipaddress.IPv6Address) and (address.scope_id or address.ipv4_mapped)
    )
