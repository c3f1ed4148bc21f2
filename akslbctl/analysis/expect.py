"""What cloud-provider-azure would configure on the Azure LB for one Service, and which nodes it pools.

A port of the provider's own algorithm (aks-lb-rules.md §2, §4.1, §5, §6, §7.3), version-aware through
:class:`~akslbctl.analysis.provider.ProviderRules`. ``explain`` uses it to raise ``probe-mismatch`` and
``diff`` to compare every field with ARM, so both say exactly what the provider would write, including
when that is wrong for the application (the ``appProtocol`` → ``Http /`` trap).

Each step of the provider is one function named after the provider's function, with the source
reference in its docstring. When the provider would reject an annotation, its reconcile fails and the
LB is left as it was; :func:`expect_service` still returns the best expectation it can (what the LB
would become once the annotation is fixed) and lists the provider's error texts in ``problems``.

Pure: no client library, no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import field, replace

from akslbctl.analysis import annotations as ann
from akslbctl.analysis import names
from akslbctl.analysis.annotations import AnnotationProblem
from akslbctl.analysis.provider import ProviderRules
from akslbctl.model.kube import AUTOSCALER_DELETION_TAINT, EXCLUDE_LB_LABEL, Node, Service, ServicePort
from akslbctl.records import record

__all__ = [
    "AnnotationProblem",
    "ClusterSettings",
    "Expectation",
    "ExpectedFrontend",
    "ExpectedProbe",
    "ExpectedRule",
    "Membership",
    "expect_service",
    "ip_families_enabled",
    "pool_membership",
]

IPV4, IPV6 = "IPv4", "IPv6"
LOCAL_PROBE_PATH = "/healthz"  # GetServiceHealthCheckPathPort

# Kubernetes protocol → ARM transport protocol (getProtocolsFromKubernetesProtocol).
_TRANSPORT = {"TCP": "Tcp", "UDP": "Udp", "SCTP": "All"}
_PROBE_PROTOCOLS = {"tcp": "Tcp", "http": "Http", "https": "Https"}

RESOURCE_GROUP_LABEL = "kubernetes.azure.com/resource-group"
MANAGED_LABEL = "kubernetes.azure.com/managed"
UNINITIALIZED_TAINT = "node.cloudprovider.kubernetes.io/uninitialized"
CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
ROLE_LABEL = "kubernetes.io/role"


# ---------------------------------------------------------------------------------------------
# Data


@record(frozen=True)
class ClusterSettings:
    """Cluster-level facts the caller read from ARM (or a cloud config); never assumed here."""

    cluster_name: str = "kubernetes"
    sku: str = "standard"
    probe_mode: str = "servicenodeport"  # "shared" when the LB has cluster-service-shared-health-probe
    shared_probe_port: int = 10256  # taken from that probe in ARM
    shared_probe_path: str = "/healthz"
    pool_type: str = "nodeIPConfiguration"  # or "nodeIP"
    node_resource_group: str | None = None  # for the kubernetes.azure.com/resource-group node label check

    @property
    def standard(self) -> bool:
        return self.sku.lower() == "standard"

    @property
    def ip_based_pool(self) -> bool:
        return self.pool_type.lower() == "nodeip"


@record(frozen=True)
class ExpectedProbe:
    name: str
    protocol: str  # Tcp | Http | Https
    port: int
    request_path: str | None
    interval: int
    threshold: int
    threshold_field: str  # "probeThreshold" | "numberOfProbes"
    shared: bool  # the LB-wide shared probe
    why: str  # one plain sentence: where port, protocol and path came from


@record(frozen=True)
class ExpectedRule:
    name: str
    family: str  # "IPv4" | "IPv6"
    service_port: ServicePort | None  # the HA rule carries spec.ports[0]
    protocol: str  # Tcp | Udp | All
    frontend_port: int
    backend_port: int
    enable_floating_ip: bool
    idle_timeout: int | None  # None: not written (UDP rules of legacy providers)
    enable_tcp_reset: bool | None  # None: not written (non-Tcp rules, basic SKU)
    load_distribution: str  # Default | SourceIP
    frontend_name: str
    pool_name: str
    probe: ExpectedProbe | None  # None: the provider writes the rule without a probe
    no_probe_why: str | None  # why there is no probe
    ha_ports: bool = False


@record(frozen=True)
class ExpectedFrontend:
    name: str
    family: str
    internal: bool
    pinned_ip: str | None  # azure-load-balancer-ipv4/-ipv6, else spec.loadBalancerIP of that family
    pip_name: str | None  # public only: azure-pip-name(-ipv6) or the managed <cluster>-P name (§4.2)
    subnet: str | None


@record(frozen=True)
class Expectation:
    prefix: str
    internal: bool
    lb_name: str
    frontends: tuple[ExpectedFrontend, ...]
    rules: tuple[ExpectedRule, ...]
    probes: tuple[ExpectedProbe, ...]  # distinct probes referenced by the rules
    problems: tuple[AnnotationProblem, ...]
    notes: tuple[str, ...]
    provider: ProviderRules

    @property
    def reconcile_fails(self) -> bool:
        """The provider's reconcile fails on this Service: the LB keeps its previous configuration."""
        return any(p.fatal for p in self.problems)

    def rule(self, name: str) -> ExpectedRule | None:
        return next((r for r in self.rules if r.name.lower() == name.lower()), None)


@record(frozen=True)
class Membership:
    """Whether the provider keeps a node in the ``<clusterName>`` pool.

    ``member``: the provider adds it. ``excluded``: it keeps it out and removes it. ``either``: not
    added, but not removed when already present (NIC pools keep nodes only the service controller
    filtered, §7.3).
    """

    state: str
    reason: str


# ---------------------------------------------------------------------------------------------
# Context shared by the steps


class _Findings:
    """Problems and notes in the order the provider meets them, without repeats (IPv4 and IPv6 share them)."""

    def __init__(self) -> None:
        self.problems: list[AnnotationProblem] = []
        self.notes: list[str] = []

    def problem(self, problem: AnnotationProblem | None) -> None:
        if problem is not None and problem not in self.problems:
            self.problems.append(problem)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


@record(frozen=True)
class _Ctx:
    service: Service
    provider: ProviderRules
    cluster: ClusterSettings
    prefix: str
    subnet: str | None
    dual_stack: bool
    findings: _Findings = field(default_factory=_Findings)

    @property
    def annotations(self) -> Mapping[str, str]:
        return self.service.annotations

    @property
    def threshold_field(self) -> str:
        return self.provider.threshold_field

    def rule_name(self, protocol: str, port: int, family: str) -> str:
        return names.rule_name(
            self.prefix, protocol, port, subnet=self.subnet, dual_stack=self.dual_stack, family=family
        )


def _port_ref(port: ServicePort) -> str:
    return f"spec.ports[{port.name or port.port}]"


def _short(key: str) -> str:
    return ann.short_key(key)


def ip_families_enabled(service: Service) -> tuple[str, ...]:
    """IP families the provider reconciles, IPv4 first (see :func:`annotations.ip_families_enabled`)."""
    return ann.ip_families_enabled(service)


# ---------------------------------------------------------------------------------------------
# Frontends and public IPs


def determine_public_ip_name(ctx: _Ctx, family: str) -> str | None:
    """The PIP a public frontend points at; None when it is "the existing PIP holding the pinned IP".

    Order: ``azure-pip-name(-ipv6)``; ``azure-pip-prefix-id(-ipv6)`` → ``<cluster>-P-<prefix>``; no
    pinned IP → managed ``<cluster>-P``; a pinned IP → whatever PIP holds it (looked up in ARM by the
    caller). Source: ``pkg/provider/azure_loadbalancer.go · determinePublicIPName``;
    ``pkg/provider/azure_standard.go · getPublicIPName``.
    """
    svc = ctx.service
    pip = ann.service_pip_name(svc, family)
    if pip:
        return pip
    prefix_id = ann.service_pip_prefix_id(svc, family)
    if not prefix_id and ann.service_load_balancer_ip(svc, family):
        return None
    return names.pip_name(
        ctx.cluster.cluster_name,
        ctx.prefix,
        pip_prefix_id=prefix_id or None,
        dual_stack=ctx.dual_stack,
        family=family,
    )


def expected_frontend(ctx: _Ctx, family: str, internal: bool) -> ExpectedFrontend:
    """One frontend per IP family. Source: ``azure_loadbalancer.go · getFrontendIPConfigNames``,
    ``reconcileFrontendIPConfigs``."""
    return ExpectedFrontend(
        name=names.frontend_name(ctx.prefix, subnet=ctx.subnet, dual_stack=ctx.dual_stack, family=family),
        family=family,
        internal=internal,
        pinned_ip=ann.service_load_balancer_ip(ctx.service, family),
        pip_name=None if internal else determine_public_ip_name(ctx, family),
        subnet=ctx.subnet if internal else None,
    )


# ---------------------------------------------------------------------------------------------
# Probes


def node_endpoint_health_probe(ctx: _Ctx, family: str) -> ExpectedProbe | None:
    """The Local probe ``P-TCP-<H>``: ``Http`` on ``spec.healthCheckNodePort`` at ``/healthz``.

    Not built when Local is combined with PLS creation and PLS proxy protocol (on versions that route
    those to Cluster-style probes). Interval and num-of-probe come from the annotations keyed by ``H``
    on versions that honour them, with errors returned unwrapped. Source:
    ``pkg/provider/azure_loadbalancer.go · getExpectedLBRules`` (``nodeEndpointHealthprobe``);
    ``vendor/k8s.io/cloud-provider/service/helpers/helper.go · NeedsHealthCheck``.
    """
    svc, rules = ctx.service, ctx.provider
    if svc.type != "LoadBalancer" or svc.external_traffic_policy != "Local":
        return None
    if rules.pls_proxy_protocol_cluster_probes and ann.pls_proxy_protocol(ctx.annotations):
        ctx.findings.note(
            "Local policy with PLS proxy protocol: the provider builds per-port probes as for Cluster policy"
        )
        return None
    h = svc.health_check_node_port or 0
    interval, threshold = ann.DEFAULT_PROBE_INTERVAL, ann.DEFAULT_NUM_OF_PROBE
    if rules.local_honours_probe_annotations:
        timing = ann.probe_timing(ctx.annotations, h)
        for problem in timing.problems:
            ctx.findings.problem(problem)
        interval, threshold = timing.interval, timing.threshold
    return ExpectedProbe(
        name=ctx.rule_name("TCP", h, family),
        protocol="Http",
        port=h,
        request_path=LOCAL_PROBE_PATH,
        interval=interval,
        threshold=threshold,
        threshold_field=ctx.threshold_field,
        shared=False,
        why=f"Http on healthCheckNodePort {h} {LOCAL_PROBE_PATH}: externalTrafficPolicy is Local",
    )


def build_cluster_service_shared_probe(ctx: _Ctx) -> ExpectedProbe:
    """The LB-wide ``cluster-service-shared-health-probe``; port and path come from the cluster (ARM).

    Service annotations never change it. Source:
    ``pkg/provider/azure_loadbalancer_healthprobe.go · buildClusterServiceSharedProbe``.
    """
    port, path = ctx.cluster.shared_probe_port, ctx.cluster.shared_probe_path
    return ExpectedProbe(
        name=names.SHARED_PROBE_NAME,
        protocol="Http",
        port=port,
        request_path=path,
        interval=ann.DEFAULT_PROBE_INTERVAL,
        threshold=ann.DEFAULT_NUM_OF_PROBE,
        threshold_field=ctx.threshold_field,
        shared=True,
        why=f"Http on port {port} {path}: the cluster uses the shared health probe (probe mode shared)",
    )


def use_shared_load_balancer_health_probe(ctx: _Ctx) -> bool:
    """Shared mode applies to every non-Local Service when the cluster runs it.

    Source: ``azure_loadbalancer.go · getExpectedLBRules`` (``useSharedLoadBalancerHealthProbeMode``).
    """
    if ctx.cluster.probe_mode.lower() != "shared":
        return False
    if not ctx.provider.shared_probe_available:
        ctx.findings.note(
            f"the LB is in shared probe mode, but {ctx.provider.name} predates shared probes "
            "(v1.28.5 / v1.29.0): the assumed provider version is probably too old"
        )
        return False
    return ctx.service.external_traffic_policy.lower() != "local"


@record(frozen=True)
class _Protocol:
    protocol: str
    reason: str  # where it came from, for the probe's ``why``
    source_key: str | None  # annotation key or spec field, when one chose it
    raw: str | None


def select_probe_protocol(ctx: _Ctx, port: ServicePort, sink: _Findings) -> _Protocol:
    """Probe protocol for a port: ``port_{p}_health-probe_protocol``, ``appProtocol``, the global
    annotation, ``Tcp`` — first that is set; trimmed, case-insensitive. ``Https`` on basic SKU and any
    other value become ``Tcp`` (an error on v1.23.4–v1.23.8). On v1.23.11+ of the 1.23 branch the
    probe is ``Tcp`` unless a request-path annotation is set.

    Source: ``pkg/provider/azure_loadbalancer_healthprobe.go · buildHealthProbeRulesForPort``.
    """
    a, rules = ctx.annotations, ctx.provider
    value: str | None = None
    source: str | None = None
    if rules.per_port_protocol_and_port:
        key = ann.probe_key(port.port, ann.PARAM_PROTOCOL)
        if key in a:
            value, source = a[key], key
    if value is None and rules.app_protocol_honoured and port.app_protocol is not None:
        value, source = port.app_protocol, f"{_port_ref(port)}.appProtocol"
    if value is None and ann.PROBE_PROTOCOL in a:
        value, source = a[ann.PROBE_PROTOCOL], ann.PROBE_PROTOCOL
    if value is None:
        return _Protocol("Tcp", "no appProtocol or probe-protocol annotation", None, None)

    shown = f"{_short(source)}={value}" if source else value
    protocol = _PROBE_PROTOCOLS.get(value.strip().lower())
    reason = shown
    if protocol is None:
        protocol = "Tcp"
        if rules.unknown_protocol == "error":
            sink.problem(
                AnnotationProblem(
                    source or "",
                    value,
                    # Paraphrase: the exact v1.23.4–v1.23.8 error text is not in the sources consulted.
                    f"unsupported health probe protocol {value!r} in {_short(source or '')}: "
                    "only Tcp, Http and Https are supported",
                )
            )
        reason = f"{shown} is not Tcp, Http or Https, so the provider falls back to Tcp"
    elif protocol == "Https" and not ctx.cluster.standard:
        protocol = "Tcp"
        reason = f"{shown}, but Https probes need a standard LB, so the provider falls back to Tcp"
    if rules.force_tcp_without_request_path and protocol != "Tcp":
        has_path = ann.probe_key(port.port, ann.PARAM_REQUEST_PATH) in a or ann.PROBE_REQUEST_PATH in a
        if not has_path:
            sink.note(f"{shown} ignored: {rules.name} keeps a Tcp probe unless a request-path annotation is set")
            return _Protocol("Tcp", f"{shown} but no request-path annotation (1.23-branch guard)", source, value)
    return _Protocol(protocol, reason, source, value)


def build_health_probe_rules_for_port(
    ctx: _Ctx,
    port: ServicePort,
    rule_name: str,
    local_probe: ExpectedProbe | None,
    use_shared: bool,
    sink: _Findings,
) -> ExpectedProbe | None:
    """The per-port probe, or None when the rule uses the Local/shared probe or gets none.

    Steps in the provider's order: shared mode → none; UDP/SCTP → none; probe port from
    ``port_{p}_health-probe_port`` (else the Local probe if any, else the nodePort); protocol; request
    path (per-port key, global key, default); num-of-probe and interval (per-port key, global key,
    5 / 2). The probe is named like the rule. Problems go to ``sink`` (the provider returns an error
    and builds nothing; the best expectation falls back to the next source). Source:
    ``pkg/provider/azure_loadbalancer_healthprobe.go · buildHealthProbeRulesForPort``.
    """
    if use_shared or port.protocol in ("UDP", "SCTP"):
        return None
    a, rules = ctx.annotations, ctx.provider

    # Probe port.
    override = ann.ProbePort(None)
    if rules.per_port_protocol_and_port:
        override = ann.probe_port(a, port, ctx.service.ports, literal_allowed=rules.literal_probe_port)
        sink.problem(override.problem)
    if override.port is not None:
        probe_port = override.port
        where = f"port {probe_port} ({override.how}, {_short(ann.probe_key(port.port, ann.PARAM_PORT))})"
    elif local_probe is not None:
        return None
    else:
        probe_port = port.node_port or 0
        where = f"nodePort {probe_port}"

    proto = select_probe_protocol(ctx, port, sink)
    reasons = [proto.reason]

    path: str | None = None
    if proto.protocol in ("Http", "Https"):
        per_port_key = ann.probe_key(port.port, ann.PARAM_REQUEST_PATH)
        if per_port_key in a:
            path = a[per_port_key]
            reasons.append(f"{_short(per_port_key)}={path}")
        elif ann.PROBE_REQUEST_PATH in a:
            path = a[ann.PROBE_REQUEST_PATH]
            reasons.append(f"request-path annotation {path}")
        else:
            path = rules.default_request_path
            reasons.append("no request-path annotation")

    context = (
        f"failed to parse health probe config for port {port.port}: " if rules.local_honours_probe_annotations else None
    )
    timing = ann.probe_timing(a, port.port, context=context)
    for problem in timing.problems:
        sink.problem(problem)

    path_part = f" path {path}" if path is not None else ""
    return ExpectedProbe(
        name=rule_name,
        protocol=proto.protocol,
        port=probe_port,
        request_path=path,
        interval=timing.interval,
        threshold=timing.threshold,
        threshold_field=ctx.threshold_field,
        shared=False,
        why=f"{proto.protocol} on {where}{path_part}: {', '.join(reasons)}",
    )


# ---------------------------------------------------------------------------------------------
# Rules


@record(frozen=True)
class _RuleProps:
    protocol: str
    frontend_port: int
    backend_port: int
    enable_floating_ip: bool
    idle_timeout: int | None
    enable_tcp_reset: bool | None
    load_distribution: str


def get_expected_load_balancing_rule_properties_for_port(
    ctx: _Ctx, port: int, node_port: int, transport: str, pool: str, error_prefix: str
) -> _RuleProps:
    """Rule properties for one port: frontend/backend port, floating IP, idle timeout, TCP reset,
    load distribution.

    ``ClientIP`` affinity → ``SourceIP``; idle timeout from the annotation (4 when unset, validated);
    TCP reset only on ``Tcp`` rules of a standard LB; an internal Service on an IPv6 pool gets floating
    IP off and ``backendPort = nodePort``. Source:
    ``pkg/provider/azure_loadbalancer.go · getExpectedLoadBalancingRulePropertiesForPort``.
    """
    a = ctx.annotations
    distribution = "SourceIP" if ctx.service.session_affinity == "ClientIP" else "Default"
    idle: int | None
    if transport != "Tcp" and not ctx.provider.idle_timeout_on_udp:
        idle = None
    else:
        idle, problem = ann.idle_timeout(a, ctx.provider.idle_timeout_max)
        if problem is not None:
            ctx.findings.problem(replace(problem, message=error_prefix + problem.message))
    tcp_reset = None
    if transport == "Tcp" and ctx.cluster.standard:
        tcp_reset = not ann.is_true(a, ann.DISABLE_TCP_RESET)
    backend, floating = port, True
    if ann.internal_any_case(a) and names.is_ipv6_pool(pool):
        # An internal LB cannot use floating IP on IPv6: the rule targets nodeIP:nodePort.
        backend, floating = node_port, False
    return _RuleProps(transport, port, backend, floating, idle, tcp_reset, distribution)


def _rule(
    ctx: _Ctx,
    name: str,
    family: str,
    port: ServicePort | None,
    props: _RuleProps,
    pool: str,
    probe: ExpectedProbe | None,
    no_probe_why: str | None,
    *,
    ha_ports: bool = False,
) -> ExpectedRule:
    return ExpectedRule(
        name=name,
        family=family,
        service_port=port,
        protocol=props.protocol,
        frontend_port=props.frontend_port,
        backend_port=props.backend_port,
        enable_floating_ip=props.enable_floating_ip,
        idle_timeout=props.idle_timeout,
        enable_tcp_reset=props.enable_tcp_reset,
        load_distribution=props.load_distribution,
        frontend_name=names.frontend_name(ctx.prefix, subnet=ctx.subnet, dual_stack=ctx.dual_stack, family=family),
        pool_name=pool,
        probe=probe,
        no_probe_why=None if probe is not None else no_probe_why,
        ha_ports=ha_ports,
    )


def _ha_ports_enabled(ctx: _Ctx) -> bool:
    """HA ports: internal (any case), standard SKU, ``enable-high-availability-ports: true``."""
    a = ctx.annotations
    return ann.internal_any_case(a) and ctx.cluster.standard and ann.is_true(a, ann.HA_PORTS)


def get_expected_ha_mode_rule(ctx: _Ctx, family: str, local_probe: ExpectedProbe | None, pool: str) -> ExpectedRule:
    """The single HA-ports rule: named after ``spec.ports[0]``, ``All``, ports 0/0, TCP reset on unless
    disabled (whatever the protocol); the floating-IP annotation is not applied.

    Probe: the Local (or shared) probe, else the first port, in order, whose per-port probe builds
    without error; errors are swallowed (problems become non-fatal). Source:
    ``pkg/provider/azure_loadbalancer.go · getExpectedLBRules`` (HA branch),
    ``getExpectedHAModeLoadBalancingRuleProperties``, ``pkg/provider/azure_standard.go ·
    getloadbalancerHAmodeRuleName``.
    """
    a = ctx.annotations
    first = ctx.service.ports[0]
    name = ctx.rule_name(first.protocol, first.port, family)
    prefix = "error generate lb rule for ha mod loadbalancer. err: "
    props = get_expected_load_balancing_rule_properties_for_port(ctx, 0, 0, "All", pool, prefix + prefix)
    props = replace(props, enable_tcp_reset=not ann.is_true(a, ann.DISABLE_TCP_RESET))
    if ann.is_true(a, ann.DISABLE_FLOATING_IP):
        ctx.findings.note(f"{_short(ann.DISABLE_FLOATING_IP)} is not applied to the HA-ports rule")

    probe = local_probe
    why_none = None
    if probe is None:
        for port in ctx.service.ports:
            scratch = _Findings()
            candidate = build_health_probe_rules_for_port(ctx, port, name, None, False, scratch)
            for problem in scratch.problems:
                ctx.findings.problem(replace(problem, fatal=False))
            for text in scratch.notes:
                ctx.findings.note(text)
            if scratch.problems:
                continue  # the provider got an error for this port and tries the next one
            if candidate is not None:
                probe = candidate
                break
        why_none = "HA ports: no port yields a probe (UDP/SCTP ports get none; ports with probe errors are skipped)"
    return _rule(ctx, name, family, first, props, pool, probe, why_none, ha_ports=True)


def _note_ignored_probe_annotations(ctx: _Ctx, port: ServicePort, why: str) -> None:
    """Say which probe settings have no effect on a port whose rule uses the Local or shared probe."""
    a = ctx.annotations
    keys = [
        (ann.probe_key(port.port, ann.PARAM_PROTOCOL), None),
        (ann.probe_key(port.port, ann.PARAM_REQUEST_PATH), None),
        (ann.PROBE_PROTOCOL, "probe-protocol"),
        (ann.PROBE_REQUEST_PATH, "request-path"),
    ]
    if why == "shared probe mode":
        keys.append((ann.probe_key(port.port, ann.PARAM_PORT), None))
    for key, label in keys:
        if key in a:
            ctx.findings.note(f"{label or _short(key)} annotation ignored: {why}")
    if port.app_protocol is not None and ctx.provider.app_protocol_honoured:
        ctx.findings.note(f"{_port_ref(port)}.appProtocol={port.app_protocol} ignored: {why}")


def get_expected_lb_rules(ctx: _Ctx, family: str) -> list[ExpectedRule]:
    """Rules and probes for one IP family (v1.23.4 and later).

    Step 1 the Local probe; step 2 shared mode replaces it for non-Local Services; step 3 HA ports;
    step 4 one rule per port with ``no_lb_rule`` / ``no_probe_rule``, the SCTP constraint, the rule
    properties, the per-port probe (else the Local/shared probe, else none) and the floating-IP switch.
    Source: ``pkg/provider/azure_loadbalancer.go · getExpectedLBRules``.
    """
    a, rules = ctx.annotations, ctx.provider
    svc = ctx.service
    local_probe = node_endpoint_health_probe(ctx, family)
    use_shared = use_shared_load_balancer_health_probe(ctx)
    if use_shared:
        local_probe = build_cluster_service_shared_probe(ctx)
    pool = names.pool_name(ctx.cluster.cluster_name, family)

    if _ha_ports_enabled(ctx):
        return [get_expected_ha_mode_rule(ctx, family, local_probe, pool)]

    out: list[ExpectedRule] = []
    for port in svc.ports:
        name = ctx.rule_name(port.protocol, port.port, family)
        if rules.per_port_protocol_and_port and ann.is_true(a, ann.port_key(port.port, ann.PORT_NO_LB_RULE)):
            no_lb_rule = _short(ann.port_key(port.port, ann.PORT_NO_LB_RULE))
            ctx.findings.note(f"{no_lb_rule}: no rule and no probe for port {port.port}")
            continue
        if port.protocol == "SCTP" and not (ctx.cluster.standard and ann.internal_any_case(a)):
            ctx.findings.problem(
                AnnotationProblem(
                    ann.INTERNAL,
                    a.get(ann.INTERNAL, ""),
                    "SCTP is only supported on standard loadbalancer in internal mode",
                )
            )
        transport = _TRANSPORT.get(port.protocol)
        if transport is None:
            ctx.findings.problem(
                AnnotationProblem(
                    f"{_port_ref(port)}.protocol",
                    port.protocol,
                    "failed to parse transport protocol: only TCP, UDP and SCTP are supported for Azure LoadBalancers",
                )
            )
            continue
        props = get_expected_load_balancing_rule_properties_for_port(
            ctx,
            port.port,
            port.node_port or 0,
            transport,
            pool,
            "error generate lb rule for ha mod loadbalancer. err: ",
        )

        probe: ExpectedProbe | None = None
        why_none: str | None = None
        no_probe_key = ann.port_key(port.port, ann.PORT_NO_PROBE_RULE)
        if rules.per_port_protocol_and_port and ann.is_true(a, no_probe_key):
            why_none = f"{_short(no_probe_key)}=true"
        else:
            per_port = None
            if rules.local_per_port_override or local_probe is None:
                per_port = build_health_probe_rules_for_port(ctx, port, name, local_probe, use_shared, ctx.findings)
            probe = per_port or local_probe
            if probe is not None and probe is local_probe and transport == "Tcp":
                _note_ignored_probe_annotations(ctx, port, "shared probe mode" if use_shared else "Local policy")
            if probe is None:
                why_none = f"{port.protocol} port in servicenodeport mode: no probe for UDP or SCTP ports"

        if ann.is_true(a, ann.DISABLE_FLOATING_IP):
            props = replace(props, backend_port=port.node_port or 0, enable_floating_ip=False)
        out.append(_rule(ctx, name, family, port, props, pool, probe, why_none))
    return out


def _legacy_probe_protocol(ctx: _Ctx, value: str, default: str) -> str:
    """≤ v1.23.3 passed the global protocol annotation to ARM unchanged; ARM accepts Tcp/Http/Https."""
    protocol = _PROBE_PROTOCOLS.get(value.lower())
    if protocol is None:
        ctx.findings.problem(
            AnnotationProblem(
                ann.PROBE_PROTOCOL,
                value,
                f"{_short(ann.PROBE_PROTOCOL)}={value} is passed to ARM unchanged and is not "
                "a probe protocol ARM accepts (Tcp, Http, Https)",
            )
        )
        return default
    return protocol


def get_expected_lb_rules_legacy(ctx: _Ctx, family: str) -> list[ExpectedRule]:
    """Rules and probes of providers up to v1.23.3.

    ``appProtocol`` is ignored; the probe protocol comes from the global annotation (also for Local
    Services, whose probe is named after each rule), the request path from the global annotation only
    when that protocol is Http/Https, else ``/healthz``; interval 5 and ``numberOfProbes`` 2 are fixed.
    HA ports (or an SCTP port) on an internal standard LB turn the current rule into ``All`` 0/0 and
    end the loop. Idle timeout only on TCP rules. Source: ``pkg/provider/azure_loadbalancer.go ·
    getExpectedLBRules`` and ``parseHealthProbeProtocolAndPath`` before commit 237b65e93.
    """
    a, svc = ctx.annotations, ctx.service
    pool = names.pool_name(ctx.cluster.cluster_name, family)
    protocol_annotation = a.get(ann.PROBE_PROTOCOL)
    request_path = None
    if protocol_annotation is not None and protocol_annotation.lower() in ("http", "https"):
        request_path = a.get(ann.PROBE_REQUEST_PATH)
    needs_local = svc.type == "LoadBalancer" and svc.external_traffic_policy == "Local"
    h = svc.health_check_node_port or 0

    out: list[ExpectedRule] = []
    ha_enabled = False
    for port in svc.ports:
        if not ann.requires_internal(a) and port.protocol == "SCTP":
            ctx.findings.problem(
                AnnotationProblem(
                    ann.INTERNAL, a.get(ann.INTERNAL, ""), "SCTP is only supported on internal LoadBalancer"
                )
            )
        if ha_enabled:
            break
        name = ctx.rule_name(port.protocol, port.port, family)
        transport = _TRANSPORT.get(port.protocol)
        if transport is None:
            ctx.findings.problem(
                AnnotationProblem(
                    f"{_port_ref(port)}.protocol",
                    port.protocol,
                    "Only TCP and UDP are supported for Azure LoadBalancers",
                )
            )
            continue

        probe: ExpectedProbe | None = None
        if needs_local:
            protocol = _legacy_probe_protocol(ctx, protocol_annotation, "Http") if protocol_annotation else "Http"
            path = (request_path or LOCAL_PROBE_PATH) if protocol in ("Http", "Https") else None
            source = (
                f"{_short(ann.PROBE_PROTOCOL)}={protocol_annotation}"
                if protocol_annotation
                else "externalTrafficPolicy is Local"
            )
            probe = ExpectedProbe(
                name,
                protocol,
                h,
                path,
                5,
                2,
                ctx.threshold_field,
                False,
                f"{protocol} on healthCheckNodePort {h}{f' {path}' if path else ''}: {source}",
            )
        elif port.protocol not in ("UDP", "SCTP"):
            protocol = _legacy_probe_protocol(ctx, protocol_annotation, "Tcp") if protocol_annotation else "Tcp"
            path = (request_path or "/healthz") if protocol != "Tcp" else None
            if protocol_annotation:
                source = f"{_short(ann.PROBE_PROTOCOL)}={protocol_annotation}"
            elif port.app_protocol is not None:
                source = f"no probe-protocol annotation ({_port_ref(port)}.appProtocol not read)"
            else:
                source = "no probe-protocol annotation"
            node_port = port.node_port or 0
            probe = ExpectedProbe(
                name,
                protocol,
                node_port,
                path,
                5,
                2,
                ctx.threshold_field,
                False,
                f"{protocol} on nodePort {node_port}{f' path {path}' if path else ''}: {source}",
            )
        if port.app_protocol is not None:
            ctx.findings.note(f"{_port_ref(port)}.appProtocol={port.app_protocol} is not read by {ctx.provider.name}")

        props = get_expected_load_balancing_rule_properties_for_port(
            ctx, port.port, port.node_port or 0, transport, pool, ""
        )
        props = replace(props, enable_tcp_reset=True if ctx.cluster.standard else None)
        ha_ports = False
        if (
            ann.requires_internal(a)
            and ctx.cluster.standard
            and (ann.is_true(a, ann.HA_PORTS) or port.protocol == "SCTP")
        ):
            props = replace(props, protocol="All", frontend_port=0, backend_port=0)
            ha_enabled = ha_ports = True
        out.append(_rule(ctx, name, family, port, props, pool, probe, "UDP/SCTP port: no probe", ha_ports=ha_ports))
    return out


# ---------------------------------------------------------------------------------------------
# Entry point


def expect_service(service: Service, provider: ProviderRules, cluster: ClusterSettings) -> Expectation:
    """What the provider would configure for ``service``: frontends, rules, probes, and its objections.

    A non-LoadBalancer Service, one with ``loadBalancerClass``, or one without ports gets no rules.
    IPv4 is reconciled before IPv6, as the provider does. Source:
    ``pkg/provider/azure_loadbalancer.go · reconcileLoadBalancer``.
    """
    a = service.annotations
    internal = ann.requires_internal(a)
    prefix = names.service_prefix(service.uid)
    ctx = _Ctx(
        service=service,
        provider=provider,
        cluster=cluster,
        prefix=prefix,
        subnet=ann.internal_subnet(a),
        dual_stack=ann.is_dual_stack(service),
    )
    findings = ctx.findings
    value = a.get(ann.INTERNAL)
    if value is not None and value != "true" and value.lower() == "true":
        findings.note(
            f"internal annotation {value!r} is not exactly 'true': the Service gets the public LB, "
            "while HA ports, SCTP and the NSG logic treat it as internal"
        )
    lb = names.lb_name(cluster.cluster_name, internal)

    managed = service.type == "LoadBalancer" and service.load_balancer_class is None
    if not managed:
        why = (
            f"spec.type is {service.type}"
            if service.type != "LoadBalancer"
            else f"spec.loadBalancerClass is {service.load_balancer_class}"
        )
        findings.note(f"{why}: the Azure cloud provider builds nothing for this Service")
        return Expectation(prefix, internal, lb, (), (), (), (), tuple(findings.notes), provider)

    families = ip_families_enabled(service)
    frontends = tuple(expected_frontend(ctx, f, internal) for f in families)
    rules: list[ExpectedRule] = []
    if not service.ports:
        findings.note("the Service has no ports: no rules")
    else:
        for family in families:
            if provider.legacy_probes:
                rules += get_expected_lb_rules_legacy(ctx, family)
            else:
                rules += get_expected_lb_rules(ctx, family)

    probes: list[ExpectedProbe] = []
    for rule in rules:
        if rule.probe is not None and rule.probe not in probes:
            probes.append(rule.probe)
    return Expectation(
        prefix=prefix,
        internal=internal,
        lb_name=lb,
        frontends=frontends,
        rules=tuple(rules),
        probes=tuple(probes),
        problems=tuple(findings.problems),
        notes=tuple(findings.notes),
        provider=provider,
    )


# ---------------------------------------------------------------------------------------------
# Backend pool membership (§7.3)


def go_parse_bool(text: str) -> bool | None:
    """``strconv.ParseBool``: None when Go reports an error."""
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None


def is_control_plane_node(node: Node) -> bool:
    """Labels ``node-role.kubernetes.io/control-plane`` or ``…/master`` (any value), or
    ``kubernetes.io/role=master``. Source: ``pkg/provider/azure_standard.go · isControlPlaneNode``."""
    return any(label in node.labels for label in CONTROL_PLANE_LABELS) or node.labels.get(ROLE_LABEL) == "master"


def should_node_excluded_from_load_balancer(
    node: Node, provider: ProviderRules, cluster: ClusterSettings
) -> str | None:
    """Layer B exclusions that also remove the node from the pool; the reason, or None.

    Resource-group label different from the cluster's; ``kubernetes.azure.com/managed=false``; the
    exclude label present with **any** value (even ``"false"``); on v1.23–v1.27 providers, NotReady
    without the ``uninitialized`` taint. Source: ``pkg/provider/azure.go ·
    ShouldNodeExcludedFromLoadBalancer``, ``updateNodeCaches``.
    """
    labels = node.labels
    node_rg = labels.get(RESOURCE_GROUP_LABEL)
    if node_rg and cluster.node_resource_group and node_rg.lower() != cluster.node_resource_group.lower():
        rg = cluster.node_resource_group
        return f"label {RESOURCE_GROUP_LABEL}={node_rg} is not the cluster resource group {rg}"
    if labels.get(MANAGED_LABEL, "").lower() == "false":
        return f"label {MANAGED_LABEL}={labels[MANAGED_LABEL]}: not managed by the cloud provider"
    if EXCLUDE_LB_LABEL in labels:
        value = labels[EXCLUDE_LB_LABEL]
        short = EXCLUDE_LB_LABEL.split("/", 1)[1]
        if go_parse_bool(value) is True:
            return f"label {short}={value}"
        return (
            f"label {short}={value} (present): the provider excludes on presence, "
            "whatever the value the service controller reads"
        )
    uninitialized = any(t.key == UNINITIALIZED_TAINT for t in node.taints)
    if provider.provider_excludes_not_ready and node.ready is not True and not uninitialized:
        return f"NotReady: {provider.name} excludes NotReady nodes itself"
    return None


def provider_skips_on_add(node: Node, cluster: ClusterSettings) -> str | None:
    """Layer B filters that only skip adding: control-plane nodes on a standard LB (and always in
    ``nodeIP`` pools). Source: ``pkg/provider/azure_vmss.go · ensureHostsInPool``;
    ``azure_loadbalancer_backendpool.go · backendPoolTypeNodeIP.EnsureHostsInPool``."""
    if is_control_plane_node(node) and (cluster.standard or cluster.ip_based_pool):
        return "control-plane node"
    return None


def service_controller_drops(node: Node, provider: ProviderRules) -> list[str]:
    """Layer A: why the service controller leaves the node out of the list it hands the provider.

    ``deletionTimestamp``; the autoscaler deletion taint; NotReady before ``StableLoadBalancerNodeSet``
    (Kubernetes < 1.27); cordoned before Kubernetes 1.19. The exclude label is covered by Layer B.
    Source: ``vendor/k8s.io/cloud-provider/controllers/service/controller.go · stableNodeSetPredicates``.
    """
    reasons = []
    if node.deleting:
        reasons.append("metadata.deletionTimestamp is set")
    if node.autoscaler_deleting:
        reasons.append(f"tainted {AUTOSCALER_DELETION_TAINT}")
    if provider.readiness_predicate and node.ready is not True:
        state = "no Ready condition" if node.ready is None else "NotReady"
        reasons.append(f"{state}: readiness is a pool predicate before Kubernetes 1.27")
    if provider.unschedulable_excluded and node.unschedulable:
        reasons.append("cordoned: unschedulable nodes left LB pools before Kubernetes 1.19")
    return reasons


def pool_membership(node: Node, provider: ProviderRules, cluster: ClusterSettings) -> Membership:
    """Whether the provider keeps ``node`` in the ``<clusterName>`` pool, and why (§7.3).

    Layer B exclusions remove the node. Nodes only skipped on add (control-plane) or filtered by the
    service controller (Layer A) are removed from ``nodeIP`` pools, but a NIC pool keeps them when
    already present (``either``). VM power state, missing instances and NICs in another LB are for the
    caller (ARM evidence); a NIC pool also keeps excluded nodes when removing them would empty it.
    """
    excluded = should_node_excluded_from_load_balancer(node, provider, cluster)
    if excluded is not None:
        return Membership("excluded", excluded)
    reasons = []
    skipped = provider_skips_on_add(node, cluster)
    if skipped is not None:
        reasons.append(skipped)
    reasons += service_controller_drops(node, provider)
    if not reasons:
        return Membership("member", "eligible: no service-controller or provider filter applies")
    if cluster.ip_based_pool:
        return Membership("excluded", "; ".join(reasons))
    return Membership("either", "; ".join(reasons) + " (not added; a NIC-based pool keeps it if already a member)")


def expected_members(nodes: Sequence[Node], provider: ProviderRules, cluster: ClusterSettings) -> dict[str, Membership]:
    """:func:`pool_membership` for every node, by node name."""
    return {node.name: pool_membership(node, provider, cluster) for node in nodes}
