"""NetworkPolicy as the data plane applies it to LB traffic (field case C09). Pure: no client.

Two questions, answered from the policies of the Service's namespace and the pods behind it:

* ``externalTrafficPolicy: Cluster``: kube-proxy forwards a connection that arrives on one node to any
  ready endpoint; when that endpoint runs on another node the packet arrives **SNAT'd to the
  forwarding node's IP**. Traffic from the pod's own node is always admitted (Kubernetes: "traffic to
  and from the node where a Pod is running is always allowed"), so only forwarded hops are at stake.
  A policy that admits only client CIDRs drops them: nodes without a local pod lose every connection
  and their Tcp probe answer (kube-proxy forwards the probe too); nodes with one lose the share that
  kube-proxy sends elsewhere.
* ``Local``: the client address is kept. The policy must admit the Service's intended clients
  (``loadBalancerSourceRanges``, else the internet for a public frontend).

The evaluator follows networking.k8s.io/v1: a pod selected by no Ingress policy admits everything;
otherwise a source is admitted when some rule of some selecting policy matches both peer and port.
Peers: ``ipBlock`` (cidr minus ``except``) match addresses; ``podSelector`` / ``namespaceSelector``
match pods only, so never a node IP or a client. Ports: number, name (resolved on the pod), ``endPort``
range, protocol. What cannot be evaluated (a CiliumNetworkPolicy's own rules, a named port the pod
does not declare) is said, never guessed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import field

from akslbctl.model.kube import Endpoint, Node, Service, ServicePort
from akslbctl.model.report import ERROR, INFO, WARNING, Finding
from akslbctl.model.workload import IngressRule, LabelSelector, NetworkPolicy, Peer, Pod, PolicyPort
from akslbctl.records import record

ALL, SOME, NONE, UNKNOWN = "all", "some", "none", "unknown"
INTERNET = "0.0.0.0/0"
AZURE_PROBE_SOURCE = "168.63.129.16"


# -- selectors ------------------------------------------------------------------------------------


def selects(selector: LabelSelector | None, labels: Mapping[str, str]) -> bool:
    """matchLabels AND every matchExpression; an empty selector selects everything."""
    if selector is None:
        return True
    for k, v in selector.match_labels.items():
        if labels.get(k) != v:
            return False
    for r in selector.expressions:
        op = r.operator
        if op == "In" and labels.get(r.key) not in r.values:
            return False
        if op == "NotIn" and r.key in labels and labels[r.key] in r.values:
            return False
        if op == "Exists" and r.key not in labels:
            return False
        if op == "DoesNotExist" and r.key in labels:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return False  # the API server rejects other operators
    return True


# -- one source against one pod --------------------------------------------------------------------


@record(frozen=True)
class Admission:
    """Whether a source network reaches a pod's port: ``all`` of it, ``some``, ``none``, or ``unknown``."""

    result: str
    selecting: tuple[str, ...] = ()  # the Ingress policies that select the pod (refs)
    admitted_by: tuple[str, ...] = ()  # policies with a rule admitting (part of) the source
    unevaluated: tuple[str, ...] = ()  # why (part of) the answer is unknown, one line each

    @property
    def isolated(self) -> bool:
        return bool(self.selecting)


def _net(text: str):
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _peer_covers(peer: Peer, source) -> str:
    """How much of ``source`` (a network of addresses that are no pods) one peer admits."""
    if peer.ip_block is None:
        return NONE  # podSelector / namespaceSelector peers match pods, not node or client addresses
    cidr = _net(peer.ip_block.cidr)
    if cidr is None or cidr.version != source.version:
        return NONE
    if not source.overlaps(cidr):
        return NONE
    excepts = [e for e in (_net(x) for x in peer.ip_block.excepts) if e is not None and e.version == source.version]
    if source.subnet_of(cidr) and not any(source.overlaps(e) for e in excepts):
        return ALL
    if any(source.subnet_of(e) for e in excepts):
        return NONE
    return SOME


def _port_matches(pp: PolicyPort, pod: Pod, port: int, protocol: str) -> bool | None:
    """None: a named port the pod does not declare (the policy then admits nothing there; we say so)."""
    if pp.protocol.upper() != protocol.upper():
        return False
    if pp.port is None:
        return True
    if isinstance(pp.port, str):
        number = pod.named_port(pp.port)
        if number is None:
            return None
        return number == port
    if pp.end_port is not None:
        return pp.port <= port <= pp.end_port
    return pp.port == port


def _rule_admits(rule: IngressRule, pod: Pod, source, port: int, protocol: str, why: list[str], ref: str) -> str:
    if rule.ports is not None:
        matched = False
        for pp in rule.ports:
            m = _port_matches(pp, pod, port, protocol)
            if m is None:
                why.append(f"{ref}: named port {pp.port!r} is not declared by pod {pod.name}")
            elif m:
                matched = True
        if not matched:
            return NONE
    if rule.peers is None:
        return ALL
    best = NONE
    covered = []
    for peer in rule.peers:
        c = _peer_covers(peer, source)
        if c == ALL:
            return ALL
        if c == SOME:
            best = SOME
            covered.append(peer)
    return best


def admission(policies: Sequence[NetworkPolicy], pod: Pod, source: str, port: int, protocol: str = "TCP") -> Admission:
    """Does ``source`` (an address or CIDR of non-pod senders) reach ``pod`` on ``port``?"""
    net = _net(source)
    if net is None:
        return Admission(UNKNOWN, unevaluated=(f"{source!r} is no address or CIDR",))
    selecting = [
        p
        for p in policies
        if p.namespace == pod.namespace and p.affects_ingress and selects(p.pod_selector, pod.labels)
    ]
    if not selecting:
        return Admission(ALL)
    why: list[str] = []
    admitted: list[str] = []
    best = NONE
    evaluable = [p for p in selecting if p.kind == "NetworkPolicy"]
    for p in evaluable:
        for rule in p.ingress:
            r = _rule_admits(rule, pod, net, port, protocol, why, p.ref)
            if r == ALL:
                best = ALL
                admitted.append(p.ref)
                break
            if r == SOME:
                best = SOME if best != ALL else best
                admitted.append(p.ref)
    refs = tuple(p.ref for p in selecting)
    for p in selecting:
        if p.kind != "NetworkPolicy":
            why.append(f"{p.kind} {p.ref} selects pod {pod.name}; its rules are Cilium's own and not evaluated here")
    if best != ALL and any(p.kind != "NetworkPolicy" for p in selecting):
        # A Cilium policy may admit what the Kubernetes ones do not: the union decides.
        return Admission(UNKNOWN, refs, tuple(dict.fromkeys(admitted)), tuple(dict.fromkeys(why)))
    return Admission(best, refs, tuple(dict.fromkeys(admitted)), tuple(dict.fromkeys(why)))


# -- the Service's backends --------------------------------------------------------------------------


def backend_pods(endpoints: Iterable[Endpoint], pods: Sequence[Pod]) -> list[tuple[Endpoint, Pod | None]]:
    """Ready endpoints with their Pod (through ``targetRef``, else the address)."""
    by_ref = {f"Pod/{p.namespace}/{p.name}": p for p in pods}
    by_ip = {ip: p for p in pods for ip in p.ips}
    out = []
    for ep in endpoints:
        if not ep.ready or ep.terminating:
            continue
        pod = by_ref.get(ep.target_ref or "") or next((by_ip[a] for a in ep.addresses if a in by_ip), None)
        out.append((ep, pod))
    return out


def target_port(service_port: ServicePort, pod: Pod) -> int | None:
    """The container port a Service port sends to on this pod (a named targetPort resolves on the pod)."""
    tp = service_port.target_port
    if tp is None:
        return service_port.port
    if isinstance(tp, int):
        return tp
    if isinstance(tp, str) and tp.isdigit():
        return int(tp)
    return pod.named_port(tp)


@record(frozen=True)
class PolicyVerdict:
    """What the namespace's policies do to the LB traffic of one Service port."""

    port: ServicePort
    forwarded_denied: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # from-node → pods dropping it
    clients_admitted: str | None = None  # Local: ALL / SOME / NONE / UNKNOWN for the intended clients
    clients: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()  # the policies that select the backend pods
    admitting: tuple[str, ...] = ()
    unevaluated: tuple[str, ...] = ()


def evaluate(
    service: Service,
    nodes: Sequence[Node],
    endpoints: Sequence[Endpoint],
    pods: Sequence[Pod],
    policies: Sequence[NetworkPolicy],
    *,
    internal: bool = False,
    vnet_prefixes: Sequence[str] = (),
) -> list[PolicyVerdict]:
    out = []
    backends = [(ep, pod) for ep, pod in backend_pods(endpoints, pods) if pod is not None]
    if not backends or not policies:
        return out
    node_ip = {n.name: n.address() for n in nodes if n.address()}
    for sp in service.ports:
        if sp.protocol not in ("TCP", "UDP", "SCTP"):
            continue
        denied: dict[str, list[str]] = {}
        selecting: list[str] = []
        admitting: list[str] = []
        unevaluated: list[str] = []
        client_results: list[str] = []
        clients = list(service.load_balancer_source_ranges) or (list(vnet_prefixes) if internal else [INTERNET])
        for ep, pod in backends:
            port = target_port(sp, pod)
            if port is None:
                unevaluated.append(f"targetPort {sp.target_port!r} of port {sp.port} is not declared by pod {pod.name}")
                continue
            if service.is_local:
                for c in clients:
                    a = admission(policies, pod, c, port, sp.protocol)
                    selecting.extend(a.selecting)
                    admitting.extend(a.admitted_by)
                    unevaluated.extend(a.unevaluated)
                    client_results.append(a.result)
                continue
            for name, ip in sorted(node_ip.items()):
                if name == ep.node_name:
                    continue  # from the pod's own node: always admitted
                a = admission(policies, pod, ip, port, sp.protocol)
                selecting.extend(a.selecting)
                admitting.extend(a.admitted_by)
                unevaluated.extend(a.unevaluated)
                if a.result == NONE:
                    denied.setdefault(name, []).append(pod.name)
        combined = None
        if client_results:
            if all(r == ALL for r in client_results):
                combined = ALL
            elif UNKNOWN in client_results:
                combined = UNKNOWN
            elif all(r == NONE for r in client_results):
                combined = NONE
            else:
                combined = SOME
        out.append(
            PolicyVerdict(
                sp,
                {k: tuple(dict.fromkeys(v)) for k, v in denied.items()},
                combined,
                tuple(clients),
                tuple(dict.fromkeys(selecting)),
                tuple(dict.fromkeys(admitting)),
                tuple(dict.fromkeys(unevaluated)),
            )
        )
    return out


def admitted_sources(policies: Sequence[NetworkPolicy], refs: Iterable[str], port: int | None = None) -> list[str]:
    """The ipBlocks the named policies admit (for the message: 'admits only 10.1.0.0/16')."""
    want = set(refs)
    out: list[str] = []
    for p in policies:
        if p.ref not in want:
            continue
        for r in p.ingress:
            for peer in r.peers or ():
                if peer.ip_block is not None:
                    text = peer.ip_block.cidr + (
                        f" except {', '.join(peer.ip_block.excepts)}" if peer.ip_block.excepts else ""
                    )
                    out.append(text)
                elif peer.pod_selector is not None or peer.namespace_selector is not None:
                    out.append("pods by selector")
    return list(dict.fromkeys(out))


def node_cidr(nodes: Sequence[Node], subnet_prefixes: Sequence[str]) -> str:
    """The prefix to allow for forwarded hops: the node subnet holding every node, else the node IPs."""
    ips = [ipaddress.ip_address(n.address()) for n in nodes if n.address()]
    for prefix in subnet_prefixes:
        net = _net(prefix)
        if net is not None and ips and all(ip.version == net.version and ip in net for ip in ips):
            return str(net)
    return ", ".join(f"{ip}/32" for ip in ips) or "the node IPs"


def netpol_findings(
    service: Service,
    nodes: Sequence[Node],
    endpoints: Sequence[Endpoint],
    pods: Sequence[Pod],
    policies: Sequence[NetworkPolicy],
    *,
    pool_nodes: Sequence[str],
    internal: bool = False,
    subnet_prefixes: Sequence[str] = (),
    cilium: bool = False,
) -> list[Finding]:
    """``netpol-drops-forwarded`` (Cluster), ``netpol-blocks-clients`` (Local), ``netpol-unevaluated``."""
    findings: list[Finding] = []
    in_pool = [n for n in nodes if n.name in set(pool_nodes)]
    verdicts = evaluate(
        service, in_pool or nodes, endpoints, pods, policies, internal=internal, vnet_prefixes=subnet_prefixes
    )
    ready = backend_pods(endpoints, pods)
    local = {}
    for ep, _pod in ready:
        if ep.node_name:
            local[ep.node_name] = local.get(ep.node_name, 0) + 1
    total = len(ready)
    for v in verdicts:
        names = ", ".join(v.policies) or "?"
        sources = admitted_sources(policies, v.policies)
        only = f"admits only {', '.join(sources)}" if sources else "admits no address outside the cluster's pods"
        if v.forwarded_denied:
            dropped = sorted(v.forwarded_denied)
            without = [n for n in dropped if not local.get(n)]
            with_pod = [n for n in dropped if local.get(n)]
            parts = []
            pool = len(in_pool) or len(nodes)
            if without:
                parts.append(
                    f"nodes without a local pod fail ({len(without)}/{pool}: {', '.join(without)}): every "
                    "connection they receive, and their Tcp probe answer, is forwarded and dropped"
                )
            if with_pod:
                shares = ", ".join(f"{n} {round(100 * (total - local[n]) / total) if total else 0} %" for n in with_pod)
                parts.append(f"nodes with a pod lose the flows kube-proxy forwards elsewhere ({shares})")
            cidr = node_cidr(in_pool or nodes, subnet_prefixes)
            advice = f"allow the node CIDR ({cidr}) in an ipBlock, or use externalTrafficPolicy: Local"
            if cilium:
                advice += (
                    "; on Cilium, traffic from other nodes has the remote-node identity, which an ipBlock may not "
                    "match: allow it with a CiliumNetworkPolicy fromEntities: [remote-node]"
                )
            findings.append(
                Finding(
                    "netpol-drops-forwarded",
                    ERROR,
                    f"port {v.port.port}: NetworkPolicy {names} selects the backend pods and {only}; with "
                    "externalTrafficPolicy: Cluster traffic forwarded between nodes arrives SNAT'd to the "
                    f"forwarding node's IP and is dropped. " + "; ".join(parts) + f". Fix: {advice}.",
                )
            )
        if v.clients_admitted in (NONE, SOME):
            who = ", ".join(v.clients)
            what = "none of" if v.clients_admitted == NONE else "only part of"
            findings.append(
                Finding(
                    "netpol-blocks-clients",
                    ERROR if v.clients_admitted == NONE else WARNING,
                    f"port {v.port.port}: with externalTrafficPolicy: Local client addresses are kept, and "
                    f"NetworkPolicy {names} {only}: it admits {what} the Service's intended clients ({who}"
                    f"{', from loadBalancerSourceRanges' if service.load_balancer_source_ranges else ''}). Allow "
                    "them in an ipBlock, or narrow loadBalancerSourceRanges to what the policy admits.",
                )
            )
        if v.unevaluated:
            findings.append(
                Finding(
                    "netpol-unevaluated",
                    INFO,
                    f"port {v.port.port}: could not evaluate: "
                    + "; ".join(v.unevaluated[:5])
                    + (f" (+{len(v.unevaluated) - 5} more)" if len(v.unevaluated) > 5 else ""),
                )
            )
    return findings
