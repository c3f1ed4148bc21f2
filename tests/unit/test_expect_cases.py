"""The expectation engine against aks-lb-rules.md: §6.2 cases, §6.7 versions, §6.3 validation, §5 rules.

Services are built from manifests through the real normaliser so that each case reads like the
Service a user applied.
"""

from __future__ import annotations

from typing import Any

import pytest

from akslbctl.analysis import annotations as ann
from akslbctl.analysis.expect import ClusterSettings, Expectation, ExpectedRule, expect_service
from akslbctl.analysis.provider import ProviderRules, rules_for_ccm
from akslbctl.model.kube import Service
from akslbctl.sources.normalize import service as normalize_service

UID = "7c3e1f09-b2d4-4e6a-1c5f-0e2d3b4a5961"
P = "a7c3e1f09b2d44e6a1c5f0e2d3b4a596"
MASTER = rules_for_ccm("master")
STANDARD = ClusterSettings()
BASIC = ClusterSettings(sku="basic")
SHARED = ClusterSettings(probe_mode="shared", shared_probe_port=10356, shared_probe_path="/healthz")
H = 32001
K = "service.beta.kubernetes.io/"


def port(
    name: str, number: int, node_port: int, protocol: str = "TCP", app: str | None = None
) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": name, "port": number, "nodePort": node_port, "protocol": protocol}
    if app is not None:
        doc["appProtocol"] = app
    return doc


HTTP = port("http", 80, 31380)
HTTPS = port("https", 443, 31443)


def svc(ports: list[dict[str, Any]], annotations: dict[str, str] | None = None, **spec: Any) -> Service:
    spec = {"type": "LoadBalancer", "ports": ports, **spec}
    if spec.get("externalTrafficPolicy") == "Local":
        spec.setdefault("healthCheckNodePort", H)
    return normalize_service(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": "shop", "uid": UID, "annotations": annotations or {}},
            "spec": spec,
        }
    )


def expect(
    service: Service, provider: ProviderRules = MASTER, cluster: ClusterSettings = STANDARD
) -> Expectation:
    return expect_service(service, provider, cluster)


def rule(e: Expectation, name: str) -> ExpectedRule:
    found = e.rule(name)
    assert found is not None, f"no rule {name}; have {[r.name for r in e.rules]}"
    return found


def probe_tuple(r: ExpectedRule) -> tuple | None:
    p = r.probe
    return None if p is None else (p.name, p.protocol, p.port, p.request_path, p.interval, p.threshold)


# ---------------------------------------------------------------------------------------------
# §6.2 — every row of the cases table (current provider)

CASES = [
    pytest.param(
        [HTTP],
        {},
        {},
        STANDARD,
        "TCP-80",
        (f"{P}-TCP-80", "Tcp", 31380, None, 5, 2),
        id="cluster-tcp-no-annotations",
    ),
    pytest.param(
        [port("http", 80, 31380, app="HTTP")],
        {},
        {},
        STANDARD,
        "TCP-80",
        (f"{P}-TCP-80", "Http", 31380, "/", 5, 2),
        id="cluster-appProtocol-http-any-case",
    ),
    pytest.param(
        [port("http", 80, 31380, app="http")],
        {ann.PROBE_REQUEST_PATH: "/healthz"},
        {},
        STANDARD,
        "TCP-80",
        (f"{P}-TCP-80", "Http", 31380, "/healthz", 5, 2),
        id="cluster-appProtocol-http-with-request-path",
    ),
    pytest.param(
        [port("https", 443, 31443, app="https")],
        {},
        {},
        STANDARD,
        "TCP-443",
        (f"{P}-TCP-443", "Https", 31443, "/", 5, 2),
        id="cluster-appProtocol-https-standard",
    ),
    pytest.param(
        [port("https", 443, 31443, app="https")],
        {},
        {},
        BASIC,
        "TCP-443",
        (f"{P}-TCP-443", "Tcp", 31443, None, 5, 2),
        id="cluster-appProtocol-https-basic",
    ),
    pytest.param(
        [port("grpc", 80, 31380, app="tcp")],
        {},
        {},
        STANDARD,
        "TCP-80",
        (f"{P}-TCP-80", "Tcp", 31380, None, 5, 2),
        id="cluster-appProtocol-tcp",
    ),
    pytest.param(
        [port("h2", 80, 31380, app="kubernetes.io/h2c")],
        {},
        {},
        STANDARD,
        "TCP-80",
        (f"{P}-TCP-80", "Tcp", 31380, None, 5, 2),
        id="cluster-appProtocol-unknown",
    ),
    pytest.param(
        [HTTP],
        {ann.PROBE_PROTOCOL: "Http", ann.PROBE_INTERVAL: "10", ann.PROBE_NUM_OF_PROBE: "3"},
        {},
        STANDARD,
        "TCP-80",
        (f"{P}-TCP-80", "Http", 31380, "/", 10, 3),
        id="global-protocol-http-no-appProtocol",
    ),
    pytest.param(
        [HTTP],
        {ann.PROBE_PROTOCOL: "Http", ann.PROBE_REQUEST_PATH: "/ready"},
        {},
        STANDARD,
        "TCP-80",
        (f"{P}-TCP-80", "Http", 31380, "/ready", 5, 2),
        id="global-protocol-http-with-request-path",
    ),
    pytest.param(
        [HTTP, HTTPS],
        {
            f"{K}port_443_health-probe_port": "10256",
            f"{K}port_443_health-probe_protocol": "http",
            f"{K}port_443_health-probe_request-path": "/healthz",
        },
        {},
        STANDARD,
        "TCP-443",
        (f"{P}-TCP-443", "Http", 10256, "/healthz", 5, 2),
        id="per-port-probe-port-protocol-path",
    ),
    pytest.param(
        [HTTP, HTTPS],
        {},
        {"externalTrafficPolicy": "Local"},
        STANDARD,
        "TCP-443",
        (f"{P}-TCP-{H}", "Http", H, "/healthz", 5, 2),
        id="local-no-per-port-probe-port",
    ),
    pytest.param(
        [HTTP, HTTPS],
        {f"{K}port_{H}_health-probe_interval": "10", f"{K}port_{H}_health-probe_num-of-probe": "4"},
        {"externalTrafficPolicy": "Local"},
        STANDARD,
        "TCP-80",
        (f"{P}-TCP-{H}", "Http", H, "/healthz", 10, 4),
        id="local-interval-annotations-keyed-by-H",
    ),
    pytest.param(
        [HTTP, port("status", 15021, 30021)],
        {f"{K}port_80_health-probe_port": "status"},
        {"externalTrafficPolicy": "Local"},
        STANDARD,
        "TCP-80",
        (f"{P}-TCP-80", "Tcp", 30021, None, 5, 2),
        id="local-with-per-port-probe-port",
    ),
    pytest.param(
        [HTTP],
        {ann.PLS_CREATE: "true", ann.PLS_PROXY_PROTOCOL: "true"},
        {"externalTrafficPolicy": "Local"},
        STANDARD,
        "TCP-80",
        (f"{P}-TCP-80", "Tcp", 31380, None, 5, 2),
        id="local-pls-proxy-protocol-cluster-style",
    ),
    pytest.param(
        [HTTP],
        {f"{K}port_80_no_probe_rule": "true"},
        {"externalTrafficPolicy": "Local"},
        STANDARD,
        "TCP-80",
        None,
        id="local-no-probe-rule",
    ),
    pytest.param(
        [port("dns", 53, 30053, protocol="UDP")],
        {ann.PROBE_PROTOCOL: "Http"},
        {},
        SHARED,
        "UDP-53",
        ("cluster-service-shared-health-probe", "Http", 10356, "/healthz", 5, 2),
        id="shared-mode-cluster-udp",
    ),
    pytest.param(
        [port("dns", 53, 30053, protocol="UDP")],
        {},
        {},
        STANDARD,
        "UDP-53",
        None,
        id="udp-cluster-servicenodeport",
    ),
    pytest.param(
        [port("dns", 53, 30053, protocol="SCTP")],
        {ann.INTERNAL: "true"},
        {},
        STANDARD,
        "SCTP-53",
        None,
        id="sctp-cluster-servicenodeport",
    ),
    pytest.param(
        [port("dns", 53, 30053, protocol="UDP")],
        {},
        {"externalTrafficPolicy": "Local"},
        STANDARD,
        "UDP-53",
        (f"{P}-TCP-{H}", "Http", H, "/healthz", 5, 2),
        id="udp-local",
    ),
]


@pytest.mark.parametrize(("ports", "annotations", "spec", "cluster", "rule_suffix", "want"), CASES)
def test_section_6_2_cases(ports, annotations, spec, cluster, rule_suffix, want) -> None:
    e = expect(svc(ports, annotations, **spec), cluster=cluster)
    assert not e.reconcile_fails, e.problems
    r = rule(e, f"{P}-{rule_suffix}")
    assert probe_tuple(r) == want
    if want is not None:
        assert r.probe.threshold_field == "probeThreshold"
        assert r.probe in e.probes


def test_local_probe_is_shared_by_all_rules_of_the_family() -> None:
    e = expect(svc([HTTP, HTTPS, port("dns", 53, 30053, protocol="UDP")], externalTrafficPolicy="Local"))
    assert [r.probe.name for r in e.rules] == [f"{P}-TCP-{H}"] * 3
    assert len(e.probes) == 1
    assert e.probes[0].why == f"Http on healthCheckNodePort {H} /healthz: externalTrafficPolicy is Local"


def test_per_port_local_override_keeps_other_ports_on_local_probe() -> None:
    e = expect(
        svc(
            [HTTP, port("status", 15021, 30021)],
            {f"{K}port_80_health-probe_port": "15021"},
            externalTrafficPolicy="Local",
        )
    )
    assert rule(e, f"{P}-TCP-80").probe.name == f"{P}-TCP-80"
    assert rule(e, f"{P}-TCP-15021").probe.name == f"{P}-TCP-{H}"


def test_cluster_probes_are_one_per_rule_and_not_merged() -> None:
    e = expect(svc([HTTP, port("alt", 8080, 31380)]))
    assert [p.name for p in e.probes] == [f"{P}-TCP-80", f"{P}-TCP-8080"]


def test_shared_mode_ignores_service_probe_annotations_and_says_so() -> None:
    e = expect(svc([HTTP], {ann.PROBE_REQUEST_PATH: "/x", ann.PROBE_PROTOCOL: "Https"}), cluster=SHARED)
    (p,) = e.probes
    assert (p.name, p.port, p.request_path, p.shared) == (
        "cluster-service-shared-health-probe",
        10356,
        "/healthz",
        True,
    )
    assert "request-path annotation ignored: shared probe mode" in e.notes
    assert "probe-protocol annotation ignored: shared probe mode" in e.notes


def test_shared_mode_does_not_change_local_services() -> None:
    e = expect(svc([HTTP], externalTrafficPolicy="Local"), cluster=SHARED)
    assert probe_tuple(e.rules[0]) == (f"{P}-TCP-{H}", "Http", H, "/healthz", 5, 2)


def test_appprotocol_http_trap_why_names_the_cause() -> None:
    e = expect(svc([port("http", 80, 31380, app="http")]))
    assert e.rules[0].probe.why == (
        "Http on nodePort 31380 path /: spec.ports[http].appProtocol=http, no request-path annotation"
    )


def test_local_policy_ignores_request_path_and_app_protocol() -> None:
    e = expect(
        svc(
            [port("http", 80, 31380, app="http")],
            {ann.PROBE_REQUEST_PATH: "/ready"},
            externalTrafficPolicy="Local",
        )
    )
    assert e.rules[0].probe.request_path == "/healthz"
    assert "request-path annotation ignored: Local policy" in e.notes
    assert "spec.ports[http].appProtocol=http ignored: Local policy" in e.notes


def test_udp_without_probe_explains_why() -> None:
    e = expect(svc([port("dns", 53, 30053, protocol="UDP")]))
    assert e.rules[0].probe is None
    assert e.rules[0].no_probe_why == "UDP port in servicenodeport mode: no probe for UDP or SCTP ports"


def test_no_probe_rule_explains_why() -> None:
    e = expect(svc([HTTP], {f"{K}port_80_no_probe_rule": "TRUE"}))
    assert e.rules[0].no_probe_why == "port_80_no_probe_rule=true"


def test_no_lb_rule_drops_rule_and_probe() -> None:
    e = expect(svc([HTTP, port("status", 15021, 30021)], {f"{K}port_15021_no_lb_rule": "True"}))
    assert [r.name for r in e.rules] == [f"{P}-TCP-80"]
    assert [p.name for p in e.probes] == [f"{P}-TCP-80"]


# ---------------------------------------------------------------------------------------------
# §6.7 — each CCM row shows its behaviour flip (one release before, one after)


def test_v1_23_4_honours_app_protocol() -> None:
    s = svc([port("http", 80, 31380, app="http")])
    assert probe_tuple(expect(s, rules_for_ccm("1.23.3")).rules[0])[1:4] == ("Tcp", 31380, None)
    assert probe_tuple(expect(s, rules_for_ccm("1.23.4")).rules[0])[1:4] == ("Http", 31380, "/healthz")


def test_v1_23_4_names_the_local_probe_after_h() -> None:
    s = svc([HTTP, HTTPS], externalTrafficPolicy="Local")
    legacy = expect(s, rules_for_ccm("1.23.3"))
    assert [r.probe.name for r in legacy.rules] == [f"{P}-TCP-80", f"{P}-TCP-443"]
    assert all(r.probe.port == H and r.probe.threshold_field == "numberOfProbes" for r in legacy.rules)
    modern = expect(s, rules_for_ccm("1.23.4"))
    assert [r.probe.name for r in modern.rules] == [f"{P}-TCP-{H}"] * 2


def test_legacy_global_protocol_annotation_overrides_local_probe() -> None:
    s = svc([HTTP], {ann.PROBE_PROTOCOL: "Tcp"}, externalTrafficPolicy="Local")
    assert probe_tuple(expect(s, rules_for_ccm("1.23.3")).rules[0])[1:4] == ("Tcp", H, None)
    assert probe_tuple(expect(s, rules_for_ccm("1.23.4")).rules[0])[1:4] == ("Http", H, "/healthz")


def test_legacy_request_path_needs_protocol_annotation() -> None:
    only_path = svc([HTTP], {ann.PROBE_REQUEST_PATH: "/ready"})
    assert probe_tuple(expect(only_path, rules_for_ccm("1.23.3")).rules[0])[1:4] == ("Tcp", 31380, None)
    both = svc([HTTP], {ann.PROBE_REQUEST_PATH: "/ready", ann.PROBE_PROTOCOL: "http"})
    assert probe_tuple(expect(both, rules_for_ccm("1.23.3")).rules[0])[1:4] == ("Http", 31380, "/ready")


def test_v1_23_4_to_v1_23_8_unknown_app_protocol_is_an_error_then_tcp() -> None:
    s = svc([port("grpc", 80, 31380, app="grpc")])
    old = expect(s, rules_for_ccm("1.23.8"))
    assert old.reconcile_fails
    assert old.problems[0].annotation == "spec.ports[grpc].appProtocol"
    new = expect(s, rules_for_ccm("1.23.9"))
    assert not new.problems
    assert new.rules[0].probe.protocol == "Tcp"


def test_v1_23_9_default_path_becomes_root() -> None:
    s = svc([port("http", 80, 31380, app="http")])
    assert expect(s, rules_for_ccm("1.23.8")).rules[0].probe.request_path == "/healthz"
    assert expect(s, rules_for_ccm("1.23.9")).rules[0].probe.request_path == "/"
    assert expect(s, rules_for_ccm("1.24.0")).rules[0].probe.request_path == "/"


def test_v1_23_11_guard_forces_tcp_without_request_path() -> None:
    s = svc([port("http", 80, 31380, app="http")])
    assert expect(s, rules_for_ccm("1.23.10")).rules[0].probe.protocol == "Http"
    guarded = expect(s, rules_for_ccm("1.23.11"))
    assert guarded.rules[0].probe.protocol == "Tcp"
    assert guarded.rules[0].probe.request_path is None
    with_path = svc([port("http", 80, 31380, app="http")], {ann.PROBE_REQUEST_PATH: "/healthz"})
    assert probe_tuple(expect(with_path, rules_for_ccm("1.23.11")).rules[0])[1:4] == (
        "Http",
        31380,
        "/healthz",
    )
    assert expect(s, rules_for_ccm("1.24")).rules[0].probe.protocol == "Http"  # 1.24 never got it


def test_v1_24_12_per_port_protocol_and_no_lb_rule() -> None:
    s = svc(
        [port("http", 80, 31380, app="http"), port("status", 15021, 30021)],
        {f"{K}port_80_health-probe_protocol": "tcp", f"{K}port_15021_no_lb_rule": "true"},
    )
    old = expect(s, rules_for_ccm("1.24.11"))
    assert rule(old, f"{P}-TCP-80").probe.protocol == "Http"
    assert len(old.rules) == 2
    new = expect(s, rules_for_ccm("1.24.12"))
    assert rule(new, f"{P}-TCP-80").probe.protocol == "Tcp"
    assert [r.name for r in new.rules] == [f"{P}-TCP-80"]


def test_v1_24_18_threshold_field() -> None:
    s = svc([HTTP])
    assert expect(s, rules_for_ccm("1.24.17")).probes[0].threshold_field == "numberOfProbes"
    assert expect(s, rules_for_ccm("1.24.18")).probes[0].threshold_field == "probeThreshold"


def test_v1_24_20_local_with_pls_proxy_protocol() -> None:
    s = svc([HTTP], {ann.PLS_CREATE: "true", ann.PLS_PROXY_PROTOCOL: "true"}, externalTrafficPolicy="Local")
    assert expect(s, rules_for_ccm("1.24.19")).probes[0].name == f"{P}-TCP-{H}"
    assert probe_tuple(expect(s, rules_for_ccm("1.24.20")).rules[0])[:3] == (f"{P}-TCP-80", "Tcp", 31380)


def test_v1_25_16_local_probe_honours_interval_annotations() -> None:
    s = svc([HTTP], {f"{K}port_{H}_health-probe_interval": "10"}, externalTrafficPolicy="Local")
    assert expect(s, rules_for_ccm("1.25.15")).probes[0].interval == 5
    assert expect(s, rules_for_ccm("1.25.16")).probes[0].interval == 10


def test_v1_25_17_literal_probe_port() -> None:
    s = svc([HTTP], {f"{K}port_80_health-probe_port": "10256"})
    old = expect(s, rules_for_ccm("1.25.16"))
    assert old.reconcile_fails
    assert (
        old.problems[0].message
        == f"failed to parse annotation {K}port_80_health-probe_port: port 10256 not found in service"
    )
    new = expect(s, rules_for_ccm("1.25.17"))
    assert not new.problems
    assert new.probes[0].port == 10256


def test_v1_25_17_idle_timeout_maximum_100() -> None:
    s = svc([HTTP], {ann.IDLE_TIMEOUT: "60"})
    old = expect(s, rules_for_ccm("1.25.16"))
    assert old.reconcile_fails
    assert "between 4 and 30, actual value: 60" in old.problems[0].message
    new = expect(s, rules_for_ccm("1.25.17"))
    assert not new.problems
    assert new.rules[0].idle_timeout == 60


def test_v1_25_19_per_port_probe_port_overrides_local() -> None:
    s = svc(
        [HTTP, port("status", 15021, 30021)],
        {f"{K}port_80_health-probe_port": "status"},
        externalTrafficPolicy="Local",
    )
    assert rule(expect(s, rules_for_ccm("1.25.18")), f"{P}-TCP-80").probe.name == f"{P}-TCP-{H}"
    assert probe_tuple(rule(expect(s, rules_for_ccm("1.25.19")), f"{P}-TCP-80"))[:3] == (
        f"{P}-TCP-80",
        "Tcp",
        30021,
    )


def test_v1_28_5_shared_probe_mode() -> None:
    s = svc([HTTP])
    old = expect(s, rules_for_ccm("1.28.4"), SHARED)
    assert old.probes[0].name == f"{P}-TCP-80"
    assert any("predates shared probes" in n for n in old.notes)
    assert expect(s, rules_for_ccm("1.28.5"), SHARED).probes[0].name == "cluster-service-shared-health-probe"


def test_legacy_idle_timeout_only_on_tcp_rules() -> None:
    s = svc([HTTP, port("dns", 53, 30053, protocol="UDP")], {ann.IDLE_TIMEOUT: "10"})
    legacy = expect(s, rules_for_ccm("1.23.3"))
    assert [r.idle_timeout for r in legacy.rules] == [10, None]
    assert [r.idle_timeout for r in expect(s).rules] == [10, 10]


# ---------------------------------------------------------------------------------------------
# §6.3 — validation through the engine, with the provider's error texts


def test_per_port_interval_error_is_wrapped_with_port_context() -> None:
    s = svc([HTTP], {f"{K}port_80_health-probe_interval": "3", ann.PROBE_INTERVAL: "15"})
    e = expect(s)
    assert e.reconcile_fails
    (p,) = e.problems
    assert p.message == (
        "failed to parse health probe config for port 80: failed to parse annotation "
        f"{K}port_80_health-probe_interval:error parsing value: the minimum value of interval is 5"
    )
    assert e.probes[0].interval == 15  # the best expectation falls back to the global annotation


def test_per_port_interval_error_unwrapped_before_v1_25_16() -> None:
    s = svc([HTTP], {f"{K}port_80_health-probe_interval": "3"})
    (p,) = expect(s, rules_for_ccm("1.25.15")).problems
    assert p.message.startswith(
        f"failed to parse annotation {K}port_80_health-probe_interval:error parsing value"
    )


def test_local_probe_annotation_error_is_unwrapped() -> None:
    s = svc([HTTP], {f"{K}port_{H}_health-probe_num-of-probe": "1"}, externalTrafficPolicy="Local")
    (p,) = expect(s).problems
    assert p.message == (
        f"failed to parse annotation {K}port_{H}_health-probe_num-of-probe: "
        "error parsing value: the minimum value of num-of-probe is 2"
    )


def test_total_probe_duration_error() -> None:
    s = svc([HTTP], {ann.PROBE_INTERVAL: "30", ann.PROBE_NUM_OF_PROBE: "4"})
    (p,) = expect(s).problems
    assert p.message == (
        "failed to parse health probe config for port 80: total probe should be less than 120, "
        "please adjust interval and number of probe accordingly"
    )


def test_invalid_probe_port_fails_even_for_local_services() -> None:
    s = svc([HTTP], {f"{K}port_80_health-probe_port": "metrics"}, externalTrafficPolicy="Local")
    e = expect(s)
    assert e.reconcile_fails
    assert (
        e.problems[0].message
        == f"failed to parse annotation {K}port_80_health-probe_port: port metrics not found in service"
    )
    assert e.rules[0].probe.name == f"{P}-TCP-{H}"  # best expectation once the annotation is fixed


def test_out_of_range_probe_port() -> None:
    (p,) = expect(svc([HTTP], {f"{K}port_80_health-probe_port": "70000"})).problems
    assert p.message == f"failed to parse annotation {K}port_80_health-probe_port: port 70000 is out of range"


def test_idle_timeout_error_text_and_best_expectation() -> None:
    e = expect(svc([HTTP], {ann.IDLE_TIMEOUT: "200"}))
    (p,) = e.problems
    assert p.message == (
        "error generate lb rule for ha mod loadbalancer. err: error parsing idle timeout key: "
        f"{ann.IDLE_TIMEOUT}, err: error parsing value: "
        "idle timeout value must be a whole number representing minutes between 4 and 100, actual value: 200"
    )
    assert e.rules[0].idle_timeout == 4


def test_sctp_on_public_lb_fails() -> None:
    e = expect(svc([port("s", 9000, 30900, protocol="SCTP")]))
    assert e.reconcile_fails
    assert e.problems[0].message == "SCTP is only supported on standard loadbalancer in internal mode"


def test_sctp_on_basic_internal_lb_fails() -> None:
    e = expect(svc([port("s", 9000, 30900, protocol="SCTP")], {ann.INTERNAL: "true"}), cluster=BASIC)
    assert e.reconcile_fails


def test_valid_service_has_no_problems() -> None:
    e = expect(svc([HTTP], {ann.PROBE_INTERVAL: "10", ann.PROBE_NUM_OF_PROBE: "3", ann.IDLE_TIMEOUT: "30"}))
    assert e.problems == ()
    assert not e.reconcile_fails


def test_problems_are_not_repeated_per_family() -> None:
    s = svc([HTTP], {ann.PROBE_INTERVAL: "1"}, ipFamilies=["IPv4", "IPv6"], ipFamilyPolicy="RequireDualStack")
    assert len(expect(s).problems) == 1


# ---------------------------------------------------------------------------------------------
# §5.2 — rule properties


def test_worked_example_section_5_5() -> None:
    e = expect(svc([port("http", 80, 31234)]))
    assert (e.lb_name, e.prefix, e.internal) == ("kubernetes", P, False)
    (fe,) = e.frontends
    assert (fe.name, fe.pip_name, fe.internal) == (P, f"kubernetes-{P}", False)
    (r,) = e.rules
    assert (r.name, r.protocol, r.frontend_port, r.backend_port) == (f"{P}-TCP-80", "Tcp", 80, 80)
    assert (r.enable_floating_ip, r.idle_timeout, r.enable_tcp_reset, r.load_distribution) == (
        True,
        4,
        True,
        "Default",
    )
    assert (r.frontend_name, r.pool_name) == (P, "kubernetes")
    assert probe_tuple(r) == (f"{P}-TCP-80", "Tcp", 31234, None, 5, 2)


def test_floating_ip_off_targets_node_port() -> None:
    r = expect(svc([HTTP], {ann.DISABLE_FLOATING_IP: "True"})).rules[0]
    assert (r.frontend_port, r.backend_port, r.enable_floating_ip) == (80, 31380, False)


def test_idle_timeout_applies_to_every_rule() -> None:
    e = expect(svc([HTTP, port("dns", 53, 30053, protocol="UDP")], {ann.IDLE_TIMEOUT: "30"}))
    assert [r.idle_timeout for r in e.rules] == [30, 30]


def test_tcp_reset_only_on_tcp_rules_of_a_standard_lb() -> None:
    e = expect(svc([HTTP, port("dns", 53, 30053, protocol="UDP")]))
    assert [(r.protocol, r.enable_tcp_reset) for r in e.rules] == [("Tcp", True), ("Udp", None)]
    assert expect(svc([HTTP], {ann.DISABLE_TCP_RESET: "true"})).rules[0].enable_tcp_reset is False
    assert expect(svc([HTTP]), cluster=BASIC).rules[0].enable_tcp_reset is None


def test_sctp_becomes_all_on_internal_standard_lb() -> None:
    e = expect(svc([port("s", 9000, 30900, protocol="SCTP")], {ann.INTERNAL: "true"}))
    assert not e.problems
    (r,) = e.rules
    assert (r.name, r.protocol, r.frontend_port, r.backend_port, r.probe) == (
        f"{P}-SCTP-9000",
        "All",
        9000,
        9000,
        None,
    )


def test_client_ip_affinity_means_source_ip() -> None:
    assert expect(svc([HTTP], sessionAffinity="ClientIP")).rules[0].load_distribution == "SourceIP"


# ---------------------------------------------------------------------------------------------
# §5.4 — HA ports


HA = {ann.INTERNAL: "true", ann.HA_PORTS: "true"}


def test_ha_ports_one_rule_named_after_first_port() -> None:
    e = expect(svc([port("dns", 53, 30053, protocol="UDP"), HTTP, HTTPS], dict(HA)))
    (r,) = e.rules
    assert r.ha_ports
    assert (r.name, r.protocol, r.frontend_port, r.backend_port) == (f"{P}-UDP-53", "All", 0, 0)
    assert (r.enable_floating_ip, r.enable_tcp_reset) == (True, True)
    # The first port that yields a probe is the TCP port 80; the probe is named like the HA rule.
    assert probe_tuple(r) == (f"{P}-UDP-53", "Tcp", 31380, None, 5, 2)
    assert e.lb_name == "kubernetes-internal"


def test_ha_ports_with_local_uses_local_probe() -> None:
    r = expect(svc([HTTP], dict(HA), externalTrafficPolicy="Local")).rules[0]
    assert r.probe.name == f"{P}-TCP-{H}"


def test_ha_ports_swallow_per_port_probe_errors() -> None:
    s = svc([HTTP, HTTPS], {**HA, f"{K}port_80_health-probe_port": "nope"})
    e = expect(s)
    assert not e.reconcile_fails
    (p,) = e.problems
    assert p.fatal is False
    assert e.rules[0].probe.port == 31443  # port 80 failed, port 443 gives the probe


def test_ha_ports_ignore_floating_ip_annotation() -> None:
    e = expect(svc([HTTP], {**HA, ann.DISABLE_FLOATING_IP: "true"}))
    assert e.rules[0].enable_floating_ip is True
    assert any("not applied to the HA-ports rule" in n for n in e.notes)


def test_ha_ports_disable_tcp_reset() -> None:
    assert expect(svc([HTTP], {**HA, ann.DISABLE_TCP_RESET: "true"})).rules[0].enable_tcp_reset is False


def test_ha_ports_with_internal_true_capitalised_uses_public_lb() -> None:
    e = expect(svc([HTTP, HTTPS], {ann.INTERNAL: "True", ann.HA_PORTS: "true"}))
    assert (e.internal, e.lb_name) == (False, "kubernetes")
    assert len(e.rules) == 1 and e.rules[0].ha_ports
    assert any("is not exactly 'true'" in n for n in e.notes)
    assert e.frontends[0].pip_name == f"kubernetes-{P}"


def test_ha_ports_need_standard_sku() -> None:
    e = expect(svc([HTTP, HTTPS], dict(HA)), cluster=BASIC)
    assert [r.protocol for r in e.rules] == ["Tcp", "Tcp"]


# ---------------------------------------------------------------------------------------------
# Dual-stack, single-stack IPv6, internal subnets, frontends


DUAL = {"ipFamilies": ["IPv4", "IPv6"], "ipFamilyPolicy": "RequireDualStack"}


def test_dual_stack_names() -> None:
    e = expect(svc([HTTP], **DUAL))
    assert [(r.name, r.family, r.pool_name, r.frontend_name) for r in e.rules] == [
        (f"{P}-TCP-80", "IPv4", "kubernetes", P),
        (f"{P}-TCP-80-IPv6", "IPv6", "kubernetes-IPv6", f"{P}-IPv6"),
    ]
    assert [p.name for p in e.probes] == [f"{P}-TCP-80", f"{P}-TCP-80-IPv6"]
    assert [(f.name, f.pip_name) for f in e.frontends] == [
        (P, f"kubernetes-{P}"),
        (f"{P}-IPv6", f"kubernetes-{P}-IPv6"),
    ]


def test_dual_stack_local_probes() -> None:
    e = expect(svc([HTTP], externalTrafficPolicy="Local", **DUAL))
    assert [p.name for p in e.probes] == [f"{P}-TCP-{H}", f"{P}-TCP-{H}-IPv6"]


def test_dual_stack_internal_ipv6_rule_has_floating_ip_off() -> None:
    e = expect(svc([HTTP], {ann.INTERNAL: "true"}, **DUAL))
    v4, v6 = e.rules
    assert (v4.backend_port, v4.enable_floating_ip) == (80, True)
    assert (v6.backend_port, v6.enable_floating_ip) == (31380, False)


def test_single_stack_ipv6_has_no_suffix_but_ipv6_pool() -> None:
    e = expect(svc([HTTP], {ann.INTERNAL: "true"}, ipFamilies=["IPv6"]))
    (r,) = e.rules
    assert (r.name, r.family, r.pool_name, r.frontend_name) == (f"{P}-TCP-80", "IPv6", "kubernetes-IPv6", P)
    assert (r.backend_port, r.enable_floating_ip) == (31380, False)


def test_internal_subnet_names() -> None:
    e = expect(svc([HTTP], {ann.INTERNAL: "true", ann.INTERNAL_SUBNET: "apps"}))
    (fe,) = e.frontends
    assert (fe.name, fe.internal, fe.subnet, fe.pip_name) == (f"{P}-apps", True, "apps", None)
    assert e.rules[0].name == f"{P}-apps-TCP-80"
    assert e.rules[0].probe.name == f"{P}-apps-TCP-80"
    assert e.lb_name == "kubernetes-internal"


def test_subnet_annotation_ignored_on_public_service() -> None:
    e = expect(svc([HTTP], {ann.INTERNAL_SUBNET: "apps"}))
    assert e.rules[0].name == f"{P}-TCP-80"


def test_frontend_pip_from_annotation_and_pinned_ip() -> None:
    e = expect(svc([HTTP], {ann.PIP_NAME: "my-ip"}))
    assert e.frontends[0].pip_name == "my-ip"
    pinned = expect(svc([HTTP], loadBalancerIP="20.1.2.3"))
    assert (pinned.frontends[0].pinned_ip, pinned.frontends[0].pip_name) == ("20.1.2.3", None)
    prefix = expect(svc([HTTP], {ann.PIP_PREFIX_ID: "/s/x/publicIPPrefixes/pfx"}))
    assert prefix.frontends[0].pip_name == f"kubernetes-{P}-pfx"


def test_custom_cluster_name_names_pool_and_pip() -> None:
    e = expect(svc([HTTP]), cluster=ClusterSettings(cluster_name="prod"))
    assert (e.lb_name, e.rules[0].pool_name, e.frontends[0].pip_name) == ("prod", "prod", f"prod-{P}")


# ---------------------------------------------------------------------------------------------
# Services the provider does not build anything for


def test_service_without_ports_has_no_rules() -> None:
    e = expect(svc([]))
    assert e.rules == () and e.probes == ()
    assert len(e.frontends) == 1


def test_non_load_balancer_service_has_no_rules() -> None:
    s = normalize_service(
        {"metadata": {"name": "x", "uid": UID}, "spec": {"type": "ClusterIP", "ports": [HTTP]}}
    )
    e = expect(s)
    assert e.rules == () and e.frontends == ()
    assert e.notes == ("spec.type is ClusterIP: the Azure cloud provider builds nothing for this Service",)


def test_load_balancer_class_service_has_no_rules() -> None:
    e = expect(svc([HTTP], loadBalancerClass="example.com/lb"))
    assert e.rules == ()
