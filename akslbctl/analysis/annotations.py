"""Service annotations the Azure cloud provider reads, and its own validation of them.

The readers reproduce the provider's parsing exactly, down to the text of its errors, because a bad
value makes the provider fail the whole reconcile and leave the LB stale (aks-lb-rules.md §6.3): the
error text is what the user finds in the ``SyncLoadBalancerFailed`` event, and akslbctl shows the same
words before anyone reads events. Sources: ``pkg/consts/consts.go``, ``pkg/consts/helpers.go``,
``pkg/provider/azure_loadbalancer_healthprobe.go``, ``pkg/provider/azure_loadbalancer.go``.

Readers never raise for bad input: they return the value the provider would fall back to (for the
"best expectation") together with an :class:`AnnotationProblem` carrying the provider's error text.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence

from akslbctl.model.kube import Service, ServicePort
from akslbctl.records import record

PREFIX = "service.beta.kubernetes.io/"

INTERNAL = PREFIX + "azure-load-balancer-internal"
INTERNAL_SUBNET = PREFIX + "azure-load-balancer-internal-subnet"
HA_PORTS = PREFIX + "azure-load-balancer-enable-high-availability-ports"
DISABLE_FLOATING_IP = PREFIX + "azure-disable-load-balancer-floating-ip"
IDLE_TIMEOUT = PREFIX + "azure-load-balancer-tcp-idle-timeout"
DISABLE_TCP_RESET = PREFIX + "azure-load-balancer-disable-tcp-reset"
PROBE_PROTOCOL = PREFIX + "azure-load-balancer-health-probe-protocol"
PROBE_REQUEST_PATH = PREFIX + "azure-load-balancer-health-probe-request-path"
PROBE_INTERVAL = PREFIX + "azure-load-balancer-health-probe-interval"
PROBE_NUM_OF_PROBE = PREFIX + "azure-load-balancer-health-probe-num-of-probe"
PLS_CREATE = PREFIX + "azure-pls-create"
PLS_PROXY_PROTOCOL = PREFIX + "azure-pls-proxy-protocol"
LB_IPV4 = PREFIX + "azure-load-balancer-ipv4"
LB_IPV6 = PREFIX + "azure-load-balancer-ipv6"
PIP_NAME = PREFIX + "azure-pip-name"
PIP_NAME_IPV6 = PREFIX + "azure-pip-name-ipv6"
PIP_PREFIX_ID = PREFIX + "azure-pip-prefix-id"
PIP_PREFIX_ID_IPV6 = PREFIX + "azure-pip-prefix-id-ipv6"
LB_RESOURCE_GROUP = PREFIX + "azure-load-balancer-resource-group"

# Per-port keys: service.beta.kubernetes.io/port_{port}_{param}; {port} is spec.ports[].port.
PORT_NO_LB_RULE = "no_lb_rule"
PORT_NO_PROBE_RULE = "no_probe_rule"
# Probe parameters: service.beta.kubernetes.io/port_{port}_health-probe_{param}.
PARAM_PROTOCOL = "protocol"
PARAM_PORT = "port"
PARAM_INTERVAL = "interval"
PARAM_NUM_OF_PROBE = "num-of-probe"
PARAM_REQUEST_PATH = "request-path"

DEFAULT_PROBE_INTERVAL = 5
DEFAULT_NUM_OF_PROBE = 2
DEFAULT_IDLE_TIMEOUT = 4
MIN_PROBE_INTERVAL = 5
MIN_NUM_OF_PROBE = 2
MAX_PROBE_DURATION = 120  # interval × num-of-probe must stay below this

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


@record(frozen=True)
class AnnotationProblem:
    """A value the provider rejects. ``message`` is the provider's own error text.

    ``fatal``: the provider's reconcile fails and the LB keeps its previous configuration. Problems
    the provider only logs (HA-mode probe building) are not fatal.
    """

    annotation: str
    value: str
    message: str
    fatal: bool = True


def port_key(port: int, param: str) -> str:
    """``service.beta.kubernetes.io/port_{port}_{param}`` (``consts.BuildAnnotationKeyForPort``)."""
    return f"{PREFIX}port_{port}_{param}"


def probe_key(port: int, param: str) -> str:
    """``service.beta.kubernetes.io/port_{port}_health-probe_{param}``.

    Source: ``pkg/consts/helpers.go · BuildHealthProbeAnnotationKeyForPort``.
    """
    return port_key(port, f"health-probe_{param}")


def short_key(key: str) -> str:
    """An annotation key without the ``service.beta.kubernetes.io/`` prefix, for human sentences."""
    return key[len(PREFIX) :] if key.startswith(PREFIX) else key


# ---------------------------------------------------------------------------------------------
# Boolean switches


def is_true(annotations: Mapping[str, str], key: str) -> bool:
    """The provider's usual switch test: the value equals ``true`` ignoring case, not trimmed.

    Source: ``pkg/consts/helpers.go · expectAttributeInSvcAnnotationBeEqualTo``.
    """
    value = annotations.get(key)
    return value is not None and value.lower() == "true"


def requires_internal(annotations: Mapping[str, str]) -> bool:
    """Internal LB only for exactly ``"true"``; ``"True"`` puts the Service on the public LB.

    Source: ``pkg/provider/azure_loadbalancer.go · requiresInternalLoadBalancer``.
    """
    return annotations.get(INTERNAL) == "true"


def internal_any_case(annotations: Mapping[str, str]) -> bool:
    """The case-insensitive test used by HA ports, SCTP, IPv6 floating IP and NSG logic (§12 item 3).

    Source: ``pkg/consts/helpers.go · IsK8sServiceUsingInternalLoadBalancer``.
    """
    return is_true(annotations, INTERNAL)


def internal_subnet(annotations: Mapping[str, str]) -> str | None:
    """The subnet annotation of an internal Service, untrimmed, when it is not blank.

    Source: ``pkg/provider/azure_loadbalancer.go · getInternalSubnet``.
    """
    if not requires_internal(annotations):
        return None
    value = annotations.get(INTERNAL_SUBNET)
    return value if value is not None and value.strip() else None


def pls_proxy_protocol(annotations: Mapping[str, str]) -> bool:
    """Both ``azure-pls-create`` and ``azure-pls-proxy-protocol`` are true (case-insensitive)."""
    return is_true(annotations, PLS_CREATE) and is_true(annotations, PLS_PROXY_PROTOCOL)


# ---------------------------------------------------------------------------------------------
# Go's integer parsing, with Go's error text


def go_quote(text: str) -> str:
    """``strconv.Quote`` for the characters that show up in annotation values."""
    out = ['"']
    escapes = {
        '"': '\\"',
        "\\": "\\\\",
        "\a": "\\a",
        "\b": "\\b",
        "\f": "\\f",
        "\n": "\\n",
        "\r": "\\r",
        "\t": "\\t",
        "\v": "\\v",
    }
    for ch in text:
        if ch in escapes:
            out.append(escapes[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def go_parse_int32(text: str) -> tuple[int | None, str | None]:
    """``strconv.ParseInt(text, 10, 32)``: the value, or Go's error text.

    Base 10 accepts an optional sign and ASCII digits only (no spaces, no underscores). Overflow is
    reported as soon as the digits read so far exceed 32 bits, as Go does.
    """
    # Concatenated, not str.format: the text is the user's and may hold braces ("{5}").
    error = "strconv.ParseInt: parsing " + go_quote(text) + ": "
    digits, negative = text, False
    if digits[:1] in ("+", "-"):
        negative, digits = digits[0] == "-", digits[1:]
    if not digits:
        return None, error + "invalid syntax"
    value = 0
    for ch in digits:
        if not "0" <= ch <= "9":
            return None, error + "invalid syntax"
        value = value * 10 + (ord(ch) - ord("0"))
        if value > 2**32 - 1:
            return None, error + "value out of range"
    if (not negative and value > _INT32_MAX) or (negative and value > -_INT32_MIN):
        return None, error + "value out of range"
    return (-value if negative else value), None


def go_atoi(text: str) -> int | None:
    """``strconv.Atoi`` on a 64-bit platform: the value, or None when Go reports an error."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not digits or not all("0" <= ch <= "9" for ch in digits):
        return None
    value = int(text)
    return value if -(2**63) <= value <= 2**63 - 1 else None


def go_trim_space(text: str) -> str:
    """``strings.TrimSpace``: Unicode white space on both ends."""
    return text.strip()


Validator = Callable[[int], "str | None"]


def extract_int32(raw: str, *validators: Validator) -> tuple[int | None, str | None]:
    """``consts.extractInt32FromString``: trim, parse as int32, run the provider's validators.

    Returns the value or the provider's inner error text ("error value: …" / "error parsing value: …").
    """
    value_text = go_trim_space(raw)
    value, parse_error = go_parse_int32(value_text)
    if parse_error is not None:
        return None, f"error value: {parse_error}: {value_text} value must be a whole number"
    assert value is not None
    for validator in validators:
        message = validator(value)
        if message is not None:
            return None, f"error parsing value: {message}"
    return value, None


def min_probe_interval(value: int) -> str | None:
    """Validator of ``getHealthProbeConfigProbeInterval``."""
    if value < MIN_PROBE_INTERVAL:
        return f"the minimum value of {PARAM_INTERVAL} is {MIN_PROBE_INTERVAL}"
    return None


def min_num_of_probe(value: int) -> str | None:
    """Validator of ``getHealthProbeConfigNumOfProbe``."""
    if value < MIN_NUM_OF_PROBE:
        return f"the minimum value of {PARAM_NUM_OF_PROBE} is {MIN_NUM_OF_PROBE}"
    return None


# ---------------------------------------------------------------------------------------------
# Probe interval and threshold


@record(frozen=True)
class ProbeTiming:
    interval: int
    threshold: int
    interval_source: str  # annotation key, or "default"
    threshold_source: str
    problems: tuple[AnnotationProblem, ...] = ()


def _int_setting(
    annotations: Mapping[str, str],
    port_param_key: str,
    global_key: str,
    default: int,
    validator: Validator,
    *,
    port_separator: str,
) -> tuple[int, str, list[AnnotationProblem]]:
    """One setting from the per-port key, else the global key, else the default.

    An invalid value is a problem; the best expectation then falls back to the next source.
    """
    problems: list[AnnotationProblem] = []
    for key, separator in ((port_param_key, port_separator), (global_key, ": ")):
        raw = annotations.get(key)
        if raw is None:
            continue
        value, error = extract_int32(raw, validator)
        if error is None:
            assert value is not None
            return value, key, problems
        problems.append(AnnotationProblem(key, raw, f"failed to parse annotation {key}{separator}{error}"))
    return default, "default", problems


def probe_timing(annotations: Mapping[str, str], port: int, *, context: str | None = None) -> ProbeTiming:
    """Interval and num-of-probe for a probe keyed by ``port``, validated as the provider does.

    Order and texts follow ``getHealthProbeConfigProbeIntervalAndNumOfProbe``: num-of-probe first,
    then interval (whose per-port error lacks the space after the colon, as in the provider), then
    ``interval × num-of-probe < 120``. ``context`` is the prefix the caller wraps errors in
    (``"failed to parse health probe config for port 80: "`` for per-port probes on current versions).
    """
    threshold, threshold_source, problems = _int_setting(
        annotations,
        probe_key(port, PARAM_NUM_OF_PROBE),
        PROBE_NUM_OF_PROBE,
        DEFAULT_NUM_OF_PROBE,
        min_num_of_probe,
        port_separator=": ",
    )
    interval, interval_source, interval_problems = _int_setting(
        annotations,
        probe_key(port, PARAM_INTERVAL),
        PROBE_INTERVAL,
        DEFAULT_PROBE_INTERVAL,
        min_probe_interval,
        port_separator=":",
    )
    problems += interval_problems
    if interval * threshold >= MAX_PROBE_DURATION:
        key = interval_source if interval_source != "default" else threshold_source
        problems.append(
            AnnotationProblem(
                key,
                annotations.get(key, ""),
                "total probe should be less than 120, please adjust interval and number of probe accordingly",
            )
        )
    if context:
        problems = [AnnotationProblem(p.annotation, p.value, context + p.message, p.fatal) for p in problems]
    return ProbeTiming(interval, threshold, interval_source, threshold_source, tuple(problems))


# ---------------------------------------------------------------------------------------------
# Probe port override


@record(frozen=True)
class ProbePort:
    """The outcome of ``port_{port}_health-probe_port``.

    ``port`` is None when the annotation is absent or invalid; ``how`` says in words what it named.
    """

    port: int | None
    raw: str | None = None
    how: str = ""
    problem: AnnotationProblem | None = None


def _named(ports: Sequence[ServicePort], value: str) -> ServicePort | None:
    """The last spec.ports entry whose name equals ``value`` ignoring case (Go's loop has no break)."""
    found = None
    for item in ports:
        if item.name.lower() == value.lower():
            found = item
    return found


def probe_port(
    annotations: Mapping[str, str], port: ServicePort, ports: Sequence[ServicePort], *, literal_allowed: bool
) -> ProbePort:
    """Resolve ``port_{port}_health-probe_port``: a port name or number → that port's nodePort.

    With ``literal_allowed`` (v1.25.17 / v1.26.13 / v1.27.7 / v1.28.0 on) any other number in 0–65535
    is used as given; before, it had to name a service port. Errors: "port %s not found in service",
    "port %d is out of range", wrapped in "failed to parse annotation <key>: ". Source:
    ``azure_loadbalancer_healthprobe.go · buildHealthProbeRulesForPort``.
    """
    key = probe_key(port.port, PARAM_PORT)
    raw = annotations.get(key)
    if raw is None:
        return ProbePort(None)

    def fail(message: str) -> ProbePort:
        return ProbePort(None, raw, problem=AnnotationProblem(key, raw, f"failed to parse annotation {key}: {message}"))

    named = _named(ports, raw)
    number = go_atoi(raw)
    if literal_allowed:
        if named is None:
            if number is None:
                return fail(f"port {raw} not found in service")
            if number < 0 or number > 65535:
                return fail(f"port {number} is out of range")
    else:
        if number is None:
            if named is None:
                return fail(f"port {raw} not found in service")
        else:
            if number < 0 or number > 65535:
                return fail(f"port {number} is out of range")
            if not any(item.port == number for item in ports):
                return fail(f"port {raw} not found in service")

    parsed, _ = go_parse_int32(raw)
    if parsed is None:
        assert named is not None
        return ProbePort(named.node_port or 0, raw, f"nodePort of port {named.name or named.port}")
    matches = [item for item in ports if item.port == parsed]
    if matches:
        # Current versions stop at the first match; older ones kept the last. Ports are unique anyway.
        item = matches[0]
        return ProbePort(item.node_port or 0, raw, f"nodePort of port {item.name or item.port}")
    return ProbePort(parsed, raw, "literal port")


# ---------------------------------------------------------------------------------------------
# Rule settings


def idle_timeout(annotations: Mapping[str, str], max_minutes: int) -> tuple[int, AnnotationProblem | None]:
    """``azure-load-balancer-tcp-idle-timeout``: 4 when absent; 4–``max_minutes`` when set.

    Source: ``azure_loadbalancer.go · getExpectedLoadBalancingRulePropertiesForPort`` (max 100 since
    v1.25.17 / v1.26.13 / v1.27.7 / v1.28.0, 30 before). The returned problem message is the inner
    error; the caller adds the rule-building prefix.
    """
    raw = annotations.get(IDLE_TIMEOUT)
    if raw is None:
        return DEFAULT_IDLE_TIMEOUT, None

    def within(value: int) -> str | None:
        if value < 4 or value > max_minutes:
            return (
                "idle timeout value must be a whole number representing minutes "
                f"between 4 and {max_minutes}, actual value: {value}"
            )
        return None

    value, error = extract_int32(raw, within)
    if error is not None:
        message = f"error parsing idle timeout key: {IDLE_TIMEOUT}, err: {error}"
        return DEFAULT_IDLE_TIMEOUT, AnnotationProblem(IDLE_TIMEOUT, raw, message)
    assert value is not None
    return value, None


# ---------------------------------------------------------------------------------------------
# Pinned IPs and public IP names (§4.2)


def ip_families_enabled(service: Service) -> tuple[str, ...]:
    """IP families to reconcile, IPv4 first; none listed means IPv4.

    Source: ``pkg/provider/azure_utils.go · getIPFamiliesEnabled`` (and the IPv4-then-IPv6 order of
    ``reconcileLoadBalancer``).
    """
    v4 = "IPv4" in service.ip_families
    v6 = "IPv6" in service.ip_families
    if not v4 and not v6:
        v4 = True
    return tuple(f for f, on in (("IPv4", v4), ("IPv6", v6)) if on)


def is_dual_stack(service: Service) -> bool:
    """``len(spec.ipFamilies) == 2`` (``pkg/provider/azure_utils.go · isServiceDualStack``)."""
    return len(service.ip_families) == 2


def _is_ipv4(text: str) -> bool:
    """``net.ParseIP(text).To4() != nil``: IPv4, including IPv4-mapped IPv6."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return address.version == 4 or getattr(address, "ipv4_mapped", None) is not None


def service_load_balancer_ip(service: Service, family: str) -> str | None:
    """The pinned IP of a family: ``azure-load-balancer-ipv4/-ipv6``, else ``spec.loadBalancerIP``
    when it is of that family.

    Source: ``pkg/provider/azure_utils.go · getServiceLoadBalancerIP``.
    """
    value = service.annotations.get(LB_IPV6 if family == "IPv6" else LB_IPV4)
    if value:
        return value
    lb_ip = service.load_balancer_ip or ""
    if family == "IPv4":
        return lb_ip if _is_ipv4(lb_ip) else None
    return lb_ip if lb_ip and not _is_ipv4(lb_ip) else None


def pinned_ips(service: Service) -> list[str]:
    """Every IP the Service pins: the ``-ipv4``/``-ipv6`` annotations, else ``spec.loadBalancerIP``.

    Source: ``pkg/provider/azure_utils.go · getServiceLoadBalancerIPs``.
    """
    ips = [v for v in (service.annotations.get(LB_IPV4), service.annotations.get(LB_IPV6)) if v]
    if ips:
        return ips
    return [service.load_balancer_ip] if service.load_balancer_ip else []


def _by_family(service: Service, v4_key: str, v6_key: str, family: str) -> str:
    """The ``-ipv6`` key for the IPv6 side of dual-stack, and for single-stack IPv6 when it is set;
    the IPv4 key otherwise (``getServicePIPName`` / ``getServicePIPPrefixID``)."""
    annotations = service.annotations
    if not is_dual_stack(service):
        if family == "IPv6" and ip_families_enabled(service) == ("IPv6",) and annotations.get(v6_key):
            return annotations[v6_key]
        return annotations.get(v4_key, "")
    return annotations.get(v6_key if family == "IPv6" else v4_key, "")


def service_pip_name(service: Service, family: str) -> str:
    """``azure-pip-name`` / ``azure-pip-name-ipv6`` for a family, "" when unset."""
    return _by_family(service, PIP_NAME, PIP_NAME_IPV6, family)


def service_pip_prefix_id(service: Service, family: str) -> str:
    """``azure-pip-prefix-id`` / ``azure-pip-prefix-id-ipv6`` for a family, "" when unset."""
    return _by_family(service, PIP_PREFIX_ID, PIP_PREFIX_ID_IPV6, family)


def pip_names(service: Service) -> list[str]:
    """The PIP names the Service asks for, IPv4 side then IPv6 side, without blanks.

    Source: ``pkg/provider/azure_utils.go · getServicePIPNames``.
    """
    return [name for name in (service_pip_name(service, "IPv4"), service_pip_name(service, "IPv6")) if name]
