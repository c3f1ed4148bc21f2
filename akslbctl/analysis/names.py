"""Names the Azure cloud provider gives to the LB objects of a Service (aks-lb-rules.md §2, §4, §5.1, §7.1).

Every function takes plain values, not a Service, so that matching code can also use them on names
read from ARM. The provider builds names with byte-oriented Go string slicing; Azure resource names
and Kubernetes subnet annotations are ASCII in practice, so Python ``str`` slicing gives the same result.
"""

from __future__ import annotations

INTERNAL_LB_SUFFIX = "-internal"
IPV6 = "IPv6"
IPV6_SUFFIX = "-IPv6"
SHARED_PROBE_NAME = "cluster-service-shared-health-probe"

PREFIX_LENGTH = 32
NAME_MAX_LENGTH = 80  # FrontendIPConfigNameMaxLength, LoadBalancerRuleNameMaxLength, PIPPrefixNameMaxLength
FAMILY_SUFFIX_LENGTH = 5  # len("-IPv6"): names are cut to 75 so the suffix still fits
_CUT = NAME_MAX_LENGTH - FAMILY_SUFFIX_LENGTH


_HEX = frozenset("0123456789abcdefABCDEF")


def uid_problem(uid: str | None) -> str | None:
    """Why ``uid`` is no Kubernetes object UID (an RFC 4122 UUID: 32 hex digits, dashes aside), or None.

    The provider names a Service's LB objects after its UID, so a Service without one — a manifest
    from a chart or a repository, not what the API returns — cannot be matched to anything: its
    prefix would be the bare ``a`` that every provider-built name starts with.
    """
    text = (uid or "").strip()
    if not text:
        return "has no metadata.uid"
    digits = text.replace("-", "")
    if len(digits) != 32 or not set(digits) <= _HEX:
        shown = text if len(text) <= 40 else text[:37] + "..."
        return f"has metadata.uid {shown!r}, which is not a Kubernetes UID (a UUID)"
    return None


def service_prefix(uid: str) -> str:
    """The per-Service prefix ``P``: "a" + UID without dashes, cut to 32 characters.

    A UID has 32 hex digits, so the last one is lost. Source:
    ``vendor/k8s.io/cloud-provider/cloud.go · DefaultLoadBalancerName``.
    """
    return ("a" + uid).replace("-", "")[:PREFIX_LENGTH]


def by_ip_family(name: str, *, dual_stack: bool, family: str) -> str:
    """Add ``-IPv6`` for the IPv6 side of a dual-stack Service only; single-stack IPv6 keeps the name.

    Source: ``pkg/provider/azure_utils.go · getResourceByIPFamily``.
    """
    return f"{name}{IPV6_SUFFIX}" if dual_stack and family == IPV6 else name


def rule_name(
    prefix: str,
    protocol: str,
    port: int,
    *,
    subnet: str | None = None,
    dual_stack: bool = False,
    family: str = "IPv4",
) -> str:
    """``P-<PROTOCOL>-<port>``, or ``P-<subnet>-<PROTOCOL>-<port>`` for an internal subnet annotation.

    The subnet segment is cut so that the name stays within 75 characters before ``-IPv6``. Probes
    built for a port carry the same name. Source:
    ``pkg/provider/azure_standard.go · getLoadBalancerRuleName``.
    """
    base = f"{prefix}-{protocol}-{port}"
    if subnet is None:
        return by_ip_family(base, dual_stack=dual_stack, family=family)
    segment = subnet
    if len(base) + len(segment) + 1 > _CUT:
        segment = segment[: _CUT - len(base) - 1]
    return by_ip_family(f"{prefix}-{segment}-{protocol}-{port}", dual_stack=dual_stack, family=family)


def frontend_name(prefix: str, *, subnet: str | None = None, dual_stack: bool = False, family: str = "IPv4") -> str:
    """``P`` (``P-IPv6`` on the IPv6 side of dual-stack), or ``P-<subnet>`` for an internal subnet.

    When the subnet form is cut to 75 characters and the cut leaves a last character that is neither a
    letter nor ``_``, that character becomes ``_`` (Azure rejects names ending in ``-`` or ``.``).
    Source: ``pkg/provider/azure_loadbalancer.go · getFrontendIPConfigNames``,
    ``getDefaultFrontendIPConfigName``.
    """
    name = prefix
    if subnet is not None:
        name = f"{prefix}-{subnet}"
        if len(name) > _CUT:
            name = name[:_CUT]
            last = name[-1]
            if not last.isalpha() and last != "_":
                name = name[:-1] + "_"
    return by_ip_family(name, dual_stack=dual_stack, family=family)


def pool_name(cluster_name: str, family: str = "IPv4") -> str:
    """``<clusterName>`` or ``<clusterName>-IPv6`` (single- and dual-stack IPv6 alike).

    Source: ``pkg/provider/azure_standard.go · getBackendPoolName``.
    """
    return f"{cluster_name}{IPV6_SUFFIX}" if family == IPV6 else cluster_name


def is_ipv6_pool(name_or_id: str) -> bool:
    """The provider recognises an IPv6 pool by the case-insensitive suffix ``-ipv6`` of its name or id.

    Source: ``pkg/provider/azure_standard.go · isBackendPoolIPv6``.
    """
    return name_or_id.lower().endswith(IPV6_SUFFIX.lower())


def lb_name(cluster_name: str, internal: bool) -> str:
    """``<clusterName>`` or ``<clusterName>-internal`` for a single standard LB (§3.1)."""
    return f"{cluster_name}{INTERNAL_LB_SUFFIX}" if internal else cluster_name


def last_segment(resource_id: str, separator: str = "/") -> str | None:
    """The last segment of an id, None when it is empty (``getLastSegment`` returns an error then)."""
    name = resource_id.split(separator)[-1]
    return name or None


def pip_name(
    cluster_name: str,
    prefix: str,
    *,
    pip_prefix_id: str | None = None,
    dual_stack: bool = False,
    family: str = "IPv4",
) -> str:
    """The managed public IP name ``<clusterName>-P`` (plus ``-<prefix name>`` with a PIP prefix).

    Cut to 75 characters, then ``-IPv6`` for the IPv6 side of dual-stack. Source:
    ``pkg/provider/azure_standard.go · getPublicIPName``.
    """
    name = f"{cluster_name}-{prefix}"
    if pip_prefix_id:
        segment = last_segment(pip_prefix_id)
        if segment is not None:
            name = f"{name}-{segment}"
    return by_ip_family(name[:_CUT], dual_stack=dual_stack, family=family)


def owns(prefix: str, name: str) -> bool:
    """Whether a rule or probe name belongs to the Service with this prefix (case-insensitive prefix).

    The shared probe is not covered: it belongs to every Cluster-policy Service on the LB. Source:
    ``pkg/provider/azure_loadbalancer_repo.go · serviceOwnsRule``.

    A prefix shorter than a real one (a Service without a UID gives the bare ``a``) owns nothing:
    it would take in every object the provider built.
    """
    return len(prefix) >= PREFIX_LENGTH and name.lower().startswith(prefix.lower())
