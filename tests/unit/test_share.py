"""The expected share of a rule's traffic (analysis/share.py): per node, per pod, skew and thresholds."""

from __future__ import annotations

import pytest

from akslbctl.analysis.share import INFO_SKEW, WARNING_SKEW, rule_share, share_findings
from akslbctl.model.kube import Endpoint, Node, Service, Taint
from akslbctl.model.report import DOWN, UP, NodeVerdict, RuleDiagnosis


def rule(verdicts: dict[str, str], expected: str | None = None) -> RuleDiagnosis:
    nodes = tuple(
        NodeVerdict(
            n,
            f"10.0.0.{i}",
            True,
            v,
            "probe-ok" if v == UP else ("not-probed" if v == "unknown" else "timeout"),
            "",
            expected,
        )
        for i, (n, v) in enumerate(sorted(verdicts.items()))
    )
    return RuleDiagnosis("r80", "Tcp", 80, 80, None, None, None, nodes)


def eps(per_node: dict[str, int]) -> list[Endpoint]:
    out = []
    for node, k in per_node.items():
        for j in range(k):
            out.append(Endpoint((f"10.244.{node[-1]}.{j}",), node_name=node, target_ref=f"Pod/default/{node}-{j}"))
    return out


LOCAL = Service("default", "web", "u", external_traffic_policy="Local")
CLUSTER = Service("default", "web", "u")

CASES = [
    # (service, verdicts, pods per node, per-pod shares by node, skew)
    (LOCAL, {"a": UP, "b": UP, "c": UP}, {"a": 1, "b": 3, "c": 2}, {"a": 1 / 3, "b": 1 / 9, "c": 1 / 6}, 3.0),
    (LOCAL, {"a": UP, "b": UP}, {"a": 2, "b": 2}, {"a": 0.25, "b": 0.25}, 1.0),
    (LOCAL, {"a": UP, "b": DOWN, "c": UP}, {"a": 1, "b": 4, "c": 1}, {"a": 0.5, "b": 0.0, "c": 0.5}, 1.0),
    (CLUSTER, {"a": UP, "b": UP, "c": UP}, {"a": 1, "b": 3}, {"a": 0.25, "b": 0.25, "c": None}, 1.0),
]


@pytest.mark.parametrize(("service", "verdicts", "pods", "per_pod", "skew"), CASES)
def test_shares(service, verdicts, pods, per_pod, skew):
    s = rule_share(rule(verdicts), service, eps(pods), [Node(n) for n in verdicts], None)
    got = {n.node: n.per_pod for n in s.nodes}
    for node, want in per_pod.items():
        assert (got[node] is None) if want is None else got[node] == pytest.approx(want)
    up = sum(1 for v in verdicts.values() if v == UP)
    assert all(n.share == pytest.approx(1 / up if verdicts[n.node] == UP else 0) for n in s.nodes)
    assert sum(p.share for p in s.pods) == pytest.approx(1.0)
    assert s.skew == pytest.approx(skew)


def test_unknown_verdicts_use_the_expectation():
    s = rule_share(rule({"a": "unknown", "b": "unknown"}, expected=UP), LOCAL, eps({"a": 1, "b": 1}), [], None)
    assert s.basis == "expected"


@pytest.mark.parametrize(
    ("pods", "severity"),
    [({"a": 1, "b": 1}, None), ({"a": 2, "b": 3}, INFO_SKEW and "info"), ({"a": 1, "b": 2}, "warning")],
)
def test_uneven_share_thresholds(pods, severity):
    s = rule_share(rule({"a": UP, "b": UP}), LOCAL, eps(pods), [], "SourceIP")
    found = [f for f in share_findings([s]) if f.code == "uneven-share"]
    if severity is None:
        assert not found
    else:
        assert found[0].severity == severity
        assert "loadDistribution SourceIP" in found[0].message
    assert INFO_SKEW < WARNING_SKEW


def test_shared_mode_drain_only_for_cluster_in_servicenodeport_mode():
    nodes = [Node("a"), Node("b", taints=(Taint("ToBeDeletedByClusterAutoscaler"),))]
    rd = rule({"a": UP, "b": UP})
    s = rule_share(rd, CLUSTER, eps({"a": 1}), nodes, None)
    assert s.shared_mode_drains == ("b",)
    assert rule_share(rd, CLUSTER, eps({"a": 1}), nodes, None, probe_mode="shared").shared_mode_drains == ()
    assert rule_share(rd, LOCAL, eps({"a": 1}), nodes, None).shared_mode_drains == ()
    assert rule_share(rd, CLUSTER, eps({"a": 1}), nodes, None, eligibility=False).shared_mode_drains == ()
