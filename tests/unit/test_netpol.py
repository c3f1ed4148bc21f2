"""The NetworkPolicy evaluator (analysis/netpol.py), table-driven: selectors, ipBlocks with except, ports
by number, name and range, protocols, policy types, and what cannot be evaluated."""

from __future__ import annotations

import pytest

from akslbctl.analysis.netpol import ALL, NONE, SOME, UNKNOWN, admission, evaluate, selects
from akslbctl.model.kube import Endpoint, Node, Service, ServicePort
from akslbctl.sources.workload import network_policy, pod, selector

POD = pod(
    {
        "metadata": {"name": "web-1", "namespace": "default", "labels": {"app": "web", "tier": "front"}},
        "spec": {"nodeName": "n0", "containers": [{"name": "app", "ports": [{"name": "http", "containerPort": 8080}]}]},
        "status": {"podIP": "10.244.0.10"},
    }
)


def policy(spec: dict, name: str = "p", namespace: str = "default", kind: str = "NetworkPolicy") -> object:
    return network_policy({"kind": kind, "metadata": {"name": name, "namespace": namespace}, "spec": spec})


def ingress(*rules: dict, selector: dict | None = None, types: list[str] | None = None) -> dict:
    spec = {
        "podSelector": selector if selector is not None else {"matchLabels": {"app": "web"}},
        "ingress": list(rules),
    }
    if types is not None:
        spec["policyTypes"] = types
    return spec


def block(cidr: str, *excepts: str) -> dict:
    return {"ipBlock": {"cidr": cidr, **({"except": list(excepts)} if excepts else {})}}


SELECTORS = [
    ({}, {"app": "web"}, True),
    ({"matchLabels": {"app": "web"}}, {"app": "web"}, True),
    ({"matchLabels": {"app": "api"}}, {"app": "web"}, False),
    ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]}, {"app": "web"}, True),
    ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}, {"app": "web"}, False),
    ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}, {}, True),
    ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, {"tier": "x"}, True),
    ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, {"tier": "x"}, False),
    (
        {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "Exists"}]},
        {"app": "web"},
        False,
    ),
]


@pytest.mark.parametrize(("sel", "labels", "want"), SELECTORS)
def test_selectors(sel, labels, want):
    assert selects(selector(sel, "s"), labels) is want


CASES = [
    # (policies, source, port, protocol, expected result)
    ("no policy", [], "10.224.0.5", 8080, "TCP", ALL),
    ("policy of another namespace", [policy(ingress(), namespace="other")], "10.224.0.5", 8080, "TCP", ALL),
    (
        "policy selecting other pods",
        [policy(ingress(selector={"matchLabels": {"app": "api"}}))],
        "1.2.3.4",
        8080,
        "TCP",
        ALL,
    ),
    (
        "egress-only policy",
        [policy({"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]})],
        "1.2.3.4",
        8080,
        "TCP",
        ALL,
    ),
    ("deny all ingress", [policy(ingress())], "10.224.0.5", 8080, "TCP", NONE),
    ("allow all: empty rule", [policy(ingress({}))], "10.224.0.5", 8080, "TCP", ALL),
    ("client CIDR only, node IP", [policy(ingress({"from": [block("10.1.0.0/16")]}))], "10.224.0.5", 8080, "TCP", NONE),
    ("client CIDR only, client", [policy(ingress({"from": [block("10.1.0.0/16")]}))], "10.1.2.3", 8080, "TCP", ALL),
    (
        "ipBlock except hits",
        [policy(ingress({"from": [block("10.0.0.0/8", "10.224.0.0/16")]}))],
        "10.224.0.5",
        8080,
        "TCP",
        NONE,
    ),
    (
        "ipBlock except misses",
        [policy(ingress({"from": [block("10.0.0.0/8", "10.224.0.0/16")]}))],
        "10.1.0.5",
        8080,
        "TCP",
        ALL,
    ),
    ("internet vs a /16", [policy(ingress({"from": [block("10.1.0.0/16")]}))], "0.0.0.0/0", 8080, "TCP", SOME),
    (
        "internet vs except",
        [policy(ingress({"from": [block("0.0.0.0/0", "10.0.0.0/8")]}))],
        "0.0.0.0/0",
        8080,
        "TCP",
        SOME,
    ),
    ("range inside", [policy(ingress({"from": [block("203.0.0.0/8")]}))], "203.0.113.0/24", 80, "TCP", ALL),
    (
        "podSelector peer never matches an address",
        [policy(ingress({"from": [{"podSelector": {}}]}))],
        "10.224.0.5",
        8080,
        "TCP",
        NONE,
    ),
    (
        "namespaceSelector peer",
        [policy(ingress({"from": [{"namespaceSelector": {}}]}))],
        "10.224.0.5",
        8080,
        "TCP",
        NONE,
    ),
    ("port number matches", [policy(ingress({"ports": [{"port": 8080}]}))], "1.2.3.4", 8080, "TCP", ALL),
    ("port number differs", [policy(ingress({"ports": [{"port": 9090}]}))], "1.2.3.4", 8080, "TCP", NONE),
    ("named port resolves on the pod", [policy(ingress({"ports": [{"port": "http"}]}))], "1.2.3.4", 8080, "TCP", ALL),
    ("named port the pod lacks", [policy(ingress({"ports": [{"port": "grpc"}]}))], "1.2.3.4", 8080, "TCP", NONE),
    ("endPort range", [policy(ingress({"ports": [{"port": 8000, "endPort": 8100}]}))], "1.2.3.4", 8080, "TCP", ALL),
    (
        "protocol differs",
        [policy(ingress({"ports": [{"protocol": "UDP", "port": 8080}]}))],
        "1.2.3.4",
        8080,
        "TCP",
        NONE,
    ),
    (
        "two policies: union",
        [policy(ingress(), "deny"), policy(ingress({"from": [block("10.224.0.0/16")]}), "nodes")],
        "10.224.0.5",
        8080,
        "TCP",
        ALL,
    ),
    ("IPv6 source, IPv4 block", [policy(ingress({"from": [block("0.0.0.0/0")]}))], "fd00::5", 8080, "TCP", NONE),
    (
        "Cilium policy selects: unknown",
        [
            policy(ingress(), "deny"),
            policy({"endpointSelector": {}, "ingress": [{}]}, "cnp", kind="CiliumNetworkPolicy"),
        ],
        "10.224.0.5",
        8080,
        "TCP",
        UNKNOWN,
    ),
    (
        "Cilium policy, k8s admits",
        [policy(ingress({}), "all"), policy({"endpointSelector": {}}, "cnp", kind="CiliumNetworkPolicy")],
        "10.224.0.5",
        8080,
        "TCP",
        ALL,
    ),
]


@pytest.mark.parametrize(("what", "policies", "source", "port", "protocol", "want"), CASES, ids=[c[0] for c in CASES])
def test_admission(what, policies, source, port, protocol, want):
    assert admission(policies, POD, source, port, protocol).result == want


def test_named_port_the_pod_lacks_is_said():
    a = admission([policy(ingress({"ports": [{"port": "grpc"}]}))], POD, "1.2.3.4", 8080)
    assert any("named port 'grpc' is not declared by pod web-1" in w for w in a.unevaluated)
    assert a.selecting == ("default/p",)


def test_cluster_forwarded_hops_from_other_nodes_only():
    nodes = [Node(f"n{i}", (f"10.224.0.{4 + i}",)) for i in range(3)]
    svc = Service(
        "default", "web", "u", ports=(ServicePort(80, node_port=30396, target_port="http"),), selector={"app": "web"}
    )
    eps = [Endpoint(("10.244.0.10",), node_name="n0", target_ref="Pod/default/web-1")]
    (v,) = evaluate(svc, nodes, eps, [POD], [policy(ingress({"from": [block("10.1.0.0/16")]}))])
    assert sorted(v.forwarded_denied) == ["n1", "n2"]  # n0 is the pod's own node: always admitted
    assert v.policies == ("default/p",)
    (ok,) = evaluate(svc, nodes, eps, [POD], [policy(ingress({"from": [block("10.224.0.0/16")]}))])
    assert not ok.forwarded_denied


def test_local_checks_the_intended_clients():
    nodes = [Node("n0", ("10.224.0.4",))]
    svc = Service(
        "default",
        "web",
        "u",
        ports=(ServicePort(80, node_port=30396, target_port=8080),),
        external_traffic_policy="Local",
        load_balancer_source_ranges=("203.0.113.0/24",),
    )
    eps = [Endpoint(("10.244.0.10",), node_name="n0", target_ref="Pod/default/web-1")]
    (v,) = evaluate(svc, nodes, eps, [POD], [policy(ingress({"from": [block("203.0.113.0/25")]}))])
    assert v.clients_admitted == SOME and v.clients == ("203.0.113.0/24",)
    (v,) = evaluate(svc, nodes, eps, [POD], [policy(ingress({"from": [block("203.0.0.0/8")]}))])
    assert v.clients_admitted == ALL
