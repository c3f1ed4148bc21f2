"""When the answer comes from the application: a rule that rejects Azure's probe (field case C02) and a
gateway probed on its data port while its pods answer readiness on a status port (C03). Pure.

Both suggestions are backed by an extra GET of the proposed target on the same nodes, as the ``/`` →
``/healthz`` hint is (hints.py), and every proposed annotation set is run through the provider's own
probe algorithm (expect.py) before it is shown: a value the provider would reject is never suggested.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from akslbctl.analysis import annotations as ann
from akslbctl.analysis.engine import Analysis, is_shared_probe, probe_target
from akslbctl.analysis.expect import expect_service
from akslbctl.analysis.hints import path_hints
from akslbctl.analysis.match import MatchedRule
from akslbctl.analysis.netpol import backend_pods, target_port
from akslbctl.model.kube import ServicePort
from akslbctl.model.probe import HTTP_STATUS, ProbeResult, ProbeTarget
from akslbctl.model.report import ERROR, INFO, WARNING, Finding, RuleDiagnosis
from akslbctl.model.workload import Container, Pod
from akslbctl.records import record

# Status ports of common gateways, used when a container declares the port without a readinessProbe.
KNOWN_STATUS_PORTS: Mapping[int, tuple[str, str]] = {
    15021: ("/healthz/ready", "Istio"),
    10254: ("/healthz", "ingress-nginx"),
    8002: ("/ready", "Contour's Envoy"),
    19003: ("/ready", "Envoy Gateway"),
    8100: ("/status/ready", "Kong"),
    1042: ("/healthz", "HAProxy Ingress"),
    8877: ("/ambassador/v0/check_ready", "Emissary"),
}

EXCERPT = 80


def clean(text: str | None, limit: int = EXCERPT) -> str:
    """Printable, one line, short, without markup brackets or escapes: safe for any terminal."""
    if not text:
        return ""
    out = "".join(ch if (ch.isprintable() and ch not in "[]\\`") else " " for ch in text)
    out = " ".join(out.split())
    return out[:limit] + ("…" if len(out) > limit else "")


def kube_proxy_body(result: ProbeResult) -> bool:
    """kube-proxy's or Cilium's own health answers (probe-semantics.md §7, §8), not an application's."""
    if (
        result.local_endpoints is not None
        or result.node_eligible is not None
        or result.service_proxy_healthy is not None
    ):
        return True
    body = (result.body_excerpt or "").strip()
    if body == "404 page not found":
        return True
    try:
        doc = json.loads(body)
    except ValueError:
        return False
    return isinstance(doc, dict) and ("localEndpoints" in doc or "lastUpdated" in doc)


# -- candidate probe targets ---------------------------------------------------------------------


@record(frozen=True)
class Candidate:
    kind: str  # "status-port" | "readiness-path"
    rule: MatchedRule
    service_port: ServicePort
    annotations: tuple[tuple[str, str], ...]  # to set, validated
    targets: tuple[tuple[str, ProbeTarget], ...]  # (node name, target)
    where: str  # "readinessProbe of container istio-proxy", "Istio status port"
    container_port: int
    path: str
    via: ServicePort | None = None  # the Service port whose nodePort the probe would use
    problem: str | None = None  # why no annotation can point there (no Service port exposes it)


def _service_port_of(mr: MatchedRule, ports: Sequence[ServicePort]) -> ServicePort | None:
    probe = mr.probe
    return next((p for p in ports if p.port == mr.rule.frontend_port and p.node_port == probe.port), None)


def _readiness(pod: Pod, data_port: int) -> list[tuple[Container, int, str, str, str]]:
    """(container, port, path, scheme, where) of HTTP readiness endpoints, readinessProbes first."""
    out = []
    for c in pod.containers:
        r = c.readiness
        if r is not None and r.kind == "httpGet":
            port = c.port_number(r.port)
            if port is not None:
                out.append((c, port, r.path or "/", r.scheme, f"readinessProbe of container {c.name}"))
    for c in pod.containers:
        for p in c.ports:
            if p.port in KNOWN_STATUS_PORTS and p.port != data_port and not any(o[1] == p.port for o in out):
                path, who = KNOWN_STATUS_PORTS[p.port]
                out.append((c, p.port, path, "HTTP", f"{who} status port of container {c.name}"))
    return out


def _exposing(ports: Sequence[ServicePort], pod: Pod, container_port: int) -> ServicePort | None:
    for sp in ports:
        if sp.protocol == "TCP" and sp.node_port and target_port(sp, pod) == container_port:
            return sp
    return None


def _validated(analysis: Analysis, rule_name: str, extra: Mapping[str, str]) -> tuple[bool, str | None]:
    """Would the provider build the intended probe with these annotations (and no error)?"""
    service = analysis.case.service
    trial = replace(service, annotations={**service.annotations, **extra})
    exp = expect_service(trial, analysis.provider, analysis.cluster)
    fatal = [p for p in exp.problems if p.fatal]
    if fatal:
        return False, fatal[0].message
    return True, None


def candidates(analysis: Analysis) -> list[Candidate]:
    case = analysis.case
    service = case.service
    if not case.pods:
        return []
    backends = [pod for _ep, pod in backend_pods(case.endpoints, case.pods) if pod is not None]
    if not backends:
        return []
    pod = backends[0]
    out: list[Candidate] = []
    for mr in analysis.match.rules:
        probe = mr.probe
        if probe is None or is_shared_probe(probe.name) or probe.protocol not in ("Http", "Https", "Tcp"):
            continue
        if service.is_local and probe.port == service.health_check_node_port:
            continue
        sp = _service_port_of(mr, service.ports)
        if sp is None:
            continue
        data_port = target_port(sp, pod)
        path = (probe.request_path or "/") if probe.protocol != "Tcp" else None
        for _c, port, rpath, scheme, where in _readiness(pod, data_port or -1):
            proto = "Https" if scheme == "HTTPS" else "Http"
            members = [(m.node.name if m.node else (m.address or "?"), m.address) for m in mr.members if m.address]
            if port != data_port and probe.protocol != "Tcp" and path == "/":
                via = _exposing(service.ports, pod, port)
                if via is None:
                    out.append(
                        Candidate(
                            "status-port",
                            mr,
                            sp,
                            (),
                            (),
                            where,
                            port,
                            rpath,
                            problem=f"no port of {service.ref} targets container port {port}",
                        )
                    )
                    break
                keys = (
                    (ann.probe_key(sp.port, ann.PARAM_PORT), via.name or str(via.port)),
                    (ann.probe_key(sp.port, ann.PARAM_PROTOCOL), proto.lower()),
                    (ann.probe_key(sp.port, ann.PARAM_REQUEST_PATH), rpath),
                )
                ok, problem = _validated(analysis, mr.rule.name, dict(keys))
                targets = tuple((n, ProbeTarget(a, via.node_port, proto, rpath)) for n, a in members)
                out.append(
                    Candidate("status-port", mr, sp, keys if ok else (), targets, where, port, rpath, via, problem)
                )
                break
            if port == data_port and probe.protocol != "Tcp" and rpath != path:
                keys = ((ann.probe_key(sp.port, ann.PARAM_REQUEST_PATH), rpath),)
                ok, problem = _validated(analysis, mr.rule.name, dict(keys))
                targets = tuple((n, ProbeTarget(a, probe.port, probe.protocol, rpath)) for n, a in members)
                out.append(
                    Candidate("readiness-path", mr, sp, keys if ok else (), targets, where, port, rpath, sp, problem)
                )
                break
    return out


def app_targets(analysis: Analysis) -> list[ProbeTarget]:
    """The extra GETs that back the suggestions (run with the probe round)."""
    return [t for c in candidates(analysis) for _n, t in c.targets]


# -- findings ------------------------------------------------------------------------------------


def _answered(seen: Sequence[ProbeResult | None], total: int) -> str:
    ok = sum(1 for r in seen if r is not None and r.up)
    return f"{ok}/{total}"


def _annotation_text(keys: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in keys)


def app_findings(
    analysis: Analysis,
    results: Mapping[ProbeTarget, ProbeResult] | None,
    rules: Sequence[RuleDiagnosis],
) -> list[Finding]:
    if results is None:
        return []
    out: list[Finding] = []
    found = candidates(analysis)
    gateway_rules = set()
    by_name = {r.name.lower(): r for r in rules}
    for c in found:
        if c.kind != "status-port":
            continue
        gateway_rules.add(c.rule.rule.name.lower())
        probe = c.rule.probe
        rd = by_name.get(c.rule.rule.name.lower())
        failing = sum(1 for n in (rd.nodes if rd else ()) if n.in_pool and n.verdict == "down")
        head = (
            f"{c.rule.rule.name}: probe {probe.protocol} :{probe.port} / targets the data port "
            f"{c.service_port.name or c.service_port.port} of {analysis.case.service.ref}; its pods answer readiness "
            f"on {c.container_port} {c.path} ({c.where})."
        )
        if c.problem and not c.annotations:
            if c.via is None:
                key = ann.probe_key(c.service_port.port, ann.PARAM_PORT)
                text = (
                    f" {c.problem}: add a Service port for {c.container_port} (e.g. name: status-port), then "
                    f"point the probe at it with {key}."
                )
            else:
                text = f" The annotations that would point the probe there are rejected by the provider: {c.problem}."
        else:
            seen = [results.get(t) for _n, t in c.targets]
            answered = _answered(seen, len(c.targets))
            text = (
                f" Set {_annotation_text(c.annotations)} (a service port name resolves to that port's nodePort "
                f"{c.via.node_port})"
                + (
                    f"; GET :{c.via.node_port}{c.path} answered 200 on {answered} nodes."
                    if seen and any(s is not None for s in seen)
                    else "."
                )
            )
        out.append(Finding("gateway-status-port", WARNING if failing else INFO, head + text, rule=c.rule.rule.name))

    service = analysis.case.service
    hinted = {h.rule.rule.name.lower() for h in path_hints(analysis)}
    ready = [pod for ep, pod in backend_pods(analysis.case.endpoints, analysis.case.pods)]
    if not any(ep.ready for ep in analysis.case.endpoints):
        return out
    for mr in analysis.match.rules:
        probe = mr.probe
        low = mr.rule.name.lower()
        if probe is None or probe.protocol not in ("Http", "Https") or low in gateway_rules or low in hinted:
            continue
        if is_shared_probe(probe.name) or (service.is_local and probe.port == service.health_check_node_port):
            continue
        if probe.port not in {p.node_port for p in service.ports if p.node_port}:
            continue
        seen = [results.get(probe_target(mr, m.address)) for m in mr.members if m.address]
        seen = [r for r in seen if r is not None]
        if not seen or not all(
            r.outcome == HTTP_STATUS and r.status is not None and 400 <= r.status < 500 for r in seen
        ):
            continue
        if any(kube_proxy_body(r) for r in seen):
            continue
        statuses = "/".join(sorted({str(r.status) for r in seen}))
        sample = seen[0]
        server = clean(sample.server, 40)
        body = clean(re.sub(r"<[^>]{0,200}>", " ", sample.body_excerpt or ""))  # markup says nothing
        shown = "; ".join(x for x in (f"Server: {server}" if server else "", f'body "{body}"' if body else "") if x)
        path = probe.request_path or "/"
        text = (
            f"{mr.rule.name}: probe {probe.protocol} :{probe.port}{path} → {statuses} from the application on "
            f"{len(seen)}/{len(seen)} nodes, not from kube-proxy" + (f" ({shown})" if shown else "") + ". Azure "
            "accepts only 200 and its probe sends no custom headers, cookies or Host beyond the node address, so "
            "a rule in the application keyed on one (X-Azure-FDID, a Host allow-list, authentication) rejects it."
        )
        sent = sorted(
            {
                h
                for pod in ready
                if pod is not None
                for c in pod.containers
                if c.readiness
                for h, _v in c.readiness.headers
            }
        )
        if sent:
            text += f" The pods' readinessProbe sends {', '.join(clean(h, 40) for h in sent)}; Azure's probe does not."
        rp = next((c for c in found if c.kind == "readiness-path" and c.rule.rule.name.lower() == low), None)
        if rp is not None and rp.annotations:
            got = [results.get(t) for _n, t in rp.targets]
            ok = sum(1 for r in got if r is not None and r.up)
            if ok:
                text += (
                    f" GET {rp.path} ({rp.where}) answered 200 on {ok}/{len(rp.targets)} nodes: set "
                    f"{_annotation_text(rp.annotations)}."
                )
            else:
                text += f" GET {rp.path} ({rp.where}) did not answer 200 either."
        else:
            own = _service_port_of(mr, service.ports)
            key = ann.probe_key(own.port if own else mr.rule.frontend_port, ann.PARAM_PROTOCOL)
            text += f" Exempt {path} from that rule, or make the probe Tcp with {key}: tcp."
        out.append(Finding("app-rejects-probe", ERROR, text, rule=mr.rule.name))
    return out
