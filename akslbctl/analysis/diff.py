"""Is the LB what Kubernetes asked for? Field by field, on the provider's own comparison sets.

``diff`` compares the :class:`~akslbctl.analysis.expect.Expectation` that ``engine.analyse`` computes —
the one explain uses — with the objects ARM holds, and reports only what the cloud provider would
change on its next successful reconcile:

- rules on the fields of ``equalLoadBalancingRulePropertiesFormat`` (aks-lb-rules.md §5.3): protocol,
  TCP reset (Tcp rules only), frontend / backend pool / probe references (case-insensitive), load
  distribution, frontend and backend port, floating IP, ``disableOutboundSnat`` against the value the
  LB's own rules carry (a cluster setting, never assumed), idle timeout only when both sides have one;
- probes on the fields of ``findProbe`` (§6.6): protocol, port, request path (case-insensitive),
  interval, and ``probeThreshold`` — or ``numberOfProbes`` for the provider versions that wrote it;
- frontends: present, and carrying the Service's IP (public: the PIP's address; internal: the
  private IP);
- backend pools: the nodes the provider keeps (``expect.pool_membership``) against the members;
  "either" nodes (kept when present, not added) are never drift;
- leftovers: frontends, rules and probes with the Service's prefix that the provider would not build.

An annotation the provider rejects fails its whole reconcile, so the LB keeps what it last wrote: that
is one ``service`` difference carrying the provider's error text, and the comparison goes on, with the
fields the rejected annotations feed left at what the provider last wrote (``frozen_fields``).

Pure: no client library, no I/O, no clock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from akslbctl.analysis import annotations as ann
from akslbctl.analysis.engine import Analysis
from akslbctl.analysis.events import provisioning_findings
from akslbctl.analysis.expect import (
    ExpectedFrontend,
    ExpectedProbe,
    ExpectedRule,
)
from akslbctl.analysis.match import pool_members
from akslbctl.analysis.names import is_ipv6_pool, owns
from akslbctl.model.azure import Frontend, LoadBalancer, Pool, Probe, Rule, id_name
from akslbctl.model.kube import Service, ServicePort
from akslbctl.model.report import PRESENCE, Difference, LoadBalancerDiff
from akslbctl.records import record

__all__ = [
    "PROBE_TARGET_FIELDS",
    "FieldDiff",
    "compare_probe",
    "compare_rule",
    "diff",
]

HTTP_PROTOCOLS = ("Http", "Https")

PROBE_TARGET_FIELDS = ("protocol", "port", "requestPath")
"""What the LB probes: the fields explain's ``probe-mismatch`` looks at."""

PROBE_FIELDS = (*PROBE_TARGET_FIELDS, "intervalInSeconds", "threshold")
"""``findProbe``'s field set; ``threshold`` stands for ``probeThreshold`` or ``numberOfProbes``."""

_BLOCKED = " (blocked: the provider's reconcile is failing on an annotation)"

Scalar = str | int | bool | None


@record(frozen=True)
class FieldDiff:
    field: str  # ARM property name
    expected: Scalar
    actual: Scalar


# ---------------------------------------------------------------------------------------------
# The provider's field sets


def _probe_path(protocol: str, path: str | None) -> str | None:
    return path if protocol in HTTP_PROTOCOLS else None


def leftover_rule_sentence(port: int, protocol: str) -> str:
    """How ``diff`` and ``explain`` both name a rule left for a port the Service no longer declares."""
    return (
        f"a rule for port {port}/{protocol} that the Service no longer declares: a leftover the provider removes "
        "on its next successful reconcile"
    )


def compare_probe(
    want: ExpectedProbe, have: Probe, fields: Sequence[str] = PROBE_FIELDS, *, threshold_alternate: str | None = None
) -> list[FieldDiff]:
    """The fields of ``have`` that differ from ``want``, in ``findProbe``'s terms.

    The request path is compared case-insensitively and only for Http/Https probes (a Tcp probe has
    none; a protocol change already says the rest). The threshold is ``probeThreshold``, or
    ``numberOfProbes`` when the provider version wrote that field. ``threshold_alternate``: the field an
    older patch of the branch wrote, when the provider's patch is not known — a probe that carries only
    that field is compared on it. Source:
    ``pkg/provider/azure_loadbalancer_healthprobe.go · findProbe``; aks-lb-rules.md §6.6.
    """
    out: list[FieldDiff] = []
    if "protocol" in fields and have.protocol.lower() != want.protocol.lower():
        out.append(FieldDiff("protocol", want.protocol, have.protocol))
    if "port" in fields and have.port != want.port:
        out.append(FieldDiff("port", want.port, have.port))
    if "requestPath" in fields and want.protocol in HTTP_PROTOCOLS:
        have_path = _probe_path(have.protocol, have.request_path)
        if (have_path or "").lower() != (want.request_path or "").lower():
            out.append(FieldDiff("requestPath", want.request_path, have_path))
    if "intervalInSeconds" in fields and have.interval != want.interval:
        out.append(FieldDiff("intervalInSeconds", want.interval, have.interval))
    if "threshold" in fields:
        field = want.threshold_field
        value = have.probe_threshold if field == "probeThreshold" else have.number_of_probes
        if value is None and threshold_alternate and threshold_alternate != field:
            other = have.probe_threshold if threshold_alternate == "probeThreshold" else have.number_of_probes
            if other is not None:  # written by a provider patch from before the change: judge that field
                field, value = threshold_alternate, other
        if value != want.threshold:
            out.append(FieldDiff(field, want.threshold, value))
    return out


def compare_rule(
    want: ExpectedRule, have: Rule, *, frontend: str, disable_outbound_snat: bool | None
) -> list[FieldDiff]:
    """The fields of ``have`` that differ from ``want``, in ``equalLoadBalancingRulePropertiesFormat``'s terms.

    ``frontend``: the name of the frontend the Service owns for the rule's family (its own ``P``, or a
    frontend it shares by IP). ``disable_outbound_snat``: the cluster's value as the LB's rules carry
    it; None when it cannot be told. TCP reset is compared on Tcp rules only, the idle timeout only
    when both sides have one; an absent boolean counts as false, as ``to.Bool`` does. References are
    compared by name (case-insensitive): the Service's objects all live on one LB.
    """
    out: list[FieldDiff] = []
    if have.protocol.lower() != want.protocol.lower():
        out.append(FieldDiff("protocol", want.protocol, have.protocol))
    if have.frontend_port != want.frontend_port:
        out.append(FieldDiff("frontendPort", want.frontend_port, have.frontend_port))
    if have.backend_port != want.backend_port:
        out.append(FieldDiff("backendPort", want.backend_port, have.backend_port))
    if bool(have.enable_floating_ip) != want.enable_floating_ip:
        out.append(FieldDiff("enableFloatingIP", want.enable_floating_ip, bool(have.enable_floating_ip)))
    if want.idle_timeout is not None and have.idle_timeout is not None and have.idle_timeout != want.idle_timeout:
        out.append(FieldDiff("idleTimeoutInMinutes", want.idle_timeout, have.idle_timeout))
    if want.protocol == "Tcp" and bool(have.enable_tcp_reset) != bool(want.enable_tcp_reset):
        out.append(FieldDiff("enableTcpReset", bool(want.enable_tcp_reset), bool(have.enable_tcp_reset)))
    distribution = have.load_distribution or "Default"
    if distribution.lower() != want.load_distribution.lower():
        out.append(FieldDiff("loadDistribution", want.load_distribution, distribution))
    if disable_outbound_snat is not None and bool(have.disable_outbound_snat) != disable_outbound_snat:
        out.append(FieldDiff("disableOutboundSnat", disable_outbound_snat, bool(have.disable_outbound_snat)))
    have_frontend = id_name(have.frontend_id) or None
    if (have_frontend or "").lower() != frontend.lower():
        out.append(FieldDiff("frontendIPConfiguration.id", frontend, have_frontend))
    have_pools = [id_name(p) for p in have.backend_pool_ids]
    if [p.lower() for p in have_pools] != [want.pool_name.lower()]:
        out.append(FieldDiff("backendAddressPool.id", want.pool_name, ", ".join(have_pools) or None))
    want_probe = want.probe.name if want.probe is not None else None
    have_probe = id_name(have.probe_id) or None
    if (have_probe or "").lower() != (want_probe or "").lower():
        out.append(FieldDiff("probe.id", want_probe, have_probe))
    return out


# ---------------------------------------------------------------------------------------------
# Facts the messages use


def _family_of_ip(ip: str) -> str:
    return "IPv6" if ":" in ip else "IPv4"


@record(frozen=True)
class _Facts:
    service: Service
    lb: LoadBalancer | None
    frontend_ips: dict[str, str]  # frontend name (lower) → IP

    def ingress(self, family: str) -> str | None:
        return next((ip for ip in self.service.ingress_ips if _family_of_ip(ip) == family), None)

    def client_address(self, rule_family: str, frontend: str | None, port: int) -> str:
        ip = (self.frontend_ips.get(frontend.lower()) if frontend else None) or self.ingress(rule_family)
        if ip is None:
            return f"port {port}"
        return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"

    def port_by_node_port(self, node_port: int) -> ServicePort | None:
        return next((p for p in self.service.ports if p.node_port == node_port), None)

    def serves(self, port: int) -> bool:
        """Whether something of the Service answers on this node port (a nodePort or the health port)."""
        hc = self.service.health_check_node_port
        return (self.service.is_local and hc == port) or self.port_by_node_port(port) is not None

    @property
    def lb_name(self) -> str:
        return self.lb.name if self.lb is not None else "the load balancer"


def _show(value: Scalar) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _port_label(p: ServicePort | None) -> str:
    if p is None:
        return "the Service"
    return f"port {p.port}/{p.protocol}"


# ---------------------------------------------------------------------------------------------
# Messages: one plain line on why each difference matters


def _probe_message(d: FieldDiff, want: ExpectedProbe, facts: _Facts) -> str:
    svc = facts.service
    if d.field == "port":
        e, a = int(d.expected), d.actual
        if svc.is_local and e == svc.health_check_node_port and not want.shared:
            target = f"healthCheckNodePort is {e}"
        elif (p := facts.port_by_node_port(e)) is not None:
            target = f"the nodePort of port {p.port} is {e}"
        else:
            target = f"the provider would probe {e}"
        if isinstance(a, int) and facts.serves(a):
            return f"probe on {a} but {target}: the LB judges the nodes by the wrong port of the Service"
        return f"probe on {a} but {target}: every node looks down"
    if d.field == "protocol":
        e, a = d.expected, d.actual
        if a == "Tcp":
            consequence = (
                "a bare TCP handshake counts as up, so nodes that would fail the health check still get traffic"
            )
        elif e == "Tcp":
            consequence = "nodes count as up only on HTTP 200, which this port may never answer"
        else:
            consequence = f"the LB speaks {a} to a port that speaks {e}: nodes look down"
        return f"probe is {a} but the provider would configure {e} ({want.why}): {consequence}"
    if d.field == "requestPath":
        return (
            f"probe asks {_show(d.actual)} but the provider would ask {_show(d.expected)}: the LB judges the nodes "
            "by a path the Service does not ask for, which may not answer 200"
        )
    if d.field == "intervalInSeconds":
        return (
            f"probe runs every {_show(d.actual)} s, the provider would write {_show(d.expected)} s: nodes leave and "
            "rejoin rotation at another pace than the Service asks"
        )
    if d.field == "numberOfProbes":
        return (
            f"numberOfProbes is {_show(d.actual)}, the provider would write {_show(d.expected)}: Azure does not "
            "honour it, but the provider rewrites the probe"
        )
    if d.actual is None:
        return (
            f"probeThreshold is not set, the provider would write {d.expected}: Azure flips a node after a "
            "single probe result instead"
        )
    return (
        f"the LB flips a node after {d.actual} consecutive probe results, the provider would write "
        f"{d.expected}: failover is {'slower' if int(d.actual) > int(d.expected) else 'quicker'} than the Service asks"
    )


def _rule_message(d: FieldDiff, want: ExpectedRule, facts: _Facts, frontend: str) -> str:
    sp = want.service_port
    where = facts.client_address(want.family, frontend, want.frontend_port)
    e, a = d.expected, d.actual
    if d.field == "protocol":
        return f"rule forwards {a} but {_port_label(sp)} is {e}: {where} drops the Service's traffic"
    if d.field == "frontendPort":
        return f"rule listens on port {a} but the Service port is {e}: clients of {where} get no answer"
    if d.field == "backendPort":
        if want.enable_floating_ip:
            return (
                f"rule sends to port {a}; with floating IP the provider sends to the service port {e}, which "
                "kube-proxy serves on the frontend IP"
            )
        return f"rule sends to port {a} but the nodePort is {e}: the nodes do not serve {where} there"
    if d.field == "enableFloatingIP":
        if e:
            return (
                f"floating IP is off: the nodes get traffic for {where} on port {want.backend_port}, which the "
                "provider would deliver to the frontend IP instead"
            )
        return (
            f"floating IP is on, but the provider would turn it off and send to nodePort {want.backend_port}: "
            f"{where} reaches the nodes at the wrong address"
        )
    if d.field == "idleTimeoutInMinutes":
        return f"idle connections on {where} are dropped after {a} min, the Service asks for {e} min"
    if d.field == "enableTcpReset":
        told = "told" if e else "not told"
        return (
            f"TCP reset is {_show(a)}, the provider would write {_show(e)}: clients should be {told} when an idle "
            "connection is dropped"
        )
    if d.field == "loadDistribution":
        affinity = "sessionAffinity ClientIP" if e == "SourceIP" else "no sessionAffinity"
        pinned = "pinned to one node" if e == "SourceIP" else "spread over the nodes"
        return f"load distribution is {a} but {affinity} asks for {e}: clients of {where} should be {pinned}"
    if d.field == "disableOutboundSnat":
        return (
            f"disableOutboundSnat is {_show(a)} while the load balancer's other rules have {_show(e)}: outbound "
            "connections from the nodes may take another path"
        )
    if d.field == "frontendIPConfiguration.id":
        return (
            f"rule sits on frontend {_show(a)}, not on the Service's frontend {e}: clients of the Service's IP do "
            "not reach it"
        )
    if d.field == "backendAddressPool.id":
        return f"rule sends to pool {_show(a)} but the provider uses {e}: other nodes get the Service's traffic"
    # probe.id
    if a is None:
        return (
            f"rule has no probe, the provider would use {e}: the LB sends {where} to every pool member, "
            "including nodes that cannot serve it"
        )
    if e is None:
        return (
            f"rule uses probe {a} but the provider would write it without one ({want.no_probe_why}): nodes the "
            "probe marks down lose traffic they would get"
        )
    return f"rule uses probe {a} but the provider would use {e}: the LB judges the nodes by another health check"


# ---------------------------------------------------------------------------------------------
# The comparison


def frozen_fields(analysis: Analysis) -> frozenset[str]:
    """ARM fields that keep what the provider last wrote while an annotation makes its reconcile fail.

    The provider changes nothing until the annotation is fixed, and what it writes then depends on the
    fix, so the fields the rejected annotations feed are not compared: interval and threshold for a
    timing annotation (``interval × num-of-probe`` couples them), the probe port for
    ``health-probe_port``, protocol and path for a protocol, the idle timeout for its annotation.
    """
    out: set[str] = set()
    for problem in analysis.expectation.problems:
        if not problem.fatal:
            continue
        key = problem.annotation.lower()
        if key == ann.IDLE_TIMEOUT:
            out.add("idleTimeoutInMinutes")
        elif key.endswith((ann.PARAM_INTERVAL, ann.PARAM_NUM_OF_PROBE)):
            out.update(("intervalInSeconds", "probeThreshold", "numberOfProbes"))
        elif key.endswith(f"health-probe_{ann.PARAM_PORT}"):
            out.add("port")
        elif key.endswith("protocol"):
            out.update(("protocol", "requestPath"))
    return frozenset(out)


def _find(items: Iterable, name: str):
    low = name.lower()
    return next((x for x in items if x.name.lower() == low), None)


def _frontend_family(f: Frontend, ip: str | None) -> str:
    if (f.private_ip_version or "").lower() == "ipv6":
        return "IPv6"
    return _family_of_ip(ip) if ip else "IPv4"


def _outbound_snat(lb: LoadBalancer) -> bool | None:
    """The cluster's ``disableOutboundSNAT`` as the LB's rules carry it: the most common value."""
    values = Counter(bool(r.disable_outbound_snat) for r in lb.rules if r.disable_outbound_snat is not None)
    if not values:
        return None
    (value, _), *rest = values.most_common()
    if rest and rest[0][1] == values[value]:
        return None  # a tie: the cluster setting cannot be told
    return value


class _Differ:
    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self.case = analysis.case
        self.match = analysis.match
        self.lb = analysis.match.lb
        self.want = analysis.expectation
        self.blocked = analysis.expectation.reconcile_fails
        self.frozen = frozen_fields(analysis)
        frontend_ips = {}
        for f in self.match.frontends:
            ip = self.match.frontend_ips.get(f.id.lower())
            if ip:
                frontend_ips[f.name.lower()] = ip
        self.facts = _Facts(self.case.service, self.lb, frontend_ips)
        self.out: list[Difference] = []
        self.notes: list[str] = []
        self.frontend_for: dict[str, str] = {}  # family → name of the frontend the Service uses

    def add(self, kind: str, name: str, field: str, expected: Scalar, actual: Scalar, message: str) -> None:
        if self.blocked and kind != "service":
            message += _BLOCKED
        self.out.append(Difference(kind, name, field, expected, actual, message))

    # -- the rejected annotations ----------------------------------------------------------------

    def annotations(self) -> None:
        for problem in self.analysis.expectation.problems:
            if not problem.fatal:
                self.notes.append(f"{ann.short_key(problem.annotation)}={problem.value!r}: {problem.message}")
                continue
            self.add(
                "service",
                self.case.service.ref,
                problem.annotation,
                None,
                problem.value,
                f"{problem.message} — the provider's reconcile fails, so the load balancer keeps what it last wrote",
            )

    # -- frontends ------------------------------------------------------------------------------

    def frontends(self) -> None:
        lb = self.lb
        for want in self.want.frontends:
            have = self._frontend(want)
            if have is None:
                self.add(
                    "frontend",
                    want.name,
                    PRESENCE,
                    True,
                    False,
                    f"no frontend {want.name} on {self.facts.lb_name}: the Service's {want.family} address is "
                    "not on the load balancer, so none of its ports answer there",
                )
                continue
            self.frontend_for[want.family] = have.name
            if have.name.lower() != want.name.lower():
                self.notes.append(f"the Service shares frontend {have.name} of another Service (same IP)")
            self._frontend_ip(want, have)
        expected = {f.name.lower() for f in self.want.frontends}
        if lb is not None:
            for f in lb.frontends:
                if owns(self.match.prefix, f.name) and f.name.lower() not in expected:
                    self.add(
                        "frontend",
                        f.name,
                        PRESENCE,
                        False,
                        True,
                        "a frontend with the Service's prefix that the provider would not configure: it still holds "
                        "an IP address (a leftover it removes on its next successful reconcile)",
                    )

    def _frontend(self, want: ExpectedFrontend) -> Frontend | None:
        if self.lb is None:
            return None
        own = _find(self.lb.frontends, want.name)
        if own is not None:
            return own
        # A Service that pins another Service's IP uses that Service's frontend (§3.2, secondary owner).
        for f in self.match.frontends:
            ip = self.match.frontend_ips.get(f.id.lower())
            if not owns(self.match.prefix, f.name) and _frontend_family(f, ip) == want.family:
                return f
        return None

    def _frontend_ip(self, want: ExpectedFrontend, have: Frontend) -> None:
        expected_ip = want.pinned_ip or self.facts.ingress(want.family)
        source = "the pinned IP" if want.pinned_ip else "the Service's ingress IP"
        if want.internal:
            if have.public_ip_id:
                self.add(
                    "frontend",
                    have.name,
                    "publicIPAddress.id",
                    None,
                    id_name(have.public_ip_id),
                    "the frontend is public but the Service asks for an internal load balancer: it is reachable "
                    "from the internet, not from the VNet address the Service expects",
                )
                return
            if expected_ip is not None and have.private_ip != expected_ip:
                self.add(
                    "frontend",
                    have.name,
                    "privateIPAddress",
                    expected_ip,
                    have.private_ip,
                    f"the frontend holds {_show(have.private_ip)} but {source} is {expected_ip}: clients of "
                    f"{expected_ip} do not reach this load balancer",
                )
            return
        if not have.public_ip_id:
            self.add(
                "frontend",
                have.name,
                "publicIPAddress.id",
                want.pip_name,
                None,
                "the frontend has no public IP but the Service asks for a public load balancer: it is not "
                "reachable from the internet",
            )
            return
        actual_ip = self.match.frontend_ips.get(have.id.lower())
        if actual_ip is None:
            self.notes.append(
                f"public IP {id_name(have.public_ip_id)} of frontend {have.name} is not in the evidence: its "
                "address was not compared"
            )
            return
        if expected_ip is not None and actual_ip != expected_ip:
            self.add(
                "frontend",
                have.name,
                "publicIPAddress.ipAddress",
                expected_ip,
                actual_ip,
                f"the frontend's public IP is {actual_ip} but {source} is {expected_ip}: clients of "
                f"{expected_ip} do not reach this load balancer",
            )

    # -- rules and probes -------------------------------------------------------------------------

    def rules(self) -> None:
        lb = self.lb
        snat = _outbound_snat(lb) if lb is not None else None
        for want in self.want.rules:
            have = _find(lb.rules, want.name) if lb is not None else None
            frontend = self.frontend_for.get(want.family, want.frontend_name)
            if have is None:
                where = self.facts.client_address(want.family, frontend, want.frontend_port)
                what = f"{_port_label(want.service_port)}" + (" (HA ports)" if want.ha_ports else "")
                self.add(
                    "rule",
                    want.name,
                    PRESENCE,
                    True,
                    False,
                    f"no rule for {what}: clients of {where} get no answer (the provider adds it on its next "
                    "successful reconcile)",
                )
                continue
            for d in compare_rule(want, have, frontend=frontend, disable_outbound_snat=snat):
                if d.field in self.frozen:
                    continue
                self.add("rule", have.name, d.field, d.expected, d.actual, _rule_message(d, want, self.facts, frontend))
        if lb is None:
            return
        expected = {r.name.lower() for r in self.want.rules}
        for r in lb.rules:
            if owns(self.match.prefix, r.name) and r.name.lower() not in expected:
                where = self.facts.client_address(
                    "IPv6" if r.name.lower().endswith("-ipv6") else "IPv4", id_name(r.frontend_id), r.frontend_port
                )
                self.add(
                    "rule",
                    r.name,
                    PRESENCE,
                    False,
                    True,
                    f"{leftover_rule_sentence(r.frontend_port, r.protocol)}; while its probe passes, clients of "
                    f"{where} still reach the nodes",
                )

    def probes(self) -> None:
        lb = self.lb
        for want in self.want.probes:
            have = _find(lb.probes, want.name) if lb is not None else None
            if have is None:
                if want.shared and lb is not None:
                    why = "the cluster is in shared probe mode but the LB has no shared probe"
                else:
                    why = f"the provider would configure it ({want.why})"
                self.add(
                    "probe",
                    want.name,
                    PRESENCE,
                    True,
                    False,
                    f"missing: {why}; without it the LB cannot judge the nodes for the rules that use it",
                )
                continue
            for d in compare_probe(want, have, threshold_alternate=self.analysis.provider.threshold_alternate):
                if d.field in self.frozen:
                    continue
                self.add("probe", have.name, d.field, d.expected, d.actual, _probe_message(d, want, self.facts))
        if lb is None:
            return
        expected = {p.name.lower() for p in self.want.probes}
        used = {id_name(r.probe_id).lower() for r in lb.rules if r.probe_id}
        for p in lb.probes:
            if owns(self.match.prefix, p.name) and p.name.lower() not in expected:
                still = "a rule still uses it" if p.name.lower() in used else "no rule uses it"
                self.add(
                    "probe",
                    p.name,
                    PRESENCE,
                    False,
                    True,
                    f"a probe with the Service's prefix that the provider would not configure ({still}): a leftover "
                    "it removes on its next successful reconcile",
                )

    def other_load_balancers(self) -> None:
        """Objects of the Service left on another LB (e.g. after switching between public and internal)."""
        prefix = self.match.prefix
        for other in self.match.other_lbs:
            for kind, items in (("frontend", other.frontends), ("rule", other.rules), ("probe", other.probes)):
                for obj in items:
                    if owns(prefix, obj.name):
                        self.add(
                            kind,
                            f"{other.name}/{obj.name}",
                            PRESENCE,
                            False,
                            True,
                            f"the Service's {kind} is still on load balancer {other.name}: a leftover the provider "
                            "removes once its reconcile of this Service succeeds",
                        )

    # -- backend pools ----------------------------------------------------------------------------

    def pools(self) -> None:
        lb = self.lb
        if lb is None:
            return
        seen: dict[str, str] = {}
        for r in self.want.rules:
            seen.setdefault(r.pool_name.lower(), r.pool_name)
        for name in seen.values():
            pool = _find(lb.pools, name)
            if pool is None:
                self.add(
                    "backend-pool",
                    name,
                    PRESENCE,
                    True,
                    False,
                    f"no backend pool {name} on {lb.name}: the Service's rules have no node to send to",
                )
                continue
            self._members(pool)

    def _members(self, pool: Pool) -> None:
        a = self.analysis
        family = "IPv6" if is_ipv6_pool(pool.name) else "IPv4"
        ip_based = pool.ip_based or (a.cluster.ip_based_pool and not pool.members)
        field = "loadBalancerBackendAddresses" if ip_based else "backendIPConfigurations"
        members = pool_members(pool, self.case.nodes, self.case.network_interfaces, family)
        present = {m.node.name for m in members if m.node is not None}
        states = a.memberships
        # A NIC pool keeps excluded nodes when removing them would empty it (§7.3).
        keeps_excluded = not ip_based and bool(present) and all(states[n].state == "excluded" for n in present)
        for node in sorted(self.case.nodes, key=lambda n: n.name):
            if family == "IPv6" and node.address("IPv6") is None:
                continue
            state = states[node.name]
            if state.state == "member" and node.name not in present:
                self.add(
                    "backend-pool",
                    pool.name,
                    field,
                    node.name,
                    None,
                    f"{node.name} is not in the pool, though the provider would add it: the LB neither probes it nor "
                    "sends it traffic (look for 'ensure host in pool' errors, or its NIC in another LB's pool)",
                )
            elif state.state == "excluded" and node.name in present and not keeps_excluded:
                self.add(
                    "backend-pool",
                    pool.name,
                    field,
                    None,
                    node.name,
                    f"{node.name} is in the pool although the provider excludes it ({state.reason}): the LB still "
                    "sends it traffic while its probe passes",
                )
        for m in members:
            if m.node is not None:
                continue
            ident = m.address or id_name((m.member.ipconfig_id or "").split("/ipConfigurations/")[0]) or "?"
            if ip_based:
                self.add(
                    "backend-pool",
                    pool.name,
                    field,
                    None,
                    ident,
                    f"pool member {ident} is no node's address: the LB sends it traffic, and the provider removes "
                    "addresses that belong to no node",
                )
            else:
                self.notes.append(
                    f"pool member {ident} of {pool.name} matches no Node: a VM that is not (or no longer) a node; "
                    "the provider removes it only once the VM is gone"
                )

    # -- all --------------------------------------------------------------------------------------

    def run(self) -> LoadBalancerDiff:
        self.annotations()
        self.frontends()
        self.rules()
        self.probes()
        self.other_load_balancers()
        self.pools()
        if self.lb is None:
            self.notes.append(
                f"no load balancer in resource group {self.case.resource_group or '?'} has a frontend or rule for "
                f"this Service (prefix {self.match.prefix}): everything the provider would build is missing"
            )
        if self.frozen:
            fields = ", ".join(sorted(self.frozen))
            self.notes.append(f"while the reconcile fails, {fields} keep what the provider last wrote: not compared")
        events, event_notes = provisioning_findings(self.case, has_lb=self.lb is not None)
        notes = [*self.case.parse_notes, *self.match.notes, *self.analysis.expectation.notes, *self.notes, *event_notes]
        return LoadBalancerDiff(
            service=self.case.service,
            load_balancer=self.lb,
            differences=tuple(self.out),
            provider=self.analysis.provider.name,
            probe_mode=self.analysis.cluster.probe_mode,
            reconcile_failing=self.blocked,
            notes=tuple(dict.fromkeys(notes)),
            findings=tuple(events),
            not_found_why=self.match.not_found_why,
        )


def diff(analysis: Analysis) -> LoadBalancerDiff:
    """Every field where the Service's LB objects differ from what the cloud provider would configure."""
    return _Differ(analysis).run()
