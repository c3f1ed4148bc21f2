"""Everything one diagnosis needs, from a live cluster or from a case file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from akslbctl.model.azure import LoadBalancer, NetworkInterface, PublicIP
from akslbctl.model.kube import Endpoint, Node, Service
from akslbctl.model.probe import ProbeResult


@dataclass(frozen=True)
class RawDocuments:
    """The API answers as they came, for case files (contract §7)."""

    service: Mapping[str, Any]
    nodes: tuple[Mapping[str, Any], ...] = ()
    endpoint_slices: tuple[Mapping[str, Any], ...] = ()
    load_balancers: tuple[Mapping[str, Any], ...] = ()
    public_ips: tuple[Mapping[str, Any], ...] = ()
    network_interfaces: tuple[Mapping[str, Any], ...] = ()
    version: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Case:
    service: Service
    nodes: tuple[Node, ...]
    endpoints: tuple[Endpoint, ...]
    load_balancers: tuple[LoadBalancer, ...] = ()
    public_ips: tuple[PublicIP, ...] = ()
    network_interfaces: tuple[NetworkInterface, ...] = ()
    server_version: str | None = None  # Kubernetes gitVersion, e.g. v1.29.4
    subscription: str | None = None
    resource_group: str | None = None  # the node resource group searched for load balancers
    recorded_probes: tuple[ProbeResult, ...] | None = None  # from a case file; None when live
    raw: RawDocuments | None = field(default=None, compare=False)
