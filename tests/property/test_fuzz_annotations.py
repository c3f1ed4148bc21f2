"""Annotation values, however odd, through the provider's parsing and validation and the whole
expectation: a result with findings for what the provider would reject — never an exception."""

from __future__ import annotations

from fuzzing import FUZZ, ODD_STRINGS
from hypothesis import given
from hypothesis import strategies as st

from akslbctl.analysis import annotations as ann
from akslbctl.analysis.engine import provider_rules
from akslbctl.analysis.expect import ClusterSettings, expect_service
from akslbctl.analysis.provider import rules_for_ccm
from akslbctl.errors import UsageError
from akslbctl.sources.normalize import service as normalize_service

P = ann.PREFIX
KEYS = [
    ann.INTERNAL,
    ann.INTERNAL_SUBNET,
    ann.HA_PORTS,
    ann.DISABLE_FLOATING_IP,
    ann.IDLE_TIMEOUT,
    ann.DISABLE_TCP_RESET,
    ann.PROBE_PROTOCOL,
    ann.PROBE_REQUEST_PATH,
    ann.PROBE_INTERVAL,
    ann.PROBE_NUM_OF_PROBE,
    ann.PLS_CREATE,
    ann.PLS_PROXY_PROTOCOL,
    ann.LB_IPV4,
    ann.LB_IPV6,
    ann.PIP_NAME,
    ann.PIP_NAME_IPV6,
    ann.PIP_PREFIX_ID,
    ann.LB_RESOURCE_GROUP,
    P + "azure-shared-securityrule",
    *(ann.port_key(port, param) for port in (80, 443, 53) for param in (ann.PORT_NO_LB_RULE, ann.PORT_NO_PROBE_RULE)),
    *(
        ann.probe_key(port, param)
        for port in (80, 443)
        for param in (
            ann.PARAM_PROTOCOL,
            ann.PARAM_PORT,
            ann.PARAM_INTERVAL,
            ann.PARAM_NUM_OF_PROBE,
            ann.PARAM_REQUEST_PATH,
        )
    ),
]
VALUES = st.one_of(
    st.sampled_from(ODD_STRINGS),
    st.sampled_from(
        ["true", "false", "True", "1", "http", "https", "tcp", "/healthz", "5", "120", "2147483648", "http2"]
    ),
    st.integers(-(2**40), 2**40).map(str),
    st.text(max_size=16),
)
annotations = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=30), VALUES, max_size=6)

ports = st.lists(
    st.fixed_dictionaries(
        {"port": st.sampled_from([80, 443, 53, 0, 65535, 70000])},
        optional={
            "protocol": st.sampled_from(["TCP", "UDP", "SCTP", "tcp", "QUIC"]),
            "nodePort": st.integers(0, 70000),
            "appProtocol": st.sampled_from(["http", "https", "tcp", "kubernetes.io/h2c", "", "HTTP"]),
            "name": st.sampled_from(["http", "https", "dns", "", "80"]),
            "targetPort": st.sampled_from([8080, "http", 0]),
        },
    ),
    max_size=3,
    unique_by=lambda p: (p["port"], p.get("protocol", "TCP")),
)


@FUZZ
@given(
    notes=annotations,
    port_docs=ports,
    policy=st.sampled_from(["Cluster", "Local"]),
    families=st.sampled_from([None, ["IPv4"], ["IPv6"], ["IPv4", "IPv6"]]),
    provider=st.sampled_from(["master", "v1.24.10", "v1.23.4", "1.27", "v1.0.0", "latest"]),
    cluster=st.sampled_from(
        [
            ClusterSettings(),
            ClusterSettings(sku="basic"),
            ClusterSettings(probe_mode="shared", shared_probe_port=10256, shared_probe_path="/healthz"),
            ClusterSettings(pool_type="nodeIP"),
        ]
    ),
)
def test_expectation_of_any_annotations(notes, port_docs, policy, families, provider, cluster):
    spec = {"type": "LoadBalancer", "ports": port_docs, "externalTrafficPolicy": policy}
    if policy == "Local":
        spec["healthCheckNodePort"] = 32000
    if families:
        spec["ipFamilies"] = families
    doc = {"metadata": {"name": "web", "namespace": "ns", "uid": "u-1", "annotations": notes}, "spec": spec}
    service = normalize_service(doc)
    expectation = expect_service(service, rules_for_ccm(provider), cluster)
    assert expectation is not None


@FUZZ
@given(notes=annotations, port=st.sampled_from([80, 443, 0, 65535]))
def test_probe_timing_and_idle_timeout(notes, port):
    timing = ann.probe_timing(notes, port)
    assert timing is not None
    minutes, problem = ann.idle_timeout(notes, 30)
    assert isinstance(minutes, int) and (problem is None or problem)


@FUZZ
@given(text=st.text(max_size=30) | st.sampled_from(ODD_STRINGS))
def test_go_number_parsers(text):
    value, error = ann.go_parse_int32(text)
    assert (value is None) != (error is None)
    if value is not None:
        assert -(2**31) <= value < 2**31
    ann.go_atoi(text)
    assert isinstance(ann.go_quote(text), str)


@FUZZ
@given(
    version=st.none() | st.text(max_size=20) | st.sampled_from(["v1.29.4", "v1.99.0", "v0.1", "1.2.3.4", "v1.x"]),
    ccm=st.none() | st.text(max_size=12) | st.sampled_from(["v1.24.10", "1.27", "latest", "master", "v9.9.9"]),
)
def test_provider_rules_for_any_version(version, ccm):
    """An odd server version falls back to master; an unreadable --provider-version is a usage error."""
    assert provider_rules(version).name
    try:
        assert provider_rules(version, ccm).name
    except UsageError as exc:
        assert ccm and "--provider-version" in str(exc)
