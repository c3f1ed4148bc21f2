"""Find a Service's objects on the Azure load balancers of its resource group.

Ownership follows the provider (aks-lb-rules.md §3.2, §5.1, §11): frontends, rules and probes whose
names start with the Service's prefix ``P`` (case-insensitive), plus frontends that carry one of the
Service's IPs (a Service sharing another Service's frontend). Other Services' objects on the same LB are
never taken in. Pool members are mapped back to Nodes through ``spec.providerID`` (NIC/VMSS pools) or
their address (IP pools).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import field
from functools import cached_property, lru_cache

from akslbctl.analysis import annotations as ann
from akslbctl.analysis.names import SHARED_PROBE_NAME, owns, service_prefix
from akslbctl.model.azure import (
    Frontend,
    LoadBalancer,
    NetworkInterface,
    Pool,
    PoolMember,
    Probe,
    PublicIP,
    Rule,
    id_name,
    same_id,
)
from akslbctl.model.kube import Node, Service
from akslbctl.records import record


@record(frozen=True)
class Member:
    """One backend pool member and the Node it belongs to (None when no Node matches)."""

    member: PoolMember
    node: Node | None
    address: str | None  # what the LB probes: the member's private IP


@record(frozen=True)
class MatchedRule:
    rule: Rule
    family: str  # IPv4 | IPv6
    frontend: Frontend | None
    probe: Probe | None
    probe_dangling: bool  # the rule references a probe the LB does not have
    pools: tuple[Pool, ...]
    members: tuple[Member, ...]  # members of all the rule's pools, unique by node/address

    def member_for(self, node: Node) -> Member | None:
        return self._by_node.get(node.name)

    @cached_property
    def _by_node(self) -> dict[str, Member]:
        return {m.node.name: m for m in self.members if m.node is not None}


@record(frozen=True)
class Match:
    prefix: str
    lb: LoadBalancer | None  # the LB that holds the Service
    other_lbs: tuple[LoadBalancer, ...] = ()  # other LBs that still carry objects of the Service
    frontends: tuple[Frontend, ...] = ()
    frontend_ips: Mapping[str, str] = field(default_factory=dict)  # frontend id (lower) → IP
    rules: tuple[MatchedRule, ...] = ()
    orphan_probes: tuple[Probe, ...] = ()  # prefixed probes no rule of the Service references
    shared_probe: Probe | None = None
    unmatched_members: tuple[Member, ...] = ()  # pool members that map to no Node
    notes: tuple[str, ...] = ()
    unmanaged: tuple[str, ...] = ()  # LBs with the Service's IP but nothing the provider built for it

    @property
    def not_found_why(self) -> str:
        """What to add to "no load balancer has a frontend or rule for this Service": the LBs not adopted."""
        return "".join(f"; {n}" for n in self.unmanaged[:1])

    @property
    def found(self) -> bool:
        return self.lb is not None


def match(
    service: Service,
    nodes: Sequence[Node],
    load_balancers: Iterable[LoadBalancer],
    public_ips: Iterable[PublicIP] = (),
    nics: Iterable[NetworkInterface] = (),
) -> Match:
    prefix = service_prefix(service.uid)
    pips = list(public_ips)
    wanted_ips = {*service.ingress_ips, *ann.pinned_ips(service)}
    pip_names = {n.lower() for n in ann.pip_names(service)}
    # PIPs that carry one of the Service's IPs or are named by azure-pip-name: frontends pointing at
    # them belong to the Service even when another Service created them (shared IP).
    service_pips = [p for p in pips if (p.ip_address and p.ip_address in wanted_ips) or p.name.lower() in pip_names]

    candidates = []
    unmanaged: list[str] = []
    for lb in load_balancers:
        fronts = [f for f in lb.frontends if _owns_frontend(f, prefix, wanted_ips, service_pips)]
        rules = [r for r in lb.rules if owns(prefix, r.name)]
        probes = [p for p in lb.probes if owns(prefix, p.name)]
        # Only an LB where the provider built something for this Service (a frontend, rule or probe named
        # with its prefix) is the Service's. A frontend that merely carries one of its IPs — a user's own
        # LB in the resource group, pinned to the same address — is not adopted.
        if rules or probes or any(owns(prefix, f.name) for f in fronts):
            candidates.append((lb, fronts, rules, probes))
        elif fronts:
            unmanaged.append(
                f"load balancer {lb.name} has frontend {fronts[0].name} on an IP of this Service but nothing the "
                "cloud provider built for it (no frontend, rule or probe named with its prefix): not taken as the "
                "Service's load balancer"
            )
    if not candidates:
        return Match(prefix=prefix, lb=None, notes=tuple(unmanaged), unmanaged=tuple(unmanaged))

    # The LB with the Service's rules wins; leftovers elsewhere are reported, not mixed in.
    candidates.sort(key=lambda c: (len(c[2]), len(c[1])), reverse=True)
    lb, fronts, rules, probes = candidates[0]
    notes = [
        f"load balancer {other.name} still carries {len(r)} rule(s) and {len(f)} frontend(s) of this Service"
        for other, f, r, _ in candidates[1:]
    ] + unmanaged

    pip_by_id = {p.id.lower(): p for p in pips}
    frontend_ips = {}
    for f in fronts:
        ip = f.private_ip
        if f.public_ip_id:
            pip = pip_by_id.get(f.public_ip_id.lower())
            ip = pip.ip_address if pip else None
        if ip:
            frontend_ips[f.id.lower()] = ip

    index = _NodeIndex(nodes, nics)
    matched_rules = []
    unmatched: dict[str, Member] = {}
    for rule in sorted(rules, key=lambda r: r.name.lower()):
        family = _rule_family(rule, lb)
        probe = lb.probe_by_id(rule.probe_id)
        pools = tuple(p for p in (lb.pool_by_id(pid) for pid in rule.backend_pool_ids) if p is not None)
        members = _members(pools, index, family)
        for m in members:
            if m.node is None:
                unmatched[(m.member.ipconfig_id or m.member.ip_address or "").lower()] = m
        frontend = lb.frontend_by_id(rule.frontend_id)
        if frontend is not None and frontend not in fronts:
            # A rule of ours on a frontend we did not recognise (e.g. the IP is not in status yet).
            fronts.append(frontend)
        matched_rules.append(
            MatchedRule(
                rule=rule,
                family=family,
                frontend=frontend,
                probe=probe,
                probe_dangling=rule.probe_id is not None and probe is None,
                pools=pools,
                members=members,
            )
        )
    referenced = {r.rule.probe_id.lower() for r in matched_rules if r.rule.probe_id}
    orphans = tuple(p for p in probes if p.id.lower() not in referenced)
    shared = next((p for p in lb.probes if p.name.lower() == SHARED_PROBE_NAME.lower()), None)
    return Match(
        prefix=prefix,
        lb=lb,
        other_lbs=tuple(c[0] for c in candidates[1:]),
        frontends=tuple(fronts),
        frontend_ips=frontend_ips,
        rules=tuple(matched_rules),
        orphan_probes=orphans,
        shared_probe=shared,
        unmatched_members=tuple(unmatched.values()),
        notes=tuple(notes),
        unmanaged=tuple(unmanaged),
    )


def _owns_frontend(f: Frontend, prefix: str, wanted_ips: set[str], service_pips: list[PublicIP]) -> bool:
    if owns(prefix, f.name):
        return True
    if f.private_ip and f.private_ip in wanted_ips:
        return True
    return bool(f.public_ip_id) and any(same_id(f.public_ip_id, p.id) for p in service_pips)


def _rule_family(rule: Rule, lb: LoadBalancer) -> str:
    if rule.name.lower().endswith("-ipv6"):
        return "IPv6"
    if any(id_name(pid).lower().endswith("-ipv6") for pid in rule.backend_pool_ids):
        return "IPv6"
    frontend = lb.frontend_by_id(rule.frontend_id)
    if frontend is not None and (frontend.private_ip_version or "").lower() == "ipv6":
        return "IPv6"
    return "IPv4"


# -- pool members → nodes ----------------------------------------------------------------------


@lru_cache(maxsize=32768)  # each member's and Node's id is asked for several times a run
def vm_path(resource_id: str) -> str | None:
    """The VM part of a providerID or ipConfiguration id, lower-cased, for case-insensitive joins.

    ``azure:///subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachineScaleSets/V/virtualMachines/3``
    and ``/subscriptions/S/resourceGroups/rg/…/virtualMachineScaleSets/V/virtualMachines/3/networkInterfaces/…`` both
    give ``subscriptions/s/resourcegroups/rg/…/virtualmachinescalesets/v/virtualmachines/3``.
    """
    text = resource_id.strip().lower()
    if text.startswith("azure://"):
        text = text[len("azure://") :]
    parts = [p for p in text.split("/") if p]
    try:
        i = parts.index("virtualmachines")
    except ValueError:
        return None
    if i + 1 >= len(parts):
        return None
    return "/".join(parts[: i + 2])


_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def vmss_computer_name(ipconfig_id: str) -> str | None:
    """The computer name AKS gives a scale-set instance, from its ipConfiguration id (lower-cased):
    the scale set's name and the instance id in base 36, six digits (``…vmss`` + ``000001``).

    The provider maps a pool member back to a node by the instance's ``osProfile.computerName``
    (``GetNodeNameByIPConfigurationID``); this is that name as AKS builds it (computerNamePrefix = the
    scale set's name), for Nodes that carry no ``spec.providerID`` to join on.
    """
    parts = [p for p in ipconfig_id.lower().split("/") if p]
    try:
        i = parts.index("virtualmachinescalesets")
        j = parts.index("virtualmachines", i)
        vmss, instance = parts[i + 1], int(parts[j + 1])
    except (ValueError, IndexError):
        return None
    if instance < 0:
        return None
    digits = ""
    while True:
        instance, r = divmod(instance, 36)
        digits = _BASE36[r] + digits
        if not instance:
            break
    return vmss + digits.rjust(6, "0")


class _NodeIndex:
    def __init__(self, nodes: Sequence[Node], nics: Iterable[NetworkInterface]) -> None:
        self.by_vm: dict[str, Node] = {}
        self.by_ip: dict[str, Node] = {}
        self.by_name: dict[str, Node] = {}
        self.without_id: dict[str, Node] = {}  # Nodes with no providerID, by name: joined by computer name
        for n in nodes:
            key = vm_path(n.provider_id) if n.provider_id else None
            if key:
                self.by_vm[key] = n
            else:
                self.without_id[n.name.lower()] = n
            for ip in n.internal_ips:
                self.by_ip[ip] = n
            self.by_name[n.name.lower()] = n
        self.nic_by_ipconfig: dict[str, tuple[NetworkInterface, str | None]] = {}
        for nic in nics:
            for cfg_id, ip in nic.ipconfigs.items():
                self.nic_by_ipconfig[cfg_id.lower()] = (nic, ip)

    def resolve(self, member: PoolMember, family: str) -> Member:
        node = None
        address = member.ip_address
        if member.ipconfig_id:
            key = vm_path(member.ipconfig_id) if "/virtualmachinescalesets/" in member.ipconfig_id.lower() else None
            found = self.nic_by_ipconfig.get(member.ipconfig_id.lower())
            if key:
                node = self.by_vm.get(key)
                if node is None and self.without_id:  # a Node without providerID: the instance's computer name
                    name = vmss_computer_name(member.ipconfig_id)
                    node = self.without_id.get(name) if name else None
                if node is None and found is not None and found[1]:
                    candidate = self.by_ip.get(found[1])  # the scale set's NIC list names the instance's IP
                    node = candidate if candidate is not None and not candidate.provider_id else None
            elif found is not None:
                nic, ip = found
                address = address or ip
                vm = vm_path(nic.vm_id) if nic.vm_id else None
                node = self.by_vm.get(vm) if vm else None
                if node is None and nic.vm_id and self.without_id:  # VMAS / Flex: the VM's name is the node's
                    node = self.without_id.get(nic.vm_id.rstrip("/").rsplit("/", 1)[-1].lower())
                if node is None and ip:
                    node = self.by_ip.get(ip)
        if node is None and member.ip_address:
            node = self.by_ip.get(member.ip_address)
        if node is None and member.name and not member.ipconfig_id:
            node = self.by_name.get(member.name.lower())
        if node is not None and not address:
            address = node.address(family)
        return Member(member=member, node=node, address=address)


def _members(pools: Sequence[Pool], index: _NodeIndex, family: str) -> tuple[Member, ...]:
    seen: set[str] = set()
    out = []
    for pool in pools:
        for pm in pool.members:
            m = index.resolve(pm, family)
            key = f"node:{m.node.name}" if m.node else f"addr:{(pm.ipconfig_id or pm.ip_address or '').lower()}"
            if key in seen:
                continue
            seen.add(key)
            out.append(m)
    return tuple(out)


def pool_members(
    pool: Pool, nodes: Sequence[Node], nics: Iterable[NetworkInterface] = (), family: str = "IPv4"
) -> tuple[Member, ...]:
    """The members of one backend pool mapped to Nodes, as for a rule's pools (also for pools no rule uses)."""
    return _members((pool,), _NodeIndex(nodes, nics), family)


def node_resource_group(nodes: Iterable[Node]) -> tuple[str | None, str | None]:
    """(subscription, resource group) from the first Node whose providerID names them (aks-lb-rules.md §11)."""
    for n in nodes:
        parts = [p for p in n.provider_id.replace("azure://", "").split("/") if p]
        low = [p.lower() for p in parts]
        if "subscriptions" in low and "resourcegroups" in low:
            si, ri = low.index("subscriptions"), low.index("resourcegroups")
            if si + 1 < len(parts) and ri + 1 < len(parts):
                return parts[si + 1], parts[ri + 1]
    return None, None
