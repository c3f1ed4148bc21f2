"""Inside the cluster (issue 12): the application's answer, a gateway's status port, NetworkPolicy and
SNAT, and how the LB's traffic is shared. One entry point for verdict.py; pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from akslbctl.analysis.app import app_findings
from akslbctl.analysis.engine import Analysis
from akslbctl.analysis.netpol import netpol_findings
from akslbctl.analysis.share import RuleShare, rule_share, share_findings
from akslbctl.analysis.vantage import data_plane
from akslbctl.model.probe import ProbeResult, ProbeTarget
from akslbctl.model.report import Finding, RuleDiagnosis
from akslbctl.records import record


@record(frozen=True)
class Inside:
    findings: tuple[Finding, ...]
    notes: tuple[str, ...]
    shares: tuple[RuleShare, ...]
    explained: frozenset[str] = frozenset()  # nodes whose down verdict a finding here names the cause of


def inside_cluster(
    analysis: Analysis, results: Mapping[ProbeTarget, ProbeResult] | None, rules: Sequence[RuleDiagnosis]
) -> Inside:
    case = analysis.case
    findings: list[Finding] = []
    cilium = data_plane(case, None) == "cilium"
    # The CRD's absence only matters where Cilium runs; elsewhere it is the normal case, not news.
    notes = [n for n in case.workload_notes if cilium or not n.startswith("CiliumNetworkPolicy is not served")]
    findings.extend(app_findings(analysis, results, rules))
    if case.network_policies:
        pool_nodes = sorted({m.node.name for r in analysis.match.rules for m in r.members if m.node is not None})
        prefixes = [p for s in case.subnets for p in s.address_prefixes]
        prefixes += [p for v in case.virtual_networks for s in v.subnets for p in s.address_prefixes]
        findings.extend(
            netpol_findings(
                case.service,
                case.nodes,
                case.endpoints,
                case.pods,
                case.network_policies,
                pool_nodes=pool_nodes,
                internal=analysis.expectation.internal,
                subnet_prefixes=prefixes,
                cilium=cilium or data_plane(case, results) == "cilium",
            )
        )
        if not case.pods and any(ep.ready for ep in case.endpoints):
            notes.append("NetworkPolicies read, but not the pods behind the Service: the policies are not evaluated")
    rule_by_name = {mr.rule.name.lower(): mr for mr in analysis.match.rules}
    shares = []
    for rd in rules if case.endpoints_known else ():  # unknown endpoints: no pods per node to share over
        mr = rule_by_name.get(rd.name.lower())
        s = rule_share(
            rd,
            case.service,
            case.endpoints,
            case.nodes,
            mr.rule.load_distribution if mr else None,
            probe_mode=analysis.cluster.probe_mode,
            eligibility=analysis.provider.healthz_checks_node_eligibility,
        )
        if s is not None:
            shares.append(s)
    findings.extend(share_findings(shares))
    explained = frozenset(n for f in findings if f.code == "netpol-drops-forwarded" for n in _named_nodes(f, case))
    return Inside(tuple(findings), tuple(notes), tuple(shares), explained)


def _named_nodes(f: Finding, case) -> list[str]:
    return [n.name for n in case.nodes if n.name in f.message.split("fail (", 1)[-1].split(")", 1)[0]]
