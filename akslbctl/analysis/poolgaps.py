"""Why a node is not in the backend pool, why a member should not be, and what a node's state means.

The provider's pool rules (aks-lb-rules.md §7.3) decide who *should* be in the ``<clusterName>`` pool
(``expect.pool_membership``). This module names, per node, why reality differs: the NIC is already in
another LB's pool (the provider skips it without a word), the node is no VM at all (virtual-kubelet,
ACI), the VM is not running, the node is being deleted, or the provider simply has not reconciled yet
(with the Service's last related event). It also says what NotReady, cordoned and autoscaler-tainted
nodes mean for *this* Kubernetes version: out of the pool, or left in it for the probe to decide (C10).

Pure: reads the Case and the analysis, no client library.
"""

from __future__ import annotations

from akslbctl.analysis.events import LB_REASONS, age, failures
from akslbctl.analysis.match import vm_path
from akslbctl.analysis.provider import ProviderRules
from akslbctl.model.azure import LoadBalancer, NetworkInterface, VmState, id_name
from akslbctl.model.case import Case
from akslbctl.model.kube import AUTOSCALER_DELETION_TAINT, Node

VIRTUAL_KUBELET_LABEL = "type"


def _lb_of_pool(pool_id: str) -> str | None:
    parts = [p for p in pool_id.split("/") if p]
    low = [p.lower() for p in parts]
    if "loadbalancers" in low and low.index("loadbalancers") + 1 < len(parts):
        return parts[low.index("loadbalancers") + 1]
    return None


def _same_lb(a: str, b: str) -> bool:
    """``isBackendPoolOnSameLB``: names compared case-insensitively with ``-internal`` trimmed."""

    def trim(name: str) -> str:
        low = name.lower()
        return low[: -len("-internal")] if low.endswith("-internal") else low

    return trim(a) == trim(b)


class Evidence:
    """Indexes of the NICs and instance views read, by VM (built once per diagnosis)."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.nic_by_vm: dict[str, NetworkInterface] = {}
        for nic in case.network_interfaces:
            key = vm_path(nic.vm_id) if nic.vm_id else vm_path(nic.id)
            if key:
                self.nic_by_vm.setdefault(key, nic)
        self.state_by_vm: dict[str, VmState] = {}
        for st in case.vm_states:
            key = vm_path(st.id)
            if key:
                self.state_by_vm[key] = st

    def nic(self, node: Node) -> NetworkInterface | None:
        key = vm_path(node.provider_id) if node.provider_id else None
        return self.nic_by_vm.get(key) if key else None

    def vm_state(self, node: Node) -> VmState | None:
        key = vm_path(node.provider_id) if node.provider_id else None
        return self.state_by_vm.get(key) if key else None

    def other_lb_pool(self, node: Node, lb: LoadBalancer) -> tuple[str, str] | None:
        """(LB name, pool name) of another LB whose pool already holds the node's NIC ipConfiguration."""
        nic = self.nic(node)
        if nic is None:
            return None
        for pool_ids in nic.pools.values():
            for pid in pool_ids:
                other = _lb_of_pool(pid)
                if other and not _same_lb(other, lb.name):
                    return other, id_name(pid)
        return None


def not_a_vm(node: Node) -> str | None:
    """Why a node can never be a pool member: its providerID names no Azure VM or VMSS instance."""
    pid = node.provider_id
    if pid and vm_path(pid):
        return None
    kind = "virtual-kubelet" if node.labels.get(VIRTUAL_KUBELET_LABEL) == "virtual-kubelet" else None
    shown = f"providerID {pid}" if pid else "no providerID"
    what = f" ({kind}, e.g. the ACI virtual node)" if kind else ""
    return (
        f"{shown}: not an Azure VM or VMSS instance{what}; the provider never adds it (label it "
        "node.kubernetes.io/exclude-from-external-load-balancers=true so that it stops trying)"
    )


def last_lb_event(case: Case) -> str | None:
    """``last provider event: EnsuredLoadBalancer 3m ago`` — or the last failure with its code."""
    for e in case.events or ():
        if e.reason in LB_REASONS:
            a = age(e.last_seen, case.observed_at)
            ago = f" {a} ago" if a else ""
            failed = failures([e], case.service)
            if failed:
                f = failed[0]
                return f"last provider event: {e.reason}{ago} — {f.classified.what}"
            return f"last provider event: {e.reason}{ago}"
    return None


def missing_reason(node: Node, evidence: Evidence, lb: LoadBalancer) -> tuple[str, str]:
    """(cause, words) for a node the provider's rules put in the pool but ARM does not list.

    Causes: ``no-provider-id``, ``not-a-vm``, ``nic-in-other-lb``, ``vm-not-running``, ``not-reconciled``.
    """
    if not node.provider_id and node.labels.get(VIRTUAL_KUBELET_LABEL) != "virtual-kubelet":
        # Not "no VM": the cloud node manager has not set it (yet), or the evidence was trimmed of it; the
        # provider finds a node's VM by its name, so this says nothing about whether it is one.
        return (
            "no-provider-id",
            "the Node has no spec.providerID, so akslbctl cannot tell which VM it is nor join it to a pool member "
            "(the cloud node manager sets it; check that it runs)",
        )
    why = not_a_vm(node)
    if why is not None:
        return "not-a-vm", why
    case = evidence.case
    other = evidence.other_lb_pool(node, lb)
    if other is not None:
        return (
            "nic-in-other-lb",
            f"its NIC ipConfiguration is already in pool {other[1]} of load balancer {other[0]}: the provider "
            "skips such NICs without an error",
        )
    state = evidence.vm_state(node)
    if state is not None and state.running is False:
        return "vm-not-running", f"the VM is {_vm_words(state)}: the provider skips VMs that are not running"
    event = last_lb_event(case)
    return (
        "not-reconciled",
        "it should be in the pool; the provider has not reconciled it yet" + (f" ({event})" if event else ""),
    )


def _vm_words(state: VmState) -> str:
    if state.provisioning_state and state.provisioning_state.lower() in ("deleting", "unknown"):
        return f"provisioningState {state.provisioning_state}"
    return state.power_state or "not running"


def node_state(node: Node, provider: ProviderRules, *, in_pool: bool, nic_pool: bool = True) -> str | None:
    """What a node's state means for the LB on this Kubernetes/provider version (C10), or None.

    NotReady, cordoned, the autoscaler deletion taint and a ``deletionTimestamp``: whether that takes
    the node out of the pool or leaves it to the probe.
    """
    parts = []
    kube = ".".join(str(v) for v in provider.kube_version)
    if node.deleting:
        parts.append(
            "being deleted (deletionTimestamp): the service controller leaves it out"
            + ("; a NIC pool keeps it until the VM is gone" if in_pool and nic_pool else "")
        )
    if node.autoscaler_deleting:
        parts.append(
            f"tainted {AUTOSCALER_DELETION_TAINT}: left out of pool updates"
            + ("; a NIC pool keeps it until the VM is gone" if in_pool and nic_pool else "")
        )
    if node.ready is not True:
        state = "NotReady" if node.ready is False else "no Ready condition"
        if provider.provider_excludes_not_ready:
            parts.append(f"{state}: {provider.name} excludes NotReady nodes from the pool")
        elif provider.readiness_predicate:
            parts.append(
                f"{state}: on Kubernetes {kube} (< 1.27) readiness is a pool predicate"
                + ("; a NIC pool keeps a member it already has" if in_pool and nic_pool else "")
            )
        else:
            parts.append(
                f"{state}: stays in the pool on Kubernetes {kube} (≥ 1.27, StableLoadBalancerNodeSet); the probe "
                "decides"
            )
    if node.unschedulable:
        if provider.unschedulable_excluded:
            parts.append(f"cordoned: on Kubernetes {kube} (< 1.19) cordoned nodes leave LB pools")
        else:
            parts.append("cordoned: stays in the pool (since Kubernetes 1.19 cordoning does not drain LB traffic)")
    return "; ".join(parts) or None
