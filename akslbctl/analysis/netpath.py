"""The network path in front of each pool member: NSGs at subnet and NIC level, and Private Link.

Two questions per rule and member (contract §5.1; field cases C07, C08, C16):

(a) do the LB's probes (168.63.129.16, the ``AzureLoadBalancer`` tag) reach node address : probe
    port? A deny is ``nsg-blocks-probe`` (error), and names what stops Azure's probe in the
    ``blocked-before-node`` verdicts;
(b) do the Service's clients (``Internet`` for a public frontend, ``VirtualNetwork`` for an internal
    one, the ``loadBalancerSourceRanges`` when set) reach what the NSG sees — frontend IP : port with
    floating IP, node IP : backend port without? A deny is ``nsg-blocks-clients`` (error): the node
    stays up for the LB, the clients are blocked ("up but blocked").

What could not be read (a 403) or evaluated (application security groups, other service tags) gives
a note, never a guess. Pure: the documents were read elsewhere (``collect``) or come from a case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import field

from akslbctl.analysis import annotations as ann
from akslbctl.analysis.engine import Analysis
from akslbctl.analysis.fusion import BLOCKED_BEFORE_NODE
from akslbctl.analysis.match import Member
from akslbctl.analysis.nsg import Decision, Flow, Level, Path, PathDecision, Source, describe, level_words
from akslbctl.model.azure import NetworkInterface
from akslbctl.model.network import PrivateLinkService, SecurityGroup, Subnet, VirtualNetwork
from akslbctl.model.report import DOWN, ERROR, WARNING, Finding, RuleDiagnosis
from akslbctl.records import record

NSG_BLOCKS_PROBE = "nsg-blocks-probe"
NSG_BLOCKS_CLIENTS = "nsg-blocks-clients"
PLS_PROXY_PROTOCOL = "pls-proxy-protocol"

ALLOWED_IP_RANGES = ann.PREFIX + "azure-allowed-ip-ranges"
LEGACY_SOURCE_RANGES = ann.PREFIX + "load-balancer-source-ranges"
ALLOWED_SERVICE_TAGS = ann.PREFIX + "azure-allowed-service-tags"


@record(frozen=True)
class PathReport:
    """What the path evaluation found: blockers per (rule name lower-cased, member address), the NSG
    findings, notes, and the Private Link Services with proxy protocol by frontend id (lower)."""

    blockers: Mapping[tuple[str, str], str] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()
    proxy_pls: Mapping[str, PrivateLinkService] = field(default_factory=dict)
    evaluated: bool = False
    # client flows denied: (rule, source, dest, port, protocol, blocker key) → (members, what allows it elsewhere);
    # they become findings once the verdicts say which members the LB sends to (client_findings)
    client_groups: Mapping[tuple, tuple[tuple[str, ...], frozenset[str]]] = field(default_factory=dict)


class _Network:
    """Index of the path objects a case holds: NIC by ipconfig / address, subnet, NSG and VNet by id."""

    def __init__(
        self,
        nics: Sequence[NetworkInterface],
        groups: Sequence[SecurityGroup],
        vnets: Sequence[VirtualNetwork],
        subnets: Sequence[Subnet],
    ) -> None:
        self.nic_by_ipconfig: dict[str, NetworkInterface] = {}
        self.nic_by_address: dict[str, tuple[NetworkInterface, str]] = {}
        for nic in nics:
            for ipc, ip in nic.ipconfigs.items():
                self.nic_by_ipconfig[ipc.lower()] = nic
                if ip:
                    self.nic_by_address[ip] = (nic, ipc.lower())
        self.groups = {g.id.lower(): g for g in groups}
        self.subnets: dict[str, Subnet] = {}
        self.vnet_of_subnet: dict[str, VirtualNetwork] = {}
        for v in vnets:
            for s in v.subnets:
                self.subnets[s.id.lower()] = s
                self.vnet_of_subnet[s.id.lower()] = v
        for s in subnets:
            self.subnets.setdefault(s.id.lower(), s)
        self.vnets = {v.id.lower(): v for v in vnets}
        self._paths: dict[tuple, Path] = {}

    def nic_for(self, m: Member) -> tuple[NetworkInterface | None, str | None]:
        ipc = (m.member.ipconfig_id or "").lower()
        if ipc and ipc in self.nic_by_ipconfig:
            return self.nic_by_ipconfig[ipc], ipc
        if m.address and m.address in self.nic_by_address:
            return self.nic_by_address[m.address]
        return None, None

    def path(self, nic: NetworkInterface | None, ipc: str | None) -> Path:
        """The levels in front of a member with this NIC and ipconfig, shared by the members whose levels
        are built from the same NSG ids and subnet (each node has its NIC, most share their NSGs)."""
        subnet_id = nic.subnets.get(ipc) if (nic is not None and ipc) else None
        key = (nic is None, nic.nsg_id if nic is not None else None, subnet_id)
        path = self._paths.get(key)
        if path is None:
            levels, subnet_id = _levels(self, nic, ipc)
            path = self._paths[key] = Path(levels, vnet_prefixes=self.vnet_prefixes(subnet_id))
        return path

    def vnet_prefixes(self, subnet_id: str | None) -> tuple[str, ...]:
        if not subnet_id:
            return ()
        vnet = self.vnet_of_subnet.get(subnet_id.lower()) or self.vnets.get(_vnet_id(subnet_id))
        if vnet is None:
            subnet = self.subnets.get(subnet_id.lower())
            return subnet.address_prefixes if subnet else ()
        return (*vnet.address_prefixes, *vnet.peered_prefixes)


def _vnet_id(subnet_id: str) -> str:
    low = subnet_id.lower()
    i = low.find("/subnets/")
    return low[:i] if i > 0 else low


def _levels(net: _Network, nic: NetworkInterface | None, ipc: str | None) -> tuple[list[Level], str | None]:
    """The subnet and NIC levels for one member, and the subnet id."""
    subnet_id = nic.subnets.get(ipc) if (nic is not None and ipc) else None
    levels: list[Level] = []
    if subnet_id:
        subnet = net.subnets.get(subnet_id.lower())
        if subnet is None:
            levels.append(Level("subnet", None, unreadable=f"subnet {_name(subnet_id)} was not read"))
        elif subnet.nsg_id:
            group = net.groups.get(subnet.nsg_id.lower())
            levels.append(
                Level("subnet", group, unreadable=None if group else f"NSG {_name(subnet.nsg_id)} was not read")
            )
        else:
            levels.append(Level("subnet", None))
    else:
        levels.append(Level("subnet", None, unreadable="the member's subnet is not known"))
    if nic is None:
        levels.append(Level("nic", None, unreadable="the member's network interface was not read"))
    elif nic.nsg_id:
        group = net.groups.get(nic.nsg_id.lower())
        levels.append(Level("nic", group, unreadable=None if group else f"NSG {_name(nic.nsg_id)} was not read"))
    else:
        levels.append(Level("nic", None))
    return levels, subnet_id


def _name(resource_id: str) -> str:
    return resource_id.rstrip("/").rsplit("/", 1)[-1]


def client_source(analysis: Analysis, public: bool, family: str) -> tuple[Source | None, str | None]:
    """Who the Service's clients are, as the provider writes its NSG rules (aks-lb-rules.md §9.1)."""
    service = analysis.case.service
    a = service.annotations
    if a.get(ALLOWED_SERVICE_TAGS):
        return None, f"the Service admits service tags ({a[ALLOWED_SERVICE_TAGS]}), which akslbctl cannot resolve"
    ranges = list(service.load_balancer_source_ranges)
    if not ranges:
        raw = a.get(ALLOWED_IP_RANGES) or a.get(LEGACY_SOURCE_RANGES) or ""
        ranges = [r.strip() for r in raw.split(",") if r.strip()]
    ranges = [r for r in ranges if (":" in r) == (family == "IPv6")]
    allow_all = {"0.0.0.0/0", "::/0"}
    if ranges and not set(ranges) <= allow_all:
        return Source.from_ranges(tuple(ranges)), None
    return (Source.internet(family) if public else Source.vnet(family)), None


def _flow(source: Source, destination: str, port: int, protocol: str) -> Flow | None:
    """The flow to evaluate, or None when the evidence names no address and port a packet could carry
    (a node address that is a host name, a probe port 0 or 70000 in ARM): nothing to judge there, and
    the verdict says why the member was not probed."""
    try:
        return Flow(source, destination, port, protocol)
    except ValueError:
        return None


def evaluate_paths(analysis: Analysis) -> PathReport:
    """Both questions for every rule and member of the Service's LB (see the module docstring)."""
    case = analysis.case
    if analysis.match.lb is None:
        return PathReport()
    proxy = {fid.lower(): pls for pls in case.private_link_services if pls.proxy_protocol for fid in pls.frontend_ids}
    if not (case.security_groups or case.virtual_networks or case.subnets or case.network_notes):
        return PathReport(proxy_pls=proxy)
    net = _Network(case.network_interfaces, case.security_groups, case.virtual_networks, case.subnets)
    blockers: dict[tuple[str, str], str] = {}
    probe_groups: dict[tuple, list[str]] = {}
    client_groups: dict[tuple, tuple[list[str], set[str]]] = {}  # → (members, what allows it elsewhere)
    notes: list[str] = list(case.network_notes)
    uncertain: dict[str, list[str]] = {}
    for mr in analysis.match.rules:
        rule = mr.rule
        frontend_ip = analysis.match.frontend_ips.get(mr.frontend.id.lower()) if mr.frontend else None
        public = bool(mr.frontend and mr.frontend.public_ip_id)
        source, why_not = client_source(analysis, public, mr.family)
        if why_not:
            notes.append(f"{rule.name}: client access not evaluated: {why_not}")
        members = [m for m in mr.members if m.address]
        probe_source = Source.probe(mr.family)
        for m in members:
            nic, ipc = net.nic_for(m)
            path = net.path(nic, ipc)
            who = m.node.name if m.node is not None else m.address
            flow = _flow(probe_source, m.address, mr.probe.port, "Tcp") if mr.probe is not None else None
            if flow is not None:
                decision = path.evaluate(flow)
                for n in decision.notes:
                    uncertain.setdefault(n, []).append(who)
                if decision.allowed is False and decision.blocker is not None:
                    b = decision.blocker
                    blockers[(rule.name.lower(), m.address)] = describe(b) + " denies it"
                    probe_groups.setdefault((rule.name, mr.probe.port, flow.source.label, _key(b)), []).append(who)
            if source is None:
                continue
            floating = rule.enable_floating_ip is not False
            dest, port = (frontend_ip, rule.frontend_port) if floating else (m.address, rule.backend_port)
            if not dest:
                continue
            protocol = "Udp" if rule.protocol == "Udp" else "Tcp"
            client_flow = _flow(source, dest, port, protocol)
            if client_flow is None:
                notes.append(f"{rule.name}: client access not evaluated for {who}: {dest}:{port} is no address:port")
                continue
            decision = path.evaluate(client_flow)
            for n in decision.notes:
                uncertain.setdefault(n, []).append(who)
            for lv in decision.levels:
                for part in lv.partial:
                    notes.append(f"{rule.name}: {level_words(lv.level)} NSG {lv.nsg}: {part}")
            if decision.allowed is False and decision.blocker is not None:
                key = (rule.name, source.label, dest if floating else None, port, protocol, _key(decision.blocker))
                group = client_groups.setdefault(key, ([], set()))
                group[0].append(who)
                group[1].update(_allowing(decision))
    findings = [_probe_finding(k, v, len(_in_pool(analysis, k[0]))) for k, v in probe_groups.items()]
    for text, who in uncertain.items():
        notes.append(text + (f" (for {_first(sorted(set(who)))})" if who else ""))
    return PathReport(
        blockers=blockers,
        findings=tuple(findings),
        notes=tuple(dict.fromkeys(notes)),
        proxy_pls=proxy,
        evaluated=True,
        client_groups={k: (tuple(who), frozenset(allowed)) for k, (who, allowed) in client_groups.items()},
    )


def _in_pool(analysis: Analysis, rule_name: str) -> list[Member]:
    mr = next((r for r in analysis.match.rules if r.rule.name == rule_name), None)
    return [m for m in mr.members if m.address] if mr else []


def _key(d: Decision) -> tuple:
    return (d.level, d.nsg, d.rule, d.priority)


def _allowing(decision: PathDecision) -> list[str]:
    return [
        f"the {level_words(d.level)} NSG {d.nsg} allows it ({d.rule})" for d in decision.levels if d.allowed and d.nsg
    ]


def _probe_finding(key: tuple, who: list[str], total: int) -> Finding:
    rule, port, source, (level, nsg, name, priority) = key
    text = (
        f"{rule}: {level_words(level)} NSG {nsg} rule {name} (priority {priority}, Deny) denies {source} "
        f"→ :{port}/Tcp on {len(who)}/{total} pool member(s) ({_first(sorted(who))}) before "
        "AllowAzureLoadBalancerInBound (priority 65001): the LB's probes never reach those nodes. Allow the "
        "AzureLoadBalancer tag on the probe port with a priority below the deny"
    )
    return Finding(NSG_BLOCKS_PROBE, ERROR, text + ".", rule=rule, node=who[0] if len(who) == 1 else None)


def _client_finding(key: tuple, who: list[str], total: int, allowed_by: set[str]) -> Finding:
    rule, source, dest, port, protocol, (level, nsg, name, priority) = key
    target = f"{dest}:{port}/{protocol}" if dest else f"the node address :{port}/{protocol} (floating IP off)"
    text = (
        f"{rule}: {source} → {target} is denied by {level_words(level)} NSG {nsg} rule {name} (priority "
        f"{priority}) on {len(who)}/{total} pool member(s) ({_first(sorted(who))}): the LB treats them by their "
        "probe, but clients cannot reach the Service through them (up but blocked)"
    )
    others = sorted(allowed_by)
    if others:
        text += f"; {others[0]}"
    if level == "subnet":
        text += ". The cloud provider writes its allow rules only on the node NSG, never on a subnet NSG: add an "
        text += "equivalent allow rule to the subnet NSG"
    return Finding(NSG_BLOCKS_CLIENTS, ERROR, text + ".", rule=rule, node=who[0] if len(who) == 1 else None)


def _down_members(rules: Sequence[RuleDiagnosis]) -> set[tuple[str, str]]:
    """(rule name, node name or address) of the members the LB treats as down."""
    return {(r.name, key) for r in rules for n in r.nodes if n.verdict == DOWN for key in (n.node, n.address) if key}


def client_findings(analysis: Analysis, report: PathReport, rules: Sequence[RuleDiagnosis]) -> list[Finding]:
    """``nsg-blocks-clients`` for the members the LB sends to (or may: no verdict). Members the LB treats as
    down get no client traffic whatever the NSG says: they are named in a note, not counted as blocked."""
    down = _down_members(rules)
    findings: list[Finding] = []
    for key, (who, allowed) in report.client_groups.items():
        rule = key[0]
        live = [w for w in who if (rule, w) not in down]
        if live:
            findings.append(_client_finding(key, live, len(_in_pool(analysis, rule)), set(allowed)))
    return findings


def client_notes(report: PathReport, rules: Sequence[RuleDiagnosis]) -> list[str]:
    """The denied client flows on members the LB treats as down: no traffic now, blocked once they are up."""
    down = _down_members(rules)
    notes = []
    for (rule, source, dest, port, protocol, (level, nsg, name, _priority)), (who, _) in report.client_groups.items():
        idle = sorted(w for w in who if (rule, w) in down)
        if idle:
            target = f"{dest}:{port}/{protocol}" if dest else f":{port}/{protocol}"
            notes.append(
                f"{rule}: {level_words(level)} NSG {nsg} rule {name} also denies {source} → {target} on "
                f"{len(idle)} member(s) the LB treats as down ({_first(idle)}): no client traffic reaches them now, "
                "and none will once they are up"
            )
    return notes


def proxy_blockers(analysis: Analysis, report: PathReport) -> dict[tuple[str, str], str]:
    """Blocker texts for rules whose frontend sits behind a Private Link Service with proxy protocol."""
    out: dict[tuple[str, str], str] = {}
    for mr in analysis.match.rules:
        pls = report.proxy_pls.get(mr.frontend.id.lower()) if mr.frontend else None
        if pls is None or mr.probe is None:
            continue
        for m in mr.members:
            if m.address and (mr.rule.name.lower(), m.address) not in report.blockers:
                out[(mr.rule.name.lower(), m.address)] = (
                    f"Private Link Service {pls.name} has proxy protocol on: the probes reach the node with a "
                    "PROXY header that the health server does not parse"
                )
    return out


def pls_findings(analysis: Analysis, report: PathReport, rules: Sequence[RuleDiagnosis]) -> list[Finding]:
    """``pls-proxy-protocol``: Azure says Down while a plain request succeeds, behind a PLS with proxy
    protocol (field case C16): error. Without that evidence, a warning for Http(s) probes."""
    out = []
    by_name = {r.name: r for r in rules}
    for mr in analysis.match.rules:
        pls = report.proxy_pls.get(mr.frontend.id.lower()) if mr.frontend else None
        rd = by_name.get(mr.rule.name)
        if pls is None or rd is None or mr.probe is None:
            continue
        blocked = [n for n in rd.nodes if n.reason == BLOCKED_BEFORE_NODE]
        members = [n for n in rd.nodes if n.in_pool]
        probe = mr.probe
        target = f"{probe.protocol} :{probe.port}" + (
            f" {probe.request_path or '/'}" if probe.protocol in ("Http", "Https") else ""
        )
        fix = (
            "Use a probe that tolerates the PROXY header (a per-port probe on a port whose server parses it, or a "
            "health-probe proxy that strips it), or a cloud-provider-azure release that builds per-port probes for "
            "Local Services with proxy protocol (v1.24.20, v1.25.14, v1.26.10, v1.27.4, v1.28.0 and later)"
        )
        if blocked:
            out.append(
                Finding(
                    PLS_PROXY_PROTOCOL,
                    ERROR,
                    f"{mr.rule.name}: Azure says Down on {len(blocked)}/{len(members)} node(s) while our plain "
                    f"probe {target} succeeds. The frontend is behind Private Link Service {pls.name} with proxy "
                    f"protocol on, so the probes carry a PROXY header the health server does not parse. {fix}.",
                    rule=mr.rule.name,
                )
            )
        elif probe.protocol in ("Http", "Https") and not any(
            n.azure is not None and n.azure.state == "Up" for n in members
        ):  # Azure's probe succeeds somewhere: the health server copes with what the probes carry
            out.append(
                Finding(
                    PLS_PROXY_PROTOCOL,
                    WARNING,
                    f"{mr.rule.name}: the frontend is behind Private Link Service {pls.name} with proxy protocol on "
                    f"and the rule's probe is {target}: HTTP probes that carry a PROXY header fail on health servers "
                    f"that do not parse it. {fix}.",
                    rule=mr.rule.name,
                )
            )
    return out


def _first(names: Sequence[str], limit: int = 3) -> str:
    head = ", ".join(names[:limit])
    return head + (f", … {len(names) - limit} more" if len(names) > limit else "")
