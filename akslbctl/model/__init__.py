"""The small typed domain model every stage of the pipeline speaks.

Sources turn API answers into these objects (``akslbctl.sources.normalize``); analysis, probing and
rendering only ever see them. Nothing here imports a client library.
"""

from akslbctl.model.azure import Frontend, LoadBalancer, Pool, PoolMember, Probe, PublicIP, Rule
from akslbctl.model.kube import Endpoint, Node, Service, ServicePort, Taint
from akslbctl.model.probe import ProbeResult, ProbeTarget

__all__ = [
    "Endpoint",
    "Frontend",
    "LoadBalancer",
    "Node",
    "Pool",
    "PoolMember",
    "Probe",
    "ProbeResult",
    "ProbeTarget",
    "PublicIP",
    "Rule",
    "Service",
    "ServicePort",
    "Taint",
]
