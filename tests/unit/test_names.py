"""Names of the LB objects the cloud provider builds for a Service.

aks-lb-rules.md §2, §4.1, §4.2, §5.1, §7.1.
"""

from __future__ import annotations

import pytest

from akslbctl.analysis import names

P = "a1b2c3d4e5f60718293a4b5c6d7e8f90"


@pytest.mark.parametrize(
    ("uid", "prefix"),
    [
        ("1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901", "a1b2c3d4e5f60718293a4b5c6d7e8f90"),
        ("7c3e1f09-b2d4-4e6a-1c5f-0e2d3b4a5961", "a7c3e1f09b2d44e6a1c5f0e2d3b4a596"),
    ],
)
def test_prefix_is_a_plus_first_31_hex_digits(uid: str, prefix: str) -> None:
    assert names.service_prefix(uid) == prefix
    assert len(prefix) == 32
    assert prefix == "a" + uid.replace("-", "")[:31]  # the last hex digit is lost


def test_prefix_of_short_uid_is_not_padded() -> None:
    assert names.service_prefix("ab-cd") == "aabcd"


def test_rule_name_default() -> None:
    assert names.rule_name(P, "TCP", 80) == f"{P}-TCP-80"
    assert names.rule_name(P, "UDP", 53) == f"{P}-UDP-53"


def test_rule_name_dual_stack_ipv6_side_gets_suffix() -> None:
    assert names.rule_name(P, "TCP", 80, dual_stack=True, family="IPv6") == f"{P}-TCP-80-IPv6"
    assert names.rule_name(P, "TCP", 80, dual_stack=True, family="IPv4") == f"{P}-TCP-80"


def test_rule_name_single_stack_ipv6_has_no_suffix() -> None:
    assert names.rule_name(P, "TCP", 80, dual_stack=False, family="IPv6") == f"{P}-TCP-80"


def test_rule_name_with_internal_subnet() -> None:
    assert names.rule_name(P, "TCP", 443, subnet="apps") == f"{P}-apps-TCP-443"


def test_rule_name_with_long_subnet_is_cut_to_75() -> None:
    subnet = "s" * 60
    name = names.rule_name(P, "TCP", 443, subnet=subnet)
    assert len(name) == 75
    base = f"{P}-TCP-443"  # 40 characters; the subnet keeps 75 - 40 - 1 = 34 of them
    assert len(base) == 40
    assert name == f"{P}-{'s' * 34}-TCP-443"
    assert names.rule_name(P, "TCP", 443, subnet=subnet, dual_stack=True, family="IPv6") == name + "-IPv6"


def test_frontend_names() -> None:
    assert names.frontend_name(P) == P
    assert names.frontend_name(P, dual_stack=True, family="IPv6") == f"{P}-IPv6"
    assert names.frontend_name(P, dual_stack=False, family="IPv6") == P
    assert names.frontend_name(P, subnet="apps") == f"{P}-apps"
    assert names.frontend_name(P, subnet="apps", dual_stack=True, family="IPv6") == f"{P}-apps-IPv6"


@pytest.mark.parametrize(
    ("subnet", "last"),
    [
        ("x" * 41 + "-tail", "_"),  # cut ends on "-": replaced
        ("x" * 41 + "7tail", "_"),  # a digit is not a letter: replaced
        ("x" * 41 + ".tail", "_"),
        ("x" * 41 + "_tail", "_"),  # "_" is kept as it is
        ("x" * 41 + "ktail", "k"),  # a letter is kept
    ],
)
def test_frontend_name_cut_to_75_fixes_last_character(subnet: str, last: str) -> None:
    name = names.frontend_name(P, subnet=subnet)
    assert len(name) == 75
    assert name[:-1] == f"{P}-{subnet}"[:74]
    assert name[-1] == last


def test_short_subnet_frontend_name_is_not_touched() -> None:
    assert names.frontend_name(P, subnet="a-") == f"{P}-a-"


def test_pool_names() -> None:
    assert names.pool_name("kubernetes") == "kubernetes"
    assert names.pool_name("kubernetes", "IPv6") == "kubernetes-IPv6"
    assert names.pool_name("prod", "IPv4") == "prod"


@pytest.mark.parametrize(
    ("name", "ipv6"),
    [
        ("kubernetes-IPv6", True),
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/loadBalancers/kubernetes/"
            "backendAddressPools/kubernetes-ipv6",
            True,
        ),
        ("ns-svc-IPV6", True),
        ("kubernetes", False),
        ("kubernetes-IPv4", False),
    ],
)
def test_ipv6_pool_recognised_by_case_insensitive_suffix(name: str, ipv6: bool) -> None:
    assert names.is_ipv6_pool(name) is ipv6


def test_lb_names() -> None:
    assert names.lb_name("kubernetes", internal=False) == "kubernetes"
    assert names.lb_name("kubernetes", internal=True) == "kubernetes-internal"


def test_managed_pip_name() -> None:
    assert names.pip_name("kubernetes", P) == f"kubernetes-{P}"
    assert names.pip_name("kubernetes", P, dual_stack=True, family="IPv6") == f"kubernetes-{P}-IPv6"
    assert names.pip_name("kubernetes", P, dual_stack=False, family="IPv6") == f"kubernetes-{P}"


def test_pip_name_with_prefix_uses_last_segment_of_prefix_id() -> None:
    prefix_id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/publicIPPrefixes/edge-prefix"
    assert names.pip_name("kubernetes", P, pip_prefix_id=prefix_id) == f"kubernetes-{P}-edge-prefix"


def test_pip_name_prefix_id_with_trailing_slash_is_ignored() -> None:
    assert names.pip_name("kubernetes", P, pip_prefix_id="/a/b/") == f"kubernetes-{P}"


def test_long_pip_name_cut_to_75_before_family_suffix() -> None:
    cluster = "c" * 50
    name = names.pip_name(cluster, P, dual_stack=True, family="IPv6")
    assert name == f"{cluster}-{P}"[:75] + "-IPv6"
    assert len(name) == 80


@pytest.mark.parametrize(
    ("name", "owned"),
    [
        (f"{P}-TCP-80", True),
        (f"{P.upper()}-TCP-80", True),  # case-insensitive
        (f"{P}-apps-UDP-53-IPv6", True),
        ("a9b2c3d4e5f60718293a4b5c6d7e8f90-TCP-80", False),
        (names.SHARED_PROBE_NAME, False),
    ],
)
def test_owns_is_case_insensitive_prefix(name: str, owned: bool) -> None:
    assert names.owns(P, name) is owned


def test_shared_probe_name() -> None:
    assert names.SHARED_PROBE_NAME == "cluster-service-shared-health-probe"
