"""Everything one diagnosis needs, from a live cluster or from a case file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import Any

from akslbctl.model.azure import LoadBalancer, NetworkInterface, PublicIP, VmState
from akslbctl.model.kube import Endpoint, Event, Node, Service
from akslbctl.model.network import PrivateLinkService, SecurityGroup, Subnet, VirtualNetwork
from akslbctl.model.probe import ProbeResult
from akslbctl.model.report import AzureHealth
from akslbctl.model.workload import NetworkPolicy, Pod
from akslbctl.records import record


@record(frozen=True)
class RawDocuments:
    """The API answers as they came, for case files (contract §7)."""

    service: Mapping[str, Any]
    nodes: tuple[Mapping[str, Any], ...] = ()
    endpoint_slices: tuple[Mapping[str, Any], ...] = ()
    # False: the evidence holds no EndpointSlices at all (a dump folder without endpointslices.json, a
    # case file without "endpointSlices") — the endpoints are unknown, not none.
    endpoints_read: bool = True
    load_balancers: tuple[Mapping[str, Any], ...] = ()
    public_ips: tuple[Mapping[str, Any], ...] = ()
    network_interfaces: tuple[Mapping[str, Any], ...] = ()
    version: Mapping[str, Any] | None = None
    security_groups: tuple[Mapping[str, Any], ...] = ()
    virtual_networks: tuple[Mapping[str, Any], ...] = ()
    subnets: tuple[Mapping[str, Any], ...] = ()
    private_link_services: tuple[Mapping[str, Any], ...] = ()
    events: tuple[Mapping[str, Any], ...] | None = None  # None: not read (or not recorded)
    instance_views: tuple[Mapping[str, Any], ...] = ()  # {"id": VM id, "statuses": [...]} per VM read
    # Inside the cluster (issue 12): None when not read (an older case file, a dump without them).
    pods: tuple[Mapping[str, Any], ...] | None = None
    network_policies: tuple[Mapping[str, Any], ...] | None = None  # NetworkPolicy and CiliumNetworkPolicy
    workload_notes: tuple[str, ...] = ()  # what of pods / policies could not be read (403, CRD not served)


@record(frozen=True)
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
    # The network path in front of the nodes (contract §5.1): NSGs of the pool members' NICs and
    # subnets, the VNets (or single subnets) those live in, Private Link Services on the frontends.
    security_groups: tuple[SecurityGroup, ...] = ()
    virtual_networks: tuple[VirtualNetwork, ...] = ()
    subnets: tuple[Subnet, ...] = ()
    private_link_services: tuple[PrivateLinkService, ...] = ()
    network_notes: tuple[str, ...] = ()  # what of the path could not be read (a 403, a missing object)
    # Recorded evidence of a case file: Azure's view (rule name lower-cased → member address → health)
    # and the address this machine probed from.
    recorded_azure: Mapping[str, Mapping[str, AzureHealth]] | None = None
    recorded_source: str | None = None
    recorded_notes: tuple[str, ...] = ()  # notes recorded with Azure's view (why it was unavailable)
    # Why the provider has not built (all of) it (contract §5.2): the Service's Events, newest first
    # (None: not read — a case file without them, or the API refused), and the instance views read
    # for nodes the pool lacks or that are NotReady.
    events: tuple[Event, ...] | None = None
    events_note: str | None = None  # why the Events could not be read
    vm_states: tuple[VmState, ...] = ()
    observed_at: str | None = None  # RFC 3339: when the evidence was read (event ages count from it)
    # The pods behind the Service and the NetworkPolicies of its namespace (model/workload.py);
    # ``workload_read``: whether they were read at all (an empty tuple then means "none").
    pods: tuple[Pod, ...] = ()
    network_policies: tuple[NetworkPolicy, ...] = ()
    workload_read: bool = False
    workload_notes: tuple[str, ...] = ()
    # Whether ``endpoints`` was read at all: False when the evidence holds no EndpointSlices (a dump
    # folder without endpointslices.json). Unknown endpoints predict nothing — never "no pod is Ready".
    endpoints_known: bool = True
    # Objects that are not the Service's and did not parse (another Service's rule with an unknown
    # protocol, a malformed Node or NSG): skipped, one note each, instead of ending the diagnosis.
    parse_notes: tuple[str, ...] = ()
    raw: RawDocuments | None = field(default=None, compare=False)
