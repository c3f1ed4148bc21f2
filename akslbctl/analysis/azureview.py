"""Azure's own view of the Service's backends (ARM rule health), joined to pool members, and what it
means when it disagrees with akslbctl's probes.

ARM's rule-health operation answers, per load-balancing rule, each backend address's ``state``
(``Up``/``Down``) and ``reason`` (probe-semantics.md §5.1). This module turns those answers into
:data:`~akslbctl.analysis.verdict.AzureView` (rule name lower-cased → member address → health) and
raises ``azure-probe-disagreement`` findings. Pure: the documents are fetched elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from akslbctl.analysis import annotations as ann
from akslbctl.analysis.engine import Analysis
from akslbctl.analysis.match import MatchedRule
from akslbctl.analysis.verdict import AzureView
from akslbctl.model.azure import Probe
from akslbctl.model.kube import Service
from akslbctl.model.report import RULE_WITHOUT_PROBE, WARNING, AzureHealth, Diagnosis, Finding
from akslbctl.records import record

DISAGREEMENT = "azure-probe-disagreement"
AZURE_SOURCE = "168.63.129.16"

# Directions of a disagreement.
AZURE_FAILS = "azure-fails"  # Azure's probes fail where ours succeed
AZURE_SUCCEEDS = "azure-succeeds"  # Azure's probes succeed where ours fail

# Reasons that say what Azure's latest raw probe result was, whatever the state (§5.1).
_RAW_OK = {"Up_Probe_Success", "Down_Probe_ApproachingHealthyThreshold"}
_RAW_FAILED = {"Up_Probe_ApproachingUnhealthyThreshold", "Up_Probe_AllDownIsUp"}
# Reasons that are not about the probe at all: nothing to compare.
_NOT_PROBE = {"Up_Admin", "Down_Admin", "Up_Platform", "Down_Platform", "NA"}


def asked_rules(analysis: Analysis) -> list[MatchedRule]:
    """The rules ARM can give health for: the Service's rules that have a probe."""
    return [r for r in analysis.match.rules if r.probe is not None]


def rules_without_probe(analysis: Analysis) -> list[str]:
    return [r.rule.name for r in analysis.match.rules if r.probe is None]


def azure_view(analysis: Analysis, documents: Mapping[str, Mapping[str, Any]]) -> AzureView:
    """Join each rule's ``LoadBalancerHealthPerRule`` document to the rule's pool members.

    ``documents`` maps a rule name to the document as the SDK or REST returns it (camelCase, or the
    snake_case of older SDKs). An entry joins by ``ipAddress`` to a member's address, else by
    ``networkInterfaceIPConfigurationId`` to the member's ipConfiguration (case-insensitive). Empty
    ``state``/``reason`` (a stopped VM, not probed yet) become None. Entries that match no member of
    the rule are left out.
    """
    rules = {r.rule.name.lower(): r for r in analysis.match.rules}
    view: dict[str, dict[str, AzureHealth]] = {}
    for name, doc in documents.items():
        rule = rules.get(name.lower())
        if rule is None or not isinstance(doc, Mapping):
            continue
        addresses = {m.address for m in rule.members if m.address}
        by_ipconfig = {m.member.ipconfig_id.lower(): m.address for m in rule.members if m.member.ipconfig_id}
        out: dict[str, AzureHealth] = {}
        for entry in _entries(doc):
            ip = _text(_field(entry, "ipAddress", "ip_address"))
            ipconfig = _field(entry, "networkInterfaceIPConfigurationId", "network_interface_ip_configuration_id")
            if isinstance(ipconfig, Mapping):  # the spec $refs an ipConfiguration object
                ipconfig = ipconfig.get("id")
            address = ip if ip in addresses else None
            if address is None and isinstance(ipconfig, str):
                address = by_ipconfig.get(ipconfig.lower())
            if address is None:
                continue
            out[address] = AzureHealth(
                state=_text(_field(entry, "state")) or None, reason=_text(_field(entry, "reason")) or None
            )
        view[name.lower()] = out
    return view


def _entries(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    items = _field(doc, "loadBalancerBackendAddresses", "load_balancer_backend_addresses")
    if items is None and isinstance(doc.get("properties"), Mapping):
        items = _field(doc["properties"], "loadBalancerBackendAddresses", "load_balancer_backend_addresses")
    return [e for e in items or () if isinstance(e, Mapping)]


def _field(doc: Mapping[str, Any], *names: str) -> Any:
    for n in names:
        if n in doc:
            return doc[n]
    return None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def unavailable_note(reasons: Mapping[str, str]) -> str | None:
    """One note for the rules whose health ARM would not give (rule name → one-line reason)."""
    if not reasons:
        return None
    distinct = list(dict.fromkeys(reasons.values()))
    which = "" if len(reasons) == 1 else f" for {len(reasons)} rules"
    return (
        f"Azure's own view (rule health) is unavailable{which}: {'; '.join(distinct)}. A node has a verdict only "
        "where akslbctl's probe reached it."
    )


def no_probe_note(names: Sequence[str]) -> str | None:
    if not names:
        return None
    return (
        f"Azure reports no health for {', '.join(names)}: "
        + ("it has" if len(names) == 1 else "they have")
        + " no probe, and the LB sends to every pool member."
    )


# -- disagreement ------------------------------------------------------------------------------


def azure_probe_result(health: AzureHealth | None) -> bool | None:
    """What Azure's latest probe of a member returned, as far as its answer tells; None: no probe data.

    The state alone is not the raw result: ``Up_Probe_ApproachingUnhealthyThreshold`` is a member
    still up whose probes fail, ``Up_Probe_AllDownIsUp`` one that fails but gets traffic because all
    fail. Admin and platform decisions say nothing about the probe.
    """
    if health is None:
        return None
    reason = health.reason or ""
    if reason in _RAW_OK:
        return True
    if reason in _RAW_FAILED or reason.startswith("Down_Probe_"):
        return False
    if reason in _NOT_PROBE:
        return None
    state = (health.state or "").lower()
    return True if state == "up" else False if state == "down" else None


def direction(ours_ok: bool, health: AzureHealth | None) -> str | None:
    """AZURE_FAILS, AZURE_SUCCEEDS, or None when both agree or Azure has no probe result."""
    theirs = azure_probe_result(health)
    if theirs is None or theirs == ours_ok:
        return None
    return AZURE_SUCCEEDS if theirs else AZURE_FAILS


@record(frozen=True)
class Disagreement:
    rule: str
    direction: str
    node: str
    azure: AzureHealth
    ours: str  # our outcome or reason, e.g. "ok", "timeout", "http-status 503"


def disagreement_findings(
    disagreements: Iterable[Disagreement],
    *,
    service: Service,
    probes: Mapping[str, Probe | None],
    source: str | None,
) -> list[Finding]:
    """One ``azure-probe-disagreement`` warning per rule and direction, saying what it usually means.

    ``probes`` maps rule names to their probe (for the timing and the Local-policy hint); ``source``
    is the address our probes came from. The finding names the node when there is one, else the
    count and the first few nodes.
    """
    groups: dict[tuple[str, str], list[Disagreement]] = {}
    for d in disagreements:
        groups.setdefault((d.rule, d.direction), []).append(d)
    out = []
    for (rule, way), items in groups.items():
        nodes = [d.node for d in items]
        probe = probes.get(rule)
        who = f"node {nodes[0]}" if len(nodes) == 1 else f"{len(nodes)} nodes ({_first(nodes)})"
        ours = f"ours from {source or 'this machine'}"
        if way == AZURE_FAILS:
            reasons = sorted({_plain(d.azure) for d in items})
            text = (
                f"{rule}: Azure's probes fail ({', '.join(reasons)}) on {who} while {ours} succeed. "
                + _azure_fails_causes(service, probe)
            )
        else:
            outcomes = sorted({d.ours for d in items})
            text = (
                f"{rule}: Azure's probes succeed on {who} while {ours} fail ({', '.join(outcomes)}). "
                + _azure_succeeds_causes(probe)
            )
        out.append(Finding(DISAGREEMENT, WARNING, text, rule=rule, node=nodes[0] if len(nodes) == 1 else None))
    return out


def diagnosis_disagreements(diagnosis: Diagnosis) -> list[Disagreement]:
    """Nodes where what our probe saw and Azure's probe result disagree.

    Only where our probe reached the node: a probe that could not get there from this machine says
    nothing about the node (``vantage-unreachable`` covers it).
    """
    out = []
    for r in diagnosis.rules:
        for n in r.nodes:
            if n.azure is None or n.observed is None or not n.reached or n.reason == RULE_WITHOUT_PROBE:
                continue
            ours_ok = n.observed.up
            way = direction(ours_ok, n.azure)
            if way is not None:
                outcome = n.observed.outcome
                ours = outcome if n.observed.status is None else f"{outcome} {n.observed.status}"
                out.append(Disagreement(r.name, way, n.node, n.azure, "ok" if ours_ok else ours))
    return out


def _azure_fails_causes(service: Service, probe: Probe | None) -> str:
    causes = [
        f"Usually the LB's probe source {AZURE_SOURCE} is blocked on the way: an NSG rule on the subnet or the "
        "NIC that denies the AzureLoadBalancer tag (or *) before AllowAzureLoadBalancerInBound (priority 65001), "
        "or a host firewall on the node"
    ]
    node_ports = {p.node_port for p in service.ports if p.node_port}
    if service.is_local and probe is not None and probe.protocol == "Tcp" and probe.port in node_ports:
        causes.append(
            "with externalTrafficPolicy: Local, kube-proxy drops off-node sources on a node without a ready local "
            "pod, while probes from the node itself or from a pod are let through"
        )
    if ann.pls_proxy_protocol(service.annotations):
        causes.append("with Private Link proxy protocol on, the backend may reject the LB's plain probe")
    return "; ".join(causes) + "."


def _azure_succeeds_causes(probe: Probe | None) -> str:
    timing = ""
    if probe is not None:
        every = f"{probe.interval} s" if probe.interval else "its interval"
        timing = f" — Azure takes a node out only after {probe.threshold} consecutive failure(s), one every {every}"
    return (
        f"Usually this machine cannot reach the node the way {AZURE_SOURCE} can (routing, VPN, peering), or a "
        "NetworkPolicy or firewall rule rejects our source address; or the answer changed after Azure's last "
        f"probe{timing}."
    )


def _plain(health: AzureHealth) -> str:
    return health.reason or health.state or "no reason given"


def _first(names: Sequence[str], limit: int = 5) -> str:
    head = ", ".join(names[:limit])
    return head + (", …" if len(names) > limit else "")
