"""Annotation readers and the provider's own validation texts (aks-lb-rules.md §3.1, §6.3, §12 item 3)."""

from __future__ import annotations

import pytest

from akslbctl.analysis import annotations as ann
from akslbctl.sources.normalize import service

PFX = "service.beta.kubernetes.io/"


def make(ports=None, annotations=None, **spec):
    return service(
        {
            "metadata": {"name": "web", "namespace": "default", "uid": "u", "annotations": annotations or {}},
            "spec": {"type": "LoadBalancer", "ports": ports or [], **spec},
        }
    )


# ---------------------------------------------------------------------------------------------
# keys


def test_port_and_probe_keys() -> None:
    assert ann.port_key(80, "no_lb_rule") == f"{PFX}port_80_no_lb_rule"
    assert ann.probe_key(443, "request-path") == f"{PFX}port_443_health-probe_request-path"
    assert ann.probe_key(443, ann.PARAM_NUM_OF_PROBE) == f"{PFX}port_443_health-probe_num-of-probe"


def test_global_keys_are_the_providers() -> None:
    assert f"{PFX}azure-load-balancer-health-probe-protocol" == ann.PROBE_PROTOCOL
    assert f"{PFX}azure-load-balancer-health-probe-request-path" == ann.PROBE_REQUEST_PATH
    assert f"{PFX}azure-load-balancer-health-probe-interval" == ann.PROBE_INTERVAL
    assert f"{PFX}azure-load-balancer-health-probe-num-of-probe" == ann.PROBE_NUM_OF_PROBE
    assert f"{PFX}azure-load-balancer-tcp-idle-timeout" == ann.IDLE_TIMEOUT


# ---------------------------------------------------------------------------------------------
# internal: exact vs case-insensitive


@pytest.mark.parametrize(
    ("value", "exact", "any_case"),
    [
        ("true", True, True),
        ("True", False, True),
        ("TRUE", False, True),
        (" true", False, False),
        ("yes", False, False),
    ],
)
def test_internal_exact_versus_case_insensitive(value: str, exact: bool, any_case: bool) -> None:
    a = {ann.INTERNAL: value}
    assert ann.requires_internal(a) is exact
    assert ann.internal_any_case(a) is any_case


def test_switches_compare_case_insensitively_without_trimming() -> None:
    assert ann.is_true({ann.DISABLE_FLOATING_IP: "TRUE"}, ann.DISABLE_FLOATING_IP)
    assert not ann.is_true({ann.DISABLE_FLOATING_IP: "true "}, ann.DISABLE_FLOATING_IP)
    assert not ann.is_true({}, ann.DISABLE_FLOATING_IP)


def test_internal_subnet_only_for_exactly_internal_and_not_blank() -> None:
    assert ann.internal_subnet({ann.INTERNAL: "true", ann.INTERNAL_SUBNET: "apps"}) == "apps"
    assert ann.internal_subnet({ann.INTERNAL: "True", ann.INTERNAL_SUBNET: "apps"}) is None
    assert ann.internal_subnet({ann.INTERNAL: "true", ann.INTERNAL_SUBNET: "   "}) is None
    assert ann.internal_subnet({ann.INTERNAL: "true", ann.INTERNAL_SUBNET: " apps"}) == " apps"  # untrimmed


def test_pls_proxy_protocol_needs_both() -> None:
    assert ann.pls_proxy_protocol({ann.PLS_CREATE: "true", ann.PLS_PROXY_PROTOCOL: "True"})
    assert not ann.pls_proxy_protocol({ann.PLS_PROXY_PROTOCOL: "true"})


# ---------------------------------------------------------------------------------------------
# Go integer parsing


@pytest.mark.parametrize(
    ("text", "value", "error"),
    [
        ("15", 15, None),
        ("+7", 7, None),
        ("-3", -3, None),
        ("abc", None, 'strconv.ParseInt: parsing "abc": invalid syntax'),
        ("", None, 'strconv.ParseInt: parsing "": invalid syntax'),
        ("1_0", None, 'strconv.ParseInt: parsing "1_0": invalid syntax'),
        ("2147483648", None, 'strconv.ParseInt: parsing "2147483648": value out of range'),
        ("-2147483649", None, 'strconv.ParseInt: parsing "-2147483649": value out of range'),
        ("-2147483648", -2147483648, None),
        ("99999999999x", None, 'strconv.ParseInt: parsing "99999999999x": value out of range'),
        ('5"', None, 'strconv.ParseInt: parsing "5\\"": invalid syntax'),
    ],
)
def test_go_parse_int32(text: str, value: int | None, error: str | None) -> None:
    assert ann.go_parse_int32(text) == (value, error)


def test_extract_int32_trims_and_explains() -> None:
    assert ann.extract_int32(" 10 ") == (10, None)
    assert ann.extract_int32(" ten ") == (
        None,
        'error value: strconv.ParseInt: parsing "ten": invalid syntax: ten value must be a whole number',
    )
    assert ann.extract_int32("3", ann.min_probe_interval) == (
        None,
        "error parsing value: the minimum value of interval is 5",
    )


# ---------------------------------------------------------------------------------------------
# §6.3 probe interval / num-of-probe validation


def test_defaults_are_5_and_2() -> None:
    timing = ann.probe_timing({}, 80)
    assert (timing.interval, timing.threshold, timing.problems) == (5, 2, ())
    assert timing.interval_source == timing.threshold_source == "default"


def test_per_port_beats_global() -> None:
    a = {ann.PROBE_INTERVAL: "10", ann.probe_key(80, "interval"): "7", ann.PROBE_NUM_OF_PROBE: "3"}
    timing = ann.probe_timing(a, 80)
    assert (timing.interval, timing.threshold) == (7, 3)
    assert timing.interval_source == ann.probe_key(80, "interval")
    assert timing.threshold_source == ann.PROBE_NUM_OF_PROBE


def test_per_port_interval_below_5_text_has_no_space_after_colon() -> None:
    key = ann.probe_key(80, "interval")
    timing = ann.probe_timing({key: "3"}, 80)
    assert timing.interval == 5  # best expectation falls back to the default
    (problem,) = timing.problems
    assert problem.annotation == key and problem.value == "3" and problem.fatal
    assert (
        problem.message
        == f"failed to parse annotation {key}:error parsing value: the minimum value of interval is 5"
    )


def test_global_interval_below_5() -> None:
    (problem,) = ann.probe_timing({ann.PROBE_INTERVAL: "4"}, 80).problems
    assert problem.message == (
        f"failed to parse annotation {ann.PROBE_INTERVAL}: "
        "error parsing value: the minimum value of interval is 5"
    )


def test_num_of_probe_below_2() -> None:
    key = ann.probe_key(443, "num-of-probe")
    (problem,) = ann.probe_timing({key: "1"}, 443).problems
    assert problem.message == (
        f"failed to parse annotation {key}: error parsing value: the minimum value of num-of-probe is 2"
    )


def test_num_of_probe_not_a_number() -> None:
    (problem,) = ann.probe_timing({ann.PROBE_NUM_OF_PROBE: "two"}, 443).problems
    assert problem.message == (
        f"failed to parse annotation {ann.PROBE_NUM_OF_PROBE}: error value: "
        'strconv.ParseInt: parsing "two": invalid syntax: two value must be a whole number'
    )


def test_num_of_probe_checked_before_interval() -> None:
    timing = ann.probe_timing({ann.PROBE_INTERVAL: "1", ann.PROBE_NUM_OF_PROBE: "1"}, 80)
    assert [p.annotation for p in timing.problems] == [ann.PROBE_NUM_OF_PROBE, ann.PROBE_INTERVAL]


@pytest.mark.parametrize(
    ("interval", "num", "fails"), [("30", "4", True), ("59", "2", False), ("60", "2", True)]
)
def test_total_probe_time_below_120(interval: str, num: str, fails: bool) -> None:
    timing = ann.probe_timing({ann.PROBE_INTERVAL: interval, ann.PROBE_NUM_OF_PROBE: num}, 80)
    messages = [p.message for p in timing.problems]
    expected = "total probe should be less than 120, please adjust interval and number of probe accordingly"
    assert (expected in messages) is fails


def test_context_prefix_wraps_every_message() -> None:
    timing = ann.probe_timing(
        {ann.PROBE_INTERVAL: "1"}, 80, context="failed to parse health probe config for port 80: "
    )
    (problem,) = timing.problems
    assert problem.message.startswith(
        "failed to parse health probe config for port 80: failed to parse annotation "
    )


# ---------------------------------------------------------------------------------------------
# §6.3 probe port


PORTS = [
    {"name": "http", "port": 80, "nodePort": 31380},
    {"name": "status", "port": 15021, "nodePort": 30021},
]


def _probe_port(value: str, *, literal: bool = True, port_index: int = 0):
    svc = make(PORTS, {ann.probe_key(80, "port"): value})
    return ann.probe_port(svc.annotations, svc.ports[port_index], svc.ports, literal_allowed=literal)


def test_probe_port_absent() -> None:
    svc = make(PORTS)
    assert ann.probe_port(svc.annotations, svc.ports[0], svc.ports, literal_allowed=True).port is None


@pytest.mark.parametrize("literal", [True, False])
def test_probe_port_by_name_case_insensitive_gives_node_port(literal: bool) -> None:
    result = _probe_port("STATUS", literal=literal)
    assert (result.port, result.problem) == (30021, None)


@pytest.mark.parametrize("literal", [True, False])
def test_probe_port_by_service_port_number_gives_node_port(literal: bool) -> None:
    assert _probe_port("15021", literal=literal).port == 30021


def test_probe_port_literal_number_used_as_given() -> None:
    result = _probe_port("10256", literal=True)
    assert (result.port, result.how, result.problem) == (10256, "literal port", None)


def test_probe_port_literal_number_rejected_before_v1_25_17() -> None:
    result = _probe_port("10256", literal=False)
    key = ann.probe_key(80, "port")
    assert result.port is None
    assert result.problem.message == f"failed to parse annotation {key}: port 10256 not found in service"


@pytest.mark.parametrize("literal", [True, False])
def test_probe_port_unknown_name(literal: bool) -> None:
    key = ann.probe_key(80, "port")
    assert _probe_port("metrics", literal=literal).problem.message == (
        f"failed to parse annotation {key}: port metrics not found in service"
    )


@pytest.mark.parametrize(
    ("value", "shown"), [("70000", "70000"), ("-1", "-1"), ("99999999999", "99999999999")]
)
def test_probe_port_out_of_range(value: str, shown: str) -> None:
    key = ann.probe_key(80, "port")
    problem = _probe_port(value).problem
    assert problem.message == f"failed to parse annotation {key}: port {shown} is out of range"
    assert problem.fatal


# ---------------------------------------------------------------------------------------------
# idle timeout


def test_idle_timeout_default_and_valid() -> None:
    assert ann.idle_timeout({}, 100) == (4, None)
    assert ann.idle_timeout({ann.IDLE_TIMEOUT: "100"}, 100) == (100, None)


@pytest.mark.parametrize(("value", "maximum"), [("3", 100), ("101", 100), ("31", 30)])
def test_idle_timeout_out_of_range(value: str, maximum: int) -> None:
    result, problem = ann.idle_timeout({ann.IDLE_TIMEOUT: value}, maximum)
    assert result == 4
    assert problem.message == (
        f"error parsing idle timeout key: {ann.IDLE_TIMEOUT}, err: error parsing value: "
        "idle timeout value must be a whole number representing minutes "
        f"between 4 and {maximum}, actual value: {value}"
    )


def test_idle_timeout_not_a_number() -> None:
    _, problem = ann.idle_timeout({ann.IDLE_TIMEOUT: "5m"}, 100)
    assert problem.message == (
        f"error parsing idle timeout key: {ann.IDLE_TIMEOUT}, err: error value: "
        'strconv.ParseInt: parsing "5m": invalid syntax: 5m value must be a whole number'
    )


# ---------------------------------------------------------------------------------------------
# pinned IPs and PIP names


def test_pinned_ips_prefer_annotations_over_spec() -> None:
    svc = make([], {ann.LB_IPV4: "20.1.1.1"}, loadBalancerIP="20.9.9.9")
    assert ann.pinned_ips(svc) == ["20.1.1.1"]
    assert ann.pinned_ips(make([], {}, loadBalancerIP="20.9.9.9")) == ["20.9.9.9"]
    assert ann.pinned_ips(make([])) == []


def test_service_load_balancer_ip_by_family() -> None:
    svc = make([], {}, loadBalancerIP="fd00::5")
    assert ann.service_load_balancer_ip(svc, "IPv4") is None
    assert ann.service_load_balancer_ip(svc, "IPv6") == "fd00::5"
    svc = make([], {ann.LB_IPV6: "fd00::7"}, loadBalancerIP="10.0.0.7")
    assert ann.service_load_balancer_ip(svc, "IPv4") == "10.0.0.7"
    assert ann.service_load_balancer_ip(svc, "IPv6") == "fd00::7"


def test_pip_names_by_family() -> None:
    dual = make([], {ann.PIP_NAME: "v4pip", ann.PIP_NAME_IPV6: "v6pip"}, ipFamilies=["IPv4", "IPv6"])
    assert ann.pip_names(dual) == ["v4pip", "v6pip"]
    v4only = make([], {ann.PIP_NAME: "v4pip", ann.PIP_NAME_IPV6: "v6pip"})
    assert ann.pip_names(v4only) == ["v4pip", "v4pip"]  # single-stack: the IPv4 key answers for both
    v6only = make([], {ann.PIP_NAME: "v4pip", ann.PIP_NAME_IPV6: "v6pip"}, ipFamilies=["IPv6"])
    assert ann.service_pip_name(v6only, "IPv6") == "v6pip"
