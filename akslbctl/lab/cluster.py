"""A simulated AKS cluster: the documents its APIs serve and what its nodes answer.

:class:`LabCluster` is the whole world one lab serves: Kubernetes objects exactly as the API server
returns them, ARM resources in the REST wire shape (load balancers, public IPs, NICs, and the network
path in front of the nodes: the VNet and its subnet, the node and subnet NSGs, Private Link
Services), the per-node listeners (what kube-proxy — or Cilium — and the applications answer on each
node address) and the misbehaviours a scenario wants. Dual-stack nodes carry the IPv4-mapped IPv6
form of their address (:func:`mapped_ipv6`), which reaches the same loopback listener.

:class:`AksBuilder` writes what AKS and cloud-provider-azure really produce for the common cases
(aks-lb-rules.md §2–§7; probe-semantics.md §7–§10), so a scenario is a few lines: nodes, Services,
then drift and faults on top. It is an independent oracle of the provider: it deliberately does not
import ``akslbctl.analysis``, so a bug there cannot hide behind the same bug here.
"""

from __future__ import annotations

import errno
import hashlib
import json
import random
import socket
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import field
from typing import Any

from akslbctl.lab.behaviours import Behaviour, Blackhole, Closed, Http, ListenerSpec, Reply
from akslbctl.lab.httpserver import Fault
from akslbctl.records import record

Doc = dict[str, Any]

DEFAULT_SUBSCRIPTION = "8f3c2a1e-5b7d-4c9e-a0f1-2d3e4b5c6a7f"
CLUSTER_NAME = "kubernetes"  # the CCM's --cluster-name on AKS: names the LBs, the pool, the PIPs
SHARED_PROBE_NAME = "cluster-service-shared-health-probe"
ANNOTATION = "service.beta.kubernetes.io/"
INTERNAL_ANNOTATION = ANNOTATION + "azure-load-balancer-internal"
AUTOSCALER_TAINT = "ToBeDeletedByClusterAutoscaler"
EXCLUDE_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"
CREATED = "2024-05-01T08:00:00Z"
PLS_CREATE = ANNOTATION + "azure-pls-create"
PLS_PROXY_PROTOCOL = ANNOTATION + "azure-pls-proxy-protocol"
PLS_NAME = ANNOTATION + "azure-pls-name"
SUBNET_NAME = "aks-subnet"
CUSTOM_SUBNET_NSG = "custom-subnet-nsg"
IPV4, IPV6 = "IPv4", "IPv6"
DATA_PLANES = ("kube-proxy", "cilium")
CILIUM_LABEL = "kubernetes.azure.com/ebpf-dataplane"  # AKS labels nodes of "Azure CNI powered by Cilium"
ARM_SCOPES = ("*", "rule-health", "lb", "pip", "nic", "vnet", "subnet", "nsg", "pls")
"""What :meth:`AksBuilder.arm_forbidden` takes, besides ``"rg:<resource group>"``."""

DEFAULT_APP = Http(
    default=Reply(200, b"<html><body>web</body></html>\n", (("Content-Type", "text/html"),)),
)
"""The application behind a Service unless a scenario says otherwise: 200 on every path."""


# ---------------------------------------------------------------------------------------------
# Address ranges: one second octet of 127.0.0.0/8 per lab


class OctetLease:
    """Holds 127.<octet>.0.0/16 for one cluster, in this process and against other processes.

    Inside the process a registry keeps two clusters apart; across processes (parallel test runs, a
    ``lab up`` next to a test run) a socket bound to 127.<octet>.255.254 on a fixed port marks the
    range as taken. The lease ends with :meth:`release` or when the cluster is garbage-collected.
    """

    _lock = threading.Lock()
    _taken: set[int] = set()
    MARK_PORT = 39_871

    def __init__(self, octet: int, sock: socket.socket | None) -> None:
        self.octet = octet
        self._sock = sock
        self._finalizer = weakref.finalize(self, OctetLease._free, octet, sock)

    @staticmethod
    def _free(octet: int, sock: socket.socket | None) -> None:
        if sock is not None:
            sock.close()
        with OctetLease._lock:
            OctetLease._taken.discard(octet)

    def release(self) -> None:
        self._finalizer()

    @classmethod
    def take(cls, octet: int | None = None) -> OctetLease:
        """Lease ``octet``, or the first free one counting down from 254 (low ranges are left to tests)."""
        candidates = [octet] if octet is not None else list(range(254, 99, -1))
        for o in candidates:
            with cls._lock:
                if o in cls._taken:
                    if octet is not None:
                        raise ValueError(f"127.{o}.0.0/16 is already used by another lab in this process")
                    continue
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                try:
                    sock.bind((f"127.{o}.255.254", cls.MARK_PORT))
                except OSError as exc:
                    sock.close()
                    if exc.errno == errno.EADDRINUSE and octet is None:
                        continue
                    if exc.errno != errno.EADDRINUSE:
                        raise
                    sock = None  # an explicit octet: the caller insists; share it
                cls._taken.add(o)
                return cls(o, sock)
        raise RuntimeError("no free 127.N.0.0/16 range left for another lab")


def node_address(octet: int, index: int) -> str:
    """Node ``index`` of a lab → 127.<octet>.x.y; node 0 is .0.4 as on an AKS subnet (10.224.0.4)."""
    return f"127.{octet}.{index // 250}.{index % 250 + 4}"


def mapped_ipv6(ipv4: str) -> str:
    """A dual-stack node's IPv6 address: the IPv4-mapped ``::ffff:127.o.x.y``.

    The only IPv6 loopback is ``::1``; a mapped address is the one IPv6 form that still reaches the
    node's 127.o.x.y listener (an AF_INET6 connect to it arrives on the AF_INET socket), so the
    IPv6 side of a dual-stack lab is real traffic to the same node.
    """
    return f"::ffff:{ipv4}"


# ---------------------------------------------------------------------------------------------
# The cluster


@record
class LabCluster:
    """Everything one lab serves. Mutable on purpose: scenarios and tests adjust it before serving."""

    name: str
    description: str = ""
    kubernetes_version: str = "v1.29.4"
    subscription: str = DEFAULT_SUBSCRIPTION
    node_resource_group: str = "MC_rg_aks_westeurope"
    location: str = "westeurope"
    # Kubernetes objects as the API server returns them (GET of one object).
    namespaces: list[Doc] = field(default_factory=list)
    services: list[Doc] = field(default_factory=list)
    nodes: list[Doc] = field(default_factory=list)
    endpointslices: list[Doc] = field(default_factory=list)
    events: list[Doc] = field(default_factory=list)
    # ARM resources in the REST wire shape.
    load_balancers: list[Doc] = field(default_factory=list)
    public_ips: list[Doc] = field(default_factory=list)
    nics: list[Doc] = field(default_factory=list)
    # The network path (REST docs): VNets with their subnets inline, NSGs, Private Link Services.
    virtual_networks: list[Doc] = field(default_factory=list)
    security_groups: list[Doc] = field(default_factory=list)
    private_link_services: list[Doc] = field(default_factory=list)
    # Inside the cluster (issue 12): the Services' pods and the NetworkPolicies (and Cilium ones, when
    # ``cilium_crd`` says the CRD is served).
    pods: list[Doc] = field(default_factory=list)
    network_policies: list[Doc] = field(default_factory=list)
    cilium_network_policies: list[Doc] = field(default_factory=list)
    cilium_crd: bool = False
    data_plane: str = "kube-proxy"  # or "cilium" (kube-proxy replacement)
    # What each node address answers.
    listeners: list[ListenerSpec] = field(default_factory=list)
    # Azure's own verdict where the scenario overrides it: (rule name lower-cased or "*", member IP)
    # → (state, reason).
    rule_health_overrides: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    # VM / VMSS instance id (lower-cased) → power state of its instance view (default: running)
    vm_power: dict[str, str] = field(default_factory=dict)
    kube_forbidden: set[str] = field(default_factory=set)  # resource plurals, e.g. {"nodes"}
    # {"*"}, or scopes: "rule-health", "lb", "pip", "nic", "vnet", "subnet", "nsg", "pls", "rg:<name>"
    arm_forbidden: set[str] = field(default_factory=set)
    # Rule-health LRO: the POST answers 202 + Location; polling the Location answers 202 this many
    # more times, then 200 (None: never completes). Retry-After is in whole seconds as ARM sends it;
    # 0 lets the client use its own polling interval.
    rule_health_polls: int | None = 0
    rule_health_retry_after: int = 0
    rule_health_min_api_version: str = "2024-05-01"
    main_service: str = "default/web"
    address_octet: int = 0
    lease: OctetLease | None = field(default=None, repr=False, compare=False)

    @property
    def main_namespace(self) -> str:
        return self.main_service.partition("/")[0]

    def service(self, ref: str) -> Doc:
        ns, _, name = ref.rpartition("/")
        ns = ns or "default"
        for s in self.services:
            if s["metadata"]["name"] == name and s["metadata"]["namespace"] == ns:
                return s
        raise KeyError(ref)

    def node(self, ref: str | int) -> Doc:
        if isinstance(ref, int):
            return self.nodes[ref]
        for n in self.nodes:
            if n["metadata"]["name"] == ref or ref in _internal_ips(n):
                return n
        raise KeyError(ref)

    def address_of(self, ref: str | int) -> str:
        """A node's InternalIP, from its index, name or address."""
        ip = _internal_ip(self.node(ref))
        if ip is None:
            raise KeyError(ref)
        return ip

    def address6_of(self, ref: str | int) -> str:
        """A dual-stack node's IPv6 InternalIP (``::ffff:127.o.x.y``); KeyError on a single-stack node."""
        for ip in _internal_ips(self.node(ref)):
            if ":" in ip:
                return ip
        raise KeyError(ref)

    def load_balancer(self, name: str) -> Doc:
        for lb in self.load_balancers:
            if lb["name"].lower() == name.lower():
                return lb
        raise KeyError(name)

    def security_group(self, name: str) -> Doc:
        return _named(self.security_groups, name)

    def virtual_network(self, name: str) -> Doc:
        return _named(self.virtual_networks, name)

    def private_link_service(self, name: str) -> Doc:
        return _named(self.private_link_services, name)

    def release(self) -> None:
        """Give the 127.<octet> range back (also happens when the cluster is garbage-collected)."""
        if self.lease is not None:
            self.lease.release()


def _internal_ip(node: Doc) -> str | None:
    for a in node.get("status", {}).get("addresses", []):
        if a.get("type") == "InternalIP":
            return a.get("address")
    return None


def _internal_ips(node: Doc) -> list[str]:
    return [a["address"] for a in node.get("status", {}).get("addresses", []) if a.get("type") == "InternalIP"]


def _named(docs: list[Doc], name: str) -> Doc:
    for d in docs:
        if d["name"].lower() == name.lower():
            return d
    raise KeyError(name)


# ---------------------------------------------------------------------------------------------
# Builder drafts


@record
class _NodeDraft:
    index: int
    name: str
    instance_id: str
    ready: bool = True
    deleting: bool = False
    proxy_healthy: bool = True
    taints: list[Doc] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    unschedulable: bool = False
    provider_id: str | None = None  # None: the VM/VMSS instance the lab makes; "": no providerID at all
    virtual: bool = False  # a virtual-kubelet node: no VM, no NIC, never in a pool

    @property
    def autoscaler_tainted(self) -> bool:
        return any(t.get("key") == AUTOSCALER_TAINT for t in self.taints)


@record
class _ServiceDraft:
    namespace: str
    name: str
    uid: str
    type: str
    ports: list[Doc]
    policy: str
    annotations: dict[str, str]
    labels: dict[str, str]
    endpoints_on: list[int]
    ready: list[int] | None
    terminating: list[int]
    app: Behaviour | Mapping[int, Behaviour]
    cluster_ip: str
    ingress_ip: str | None
    health_check_node_port: int | None
    session_affinity: str
    ip_families: tuple[str, ...] = (IPV4,)
    cluster_ip6: str | None = None
    ingress_ip6: str | None = None
    source_ranges: list[str] = field(default_factory=list)

    @property
    def dual_stack(self) -> bool:
        return len(self.ip_families) == 2

    @property
    def families(self) -> tuple[str, ...]:
        """The families the provider builds, IPv4 first (one frontend, rule set and probe set each)."""
        return (IPV4, IPV6) if self.dual_stack else (IPV4,)

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def prefix(self) -> str:
        """P: "a" + the UID without dashes, cut to 32 characters (aks-lb-rules.md §2)."""
        return ("a" + self.uid.replace("-", ""))[:32]

    @property
    def internal(self) -> bool:
        return self.annotations.get(INTERNAL_ANNOTATION) == "true"

    @property
    def is_lb(self) -> bool:
        return self.type == "LoadBalancer"

    def app_for(self, port: int) -> Behaviour:
        if isinstance(self.app, Behaviour):
            return self.app
        return self.app.get(port, DEFAULT_APP)

    def endpoint_states(self) -> list[tuple[int, bool, bool, bool]]:
        """(node index, ready, serving, terminating) per endpoint."""
        out = []
        for idx in self.endpoints_on:
            terminating = idx in self.terminating
            ready = not terminating and (self.ready is None or idx in self.ready)
            serving = ready or terminating
            out.append((idx, ready, serving, terminating))
        return out


class _Ids:
    """ARM ids of one resource group; the case of the resource group is ARM's (``MC_…``)."""

    def __init__(self, sub: str, rg: str) -> None:
        self.sub, self.rg = sub, rg
        self.rg_prefix = f"/subscriptions/{sub}/resourceGroups/{rg}"
        self.net = f"{self.rg_prefix}/providers/Microsoft.Network"
        self.compute = f"{self.rg_prefix}/providers/Microsoft.Compute"

    def nsg(self, name: str) -> str:
        return f"{self.net}/networkSecurityGroups/{name}"

    def vnet(self, name: str) -> str:
        return f"{self.net}/virtualNetworks/{name}"

    def lb(self, name: str) -> str:
        return f"{self.net}/loadBalancers/{name}"

    def pip(self, name: str) -> str:
        return f"{self.net}/publicIPAddresses/{name}"


# ---------------------------------------------------------------------------------------------
# The builder


class AksBuilder:
    """Build a :class:`LabCluster` the way AKS + cloud-provider-azure would lay it out.

    Node state and Services are recorded as drafts; :meth:`build` materialises Kubernetes JSON, ARM
    JSON and the per-node data plane, then applies the drift/fault mutators in the order they were
    called. Builders are cheap: ``AksBuilder(nodes=5000).add_service("web").build()`` stays well under
    a second.
    """

    def __init__(
        self,
        nodes: int = 3,
        version: str = "v1.29.4",
        pool_type: str = "nodeIPConfiguration",
        probe_mode: str = "servicenodeport",
        shared_probe_port: int = 10256,
        *,
        name: str = "lab",
        description: str = "",
        vm_type: str = "vmss",
        subscription: str = DEFAULT_SUBSCRIPTION,
        resource_group: str = "rg",
        cluster_name: str = "aks",
        location: str = "westeurope",
        octet: int | None = None,
        proxy_healthz: bool = True,
        disable_outbound_snat: bool = True,
        seed: str | int | None = None,
        data_plane: str = "kube-proxy",
        aks_nodes: bool = False,
    ) -> None:
        if pool_type not in ("nodeIPConfiguration", "nodeIP"):
            raise ValueError(f"pool_type must be nodeIPConfiguration or nodeIP, not {pool_type!r}")
        if probe_mode not in ("servicenodeport", "shared"):
            raise ValueError(f"probe_mode must be servicenodeport or shared, not {probe_mode!r}")
        if vm_type not in ("vmss", "vmas"):
            raise ValueError(f"vm_type must be vmss or vmas, not {vm_type!r}")
        if data_plane not in DATA_PLANES:
            raise ValueError(f"data_plane must be kube-proxy or cilium, not {data_plane!r}")
        self.version = version
        self.minor = _minor(version)
        self.pool_type = pool_type
        self.probe_mode = probe_mode
        self.shared_probe_port = shared_probe_port
        self.name = name
        self.description = description
        self.vm_type = vm_type
        self.subscription = subscription
        self.location = location
        self.resource_group = resource_group
        self.cluster_name = cluster_name
        self.node_rg = f"MC_{resource_group}_{cluster_name}_{location}"
        self.octet = octet
        self.proxy_healthz = proxy_healthz
        self.disable_outbound_snat = disable_outbound_snat
        self.main_service: str | None = None
        self._rng = random.Random(seed if seed is not None else name)
        self.pool_name = "nodepool1"
        self.pool_id = "12345678"
        self.vmss = f"aks-{self.pool_name}-{self.pool_id}-vmss"
        self.vnet = f"aks-vnet-{self.pool_id}"
        self.vnet_resource_group: str | None = None  # None: the node resource group (AKS-managed VNet)
        self.vnet_subscription: str | None = None  # None: the cluster's subscription
        self.subnet_name = SUBNET_NAME
        self.data_plane = data_plane
        # Node objects in full, as AKS writes them (~4 KB: images, node-problem-detector conditions,
        # capacity, nodeInfo, annotations): what a benchmark must decode. Off: the few fields akslbctl reads.
        self.aks_nodes = aks_nodes
        self._nodes = [self._node_draft(i) for i in range(nodes)]
        self._services: list[_ServiceDraft] = []
        self._namespaces: dict[str, dict[str, str]] = {
            "default": {},
            "kube-node-lease": {},
            "kube-public": {},
            "kube-system": {},
        }
        self._used_node_ports: set[int] = set()
        self._ops: list[Callable[[_Build], None]] = []
        # Ops that need the final layout (after every other op): Azure's verdicts derived from it.
        self._late_ops: list[Callable[[_Build], None]] = []
        self._events: list[tuple[str, str, str, str, int, int | None]] = []
        self._nsg_rules: list[tuple[str, Doc]] = []  # (level, rule spec), written before the provider's
        self._subnet_nsg: str | None = None
        self._peerings: list[Doc] = []
        self._unreachable = False
        self._pod_specs: dict[str, tuple[list[Doc], dict[str, str]]] = {}  # service ref → (containers, labels)

    # -- nodes ---------------------------------------------------------------------------------

    def _node_draft(self, i: int) -> _NodeDraft:
        # VMSS computer names end in the instance id in base 36; VMAS names in the VM's index.
        vmss_name = f"{self.vmss}{_base36(i, 6)}"
        name = vmss_name if self.vm_type == "vmss" else f"aks-{self.pool_name}-{self.pool_id}-{i}"
        return _NodeDraft(index=i, name=name, instance_id=str(i))

    def _draft(self, node: str | int) -> _NodeDraft:
        if isinstance(node, int):
            return self._nodes[node]
        for d in self._nodes:
            if d.name == node:
                return d
        raise KeyError(node)

    def mark_not_ready(self, node: str | int) -> AksBuilder:
        """Kubelet stopped reporting: Ready=Unknown. Pool membership does not change (≥ 1.27)."""
        self._draft(node).ready = False
        return self

    def mark_deleting(self, node: str | int) -> AksBuilder:
        """``metadata.deletionTimestamp`` set: the node is going away."""
        self._draft(node).deleting = True
        return self

    def taint(
        self, node: str | int, key: str = AUTOSCALER_TAINT, value: str = "", effect: str = "NoSchedule"
    ) -> AksBuilder:
        t: Doc = {"key": key, "effect": effect}
        if value:
            t["value"] = value
        self._draft(node).taints.append(t)
        return self

    def label_node(self, node: str | int, key: str, value: str) -> AksBuilder:
        self._draft(node).labels[key] = value
        return self

    def kube_proxy_unhealthy(self, node: str | int) -> AksBuilder:
        """kube-proxy on the node has stopped syncing: /healthz 503, serviceProxyHealthy false."""
        self._draft(node).proxy_healthy = False
        return self

    def cordon(self, node: str | int) -> AksBuilder:
        """``kubectl cordon``: spec.unschedulable and the unschedulable taint; the pool keeps the node."""
        d = self._draft(node)
        d.unschedulable = True
        d.taints.append({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"})
        return self

    def add_virtual_node(
        self, name: str = "virtual-node-aci-linux", *, exclude_label: bool = True, provider_id: str = ""
    ) -> AksBuilder:
        """The AKS virtual node (virtual-kubelet on ACI): no VM, no NIC, never in a backend pool.

        Today's virtual node carries the exclude label; older ones (Kubernetes 1.19/1.20) did not, and
        the provider failed on them ("not a vmss instance").
        """
        d = _NodeDraft(index=len(self._nodes), name=name, instance_id="", provider_id=provider_id, virtual=True)
        d.labels.update({"type": "virtual-kubelet", "kubernetes.io/role": "agent"})
        if exclude_label:
            d.labels.update({EXCLUDE_LABEL: "true", "kubernetes.azure.com/managed": "false"})
        d.taints.append({"key": "virtual-kubelet.io/provider", "value": "azure", "effect": "NoSchedule"})
        self._nodes.append(d)
        return self

    def stop_vm(self, node: str | int, state: str = "deallocated", *, in_pool: bool = False) -> AksBuilder:
        """The node's VM is stopped (power state ``state``): NotReady, and — when the provider reconciled
        after it stopped — no longer added to the pool (``in_pool=False``)."""
        d = self._draft(node)
        d.ready = False

        def op(b: _Build) -> None:
            b.cluster.vm_power[b.vm_id(d).lower()] = state
            addr = b.address(d.index)
            for key in [k for k in b.listeners if k[0] == addr]:
                b.listeners[key] = Blackhole()  # a stopped VM answers nothing

        self._ops.append(op)
        return self if in_pool else self.remove_from_pool(node)

    def nic_in_other_lb(self, node: str | int, lb: str = "corp-lb", pool: str = "corp-pool") -> AksBuilder:
        """A user-made LB already holds the node's NIC ipConfiguration in one of its pools: the provider
        skips the node silently, so it is missing from ``kubernetes``."""
        self.remove_from_pool(node)

        def op(b: _Build) -> None:
            d = b.builder._draft(node)
            lb_id = b.ids.lb(lb)
            b.cluster.load_balancers.append(
                {
                    "name": lb,
                    "id": lb_id,
                    "etag": f'W/"{b.builder._uuid()}"',
                    "type": "Microsoft.Network/loadBalancers",
                    "location": b.builder.location,
                    "sku": {"name": "Standard", "tier": "Regional"},
                    "properties": {
                        "provisioningState": "Succeeded",
                        "resourceGuid": b.builder._uuid(),
                        "frontendIPConfigurations": [],
                        "backendAddressPools": [
                            {
                                "name": pool,
                                "id": f"{lb_id}/backendAddressPools/{pool}",
                                "type": "Microsoft.Network/loadBalancers/backendAddressPools",
                                "properties": {
                                    "provisioningState": "Succeeded",
                                    "backendIPConfigurations": [{"id": b.ipconfig_id(d)}],
                                },
                            }
                        ],
                        "loadBalancingRules": [],
                        "probes": [],
                        "inboundNatRules": [],
                        "outboundRules": [],
                    },
                }
            )

        self._ops.append(op)
        return self

    def unprovision(self, service: str) -> AksBuilder:
        """The provider never built the Service: no frontend, rule, probe or PIP, no ingress IP (it is
        ``<pending>``; its events say why)."""

        def op(b: _Build) -> None:
            s = b.builder._service_draft(service)
            prefix = s.prefix.lower()
            for lb in b.cluster.load_balancers:
                props = lb["properties"]
                for coll in ("frontendIPConfigurations", "loadBalancingRules", "probes"):
                    props[coll] = [o for o in props[coll] if not o["name"].lower().startswith(prefix)]
            b.cluster.public_ips[:] = [p for p in b.cluster.public_ips if not p["name"].lower().startswith(prefix)]
            doc = next(d for d in b.cluster.services if d["metadata"]["uid"] == s.uid)
            doc["status"] = {"loadBalancer": {}}

        self._ops.append(op)
        return self

    # -- services ------------------------------------------------------------------------------

    def add_namespace(self, name: str, labels: Mapping[str, str] | None = None) -> AksBuilder:
        self._namespaces.setdefault(name, {}).update(labels or {})
        return self

    def add_service(
        self,
        name: str,
        namespace: str = "default",
        ports: Iterable[int | Mapping[str, Any]] = (80,),
        policy: str = "Cluster",
        annotations: Mapping[str, str] | None = None,
        app_protocol: str | None = None,
        internal: bool = False,
        endpoints_on: Iterable[int] | None = None,
        ready: Iterable[int] | None = None,
        *,
        terminating: Iterable[int] = (),
        type: str = "LoadBalancer",
        app: Behaviour | Mapping[int, Behaviour] | None = None,
        uid: str | None = None,
        health_check_node_port: int | None = None,
        labels: Mapping[str, str] | None = None,
        session_affinity: str = "None",
        ip_families: Iterable[str] = (IPV4,),
        source_ranges: Iterable[str] | None = None,
    ) -> AksBuilder:
        """Add a Service with its EndpointSlice, LB frontend, rules, probes, PIP and data plane.

        ``ports``: service port numbers, or dicts of Kubernetes port fields (``port``, ``protocol``,
        ``name``, ``targetPort``, ``nodePort``, ``appProtocol``). ``endpoints_on``: node indexes with
        one endpoint each (repeat an index for several); default the first two nodes. ``ready``: the
        node indexes whose endpoints are ready (default all); the others are not ready, not serving.
        ``terminating``: node indexes whose endpoints are terminating but still serving (a drain).
        ``app``: what the pods answer (one behaviour, or one per service port).
        ``ip_families``: ``("IPv4",)`` or dual-stack ``("IPv4", "IPv6")`` (either order; the first is
        the primary family): ``RequireDualStack``, two cluster IPs, an IPv6 frontend, ``-IPv6`` rules
        and probes, the ``kubernetes-IPv6`` pool, and IPv6 addresses on every node (see
        :func:`mapped_ipv6`). ``source_ranges``: ``spec.loadBalancerSourceRanges``.
        """
        if policy not in ("Cluster", "Local"):
            raise ValueError(f"policy must be Cluster or Local, not {policy!r}")
        families = tuple(ip_families)
        if families not in ((IPV4,), (IPV4, IPV6), (IPV6, IPV4)):
            raise ValueError(f"ip_families must be ('IPv4',) or dual-stack ('IPv4', 'IPv6'), not {families!r}")
        self.add_namespace(namespace)
        ann = dict(annotations or {})
        if internal:
            ann[INTERNAL_ANNOTATION] = "true"
        idx = len(self._services)
        port_docs = []
        for p in ports:
            doc = {"port": p} if isinstance(p, int) else dict(p)
            port = int(doc["port"])
            protocol = str(doc.get("protocol", "TCP")).upper()
            out: Doc = {
                "name": doc.get("name") or _port_name(port, protocol),
                "protocol": protocol,
                "port": port,
                "targetPort": doc.get("targetPort", 8000 + port if port < 1024 and protocol == "TCP" else port),
            }
            ap = doc.get("appProtocol", app_protocol)
            if ap:
                out["appProtocol"] = ap
            if type in ("LoadBalancer", "NodePort"):
                out["nodePort"] = self._node_port(doc.get("nodePort"))
            port_docs.append(out)
        hcnp = None
        if type == "LoadBalancer" and policy == "Local":
            hcnp = self._node_port(health_check_node_port)
        default_eps = [0, 1] if len(self._nodes) > 1 else [0] if self._nodes else []
        eps = list(endpoints_on) if endpoints_on is not None else default_eps
        for e in eps:
            if not 0 <= e < len(self._nodes):
                raise ValueError(f"endpoints_on: no node {e}")
        if type == "LoadBalancer":
            ingress = f"10.224.0.{100 + idx}" if internal else f"20.31.{(idx // 200) + 40}.{idx % 200 + 10}"
        else:
            ingress = None
        ingress6 = None
        if type == "LoadBalancer" and len(families) == 2:
            # Documentation prefixes: a ULA in the subnet for internal, 2001:db8::/32 for public frontends.
            if internal:
                ingress6 = f"fd00:db8:deca:deed::{100 + idx:x}"
            else:
                ingress6 = f"2001:db8:31:{idx // 200 + 40:x}::{idx % 200 + 10:x}"
        self._services.append(
            _ServiceDraft(
                namespace=namespace,
                name=name,
                uid=uid or self._uuid(),
                type=type,
                ports=port_docs,
                policy=policy,
                annotations=ann,
                labels=dict(labels or {"app": name}),
                endpoints_on=eps,
                ready=list(ready) if ready is not None else None,
                terminating=list(terminating),
                app=app if app is not None else DEFAULT_APP,
                cluster_ip=f"10.0.{(idx + 1) // 250}.{(idx + 1) % 250 + 2}",
                ingress_ip=ingress,
                health_check_node_port=hcnp,
                session_affinity=session_affinity,
                ip_families=families,
                cluster_ip6=f"fd12:3456:789a:1::{idx + 0x100:x}" if len(families) == 2 else None,
                ingress_ip6=ingress6,
                source_ranges=list(source_ranges or ()),
            )
        )
        if type == "LoadBalancer" and self.main_service is None:
            self.main_service = f"{namespace}/{name}"
        return self

    def _node_port(self, wanted: int | None) -> int:
        if wanted is not None:
            if wanted in self._used_node_ports:
                raise ValueError(f"nodePort {wanted} is already allocated")
            self._used_node_ports.add(wanted)
            return wanted
        while True:
            p = self._rng.randint(30000, 32767)
            if p not in self._used_node_ports:
                self._used_node_ports.add(p)
                return p

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _service_draft(self, ref: str) -> _ServiceDraft:
        ns, _, name = ref.rpartition("/")
        ns = ns or "default"
        for s in self._services:
            if s.name == name and s.namespace == ns:
                return s
        raise KeyError(ref)

    def add_event(
        self, service: str, reason: str, message: str, type: str = "Warning", count: int = 1, *, ago: int | None = None
    ) -> AksBuilder:
        """A core/v1 Event about a Service (e.g. SyncLoadBalancerFailed from the service controller).

        ``ago``: seconds before the lab is built that it was last seen (None: the lab's creation time).
        """
        self._events.append((service, reason, message, type, count, ago))
        return self

    # -- drift and faults (applied after the provider's layout is built) ------------------------

    def set_probe(self, service: str, service_port: int, /, **fields: Any) -> AksBuilder:
        """Change the probe that the rule for ``service_port`` references.

        ``fields`` are ARM probe properties (``port``, ``protocol``, ``requestPath``…) or their snake
        forms (``request_path``, ``interval``, ``threshold``); None removes a property.
        """

        def op(b: _Build) -> None:
            _lb, rule = b.rule(service, service_port)
            probe = b.probe_of(rule)
            if probe is None:
                raise ValueError(f"rule {rule['name']} has no probe")
            props = probe["properties"]
            for key, value in fields.items():
                arm_key = _PROBE_FIELDS.get(key, key)
                if value is None:
                    props.pop(arm_key, None)
                else:
                    props[arm_key] = value
            path_given = any(_PROBE_FIELDS.get(k, k) == "requestPath" for k in fields)
            if props.get("protocol") == "Tcp" and not path_given:
                props.pop("requestPath", None)

        self._ops.append(op)
        return self

    def annotate(self, service: str, key: str, value: str | None) -> AksBuilder:
        """Set (None: remove) an annotation on the Service after the provider's last reconcile.

        The LB keeps what the provider built from the old annotations: a change it has not applied
        yet, or a value it rejects (its reconcile then fails and leaves the LB as it was).
        """

        def op(b: _Build) -> None:
            s = b.builder._service_draft(service)
            doc = next(
                d
                for d in b.cluster.services
                if d["metadata"]["name"] == s.name and d["metadata"].get("namespace") == s.namespace
            )
            annotations = doc["metadata"].setdefault("annotations", {})
            if value is None:
                annotations.pop(key, None)
            else:
                annotations[key] = value

        self._ops.append(op)
        return self

    def remove_from_pool(self, node: str | int, lb: str | None = None) -> AksBuilder:
        """Take a node out of the ``kubernetes`` backend pool(s): it still exists, the LB never probes it."""

        def op(b: _Build) -> None:
            d = b.builder._draft(node)
            for lb_doc in b.lbs(lb):
                for family, pool in b.pools(lb_doc):
                    props = pool["properties"]
                    if "backendIPConfigurations" in props:
                        ipc = b.ipconfig_id(d, family).lower()
                        props["backendIPConfigurations"] = [
                            m for m in props["backendIPConfigurations"] if m["id"].lower() != ipc
                        ]
                    addr = b.address(d.index) if family == IPV4 else b.address6(d.index)
                    props["loadBalancerBackendAddresses"] = [
                        a
                        for a in props.get("loadBalancerBackendAddresses", [])
                        if a.get("properties", {}).get("ipAddress") != addr
                    ]
                    if not props["loadBalancerBackendAddresses"] and "backendIPConfigurations" in props:
                        del props["loadBalancerBackendAddresses"]

        self._ops.append(op)
        return self

    def add_pool_member(
        self,
        node: str | int | None = None,
        *,
        instance: int | None = None,
        address: str | None = None,
        lb: str | None = None,
    ) -> AksBuilder:
        """Add a member to the ``kubernetes`` pool(s): a node, or a VM that is no node (``instance``:
        a VMSS instance id beyond the node list — a stale member whose VM still exists), or a bare
        ``address`` (IP pools)."""

        def op(b: _Build) -> None:
            if node is not None:
                d = b.builder._draft(node)
            elif instance is not None:
                d = b.builder._node_draft(instance)
                b.add_nic(d)
            else:
                d = None
            for lb_doc in b.lbs(lb):
                for family, pool in b.pools(lb_doc):
                    props = pool["properties"]
                    if b.builder.pool_type == "nodeIPConfiguration" and d is not None:
                        entry = {"id": b.ipconfig_id(d, family)}
                        if entry not in props["backendIPConfigurations"]:
                            props["backendIPConfigurations"].append(entry)
                        continue
                    if address is not None and (":" in address) != (family == IPV6):
                        continue  # a bare address joins the pool of its own family
                    own = None if d is None else b.address(d.index) if family == IPV4 else b.address6(d.index)
                    ip = address or own
                    if ip is None:
                        raise ValueError("add_pool_member needs a node, an instance or an address")
                    props.setdefault("loadBalancerBackendAddresses", []).append(
                        {"name": d.name if d is not None else f"member-{ip}", "properties": {"ipAddress": ip}}
                    )

        self._ops.append(op)
        return self

    def node_behaviour(self, node: str | int, port: int, behaviour: Behaviour) -> AksBuilder:
        """What ``node`` answers on ``port``, whatever kube-proxy would have done."""

        def op(b: _Build) -> None:
            b.listeners[(b.address(b.builder._draft(node).index), port)] = behaviour

        self._ops.append(op)
        return self

    def pod_spec(
        self, service: str, containers: Iterable[Mapping[str, Any]], labels: Mapping[str, str] | None = None
    ) -> AksBuilder:
        """The containers (ports, readinessProbe …) of the pods behind ``service``, and extra labels."""
        ref = service if "/" in service else f"default/{service}"
        self._pod_specs[ref] = ([dict(c) for c in containers], dict(labels or {}))
        return self

    def add_network_policy(
        self, name: str, spec: Mapping[str, Any], namespace: str = "default", *, cilium: bool = False
    ) -> AksBuilder:
        """A NetworkPolicy (or, with ``cilium``, a CiliumNetworkPolicy: the CRD is then served)."""

        def op(b: _Build) -> None:
            kind, api = ("CiliumNetworkPolicy", "cilium.io/v2") if cilium else ("NetworkPolicy", "networking.k8s.io/v1")
            doc = {
                "kind": kind,
                "apiVersion": api,
                "metadata": b.meta(name, namespace),
                "spec": json.loads(json.dumps(spec)),
            }
            if cilium:
                b.cluster.cilium_crd = True
                b.cluster.cilium_network_policies.append(doc)
            else:
                b.cluster.network_policies.append(doc)

        self._ops.append(op)
        return self

    def drop_forwarded(self, service: str) -> AksBuilder:
        """The data plane under a policy that admits no node IP (field case C09): a node without a local
        endpoint forwards every connection SNAT'd to its own IP, and the pod's node drops it — the
        Service's nodePorts on those nodes time out, for our probes and Azure's alike."""
        ref = service if "/" in service else f"default/{service}"

        def op(b: _Build) -> None:
            s = b.builder._service_draft(ref)
            local = {idx for idx, _ready, serving, _t in s.endpoint_states() if serving}
            hole = Blackhole()
            for d in b.builder._nodes:
                if d.index in local:
                    continue
                for p in s.ports:
                    if p.get("nodePort") and p["protocol"] == "TCP":
                        b.listeners[(b.address(d.index), p["nodePort"])] = hole

        self._ops.append(op)
        return self

    def azure_says(self, node: str | int, rule: str | int | None, state: str, reason: str) -> AksBuilder:
        """Override Azure's rule-health verdict for a node (``rule``: a rule name, a service port of
        the main Service, or None for every rule) — e.g. an NSG that blocks 168.63.129.16."""

        def op(b: _Build) -> None:
            addr = b.address(b.builder._draft(node).index)
            if rule is None:
                key = "*"
            elif isinstance(rule, int):
                key = b.rule(b.cluster.main_service, rule)[1]["name"].lower()
            else:
                key = rule.lower()
            b.cluster.rule_health_overrides[(key, addr)] = (state, reason)

        self._ops.append(op)
        return self

    def fault(self, api: str, route: str = "*", **fields: Any) -> AksBuilder:
        """A transport fault on one API (``api``: "kube" or "arm"; ``route``: a glob on route names,
        see kubeapi/armapi); ``fields`` as :class:`~akslbctl.lab.httpserver.Fault`."""
        if api not in ("kube", "arm"):
            raise ValueError("api must be 'kube' or 'arm'")
        f = Fault(api=api, route=route, **fields)
        self._ops.append(lambda b: b.cluster.faults.append(f))
        return self

    def arm_throttled(self, times: int = 1, retry_after: int = 1, route: str = "*") -> AksBuilder:
        """ARM answers 429 (with Retry-After) to the first ``times`` requests."""
        from akslbctl.lab.armapi import arm_error_body

        body = arm_error_body(
            "SubscriptionRequestsThrottled",
            f"Number of 'read' requests for subscription '{self.subscription}' actor "
            f"'lab' exceeded. Please try again after '{retry_after}' seconds.",
        )
        return self.fault(
            "arm",
            route,
            status=429,
            body=body,
            times=times,
            headers=(
                ("Content-Type", "application/json; charset=utf-8"),
                ("Retry-After", str(retry_after)),
            ),
        )

    def arm_server_error(self, times: int | None = None, route: str = "*") -> AksBuilder:
        from akslbctl.lab.armapi import arm_error_body

        body = arm_error_body("InternalServerError", "An error has occurred.")
        return self.fault("arm", route, status=500, body=body, times=times)

    def arm_forbidden(self, scope: str = "*") -> AksBuilder:
        """403 AuthorizationFailed for all of ARM (``"*"``), only the rule-health action
        (``"rule-health"``), the reads of one kind of resource (``"lb"``, ``"pip"``, ``"nic"``,
        ``"vnet"`` — VNets and their peerings —, ``"subnet"``, ``"nsg"`` — NSGs and their rules —,
        ``"pls"``) or everything in one resource group (``"rg:rg-network"``). Call again to add more."""
        if scope not in ARM_SCOPES and not (scope.startswith("rg:") and len(scope) > 3):
            raise ValueError(f"scope must be one of {', '.join(ARM_SCOPES)} or 'rg:<resource group>', not {scope!r}")
        self._ops.append(lambda b: b.cluster.arm_forbidden.add(scope))
        return self

    # -- the network path: VNet, subnet, NSGs, Private Link ------------------------------------

    def byo_vnet(
        self,
        resource_group: str = "rg-network",
        name: str = "corp-vnet",
        subnet: str = SUBNET_NAME,
        *,
        subscription: str | None = None,
    ) -> AksBuilder:
        """ "Bring your own VNet": the VNet and its subnet live in ``resource_group``, not in the node
        resource group; the NICs' and internal frontends' subnet ids point there. The node NSG stays in
        the node resource group (AKS still attaches it to the scale set's NICs). ``subscription``: a hub
        VNet in another subscription than the cluster's (its subnet NSG lives there too)."""
        self.vnet_resource_group = resource_group
        self.vnet_subscription = subscription
        self.vnet = name
        self.subnet_name = subnet
        return self

    def peer_vnet(
        self,
        prefixes: Iterable[str] = ("10.100.0.0/16",),
        *,
        name: str | None = None,
        remote_vnet: str | None = None,
        resource_group: str = "rg-hub",
        state: str = "Connected",
    ) -> AksBuilder:
        """A peering from the cluster VNet to a remote VNet with address space ``prefixes`` (its
        addresses then count as ``VirtualNetwork`` for NSG rules while ``state`` is Connected)."""
        n = len(self._peerings) + 1
        self._peerings.append(
            {
                "name": name or f"peering-{n}",
                "remote_vnet": remote_vnet or f"remote-vnet-{n}",
                "resource_group": resource_group,
                "prefixes": list(prefixes),
                "state": state,
            }
        )
        return self

    def subnet_nsg(self, name: str = CUSTOM_SUBNET_NSG) -> AksBuilder:
        """Attach an NSG to the cluster subnet with only Azure's default rules (AKS never writes to a
        subnet NSG, so Internet clients meet DenyAllInBound there; field case C07)."""
        if self._subnet_nsg is not None and self._subnet_nsg != name:
            raise ValueError(f"the subnet already has NSG {self._subnet_nsg}")
        self._subnet_nsg = name
        return self

    def nsg_rule(
        self,
        level: str,
        name: str,
        priority: int,
        access: str,
        *,
        source: str | Iterable[str] = "*",
        destination: str | Iterable[str] = "*",
        ports: str | int | Iterable[str | int] = "*",
        protocol: str = "*",
        direction: str = "Inbound",
        source_asgs: Iterable[str] = (),
    ) -> AksBuilder:
        """A custom security rule on the node NSG (``level="nic"``) or the subnet NSG (``"subnet"``;
        ``custom-subnet-nsg`` is created and attached when the subnet has none).

        ``source``/``destination``/``ports`` take a string (ARM's singular property) or a list (the
        plural one); ``source_asgs`` are application security group names (in the NSG's resource
        group) or ids, and replace the source prefix. Destination ports only; the source port is
        ``*``. Priorities 100–4096, unique per NSG and direction.
        """
        if level not in ("nic", "subnet"):
            raise ValueError(f"level must be 'nic' or 'subnet', not {level!r}")
        if not 100 <= priority <= 4096:
            raise ValueError(f"NSG rule priority must be 100-4096, not {priority}")
        spec = _rule_spec(name, priority, access, direction, protocol, source, destination, ports, source_asgs)
        if level == "subnet" and self._subnet_nsg is None:
            self._subnet_nsg = CUSTOM_SUBNET_NSG
        self._nsg_rules.append((level, spec))
        return self

    def block_probe_source(
        self, level: str, name: str = "DenyAzureLB", priority: int = 400, *, source: str = "*"
    ) -> AksBuilder:
        """Field case C08: a Deny rule for ``source`` (``*`` or ``AzureLoadBalancer``) on every probe
        port at ``level`` ("nic" or "subnet"), ahead of AllowAzureLoadBalancerInBound (65001).

        The lab does not evaluate NSGs, so Azure's verdict says it too: every member of every rule
        with a probe is Down (``Down_Probe_TcpProbeTimeout`` for Tcp probes,
        ``Down_Probe_HttpNoResponse`` for Http(s)) while the nodes keep answering everyone else.
        """
        if level not in ("nic", "subnet"):
            raise ValueError(f"level must be 'nic' or 'subnet', not {level!r}")
        if level == "subnet" and self._subnet_nsg is None:
            self._subnet_nsg = CUSTOM_SUBNET_NSG

        def op(b: _Build) -> None:
            probes = (p for lb in b.cluster.load_balancers for p in lb["properties"]["probes"])
            ports = sorted({p["properties"]["port"] for p in probes})
            port_spec = [str(p) for p in ports] if len(ports) > 1 else str(ports[0]) if ports else "*"
            spec = _rule_spec(name, priority, "Deny", "Inbound", "*", source, "*", port_spec, ())
            b.add_rule(b.nsg_for(level), spec)
            b.azure_down(b.all_rules())

        self._late_ops.append(op)
        return self

    def private_link(
        self, service: str | None = None, *, proxy_protocol: bool = True, name: str | None = None
    ) -> AksBuilder:
        """A Private Link Service in front of the Service's frontend (the ``azure-pls-create``,
        ``azure-pls-proxy-protocol`` and ``azure-pls-name`` annotations): ``pls-<frontend>``.

        A PLS needs an internal LB. With proxy protocol the LB's probes carry a PROXY header the
        health server does not understand (field case C16): Azure reports every member Down
        (``Down_Probe_HttpNoResponse`` / ``Down_Probe_TcpProbeTimeout``) while plain requests to the
        nodes are answered as usual. From CCM v1.24.20 / v1.25.14 / v1.26.10 / v1.27.4 / v1.28.0 a
        Local Service then gets Cluster-style per-port probes instead of the health-check probe.
        """
        ref = service or self.main_service or (self._services[-1].ref if self._services else None)
        if ref is None:
            raise ValueError("private_link needs a Service: add one first")
        s = self._service_draft(ref)
        if not s.internal:
            raise ValueError(f"a Private Link Service needs an internal load balancer; {ref} is public")
        s.annotations[PLS_CREATE] = "true"
        if proxy_protocol:
            s.annotations[PLS_PROXY_PROTOCOL] = "true"
        else:
            s.annotations.pop(PLS_PROXY_PROTOCOL, None)
        if name:
            s.annotations[PLS_NAME] = name
        return self

    def ipv6_down(self) -> AksBuilder:
        """Azure reports every member of the ``-IPv6`` rules Down (``Down_Probe_TcpProbeTimeout`` /
        ``Down_Probe_HttpNoResponse``) while the IPv4 rules keep their own verdicts: IPv6 probes come
        from a link-local source the data plane may drop (field case C15; cilium/cilium#25242)."""

        def op(b: _Build) -> None:
            rules = [(lb, r) for lb, r in b.all_rules() if r["name"].lower().endswith("-ipv6")]
            if not rules:
                raise ValueError("ipv6_down: no -IPv6 rule; add a dual-stack Service (ip_families=('IPv4', 'IPv6'))")
            b.azure_down(rules)

        self._late_ops.append(op)
        return self

    def unreachable_from_here(self) -> AksBuilder:
        """The support engineer on a laptop: Azure's prober reaches every node, this machine none.

        At the end of the build, Azure's verdict for every (rule, member) is computed from what the
        nodes really answer (and any override already given) and pinned in the overrides; then every
        node listener — every node address on every listened, probe and node port — becomes a
        :class:`Blackhole`, so our connects time out while Azure's view stays exactly as it was.
        """
        self._unreachable = True
        return self

    def kube_forbidden(self, resource: str) -> AksBuilder:
        """403 Forbidden for one resource plural (``"nodes"``, ``"endpointslices"`` …)."""
        self._ops.append(lambda b: b.cluster.kube_forbidden.add(resource))
        return self

    def rule_health(
        self, polls: int | None = 0, min_api_version: str | None = None, retry_after: int | None = None
    ) -> AksBuilder:
        """Rule-health LRO: ``polls`` 202 answers to the Location before the result (None: never);
        ``min_api_version``: older api-versions get 404 (the operation does not exist there);
        ``retry_after``: whole seconds in the 202's Retry-After."""

        def op(b: _Build) -> None:
            b.cluster.rule_health_polls = polls
            if min_api_version is not None:
                b.cluster.rule_health_min_api_version = min_api_version
            if retry_after is not None:
                b.cluster.rule_health_retry_after = retry_after

        self._ops.append(op)
        return self

    def drop_rule(self, service: str, port: int, *, keep_probe: bool = False) -> AksBuilder:
        """Remove the rule for ``port`` (and its own probe unless ``keep_probe`` or shared)."""

        def op(b: _Build) -> None:
            lb, rule = b.rule(service, port)
            props = lb["properties"]
            props["loadBalancingRules"] = [r for r in props["loadBalancingRules"] if r is not rule]
            probe = b.probe_of(rule)
            if probe is not None and not keep_probe and probe["name"] == rule["name"]:
                props["probes"] = [p for p in props["probes"] if p is not probe]

        self._ops.append(op)
        return self

    def add_stale_rule(
        self, service: str, port: int, *, protocol: str = "TCP", probe_port: int | None = None
    ) -> AksBuilder:
        """A ``P``-prefixed rule (and Tcp probe) for a port the Service no longer declares — left
        behind when a port was removed and the reconcile did not finish."""

        def op(b: _Build) -> None:
            s = b.builder._service_draft(service)
            lb = b.lb_of(s)
            rule_name = f"{s.prefix}-{protocol.upper()}-{port}"
            probe_id = None
            if probe_port is not None or protocol.upper() == "TCP":
                pp = probe_port if probe_port is not None else b.builder._node_port(None)
                probe = b.probe_doc(lb, rule_name, "Tcp", pp, None)
                lb["properties"]["probes"].append(probe)
                probe_id = probe["id"]
            rule = b.rule_doc(lb, s, rule_name, protocol.upper(), port, port, probe_id)
            lb["properties"]["loadBalancingRules"].append(rule)

        self._ops.append(op)
        return self

    # -- build -----------------------------------------------------------------------------------

    def build(
        self, *, name: str | None = None, description: str | None = None, main_service: str | None = None
    ) -> LabCluster:
        lease = OctetLease.take(self.octet)
        b = _Build(self, lease.octet)
        c = b.cluster
        c.lease = lease
        if name:
            c.name = name
        if description is not None:
            c.description = description
        if main_service:
            c.main_service = main_service
        b.materialise()
        for op in self._ops:
            op(b)
        b.late()
        if self._unreachable:
            b.make_unreachable()
        b.finish()
        return c


_PROBE_FIELDS = {
    "request_path": "requestPath",
    "path": "requestPath",
    "interval": "intervalInSeconds",
    "interval_in_seconds": "intervalInSeconds",
    "threshold": "probeThreshold",
    "probe_threshold": "probeThreshold",
    "number_of_probes": "numberOfProbes",
}


_NSG_PROTOCOL = {"TCP": "Tcp", "UDP": "Udp", "SCTP": "*"}
_NSG_PROTOCOLS = {"tcp": "Tcp", "udp": "Udp", "icmp": "Icmp", "esp": "Esp", "ah": "Ah", "*": "*", "any": "*"}


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _str_or_list(value: str | int | Iterable[str | int], what: str) -> str | list[str]:
    if isinstance(value, (str, int)):
        return str(value)
    out = [str(v) for v in value]
    if not out:
        raise ValueError(f"{what}: an empty list")
    return out


def _rule_spec(
    name: str,
    priority: int,
    access: str,
    direction: str,
    protocol: str,
    source: str | Iterable[str],
    destination: str | Iterable[str],
    ports: str | int | Iterable[str | int],
    source_asgs: Iterable[str],
) -> Doc:
    """A security rule as the builder takes it: a string stays ARM's singular property, a list
    becomes the plural one."""
    acc = {"allow": "Allow", "deny": "Deny"}.get(access.lower())
    dirn = {"inbound": "Inbound", "outbound": "Outbound"}.get(direction.lower())
    proto = _NSG_PROTOCOLS.get(protocol.lower())
    if acc is None or dirn is None or proto is None:
        raise ValueError(f"rule {name}: access Allow|Deny, direction Inbound|Outbound, protocol Tcp|Udp|Icmp|*")
    return {
        "name": name,
        "priority": priority,
        "access": acc,
        "direction": dirn,
        "protocol": proto,
        "source": _str_or_list(source, "source"),
        "destination": destination if isinstance(destination, list) else _str_or_list(destination, "destination"),
        "ports": _str_or_list(ports, "ports"),
        "source_asgs": list(source_asgs),
    }


def _security_rule_doc(
    nsg_id: str, spec: Doc, etag: str, *, default: bool = False, description: str | None = None
) -> Doc:
    """One rule in ARM's wire shape: the singular property when one value, the plural otherwise (the
    unused plural is an empty list, as ARM answers)."""
    kind = "defaultSecurityRules" if default else "securityRules"
    props: Doc = {"provisioningState": "Succeeded"}
    if description:
        props["description"] = description
    props["protocol"] = spec["protocol"]
    props["sourcePortRange"] = "*"
    ports, source, destination = spec["ports"], spec["source"], spec["destination"]
    asgs = [
        a if "/" in a else f"{nsg_id.split('/networkSecurityGroups/')[0]}/applicationSecurityGroups/{a}"
        for a in spec["source_asgs"]
    ]
    if isinstance(ports, str):
        props["destinationPortRange"] = ports
    if isinstance(source, str) and not asgs:
        props["sourceAddressPrefix"] = source
    if isinstance(destination, str):
        props["destinationAddressPrefix"] = destination
    if asgs:
        props["sourceApplicationSecurityGroups"] = [{"id": a} for a in asgs]
    props.update(access=spec["access"], priority=spec["priority"], direction=spec["direction"])
    props["sourcePortRanges"] = []
    props["destinationPortRanges"] = list(ports) if isinstance(ports, list) else []
    props["sourceAddressPrefixes"] = list(source) if isinstance(source, list) and not asgs else []
    props["destinationAddressPrefixes"] = list(destination) if isinstance(destination, list) else []
    return {
        "name": spec["name"],
        "id": f"{nsg_id}/{kind}/{spec['name']}",
        "etag": etag,
        "type": f"Microsoft.Network/networkSecurityGroups/{kind}",
        "properties": props,
    }


_DEFAULT_RULES = tuple(
    (_rule_spec(name, priority, access, direction, "*", src, dst, "*", ()), description)
    for name, priority, access, direction, src, dst, description in (
        (
            "AllowVnetInBound",
            65000,
            "Allow",
            "Inbound",
            "VirtualNetwork",
            "VirtualNetwork",
            "Allow inbound traffic from all VMs in VNET",
        ),
        (
            "AllowAzureLoadBalancerInBound",
            65001,
            "Allow",
            "Inbound",
            "AzureLoadBalancer",
            "*",
            "Allow inbound traffic from azure load balancer",
        ),
        ("DenyAllInBound", 65500, "Deny", "Inbound", "*", "*", "Deny all inbound traffic"),
        (
            "AllowVnetOutBound",
            65000,
            "Allow",
            "Outbound",
            "VirtualNetwork",
            "VirtualNetwork",
            "Allow outbound traffic from all VMs to all VMs in VNET",
        ),
        (
            "AllowInternetOutBound",
            65001,
            "Allow",
            "Outbound",
            "*",
            "Internet",
            "Allow outbound traffic from all VMs to Internet",
        ),
        ("DenyAllOutBound", 65500, "Deny", "Outbound", "*", "*", "Deny all outbound traffic"),
    )
)
"""Azure's default rules of every NSG, as ARM writes them (``defaultSecurityRules``)."""


def _minor(version: str) -> int:
    try:
        return int(version.lstrip("v").split(".")[1])
    except (IndexError, ValueError):
        raise ValueError(f"not a Kubernetes version: {version!r}") from None


def _since(version: str, first_patch: Mapping[int, int]) -> bool:
    """Is ``version`` at or past a behaviour that arrived per release branch (minor → first patch);
    branches newer than the newest listed have it, older ones do not."""
    minor = _minor(version)
    try:
        patch = int(version.lstrip("v").split(".")[2].split("-")[0])
    except (IndexError, ValueError):
        patch = 0
    if minor > max(first_patch):
        return True
    if minor not in first_patch:
        return False
    return patch >= first_patch[minor]


# Local + PLS proxy protocol → Cluster-style per-port probes (aks-lb-rules.md §6.7).
_PLS_CLUSTER_PROBES = {24: 20, 25: 14, 26: 10, 27: 4, 28: 0}


def _base36(n: int, width: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out.rjust(width, "0")


def _port_name(port: int, protocol: str) -> str:
    return {80: "http", 443: "https", 53: "dns"}.get(port, f"{protocol.lower()}-{port}")


def _ip4(n: int) -> str:
    return f"{(n >> 24) & 255}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


# ---------------------------------------------------------------------------------------------
# Materialisation


class _Build:
    """One run of :meth:`AksBuilder.build`: the cluster being written and lookups for the mutators."""

    def __init__(self, builder: AksBuilder, octet: int) -> None:
        self.builder = builder
        self.octet = octet
        self.ids = _Ids(builder.subscription, builder.node_rg)
        self.cluster = LabCluster(
            name=builder.name,
            description=builder.description,
            kubernetes_version=builder.version,
            subscription=builder.subscription,
            node_resource_group=builder.node_rg,
            location=builder.location,
            main_service=builder.main_service or "default/web",
            address_octet=octet,
            data_plane=builder.data_plane,
        )
        self.listeners: dict[tuple[str, int], Behaviour] = {}
        self._rv = 1000
        self._service_lb: dict[str, Doc] = {}
        self._addr_cache: dict[int, str] = {}
        self.dual_stack = any(s.dual_stack for s in builder._services)
        # The network docs draw on a random stream of their own, so adding them left every other
        # document (and every existing scenario) exactly as it was.
        self._net_rng = random.Random(f"{builder.name}/network")
        self.vnet_ids = _Ids(
            builder.vnet_subscription or builder.subscription, builder.vnet_resource_group or builder.node_rg
        )
        self.vnet_id = self.vnet_ids.vnet(builder.vnet)
        self.subnet_id = f"{self.vnet_id}/subnets/{builder.subnet_name}"
        self.nsg_id = self.ids.nsg(f"aks-agentpool-{builder.pool_id}-nsg")
        self.subnet_nsg_id = self.vnet_ids.nsg(builder._subnet_nsg) if builder._subnet_nsg else None

    # -- helpers for mutators ------------------------------------------------------------------

    def address(self, index: int) -> str:
        a = self._addr_cache.get(index)
        if a is None:
            a = self._addr_cache[index] = node_address(self.octet, index)
        return a

    def address6(self, index: int) -> str:
        return mapped_ipv6(self.address(index))

    def net_uuid(self) -> str:
        return str(uuid.UUID(int=self._net_rng.getrandbits(128), version=4))

    def net_etag(self) -> str:
        return f'W/"{self.net_uuid()}"'

    def rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    def lbs(self, name: str | None) -> list[Doc]:
        lbs = self.cluster.load_balancers
        return [lb for lb in lbs if name is None or lb["name"].lower() == name.lower()]

    def pool(self, lb: Doc, family: str = IPV4) -> Doc:
        name = CLUSTER_NAME if family == IPV4 else f"{CLUSTER_NAME}-IPv6"
        for p in lb["properties"]["backendAddressPools"]:
            if p["name"] == name:
                return p
        raise KeyError(f"{lb['name']} has no pool {name}")

    def pools(self, lb: Doc) -> list[tuple[str, Doc]]:
        """(family, pool) of the cluster pools on ``lb``: ``kubernetes`` and, dual-stack, ``kubernetes-IPv6``."""
        return [(f, self.pool(lb, f)) for f in ((IPV4, IPV6) if self.dual_stack else (IPV4,))]

    def lb_of(self, s: _ServiceDraft) -> Doc:
        return self._service_lb[s.ref]

    def rule(self, service: str, port: int) -> tuple[Doc, Doc]:
        s = self.builder._service_draft(service)
        lb = self.lb_of(s)
        for r in lb["properties"]["loadBalancingRules"]:
            if r["name"].lower().startswith(s.prefix) and r["properties"]["frontendPort"] == port:
                return lb, r
        raise KeyError(f"no rule for {service} port {port}")

    def probe_of(self, rule: Doc) -> Doc | None:
        ref = rule["properties"].get("probe")
        if not ref:
            return None
        for lb in self.cluster.load_balancers:
            for p in lb["properties"]["probes"]:
                if p["id"].lower() == ref["id"].lower():
                    return p
        return None

    def ipconfig_id(self, d: _NodeDraft, family: str = IPV4) -> str:
        ipc = "ipconfig1" if family == IPV4 else "ipconfigv6"
        if self.builder.vm_type == "vmss":
            return (
                f"{self.ids.compute}/virtualMachineScaleSets/{self.builder.vmss}/virtualMachines/"
                f"{d.instance_id}/networkInterfaces/{self.builder.vmss}/ipConfigurations/{ipc}"
            )
        return f"{self.ids.net}/networkInterfaces/{self._nic_name(d)}/ipConfigurations/{ipc}"

    def vm_id(self, d: _NodeDraft) -> str:
        """The ARM id of the node's VM (VMSS instance or VMAS VM)."""
        if self.builder.vm_type == "vmss":
            return f"{self.ids.compute}/virtualMachineScaleSets/{self.builder.vmss}/virtualMachines/{d.instance_id}"
        return f"{self.ids.compute}/virtualMachines/{d.name}"

    def all_rules(self) -> list[tuple[Doc, Doc]]:
        return [(lb, r) for lb in self.cluster.load_balancers for r in lb["properties"]["loadBalancingRules"]]

    def rule_members(self, lb: Doc, rule: Doc) -> list[str]:
        """The addresses Azure probes for ``rule``: its pools' NIC ipconfigs and backend addresses."""
        ip_of = {
            ipc["id"].lower(): ipc["properties"].get("privateIPAddress")
            for nic in self.cluster.nics
            for ipc in nic["properties"]["ipConfigurations"]
        }
        rp = rule["properties"]
        wanted = {
            ref["id"].lower() for ref in [rp.get("backendAddressPool"), *rp.get("backendAddressPools", [])] if ref
        }
        out: list[str] = []
        for pool in lb["properties"]["backendAddressPools"]:
            if pool["id"].lower() not in wanted:
                continue
            pp = pool["properties"]
            out += [ip for m in pp.get("backendIPConfigurations", []) if (ip := ip_of.get(m["id"].lower()))]
            out += [
                ip
                for a in pp.get("loadBalancerBackendAddresses", [])
                if (ip := a.get("properties", {}).get("ipAddress"))
            ]
        return list(dict.fromkeys(out))

    def azure_down(self, rules: Iterable[tuple[Doc, Doc]]) -> None:
        """Azure reports every member of ``rules`` (those with a probe) Down: the probe gets no answer.

        Overrides already given (``azure_says``) stay: they are the scenario's explicit word."""
        overrides = self.cluster.rule_health_overrides
        for lb, rule in rules:
            probe = self.probe_of(rule)
            if probe is None:
                continue
            tcp = probe["properties"]["protocol"] == "Tcp"
            verdict = ("Down", "Down_Probe_TcpProbeTimeout" if tcp else "Down_Probe_HttpNoResponse")
            key = rule["name"].lower()
            for ip in self.rule_members(lb, rule):
                if (key, ip) not in overrides and ("*", ip) not in overrides:
                    overrides[(key, ip)] = verdict

    def _nic_name(self, d: _NodeDraft) -> str:
        b = self.builder
        return b.vmss if b.vm_type == "vmss" else f"aks-{b.pool_name}-{b.pool_id}-nic-{d.index}"

    # -- the whole cluster ---------------------------------------------------------------------

    def materialise(self) -> None:
        b, c = self.builder, self.cluster
        for ns, labels in sorted(b._namespaces.items()):
            c.namespaces.append(self.namespace_doc(ns, labels))
        for d in b._nodes:
            c.nodes.append(self.node_doc(d))
            if not d.virtual:
                self.add_nic(d)
        public = self.lb_doc(CLUSTER_NAME, outbound=True)
        c.load_balancers.append(public)
        internal = None
        for s in b._services:
            c.services.append(self.service_doc(s))
            c.endpointslices.extend(self.slice_docs(s))
            if not s.is_lb:
                continue
            if s.internal:
                if internal is None:
                    internal = self.lb_doc(f"{CLUSTER_NAME}-internal", outbound=False)
                    c.load_balancers.append(internal)
                self.add_to_lb(internal, s)
            else:
                self.add_to_lb(public, s)
        for svc_ref, reason, message, etype, count, ago in b._events:
            c.events.append(self.event_doc(b._service_draft(svc_ref), reason, message, etype, count, ago))
        self.data_plane()
        self.network()

    def late(self) -> None:
        """Azure's verdicts that follow from the final layout: the late ops (NSGs that block the
        probes, IPv6 down), then Private Link Services with proxy protocol."""
        for op in self.builder._late_ops:
            op(self)
        proxied = {
            pls["properties"]["loadBalancerFrontendIpConfigurations"][0]["id"].lower()
            for pls in self.cluster.private_link_services
            if pls["properties"].get("enableProxyProtocol")
        }
        if proxied:
            self.azure_down(
                (lb, r)
                for lb, r in self.all_rules()
                if r["properties"]["frontendIPConfiguration"]["id"].lower() in proxied
            )

    def make_unreachable(self) -> None:
        """Pin Azure's verdict for every (rule, member) as it is now, then blackhole every node port."""
        from akslbctl.lab.armapi import ArmApi

        api = ArmApi(self.cluster, "", behaviours=self.listeners)
        pinned: dict[tuple[str, str], tuple[str, str]] = {}
        for lb, rule in self.all_rules():
            if not rule["properties"].get("probe"):
                continue
            for entry in api.rule_health(lb, rule)["loadBalancerBackendAddresses"]:
                if entry["state"]:
                    pinned[(rule["name"].lower(), entry["ipAddress"])] = (entry["state"], entry["reason"])
        self.cluster.rule_health_overrides.update(pinned)
        ports = {port for _addr, port in self.listeners}
        ports |= {p["properties"]["port"] for lb in self.cluster.load_balancers for p in lb["properties"]["probes"]}
        for s in self.builder._services:
            ports |= {p["nodePort"] for p in s.ports if p.get("nodePort")}
            if s.health_check_node_port:
                ports.add(s.health_check_node_port)
        addresses = {addr for addr, _port in self.listeners} | {self.address(d.index) for d in self.builder._nodes}
        hole = Blackhole()
        for addr in addresses:
            for port in ports:
                self.listeners[(addr, port)] = hole

    def finish(self) -> None:
        """Back-references ARM computes (rules on frontends, pools and probes; pools on NICs; NICs and
        subnets on NSGs; ipconfigs on the subnet)."""
        c = self.cluster
        pools_of_ipconfig: dict[str, list[str]] = {}
        for lb in c.load_balancers:
            props = lb["properties"]
            by_id = {}
            for coll in ("frontendIPConfigurations", "backendAddressPools", "probes"):
                for obj in props[coll]:
                    obj["properties"].pop("loadBalancingRules", None)
                    by_id[obj["id"].lower()] = obj
            for rule in props["loadBalancingRules"]:
                rp = rule["properties"]
                refs = [
                    rp.get("frontendIPConfiguration"),
                    rp.get("probe"),
                    *rp.get("backendAddressPools", []),
                ]
                for ref in refs:
                    target = by_id.get(ref["id"].lower()) if ref else None
                    if target is not None:
                        target["properties"].setdefault("loadBalancingRules", []).append({"id": rule["id"]})
            for pool in props["backendAddressPools"]:
                for m in pool["properties"].get("backendIPConfigurations", []):
                    pools_of_ipconfig.setdefault(m["id"].lower(), []).append(pool["id"])
        for nic in c.nics:
            for ipc in nic["properties"]["ipConfigurations"]:
                pools = pools_of_ipconfig.get(ipc["id"].lower(), [])
                ipc["properties"]["loadBalancerBackendAddressPools"] = [{"id": p} for p in pools]
        self.network_backrefs()
        c.listeners = [ListenerSpec(a, p, beh) for (a, p), beh in self.listeners.items()]

    # -- Kubernetes documents --------------------------------------------------------------------

    def meta(self, name: str, namespace: str | None = None, **extra: Any) -> Doc:
        m: Doc = {"name": name}
        if namespace is not None:
            m["namespace"] = namespace
        m["uid"] = self.builder._uuid()
        m["resourceVersion"] = self.rv()
        m["creationTimestamp"] = CREATED
        m.update(extra)
        return m

    def namespace_doc(self, name: str, labels: Mapping[str, str]) -> Doc:
        return {
            "kind": "Namespace",
            "apiVersion": "v1",
            "metadata": self.meta(name, labels={"kubernetes.io/metadata.name": name, **labels}),
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }

    def node_doc(self, d: _NodeDraft) -> Doc:
        b = self.builder
        labels = {
            "agentpool": b.pool_name,
            "beta.kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/instance-type": "Standard_D4ds_v5",
            "beta.kubernetes.io/os": "linux",
            "kubernetes.azure.com/agentpool": b.pool_name,
            "kubernetes.azure.com/cluster": b.node_rg,
            "kubernetes.azure.com/mode": "system",
            "kubernetes.azure.com/role": "agent",
            "kubernetes.io/arch": "amd64",
            "kubernetes.io/hostname": d.name,
            "kubernetes.io/os": "linux",
            "node.kubernetes.io/instance-type": "Standard_D4ds_v5",
            "topology.kubernetes.io/region": b.location,
            "topology.kubernetes.io/zone": "0",
            **({CILIUM_LABEL: "cilium"} if b.data_plane == "cilium" else {}),
            **d.labels,
        }
        extra: Doc = {"labels": labels}
        if d.deleting:
            extra["deletionTimestamp"] = "2024-05-01T09:00:00Z"
            extra["deletionGracePeriodSeconds"] = 0
            extra["finalizers"] = ["kubernetes.azure.com/node-protection"]
        # AKS writes the node resource group lower-cased in providerID; ARM ids keep MC_ in capitals.
        rg = b.node_rg.lower()
        sub = b.subscription
        if b.vm_type == "vmss":
            provider_id = (
                f"azure:///subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/"
                f"virtualMachineScaleSets/{b.vmss}/virtualMachines/{d.instance_id}"
            )
        else:
            provider_id = (
                f"azure:///subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{d.name}"
            )
        if d.provider_id is not None:
            provider_id = d.provider_id
        cidr = self.pod_cidr(d.index)
        cidrs = [cidr, f"fd12:3456:789a:0:{d.index:x}::/80"] if self.dual_stack else [cidr]
        spec: Doc = {
            "podCIDR": cidr,
            "podCIDRs": cidrs,
            **({"providerID": provider_id} if provider_id else {}),
        }
        if d.unschedulable:
            spec["unschedulable"] = True
        if d.taints:
            spec["taints"] = [dict(t) for t in d.taints]
        if d.ready:
            ready = {"type": "Ready", "status": "True", "reason": "KubeletReady"}
            ready["message"] = "kubelet is posting ready status"
        else:
            ready = {"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown"}
            ready["message"] = "Kubelet stopped posting node status."
        ready.update(lastHeartbeatTime=CREATED, lastTransitionTime=CREATED)
        doc = {
            "kind": "Node",
            "apiVersion": "v1",
            "metadata": self.meta(d.name, **extra),
            "spec": spec,
            "status": {
                "addresses": [
                    {"type": "InternalIP", "address": self.address(d.index)},
                    *([{"type": "InternalIP", "address": self.address6(d.index)}] if self.dual_stack else []),
                    {"type": "Hostname", "address": d.name},
                ],
                "conditions": [ready],
                "nodeInfo": {
                    "kubeletVersion": b.version,
                    "kubeProxyVersion": "",
                    "operatingSystem": "linux",
                    "architecture": "amd64",
                    "osImage": "Ubuntu 22.04.4 LTS",
                    "containerRuntimeVersion": "containerd://1.7.15-1",
                },
            },
        }
        if b.aks_nodes:
            _aks_node_details(doc, d, b)
        return doc

    def pod_cidr(self, index: int) -> str:
        return f"{_ip4(0x0AF40000 + index * 256)}/24"  # 10.244.0.0/24, 10.244.1.0/24, …

    def service_doc(self, s: _ServiceDraft) -> Doc:
        cluster_ips = [s.cluster_ip]
        if s.dual_stack:
            cluster_ips = [s.cluster_ip, s.cluster_ip6] if s.ip_families[0] == IPV4 else [s.cluster_ip6, s.cluster_ip]
        spec: Doc = {
            "ports": [dict(p) for p in s.ports],
            "selector": {"app": s.name},
            "clusterIP": cluster_ips[0],
            "clusterIPs": cluster_ips,
            "type": s.type,
            "sessionAffinity": s.session_affinity,
        }
        if s.is_lb:
            spec["externalTrafficPolicy"] = s.policy
            if s.health_check_node_port:
                spec["healthCheckNodePort"] = s.health_check_node_port
            if s.source_ranges:
                spec["loadBalancerSourceRanges"] = list(s.source_ranges)
        spec.update(
            ipFamilies=list(s.ip_families), ipFamilyPolicy="RequireDualStack" if s.dual_stack else "SingleStack"
        )
        if s.is_lb:
            spec["allocateLoadBalancerNodePorts"] = True
        spec["internalTrafficPolicy"] = "Cluster"
        extra: Doc = {"labels": dict(s.labels)}
        if s.annotations:
            extra["annotations"] = dict(s.annotations)
        if s.is_lb:
            extra["finalizers"] = ["service.kubernetes.io/load-balancer-cleanup"]
        meta = self.meta(s.name, s.namespace, **extra)
        meta["uid"] = s.uid
        status: Doc = {"loadBalancer": {}}
        if s.is_lb and s.ingress_ip:
            ips = [s.ingress_ip]
            if s.dual_stack and s.ingress_ip6:
                ips = [s.ingress_ip, s.ingress_ip6] if s.ip_families[0] == IPV4 else [s.ingress_ip6, s.ingress_ip]
            status["loadBalancer"] = {"ingress": [{"ip": ip, "ipMode": "VIP"} for ip in ips]}
        return {"kind": "Service", "apiVersion": "v1", "metadata": meta, "spec": spec, "status": status}

    def slice_docs(self, s: _ServiceDraft) -> list[Doc]:
        """The Service's EndpointSlice; dual-stack, one per address family (the controller's way)."""
        first = self.slice_doc(s)
        if not s.dual_stack:
            return [first]
        second = json.loads(json.dumps(first))
        suffix = "".join(self.builder._rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
        meta = second["metadata"]
        meta.update(name=f"{s.name}-{suffix}", uid=self.builder._uuid(), resourceVersion=self.rv())
        second["addressType"] = IPV6
        for k, (ep, (idx, *_rest)) in enumerate(zip(second["endpoints"] or [], s.endpoint_states(), strict=True)):
            ep["addresses"] = [f"fd12:3456:789a:0:{idx:x}::{10 + k:x}"]
        return [first, second] if s.ip_families[0] == IPV4 else [second, first]

    def slice_doc(self, s: _ServiceDraft) -> Doc:
        suffix = "".join(self.builder._rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
        endpoints = []
        for k, (idx, ready, serving, terminating) in enumerate(s.endpoint_states()):
            d = self.builder._nodes[idx]
            pod_ip = _ip4(0x0AF40000 + idx * 256 + 10 + k)
            pod = f"{s.name}-7d4b9c8f6-{_base36(self.builder._rng.getrandbits(24), 5)}"
            self.cluster.pods.append(self.pod_doc(s, pod, d, pod_ip, ready))
            endpoints.append(
                {
                    "addresses": [pod_ip],
                    "conditions": {"ready": ready, "serving": serving, "terminating": terminating},
                    "targetRef": {
                        "kind": "Pod",
                        "namespace": s.namespace,
                        "name": pod,
                        "uid": self.builder._uuid(),
                    },
                    "nodeName": d.name,
                    "zone": "0",
                }
            )
        doc: Doc = {
            "kind": "EndpointSlice",
            "apiVersion": "discovery.k8s.io/v1",
            "metadata": self.meta(
                f"{s.name}-{suffix}",
                s.namespace,
                generateName=f"{s.name}-",
                labels={
                    "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                    "kubernetes.io/service-name": s.name,
                    **s.labels,
                },
                annotations={"endpoints.kubernetes.io/last-change-trigger-time": CREATED},
                ownerReferences=[
                    {
                        "apiVersion": "v1",
                        "kind": "Service",
                        "name": s.name,
                        "uid": s.uid,
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            ),
            "addressType": "IPv4",
            # The controller's placeholder slice for a Service without pods has "endpoints": null.
            "endpoints": endpoints or None,
        }
        if endpoints:
            doc["ports"] = [
                {
                    "name": p["name"],
                    "protocol": p["protocol"],
                    "port": p["targetPort"] if isinstance(p["targetPort"], int) else p["port"],
                    **({"appProtocol": p["appProtocol"]} if p.get("appProtocol") else {}),
                }
                for p in s.ports
            ]
        return doc

    def pod_doc(self, s: _ServiceDraft, name: str, d: _NodeDraft, pod_ip: str, ready: bool) -> Doc:
        """The pod behind one endpoint: the Service's selector labels, its node, IP and containers."""
        containers, labels = self.builder._pod_specs.get(s.ref, (None, {}))
        if containers is None:
            ports = []
            for p in s.ports:
                tp = p["targetPort"]
                ports.append(
                    {
                        "name": p["name"][:15],
                        "containerPort": tp if isinstance(tp, int) else p["port"],
                        "protocol": p["protocol"],
                    }
                )
            containers = [{"name": "app", "image": "mcr.microsoft.com/azuredocs/aks-helloworld:v1", "ports": ports}]
        return {
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": self.meta(name, s.namespace, labels={"app": s.name, **labels}),
            "spec": {"nodeName": d.name, "containers": json.loads(json.dumps(containers))},
            "status": {
                "phase": "Running",
                "podIP": pod_ip,
                "podIPs": [{"ip": pod_ip}],
                "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            },
        }

    def event_doc(
        self, s: _ServiceDraft, reason: str, message: str, etype: str, count: int, ago: int | None = None
    ) -> Doc:
        last = CREATED
        if ago is not None:
            from datetime import datetime, timedelta, timezone

            last = (datetime.now(timezone.utc) - timedelta(seconds=ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "kind": "Event",
            "apiVersion": "v1",
            "metadata": self.meta(f"{s.name}.{self.builder._rng.getrandbits(64):016x}", s.namespace),
            "involvedObject": {
                "kind": "Service",
                "namespace": s.namespace,
                "name": s.name,
                "uid": s.uid,
                "apiVersion": "v1",
                "resourceVersion": "1",
            },
            "reason": reason,
            "message": message,
            "source": {"component": "service-controller"},
            "firstTimestamp": CREATED,
            "lastTimestamp": last,
            "count": count,
            "type": etype,
            "eventTime": None,
            "reportingComponent": "service-controller",
            "reportingInstance": "",
        }

    # -- ARM documents ---------------------------------------------------------------------------

    def add_nic(self, d: _NodeDraft) -> None:
        ipc_id = self.ipconfig_id(d)
        nic_id = ipc_id.rsplit("/ipConfigurations/", 1)[0]
        vm_id = nic_id.rsplit("/networkInterfaces/", 1)[0]
        if self.builder.vm_type == "vmas":
            vm_id = f"{self.ids.compute}/virtualMachines/{d.name}"
        mac = f"00-0D-3A-{(d.index >> 16) & 255:02X}-{(d.index >> 8) & 255:02X}-{d.index & 255:02X}"
        ipconfigs = [
            {
                "name": "ipconfig1",
                "id": ipc_id,
                "type": "Microsoft.Network/networkInterfaces/ipConfigurations",
                "properties": {
                    "provisioningState": "Succeeded",
                    "privateIPAddress": self.address(d.index),
                    "privateIPAllocationMethod": "Dynamic",
                    "subnet": {"id": self.subnet_id},
                    "primary": True,
                    "privateIPAddressVersion": IPV4,
                    "loadBalancerBackendAddressPools": [],
                },
            }
        ]
        if self.dual_stack:
            ipconfigs.append(
                {
                    "name": "ipconfigv6",
                    "id": self.ipconfig_id(d, IPV6),
                    "type": "Microsoft.Network/networkInterfaces/ipConfigurations",
                    "properties": {
                        "provisioningState": "Succeeded",
                        "privateIPAddress": self.address6(d.index),
                        "privateIPAllocationMethod": "Dynamic",
                        "subnet": {"id": self.subnet_id},
                        "primary": False,
                        "privateIPAddressVersion": IPV6,
                        "loadBalancerBackendAddressPools": [],
                    },
                }
            )
        self.cluster.nics.append(
            {
                "name": self._nic_name(d),
                "id": nic_id,
                "etag": f'W/"{self.builder._uuid()}"',
                "type": "Microsoft.Network/networkInterfaces",
                "location": self.builder.location,
                "properties": {
                    "provisioningState": "Succeeded",
                    "ipConfigurations": ipconfigs,
                    "macAddress": mac,
                    "enableAcceleratedNetworking": True,
                    "enableIPForwarding": False,
                    "networkSecurityGroup": {"id": self.nsg_id},
                    "primary": True,
                    "virtualMachine": {"id": vm_id},
                    "nicType": "Standard",
                },
            }
        )

    def lb_doc(self, name: str, *, outbound: bool) -> Doc:
        b = self.builder
        lb_id = self.ids.lb(name)
        pool = self.pool_doc(lb_id, IPV4)
        pools = [pool, self.pool_doc(lb_id, IPV6)] if self.dual_stack else [pool]
        props: Doc = {
            "provisioningState": "Succeeded",
            "resourceGuid": b._uuid(),
            "frontendIPConfigurations": [],
            "backendAddressPools": pools,
            "loadBalancingRules": [],
            "probes": [],
            "inboundNatRules": [],
            "inboundNatPools": [],
            "outboundRules": [],
        }
        if outbound:
            pip_name = b._uuid()
            fe_id = f"{lb_id}/frontendIPConfigurations/{pip_name}"
            props["frontendIPConfigurations"].append(
                {
                    "name": pip_name,
                    "id": fe_id,
                    "etag": f'W/"{b._uuid()}"',
                    "type": "Microsoft.Network/loadBalancers/frontendIPConfigurations",
                    "properties": {
                        "provisioningState": "Succeeded",
                        "privateIPAllocationMethod": "Dynamic",
                        "publicIPAddress": {"id": self.ids.pip(pip_name)},
                        "outboundRules": [{"id": f"{lb_id}/outboundRules/aksOutboundRule"}],
                    },
                }
            )
            props["outboundRules"].append(
                {
                    "name": "aksOutboundRule",
                    "id": f"{lb_id}/outboundRules/aksOutboundRule",
                    "etag": f'W/"{b._uuid()}"',
                    "type": "Microsoft.Network/loadBalancers/outboundRules",
                    "properties": {
                        "provisioningState": "Succeeded",
                        "allocatedOutboundPorts": 0,
                        "protocol": "All",
                        "enableTcpReset": True,
                        "idleTimeoutInMinutes": 30,
                        "backendAddressPool": {"id": pool["id"]},
                        "frontendIPConfigurations": [{"id": fe_id}],
                    },
                }
            )
            pool["properties"]["outboundRules"] = [{"id": f"{lb_id}/outboundRules/aksOutboundRule"}]
            self.cluster.public_ips.append(
                self.pip_doc(pip_name, "20.31.250.4", fe_id, {"aks-managed-type": "aks-slb-managed-outbound-ip"})
            )
        return {
            "name": name,
            "id": lb_id,
            "etag": f'W/"{b._uuid()}"',
            "type": "Microsoft.Network/loadBalancers",
            "location": b.location,
            "tags": {"aks-managed-cluster-name": b.cluster_name, "aks-managed-cluster-rg": b.resource_group},
            "sku": {"name": "Standard", "tier": "Regional"},
            "properties": props,
        }

    def pool_doc(self, lb_id: str, family: str) -> Doc:
        """The ``kubernetes`` pool, or ``kubernetes-IPv6`` (NICs' ``ipconfigv6`` / IPv6 addresses)."""
        b = self.builder
        name = CLUSTER_NAME if family == IPV4 else f"{CLUSTER_NAME}-IPv6"
        # The IPv4 pool keeps drawing on the main stream as it always did; the IPv6 pool is new.
        etag = f'W/"{b._uuid()}"' if family == IPV4 else self.net_etag()
        pool: Doc = {
            "name": name,
            "id": f"{lb_id}/backendAddressPools/{name}",
            "etag": etag,
            "type": "Microsoft.Network/loadBalancers/backendAddressPools",
            "properties": {"provisioningState": "Succeeded"},
        }
        members = [d for d in b._nodes if self.in_pool(d)]
        if b.pool_type == "nodeIPConfiguration":
            pool["properties"]["backendIPConfigurations"] = [{"id": self.ipconfig_id(d, family)} for d in members]
        else:
            addr = self.address if family == IPV4 else self.address6
            pool["properties"]["virtualNetwork"] = {"id": self.vnet_id}
            pool["properties"]["loadBalancerBackendAddresses"] = [
                {"name": d.name, "properties": {"ipAddress": addr(d.index)}} for d in members
            ]
        return pool

    def in_pool(self, d: _NodeDraft) -> bool:
        """Would the provider have put the node into the pool (aks-lb-rules.md §7.3)?"""
        if d.virtual or EXCLUDE_LABEL in d.labels:
            return False  # the provider excludes on presence, whatever the value
        # IP pools drop nodes the service controller filters; NIC pools keep them.
        return not (self.builder.pool_type == "nodeIP" and (d.deleting or d.autoscaler_tainted))

    def pip_doc(self, name: str, ip: str, frontend_id: str, tags: Mapping[str, str], version: str = IPV4) -> Doc:
        return {
            "name": name,
            "id": self.ids.pip(name),
            "etag": f'W/"{self.builder._uuid()}"',
            "type": "Microsoft.Network/publicIPAddresses",
            "location": self.builder.location,
            "tags": dict(tags),
            "zones": ["1", "2", "3"],
            "sku": {"name": "Standard", "tier": "Regional"},
            "properties": {
                "provisioningState": "Succeeded",
                "resourceGuid": self.builder._uuid(),
                "ipAddress": ip,
                "publicIPAddressVersion": version,
                "publicIPAllocationMethod": "Static",
                "idleTimeoutInMinutes": 4,
                "ipTags": [],
                "ipConfiguration": {"id": frontend_id},
            },
        }

    def add_to_lb(self, lb: Doc, s: _ServiceDraft) -> None:
        """Frontend, PIP, rules and probes for one Service (aks-lb-rules.md §4–§6), per IP family."""
        self._service_lb[s.ref] = lb
        for family in s.families:
            self.add_family_to_lb(lb, s, family)

    def add_family_to_lb(self, lb: Doc, s: _ServiceDraft, family: str) -> None:
        props = lb["properties"]
        b = self.builder
        v6 = family == IPV6
        sfx = "-IPv6" if v6 else ""  # dual-stack only: the lab has no single-stack IPv6
        fe_name = s.prefix + sfx
        fe_id = f"{lb['id']}/frontendIPConfigurations/{fe_name}"
        fe_props: Doc = {"provisioningState": "Succeeded"}
        if s.internal:
            fe_props.update(
                privateIPAddress=s.ingress_ip6 if v6 else s.ingress_ip,
                privateIPAllocationMethod="Dynamic",
                subnet={"id": self.subnet_id},
                privateIPAddressVersion=family,
            )
        else:
            pip_name = f"{CLUSTER_NAME}-{s.prefix}{sfx}"
            fe_props.update(privateIPAllocationMethod="Dynamic", publicIPAddress={"id": self.ids.pip(pip_name)})
            self.cluster.public_ips.append(
                self.pip_doc(
                    pip_name,
                    (s.ingress_ip6 if v6 else s.ingress_ip) or "",
                    fe_id,
                    {"k8s-azure-service": s.ref, "k8s-azure-cluster-name": CLUSTER_NAME},
                    version=family,
                )
            )
        props["frontendIPConfigurations"].append(
            {
                "name": fe_name,
                "id": fe_id,
                "etag": f'W/"{b._uuid()}"',
                "type": "Microsoft.Network/loadBalancers/frontendIPConfigurations",
                **({"zones": ["1", "2", "3"]} if s.internal else {}),
                "properties": fe_props,
            }
        )

        # Step 1/2 of the provider's probe algorithm: the Local probe, else the shared probe.
        lp_id = None
        pls_cluster_probes = (
            _truthy(s.annotations.get(PLS_CREATE))
            and _truthy(s.annotations.get(PLS_PROXY_PROTOCOL))
            and _since(b.version, _PLS_CLUSTER_PROBES)
        )
        local = s.policy == "Local" and not pls_cluster_probes
        if local:
            h = s.health_check_node_port
            interval, threshold = self.probe_timing(s, h)
            probe = self.probe_doc(lb, f"{s.prefix}-TCP-{h}{sfx}", "Http", h, "/healthz", interval, threshold)
            props["probes"].append(probe)
            lp_id = probe["id"]
        elif b.probe_mode == "shared":
            shared_id = f"{lb['id']}/probes/{SHARED_PROBE_NAME}"
            if not any(p["id"] == shared_id for p in props["probes"]):
                props["probes"].append(self.probe_doc(lb, SHARED_PROBE_NAME, "Http", b.shared_probe_port, "/healthz"))
            lp_id = shared_id

        # Step 4: one rule per port; a per-port probe when the port gets one.
        for p in s.ports:
            port, protocol = p["port"], p["protocol"]
            if _truthy(s.annotations.get(f"{ANNOTATION}port_{port}_no_lb_rule")):
                continue
            rule_name = f"{s.prefix}-{protocol}-{port}{sfx}"
            probe_id = None
            if not _truthy(s.annotations.get(f"{ANNOTATION}port_{port}_no_probe_rule")):
                probe = self.port_probe(lb, s, p, rule_name, lp_id is not None)
                if probe is not None:
                    props["probes"].append(probe)
                    probe_id = probe["id"]
                else:
                    probe_id = lp_id
            props["loadBalancingRules"].append(
                self.rule_doc(lb, s, rule_name, protocol, port, p.get("nodePort"), probe_id, family=family)
            )

    def port_probe(self, lb: Doc, s: _ServiceDraft, p: Doc, name: str, have_lp: bool) -> Doc | None:
        """``buildHealthProbeRulesForPort`` for the common cases (aks-lb-rules.md §6.1 step 4.3)."""
        port = p["port"]
        ann = s.annotations
        if self.builder.probe_mode == "shared" and s.policy != "Local":
            return None
        if p["protocol"] in ("UDP", "SCTP"):
            return None
        override = ann.get(f"{ANNOTATION}port_{port}_health-probe_port")
        if override is not None:
            probe_port = None
            for q in s.ports:
                if q["name"].lower() == override.strip().lower() or str(q["port"]) == override.strip():
                    probe_port = q.get("nodePort")
            if probe_port is None:
                probe_port = int(override)
        elif have_lp:
            return None
        else:
            probe_port = p.get("nodePort")
        chain = (
            ann.get(f"{ANNOTATION}port_{port}_health-probe_protocol"),
            p.get("appProtocol"),
            ann.get(ANNOTATION + "azure-load-balancer-health-probe-protocol"),
        )
        raw = next((v for v in chain if v), "Tcp")
        protocol = {"tcp": "Tcp", "http": "Http", "https": "Https"}.get(raw.strip().lower(), "Tcp")
        path = None
        if protocol != "Tcp":
            path = (
                ann.get(f"{ANNOTATION}port_{port}_health-probe_request-path")
                or ann.get(ANNOTATION + "azure-load-balancer-health-probe-request-path")
                or "/"
            )
        interval, threshold = self.probe_timing(s, port)
        return self.probe_doc(lb, name, protocol, probe_port, path, interval, threshold)

    @staticmethod
    def probe_timing(s: _ServiceDraft, port: int | None) -> tuple[int, int]:
        ann = s.annotations
        interval = ann.get(f"{ANNOTATION}port_{port}_health-probe_interval") or ann.get(
            ANNOTATION + "azure-load-balancer-health-probe-interval"
        )
        threshold = ann.get(f"{ANNOTATION}port_{port}_health-probe_num-of-probe") or ann.get(
            ANNOTATION + "azure-load-balancer-health-probe-num-of-probe"
        )
        return int(interval or 5), int(threshold or 2)

    def probe_doc(
        self,
        lb: Doc,
        name: str,
        protocol: str,
        port: int,
        path: str | None,
        interval: int = 5,
        threshold: int = 2,
    ) -> Doc:
        props: Doc = {"provisioningState": "Succeeded", "protocol": protocol, "port": port}
        if path is not None:
            props["requestPath"] = path
        props.update(intervalInSeconds=interval, probeThreshold=threshold)
        return {
            "name": name,
            "id": f"{lb['id']}/probes/{name}",
            "etag": f'W/"{self.builder._uuid()}"',
            "type": "Microsoft.Network/loadBalancers/probes",
            "properties": props,
        }

    def rule_doc(
        self,
        lb: Doc,
        s: _ServiceDraft,
        name: str,
        protocol: str,
        port: int,
        node_port: int | None,
        probe_id: str | None,
        *,
        family: str = IPV4,
    ) -> Doc:
        ann = s.annotations
        arm_protocol = {"TCP": "Tcp", "UDP": "Udp", "SCTP": "All"}[protocol]
        # An internal LB cannot use floating IP on IPv6 (aks-lb-rules.md §5.2 (b)).
        floating = not _truthy(ann.get(ANNOTATION + "azure-disable-load-balancer-floating-ip")) and not (
            s.internal and family == IPV6
        )
        pool_id = self.pool(lb, family)["id"]
        fe_name = s.prefix + ("-IPv6" if family == IPV6 else "")
        props: Doc = {
            "provisioningState": "Succeeded",
            "frontendIPConfiguration": {"id": f"{lb['id']}/frontendIPConfigurations/{fe_name}"},
            "frontendPort": port,
            "backendPort": port if floating else node_port,
            "enableFloatingIP": floating,
            "idleTimeoutInMinutes": int(ann.get(ANNOTATION + "azure-load-balancer-tcp-idle-timeout", 4)),
            "protocol": arm_protocol,
            "loadDistribution": "SourceIP" if s.session_affinity == "ClientIP" else "Default",
            "disableOutboundSnat": self.builder.disable_outbound_snat,
            "backendAddressPool": {"id": pool_id},
            "backendAddressPools": [{"id": pool_id}],
        }
        if arm_protocol == "Tcp":
            props["enableTcpReset"] = not _truthy(ann.get(ANNOTATION + "azure-load-balancer-disable-tcp-reset"))
        if probe_id:
            props["probe"] = {"id": probe_id}
        return {
            "name": name,
            "id": f"{lb['id']}/loadBalancingRules/{name}",
            "etag": f'W/"{self.builder._uuid()}"',
            "type": "Microsoft.Network/loadBalancers/loadBalancingRules",
            "properties": props,
        }

    # -- the network path: VNet, subnet, NSGs, Private Link Services --------------------------------

    def network(self) -> None:
        """The VNet with its subnet, the node NSG with the provider's allow rules, a subnet NSG when
        the scenario attaches one, the custom rules, and a Private Link Service per Service asking."""
        b, c = self.builder, self.cluster
        subnet = self.subnet_doc()
        c.virtual_networks.append(self.vnet_doc(subnet))
        c.security_groups.append(self.nsg_doc(self.nsg_id))
        if self.subnet_nsg_id is not None:
            c.security_groups.append(self.nsg_doc(self.subnet_nsg_id))
            subnet["properties"]["networkSecurityGroup"] = {"id": self.subnet_nsg_id}
        # The owner's rules were there first: the provider picks its priorities around them.
        for level, spec in b._nsg_rules:
            self.add_rule(self.nsg_for(level), spec)
        self.provider_nsg_rules(c.security_groups[0])
        for s in b._services:
            if s.is_lb and s.internal and _truthy(s.annotations.get(PLS_CREATE)):
                c.private_link_services.append(self.pls_doc(s, len(c.private_link_services)))
        if c.private_link_services:
            subnet["properties"]["privateLinkServiceNetworkPolicies"] = "Disabled"

    def address_prefixes(self, subnet: bool) -> list[str]:
        """The lab's node addresses (127.<octet>.0.0/16) plus an AKS-like range; IPv6 when dual-stack."""
        out = [f"127.{self.octet}.0.0/16", "10.224.0.0/16" if subnet else "10.224.0.0/12"]
        if self.dual_stack:
            out += [f"::ffff:127.{self.octet}.0.0/112", "fd00:db8:deca:deed::/64" if subnet else "fd00:db8:deca::/48"]
        return out

    def subnet_doc(self) -> Doc:
        return {
            "name": self.builder.subnet_name,
            "id": self.subnet_id,
            "etag": self.net_etag(),
            "type": "Microsoft.Network/virtualNetworks/subnets",
            "properties": {
                "provisioningState": "Succeeded",
                "addressPrefixes": self.address_prefixes(subnet=True),
                "ipConfigurations": [],
                "delegations": [],
                "privateEndpointNetworkPolicies": "Disabled",
                "privateLinkServiceNetworkPolicies": "Enabled",
            },
        }

    def vnet_doc(self, subnet: Doc) -> Doc:
        b = self.builder
        etag = self.net_etag()
        peerings = []
        for peer in b._peerings:
            remote = f"/subscriptions/{b.subscription}/resourceGroups/{peer['resource_group']}/providers/"
            remote += f"Microsoft.Network/virtualNetworks/{peer['remote_vnet']}"
            space = {"addressPrefixes": list(peer["prefixes"])}
            peerings.append(
                {
                    "name": peer["name"],
                    "id": f"{self.vnet_id}/virtualNetworkPeerings/{peer['name']}",
                    "etag": etag,
                    "type": "Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
                    "properties": {
                        "provisioningState": "Succeeded",
                        "resourceGuid": self.net_uuid(),
                        "peeringState": peer["state"],
                        "peeringSyncLevel": "FullyInSync",
                        "remoteVirtualNetwork": {"id": remote},
                        "allowVirtualNetworkAccess": True,
                        "allowForwardedTraffic": False,
                        "allowGatewayTransit": False,
                        "useRemoteGateways": False,
                        "doNotVerifyRemoteGateways": False,
                        "remoteAddressSpace": space,
                        "remoteVirtualNetworkAddressSpace": dict(space),
                        "routeServiceVips": {},
                    },
                }
            )
        subnet["etag"] = etag  # ARM gives a VNet's child resources the VNet's etag
        return {
            "name": b.vnet,
            "id": self.vnet_id,
            "etag": etag,
            "type": "Microsoft.Network/virtualNetworks",
            "location": b.location,
            "properties": {
                "provisioningState": "Succeeded",
                "resourceGuid": self.net_uuid(),
                "addressSpace": {"addressPrefixes": self.address_prefixes(subnet=False)},
                "subnets": [subnet],
                "virtualNetworkPeerings": peerings,
                "enableDdosProtection": False,
            },
        }

    def nsg_doc(self, nsg_id: str) -> Doc:
        etag = self.net_etag()
        return {
            "name": nsg_id.rsplit("/", 1)[1],
            "id": nsg_id,
            "etag": etag,
            "type": "Microsoft.Network/networkSecurityGroups",
            "location": self.builder.location,
            "properties": {
                "provisioningState": "Succeeded",
                "resourceGuid": self.net_uuid(),
                "securityRules": [],
                "defaultSecurityRules": [
                    _security_rule_doc(nsg_id, spec, etag, default=True, description=description)
                    for spec, description in _DEFAULT_RULES
                ],
            },
        }

    def nsg_for(self, level: str) -> Doc:
        wanted = self.nsg_id if level == "nic" else self.subnet_nsg_id
        for g in self.cluster.security_groups:
            if wanted is not None and g["id"].lower() == wanted.lower():
                return g
        raise KeyError(f"no {level} NSG")

    def add_rule(self, nsg: Doc, spec: Doc) -> Doc:
        """Add one security rule; Azure refuses a second rule of the same name, or of the same
        priority and direction, in one NSG."""
        rules = nsg["properties"]["securityRules"]
        for r in rules:
            rp = r["properties"]
            if r["name"].lower() == spec["name"].lower():
                raise ValueError(f"NSG {nsg['name']} already has a rule {r['name']}")
            if rp["priority"] == spec["priority"] and rp["direction"] == spec["direction"]:
                raise ValueError(
                    f"NSG {nsg['name']}: priority {spec['priority']} ({spec['direction']}) is taken by {r['name']}"
                )
        doc = _security_rule_doc(nsg["id"], spec, nsg["etag"])
        rules.append(doc)
        return doc

    def provider_nsg_rules(self, nsg: Doc) -> None:
        """The allow (and deny-all) rules cloud-provider-azure writes to the node NSG
        (aks-lb-rules.md §9): ``k8s-azure-lb_allow_<family>_<md5>`` from v1.29, per-port
        ``<P>-<PROTOCOL>-<port>-<source>`` before."""
        b = self.builder
        legacy = b.minor <= 28
        allow: dict[str, Doc] = {}  # name → spec; destinations merge across Services
        deny: dict[str, Doc] = {}
        for s in b._services:
            ann = s.annotations
            if not s.is_lb or _truthy(ann.get(ANNOTATION + "azure-disable-load-balancer-nsg-rule")):
                continue
            floating = not _truthy(ann.get(ANNOTATION + "azure-disable-load-balancer-floating-ip"))
            ranges = (
                list(s.source_ranges)
                or _csv(ann.get(ANNOTATION + "azure-allowed-ip-ranges"))
                or _csv(ann.get(ANNOTATION + "load-balancer-source-ranges"))
            )
            tags = _csv(ann.get(ANNOTATION + "azure-allowed-service-tags"))
            for family in s.families:
                v6 = family == IPV6
                own = [r for r in ranges if (":" in r) == v6]
                allow_all = bool(own) and all(r in ("0.0.0.0/0", "::/0") for r in own)
                restricted = bool(own) and not allow_all
                sources = [[t] for t in tags]
                if restricted:
                    sources.append(sorted(own))
                if allow_all or not (s.internal or tags or restricted):
                    sources.append(["Internet"])
                if floating:
                    frontend = s.ingress_ip6 if v6 else s.ingress_ip
                    destinations = [frontend] if frontend else []
                else:
                    addr = self.address6 if v6 else self.address
                    destinations = [addr(d.index) for d in b._nodes if self.in_pool(d)]
                if not destinations:
                    continue
                for p in s.ports:
                    port = p["port"] if floating else p.get("nodePort")
                    if port is None:
                        continue
                    proto = _NSG_PROTOCOL[p["protocol"]]
                    if legacy:
                        for src in (x for srcs in sources for x in srcs):
                            safe = src.replace("/", "_").replace(":", ".")
                            name = f"{s.prefix}-{p['protocol']}-{p['port']}-{safe}" + ("-IPv6" if v6 else "")
                            allow[name] = {
                                **_rule_spec(name, 0, "Allow", "Inbound", proto, src, destinations, str(port), ()),
                                "_merge": False,
                            }
                if legacy:
                    continue
                by_protocol: dict[str, list[str]] = {}
                for p in s.ports:
                    port = p["port"] if floating else p.get("nodePort")
                    if port is not None:
                        by_protocol.setdefault(_NSG_PROTOCOL[p["protocol"]], []).append(str(port))
                for proto, ports in by_protocol.items():
                    port_list = sorted(set(ports))
                    for srcs in sources:
                        digest = hashlib.md5(
                            "_".join([proto, ",".join(sorted(srcs)), ",".join(port_list)]).encode(),
                            usedforsecurity=False,
                        ).hexdigest()
                        name = f"k8s-azure-lb_allow_{family}_{digest}"
                        spec = allow.setdefault(
                            name,
                            _rule_spec(
                                name,
                                0,
                                "Allow",
                                "Inbound",
                                proto,
                                srcs[0] if len(srcs) == 1 else srcs,
                                [],
                                port_list,
                                (),
                            ),
                        )
                        spec["destination"] = destinations + list(spec["destination"])
                if restricted and _truthy(ann.get(ANNOTATION + "azure-deny-all-except-load-balancer-source-ranges")):
                    name = f"k8s-azure-lb_deny-all_{family}"
                    spec = deny.setdefault(name, _rule_spec(name, 0, "Deny", "Inbound", "*", "*", [], "*", ()))
                    spec["destination"] = destinations + list(spec["destination"])
        taken = {
            r["properties"]["priority"]
            for r in nsg["properties"]["securityRules"]
            if r["properties"]["direction"] == "Inbound"
        }
        for specs, start, step in ((allow, 500, 1), (deny, 4095, -1)):
            priority = start
            for spec in specs.values():
                while priority in taken:
                    priority += step
                taken.add(priority)
                spec["priority"] = priority
                if spec.pop("_merge", True):
                    dsts = sorted(set(spec["destination"]))
                    spec["destination"] = dsts[0] if len(dsts) == 1 else dsts
                elif len(spec["destination"]) == 1:
                    spec["destination"] = spec["destination"][0]
                self.add_rule(nsg, spec)

    def pls_doc(self, s: _ServiceDraft, index: int) -> Doc:
        """``pls-<frontend>`` in front of the Service's (IPv4) frontend, as the provider creates it."""
        b = self.builder
        lb = self._service_lb[s.ref]
        name = s.annotations.get(PLS_NAME) or f"pls-{s.prefix}"
        pls_id = f"{self.ids.net}/privateLinkServices/{name}"
        guid = self.net_uuid()
        ipc = f"{b.subnet_name}-{name}"[: 80 - len("-dynamic-0")] + "-dynamic-0"
        return {
            "name": name,
            "id": pls_id,
            "etag": self.net_etag(),
            "type": "Microsoft.Network/privateLinkServices",
            "location": b.location,
            "tags": {"k8s-azure-owner-service": s.ref, "k8s-azure-cluster-name": CLUSTER_NAME},
            "properties": {
                "provisioningState": "Succeeded",
                "resourceGuid": guid,
                "fqdns": [],
                "alias": f"{name}.{guid}.{b.location}.azure.privatelinkservice",
                "visibility": {"subscriptions": []},
                "autoApproval": {"subscriptions": []},
                "enableProxyProtocol": _truthy(s.annotations.get(PLS_PROXY_PROTOCOL)),
                "loadBalancerFrontendIpConfigurations": [{"id": f"{lb['id']}/frontendIPConfigurations/{s.prefix}"}],
                "ipConfigurations": [
                    {
                        "name": ipc,
                        "id": f"{pls_id}/ipConfigurations/{ipc}",
                        "etag": self.net_etag(),
                        "type": "Microsoft.Network/privateLinkServices/ipConfigurations",
                        "properties": {
                            "provisioningState": "Succeeded",
                            "privateIPAddress": f"10.224.1.{index + 4}",
                            "privateIPAllocationMethod": "Dynamic",
                            "subnet": {"id": self.subnet_id},
                            "primary": True,
                            "privateIPAddressVersion": IPV4,
                        },
                    }
                ],
                "networkInterfaces": [{"id": f"{self.ids.net}/networkInterfaces/{name}.nic.{self.net_uuid()}"}],
                "privateEndpointConnections": [],
            },
        }

    def network_backrefs(self) -> None:
        """What ARM lists back: ipconfigs (NICs, frontends) on the subnet, NICs and subnets on NSGs."""
        c = self.cluster
        subnets = {sn["id"].lower(): sn for vnet in c.virtual_networks for sn in vnet["properties"].get("subnets", [])}
        groups = {g["id"].lower(): g for g in c.security_groups}
        for g in groups.values():
            g["properties"].pop("networkInterfaces", None)
            g["properties"].pop("subnets", None)
        for sn in subnets.values():
            sn["properties"]["ipConfigurations"] = []
            ref = sn["properties"].get("networkSecurityGroup")
            if ref and ref["id"].lower() in groups:
                groups[ref["id"].lower()]["properties"].setdefault("subnets", []).append({"id": sn["id"]})
        for nic in c.nics:
            ref = nic["properties"].get("networkSecurityGroup")
            if ref and ref["id"].lower() in groups:
                groups[ref["id"].lower()]["properties"].setdefault("networkInterfaces", []).append({"id": nic["id"]})
            for ipc in nic["properties"]["ipConfigurations"]:
                sn = subnets.get(ipc["properties"].get("subnet", {}).get("id", "").lower())
                if sn is not None:
                    sn["properties"]["ipConfigurations"].append({"id": ipc["id"]})
        for lb in c.load_balancers:
            for fe in lb["properties"]["frontendIPConfigurations"]:
                sn = subnets.get(fe["properties"].get("subnet", {}).get("id", "").lower())
                if sn is not None:
                    sn["properties"]["ipConfigurations"].append({"id": fe["id"]})

    # -- the data plane --------------------------------------------------------------------------

    def data_plane(self) -> None:
        """What kube-proxy and the pods answer on each node (probe-semantics.md §7, §8, §10)."""
        b = self.builder
        minor = b.minor
        cilium = b.data_plane == "cilium"
        cache: dict[Any, Behaviour] = {}
        nodes = b._nodes
        addresses = [self.address(d.index) for d in nodes]
        for s in b._services:
            if s.type not in ("LoadBalancer", "NodePort"):
                continue
            states = s.endpoint_states()
            ready_by_node: dict[int, int] = {}
            serving_by_node: dict[int, int] = {}
            for idx, ready, serving, _terminating in states:
                if ready:
                    ready_by_node[idx] = ready_by_node.get(idx, 0) + 1
                if serving:
                    serving_by_node[idx] = serving_by_node.get(idx, 0) + 1
            # kube-proxy falls back to serving-terminating endpoints when none is ready.
            usable_anywhere = bool(serving_by_node)  # ready endpoints are serving too
            for p in s.ports:
                if p["protocol"] != "TCP" or not p.get("nodePort"):
                    continue
                app = s.app_for(p["port"])
                for d, addr in zip(nodes, addresses, strict=True):
                    if not usable_anywhere:
                        beh: Behaviour = Closed()  # no endpoints at all: REJECT
                    elif s.policy == "Cluster" or not s.is_lb:
                        beh = app
                    elif serving_by_node.get(d.index):
                        beh = app  # a local endpoint (ready, or serving-terminating as fallback)
                    elif cilium:
                        # Cilium's NodePort+Local map holds only local backends: the no-backend path,
                        # whose default is reject (probe-semantics.md §10; UNVERIFIED there).
                        beh = Closed()
                    else:
                        beh = Blackhole()  # Local, no local endpoint: DROP
                    self.listeners[(addr, p["nodePort"])] = beh
            h = s.health_check_node_port
            if h:
                for d, addr in zip(nodes, addresses, strict=True):
                    n = ready_by_node.get(d.index, 0)
                    key = ("hc", s.ref, n, d.proxy_healthy)
                    beh = cache.get(key)
                    if beh is None:
                        if cilium:
                            beh = cache[key] = _cilium_service_health(s.namespace, s.name, n)
                        else:
                            beh = cache[key] = _service_health(s.namespace, s.name, n, d.proxy_healthy, minor)
                    self.listeners[(addr, h)] = beh
        ports = set()
        if b.proxy_healthz:
            ports.add(10256)
        if b.probe_mode == "shared":
            ports.add(b.shared_probe_port)
        for port in sorted(ports):
            for d, addr in zip(nodes, addresses, strict=True):
                eligible = not (d.deleting or d.autoscaler_tainted)
                key = ("proxy", eligible, d.proxy_healthy, d.deleting)
                beh = cache.get(key)
                if beh is None:
                    if cilium:
                        beh = cache[key] = _cilium_proxy_health(d.proxy_healthy, d.deleting)
                    else:
                        beh = cache[key] = _proxy_health(eligible, d.proxy_healthy, minor, self.dual_stack)
                self.listeners[(addr, port)] = beh


_AKS_IMAGES = (
    ("mcr.microsoft.com/oss/kubernetes/kube-proxy", "v1.29.4-hotfix.20240530", 78_339_456),
    ("mcr.microsoft.com/oss/kubernetes-csi/azuredisk-csi", "v1.29.6", 79_184_672),
    ("mcr.microsoft.com/oss/kubernetes/pause", "3.6", 301_056),
)
# node-problem-detector's conditions on AKS nodes, then the kubelet's own (all healthy).
_AKS_CONDITIONS = (
    ("KernelDeadlock", "KernelHasNoDeadlock", "kernel has no deadlock"),
    ("KubeletProblem", "KubeletIsUp", "kubelet service is up"),
    ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
)


def _aks_node_details(doc: Doc, d: _NodeDraft, b: AksBuilder) -> None:
    """What else AKS writes on a Node (labels, annotations, conditions, capacity, images, nodeInfo).

    Identifiers derive from the node's name, never from the builder's random source, so turning the
    details on changes no other object of the lab.
    """
    import hashlib

    digest = hashlib.sha256(d.name.encode()).hexdigest()
    meta, status = doc["metadata"], doc["status"]
    labels = {
        "kubernetes.azure.com/azure-cni-overlay": "true",
        "kubernetes.azure.com/kubelet-identity-client-id": _guid(digest[:32]),
        "kubernetes.azure.com/network-name": b.vnet,
        "kubernetes.azure.com/network-resourcegroup": b.node_rg,
        "kubernetes.azure.com/network-subnet": b.subnet_name,
        "kubernetes.azure.com/node-image-version": "AKSUbuntu-2204gen2containerd-202406.07.0",
        "kubernetes.azure.com/nodenetwork-vnetguid": _guid(digest[32:]),
        "kubernetes.azure.com/nodepool-type": "VirtualMachineScaleSets",
        "kubernetes.azure.com/os-sku": "Ubuntu",
        "kubernetes.azure.com/podnetwork-type": "overlay",
        "kubernetes.azure.com/storageprofile": "managed",
        "kubernetes.azure.com/storagetier": "Premium_LRS",
        "topology.disk.csi.azure.com/zone": "",
    }
    meta["labels"] = {**labels, **meta["labels"]}
    meta["annotations"] = {
        "csi.volume.kubernetes.io/nodeid": (
            f'{{"disk.csi.azure.com":"{d.name}","file.csi.azure.com":"{d.name}","blob.csi.azure.com":"{d.name}"}}'
        ),
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
    }
    conditions = [
        {
            "type": kind,
            "status": "False",
            "lastHeartbeatTime": CREATED,
            "lastTransitionTime": CREATED,
            "reason": reason,
            "message": message,
        }
        for kind, reason, message in _AKS_CONDITIONS
    ]
    status["conditions"] = conditions + status["conditions"]
    capacity = {
        "cpu": "4",
        "ephemeral-storage": "129886128Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": "16375324Ki",
        "pods": "110",
    }
    status["capacity"] = capacity
    status["allocatable"] = {**capacity, "cpu": "3860m", "ephemeral-storage": "119703055367", "memory": "12880924Ki"}
    status["daemonEndpoints"] = {"kubeletEndpoint": {"Port": 10250}}
    status["images"] = [
        {"names": [f"{repo}@sha256:{hashlib.sha256(repo.encode()).hexdigest()}", f"{repo}:{tag}"], "sizeBytes": size}
        for repo, tag, size in _AKS_IMAGES
    ]
    status["nodeInfo"] = {
        "machineID": digest[:32],
        "systemUUID": _guid(digest[16:48]),
        "bootID": _guid(digest[8:40]),
        "kernelVersion": "5.15.0-1064-azure",
        **status["nodeInfo"],
    }


def _guid(hex32: str) -> str:
    return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:32]}"


def _service_health(namespace: str, name: str, local: int, proxy_healthy: bool, minor: int) -> Http:
    """kube-proxy's per-service health server (probe-semantics.md §7): any path, 200 iff local ready
    endpoints and (≥ 1.27) the proxy is healthy."""
    body: Doc = {"service": {"namespace": namespace, "name": name}, "localEndpoints": local}
    healthy = local > 0
    if minor >= 27:
        body["serviceProxyHealthy"] = proxy_healthy
        healthy = healthy and proxy_healthy
    headers = [("Content-Type", "application/json"), ("X-Content-Type-Options", "nosniff")]
    if minor >= 28:
        headers.append(("X-Load-Balancing-Endpoint-Weight", str(local)))
    reply = Reply(200 if healthy else 503, json.dumps(body, indent=2).encode() + b"\n", tuple(headers))
    return Http(default=reply)


_GO_TIME = "2024-05-01 08:00:00.000000000 +0000 UTC m=+3600.000000001"
_RFC3339 = "2024-05-01T08:00:00Z"


def _proxy_health(eligible: bool, proxy_healthy: bool, minor: int, dual_stack: bool = False) -> Http:
    """kube-proxy's :10256 server (probe-semantics.md §8): /healthz with node eligibility (KEP-3836,
    on by default from 1.30), /livez (from 1.28); every other path 404."""
    kep = minor >= 30
    healthz_ok = proxy_healthy and (eligible or not kep)
    headers = (("Content-Type", "application/json"), ("X-Content-Type-Options", "nosniff"))
    t = _RFC3339 if minor >= 33 else _GO_TIME
    healthz: Doc = {"lastUpdated": t, "currentTime": t}
    livez: Doc = {"lastUpdated": t, "currentTime": t}
    if kep:
        healthz["nodeEligible"] = eligible
    if minor >= 33:
        status = {f: {"lastUpdated": t, "healthy": proxy_healthy} for f in ((IPV4, IPV6) if dual_stack else (IPV4,))}
        healthz.update(healthy=healthz_ok, status=status)
        livez.update(healthy=proxy_healthy, status=status)
    routes = {"/healthz": Reply(200 if healthz_ok else 503, json.dumps(healthz).encode(), headers)}
    if minor >= 28:
        routes["/livez"] = Reply(200 if proxy_healthy else 503, json.dumps(livez).encode(), headers)
    not_found = Reply(404, b"404 page not found\n", (("Content-Type", "text/plain; charset=utf-8"),))
    return Http(default=not_found, routes=routes)


def _cilium_service_health(namespace: str, name: str, local: int) -> Http:
    """Cilium's healthCheckNodePort server (probe-semantics.md §9): any path, 200 iff ≥ 1 local active
    backend; a compact body without ``serviceProxyHealthy`` (no proxy-health term)."""
    body = json.dumps(
        {"service": {"namespace": namespace, "name": name}, "localEndpoints": local}, separators=(",", ":")
    )
    headers = (
        ("Content-Type", "application/json"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Load-Balancing-Endpoint-Weight", str(local)),
    )
    return Http(default=Reply(200 if local > 0 else 503, body.encode() + b"\n", headers))


def _cilium_proxy_health(agent_healthy: bool, deleting: bool) -> Http:
    """Cilium's kube-proxy-replacement :10256 (``kube-proxy-replacement-healthz-bind-address``, as the
    AKS manifests set it): only /healthz (no /livez), no ``nodeEligible``; 503 while the agent is not
    OK or the node is being deleted. Whether the autoscaler taint counts is UNVERIFIED: it does not here."""
    headers = (("Content-Type", "application/json"), ("X-Content-Type-Options", "nosniff"))
    body = json.dumps({"lastUpdated": _GO_TIME, "currentTime": _GO_TIME}).encode()
    healthz = Reply(200 if agent_healthy and not deleting else 503, body, headers)
    not_found = Reply(404, b"404 page not found\n", (("Content-Type", "text/plain; charset=utf-8"),))
    return Http(default=not_found, routes={"/healthz": healthz})
