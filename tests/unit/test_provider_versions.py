"""Provider and Kubernetes rule sets by version (aks-lb-rules.md §6.7, §7.3).

Each row of the §6.7 tables is a pair of versions: the switch is off on the last release without the
behaviour and on from the first release with it. The behaviour itself (probes, pools) is exercised
in test_expect_cases.py and test_pool_membership.py.
"""

from __future__ import annotations

import pytest

from akslbctl.analysis.provider import (
    LATEST_PATCH,
    MASTER_MINOR,
    rules_for_ccm,
    rules_for_cluster,
    with_kubernetes,
)

# ---------------------------------------------------------------------------------------------
# Parsing


@pytest.mark.parametrize(
    ("text", "version", "name"),
    [
        ("v1.24.10", (1, 24, 10), "cloud-provider-azure v1.24.10"),
        ("1.24.10", (1, 24, 10), "cloud-provider-azure v1.24.10"),
        ("1.24", (1, 24, LATEST_PATCH), "cloud-provider-azure v1.24 (latest patch)"),
        (" v1.29.3 ", (1, 29, 3), "cloud-provider-azure v1.29.3"),
        ("v1.30.2-rc.1", (1, 30, 2), "cloud-provider-azure v1.30.2"),
    ],
)
def test_ccm_version_forms(text: str, version: tuple[int, int, int], name: str) -> None:
    rules = rules_for_ccm(text)
    assert rules.ccm_version == version
    assert rules.name == name
    assert rules.kube_version == (1, version[1])


@pytest.mark.parametrize("text", ["latest", "master", "LATEST", " Master "])
def test_latest_and_master_are_the_master_line(text: str) -> None:
    rules = rules_for_ccm(text)
    assert rules.is_master
    assert rules.ccm_version == (1, MASTER_MINOR, LATEST_PATCH)
    assert rules.name == f"cloud-provider-azure master (v1.{MASTER_MINOR} line)"


def test_minor_beyond_table_is_master() -> None:
    assert rules_for_ccm("v1.40.1").name == rules_for_ccm("master").name


def test_pre_1_23_release_lines_are_legacy_with_their_kubernetes() -> None:
    rules = rules_for_ccm("v1.1.4")
    assert rules.legacy_probes and not rules.app_protocol_honoured
    assert rules.kube_version == (1, 22)
    assert rules_for_ccm("0.7.20").kube_version == (1, 20)


@pytest.mark.parametrize("text", ["", "1", "one.two", "v1.24.x", "2.0.1", "v1.24.10.3"])
def test_unreadable_ccm_version_is_a_one_line_value_error(text: str) -> None:
    with pytest.raises(ValueError) as err:
        rules_for_ccm(text)
    assert "\n" not in str(err.value)
    assert "cloud-provider-azure version" in str(err.value)


@pytest.mark.parametrize(
    ("git", "ccm", "kube"),
    [
        ("v1.29.4", (1, 29, LATEST_PATCH), (1, 29)),
        ("v1.28.3-aks.1", (1, 28, LATEST_PATCH), (1, 28)),
        ("1.24.9", (1, 24, LATEST_PATCH), (1, 24)),
        ("v1.23.12", (1, 23, LATEST_PATCH), (1, 23)),
    ],
)
def test_cluster_version_maps_to_newest_patch_of_its_branch(git: str, ccm, kube) -> None:
    rules = rules_for_cluster(git)
    assert rules.ccm_version == ccm
    assert rules.kube_version == kube


def test_unknown_cluster_version_is_master() -> None:
    assert rules_for_cluster(None).is_master


def test_cluster_minor_beyond_table_is_master_with_its_kubernetes() -> None:
    rules = rules_for_cluster("v1.41.0")
    assert rules.is_master
    assert rules.kube_version == (1, 41)


def test_kubernetes_1_22_assumes_newest_1_23_provider_with_its_guard() -> None:
    rules = rules_for_cluster("v1.22.6")
    assert rules.ccm_version == (1, 23, LATEST_PATCH)
    assert rules.kube_version == (1, 22)
    assert rules.force_tcp_without_request_path
    assert "assumed for Kubernetes 1.22" in rules.name


@pytest.mark.parametrize("git", ["v2.0.0", "banana", ""])
def test_unreadable_cluster_version(git: str) -> None:
    with pytest.raises(ValueError, match="cannot read Kubernetes version"):
        rules_for_cluster(git)


def test_with_kubernetes_keeps_provider_switches() -> None:
    rules = with_kubernetes(rules_for_ccm("v1.24.10"), "v1.27.3")
    assert rules.ccm_version == (1, 24, 10)
    assert rules.kube_version == (1, 27)
    assert not rules.readiness_predicate


# ---------------------------------------------------------------------------------------------
# §6.7 CCM rows: (switch, last release without, first release with, value before, value after)

CCM_ROWS = [
    # ≤ v1.23.3 legacy → v1.23.4 per-port rework (appProtocol honoured, Local probe P-TCP-<H>)
    ("legacy_probes", "1.23.3", "1.23.4", True, False),
    ("app_protocol_honoured", "1.23.3", "1.23.4", False, True),
    ("unknown_protocol", "1.23.3", "1.23.4", "verbatim", "error"),
    ("idle_timeout_on_udp", "1.23.3", "1.23.4", False, True),
    # v1.23.9 (6cdd79923): default path "/", unknown protocol → Tcp
    ("default_request_path", "1.23.8", "1.23.9", "/healthz", "/"),
    ("unknown_protocol", "1.23.8", "1.23.9", "error", "tcp"),
    # v1.23.11+: compatibility guard, 1.23 branch only
    ("force_tcp_without_request_path", "1.23.10", "1.23.11", False, True),
    ("force_tcp_without_request_path", "1.23.11", "1.24.0", True, False),
    # v1.24.12 / v1.25.6 / v1.26.0: per-port protocol & port, no_lb_rule, no_probe_rule
    ("per_port_protocol_and_port", "1.24.11", "1.24.12", False, True),
    ("per_port_protocol_and_port", "1.25.5", "1.25.6", False, True),
    ("per_port_protocol_and_port", "1.23", "1.26.0", False, True),
    # v1.24.18 / v1.25.12 / v1.26.8 / v1.27.0: probeThreshold
    ("threshold_field", "1.24.17", "1.24.18", "numberOfProbes", "probeThreshold"),
    ("threshold_field", "1.25.11", "1.25.12", "numberOfProbes", "probeThreshold"),
    ("threshold_field", "1.26.7", "1.26.8", "numberOfProbes", "probeThreshold"),
    ("threshold_field", "1.23", "1.27.0", "numberOfProbes", "probeThreshold"),
    # v1.24.20 / v1.25.14 / v1.26.10 / v1.27.4 / v1.28.0: Local + PLS proxy protocol → Cluster probes
    ("pls_proxy_protocol_cluster_probes", "1.24.19", "1.24.20", False, True),
    ("pls_proxy_protocol_cluster_probes", "1.25.13", "1.25.14", False, True),
    ("pls_proxy_protocol_cluster_probes", "1.26.9", "1.26.10", False, True),
    ("pls_proxy_protocol_cluster_probes", "1.27.3", "1.27.4", False, True),
    ("pls_proxy_protocol_cluster_probes", "1.23", "1.28.0", False, True),
    # v1.25.16 / v1.26.12 / v1.27.6 / v1.28.0: Local probe honours interval / num-of-probe
    ("local_honours_probe_annotations", "1.25.15", "1.25.16", False, True),
    ("local_honours_probe_annotations", "1.26.11", "1.26.12", False, True),
    ("local_honours_probe_annotations", "1.27.5", "1.27.6", False, True),
    ("local_honours_probe_annotations", "1.24", "1.28.0", False, True),
    # v1.25.17 / v1.26.13 / v1.27.7 / v1.28.0: literal probe port, idle timeout max 100
    ("literal_probe_port", "1.25.16", "1.25.17", False, True),
    ("literal_probe_port", "1.26.12", "1.26.13", False, True),
    ("literal_probe_port", "1.27.6", "1.27.7", False, True),
    ("literal_probe_port", "1.24", "1.28.0", False, True),
    ("idle_timeout_max", "1.25.16", "1.25.17", 30, 100),
    ("idle_timeout_max", "1.27.6", "1.28.0", 30, 100),
    # v1.25.19 / v1.26.15 / v1.27.9 / v1.28.1 / v1.29.0: per-port probe port overrides Local
    ("local_per_port_override", "1.25.18", "1.25.19", False, True),
    ("local_per_port_override", "1.26.14", "1.26.15", False, True),
    ("local_per_port_override", "1.27.8", "1.27.9", False, True),
    ("local_per_port_override", "1.28.0", "1.28.1", False, True),
    ("local_per_port_override", "1.24", "1.29.0", False, True),
    # v1.28.5 / v1.29.0: shared probe mode
    ("shared_probe_available", "1.28.4", "1.28.5", False, True),
    ("shared_probe_available", "1.27", "1.29.0", False, True),
    # v1.29.0: new NSG rule scheme
    ("nsg_rule_scheme_v2", "1.28", "1.29.0", False, True),
    # v1.33.0: shared probe dropped when the last Cluster Service switches to Local
    ("shared_probe_dropped_on_local_switch", "1.32", "1.33.0", False, True),
]


@pytest.mark.parametrize(("switch", "before", "after", "old", "new"), CCM_ROWS)
def test_ccm_behaviour_flips_at_version(switch: str, before: str, after: str, old, new) -> None:
    assert getattr(rules_for_ccm(before), switch) == old
    assert getattr(rules_for_ccm(after), switch) == new


def test_master_has_every_current_behaviour() -> None:
    rules = rules_for_ccm("master")
    assert rules.app_protocol_honoured and rules.per_port_protocol_and_port and rules.shared_probe_available
    assert (
        rules.local_per_port_override and rules.literal_probe_port and rules.local_honours_probe_annotations
    )
    assert rules.default_request_path == "/" and rules.unknown_protocol == "tcp"
    assert rules.threshold_field == "probeThreshold" and rules.idle_timeout_max == 100
    assert not rules.force_tcp_without_request_path
    assert not rules.provider_excludes_not_ready


def test_provider_not_ready_exclusion_between_1_23_and_1_28() -> None:
    assert not rules_for_ccm("1.22").provider_excludes_not_ready
    assert rules_for_ccm("1.23.0").provider_excludes_not_ready
    assert rules_for_ccm("1.27").provider_excludes_not_ready
    assert not rules_for_ccm("1.28.0").provider_excludes_not_ready


# ---------------------------------------------------------------------------------------------
# §6.7 Kubernetes rows


KUBE_ROWS = [
    ("unschedulable_excluded", "v1.18.20", "v1.19.0", True, False),  # PR #90823
    ("readiness_predicate", "v1.26.15", "v1.27.0", True, False),  # StableLoadBalancerNodeSet beta
    ("local_probe_requires_proxy_health", "v1.26.15", "v1.27.0", False, True),  # PR #111661
    ("healthz_checks_node_eligibility", "v1.29.9", "v1.30.0", False, True),  # KEP-3836 beta on
]


@pytest.mark.parametrize(("switch", "before", "after", "old", "new"), KUBE_ROWS)
def test_kubernetes_behaviour_flips_at_version(
    switch: str, before: str, after: str, old: bool, new: bool
) -> None:
    assert getattr(rules_for_cluster(before), switch) is old
    assert getattr(rules_for_cluster(after), switch) is new


def test_ccm_version_implies_its_kubernetes_minor() -> None:
    assert rules_for_ccm("1.26.3").readiness_predicate
    assert not rules_for_ccm("1.27.0").readiness_predicate
    assert rules_for_ccm("1.31").healthz_checks_node_eligibility


def test_a_cluster_version_that_does_not_fix_the_threshold_field_accepts_either():
    """Kubernetes 1.24–1.26 run a CCM of that branch at a patch the cluster's version does not tell; the
    branch moved from numberOfProbes to probeThreshold at v1.24.18 / v1.25.12 / v1.26.8 (commit
    1feba1628 and its cherry-picks), so a probe that carries only numberOfProbes is judged on it."""
    from akslbctl.analysis.provider import rules_for_ccm, rules_for_cluster

    for version in ("v1.24.9", "v1.25.16", "v1.26.3-aks.1"):
        rules = rules_for_cluster(version)
        assert (rules.threshold_field, rules.threshold_alternate) == ("probeThreshold", "numberOfProbes")
    assert rules_for_cluster(None).threshold_alternate == "numberOfProbes"  # version unknown
    for version in ("v1.27.3", "v1.29.4", "v1.33.0"):
        assert rules_for_cluster(version).threshold_alternate is None
    assert rules_for_cluster("v1.22.5").threshold_field == "numberOfProbes"
    assert rules_for_ccm("v1.24.17").threshold_field == "numberOfProbes"  # an explicit patch is exact
    assert rules_for_ccm("v1.24.18").threshold_alternate is None
