"""The NSG evaluator: priority order, default rules, tags, ports, protocols, prefixes, source classes,
both levels, and the rules it cannot evaluate (a note, never a guess)."""

from __future__ import annotations

import pytest

from akslbctl.analysis.nsg import (
    STANDARD_DEFAULT_RULES,
    Decision,
    Flow,
    Level,
    Source,
    describe,
    evaluate,
    evaluate_group,
)
from akslbctl.model.network import ALLOW, DENY, INBOUND, OUTBOUND, SecurityGroup, SecurityRule

NODE = "10.224.0.5"
NODE6 = "fd00:10::5"
FRONTEND = "20.50.60.70"  # a public frontend IP
VNET = ("10.224.0.0/12",)
VNET6 = ("10.224.0.0/12", "fd00:10::/64")
STANDARD = {r.name for r in STANDARD_DEFAULT_RULES}
ASG = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/applicationSecurityGroups/asg-web"

PROBE = Flow(Source.probe(), NODE, 80)
PROBE_NODEPORT = Flow(Source.probe(), NODE, 31000)
PROBE6 = Flow(Source.probe("IPv6"), NODE6, 80)
INTERNET = Flow(Source.internet(), FRONTEND, 80)
INTERNET_UDP = Flow(Source.internet(), FRONTEND, 53, "Udp")
VNET_CLIENTS = Flow(Source.vnet(), NODE, 80)


def rule(
    name: str,
    priority: int,
    access: str = ALLOW,
    *,
    src: tuple[str, ...] = ("*",),
    dst: tuple[str, ...] = ("*",),
    ports: tuple[str, ...] = ("*",),
    sports: tuple[str, ...] = ("*",),
    proto: str = "*",
    direction: str = INBOUND,
    src_asgs: tuple[str, ...] = (),
    dst_asgs: tuple[str, ...] = (),
    default: bool = False,
) -> SecurityRule:
    return SecurityRule(
        name,
        priority,
        direction,
        access,
        proto,
        source_prefixes=src,
        destination_prefixes=dst,
        source_ports=sports,
        destination_ports=ports,
        source_asgs=src_asgs,
        destination_asgs=dst_asgs,
        default=default,
    )


def group(name: str, *rules: SecurityRule, defaults: tuple[SecurityRule, ...] = ()) -> SecurityGroup:
    return SecurityGroup(f"/subscriptions/sub/nsg/{name}", name, tuple(rules), defaults)


def ranges(*cidrs: str, port: int = 80, destination: str = FRONTEND) -> Flow:
    return Flow(Source.from_ranges(cidrs), destination, port)


def could_not(name: str, priority: int, why: str, nsg: str = "corp") -> str:
    return f"could not evaluate rule {name} (priority {priority}) of NSG {nsg}: {why}"


VNET_FOR_PROBE = "the VirtualNetwork tag may include the host's virtual IP the health probes come from"


def case(
    id: str,
    flow: Flow,
    rules: tuple[SecurityRule, ...],
    allowed: bool | None,
    deciding: str | None = None,
    priority: int | None = None,
    *,
    vnet: tuple[str, ...] = VNET,
    defaults: tuple[SecurityRule, ...] = (),
    default: bool | None = None,
    notes: tuple[str, ...] = (),
    partial: tuple[str, ...] = (),
):
    if default is None:
        default = deciding in STANDARD
    return pytest.param(flow, rules, defaults, vnet, (allowed, deciding, priority, default), notes, partial, id=id)


# One NSG at the subnet level (the NIC has none): what decides, with which notes and partial matches.
GROUP_CASES = [
    # --- priority order
    case(
        "deny-400-before-allow-500",
        PROBE,
        (rule("DenyAll", 400, DENY), rule("AllowProbe", 500, src=("AzureLoadBalancer",))),
        False,
        "DenyAll",
        400,
    ),
    case(
        "allow-400-before-deny-500",
        PROBE,
        (rule("DenyAll", 500, DENY), rule("AllowProbe", 400, src=("AzureLoadBalancer",), ports=("80",))),
        True,
        "AllowProbe",
        400,
    ),
    # --- default rules
    case("probe-default-allow-lb", PROBE, (), True, "AllowAzureLoadBalancerInBound", 65001),
    case("internet-default-deny-all", INTERNET, (), False, "DenyAllInBound", 65500),
    case("vnet-clients-default-allow-vnet", VNET_CLIENTS, (), True, "AllowVnetInBound", 65000),
    case(
        "vnet-clients-unknown-vnet-space",
        VNET_CLIENTS,
        (),
        None,
        vnet=(),
        notes=(could_not("AllowVnetInBound", 65000, "the virtual network's address space is unknown"),),
    ),
    case(
        "explicit-default-rules-override",
        PROBE,
        (),
        False,
        "CustomDenyAllInBound",
        65500,
        defaults=(rule("CustomDenyAllInBound", 65500, DENY),),
        default=True,
    ),
    case(
        "explicit-default-rules-without-catch-all",
        INTERNET,
        (),
        None,
        defaults=(rule("AllowVnetInBound", 65000, src=("VirtualNetwork",), dst=("VirtualNetwork",), default=True),),
        notes=("no rule of NSG corp decides for Internet clients",),
    ),
    case(
        "custom-rule-before-explicit-defaults",
        INTERNET,
        (rule("AllowWeb", 300, src=("Internet",), ports=("80",)),),
        True,
        "AllowWeb",
        300,
        defaults=(rule("DenyAllInBound", 65500, DENY, default=True),),
    ),
    # --- tags
    case(
        "deny-azureloadbalancer-tag",
        PROBE,
        (rule("DenyLB", 100, DENY, src=("AzureLoadBalancer",)),),
        False,
        "DenyLB",
        100,
    ),
    case(
        "deny-internet-does-not-hit-probe",
        PROBE,
        (rule("DenyInternet", 100, DENY, src=("Internet",)),),
        True,
        "AllowAzureLoadBalancerInBound",
        65001,
    ),
    case(
        "deny-internet-hits-internet-clients",
        INTERNET,
        (rule("DenyInternet", 100, DENY, src=("Internet",)),),
        False,
        "DenyInternet",
        100,
    ),
    case(
        "allow-internet-admits-internet-clients",
        INTERNET,
        (rule("AllowWeb", 100, src=("Internet",), dst=(FRONTEND,), ports=("80",), proto="Tcp"),),
        True,
        "AllowWeb",
        100,
    ),
    case(
        "deny-virtualnetwork-uncertain-for-probe",
        PROBE,
        (rule("DenyVnet", 300, DENY, src=("VirtualNetwork",)),),
        None,
        notes=(could_not("DenyVnet", 300, VNET_FOR_PROBE),),
    ),
    case(
        "allow-virtualnetwork-for-probe-same-outcome",
        PROBE,
        (rule("AllowVnet", 300, src=("VirtualNetwork",)),),
        True,
        "AllowAzureLoadBalancerInBound",
        65001,
    ),
    case(
        "allow-virtualnetwork-for-probe-before-deny",
        PROBE,
        (rule("AllowVnet", 300, src=("VirtualNetwork",)), rule("DenyAll", 4000, DENY)),
        None,
        notes=(could_not("AllowVnet", 300, VNET_FOR_PROBE),),
    ),
    case(
        "deny-virtualnetwork-skips-internet-clients",
        INTERNET,
        (rule("DenyVnet", 300, DENY, src=("VirtualNetwork",)), rule("AllowWeb", 400, src=("Internet",))),
        True,
        "AllowWeb",
        400,
    ),
    case(
        "deny-virtualnetwork-hits-vnet-clients",
        VNET_CLIENTS,
        (rule("DenyVnet", 300, DENY, src=("VirtualNetwork",)),),
        False,
        "DenyVnet",
        300,
    ),
    case(
        "tags-case-insensitive",
        PROBE,
        (rule("DenyLB", 100, DENY, src=("azureloadbalancer",)),),
        False,
        "DenyLB",
        100,
    ),
    # --- ports
    case(
        "port-range-hits-nodeport",
        PROBE_NODEPORT,
        (rule("DenyNodePorts", 200, DENY, ports=("30000-32767",)),),
        False,
        "DenyNodePorts",
        200,
    ),
    case(
        "port-range-misses-80",
        PROBE,
        (rule("DenyNodePorts", 200, DENY, ports=("30000-32767",)),),
        True,
        "AllowAzureLoadBalancerInBound",
        65001,
    ),
    case(
        "port-list-hits-one-range",
        Flow(Source.probe(), NODE, 8085),
        (rule("DenyAdmin", 200, DENY, ports=("443", "8080-8090")),),
        False,
        "DenyAdmin",
        200,
    ),
    case(
        "port-list-misses",
        PROBE,
        (rule("DenyAdmin", 200, DENY, ports=("443", "8080-8090")),),
        True,
        "AllowAzureLoadBalancerInBound",
        65001,
    ),
    case("port-star", PROBE, (rule("DenyAny", 200, DENY, ports=("*",)),), False, "DenyAny", 200),
    case(
        "malformed-port-undetermined",
        PROBE,
        (rule("DenyOdd", 200, DENY, ports=("80-",)),),
        None,
        notes=(could_not("DenyOdd", 200, "malformed destination port range '80-'"),),
    ),
    case(
        "malformed-port-in-rule-that-cannot-match",
        PROBE,
        (rule("DenyOdd", 200, DENY, ports=("http",), proto="Udp"),),
        True,
        "AllowAzureLoadBalancerInBound",
        65001,
    ),
    # --- protocols
    case(
        "udp-deny-does-not-block-tcp-probe",
        PROBE,
        (rule("DenyUdp", 100, DENY, proto="Udp"),),
        True,
        "AllowAzureLoadBalancerInBound",
        65001,
    ),
    case("tcp-deny-blocks-tcp-probe", PROBE, (rule("DenyTcp", 100, DENY, proto="tcp"),), False, "DenyTcp", 100),
    case(
        "http-probe-is-tcp",
        Flow(Source.probe(), NODE, 80, "Http"),
        (rule("DenyTcp", 100, DENY, proto="Tcp"),),
        False,
        "DenyTcp",
        100,
    ),
    case(
        "udp-allow-admits-udp-flow",
        INTERNET_UDP,
        (rule("AllowDns", 200, src=("Internet",), ports=("53",), proto="Udp"),),
        True,
        "AllowDns",
        200,
    ),
    case(
        "udp-allow-skips-tcp-flow",
        INTERNET,
        (rule("AllowDns", 200, src=("Internet",), ports=("53", "80"), proto="Udp"),),
        False,
        "DenyAllInBound",
        65500,
    ),
    case(
        "icmp-deny-skips-tcp",
        PROBE,
        (rule("DenyPing", 100, DENY, proto="Icmp"),),
        True,
        "AllowAzureLoadBalancerInBound",
        65001,
    ),
    # --- address prefix lists
    case(
        "source-list-with-tag",
        PROBE,
        (rule("DenyMixed", 100, DENY, src=("203.0.113.0/24", "AzureLoadBalancer")),),
        False,
        "DenyMixed",
        100,
    ),
    case(
        "source-list-with-probe-address",
        PROBE,
        (rule("DenyMixed", 100, DENY, src=("10.0.0.0/8", "168.63.129.16")),),
        False,
        "DenyMixed",
        100,
    ),
    case(
        "source-list-without-probe-address",
        PROBE,
        (rule("DenyPrivate", 100, DENY, src=("10.0.0.0/8", "192.168.0.0/16")),),
        True,
        "AllowAzureLoadBalancerInBound",
        65001,
    ),
    case(
        "source-list-of-halves-is-full",
        INTERNET,
        (rule("AllowHalves", 100, src=("0.0.0.0/1", "128.0.0.0/1")),),
        True,
        "AllowHalves",
        100,
    ),
    # --- destinations
    case(
        "destination-cidr-contains-node",
        PROBE,
        (rule("DenyNodes", 100, DENY, dst=("10.224.0.0/16",)),),
        False,
        "DenyNodes",
        100,
    ),
    case(
        "destination-cidr-misses-node",
        PROBE,
        (rule("DenyOther", 100, DENY, dst=("10.1.0.0/16",)),),
        True,
        "AllowAzureLoadBalancerInBound",
        65001,
    ),
    case(
        "destination-list-single-address",
        PROBE,
        (rule("DenyOne", 100, DENY, dst=("10.1.0.0/16", NODE)),),
        False,
        "DenyOne",
        100,
    ),
    case(
        "destination-internet-misses-private-node",
        PROBE,
        (rule("DenyToInternet", 100, DENY, dst=("Internet",)),),
        True,
        "AllowAzureLoadBalancerInBound",
        65001,
    ),
    case(
        "destination-internet-hits-public-frontend",
        INTERNET,
        (rule("AllowToInternet", 100, src=("Internet",), dst=("Internet",)),),
        True,
        "AllowToInternet",
        100,
    ),
    case(
        "destination-virtualnetwork-hits-node",
        PROBE,
        (rule("DenyToVnet", 100, DENY, src=("AzureLoadBalancer",), dst=("VirtualNetwork",)),),
        False,
        "DenyToVnet",
        100,
    ),
    case(
        "destination-other-frontend",
        INTERNET,
        (rule("AllowOther", 100, src=("Internet",), dst=("20.50.60.71",)),),
        False,
        "DenyAllInBound",
        65500,
    ),
    case(
        "destination-azureloadbalancer-is-not-a-node",
        PROBE,
        (rule("DenyToLB", 100, DENY, dst=("AzureLoadBalancer",)),),
        True,
        "AllowAzureLoadBalancerInBound",
        65001,
    ),
    # --- partial matches of a population
    case(
        "internet-partial-allow-then-deny",
        INTERNET,
        (rule("AllowPartner", 200, src=("20.0.0.0/8",)),),
        False,
        "DenyAllInBound",
        65500,
        partial=("rule AllowPartner (priority 200, Allow) admits only part of Internet clients (source 20.0.0.0/8)",),
    ),
    case(
        "internet-partial-deny-then-allow",
        INTERNET,
        (rule("DenyBad", 100, DENY, src=("20.0.0.0/8",)), rule("AllowWeb", 200, src=("Internet",))),
        True,
        "AllowWeb",
        200,
        partial=("rule DenyBad (priority 100, Deny) blocks part of Internet clients (source 20.0.0.0/8)",),
    ),
    case(
        "partial-same-access-not-recorded",
        INTERNET,
        (rule("AllowPartner", 100, src=("20.0.0.0/8",)), rule("AllowWeb", 200, src=("Internet",))),
        True,
        "AllowWeb",
        200,
    ),
    case(
        "source-ports-are-partial",
        INTERNET,
        (rule("DenyLowPorts", 100, DENY, sports=("1024-2000",)), rule("AllowWeb", 200, src=("Internet",))),
        True,
        "AllowWeb",
        200,
        partial=("rule DenyLowPorts (priority 100, Deny) blocks part of Internet clients (source ports 1024-2000)",),
    ),
    case(
        "source-ports-full-range",
        INTERNET,
        (rule("DenyAllPorts", 100, DENY, sports=("0-65535",)),),
        False,
        "DenyAllPorts",
        100,
    ),
    case(
        "private-source-is-not-internet",
        INTERNET,
        (rule("DenyPrivate", 100, DENY, src=("10.0.0.0/8",)), rule("AllowWeb", 200, src=("Internet",))),
        True,
        "AllowWeb",
        200,
    ),
    case(
        "vnet-clients-cidr-contains-vnet",
        VNET_CLIENTS,
        (rule("DenyTen", 100, DENY, src=("10.0.0.0/8",)),),
        False,
        "DenyTen",
        100,
    ),
    case(
        "vnet-clients-cidr-inside-vnet",
        VNET_CLIENTS,
        (rule("DenySome", 100, DENY, src=("10.224.1.0/24",)),),
        True,
        "AllowVnetInBound",
        65000,
        partial=("rule DenySome (priority 100, Deny) blocks part of VirtualNetwork clients (source 10.224.1.0/24)",),
    ),
    # --- loadBalancerSourceRanges clients
    case(
        "ranges-one-denied",
        ranges("203.0.113.0/24", "198.51.100.0/24"),
        (rule("AllowOffice", 200, src=("203.0.113.0/24",), ports=("80",)),),
        False,
        "DenyAllInBound",
        65500,
        notes=("client range 198.51.100.0/24 is denied by rule DenyAllInBound (priority 65500) of NSG corp",),
    ),
    case(
        "ranges-all-allowed",
        ranges("203.0.113.0/24", "198.51.100.0/24"),
        (rule("AllowOffices", 200, src=("203.0.113.0/24", "198.51.100.0/24"), ports=("80",)),),
        True,
        "AllowOffices",
        200,
    ),
    case(
        "ranges-partial-allow-recorded",
        ranges("203.0.113.0/24"),
        (rule("AllowHalf", 200, src=("203.0.113.0/25",)),),
        False,
        "DenyAllInBound",
        65500,
        partial=(
            "rule AllowHalf (priority 200, Allow) admits only part of clients in 203.0.113.0/24 "
            "(source 203.0.113.0/25)",
        ),
    ),
    case(
        "ranges-partial-deny-recorded",
        ranges("203.0.113.0/24"),
        (rule("DenyHalf", 100, DENY, src=("203.0.113.128/25",)), rule("AllowWeb", 200, src=("Internet",))),
        True,
        "AllowWeb",
        200,
        partial=(
            "rule DenyHalf (priority 100, Deny) blocks part of clients in 203.0.113.0/24 (source 203.0.113.128/25)",
        ),
    ),
    case(
        "ranges-contained-in-rule",
        ranges("203.0.113.0/24"),
        (rule("AllowWide", 200, src=("203.0.0.0/16",)),),
        True,
        "AllowWide",
        200,
    ),
    case(
        "ranges-other-family-skipped",
        ranges("203.0.113.0/24", "2001:db8::/32"),
        (rule("AllowOffice", 200, src=("203.0.113.0/24",)),),
        True,
        "AllowOffice",
        200,
    ),
    case(
        "ranges-private-not-internet",
        ranges("10.1.0.0/16", destination=NODE),
        (rule("AllowWeb", 200, src=("Internet",)),),
        False,
        "DenyAllInBound",
        65500,
    ),
    case(
        "ranges-in-vnet-allowed-by-default",
        ranges("10.225.0.0/16", destination=NODE),
        (),
        True,
        "AllowVnetInBound",
        65000,
    ),
    case(
        "ranges-one-denied-by-custom-rule",
        ranges("203.0.113.0/24", "198.51.100.0/24"),
        (rule("DenyBad", 100, DENY, src=("198.51.100.0/24",)), rule("AllowWeb", 200, src=("Internet",))),
        False,
        "DenyBad",
        100,
        notes=("client range 198.51.100.0/24 is denied by rule DenyBad (priority 100) of NSG corp",),
    ),
    case(
        "ranges-malformed-range",
        ranges("203.0.113.0/33"),
        (),
        None,
        notes=("client range '203.0.113.0/33' is not an address range",),
    ),
    # --- what cannot be evaluated
    case(
        "source-asg-undetermined",
        PROBE,
        (rule("DenyWeb", 100, DENY, src_asgs=(ASG,)),),
        None,
        notes=(could_not("DenyWeb", 100, "source application security group asg-web cannot be resolved"),),
    ),
    case(
        "destination-asg-undetermined",
        INTERNET,
        (rule("AllowWeb", 100, src=("Internet",), dst_asgs=(ASG,)),),
        None,
        notes=(could_not("AllowWeb", 100, "destination application security group asg-web cannot be resolved"),),
    ),
    case(
        "unknown-tag-after-deciding-rule",
        PROBE,
        (rule("AllowLB", 100, src=("AzureLoadBalancer",)), rule("DenyCloud", 200, DENY, src=("AzureCloud",))),
        True,
        "AllowLB",
        100,
    ),
    case(
        "unknown-tag-before-deciding-rule",
        PROBE,
        (rule("DenyFrontDoor", 100, DENY, src=("AzureFrontDoor.Backend",)),),
        None,
        notes=(could_not("DenyFrontDoor", 100, "service tag AzureFrontDoor.Backend cannot be resolved"),),
    ),
    case(
        "unknown-tag-same-access-as-decider",
        PROBE,
        (rule("AllowFrontDoor", 100, src=("AzureFrontDoor.Backend",)),),
        True,
        "AllowAzureLoadBalancerInBound",
        65001,
    ),
    case(
        "unknown-tag-with-full-match-in-list",
        PROBE,
        (rule("DenyMixed", 100, DENY, src=("AzureCloud", "AzureLoadBalancer")),),
        False,
        "DenyMixed",
        100,
    ),
    case(
        "unknown-destination-tag",
        PROBE,
        (rule("DenyStorage", 100, DENY, dst=("Storage.WestEurope",)),),
        None,
        notes=(could_not("DenyStorage", 100, "service tag Storage.WestEurope cannot be resolved"),),
    ),
    case(
        "malformed-source-prefix",
        PROBE,
        (rule("DenyOdd", 100, DENY, src=("10.0.0.300",)),),
        None,
        notes=(could_not("DenyOdd", 100, "malformed source address prefix '10.0.0.300'"),),
    ),
    case(
        "two-unresolvable-rules",
        PROBE,
        (
            rule("DenyWeb", 100, DENY, src_asgs=(ASG,)),
            rule("DenyCloud", 200, DENY, src=("AzureCloud",)),
        ),
        None,
        notes=(
            could_not("DenyWeb", 100, "source application security group asg-web cannot be resolved"),
            could_not("DenyCloud", 200, "service tag AzureCloud cannot be resolved"),
        ),
    ),
    # --- direction
    case(
        "outbound-rules-ignored",
        PROBE,
        (rule("DenyOut", 100, DENY, direction=OUTBOUND),),
        True,
        "AllowAzureLoadBalancerInBound",
        65001,
    ),
    # --- IPv6
    case("ipv6-probe-default", PROBE6, (), True, "AllowAzureLoadBalancerInBound", 65001, vnet=VNET6),
    case(
        "ipv6-probe-deny-tag",
        PROBE6,
        (rule("DenyLB", 100, DENY, src=("AzureLoadBalancer",)),),
        False,
        "DenyLB",
        100,
        vnet=VNET6,
    ),
    case(
        "ipv6-probe-deny-link-local",
        PROBE6,
        (rule("DenyLinkLocal", 100, DENY, src=("fe80::/10",)),),
        False,
        "DenyLinkLocal",
        100,
        vnet=VNET6,
    ),
    case(
        "ipv6-probe-ipv4-any-does-not-match",
        PROBE6,
        (rule("DenyV4", 100, DENY, src=("0.0.0.0/0",)),),
        True,
        "AllowAzureLoadBalancerInBound",
        65001,
        vnet=VNET6,
    ),
    case(
        "ipv6-probe-part-of-link-local",
        PROBE6,
        (rule("DenySome", 100, DENY, src=("fe80::/64",)),),
        None,
        vnet=VNET6,
        notes=(
            could_not("DenySome", 100, "the IPv6 probe source is a link-local address that fe80::/64 may not contain"),
        ),
    ),
    case(
        "ipv6-probe-destination-cidr",
        PROBE6,
        (rule("DenyNodes6", 100, DENY, dst=("fd00:10::/64",)),),
        False,
        "DenyNodes6",
        100,
        vnet=VNET6,
    ),
]


@pytest.mark.parametrize(("flow", "rules", "defaults", "vnet", "want", "notes", "partial"), GROUP_CASES)
def test_group(flow, rules, defaults, vnet, want, notes, partial) -> None:
    path = evaluate(
        flow, [Level("subnet", group("corp", *rules, defaults=defaults)), Level("nic", None)], vnet_prefixes=vnet
    )
    d = path.levels[0]
    assert (d.allowed, d.rule, d.priority, d.default) == want
    assert (d.level, d.nsg) == ("subnet", "corp")
    assert d.notes == notes
    assert d.partial == partial
    assert path.allowed is want[0]
    assert path.notes == notes
    assert path.levels[1] == Decision("nic", None, True, None, None, False)
    assert (path.blocker is d) == (want[0] is False)


CORP = group("corp-nsg", rule("DenyProbe", 400, DENY, src=("AzureLoadBalancer",)))
AGENTPOOL = group("aks-agentpool")
NIC_DENY = group("nic-nsg", rule("DenyNodePort", 300, DENY, ports=("30000-32767",)))
NIC_ASG = group("nic-nsg", rule("DenyWeb", 100, DENY, src_asgs=(ASG,)))
UNREADABLE = "403 AuthorizationFailed"


def lv(level: str, nsg: SecurityGroup | None, unreadable: str | None = None) -> Level:
    return Level(level, nsg, unreadable)


# Both levels: (flow, levels, path allowed, [(level, nsg, allowed, rule, priority) per level], blocker level, notes)
PATH_CASES = [
    pytest.param(
        PROBE,
        [lv("subnet", CORP), lv("nic", AGENTPOOL)],
        False,
        [
            ("subnet", "corp-nsg", False, "DenyProbe", 400),
            ("nic", "aks-agentpool", True, "AllowAzureLoadBalancerInBound", 65001),
        ],
        "subnet",
        (),
        id="subnet-denies-nic-allows",
    ),
    pytest.param(
        PROBE_NODEPORT,
        [lv("subnet", AGENTPOOL), lv("nic", NIC_DENY)],
        False,
        [
            ("subnet", "aks-agentpool", True, "AllowAzureLoadBalancerInBound", 65001),
            ("nic", "nic-nsg", False, "DenyNodePort", 300),
        ],
        "nic",
        (),
        id="subnet-allows-nic-denies",
    ),
    pytest.param(
        PROBE,
        [lv("subnet", None), lv("nic", AGENTPOOL)],
        True,
        [("subnet", None, True, None, None), ("nic", "aks-agentpool", True, "AllowAzureLoadBalancerInBound", 65001)],
        None,
        (),
        id="no-nsg-at-subnet",
    ),
    pytest.param(
        PROBE,
        [lv("subnet", CORP), lv("nic", None)],
        False,
        [("subnet", "corp-nsg", False, "DenyProbe", 400), ("nic", None, True, None, None)],
        "subnet",
        (),
        id="no-nsg-at-nic",
    ),
    pytest.param(
        PROBE,
        [lv("subnet", None), lv("nic", None)],
        True,
        [("subnet", None, True, None, None), ("nic", None, True, None, None)],
        None,
        (),
        id="no-nsg-anywhere",
    ),
    pytest.param(
        PROBE,
        [lv("subnet", None, UNREADABLE), lv("nic", AGENTPOOL)],
        None,
        [("subnet", None, None, None, None), ("nic", "aks-agentpool", True, "AllowAzureLoadBalancerInBound", 65001)],
        None,
        (f"could not read NSG at subnet level: {UNREADABLE}",),
        id="unreadable-subnet",
    ),
    pytest.param(
        PROBE_NODEPORT,
        [lv("subnet", None, UNREADABLE), lv("nic", NIC_DENY)],
        False,
        [("subnet", None, None, None, None), ("nic", "nic-nsg", False, "DenyNodePort", 300)],
        "nic",
        (f"could not read NSG at subnet level: {UNREADABLE}",),
        id="unreadable-subnet-nic-denies",
    ),
    pytest.param(
        PROBE_NODEPORT,
        [lv("nic", NIC_DENY), lv("subnet", CORP)],
        False,
        [("subnet", "corp-nsg", False, "DenyProbe", 400), ("nic", "nic-nsg", False, "DenyNodePort", 300)],
        "subnet",
        (),
        id="subnet-first-whatever-the-order",
    ),
    pytest.param(
        PROBE,
        [lv("subnet", AGENTPOOL), lv("nic", NIC_ASG)],
        None,
        [
            ("subnet", "aks-agentpool", True, "AllowAzureLoadBalancerInBound", 65001),
            ("nic", "nic-nsg", None, None, None),
        ],
        None,
        (could_not("DenyWeb", 100, "source application security group asg-web cannot be resolved", "nic-nsg"),),
        id="nic-undetermined",
    ),
    pytest.param(
        PROBE_NODEPORT,
        [lv("subnet", NIC_ASG), lv("nic", NIC_DENY)],
        False,
        [("subnet", "nic-nsg", None, None, None), ("nic", "nic-nsg", False, "DenyNodePort", 300)],
        "nic",
        (could_not("DenyWeb", 100, "source application security group asg-web cannot be resolved", "nic-nsg"),),
        id="deny-wins-over-undetermined",
    ),
    pytest.param(
        INTERNET,
        [lv("subnet", AGENTPOOL), lv("nic", group("nic-nsg", rule("AllowWeb", 500, src=("Internet",))))],
        False,
        [
            ("subnet", "aks-agentpool", False, "DenyAllInBound", 65500),
            ("nic", "nic-nsg", True, "AllowWeb", 500),
        ],
        "subnet",
        (),
        id="clients-need-an-allow-at-both-levels",
    ),
]


@pytest.mark.parametrize(("flow", "levels", "allowed", "want", "blocker", "notes"), PATH_CASES)
def test_path(flow, levels, allowed, want, blocker, notes) -> None:
    path = evaluate(flow, levels, vnet_prefixes=VNET)
    assert path.allowed is allowed
    assert [(d.level, d.nsg, d.allowed, d.rule, d.priority) for d in path.levels] == want
    assert (path.blocker.level if path.blocker else None) == blocker
    assert path.notes == notes


@pytest.mark.parametrize(
    ("decision", "text"),
    [
        (
            Decision("subnet", "corp-nsg", False, "DenyInternet", 400, False),
            "subnet NSG corp-nsg rule DenyInternet (priority 400, Deny)",
        ),
        (
            Decision("nic", "aks-agentpool", True, "AllowAzureLoadBalancerInBound", 65001, True),
            "NIC NSG aks-agentpool default rule AllowAzureLoadBalancerInBound (priority 65001, Allow)",
        ),
        (Decision("nic", None, True, None, None, False), "no NSG at nic level"),
        (
            Decision("subnet", None, None, None, None, False, notes=("could not read NSG at subnet level: 403",)),
            "subnet NSG: undetermined (could not read NSG at subnet level: 403)",
        ),
        (
            Decision("nic", "nic-nsg", None, None, None, False, notes=("could not evaluate rule X (priority 1) …",)),
            "NIC NSG nic-nsg: undetermined (could not evaluate rule X (priority 1) …)",
        ),
    ],
)
def test_describe(decision, text) -> None:
    assert describe(decision) == text


def test_describe_of_an_evaluated_level() -> None:
    d = evaluate_group(PROBE, CORP, "subnet", vnet_prefixes=VNET)
    assert describe(d) == "subnet NSG corp-nsg rule DenyProbe (priority 400, Deny)"


@pytest.mark.parametrize(
    ("source", "label"),
    [
        (Source.probe(), "168.63.129.16 (AzureLoadBalancer)"),
        (Source.probe("IPv6"), "fe80::/10 (AzureLoadBalancer)"),
        (Source.internet(), "Internet"),
        (Source.vnet("IPv6"), "VirtualNetwork"),
        (Source.from_ranges(["10.0.0.0/8", "1.2.3.4/32"]), "10.0.0.0/8, 1.2.3.4/32"),
    ],
)
def test_source_label(source, label) -> None:
    assert source.label == label


@pytest.mark.parametrize(
    "build",
    [
        lambda: Source("everyone"),
        lambda: Source("probe", "IPv5"),
        lambda: Source("internet", ranges=("1.2.3.0/24",)),
        lambda: Flow(Source.probe(), "not-an-address", 80),
        lambda: Flow(Source.probe(), NODE, 70000),
        lambda: Flow(Source.probe(), NODE, 80, "Icmp"),
        lambda: Flow(Source.probe("IPv6"), NODE, 80),
    ],
    ids=["kind", "family", "ranges-on-internet", "destination", "port", "protocol", "family-mismatch"],
)
def test_invalid_shapes(build) -> None:
    with pytest.raises(ValueError):
        build()


def test_ranges_of_the_other_family_only() -> None:
    d = evaluate_group(ranges("2001:db8::/32"), AGENTPOOL, "nic", vnet_prefixes=VNET)
    assert (d.allowed, d.rule, d.priority) == (None, None, None)
    assert d.notes == ("no client range of the IPv4 family to evaluate",)


def test_ipv6_ranges_against_ipv6_frontend() -> None:
    nsg = group("corp", rule("AllowV6", 200, src=("2001:db8:1::/48",), ports=("443",)))
    d = evaluate_group(ranges("2001:db8:1::/64", "203.0.113.0/24", port=443, destination="2001:db8:ff::1"), nsg, "nic")
    assert (d.allowed, d.rule, d.priority, d.default, d.notes) == (True, "AllowV6", 200, False, ())
