"""Azure Load Balancer objects in one canonical shape, whatever the producer (REST, SDK, az CLI).

Ids are kept as ARM wrote them; compare them with :func:`same_id` (ARM ids are case-insensitive).
Protocol names are spelled as ARM spells them: ``Tcp``, ``Udp``, ``All`` (rules), ``Tcp``, ``Http``,
``Https`` (probes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field

from akslbctl.records import record


def same_id(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.lower() == b.lower()


def id_name(resource_id: str | None) -> str:
    """Last path segment of an ARM id: the resource's own name."""
    return (resource_id or "").rstrip("/").rsplit("/", 1)[-1]


@record(frozen=True)
class Frontend:
    id: str
    name: str
    private_ip: str | None = None
    public_ip_id: str | None = None
    subnet_id: str | None = None
    private_ip_version: str | None = None


@record(frozen=True)
class Probe:
    id: str
    name: str
    protocol: str  # Tcp | Http | Https
    port: int
    request_path: str | None = None
    interval: int | None = None  # intervalInSeconds
    probe_threshold: int | None = None
    number_of_probes: int | None = None

    @property
    def threshold(self) -> int:
        """Consecutive results before Azure flips a member: probeThreshold, else 1.

        Azure does not honour numberOfProbes (probe-semantics.md §2).
        """
        return self.probe_threshold if self.probe_threshold and self.probe_threshold > 0 else 1


@record(frozen=True)
class Rule:
    id: str
    name: str
    protocol: str  # Tcp | Udp | All
    frontend_port: int
    backend_port: int
    frontend_id: str | None = None
    backend_pool_ids: tuple[str, ...] = ()
    probe_id: str | None = None
    enable_floating_ip: bool | None = None
    idle_timeout: int | None = None
    enable_tcp_reset: bool | None = None
    disable_outbound_snat: bool | None = None
    load_distribution: str | None = None


@record(frozen=True)
class PoolMember:
    """A backend pool member: a NIC/VMSS ipConfiguration id (NIC pools) or an address (IP pools)."""

    ipconfig_id: str | None = None
    ip_address: str | None = None
    name: str | None = None  # IP pools: the node name the provider wrote
    admin_state: str | None = None


@record(frozen=True)
class Pool:
    id: str
    name: str
    members: tuple[PoolMember, ...] = ()
    virtual_network_id: str | None = None

    @property
    def ip_based(self) -> bool:
        return any(m.ip_address for m in self.members) and not any(m.ipconfig_id for m in self.members)


@record(frozen=True)
class LoadBalancer:
    id: str
    name: str
    resource_group: str = ""
    subscription: str = ""
    sku: str | None = None
    frontends: tuple[Frontend, ...] = ()
    rules: tuple[Rule, ...] = ()
    probes: tuple[Probe, ...] = ()
    pools: tuple[Pool, ...] = ()

    def probe_by_id(self, probe_id: str | None) -> Probe | None:
        return next((p for p in self.probes if same_id(p.id, probe_id)), None)

    def pool_by_id(self, pool_id: str | None) -> Pool | None:
        return next((p for p in self.pools if same_id(p.id, pool_id)), None)

    def frontend_by_id(self, frontend_id: str | None) -> Frontend | None:
        return next((f for f in self.frontends if same_id(f.id, frontend_id)), None)


@record(frozen=True)
class PublicIP:
    id: str
    name: str
    ip_address: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@record(frozen=True)
class NetworkInterface:
    """What a NIC tells about a NIC-pool member that is not a VMSS instance (VMAS, VMSS Flex)."""

    id: str
    vm_id: str | None = None
    ipconfigs: Mapping[str, str | None] = field(default_factory=dict)  # ipconfig id (lower) → private IP
    nsg_id: str | None = None  # networkSecurityGroup.id: the NIC-level NSG
    subnets: Mapping[str, str | None] = field(default_factory=dict)  # ipconfig id (lower) → subnet id
    # ipconfig id (lower) → loadBalancerBackendAddressPools ids: the pools (of any LB) it is in
    pools: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@record(frozen=True)
class VmState:
    """A VM's (or VMSS instance's) instance view: what Azure says about whether it runs."""

    id: str  # the VM or VMSS instance id, as ARM wrote it
    power_state: str | None = None  # running | stopped | deallocated | starting | … (PowerState/…)
    provisioning_state: str | None = None  # succeeded | deleting | failed | … (ProvisioningState/…)

    @property
    def running(self) -> bool | None:
        """``IsNotActiveVMState`` of the provider, negated; None when the view says nothing."""
        if self.provisioning_state and self.provisioning_state.lower() in ("deleting", "unknown"):
            return False
        if self.power_state is None:
            return None
        return self.power_state.lower() not in ("stopped", "stopping", "deallocated", "deallocating", "unknown")
