"""Evidence-backed suggestions for the most common outage: an Http probe on ``/`` of a data port.

Since cloud-provider-azure v1.23.9/v1.24, ``appProtocol: http``/``https`` on a Cluster-policy port turns
its probe into ``Http(s)`` on the nodePort with path ``/`` (aks-lb-rules.md §6.7; field case C01).
Ingress controllers answer ``/`` with 404 without a catch-all Ingress, so every node is down while
the pods are Ready. The usual fix is the request-path annotation — but reporters disagree whether
``/healthz`` helps, so the suggestion is backed by an extra probe of that path on the same nodes.
"""

from __future__ import annotations

from collections.abc import Mapping

from akslbctl.analysis import annotations as ann
from akslbctl.analysis.engine import Analysis, probe_target
from akslbctl.analysis.match import MatchedRule
from akslbctl.model.probe import ProbeResult, ProbeTarget
from akslbctl.model.report import WARNING, Finding
from akslbctl.records import record

CANDIDATE_PATH = "/healthz"


@record(frozen=True)
class PathHint:
    rule: MatchedRule
    port_label: str  # spec.ports[http]
    port: int  # the service port
    app_protocol: str
    targets: tuple[tuple[ProbeTarget, ProbeTarget], ...]  # (probe as configured, same with CANDIDATE_PATH)


def path_hints(analysis: Analysis) -> list[PathHint]:
    """Rules whose Http(s) probe is on ``/`` only because of appProtocol (no request-path annotation)."""
    service = analysis.case.service
    if service.is_local:
        return []
    hints = []
    for mr in analysis.match.rules:
        probe = mr.probe
        if probe is None or probe.protocol not in ("Http", "Https") or (probe.request_path or "/") != "/":
            continue
        port = next(
            (p for p in service.ports if p.port == mr.rule.frontend_port and p.node_port == probe.port),
            None,
        )
        if port is None or (port.app_protocol or "").lower() not in ("http", "https"):
            continue
        keys = (ann.PROBE_REQUEST_PATH, ann.probe_key(port.port, ann.PARAM_REQUEST_PATH))
        if any(service.annotations.get(k) for k in keys):
            continue
        pairs = []
        for m in mr.members:
            if m.address:
                configured = probe_target(mr, m.address)
                if configured is not None:
                    candidate = ProbeTarget(configured.address, configured.port, configured.protocol, CANDIDATE_PATH)
                    pairs.append((configured, candidate))
        label = f"spec.ports[{port.name or port.port}]"
        hints.append(PathHint(mr, label, port.port, port.app_protocol or "", tuple(pairs)))
    return hints


def hint_targets(analysis: Analysis) -> list[ProbeTarget]:
    return [candidate for h in path_hints(analysis) for _, candidate in h.targets]


def hint_findings(analysis: Analysis, results: Mapping[ProbeTarget, ProbeResult] | None) -> list[Finding]:
    if results is None:
        return []
    out = []
    for h in path_hints(analysis):
        seen = [(results.get(c), results.get(k)) for c, k in h.targets]
        seen = [(c, k) for c, k in seen if c is not None]
        failing = [c for c, _ in seen if not c.up]
        if not failing:
            continue
        statuses = sorted({str(c.status) for c in failing if c.status is not None}) or ["no 200"]
        healthy = sum(1 for _, k in seen if k is not None and k.up)
        proto = h.rule.probe.protocol
        because = (
            f"{h.rule.rule.name}: the probe is {proto} on / of nodePort {h.rule.probe.port} because "
            f"{h.port_label}.appProtocol={h.app_protocol} and no request-path annotation is set; "
            f"GET / answered {'/'.join(statuses)} on {len(failing)}/{len(seen)} nodes and Azure accepts only 200."
        )
        if healthy:
            advice = (
                f" GET {CANDIDATE_PATH} answered 200 on {healthy}/{len(seen)} nodes: set "
                f"{ann.PROBE_REQUEST_PATH}: {CANDIDATE_PATH} (or externalTrafficPolicy: Local)."
            )
        else:
            advice = (
                f" GET {CANDIDATE_PATH} did not answer 200 either: point the probe at a real health endpoint "
                f"with {ann.probe_key(h.port, ann.PARAM_REQUEST_PATH)}, or make it Tcp with "
                f"{ann.probe_key(h.port, ann.PARAM_PROTOCOL)}: tcp."
            )
        out.append(Finding("probe-path-suggestion", WARNING, because + advice, rule=h.rule.rule.name))
    return out
