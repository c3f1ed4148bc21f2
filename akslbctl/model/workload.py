"""The pods behind a Service and the NetworkPolicies of its namespace, as far as the LB cares.

Read only, and only when a question needs them: which container port answers readiness (gateways
probed on a data port, field case C03), which policies select the backend pods and from where they
admit traffic (SNAT'd forwarded hops, C09), and how many pods run on each node (the share, C17).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field

from akslbctl.records import record


@record(frozen=True)
class ContainerPort:
    port: int
    name: str = ""
    protocol: str = "TCP"


@record(frozen=True)
class HttpCheck:
    """A container's readinessProbe (httpGet / tcpSocket / grpc), with its port as written."""

    kind: str  # httpGet | tcpSocket | grpc | exec
    port: int | str | None = None  # number or a container port name
    path: str | None = None
    scheme: str = "HTTP"
    headers: tuple[tuple[str, str], ...] = ()  # httpGet.httpHeaders (kubelet sends them; Azure does not)


@record(frozen=True)
class Container:
    name: str
    image: str = ""
    ports: tuple[ContainerPort, ...] = ()
    readiness: HttpCheck | None = None

    def port_number(self, port: int | str | None) -> int | None:
        """A probe's or a policy's port as a number: a name resolves to this container's port."""
        if isinstance(port, int):
            return port
        if isinstance(port, str) and port.isdigit():
            return int(port)
        for p in self.ports:
            if p.name and p.name == port:
                return p.port
        return None


@record(frozen=True)
class Pod:
    namespace: str
    name: str
    node_name: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    ips: tuple[str, ...] = ()
    containers: tuple[Container, ...] = ()
    host_network: bool = False

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    def named_port(self, name: str) -> int | None:
        for c in self.containers:
            for p in c.ports:
                if p.name and p.name == name:
                    return p.port
        return None


# -- NetworkPolicy (networking.k8s.io/v1) ---------------------------------------------------------


@record(frozen=True)
class Requirement:
    key: str
    operator: str  # In | NotIn | Exists | DoesNotExist
    values: tuple[str, ...] = ()


@record(frozen=True)
class LabelSelector:
    """``matchLabels`` and ``matchExpressions``; an empty selector selects everything."""

    match_labels: Mapping[str, str] = field(default_factory=dict)
    expressions: tuple[Requirement, ...] = ()


@record(frozen=True)
class IPBlock:
    cidr: str
    excepts: tuple[str, ...] = ()


@record(frozen=True)
class Peer:
    """One ``from`` entry: an ipBlock, or pods by podSelector and/or namespaceSelector."""

    ip_block: IPBlock | None = None
    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None


@record(frozen=True)
class PolicyPort:
    protocol: str = "TCP"
    port: int | str | None = None  # None: every port
    end_port: int | None = None


@record(frozen=True)
class IngressRule:
    peers: tuple[Peer, ...] | None = None  # None (``from`` absent or empty): every source
    ports: tuple[PolicyPort, ...] | None = None  # None: every port


@record(frozen=True)
class NetworkPolicy:
    namespace: str
    name: str
    pod_selector: LabelSelector = field(default_factory=LabelSelector)
    ingress: tuple[IngressRule, ...] = ()
    policy_types: tuple[str, ...] = ("Ingress",)
    kind: str = "NetworkPolicy"  # or CiliumNetworkPolicy (read, named, not evaluated)

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def affects_ingress(self) -> bool:
        return "Ingress" in self.policy_types
