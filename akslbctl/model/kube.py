"""Kubernetes objects as far as the load balancer cares about them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field

from akslbctl.records import record

AUTOSCALER_DELETION_TAINT = "ToBeDeletedByClusterAutoscaler"
EXCLUDE_LB_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"


@record(frozen=True)
class ServicePort:
    port: int
    protocol: str = "TCP"  # Kubernetes spelling: TCP, UDP, SCTP
    name: str = ""
    node_port: int | None = None
    target_port: int | str | None = None
    app_protocol: str | None = None


@record(frozen=True)
class Service:
    namespace: str
    name: str
    uid: str
    type: str = "LoadBalancer"
    ports: tuple[ServicePort, ...] = ()
    external_traffic_policy: str = "Cluster"
    health_check_node_port: int | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    ingress_ips: tuple[str, ...] = ()
    load_balancer_ip: str | None = None  # spec.loadBalancerIP (deprecated, still honoured)
    load_balancer_class: str | None = None
    ip_families: tuple[str, ...] = ()  # spec.ipFamilies; empty means IPv4
    session_affinity: str = "None"
    selector: Mapping[str, str] | None = None
    allocate_load_balancer_node_ports: bool = True
    load_balancer_source_ranges: tuple[str, ...] = ()  # spec.loadBalancerSourceRanges

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def is_local(self) -> bool:
        return self.external_traffic_policy == "Local"


@record(frozen=True)
class Taint:
    key: str
    value: str = ""
    effect: str = ""


@record(frozen=True)
class Node:
    name: str
    internal_ips: tuple[str, ...] = ()
    provider_id: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: tuple[Taint, ...] = ()
    ready: bool | None = None
    unschedulable: bool = False
    deleting: bool = False  # metadata.deletionTimestamp is set

    def address(self, family: str = "IPv4") -> str | None:
        """The node's InternalIP of an IP family, the address the LB probes."""
        want_v6 = family == "IPv6"
        for ip in self.internal_ips:
            if (":" in ip) == want_v6:
                return ip
        return None

    @property
    def autoscaler_deleting(self) -> bool:
        return any(t.key == AUTOSCALER_DELETION_TAINT for t in self.taints)


@record(frozen=True)
class Endpoint:
    """One endpoint of one of the Service's EndpointSlices."""

    addresses: tuple[str, ...]
    node_name: str | None = None
    ready: bool = True  # conditions.ready; the API says nil means ready
    serving: bool = True
    terminating: bool = False
    target_ref: str | None = None  # "Pod/ns/name"


@record(frozen=True)
class Event:
    """One Event about the Service (core/v1 or events.k8s.io/v1, one shape)."""

    reason: str
    message: str
    type: str = "Normal"  # Normal | Warning
    count: int = 1
    last_seen: str | None = None  # RFC 3339, as the API wrote it
    first_seen: str | None = None
    source: str = ""  # reporting component, e.g. service-controller
