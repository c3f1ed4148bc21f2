"""The one engine behind explain, probe and diff: evidence → match + expectation → probe plan.

``analyse`` is pure: it reads a :class:`~akslbctl.model.case.Case` and returns what the provider would
build for the Service (``expect``), what the LB holds for it (``match``) and the cluster-level settings
read from ARM that the expectation depends on. ``diagnose`` (``verdict``) and ``diff`` both start here.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from akslbctl.analysis.expect import (
    ClusterSettings,
    Expectation,
    ExpectedRule,
    Membership,
    expect_service,
    expected_members,
)
from akslbctl.analysis.match import Match, MatchedRule, match
from akslbctl.analysis.names import SHARED_PROBE_NAME
from akslbctl.analysis.provider import ProviderRules, rules_for_ccm, rules_for_cluster, with_kubernetes
from akslbctl.errors import UsageError
from akslbctl.model.azure import LoadBalancer, id_name
from akslbctl.model.case import Case
from akslbctl.model.probe import ProbeTarget, target_problem
from akslbctl.records import record


@record(frozen=True)
class Analysis:
    case: Case
    match: Match
    cluster: ClusterSettings
    provider: ProviderRules
    expectation: Expectation

    def expected_rule(self, name: str) -> ExpectedRule | None:
        low = name.lower()
        return next((r for r in self.expectation.rules if r.name.lower() == low), None)

    @cached_property
    def member_targets(self) -> Mapping[ProbeTarget, str | None]:
        """What the LB probes at each pool member with an address (:func:`probe_target`), in the order
        of the rules and their members, each with why it cannot be probed as the LB would
        (:func:`target_problem`; None when it can)."""
        targets: dict[ProbeTarget, str | None] = {}
        for per_address in self.rule_targets:
            for t in per_address.values():
                if t not in targets:
                    targets[t] = target_problem(t)
        return targets

    @cached_property
    def rule_targets(self) -> tuple[Mapping[str, ProbeTarget], ...]:
        """For each of ``match.rules`` (in order), what the LB probes at each member address
        (:func:`probe_target`; empty for a rule without a probe)."""
        out = []
        for rule in self.match.rules:
            per_address: dict[str, ProbeTarget] = {}
            if rule.probe is not None:
                for m in rule.members:
                    if m.address and m.address not in per_address:
                        per_address[m.address] = probe_target(rule, m.address)
            out.append(per_address)
        return tuple(out)

    @cached_property
    def planned(self) -> tuple[ProbeTarget, ...]:
        """:func:`probe_plan`, worked out once: the round, the diagnosis and the JSON all ask for it."""
        return tuple(t for t, problem in self.member_targets.items() if problem is None)

    @cached_property
    def memberships(self) -> Mapping[str, Membership]:
        """Whether the provider's rules keep each node in the backend pools, by node name
        (:func:`akslbctl.analysis.expect.pool_membership`): the diagnosis and the diff both read it."""
        return expected_members(self.case.nodes, self.provider, self.cluster)

    @cached_property
    def pool_node_states(self) -> Mapping[str, str | None]:
        """What each node's state means for the LB as a pool member, by node name
        (:func:`akslbctl.analysis.poolgaps.node_state`, None when nothing)."""
        from akslbctl.analysis.poolgaps import node_state

        nic_pool = not self.cluster.ip_based_pool
        return {n.name: node_state(n, self.provider, in_pool=True, nic_pool=nic_pool) for n in self.case.nodes}

    @cached_property
    def evidence(self) -> Any:
        """The case's NICs and instance views indexed by VM (:class:`akslbctl.analysis.poolgaps.Evidence`),
        which say why a node the provider keeps is missing from a pool."""
        from akslbctl.analysis.poolgaps import Evidence

        return Evidence(self.case)

    @cached_property
    def paths(self) -> Any:
        """:func:`akslbctl.analysis.netpath.evaluate_paths`, worked out once. It needs no probe result, so
        a caller may have it made while the round runs."""
        from akslbctl.analysis.netpath import evaluate_paths

        return evaluate_paths(self)


def analyse(case: Case, *, provider_version: str | None = None) -> Analysis:
    """Match the Service's LB objects and compute what the provider would configure.

    ``provider_version`` (a CCM version such as ``v1.24.10``) overrides the rule set that the
    cluster's Kubernetes version implies.
    """
    provider = provider_rules(case.server_version, provider_version)
    found = match(case.service, case.nodes, case.load_balancers, case.public_ips, case.network_interfaces)
    cluster = cluster_settings(found.lb, found, case.resource_group)
    expectation = expect_service(case.service, provider, cluster)
    return Analysis(case=case, match=found, cluster=cluster, provider=provider, expectation=expectation)


def provider_rules(server_version: str | None, provider_version: str | None = None) -> ProviderRules:
    """The provider rule set: from the cluster's version, or the CCM version the user names.

    An unreadable version is a usage error (exit 2); an odd server version falls back to master.
    """
    if provider_version:
        try:
            rules = rules_for_ccm(provider_version)
        except ValueError as exc:
            raise UsageError(str(exc), hint="--provider-version takes v1.X.Y, 1.X, latest or master") from None
        if server_version:
            try:
                return with_kubernetes(rules, server_version)
            except ValueError:
                return rules
        return rules
    try:
        return rules_for_cluster(server_version)
    except ValueError:
        return rules_for_cluster(None)


def cluster_settings(lb: LoadBalancer | None, found: Match, resource_group: str | None) -> ClusterSettings:
    """Cluster-level settings the Service does not determine, read from the LB, never assumed.

    - probe mode: ``shared`` when the LB carries ``cluster-service-shared-health-probe``, with its port
      and path taken from that probe (aks-lb-rules.md §6.5);
    - cluster name: the name of the backend pool the Service's rules use (the pool keeps the
      ``--cluster-name`` even when the LB is renamed, §12 item 2), else the LB name without ``-internal``;
    - pool type: ``nodeIP`` when that pool lists addresses instead of NIC ipConfigurations.
    """
    if lb is None:
        return ClusterSettings(node_resource_group=resource_group)
    shared = found.shared_probe
    pool_names = [p.name for r in found.rules for p in r.pools]
    cluster_name = next((n for n in pool_names if not n.lower().endswith("-ipv6")), None)
    if cluster_name is None and pool_names:
        cluster_name = pool_names[0][: -len("-IPv6")]
    if cluster_name is None:
        name = lb.name
        cluster_name = name[: -len("-internal")] if name.lower().endswith("-internal") else name
    pools = [p for r in found.rules for p in r.pools] or [
        p for p in lb.pools if p.name.lower() in (cluster_name.lower(), f"{cluster_name.lower()}-ipv6")
    ]
    ip_based = bool(pools) and all(p.ip_based for p in pools if p.members)
    kwargs = {}
    if shared is not None:
        kwargs = {"probe_mode": "shared", "shared_probe_port": shared.port}
        if shared.request_path:
            kwargs["shared_probe_path"] = shared.request_path
    return ClusterSettings(
        cluster_name=cluster_name,
        sku=(lb.sku or "standard").lower(),
        pool_type="nodeIP" if ip_based and any(p.members for p in pools) else "nodeIPConfiguration",
        node_resource_group=resource_group,
        **kwargs,
    )


def probe_target(rule: MatchedRule, address: str) -> ProbeTarget | None:
    """What the LB probes for this rule at this member: the probe as ARM holds it (contract §3)."""
    probe = rule.probe
    if probe is None:
        return None
    path = (probe.request_path or "/") if probe.protocol in ("Http", "Https") else None
    return ProbeTarget(address=address, port=probe.port, protocol=probe.protocol, path=path)


def probe_plan(analysis: Analysis) -> list[ProbeTarget]:
    """Every distinct (member address, probe) the LB probes for the Service's rules — but those that
    cannot be probed as the LB would (``target_problem``: reported as not probed, saying why)."""
    return list(analysis.planned)


def is_shared_probe(name: str | None) -> bool:
    return bool(name) and name.lower() == SHARED_PROBE_NAME.lower()


def pool_label(rule: MatchedRule) -> str:
    return ", ".join(p.name for p in rule.pools) or ", ".join(id_name(i) for i in rule.rule.backend_pool_ids) or "-"


def ready_endpoints_by_node(case: Case) -> Mapping[str, int]:
    """Distinct ready endpoints per node name (kube-proxy's localEndpoints counts ready ones only)."""
    seen: dict[str, set[str]] = {}
    for ep in case.endpoints:
        if ep.ready and not ep.terminating and ep.node_name:
            key = ep.target_ref or ",".join(ep.addresses)
            seen.setdefault(ep.node_name, set()).add(key)
    return {n: len(v) for n, v in seen.items()}
