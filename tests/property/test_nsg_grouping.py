"""The NSG evaluator answers each flow shape once per destination segment (``nsg.Path``): for any
rule set, VNet and source, the answer it gives a node from that cache is the answer a fresh,
per-node evaluation gives — whatever the addresses, including the edges of every CIDR involved."""

from __future__ import annotations

import ipaddress

from fuzzing import FUZZ
from hypothesis import given
from hypothesis import strategies as st

from akslbctl.analysis import nsg
from akslbctl.analysis.nsg import Flow, Level, Source, evaluate
from akslbctl.model.network import ALLOW, DENY, INBOUND, OUTBOUND, SecurityGroup, SecurityRule

# CIDRs around the node addresses (and some that are not near them), tags, and texts the evaluator
# cannot resolve: the destination checks that split a pool into segments.
PREFIXES = (
    "*",
    "10.224.0.0/16",
    "10.224.0.0/24",
    "10.224.0.128/25",
    "10.224.1.7",
    "10.224.1.7/32",
    "10.0.0.0/8",
    "20.50.60.70",
    "20.50.60.0/24",
    "0.0.0.0/0",
    "192.168.0.0/16",
    "168.63.129.16",
    "fd00:10::/64",
    "fd00:10::5",
    "VirtualNetwork",
    "Internet",
    "AzureLoadBalancer",
    "AzureCloud.westeurope",
    "10.224.0.300",
    "",
)
PORTS = ("*", "80", "30000-32767", "32700", "1-79", "81-65535", "443,80", "abc", "70000")
VNETS = ((), ("10.224.0.0/16",), ("10.224.0.0/12", "fd00:10::/64"), ("10.224.0.0/24", "20.50.60.0/24"), ("bad",))
ASG = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/applicationSecurityGroups/asg-web"

rules = st.builds(
    SecurityRule,
    name=st.sampled_from(("a", "b", "c", "d", "e")),
    priority=st.integers(min_value=100, max_value=4096),
    direction=st.sampled_from((INBOUND, INBOUND, INBOUND, OUTBOUND)),
    access=st.sampled_from((ALLOW, DENY, "Maybe")),
    protocol=st.sampled_from(("*", "Tcp", "Udp", "Icmp", "Gre")),
    source_prefixes=st.lists(st.sampled_from(PREFIXES), min_size=1, max_size=3).map(tuple),
    destination_prefixes=st.lists(st.sampled_from(PREFIXES), min_size=0, max_size=3).map(tuple),
    source_ports=st.lists(st.sampled_from(PORTS), min_size=1, max_size=2).map(tuple),
    destination_ports=st.lists(st.sampled_from(PORTS), min_size=1, max_size=2).map(tuple),
    source_asgs=st.sampled_from(((), (), (), (ASG,))),
    destination_asgs=st.sampled_from(((), (), (), (ASG,))),
)
groups = st.builds(
    SecurityGroup,
    id=st.sampled_from(("/nsg/subnet", "/nsg/nic")),
    name=st.sampled_from(("subnet-nsg", "nic-nsg")),
    rules=st.lists(rules, max_size=6).map(tuple),
)
level_of = st.one_of(
    groups.map(lambda g: ("nsg", g)),
    st.just(("none", None)),
    st.just(("unreadable", None)),
)
sources = st.sampled_from(
    (
        Source.probe(),
        Source.internet(),
        Source.vnet(),
        Source.from_ranges(("10.224.0.0/16",)),
        Source.from_ranges(("20.50.60.0/24", "10.224.1.0/24")),
        Source.from_ranges(("8.8.8.8/32", "not a range")),
        Source.probe("IPv6"),
        Source.vnet("IPv6"),
    )
)


def _level(name: str, spec: tuple[str, SecurityGroup | None]) -> Level:
    kind, group = spec
    if kind == "unreadable":
        return Level(name, None, unreadable="403")
    return Level(name, group)


def _edges(prefixes: tuple[str, ...]) -> list[str]:
    """Addresses at and beside every CIDR's first and last address."""
    out = []
    for text in prefixes:
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            continue
        for base in (int(net.network_address), int(net.broadcast_address)):
            for delta in (-1, 0, 1):
                value = base + delta
                if 0 <= value < 2 ** (32 if net.version == 4 else 128):
                    out.append(str(ipaddress.ip_address(value) if net.version == 4 else ipaddress.IPv6Address(value)))
    return out


def _fresh(flow: Flow, levels: list[Level], vnet: tuple[str, ...]):
    """The per-node answer: every cache emptied first."""
    nsg._PATH_MEMO.clear()
    nsg._GROUP_MEMO.clear()
    return evaluate(flow, levels, vnet_prefixes=vnet)


@FUZZ
@given(
    subnet=level_of,
    nic=level_of,
    vnet=st.sampled_from(VNETS),
    source=sources,
    port=st.sampled_from((80, 32700, 53, 443)),
    protocol=st.sampled_from(("Tcp", "Udp", "Http")),
    picks=st.lists(st.integers(min_value=0, max_value=2**32 - 1), min_size=1, max_size=20),
)
def test_grouped_answers_equal_per_node_answers(subnet, nic, vnet, source, port, protocol, picks) -> None:
    levels = [_level("subnet", subnet), _level("nic", nic)]
    texts = [t for _, g in (subnet, nic) if g is not None for r in g.rules for t in r.destination_prefixes]
    family = "IPv6" if source.kind != "ranges" and source.family == "IPv6" else "IPv4"
    if family == "IPv4":
        addresses = [str(ipaddress.IPv4Address(p)) for p in picks]
        addresses += ["10.224.0.5", "10.224.1.7", "20.50.60.70", "8.8.8.8", "168.63.129.16"]
    else:
        addresses = [str(ipaddress.IPv6Address((0xFD00_0010 << 96) + p)) for p in picks] + ["fd00:10::5", "2001:db8::1"]
    addresses += _edges((*texts, *vnet, "10.0.0.0/8", "100.64.0.0/10", "fc00::/7"))
    flows = []
    for address in addresses:
        try:
            flows.append(Flow(source, address, port, protocol))
        except ValueError:  # the other family
            continue
    nsg._PATH_MEMO.clear()
    nsg._GROUP_MEMO.clear()
    grouped = [evaluate(f, levels, vnet_prefixes=vnet) for f in flows]  # one warm cache for the whole pool
    for flow, answer in zip(flows, grouped, strict=True):
        assert answer == _fresh(flow, levels, vnet), flow.destination
