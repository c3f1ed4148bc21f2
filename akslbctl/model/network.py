"""The network path in front of a node: NSGs, subnets, virtual networks and Private Link Services.

One canonical shape whatever the producer (ARM REST, the SDK's ``as_dict``, ``az … -o json``); the
normaliser builds these, the NSG evaluator (``akslbctl.analysis.nsg``) reads them. Ids are kept as ARM
wrote them (compare case-insensitively).
"""

from __future__ import annotations

from akslbctl.records import record

INBOUND, OUTBOUND = "Inbound", "Outbound"
ALLOW, DENY = "Allow", "Deny"


@record(frozen=True)
class SecurityRule:
    """One NSG rule. Address and port fields merge ARM's singular and plural properties.

    ``source_prefixes`` / ``destination_prefixes`` hold CIDRs, single addresses, ``*`` or service
    tags (``Internet``, ``VirtualNetwork``, ``AzureLoadBalancer``, ``AzureCloud.westeurope`` …);
    ``*_asgs`` the ids of application security groups. Ports are ``*``, ``80`` or ``30000-32767``.
    ``protocol`` is ARM's spelling: ``Tcp``, ``Udp``, ``Icmp``, ``Esp``, ``Ah`` or ``*``.
    """

    name: str
    priority: int
    direction: str = INBOUND
    access: str = ALLOW
    protocol: str = "*"
    source_prefixes: tuple[str, ...] = ("*",)
    destination_prefixes: tuple[str, ...] = ("*",)
    source_ports: tuple[str, ...] = ("*",)
    destination_ports: tuple[str, ...] = ("*",)
    source_asgs: tuple[str, ...] = ()
    destination_asgs: tuple[str, ...] = ()
    default: bool = False  # one of Azure's default rules (AllowVnetInBound, …)


@record(frozen=True)
class SecurityGroup:
    id: str
    name: str
    rules: tuple[SecurityRule, ...] = ()  # securityRules, as the owner wrote them
    default_rules: tuple[SecurityRule, ...] = ()  # defaultSecurityRules; empty: Azure's standard set applies


@record(frozen=True)
class Subnet:
    id: str
    name: str
    address_prefixes: tuple[str, ...] = ()
    nsg_id: str | None = None


@record(frozen=True)
class VirtualNetwork:
    """A VNet with its subnets; ``peered_prefixes`` is the address space of the peerings it lists."""

    id: str
    name: str
    address_prefixes: tuple[str, ...] = ()
    peered_prefixes: tuple[str, ...] = ()
    subnets: tuple[Subnet, ...] = ()


@record(frozen=True)
class PrivateLinkService:
    """A Private Link Service in front of LB frontends; ``proxy_protocol`` is ``enableProxyProtocol``."""

    id: str
    name: str
    frontend_ids: tuple[str, ...] = ()  # loadBalancerFrontendIpConfigurations[].id
    proxy_protocol: bool = False
