"""How a rule's traffic is shared among nodes and pods (field case C17). Pure: no client.

The Azure LB spreads **flows per backend node** it treats as up, by a hash of the 5-tuple
(``loadDistribution: Default``; ``SourceIP`` hashes client IP + destination, ``SourceIPProtocol`` adds
the protocol, so one client sticks to one node). It knows nothing of pods:

* ``externalTrafficPolicy: Local``: each up node gets an equal share, split among its local ready
  endpoints — a node with one pod sends it as much as a node with three sends each of its three;
* ``Cluster``: kube-proxy spreads again, at random, across **all** ready endpoints of the cluster, so
  every pod gets about the same share whichever node the flow entered.

Skew is the largest per-pod share over the smallest among pods that get any traffic. ``uneven-share``:
info from :data:`INFO_SKEW`, warning from :data:`WARNING_SKEW`.
"""

from __future__ import annotations

from collections.abc import Sequence

from akslbctl.model.kube import AUTOSCALER_DELETION_TAINT, Endpoint, Node, Service
from akslbctl.model.report import INFO, UP, WARNING, Finding, RuleDiagnosis
from akslbctl.records import record

INFO_SKEW = 1.5
WARNING_SKEW = 2.0


@record(frozen=True)
class NodeShare:
    node: str
    share: float  # of the rule's flows the LB sends to this node (0 when not up)
    pods: int  # local ready endpoints
    per_pod: float | None  # each local pod's share of the rule's traffic (None: no local pod)


@record(frozen=True)
class PodShare:
    pod: str  # namespace/name from targetRef, else the endpoint address
    node: str | None
    share: float


@record(frozen=True)
class RuleShare:
    rule: str
    policy: str  # Local | Cluster
    load_distribution: str
    basis: str  # "verdict": the LB's verdicts; "expected": cluster state (no verdict known)
    nodes: tuple[NodeShare, ...]
    pods: tuple[PodShare, ...]
    skew: float | None  # max/min per-pod share among pods with traffic
    shared_mode_drains: tuple[str, ...] = ()  # up nodes a shared probe (kube-proxy /healthz) would drain


def _pod_key(ep: Endpoint) -> str:
    if ep.target_ref and ep.target_ref.startswith("Pod/"):
        return ep.target_ref.split("/", 1)[1]
    return ",".join(ep.addresses) or "?"


def rule_share(
    rd: RuleDiagnosis,
    service: Service,
    endpoints: Sequence[Endpoint],
    nodes: Sequence[Node],
    load_distribution: str | None,
    *,
    probe_mode: str = "servicenodeport",
    eligibility: bool = True,
) -> RuleShare | None:
    members = [n for n in rd.nodes if n.in_pool and not n.node.startswith("<no node")]
    if not members:
        return None
    if rd.known:
        up = [n.node for n in members if n.verdict == UP]
        basis = "verdict"
    else:
        up = [n.node for n in members if n.expected == UP]
        basis = "expected"
    if not up:
        return None
    ready = {}
    for ep in endpoints:
        if ep.ready and not ep.terminating:
            ready[_pod_key(ep)] = ep  # one per pod (a dual-stack pod has an endpoint per family)
    local: dict[str, list[str]] = {}
    for key, ep in ready.items():
        if ep.node_name:
            local.setdefault(ep.node_name, []).append(key)
    n_up = len(up)
    is_up = set(up)  # membership by set: a list made this quadratic (0.9 s at 5,000 nodes)
    node_shares = []
    for n in sorted(members, key=lambda m: m.node):
        share = 1.0 / n_up if n.node in is_up else 0.0
        k = len(local.get(n.node, []))
        local_share = share / k if k else None
        per_pod = local_share if service.is_local else (1.0 / len(ready) if (k and ready) else None)
        node_shares.append(NodeShare(n.node, share, k, per_pod))
    pod_shares = []
    if service.is_local:
        for key, ep in sorted(ready.items()):
            node = ep.node_name
            k = len(local.get(node or "", []))
            share = (1.0 / n_up / k) if (node in is_up and k) else 0.0
            pod_shares.append(PodShare(key, node, share))
    else:
        for key, ep in sorted(ready.items()):
            pod_shares.append(PodShare(key, ep.node_name, 1.0 / len(ready)))
    positive = [p.share for p in pod_shares if p.share > 0]
    skew = (max(positive) / min(positive)) if positive else None
    drains: tuple[str, ...] = ()
    if not service.is_local and probe_mode != "shared" and eligibility:
        by_name = {n.name: n for n in nodes}
        drains = tuple(
            sorted(
                u
                for u in up
                if u in by_name
                and (by_name[u].deleting or any(t.key == AUTOSCALER_DELETION_TAINT for t in by_name[u].taints))
            )
        )
    return RuleShare(
        rd.name,
        "Local" if service.is_local else "Cluster",
        load_distribution or "Default",
        basis,
        tuple(node_shares),
        tuple(pod_shares),
        skew,
        drains,
    )


def pct(x: float) -> str:
    v = 100.0 * x
    return f"{v:.0f} %" if abs(v - round(v)) < 0.05 or v >= 10 else f"{v:.1f} %"


def share_findings(shares: Sequence[RuleShare]) -> list[Finding]:
    out = []
    for s in shares:
        if s.skew is not None and s.skew >= INFO_SKEW and s.policy == "Local":
            up_nodes = [n for n in s.nodes if n.share > 0]
            figures = "; ".join(
                f"{n.node} {n.pods} pod{'s' if n.pods != 1 else ''} → {pct(n.per_pod)} per pod"
                for n in up_nodes
                if n.per_pod is not None
            )
            idle = [p for p in s.pods if p.share == 0]
            tail = f"; {len(idle)} ready pod(s) on nodes out of rotation get none" if idle else ""
            sticky = (
                f" With loadDistribution {s.load_distribution} each client sticks to one node, so the split "
                "follows the clients, not the flows."
                if s.load_distribution != "Default"
                else ""
            )
            out.append(
                Finding(
                    "uneven-share",
                    WARNING if s.skew >= WARNING_SKEW else INFO,
                    f"{s.rule}: expected share (Local, {len(up_nodes)} up node{'s' if len(up_nodes) != 1 else ''}): "
                    f"{figures}{tail}. The Azure LB balances per node by 5-tuple hash, not per pod: the busiest pod "
                    f"gets {s.skew:.1f}× the least busy.{sticky} Spread the pods evenly (topologySpreadConstraints) "
                    "or use externalTrafficPolicy: Cluster.",
                    rule=s.rule,
                )
            )
        if s.shared_mode_drains:
            out.append(
                Finding(
                    "shared-probe-would-drain",
                    INFO,
                    f"{s.rule}: {', '.join(s.shared_mode_drains)} {'is' if len(s.shared_mode_drains) == 1 else 'are'} "
                    "being deleted (deletionTimestamp or ToBeDeletedByClusterAutoscaler) but still up and receiving "
                    f"{pct(max((n.share for n in s.nodes), default=0.0))} of the flows each: in servicenodeport "
                    "mode the nodePort probe passes while endpoints exist anywhere. In shared probe mode kube-proxy's "
                    "/healthz would answer 503 (nodeEligible=false) and drain them ahead of the deletion.",
                    rule=s.rule,
                )
            )
    return out
