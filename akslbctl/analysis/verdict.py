"""Per rule, per node: will the LB send traffic here, and why (contract §5).

Three sources of truth sit side by side: what cluster state predicts (``expected``), what akslbctl's
own probe saw (``observed``) and what Azure says (``azure``). Verdicts come from the probe as the LB
judges it; the other two explain it and raise findings where they disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from akslbctl.analysis.diff import PROBE_TARGET_FIELDS, compare_probe, leftover_rule_sentence
from akslbctl.analysis.engine import (
    Analysis,
    is_shared_probe,
    pool_label,
    probe_target,
    ready_endpoints_by_node,
)
from akslbctl.analysis.events import (
    FAILED_REASONS,
    event_reports,
    legacy_local_protocol_trap,
    provisioning_findings,
    silence,
)
from akslbctl.analysis.expect import ExpectedProbe, ExpectedRule
from akslbctl.analysis.fusion import (
    AZURE_DOWN,
    AZURE_UP,
    BLOCKED_BEFORE_NODE,
    Own,
    blind_round,
    fuse,
    reached,
)
from akslbctl.analysis.hints import hint_findings
from akslbctl.analysis.inside import inside_cluster
from akslbctl.analysis.match import MatchedRule
from akslbctl.analysis.netpath import client_findings, client_notes, pls_findings, proxy_blockers
from akslbctl.analysis.poolgaps import missing_reason
from akslbctl.analysis.vantage import data_plane, family_findings, vantage_findings
from akslbctl.model import probe as outcomes
from akslbctl.model.azure import Probe
from akslbctl.model.kube import Node, Service
from akslbctl.model.probe import ProbeResult, ProbeTarget, target_problem
from akslbctl.model.report import (
    ABSENT,
    DOWN,
    ERROR,
    INFO,
    NOT_IN_BACKEND_POOL,
    NOT_PROBED,
    PROBE_OK,
    RULE_WITHOUT_PROBE,
    UNKNOWN,
    UP,
    WARNING,
    AzureHealth,
    Diagnosis,
    Finding,
    NodeVerdict,
    RuleDiagnosis,
)

AzureView = Mapping[str, Mapping[str, AzureHealth]]  # rule name (lower) → member address → health


def prepare(analysis: Analysis) -> None:
    """Work out now what :func:`diagnose` reads that no probe result changes — the network path, the
    nodes' pool memberships and states, the NIC and VM indexes, the members' probe targets — so that a caller
    waiting for a probe round has them made when the results come."""
    analysis.paths  # noqa: B018 - cached properties, made here
    analysis.memberships  # noqa: B018
    analysis.evidence  # noqa: B018
    analysis.member_targets  # noqa: B018
    analysis.pool_node_states  # noqa: B018


def diagnose(
    analysis: Analysis,
    results: Mapping[ProbeTarget, ProbeResult] | None,
    *,
    azure: AzureView | None = None,
    vantage: str | None = None,
    not_probed_why: str = "not probed (--no-probe)",
    source: str | None = None,
) -> Diagnosis:
    """Combine match, expectation, probe results, Azure's view and the network path into the LB's
    verdicts (``fusion``, contract §5.1) and findings.

    ``source``: the address this machine's probes left from. The network path (NSGs, Private Link) is
    evaluated from the case (``netpath``): its blockers name what stops Azure's probes.
    """
    case = analysis.case
    service = case.service
    findings: list[Finding] = []
    notes: list[str] = [*analysis.case.parse_notes, *analysis.match.notes]
    expectation = analysis.expectation

    for problem in expectation.problems:
        findings.append(
            Finding(
                "annotation-invalid",
                ERROR if problem.fatal else WARNING,
                f"{problem.annotation}={problem.value!r}: {problem.message}"
                + (" — the cloud provider's reconcile fails and leaves the LB as it was" if problem.fatal else ""),
            )
        )
    notes.extend(expectation.notes)
    # The trap of CCM ≤ v1.23.3: flagged on those and on clusters whose 1.23 patch is only assumed.
    risky = analysis.provider.legacy_probes or analysis.provider.ccm_version[:2] <= (1, 23)
    trap = legacy_local_protocol_trap(service, risky, analysis.provider.name)
    if trap is not None:
        findings.append(trap)
    provisioning, event_notes = provisioning_findings(case, has_lb=analysis.match.lb is not None)
    findings.extend(provisioning)
    notes.extend(event_notes)

    if analysis.match.lb is None:
        if not any(f.code == "provisioning-failed" for f in provisioning):
            # Contract §5.2: lb-not-found (exit 3) only when no event explains the absence.
            quiet = silence(case)
            findings.append(
                Finding(
                    "lb-not-found",
                    ERROR,
                    f"no load balancer in resource group {case.resource_group or '?'} has a frontend or rule "
                    f"for this Service (prefix {analysis.match.prefix})"
                    + analysis.match.not_found_why
                    + (
                        f"; {quiet}"
                        if quiet
                        else (
                            "; the Service has no ingress IP yet: check its events for SyncLoadBalancerFailed"
                            if not service.ingress_ips and case.events is None
                            else ""
                        )
                    ),
                )
            )
        return Diagnosis(
            service=service,
            load_balancer=None,
            frontends=(),
            rules=(),
            findings=tuple(findings),
            provider=analysis.provider.name,
            probe_mode=analysis.cluster.probe_mode,
            probed=results is not None,
            vantage=vantage,
            notes=tuple(notes),
            source=source,
            events=event_reports(case),
        )

    endpoints = ready_endpoints_by_node(case)
    any_ready = bool(endpoints)
    any_serving = any(ep.serving for ep in case.endpoints)
    if not case.endpoints_known:
        notes.append(
            "the endpoints are unknown: the evidence holds no EndpointSlices (not readable, or a dump folder "
            "without endpointslices.json), so nothing is predicted from them — they come from kubectl get "
            f"endpointslices -n {service.namespace} -l kubernetes.io/service-name={service.name} -o json"
        )
    membership = analysis.memberships
    evidence = analysis.evidence
    gap_cache: dict[str, tuple[str, str]] = {}

    def gap(node: Node) -> str:
        if node.name not in gap_cache:
            gap_cache[node.name] = missing_reason(node, evidence, analysis.match.lb)
        return gap_cache[node.name][1]

    states = analysis.pool_node_states

    planned = [] if results is None else [r for r in map(results.get, analysis.planned) if r is not None]
    blind = blind_round(planned)
    path = analysis.paths
    blockers = {**proxy_blockers(analysis, path), **path.blockers}

    def fused(v: NodeVerdict, rule: str) -> NodeVerdict:
        health = azure.get(rule.lower(), {}).get(v.address) if (azure is not None and v.address) else None
        if not v.in_pool or v.reason == RULE_WITHOUT_PROBE:
            return v
        reach = reached(v.observed, blind=blind)
        # A probe that did not get there says nothing about the node: show what it saw, not a cause.
        detail = plain_outcome(v.observed) if (reach is False and v.observed is not None) else v.detail
        f = fuse(
            Own(v.verdict, v.reason, detail),
            reach,
            health,
            source=source,
            blocked_by=blockers.get((rule.lower(), v.address or "")),
            ipv6=":" in (v.address or ""),
        )
        return NodeVerdict(
            v.node, v.address, v.in_pool, f.verdict, f.reason, f.detail, v.expected, v.observed, health, reach
        )

    rules = []
    by_name = sorted(case.nodes, key=lambda n: n.name)
    for mr, targets in zip(analysis.match.rules, analysis.rule_targets, strict=True):
        exp = analysis.expected_rule(mr.rule.name)
        findings.extend(_rule_findings(mr, exp, expectation.reconcile_fails))
        verdicts = []
        for node in by_name:
            v = _node_verdict(
                mr,
                node,
                service,
                results,
                endpoints,
                any_ready,
                any_serving,
                membership[node.name],
                not_probed_why,
                eligibility=analysis.provider.healthz_checks_node_eligibility,
                gap=gap,
                endpoints_unknown=not case.endpoints_known,
                targets=targets,
            )
            v = fused(v, mr.rule.name)
            if v.in_pool:
                state = states[node.name]
                if state:
                    v = replace(v, detail=f"{v.detail} — node {state}")
            verdicts.append(v)
            disagreement = _expectation_finding(v, mr.rule.name)
            if disagreement is not None:
                findings.append(disagreement)
        for m in mr.members:
            if m.node is None:
                v = _unmatched_member(mr, m.address, m.member.ipconfig_id or m.member.name, results, not_probed_why)
                verdicts.append(fused(v, mr.rule.name))
        rd = RuleDiagnosis(
            name=mr.rule.name,
            protocol=mr.rule.protocol,
            frontend_port=mr.rule.frontend_port,
            backend_port=mr.rule.backend_port,
            frontend_ip=analysis.match.frontend_ips.get(mr.frontend.id.lower()) if mr.frontend else None,
            probe=mr.probe,
            probe_why=(exp.probe.why if exp and exp.probe else (exp.no_probe_why if exp else None)),
            nodes=tuple(verdicts),
            leftover=exp is None,
        )
        if rd.leftover:
            # Drift, not an outage: the rule carries none of the Service's traffic, so it makes nothing dark.
            rd = replace(rd, nodes=tuple(_leftover_verdict(v, service) for v in rd.nodes))
            findings.append(_leftover_finding(rd))
            rules.append(rd)
            continue
        if rd.known and rd.up == 0 and any(n.in_pool for n in rd.nodes):
            findings.append(
                Finding(
                    "no-healthy-backend",
                    ERROR,
                    f"{mr.rule.name}: no node is up for the LB — port {mr.rule.frontend_port}/{mr.rule.protocol} "
                    f"of the Service is dark ({_down_summary(rd)})",
                    rule=mr.rule.name,
                )
            )
        if not any(m.node is not None for m in mr.members):
            # Nothing to probe can still be known: no Node of this cluster receives this rule's traffic —
            # unless Nodes without a providerID leave the join open (then: say that, not "outside").
            others = len(mr.members)
            unjoined = _without_provider_id(case.nodes)
            findings.append(
                Finding(
                    "pool-without-nodes",
                    ERROR if not others or not unjoined else WARNING,
                    f"{mr.rule.name}: the backend pool {pool_label(mr)} "
                    + (
                        "has no member: the port is dark"
                        if not others
                        else f"has {others} member(s) that akslbctl cannot match to Nodes: {unjoined}"
                        if unjoined
                        else f"has {others} member(s) but none is a Node of this cluster: its traffic goes "
                        "to machines outside the cluster, or nowhere"
                    ),
                    rule=mr.rule.name,
                )
            )
        rules.append(rd)
        findings.extend(_unprobeable_findings(mr, verdicts, targets, analysis.member_targets))

    findings.extend(_missing_rules(analysis))
    findings.extend(_pool_findings(analysis, membership, gap))
    findings.extend(_service_findings(analysis, any_ready))
    findings.extend(hint_findings(analysis, results))
    findings.extend(vantage_findings(rules, blind=blind, source=source, azure=azure is not None))
    findings.extend(family_findings(rules, data_plane=data_plane(case, results)))
    findings.extend(path.findings)
    findings.extend(client_findings(analysis, path, rules))
    findings.extend(pls_findings(analysis, path, rules))
    notes.extend(path.notes)
    notes.extend(client_notes(path, rules))
    inside = inside_cluster(analysis, results, rules)  # app answers, NetworkPolicy, the share (issue 12)
    findings.extend(inside.findings)
    notes.extend(inside.notes)
    gateway = {f.rule for f in findings if f.code == "gateway-status-port"}
    if gateway:  # the status port is the fix for that rule: no generic path advice beside it
        findings = [f for f in findings if not (f.code == "probe-path-suggestion" and f.rule in gateway)]
    if inside.explained:  # a NetworkPolicy names why these nodes fail: no separate disagreement
        findings = [f for f in findings if not (f.code == "endpoint-probe-disagreement" and f.node in inside.explained)]

    leftovers = {r.name for r in rules if r.leftover}
    if leftovers:  # only stale-rule speaks of a leftover rule: its probe and paths are no one's problem
        findings = [f for f in findings if f.rule not in leftovers or f.code == "stale-rule"]
    frontends = tuple((f.name, analysis.match.frontend_ips.get(f.id.lower())) for f in analysis.match.frontends)
    return Diagnosis(
        service=service,
        load_balancer=analysis.match.lb,
        frontends=frontends,
        rules=tuple(rules),
        findings=tuple(_dedupe(findings)),
        provider=analysis.provider.name,
        probe_mode=analysis.cluster.probe_mode,
        probed=results is not None,
        vantage=vantage,
        notes=tuple(dict.fromkeys(notes)),
        source=source,
        events=event_reports(case),
        shares=inside.shares,
    )


# -- one node ----------------------------------------------------------------------------------


def _node_verdict(
    mr: MatchedRule,
    node: Node,
    service: Service,
    results: Mapping[ProbeTarget, ProbeResult] | None,
    endpoints: Mapping[str, int],
    any_ready: bool,
    any_serving: bool,
    membership,
    not_probed_why: str,
    eligibility: bool = True,
    gap=None,
    endpoints_unknown: bool = False,
    targets: Mapping[str, ProbeTarget] | None = None,
) -> NodeVerdict:
    member = mr.member_for(node)
    if member is None:
        if membership.state == "member":
            why = f"not in backend pool {pool_label(mr)}: " + (
                gap(node) if gap is not None else "although the cloud provider would add it"
            )
        else:
            why = f"not in backend pool {pool_label(mr)}: {membership.reason}"
        return NodeVerdict(node.name, node.address(mr.family), False, ABSENT, NOT_IN_BACKEND_POOL, why, None)

    address = member.address
    probe = mr.probe
    local_eps = endpoints.get(node.name, 0)
    if probe is None:
        why = "the rule has no health probe: the LB sends to every pool member"
        if mr.probe_dangling:
            why = f"the rule references probe {mr.rule.probe_id.rsplit('/', 1)[-1]}, which the LB does not have"
            return NodeVerdict(node.name, address, True, UNKNOWN, NOT_PROBED, why, None)
        return NodeVerdict(node.name, address, True, UP, RULE_WITHOUT_PROBE, why, UP)

    expected, because = _expected(probe, service, node, local_eps, any_ready, any_serving, eligibility)
    if endpoints_unknown and expected is not None and not is_shared_probe(probe.name):
        expected, because = None, "the endpoints are unknown (no EndpointSlices in the evidence)"
    target = _target(mr, address, targets) if address else None
    result = results.get(target) if (results is not None and target is not None) else None
    if result is None:
        why = "no address to probe" if address is None else not_probed_why
        problem = target_problem(target) if target is not None else None
        if problem is not None:
            why = f"not probed: {problem}"
        return NodeVerdict(node.name, address, True, UNKNOWN, NOT_PROBED, why, expected)
    if result.outcome == outcomes.OK:
        return NodeVerdict(node.name, address, True, UP, PROBE_OK, _ok_detail(result), expected, result)
    return NodeVerdict(
        node.name,
        address,
        True,
        DOWN,
        result.outcome,
        _down_detail(result, probe, service, expected, because, local_eps, any_ready),
        expected,
        result,
    )


def _expected(
    probe: Probe,
    service: Service,
    node: Node,
    local_eps: int,
    any_ready: bool,
    any_serving: bool,
    eligibility: bool = True,
) -> tuple[str | None, str]:
    """What cluster state predicts for this probe on this node, and in plain words why.

    ``eligibility``: kube-proxy's /healthz fails for nodes being deleted (KEP-3836, on from 1.30).
    """
    if is_shared_probe(probe.name):
        if eligibility and (node.deleting or node.autoscaler_deleting):
            return DOWN, "node is being deleted: kube-proxy's /healthz reports it not eligible"
        if node.deleting or node.autoscaler_deleting:
            return UP, "node is being deleted, but this Kubernetes version's kube-proxy /healthz does not check that"
        return UP, "kube-proxy /healthz answers 200 on a healthy, eligible node"
    hc = service.health_check_node_port
    if service.is_local and hc and probe.port == hc:
        if local_eps:
            return UP, f"{local_eps} ready endpoint(s) of {service.ref} on this node"
        return DOWN, f"no ready endpoint of {service.ref} on this node (externalTrafficPolicy: Local)"
    node_ports = {p.node_port for p in service.ports if p.node_port}
    if probe.port in node_ports:
        if service.is_local:
            if local_eps:
                return UP, f"{local_eps} ready endpoint(s) on this node"
            return DOWN, "no ready endpoint on this node: kube-proxy drops Local NodePort traffic"
        if probe.protocol == "Tcp":
            if any_ready or any_serving:
                return UP, "the Service has ready endpoints: kube-proxy forwards the handshake"
            return DOWN, f"{service.ref} has no ready endpoint: kube-proxy rejects NodePort connections"
        if not any_ready and not any_serving:
            return DOWN, f"{service.ref} has no ready endpoint: kube-proxy rejects NodePort connections"
        return None, "an endpoint of the Service answers the HTTP probe; only the application knows what"
    return None, f"port {probe.port} is no port of {service.ref}"


def _ok_detail(result: ProbeResult) -> str:
    t = result.target
    if t.protocol == "Tcp":
        return f"TCP handshake on :{t.port} completed"
    text = f"GET :{t.port}{t.path or '/'} → 200"
    if result.local_endpoints is not None:
        text += f", localEndpoints {result.local_endpoints}"
    return text


OUTCOME_WORDS = {
    outcomes.REFUSED: "connection refused",
    outcomes.TIMEOUT: "no answer in time",
    outcomes.RESET: "connection reset",
    outcomes.TLS_ERROR: "TLS handshake failed",
    outcomes.UNREACHABLE: "address unreachable",
    outcomes.BAD_RESPONSE: "the answer is not HTTP",
}


def plain_outcome(result: ProbeResult) -> str:
    """What a failed probe saw, with no guess at why: ``GET :32649/healthz: no answer in time``."""
    t = result.target
    where = f":{t.port}" if t.protocol == "Tcp" else f"GET :{t.port}{t.path or '/'}"
    return f"{where}: {OUTCOME_WORDS.get(result.outcome, result.outcome)}"


def _down_detail(
    result: ProbeResult,
    probe: Probe,
    service: Service,
    expected: str | None,
    because: str,
    local_eps: int,
    any_ready: bool,
) -> str:
    t = result.target
    where = f":{t.port}" if t.protocol == "Tcp" else f"GET :{t.port}{t.path or '/'}"
    if result.outcome == outcomes.HTTP_STATUS:
        text = f"{where} → {result.status}"
        if result.local_endpoints is not None:
            text += f", localEndpoints {result.local_endpoints}"
        if expected == DOWN:
            return f"{text}: {because}" + (" — out of rotation by design" if service.is_local else "")
        if result.status in (301, 302, 303, 307, 308):
            return f"{text}: a redirect; the LB does not follow it and only accepts 200"
        return f"{text}: the LB only accepts 200"
    text = plain_outcome(result)
    if expected == DOWN:
        return f"{text}: {because}"
    if because.startswith("port ") and result.outcome in (outcomes.REFUSED, outcomes.TIMEOUT):
        return f"{text}: nothing of {service.ref} listens there ({because}) — a stale probe port?"
    if result.outcome == outcomes.TIMEOUT:
        return f"{text}: the node, its kube-proxy or a firewall is not answering"
    if result.error and result.outcome in (outcomes.TLS_ERROR, outcomes.BAD_RESPONSE):
        return f"{text} ({result.error})"
    return text


def _expectation_finding(v: NodeVerdict, rule: str) -> Finding | None:
    """``endpoint-probe-disagreement``: cluster state predicts one answer, the LB's verdict is the other.

    Not raised where the verdict comes from the path rather than the node (``blocked-before-node``:
    the node answers, the network drops Azure's probe — the path findings say so).
    """
    if v.expected not in (UP, DOWN) or v.verdict not in (UP, DOWN) or v.expected == v.verdict:
        return None
    if v.reason == BLOCKED_BEFORE_NODE:
        return None
    who = "Azure" if v.reason in (AZURE_UP, AZURE_DOWN) else "the probe"
    return Finding(
        "endpoint-probe-disagreement",
        WARNING,
        f"cluster state predicts {v.expected.upper()} for {v.node} on {rule}, {who} shows {v.verdict.upper()}: "
        f"{v.detail}",
        rule=rule,
        node=v.node,
    )


def member_label(address: str | None, ident: str | None) -> str:
    """How to name a pool member that is no Node: its address, else its VM or NIC from the id."""
    if address:
        return address
    parts = [p for p in (ident or "").split("/") if p]
    low = [p.lower() for p in parts]
    for kind in ("virtualmachines", "networkinterfaces"):
        if kind in low and low.index(kind) + 1 < len(parts):
            i = low.index(kind)
            vmss = low.index("virtualmachinescalesets") if "virtualmachinescalesets" in low else None
            if kind == "virtualmachines" and vmss is not None and vmss + 1 < len(parts):
                return f"{parts[vmss + 1]}/{parts[i + 1]}"
            return parts[i + 1]
    return ident or "?"


def _unmatched_member(mr, address, ident, results, not_probed_why) -> NodeVerdict:
    label = member_label(address, ident)
    name = f"<no node: {label}>"
    target = probe_target(mr, address) if address else None
    if mr.probe is None:
        return NodeVerdict(name, address, True, UP, RULE_WITHOUT_PROBE, "pool member that matches no Node", None)
    result = results.get(target) if (results is not None and target is not None) else None
    if result is None:
        problem = target_problem(target) if target is not None else None
        why = "pool member that matches no Node: " + (
            "no address known" if not address else f"not probed: {problem}" if problem else not_probed_why
        )
        return NodeVerdict(name, address, True, UNKNOWN, NOT_PROBED, why, None)
    verdict = UP if result.up else DOWN
    reason = PROBE_OK if result.up else result.outcome
    return NodeVerdict(name, address, True, verdict, reason, "pool member that matches no Node", None, result)


# -- findings ----------------------------------------------------------------------------------


def _without_provider_id(nodes) -> str:
    """Why pool members may match no Node although they are Nodes: Nodes without ``spec.providerID``
    (the join key), said in words; empty when every Node has one."""
    missing = [n.name for n in nodes if not n.provider_id]
    if not missing:
        return ""
    shown = ", ".join(sorted(missing)[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
    return (
        f"{len(missing)} Node(s) have no spec.providerID ({shown}), the key that joins a pool member to its Node; "
        "they were matched by computer name and address where those agree, so the members may be these Nodes"
    )


def _target(mr: MatchedRule, address: str, targets: Mapping[str, ProbeTarget] | None) -> ProbeTarget | None:
    """What the LB probes at ``address`` for ``mr``: from ``targets`` (``Analysis.rule_targets``) when
    it holds the address."""
    target = targets.get(address) if targets is not None else None
    return target if target is not None else probe_target(mr, address)


def _unprobeable_findings(
    mr: MatchedRule,
    verdicts: list[NodeVerdict],
    targets: Mapping[str, ProbeTarget],
    problems: Mapping[ProbeTarget, str | None],
) -> list[Finding]:
    """``probe-target-invalid``: a pool member the LB's probe cannot be sent to as ARM holds it — a
    node address that is no node's (not an IP, unspecified, link-local, multicast) or a probe port or
    path that no request can carry. Nothing is sent to it; the finding says why, per rule and node.
    ``targets``, ``problems``: what is known of the members' targets already (``Analysis.rule_targets``
    for this rule, ``Analysis.member_targets``)."""
    out = []
    for v in verdicts:
        if not v.in_pool or not v.address or mr.probe is None:
            continue
        target = _target(mr, v.address, targets)
        problem = problems.get(target, _UNKNOWN)
        if problem is _UNKNOWN:
            problem = target_problem(target)
        if problem is None:
            continue
        out.append(
            Finding(
                "probe-target-invalid",
                WARNING,
                f"{mr.rule.name}: {v.node} was not probed — {problem}; the LB probes a member's private IP "
                "on a port 1-65535 with a one-line request path",
                rule=mr.rule.name,
                node=v.node,
            )
        )
    return out


_UNKNOWN = object()  # a target no member names: its problem is worked out where it is asked


def _probe_fields(probe: Probe) -> tuple[str, int, str | None]:
    path = probe.request_path if probe.protocol in ("Http", "Https") else None
    return probe.protocol, probe.port, path


def _describe(protocol: str, port: int, path: str | None) -> str:
    return f"{protocol} :{port}" + (f" {path}" if path else "")


def _rule_findings(mr: MatchedRule, exp: ExpectedRule | None, reconcile_fails: bool) -> list[Finding]:
    name = mr.rule.name
    if exp is None:
        return []  # a leftover: stale-rule, raised once its verdicts are known (_leftover_finding)
    stale = " (the provider's reconcile is failing, see annotation-invalid)" if reconcile_fails else ""
    want: ExpectedProbe | None = exp.probe
    have = mr.probe
    if want is None and have is None:
        return []
    if want is None:
        return [
            Finding(
                "probe-mismatch",
                ERROR,
                f"{name} has probe {_describe(*_probe_fields(have))}, but the cloud provider would write the rule "
                f"without a probe ({exp.no_probe_why}){stale}",
                rule=name,
            )
        ]
    want_fields = (want.protocol, want.port, want.request_path if want.protocol in ("Http", "Https") else None)
    if have is None:
        return [
            Finding(
                "probe-mismatch",
                ERROR,
                f"{name} has no probe, but the cloud provider would configure {_describe(*want_fields)} "
                f"({want.why}){stale}",
                rule=name,
            )
        ]
    have_fields = _probe_fields(have)
    # The same comparison diff makes (one source of truth), on the fields that decide what the LB probes.
    differs = [
        f"path {d.actual!r} ≠ {d.expected!r}" if d.field == "requestPath" else f"{d.field} {d.actual} ≠ {d.expected}"
        for d in compare_probe(want, have, PROBE_TARGET_FIELDS)
    ]
    if not differs:
        return []
    return [
        Finding(
            "probe-mismatch",
            ERROR,
            f"{name}: probe {have.name} is {_describe(*have_fields)} but the cloud provider would configure "
            f"{_describe(*want_fields)} ({want.why}): {', '.join(differs)}{stale}",
            rule=name,
        )
    ]


def _leftover_verdict(v: NodeVerdict, service: Service) -> NodeVerdict:
    """A leftover rule's probe failing says nothing of the node: nothing of the Service listens there."""
    if v.verdict != DOWN or v.observed is None or v.reason != v.observed.outcome:
        return v
    return replace(
        v, detail=f"{plain_outcome(v.observed)}: the rule is a leftover, nothing of {service.ref} listens there"
    )


def _leftover_finding(rd: RuleDiagnosis) -> Finding:
    """``stale-rule``: the same sentence as diff's, and what the LB does with the leftover now."""
    text = f"{rd.name}: {leftover_rule_sentence(rd.frontend_port, rd.protocol)}"
    members = sum(1 for n in rd.nodes if n.in_pool)
    if rd.known and rd.up == 0:
        text += "; its probe fails on every pool member, so the LB forwards nothing on it"
    elif rd.known:
        text += f"; the LB still forwards its clients to {rd.up} of {members} pool member(s)"
    text += " — none of the Service's traffic depends on it"
    return Finding("stale-rule", WARNING, text, rule=rd.name)


def _missing_rules(analysis: Analysis) -> list[Finding]:
    have = {r.rule.name.lower() for r in analysis.match.rules}
    out = []
    for exp in analysis.expectation.rules:
        if exp.name.lower() not in have:
            sp = exp.service_port
            port = f"port {sp.port}/{sp.protocol}" if sp else "the Service"
            out.append(
                Finding(
                    "rule-missing",
                    ERROR,
                    f"no rule {exp.name} on load balancer {analysis.match.lb.name}: {port} receives no traffic "
                    "(the provider adds it on its next successful reconcile)",
                    rule=exp.name,
                )
            )
    return out


def _pool_findings(analysis: Analysis, membership, gap) -> list[Finding]:
    out = []
    in_any_pool = {m.node.name for r in analysis.match.rules for m in r.members if m.node is not None}
    pools = sorted({p.name for r in analysis.match.rules for p in r.pools}) or ["?"]
    if not analysis.match.rules:
        return out
    for node in sorted(analysis.case.nodes, key=lambda n: n.name):
        state = membership[node.name]
        if state.state == "member" and node.name not in in_any_pool:
            out.append(
                Finding(
                    "node-not-in-pool",
                    WARNING,
                    f"{node.name} is missing from backend pool {', '.join(pools)}: {gap(node)}",
                    node=node.name,
                )
            )
        elif state.state == "excluded" and node.name in in_any_pool:
            out.append(
                Finding(
                    "stale-pool-member",
                    INFO,
                    f"{node.name} is in backend pool {', '.join(pools)} although the provider excludes it "
                    f"({state.reason}); it is removed at the next reconcile of a Service on this LB",
                    node=node.name,
                )
            )
    unjoined = _without_provider_id(analysis.case.nodes)
    for m in analysis.match.unmatched_members:
        ident = m.address or (m.member.ipconfig_id or "?")
        text = f"pool member {ident} matches no Node of the cluster" + (f" ({unjoined})" if unjoined else "")
        out.append(Finding("unmatched-pool-member", INFO, text))
    for r in analysis.match.rules:
        for m in r.members:
            if m.member.admin_state and m.member.admin_state.lower() not in ("none", ""):
                who = m.node.name if m.node else (m.address or "?")
                out.append(
                    Finding(
                        "admin-state",
                        WARNING,
                        f"pool member {who} has adminState {m.member.admin_state}: it overrides the health probe",
                        node=m.node.name if m.node else None,
                    )
                )
    return out


def _service_findings(analysis: Analysis, any_ready: bool) -> list[Finding]:
    service = analysis.case.service
    out = []
    if not any_ready and analysis.case.endpoints_known:
        out.append(
            Finding(
                "no-ready-endpoints",
                WARNING,
                f"{service.ref} has no ready endpoint: no pod behind the Service is Ready"
                + (" (check the selector and the pods' readiness)" if service.selector else ""),
            )
        )
    if not service.ingress_ips:
        events = analysis.case.events
        if events is None:
            then = "check its events for SyncLoadBalancerFailed"
        elif any(e.reason in FAILED_REASONS for e in events):
            then = "see the provider's failure above"
        else:
            then = "no failure event from the provider (yet)"
        out.append(
            Finding(
                "no-ingress-ip",
                WARNING,
                f"the Service has no status.loadBalancer.ingress IP yet: the provider has not finished; {then}",
            )
        )
    for orphan in analysis.match.orphan_probes:
        out.append(
            Finding(
                "stale-probe",
                INFO,
                f"probe {orphan.name} carries the Service's prefix but no rule of the Service uses it",
            )
        )
    return out


def _down_summary(rd: RuleDiagnosis) -> str:
    counts: dict[str, int] = {}
    for n in rd.nodes:
        if n.verdict == DOWN:
            counts[n.reason] = counts.get(n.reason, 0) + 1
    return ", ".join(f"{k} ×{v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])) or "no member is up"


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen = set()
    out = []
    for f in findings:
        key = (f.code, f.rule, f.node, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
