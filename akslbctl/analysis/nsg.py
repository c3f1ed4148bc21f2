"""Does an NSG let a flow through to a node? Azure's rule evaluation, subnet level then NIC level.

Inbound traffic to a NIC passes the subnet's NSG first, then the NIC's; both must allow, and a level
without an NSG allows everything. Within one NSG the Inbound rules (the owner's and the default rules)
are read in ascending priority and the first rule that matches protocol, source address and port,
destination address and port decides.

A flow's source is a class of senders, not one address: the LB's health probes (168.63.129.16, the
``AzureLoadBalancer`` tag), ``Internet`` clients, ``VirtualNetwork`` clients, or the Service's
``loadBalancerSourceRanges``. A rule covers that class fully, partly or not at all; only a full match
decides, and partial allows or denies before the deciding rule are recorded.

Never a guess: a rule akslbctl cannot resolve (application security groups, service tags other than
``Internet``, ``VirtualNetwork`` and ``AzureLoadBalancer``, malformed ports or prefixes, the
``VirtualNetwork`` tag against the probe source) that could match the flow before the deciding rule,
and that would decide the other way, leaves the level undetermined (``allowed=None``) with a note.

Without the virtual network's address space (``vnet_prefixes``), the VNet is taken to lie in private
address space: what depends on it for a private address is undetermined, public addresses are
``Internet``. Pure: no clock, no environment, no client library.
"""

from __future__ import annotations

import bisect
import functools
import ipaddress
import re
from collections.abc import Sequence

from akslbctl.model.network import ALLOW, DENY, INBOUND, SecurityGroup, SecurityRule
from akslbctl.records import record


@functools.lru_cache(maxsize=16384)
def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """A parsed address (ValueError for a non-address); every pool member's is asked for many times."""
    return ipaddress.ip_address(text.strip())


PROBE_SOURCE = "168.63.129.16"
PROBE_SOURCE_V6 = "fe80::/10"  # the IPv6 probes come from a link-local address

STANDARD_DEFAULT_RULES: tuple[SecurityRule, ...] = (
    SecurityRule(
        "AllowVnetInBound",
        65000,
        INBOUND,
        ALLOW,
        "*",
        source_prefixes=("VirtualNetwork",),
        destination_prefixes=("VirtualNetwork",),
        default=True,
    ),
    SecurityRule(
        "AllowAzureLoadBalancerInBound",
        65001,
        INBOUND,
        ALLOW,
        "*",
        source_prefixes=("AzureLoadBalancer",),
        destination_prefixes=("*",),
        default=True,
    ),
    SecurityRule("DenyAllInBound", 65500, INBOUND, DENY, "*", default=True),
)

_KINDS = ("probe", "internet", "vnet", "ranges")
_FAMILIES = ("IPv4", "IPv6")
_LEVEL_ORDER = {"subnet": 0, "nic": 1}


# ---------------------------------------------------------------------------------------------------
# The public shapes


@record(frozen=True)
class Source:
    """Who sends the traffic: ``probe``, ``internet``, ``vnet`` clients or explicit client ``ranges``.

    ``family`` is the address family of the class (ignored for ``ranges``: each range has its own).
    """

    kind: str
    family: str = "IPv4"
    ranges: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown source kind {self.kind!r}")
        if self.family not in _FAMILIES:
            raise ValueError(f"unknown address family {self.family!r}")
        if self.ranges and self.kind != "ranges":
            raise ValueError("only a ranges source has client ranges")

    @classmethod
    def probe(cls, family: str = "IPv4") -> Source:
        """The LB's health probes (168.63.129.16, or a link-local address for IPv6)."""
        return cls("probe", family)

    @classmethod
    def internet(cls, family: str = "IPv4") -> Source:
        """Clients of a public frontend: everyone outside the virtual network."""
        return cls("internet", family)

    @classmethod
    def vnet(cls, family: str = "IPv4") -> Source:
        """Clients of an internal frontend: the virtual network's address space and its peerings."""
        return cls("vnet", family)

    @classmethod
    def from_ranges(cls, ranges: Sequence[str]) -> Source:
        """Clients limited to CIDRs (the Service's ``loadBalancerSourceRanges``)."""
        items = tuple(str(r).strip() for r in ranges)
        family = "IPv6" if items and all(":" in r for r in items) else "IPv4"
        return cls("ranges", family, items)

    @property
    def label(self) -> str:
        if self.kind == "probe":
            return f"{PROBE_SOURCE if self.family == 'IPv4' else PROBE_SOURCE_V6} (AzureLoadBalancer)"
        if self.kind == "internet":
            return "Internet"
        if self.kind == "vnet":
            return "VirtualNetwork"
        return ", ".join(self.ranges)


@record(frozen=True)
class Flow:
    """Traffic from a source class to one address and port. Http and Https count as Tcp."""

    source: Source
    destination: str
    port: int
    protocol: str = "Tcp"

    def __post_init__(self) -> None:
        address = _ip(self.destination)  # ValueError for a non-address
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is out of range")
        if self.protocol.strip().lower() not in ("tcp", "udp", "http", "https"):
            raise ValueError(f"unsupported protocol {self.protocol!r}")
        family = "IPv4" if address.version == 4 else "IPv6"
        if self.source.kind != "ranges" and self.source.family != family:
            raise ValueError(f"an {self.source.family} source cannot reach {self.destination}")

    @property
    def family(self) -> str:
        return "IPv4" if _ip(self.destination).version == 4 else "IPv6"

    @property
    def transport(self) -> str:
        """``tcp`` or ``udp``."""
        return "udp" if self.protocol.strip().lower() == "udp" else "tcp"


@record(frozen=True)
class Level:
    """One place an NSG can sit: ``subnet`` or ``nic``. ``unreadable`` says why its NSG could not be read."""

    level: str
    nsg: SecurityGroup | None
    unreadable: str | None = None


@record(frozen=True)
class Decision:
    """One level's answer; ``allowed`` None when it cannot be determined (see ``notes``)."""

    level: str
    nsg: str | None
    allowed: bool | None
    rule: str | None
    priority: int | None
    default: bool
    partial: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@record(frozen=True)
class PathDecision:
    """All levels' answers: False when any level denies, None when none denies but one is undetermined."""

    allowed: bool | None
    levels: tuple[Decision, ...]

    @property
    def blocker(self) -> Decision | None:
        return next((d for d in self.levels if d.allowed is False), None)

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(n for d in self.levels for n in d.notes)


# ---------------------------------------------------------------------------------------------------
# Address sets: sorted, merged, inclusive integer intervals of one family

_Set = tuple[tuple[int, int], ...]
_TOP = {"IPv4": 2**32 - 1, "IPv6": 2**128 - 1}


def _merge(intervals) -> _Set:
    out: list[list[int]] = []
    for lo, hi in sorted(intervals):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return tuple((lo, hi) for lo, hi in out)


def _intersect(a: _Set, b: _Set) -> _Set:
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def _subtract(a: _Set, b: _Set) -> _Set:
    out = []
    for lo, hi in a:
        cur = lo
        for blo, bhi in b:
            if bhi < cur or blo > hi:
                continue
            if blo > cur:
                out.append((cur, blo - 1))
            cur = max(cur, bhi + 1)
            if cur > hi:
                break
        if cur <= hi:
            out.append((cur, hi))
    return tuple(out)


def _contains(s: _Set, value: int) -> bool:
    return any(lo <= value <= hi for lo, hi in s)


# The parsers below are pure and see the same few texts for every pool member (one NSG's rules, the
# VNet's prefixes): cached, a 5,000-node pool costs one parse per distinct text, not one per member.
@functools.lru_cache(maxsize=8192)
def _net(text: str) -> tuple[str, tuple[int, int]] | None:
    """(family, interval) of a CIDR or single address; None when the text is neither."""
    try:
        n = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None
    return ("IPv4" if n.version == 4 else "IPv6"), (int(n.network_address), int(n.broadcast_address))


def _set_of(*cidrs: str) -> _Set:
    return _merge(_net(c)[1] for c in cidrs)


# Not reachable from the public internet: private, shared, loopback, link-local, multicast, reserved.
_NON_PUBLIC = {
    "IPv4": _set_of(
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/4",
        "240.0.0.0/4",
        f"{PROBE_SOURCE}/32",  # the host's virtual IP, never an internet client
    ),
    "IPv6": _set_of("::/8", "100::/64", "fc00::/7", "fe80::/10", "ff00::/8"),
}
_PROBE_SET = {"IPv4": _set_of(PROBE_SOURCE), "IPv6": _set_of(PROBE_SOURCE_V6)}


# ---------------------------------------------------------------------------------------------------
# Rule fields

_TAGS = {
    "internet": "Internet",
    "virtualnetwork": "VirtualNetwork",
    "virtual_network": "VirtualNetwork",
    "azureloadbalancer": "AzureLoadBalancer",
    "azure_loadbalancer": "AzureLoadBalancer",
}
_ADDRESS_LIKE = re.compile(r"^[0-9A-Fa-f:./-]+$")


@record(frozen=True)
class _Prefix:
    kind: str  # any | tag | net | malformed
    text: str
    family: str = ""
    interval: tuple[int, int] = (0, 0)

    @property
    def tag(self) -> str:
        return _TAGS.get(self.text.lower(), self.text)


@functools.lru_cache(maxsize=8192)
def _prefix(text: str) -> _Prefix:
    t = text.strip()
    if t == "*" or t.lower() == "any":
        return _Prefix("any", t)
    parsed = _net(t)
    if parsed is not None:
        return _Prefix("net", t, parsed[0], parsed[1])
    if not t or (_ADDRESS_LIKE.match(t) and any(c.isdigit() for c in t) and ("." in t or ":" in t)):
        return _Prefix("malformed", t)
    return _Prefix("tag", t)


_PORT = re.compile(r"^(\d{1,5})(?:\s*-\s*(\d{1,5}))?$")


def _ports(texts: Sequence[str]) -> _Set | None:
    """The port set of a rule field; None when any part is malformed (or the field is empty)."""
    return _port_set(tuple(str(t) for t in texts))


@functools.lru_cache(maxsize=8192)
def _port_set(texts: tuple[str, ...]) -> _Set | None:
    out = []
    for text in texts:
        for part in str(text).split(","):
            p = part.strip()
            if p == "*" or p.lower() == "any":
                out.append((0, 65535))
                continue
            m = _PORT.match(p)
            if not m:
                return None
            lo = int(m.group(1))
            hi = int(m.group(2)) if m.group(2) else lo
            if hi > 65535 or lo > hi:
                return None
            out.append((lo, hi))
    return _merge(out) if out else None


def _access(rule: SecurityRule) -> str | None:
    return {"allow": ALLOW, "deny": DENY}.get(rule.access.strip().lower())


def _asg_names(ids: Sequence[str]) -> str:
    return ", ".join(i.rstrip("/").rsplit("/", 1)[-1] for i in ids)


# ---------------------------------------------------------------------------------------------------
# Matching one rule against one population of senders

_FULL, _PARTIAL, _NONE, _UNKNOWN, _SET = "full", "partial", "none", "unknown", "set"
_VNET_UNKNOWN = "the virtual network's address space is unknown"


@record(frozen=True)
class _Ctx:
    family: str
    vnet: _Set | None  # None: not known

    @property
    def internet(self) -> _Set:
        return _internet(self.family, self.vnet)


@functools.lru_cache(maxsize=256)
def _internet(fam: str, vnet: _Set | None) -> _Set:
    return _subtract(_subtract(((0, _TOP[fam]),), _NON_PUBLIC[fam]), vnet or ())


@functools.lru_cache(maxsize=16384)
def _address_int(text: str) -> int:
    return int(_ip(text))


@record(frozen=True)
class _Who:
    """One population of senders; ``pop`` None for VirtualNetwork clients of an unknown VNet."""

    kind: str  # probe | internet | vnet | range
    family: str
    pop: _Set | None
    text: str = ""

    @property
    def label(self) -> str:
        if self.kind == "probe":
            return f"probes from {Source.probe(self.family).label}"
        if self.kind == "internet":
            return "Internet clients"
        if self.kind == "vnet":
            return "VirtualNetwork clients"
        return f"clients in {self.text}"


def _source_element(p: _Prefix, who: _Who, ctx: _Ctx) -> tuple[str, _Set, str]:
    """How one source prefix covers ``who``: FULL, NONE, UNKNOWN (with why) or SET (the addresses)."""
    if p.kind == "any":
        return _FULL, (), ""
    if p.kind == "net":
        if p.family != who.family:
            return _NONE, (), ""
        if who.pop is None:
            return _UNKNOWN, (), _VNET_UNKNOWN
        return _SET, (p.interval,), ""
    tag = p.tag
    if tag == "AzureLoadBalancer":
        if who.kind == "probe":
            return _FULL, (), ""
        if who.kind == "range":
            if who.family == "IPv4":
                return _SET, _PROBE_SET["IPv4"], ""
            if who.pop is not None and _intersect(who.pop, _PROBE_SET["IPv6"]):
                return _UNKNOWN, (), "the IPv6 probe source is a link-local address the client range may contain"
        return _NONE, (), ""
    if tag == "Internet":
        if who.kind == "internet":
            return _FULL, (), ""
        if who.kind == "range":
            return _SET, ctx.internet, ""
        return _NONE, (), ""  # neither the probe source nor the VNet is Internet
    if tag == "VirtualNetwork":
        if who.kind == "probe":
            return _UNKNOWN, (), "the VirtualNetwork tag may include the host's virtual IP the health probes come from"
        if who.kind == "vnet":
            return _FULL, (), ""
        if who.kind == "internet":
            return _NONE, (), ""
        if ctx.vnet is not None:
            return _SET, ctx.vnet, ""
        if who.pop is not None and _intersect(who.pop, _NON_PUBLIC[who.family]):
            return _UNKNOWN, (), _VNET_UNKNOWN
        return _NONE, (), ""
    return _UNKNOWN, (), f"service tag {p.text} cannot be resolved"


def _source_coverage(rule: SecurityRule, who: _Who, ctx: _Ctx) -> tuple[str, str]:
    """FULL, PARTIAL, NONE or UNKNOWN (with why) for the rule's source addresses against ``who``."""
    if rule.source_asgs:
        return _UNKNOWN, f"source application security group {_asg_names(rule.source_asgs)} cannot be resolved"
    prefixes = [_prefix(t) for t in rule.source_prefixes]
    if not prefixes:
        return _UNKNOWN, "the rule has no source address"
    bad = [p.text for p in prefixes if p.kind == "malformed"]
    if bad:
        return _UNKNOWN, f"malformed source address prefix {', '.join(repr(b) for b in bad)}"
    union: list[tuple[int, int]] = []
    unknown: list[str] = []
    for p in prefixes:
        state, addresses, why = _source_element(p, who, ctx)
        if state == _FULL:
            return _FULL, ""
        if state == _SET:
            union.extend(addresses)
        elif state == _UNKNOWN:
            unknown.append(why)
    covered = _intersect(_merge(union), who.pop) if who.pop is not None else ()
    if who.pop is not None and not _subtract(who.pop, covered):
        return _FULL, ""
    if unknown:
        return _UNKNOWN, "; ".join(dict.fromkeys(unknown))
    if covered:
        if who.kind == "probe":  # one link-local address, not a population: in or out, unknown which
            why = f"the IPv6 probe source is a link-local address that {_join(rule.source_prefixes)} may not contain"
            return _UNKNOWN, why
        return _PARTIAL, ""
    return _NONE, ""


def _source_ports(rule: SecurityRule) -> tuple[str, str]:
    """Clients use ephemeral ports: FULL only when the rule takes every source port."""
    ports = _ports(rule.source_ports)
    if ports is None:
        return _UNKNOWN, f"malformed source port range {_join(rule.source_ports, quote=True)}"
    covered = _intersect(ports, ((1, 65535),))
    if covered == ((1, 65535),):
        return _FULL, ""
    return (_PARTIAL, "") if covered else (_NONE, "")


def _destination(rule: SecurityRule, flow: Flow, ctx: _Ctx) -> tuple[bool | None, str]:
    """Does the rule's destination take the flow's address? None (with why) when that cannot be known."""
    if rule.destination_asgs:
        return None, f"destination application security group {_asg_names(rule.destination_asgs)} cannot be resolved"
    prefixes = [_prefix(t) for t in rule.destination_prefixes]
    if not prefixes:
        return None, "the rule has no destination address"
    bad = [p.text for p in prefixes if p.kind == "malformed"]
    if bad:
        return None, f"malformed destination address prefix {', '.join(repr(b) for b in bad)}"
    address = _address_int(flow.destination)
    private = _contains(_NON_PUBLIC[ctx.family], address)
    unknown: list[str] = []
    for p in prefixes:
        if p.kind == "any":
            return True, ""
        if p.kind == "net":
            if p.family == ctx.family and p.interval[0] <= address <= p.interval[1]:
                return True, ""
            continue
        tag = p.tag
        if tag == "VirtualNetwork":
            if ctx.vnet is not None:
                if _contains(ctx.vnet, address):
                    return True, ""
            elif private:
                unknown.append(_VNET_UNKNOWN)
        elif tag == "Internet":
            if not private and not _contains(ctx.vnet or (), address):
                return True, ""
        elif tag != "AzureLoadBalancer":
            unknown.append(f"service tag {p.text} cannot be resolved")
    if unknown:
        return None, "; ".join(dict.fromkeys(unknown))
    return False, ""


def _protocol(rule: SecurityRule, flow: Flow) -> tuple[bool | None, str]:
    p = rule.protocol.strip().lower()
    if p in ("*", "any"):
        return True, ""
    if p in ("tcp", "udp"):
        return p == flow.transport, ""
    if p in ("icmp", "esp", "ah"):
        return False, ""
    return None, f"unknown protocol {rule.protocol!r}"


@record(frozen=True)
class _Hit:
    rule: SecurityRule
    default: bool
    access: str | None  # None: unreadable access
    state: str  # FULL | PARTIAL | UNKNOWN
    why: str = ""  # UNKNOWN: why it cannot be evaluated; PARTIAL: what it covers


def _match(rule: SecurityRule, default: bool, who: _Who, flow: Flow, ctx: _Ctx) -> _Hit | None:
    """The rule's hold on the flow; None when it certainly does not match."""
    dport = _ports(rule.destination_ports)
    checks: list[tuple[bool | None, str]] = [
        _protocol(rule, flow),
        _destination(rule, flow, ctx),
        (None, f"malformed destination port range {_join(rule.destination_ports, quote=True)}")
        if dport is None
        else (_contains(dport, flow.port), ""),
    ]
    src, src_why = _source_coverage(rule, who, ctx)
    sport, sport_why = _source_ports(rule)
    if any(ok is False for ok, _ in checks) or _NONE in (src, sport):
        return None
    unknown = [why for ok, why in checks if ok is None]
    unknown += [why for state, why in ((src, src_why), (sport, sport_why)) if state == _UNKNOWN]
    access = _access(rule)
    if access is None:
        unknown.append(f"unknown access {rule.access!r}")
    if unknown:
        return _Hit(rule, default, access, _UNKNOWN, "; ".join(dict.fromkeys(unknown)))
    if src == _FULL and sport == _FULL:
        return _Hit(rule, default, access, _FULL)
    what = []
    if src == _PARTIAL:
        what.append(f"source {_join(rule.source_prefixes)}")
    if sport == _PARTIAL:
        what.append(f"source ports {_join(rule.source_ports)}")
    return _Hit(rule, default, access, _PARTIAL, ", ".join(what))


def _join(items: Sequence[str], quote: bool = False) -> str:
    return ", ".join(repr(str(i)) if quote else str(i) for i in items) or "(none)"


# ---------------------------------------------------------------------------------------------------
# One NSG


@record(frozen=True)
class _Outcome:
    allowed: bool | None
    rule: SecurityRule | None = None
    default: bool = False
    partial: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def _inbound(nsg: SecurityGroup) -> list[tuple[SecurityRule, bool]]:
    defaults = nsg.default_rules or STANDARD_DEFAULT_RULES
    rules = [(r, r.default) for r in nsg.rules] + [(r, True) for r in defaults]
    rules = [(r, d) for r, d in rules if r.direction.strip().lower() == INBOUND.lower()]
    return sorted(rules, key=lambda rd: rd[0].priority)  # stable: the owner's rules before defaults


def _could_not(hit: _Hit, nsg: str) -> str:
    return f"could not evaluate rule {hit.rule.name} (priority {hit.rule.priority}) of NSG {nsg}: {hit.why}"


def _partial_text(hit: _Hit, who: _Who) -> str:
    verb = "admits only part of" if hit.access == ALLOW else "blocks part of"
    return f"rule {hit.rule.name} (priority {hit.rule.priority}, {hit.access}) {verb} {who.label} ({hit.why})"


def _scan(rules: Sequence[tuple[SecurityRule, bool]], nsg: str, who: _Who, flow: Flow, ctx: _Ctx) -> _Outcome:
    unknown: list[_Hit] = []
    partial: list[_Hit] = []
    decider: _Hit | None = None
    for rule, default in rules:
        hit = _match(rule, default, who, flow, ctx)
        if hit is None:
            continue
        if hit.state == _FULL:
            decider = hit
            break
        (unknown if hit.state == _UNKNOWN else partial).append(hit)
    if decider is None:
        notes = [_could_not(u, nsg) for u in unknown]
        notes.append(f"no rule of NSG {nsg} decides for {who.label}")
        return _Outcome(None, partial=tuple(_partial_text(p, who) for p in partial), notes=tuple(notes))
    parts = tuple(_partial_text(p, who) for p in partial if p.access != decider.access)
    # An unresolvable rule that would decide the same way cannot change the answer.
    blocking = [u for u in unknown if u.access != decider.access]
    if blocking:
        return _Outcome(None, partial=parts, notes=tuple(_could_not(u, nsg) for u in blocking))
    return _Outcome(decider.access == ALLOW, decider.rule, decider.default, parts)


def _populations(source: Source, ctx: _Ctx) -> tuple[list[_Who], list[str]]:
    """The sender populations to evaluate, and notes on client ranges that cannot be evaluated."""
    fam = ctx.family
    if source.kind == "probe":
        return [_Who("probe", fam, _PROBE_SET[fam])], []
    if source.kind == "internet":
        return [_Who("internet", fam, ctx.internet)], []
    if source.kind == "vnet":
        return [_Who("vnet", fam, ctx.vnet)], []
    whos, bad = [], []
    for text in source.ranges:
        parsed = _net(text)
        if parsed is None:
            bad.append(f"client range {text!r} is not an address range")
        elif parsed[0] == fam:
            whos.append(_Who("range", fam, (parsed[1],), text))
    return whos, bad


def _vnet_set(prefixes: Sequence[str], family: str) -> _Set | None:
    intervals = []
    for text in prefixes:
        parsed = _net(str(text))
        if parsed is None:
            return None
        if parsed[0] == family:
            intervals.append(parsed[1])
    return _merge(intervals) or None


def evaluate_group(flow: Flow, nsg: SecurityGroup, level: str, *, vnet_prefixes: Sequence[str] = ()) -> Decision:
    """One NSG's answer for ``flow`` at ``level`` (``subnet`` or ``nic``).

    ``vnet_prefixes`` is the virtual network's address space plus its peerings' (what the
    ``VirtualNetwork`` tag stands for). For client ranges, each range is evaluated on its own: the
    level denies when it denies any of them, allows when it allows all of them.
    """
    ctx = _Ctx(flow.family, _vnet_set(vnet_prefixes, flow.family))
    rules = _inbound_of(nsg)
    # The answer depends on the destination address only through each rule's destination check:
    # members whose checks all come out alike get the same answer (the same NSG in front of 5,000
    # nodes is evaluated a handful of times, not 5,000).
    seen = tuple(_destination(rule, flow, ctx) for rule, _ in rules)
    key = (id(nsg), level, flow.source, flow.port, flow.transport, ctx, seen)
    memo = _GROUP_MEMO.get(key)
    if memo is not None and memo[0] is nsg:
        return memo[1]
    decision = _evaluate_group(flow, nsg, level, ctx, rules)
    if len(_GROUP_MEMO) >= 4096:
        _GROUP_MEMO.clear()
    _GROUP_MEMO[key] = (nsg, decision)  # the NSG itself kept: its id cannot be reused while cached
    return decision


_GROUP_MEMO: dict[tuple, tuple[SecurityGroup, Decision]] = {}
_INBOUND_MEMO: dict[int, tuple[SecurityGroup, list[tuple[SecurityRule, bool]]]] = {}


def _inbound_of(nsg: SecurityGroup) -> list[tuple[SecurityRule, bool]]:
    memo = _INBOUND_MEMO.get(id(nsg))
    if memo is not None and memo[0] is nsg:
        return memo[1]
    rules = _inbound(nsg)
    if len(_INBOUND_MEMO) >= 1024:
        _INBOUND_MEMO.clear()
    _INBOUND_MEMO[id(nsg)] = (nsg, rules)
    return rules


def _evaluate_group(
    flow: Flow, nsg: SecurityGroup, level: str, ctx: _Ctx, rules: list[tuple[SecurityRule, bool]]
) -> Decision:
    whos, bad = _populations(flow.source, ctx)
    results = [(who, _scan(rules, nsg.name, who, flow, ctx)) for who in whos]
    partial = tuple(dict.fromkeys(p for _, o in results for p in o.partial))
    notes = list(bad)
    for _, o in results:
        notes.extend(o.notes)
    if not results:
        if not bad:
            notes.append(f"no client range of the {flow.family} family to evaluate")
        return Decision(level, nsg.name, None, None, None, False, partial, tuple(dict.fromkeys(notes)))
    denied = [(w, o) for w, o in results if o.allowed is False]
    if denied:
        if len(results) > 1 or bad:
            notes = [
                f"client range {w.text} is denied by rule {o.rule.name} (priority {o.rule.priority}) of NSG {nsg.name}"
                for w, o in denied
                if o.rule is not None
            ] + notes
        chosen: _Outcome | None = denied[0][1]
        allowed: bool | None = False
    elif not bad and all(o.allowed for _, o in results):
        chosen, allowed = results[0][1], True
    else:
        chosen, allowed = None, None
    rule = chosen.rule if chosen is not None else None
    return Decision(
        level,
        nsg.name,
        allowed,
        rule.name if rule is not None else None,
        rule.priority if rule is not None else None,
        bool(chosen and chosen.default),
        partial,
        tuple(dict.fromkeys(notes)),
    )


def evaluate(flow: Flow, levels: Sequence[Level], *, vnet_prefixes: Sequence[str] = ()) -> PathDecision:
    """Every level's answer for ``flow``, subnet level first, and whether the flow gets through them all.

    A level without an NSG allows everything; a level whose NSG could not be read is undetermined.
    """
    try:
        key = (tuple((lv.level, id(lv.nsg), lv.unreadable) for lv in levels), tuple(str(p) for p in vnet_prefixes))
        path = _PATH_MEMO.get(key)
    except TypeError:  # an unhashable field
        return _evaluate_path(flow, levels, vnet_prefixes)
    if path is None or not all(a.nsg is b.nsg for a, b in zip(path.levels, levels, strict=True)):  # same length
        path = Path(levels, vnet_prefixes=vnet_prefixes)
        if len(_PATH_MEMO) >= 1024:
            _PATH_MEMO.clear()
        _PATH_MEMO[key] = path  # the NSGs kept with it: their ids cannot be reused while cached
    return path.evaluate(flow)


class Path:
    """The levels in front of some pool members and their VNet's address space, to evaluate many flows.

    ``evaluate(flow)`` is :func:`evaluate` for these levels. The destination address takes part in
    the evaluation only through interval tests — a rule's destination CIDRs, the VNet's address space
    and the non-public ranges (the ``VirtualNetwork`` and ``Internet`` tags) — so for each flow shape
    (source, port, protocol, family) the address line splits into segments at every start and every
    end + 1 of those intervals, and all addresses of a segment get the same answer: a pool of 5,000
    nodes behind the same NSGs is evaluated once per segment its addresses fall in, not once per node.
    """

    def __init__(self, levels: Sequence[Level], *, vnet_prefixes: Sequence[str] = ()) -> None:
        self.levels = tuple(levels)
        self.vnet_prefixes = tuple(str(p) for p in vnet_prefixes)
        self._shapes: dict[tuple, tuple[list[int], dict[int, PathDecision]]] = {}

    def evaluate(self, flow: Flow) -> PathDecision:
        family = flow.family
        key = (flow.source, flow.port, flow.protocol, family)
        shape = self._shapes.get(key)
        if shape is None:
            shape = self._shapes[key] = (self._bounds(family), {})
        bounds, decisions = shape
        segment = bisect.bisect_right(bounds, _address_int(flow.destination))
        decision = decisions.get(segment)
        if decision is None:
            decision = decisions[segment] = _evaluate_path(flow, self.levels, self.vnet_prefixes)
        return decision

    def _bounds(self, family: str) -> list[int]:
        intervals = [*_NON_PUBLIC[family], *(_vnet_set(self.vnet_prefixes, family) or ())]
        for lv in self.levels:
            if lv.nsg is None or lv.unreadable is not None:
                continue
            for rule, _ in _inbound_of(lv.nsg):
                for text in rule.destination_prefixes:
                    p = _prefix(text)
                    if p.kind == "net" and p.family == family:
                        intervals.append(p.interval)
        return sorted({edge for lo, hi in intervals for edge in (lo, hi + 1)})


_PATH_MEMO: dict[tuple, Path] = {}


def _evaluate_path(flow: Flow, levels: Sequence[Level], vnet_prefixes: Sequence[str]) -> PathDecision:
    ordered = sorted(levels, key=lambda lv: _LEVEL_ORDER.get(lv.level, len(_LEVEL_ORDER)))
    decisions = []
    for lv in ordered:
        if lv.unreadable is not None:
            name = lv.nsg.name if lv.nsg is not None else None
            note = f"could not read NSG at {lv.level} level: {lv.unreadable}"
            decisions.append(Decision(lv.level, name, None, None, None, False, notes=(note,)))
        elif lv.nsg is None:
            decisions.append(Decision(lv.level, None, True, None, None, False))
        else:
            decisions.append(evaluate_group(flow, lv.nsg, lv.level, vnet_prefixes=vnet_prefixes))
    if any(d.allowed is False for d in decisions):
        allowed: bool | None = False
    elif any(d.allowed is None for d in decisions):
        allowed = None
    else:
        allowed = True
    return PathDecision(allowed, tuple(decisions))


def level_words(level: str) -> str:
    """How a level reads in a sentence: ``subnet`` or ``NIC``."""
    return "NIC" if level == "nic" else level


def describe(decision: Decision) -> str:
    """One line for a level's answer, e.g. ``subnet NSG corp-nsg rule DenyInternet (priority 400, Deny)``."""
    if decision.nsg is None and decision.allowed is True:
        return f"no NSG at {decision.level} level"
    where = f"{level_words(decision.level)} NSG" + (f" {decision.nsg}" if decision.nsg else "")
    if decision.allowed is None or decision.rule is None:
        state = {True: "allows", False: "denies", None: "undetermined"}[decision.allowed]
        return f"{where}: {state}" + (f" ({decision.notes[0]})" if decision.notes else "")
    access = ALLOW if decision.allowed else DENY
    kind = "default rule" if decision.default else "rule"
    return f"{where} {kind} {decision.rule} (priority {decision.priority}, {access})"
