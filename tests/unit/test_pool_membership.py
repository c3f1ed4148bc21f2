"""Which nodes the provider keeps in the ``<clusterName>`` pool (aks-lb-rules.md §7.3, §12 items 4 and 10)."""

from __future__ import annotations

from typing import Any

import pytest

from akslbctl.analysis.expect import ClusterSettings, expected_members, pool_membership
from akslbctl.analysis.provider import rules_for_ccm, with_kubernetes
from akslbctl.model.kube import Node
from akslbctl.sources.normalize import node as normalize_node

MASTER = rules_for_ccm("master")
NIC = ClusterSettings(node_resource_group="MC_rg_aks_westeurope")
IP = ClusterSettings(pool_type="nodeIP", node_resource_group="MC_rg_aks_westeurope")
EXCLUDE = "node.kubernetes.io/exclude-from-external-load-balancers"


def make_node(
    name: str = "aks-np1-12345678-vmss000000",
    labels: dict[str, str] | None = None,
    *,
    ready: str | None = "True",
    taints: list[dict[str, str]] | None = None,
    unschedulable: bool = False,
    deleting: bool = False,
) -> Node:
    meta: dict[str, Any] = {"name": name, "labels": labels or {}}
    if deleting:
        meta["deletionTimestamp"] = "2024-05-01T10:00:00Z"
    status: dict[str, Any] = {"addresses": [{"type": "InternalIP", "address": "10.224.0.4"}]}
    if ready is not None:
        status["conditions"] = [{"type": "Ready", "status": ready}]
    return normalize_node(
        {
            "metadata": meta,
            "spec": {
                "providerID": "azure:///subscriptions/s/resourceGroups/mc_rg_aks_westeurope/providers/"
                "Microsoft.Compute/virtualMachineScaleSets/aks-np1-12345678-vmss/virtualMachines/0",
                "taints": taints or [],
                "unschedulable": unschedulable,
            },
            "status": status,
        }
    )


def test_plain_worker_is_member() -> None:
    m = pool_membership(make_node(), MASTER, NIC)
    assert m.state == "member"


@pytest.mark.parametrize(
    "labels",
    [
        {"node-role.kubernetes.io/control-plane": ""},
        {"node-role.kubernetes.io/master": ""},
        {"kubernetes.io/role": "master"},
    ],
)
def test_control_plane_is_never_added_on_standard_lb(labels: dict[str, str]) -> None:
    assert pool_membership(make_node(labels=labels), MASTER, NIC) == pool_membership(
        make_node(labels=labels), MASTER, NIC
    )
    nic = pool_membership(make_node(labels=labels), MASTER, NIC)
    assert nic.state == "either"
    assert nic.reason.startswith("control-plane node")
    ip = pool_membership(make_node(labels=labels), MASTER, IP)
    assert (ip.state, ip.reason) == ("excluded", "control-plane node")


def test_role_label_other_than_master_is_a_worker() -> None:
    assert pool_membership(make_node(labels={"kubernetes.io/role": "agent"}), MASTER, NIC).state == "member"


def test_control_plane_on_basic_sku_is_member() -> None:
    basic = ClusterSettings(sku="basic")
    labels = {"node-role.kubernetes.io/control-plane": ""}
    assert pool_membership(make_node(labels=labels), MASTER, basic).state == "member"


@pytest.mark.parametrize("value", ["true", "True", "1"])
def test_exclude_label_true_excludes(value: str) -> None:
    m = pool_membership(make_node(labels={EXCLUDE: value}), MASTER, NIC)
    assert (m.state, m.reason) == ("excluded", f"label exclude-from-external-load-balancers={value}")


def test_exclude_label_false_still_excludes_because_present() -> None:
    m = pool_membership(make_node(labels={EXCLUDE: "false"}), MASTER, NIC)
    assert m.state == "excluded"
    assert m.reason.startswith("label exclude-from-external-load-balancers=false (present)")


def test_exclude_label_unparseable_excludes() -> None:
    assert pool_membership(make_node(labels={EXCLUDE: "yes"}), MASTER, NIC).state == "excluded"


@pytest.mark.parametrize("value", ["false", "False", "FALSE"])
def test_not_managed_by_cloud_provider_is_excluded(value: str) -> None:
    m = pool_membership(make_node(labels={"kubernetes.azure.com/managed": value}), MASTER, NIC)
    assert m.state == "excluded"
    assert "not managed by the cloud provider" in m.reason


def test_managed_true_is_member() -> None:
    assert (
        pool_membership(make_node(labels={"kubernetes.azure.com/managed": "true"}), MASTER, NIC).state
        == "member"
    )


def test_other_resource_group_is_excluded_case_insensitively() -> None:
    other = pool_membership(
        make_node(labels={"kubernetes.azure.com/resource-group": "MC_other"}), MASTER, NIC
    )
    assert other.state == "excluded"
    assert "MC_other" in other.reason
    same = make_node(labels={"kubernetes.azure.com/resource-group": "mc_RG_aks_WESTEUROPE"})
    assert pool_membership(same, MASTER, NIC).state == "member"


def test_resource_group_not_checked_when_cluster_group_unknown() -> None:
    n = make_node(labels={"kubernetes.azure.com/resource-group": "MC_other"})
    assert pool_membership(n, MASTER, ClusterSettings()).state == "member"


def test_deleting_node_is_dropped_by_service_controller() -> None:
    assert pool_membership(make_node(deleting=True), MASTER, NIC).state == "either"
    m = pool_membership(make_node(deleting=True), MASTER, IP)
    assert (m.state, m.reason) == ("excluded", "metadata.deletionTimestamp is set")


def test_autoscaler_taint_is_dropped_by_service_controller() -> None:
    taint = [{"key": "ToBeDeletedByClusterAutoscaler", "value": "1714557600", "effect": "NoSchedule"}]
    nic = pool_membership(make_node(taints=taint), MASTER, NIC)
    assert nic.state == "either"
    assert "ToBeDeletedByClusterAutoscaler" in nic.reason
    assert "NIC-based pool keeps it" in nic.reason
    assert pool_membership(make_node(taints=taint), MASTER, IP).state == "excluded"


def test_not_ready_is_a_predicate_only_before_kubernetes_1_27() -> None:
    old = with_kube("v1.26.9")
    new = with_kube("v1.27.1")
    assert pool_membership(make_node(ready="False"), old, NIC).state == "either"
    assert pool_membership(make_node(ready="False"), old, IP).state == "excluded"
    assert pool_membership(make_node(ready="False"), new, NIC).state == "member"
    assert pool_membership(make_node(ready=None), old, IP).reason.startswith("no Ready condition")


def test_cordoned_node_left_pools_only_before_kubernetes_1_19() -> None:
    assert pool_membership(make_node(unschedulable=True), with_kube("v1.18.20"), IP).state == "excluded"
    assert pool_membership(make_node(unschedulable=True), with_kube("v1.19.0"), IP).state == "member"


def test_provider_itself_excluded_not_ready_nodes_on_1_23_to_1_27() -> None:
    not_ready = make_node(ready="False")
    m = pool_membership(not_ready, rules_for_ccm("1.27"), NIC)
    assert m.state == "excluded"
    assert "excludes NotReady nodes itself" in m.reason
    assert pool_membership(not_ready, rules_for_ccm("1.28.0"), NIC).state == "member"


def test_uninitialized_node_is_not_excluded_by_the_provider() -> None:
    taint = [
        {"key": "node.cloudprovider.kubernetes.io/uninitialized", "value": "true", "effect": "NoSchedule"}
    ]
    assert (
        pool_membership(make_node(ready="False", taints=taint), rules_for_ccm("1.27"), NIC).state == "member"
    )


def test_provider_exclusion_wins_over_service_controller_drop() -> None:
    n = make_node(labels={EXCLUDE: "true"}, deleting=True)
    assert pool_membership(n, MASTER, NIC).state == "excluded"


def test_several_reasons_are_joined() -> None:
    n = make_node(labels={"node-role.kubernetes.io/control-plane": ""}, deleting=True)
    m = pool_membership(n, MASTER, IP)
    assert m.reason == "control-plane node; metadata.deletionTimestamp is set"


def test_expected_members_by_name() -> None:
    nodes = [make_node("a"), make_node("b", labels={EXCLUDE: "true"})]
    got = expected_members(nodes, MASTER, NIC)
    assert {k: v.state for k, v in got.items()} == {"a": "member", "b": "excluded"}


def with_kube(git: str):
    """Current provider rules with the Kubernetes behaviour of ``git`` (isolates Layer A)."""
    return with_kubernetes(MASTER, git)
