"""Where akslbctl probes from, and what that means for the verdicts (contract §5.1; probe-semantics §4, §11).

A machine that reaches no node (a laptop outside the VNet) learns nothing about the nodes: that is
``vantage-unreachable``, never an outage. IPv6 probes come from a link-local source that some data
planes do not answer, so an IPv6 rule down beside a healthy IPv4 twin is named as such. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from akslbctl.analysis.fusion import AZURE_DOWN, AZURE_SOURCE
from akslbctl.model.case import Case
from akslbctl.model.probe import ProbeResult, ProbeTarget
from akslbctl.model.report import DOWN, UP, WARNING, Finding, RuleDiagnosis

VANTAGE_UNREACHABLE = "vantage-unreachable"
IPV6_PROBE_DOWN = "ipv6-probe-down"

RULE_HEALTH_ACTION = "Microsoft.Network/loadBalancers/loadBalancingRules/health/action"
EBPF_DATAPLANE_LABEL = "kubernetes.azure.com/ebpf-dataplane"
CILIUM = "cilium"
KUBE_PROXY = "kube-proxy"


def vantage_findings(rules: Sequence[RuleDiagnosis], *, blind: bool, source: str | None, azure: bool) -> list[Finding]:
    """One ``vantage-unreachable`` warning when this machine reached no node (or none of a rule's members).

    ``blind``: every probe of the round timed out or found no route; ``azure``: Azure's view was had,
    so the verdicts come from it.
    """
    where = f"this machine (source address {source})" if source else "this machine (it has no route to the nodes)"
    instead = (
        "The verdicts come from Azure's own view (rule health); our probe results are detail."
        if azure
        else "For a verdict, run akslbctl from a VM in the cluster's VNet or from inside the cluster (a "
        f"host-network pod), or grant {RULE_HEALTH_ACTION} so that Azure's own view is read."
    )
    if blind:
        return [
            Finding(
                VANTAGE_UNREACHABLE,
                WARNING,
                f"{where} reached no node: every probe timed out or found no route. That is where akslbctl "
                f"runs, not what the LB sees from {AZURE_SOURCE}. {instead}",
            )
        ]
    out = []
    for r in rules:
        members = [n for n in r.nodes if n.in_pool and n.reached is not None]
        if members and all(n.reached is False for n in members):
            out.append(
                Finding(
                    VANTAGE_UNREACHABLE,
                    WARNING,
                    f"{r.name}: {where} reached none of the rule's {len(members)} member(s) "
                    f"({_first_outcomes(members)}). {instead}",
                    rule=r.name,
                )
            )
    return out


def _first_outcomes(nodes) -> str:
    kinds = sorted({n.observed.outcome for n in nodes if n.observed is not None})
    return ", ".join(kinds) or "no answer"


def is_ipv6_rule(r: RuleDiagnosis) -> bool:
    if r.name.lower().endswith("-ipv6"):
        return True
    addresses = [n.address for n in r.nodes if n.address]
    return bool(addresses) and all(":" in a for a in addresses)


def data_plane(case: Case, results: Mapping[ProbeTarget, ProbeResult] | None) -> str | None:
    """``cilium`` when the nodes say so (AKS labels them ``kubernetes.azure.com/ebpf-dataplane``), or
    when Local health answers come in Cilium's shape (no ``serviceProxyHealthy``) on a Kubernetes whose
    kube-proxy always writes it; ``kube-proxy`` when kube-proxy's shape is seen; None when unknown."""
    if any((n.labels.get(EBPF_DATAPLANE_LABEL) or "").lower() == CILIUM for n in case.nodes):
        return CILIUM
    bodies = [r for r in (results or {}).values() if r.local_endpoints is not None]
    if any(r.service_proxy_healthy is not None for r in bodies):
        return KUBE_PROXY
    if bodies and _minor(case.server_version) >= 28:
        return CILIUM
    return None


def _minor(version: str | None) -> int:
    try:
        return int((version or "").lstrip("v").split(".")[1])
    except (IndexError, ValueError):
        return 0


def family_findings(rules: Sequence[RuleDiagnosis], *, data_plane: str | None) -> list[Finding]:
    """``ipv6-probe-down``: an IPv6 rule has no member up while its IPv4 twin (same ports) has some.

    IPv6 probes come from a link-local address (probe-semantics.md §4); a data plane can leave those
    unanswered (cilium/cilium#25242) while the IPv4 probe from 168.63.129.16 works.
    """
    out = []
    v4 = {(r.protocol, r.frontend_port): r for r in rules if not is_ipv6_rule(r)}
    for r in rules:
        if not is_ipv6_rule(r):
            continue
        twin = v4.get((r.protocol, r.frontend_port))
        if twin is None or twin.up == 0 or r.up > 0:
            continue
        members = [n for n in r.nodes if n.in_pool]
        down = [n for n in members if n.verdict == DOWN]
        if not down:
            continue
        per_azure = any(n.azure is not None and (n.azure.state or "").lower() == "down" for n in down)
        said = "per Azure" if per_azure else "per our probe"
        up_names = {n.node for n in twin.nodes if n.verdict == UP}
        same = sum(1 for n in down if n.node in up_names)
        text = (
            f"{r.name} is down on {len(down)}/{len(members)} nodes ({said}) while {twin.name} is up on "
            f"{same} of the same nodes: the IPv6 rule alone fails. The LB's IPv6 probes come from a link-local "
            "source address, not 168.63.129.16"
        )
        if data_plane == CILIUM:
            text += (
                "; the data plane is Cilium (no kube-proxy), which has been seen to leave link-local IPv6 probes "
                "unanswered (cilium/cilium#25242): check its IPv6 and health-check-nodeport settings"
            )
        else:
            text += ": check that NSGs and host firewalls admit IPv6 probes and that the node answers on IPv6"
        if all(n.reason == AZURE_DOWN for n in down):
            text += ". Our own IPv6 probes did not reach the nodes, so only Azure's view speaks for them"
        out.append(Finding(IPV6_PROBE_DOWN, WARNING, text + ".", rule=r.name))
    return out
