"""The embedded lab driven by the real clients: ``kubernetes`` through the written kubeconfig,
``azure-mgmt-network`` against the loopback ARM, raw sockets against the node listeners.

Labs pick their own 127.<octet>.0.0/16 range (counting down from 127.254); the node listeners of
this module therefore never meet another module's fixed 127.N ranges.
"""

from __future__ import annotations

import http.client
import io
import json
import socket
import threading
import time
from pathlib import Path

import pytest
import requests
import yaml

from akslbctl.lab import scenarios
from akslbctl.lab.armapi import azure_verdict
from akslbctl.lab.behaviours import (
    Blackhole,
    BrokenTLS,
    Closed,
    Drip,
    Garbage,
    Hang,
    Http,
    HugeBody,
    Reply,
    ResetMidAnswer,
    ResetOnAccept,
    Sequence,
)
from akslbctl.lab.cluster import AksBuilder, OctetLease
from akslbctl.lab.httpserver import Fault
from akslbctl.lab.runner import Lab, serve_forever
from akslbctl.sources import normalize

# ---------------------------------------------------------------------------------------------
# Helpers: the real clients, configured the way a user would


class StaticToken:
    """A credential that hands out a fixed bearer token (what AKSLBCTL_ARM_TOKEN amounts to)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: object):
        from azure.core.credentials import AccessToken

        return AccessToken(self.token, int(time.time()) + 3600)


def kube_client(kubeconfig: Path):
    from kubernetes import config

    return config.new_client_from_config(config_file=str(kubeconfig))


def kube_call(api, method: str, path: str, query=(), body=None) -> tuple[int, dict]:
    """A raw call through the kubernetes client: (status, JSON body)."""
    params = api.param_serialize(method, path, query_params=list(query), body=body, auth_settings=["BearerToken"])
    resp = api.call_api(*params)
    resp.read()
    return resp.status, json.loads(resp.data)


def arm_client(lab: Lab, token: str | None = None, **kwargs):
    from azure.mgmt.network import NetworkManagementClient

    return NetworkManagementClient(
        StaticToken(token or lab.arm_token), lab.cluster.subscription, base_url=lab.arm_url, **kwargs
    )


def health(lab: Lab, rule: str, lb: str = "kubernetes", **kwargs):
    client = arm_client(lab, retry_total=0)
    poller = client.load_balancer_load_balancing_rules.begin_health(
        lab.cluster.node_resource_group, lb, rule, enforce_https=False, polling_interval=0, **kwargs
    )
    return poller.result()


def prefix_of(service: dict) -> str:
    return ("a" + service["metadata"]["uid"].replace("-", ""))[:32]


def connect(address: str, port: int, timeout: float = 0.5) -> str:
    """'open', 'refused' or 'timeout' for a TCP connect."""
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return "open"
    except ConnectionRefusedError:
        return "refused"
    except TimeoutError:
        return "timeout"


def http_get(address: str, port: int, path: str = "/") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(address, port, timeout=2)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def tcp_lab():
    """cluster-tcp with node listeners, shared by the read-only tests of this module."""
    with Lab("cluster-tcp") as lab:
        yield lab


@pytest.fixture(scope="module")
def local_lab():
    with Lab("local-http") as lab:
        yield lab


# ---------------------------------------------------------------------------------------------
# Kubernetes API through the kubeconfig


def test_discovery_lists_what_the_lab_serves(tcp_lab: Lab):
    """kubectl reads discovery before any list (the benchmarks compare with kubectl get/describe)."""
    api = kube_client(tcp_lab.kubeconfig)
    status, core = kube_call(api, "GET", "/api/v1")
    assert status == 200 and core["kind"] == "APIResourceList" and core["groupVersion"] == "v1"
    by_name = {r["name"]: r for r in core["resources"]}
    assert by_name["nodes"]["namespaced"] is False and by_name["nodes"]["shortNames"] == ["no"]
    assert by_name["services"]["namespaced"] is True and by_name["services"]["kind"] == "Service"
    status, slices = kube_call(api, "GET", "/apis/discovery.k8s.io/v1")
    assert status == 200 and [r["name"] for r in slices["resources"]] == ["endpointslices"]
    status, _ = kube_call(api, "GET", "/apis/cilium.io/v2")  # no Cilium CRD in this lab
    assert status == 404


def test_kubernetes_client_reads_version_service_nodes_and_slices(tcp_lab: Lab):
    api = kube_client(tcp_lab.kubeconfig)
    assert tcp_lab.kube_url.startswith("https://127.0.0.1:")  # TLS, verified against the lab's CA

    status, version = kube_call(api, "GET", "/version")
    assert status == 200
    assert version["gitVersion"] == "v1.29.4"
    assert (version["major"], version["minor"]) == ("1", "29")

    status, svc = kube_call(api, "GET", "/api/v1/namespaces/default/services/web")
    assert status == 200
    assert svc["kind"] == "Service" and svc["apiVersion"] == "v1"
    assert svc["spec"]["type"] == "LoadBalancer"
    assert svc["spec"]["externalTrafficPolicy"] == "Cluster"
    assert svc["spec"]["ports"][0]["nodePort"] == 30396
    ingress_ip = svc["status"]["loadBalancer"]["ingress"][0]["ip"]

    status, nodes = kube_call(api, "GET", "/api/v1/nodes")
    assert status == 200
    assert nodes["kind"] == "NodeList"
    assert [n["metadata"]["name"] for n in nodes["items"]] == [
        "aks-nodepool1-12345678-vmss000000",
        "aks-nodepool1-12345678-vmss000001",
        "aks-nodepool1-12345678-vmss000002",
    ]
    assert all("kind" not in n for n in nodes["items"])  # list items carry no kind, as the API server's
    parsed = [normalize.node(n) for n in nodes["items"]]
    assert [n.address() for n in parsed] == [tcp_lab.address(i) for i in range(3)]
    assert all(n.address().startswith(f"127.{tcp_lab.cluster.address_octet}.") for n in parsed)
    # providerID as AKS writes it: lower-cased node resource group, decimal VMSS instance id.
    assert parsed[2].provider_id == (
        f"azure:///subscriptions/{tcp_lab.cluster.subscription}/resourceGroups/mc_rg_aks_westeurope/"
        "providers/Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1-12345678-vmss/virtualMachines/2"
    )

    status, slices = kube_call(
        api,
        "GET",
        "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
        [("labelSelector", "kubernetes.io/service-name=web")],
    )
    assert status == 200 and slices["kind"] == "EndpointSliceList"
    assert len(slices["items"]) == 1
    eps = normalize.endpoints(slices["items"][0])
    assert [(e.node_name, e.ready, e.serving, e.terminating) for e in eps] == [
        ("aks-nodepool1-12345678-vmss000000", True, True, False),
        ("aks-nodepool1-12345678-vmss000001", True, True, False),
    ]

    # The managed PIP carries the Service's ingress IP.
    pip = next(p for p in tcp_lab.cluster.public_ips if p["name"] == f"kubernetes-{prefix_of(svc)}")
    assert pip["properties"]["ipAddress"] == ingress_ip
    assert pip["tags"] == {"k8s-azure-service": "default/web", "k8s-azure-cluster-name": "kubernetes"}


def test_pagination_returns_every_node_once():
    cluster = AksBuilder(nodes=120, name="paging").add_service("web").build()
    with Lab(cluster, listeners=False) as lab:
        api = kube_client(lab.kubeconfig)
        names: list[str] = []
        pages = []
        cont = None
        while True:
            query = [("limit", "50")] + ([("continue", cont)] if cont else [])
            status, page = kube_call(api, "GET", "/api/v1/nodes", query)
            assert status == 200
            pages.append(page["metadata"])
            names += [n["metadata"]["name"] for n in page["items"]]
            cont = page["metadata"].get("continue")
            if not cont:
                break
    assert len(names) == 120 and len(set(names)) == 120
    assert names == sorted(names)  # storage order
    assert [p.get("remainingItemCount") for p in pages] == [70, 20, None]
    assert len({p["resourceVersion"] for p in pages}) == 1  # one snapshot across pages


def test_bad_continue_token_is_a_400_status(tcp_lab: Lab):
    api = kube_client(tcp_lab.kubeconfig)
    status, doc = kube_call(api, "GET", "/api/v1/nodes", [("limit", "1"), ("continue", "not-a-token")])
    assert status == 400
    assert doc["kind"] == "Status" and doc["reason"] == "BadRequest"
    assert doc["message"].startswith("continue key is not valid")


def test_label_and_field_selectors(tcp_lab: Lab):
    api = kube_client(tcp_lab.kubeconfig)
    _, hit = kube_call(api, "GET", "/api/v1/services", [("labelSelector", "app=web")])
    _, miss = kube_call(api, "GET", "/api/v1/services", [("labelSelector", "app in (api,store)")])
    _, neg = kube_call(api, "GET", "/api/v1/services", [("labelSelector", "!app")])
    assert [s["metadata"]["name"] for s in hit["items"]] == ["web"]
    assert miss["items"] == [] and neg["items"] == []

    _, by_name = kube_call(
        api, "GET", "/api/v1/nodes", [("fieldSelector", "metadata.name=aks-nodepool1-12345678-vmss000001")]
    )
    assert [n["metadata"]["name"] for n in by_name["items"]] == ["aks-nodepool1-12345678-vmss000001"]
    _, schedulable = kube_call(api, "GET", "/api/v1/nodes", [("fieldSelector", "spec.unschedulable!=true")])
    assert len(schedulable["items"]) == 3

    status, doc = kube_call(api, "GET", "/api/v1/services", [("fieldSelector", "spec.type=LoadBalancer")])
    assert status == 400 and doc["reason"] == "BadRequest"
    assert doc["message"] == "field label not supported: spec.type"


def test_not_found_is_a_status_with_the_api_servers_message(tcp_lab: Lab):
    api = kube_client(tcp_lab.kubeconfig)
    status, doc = kube_call(api, "GET", "/api/v1/namespaces/default/services/nope")
    assert status == 404
    assert doc == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'services "nope" not found',
        "reason": "NotFound",
        "details": {"name": "nope", "kind": "services"},
        "code": 404,
    }
    status, doc = kube_call(api, "GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/x")
    assert status == 404 and doc["message"] == 'endpointslices.discovery.k8s.io "x" not found'
    status, doc = kube_call(api, "GET", "/api/v1/namespaces/nowhere/services")
    assert status == 200 and doc["items"] == []  # listing an unknown namespace is empty, not an error


def test_typed_client_raises_not_found(tcp_lab: Lab):
    from kubernetes import client
    from kubernetes.client.exceptions import NotFoundException

    core = client.CoreV1Api(kube_client(tcp_lab.kubeconfig))
    assert core.read_namespaced_service("web", "default").spec.ports[0].node_port == 30396
    with pytest.raises(NotFoundException):
        core.read_namespaced_service("nope", "default")


def test_wrong_or_missing_kube_token_is_401(tcp_lab: Lab, tmp_path: Path):
    doc = yaml.safe_load(tcp_lab.kubeconfig.read_text())
    assert doc["users"][0]["user"]["token"] == tcp_lab.kube_token
    assert doc["contexts"][0]["context"]["namespace"] == "default"
    doc["users"][0]["user"]["token"] = "wrong-token"
    bad = tmp_path / "kubeconfig"
    bad.write_text(yaml.safe_dump(doc))
    status, body = kube_call(kube_client(bad), "GET", "/api/v1/nodes")
    assert status == 401
    assert (body["reason"], body["message"], body["code"]) == ("Unauthorized", "Unauthorized", 401)

    resp = requests.get(f"{tcp_lab.kube_url}/version", verify=str(tcp_lab.ca_file), timeout=5)
    assert resp.status_code == 401


def test_kube_writes_are_refused_and_recorded():
    with Lab("cluster-tcp", listeners=False) as lab:
        api = kube_client(lab.kubeconfig)
        kube_call(api, "GET", "/api/v1/namespaces/default/services/web")
        assert lab.writes == []
        status, doc = kube_call(api, "POST", "/api/v1/namespaces/default/services", body={"metadata": {"name": "x"}})
        assert status == 405
        assert (doc["reason"], doc["code"]) == ("MethodNotAllowed", 405)
        assert doc["message"] == "the server does not allow this method on the requested resource"
        kube_call(api, "DELETE", "/api/v1/nodes/aks-nodepool1-12345678-vmss000000")
        writes = lab.writes
    assert [(w.api, w.method, w.path, w.status) for w in writes] == [
        ("kube", "POST", "/api/v1/namespaces/default/services", 405),
        ("kube", "DELETE", "/api/v1/nodes/aks-nodepool1-12345678-vmss000000", 405),
    ]


def test_kube_forbidden_resource():
    cluster = AksBuilder(name="forbidden").add_service("web").kube_forbidden("nodes").build()
    with Lab(cluster, listeners=False) as lab:
        api = kube_client(lab.kubeconfig)
        status, doc = kube_call(api, "GET", "/api/v1/nodes")
        assert status == 403
        assert doc["reason"] == "Forbidden"
        assert doc["message"] == (
            'nodes is forbidden: User "lab-user" cannot list resource "nodes" in API group "" at the cluster scope'
        )
        assert kube_call(api, "GET", "/api/v1/namespaces/default/services/web")[0] == 200


def test_request_log_never_holds_tokens(tcp_lab: Lab):
    api = kube_client(tcp_lab.kubeconfig)
    kube_call(api, "GET", "/version")
    list(arm_client(tcp_lab).load_balancers.list(tcp_lab.cluster.node_resource_group, enforce_https=False))
    text = repr(tcp_lab.requests)
    assert "/version" in text and "loadBalancers" in text
    assert tcp_lab.kube_token not in text and tcp_lab.arm_token not in text


# ---------------------------------------------------------------------------------------------
# ARM through azure-mgmt-network


def test_network_client_reads_lb_pips_and_nics(tcp_lab: Lab):
    client = arm_client(tcp_lab)
    rg = tcp_lab.cluster.node_resource_group
    sub = tcp_lab.cluster.subscription
    svc = tcp_lab.cluster.service("default/web")
    p = prefix_of(svc)

    lbs = list(client.load_balancers.list(rg, enforce_https=False))
    assert [lb.name for lb in lbs] == ["kubernetes"]
    lb = client.load_balancers.get(rg, "kubernetes", enforce_https=False)
    assert lb.sku.name == "Standard"
    rule = next(r for r in lb.load_balancing_rules if r.name.startswith(p))
    assert rule.name == f"{p}-TCP-80"
    assert (rule.protocol, rule.frontend_port, rule.backend_port, rule.enable_floating_ip) == ("Tcp", 80, 80, True)
    probe = next(pr for pr in lb.probes if pr.id.lower() == rule.probe.id.lower())
    assert (probe.name, probe.protocol, probe.port) == (f"{p}-TCP-80", "Tcp", 30396)
    assert (probe.interval_in_seconds, probe.probe_threshold, probe.request_path) == (5, 2, None)

    # ARM ids parse: subscription, resource group in ARM's case, resource names.
    ids = normalize.parse_arm_id(lb.id)
    assert (ids["subscriptions"], ids["resourcegroups"], ids["loadbalancers"]) == (
        sub,
        "MC_rg_aks_westeurope",
        "kubernetes",
    )
    model = normalize.load_balancer(lb.as_dict())
    assert model.resource_group == "MC_rg_aks_westeurope" and model.subscription == sub
    pool = model.pool_by_id(model.rules[0].backend_pool_ids[0] if model.rules[0].backend_pool_ids else None)
    mrule = next(r for r in model.rules if r.name == rule.name)
    pool = model.pool_by_id(mrule.backend_pool_ids[0])
    assert pool.name == "kubernetes" and not pool.ip_based
    assert len(pool.members) == 3
    member = normalize.parse_arm_id(pool.members[1].ipconfig_id)
    assert (member["virtualmachinescalesets"], member["virtualmachines"]) == ("aks-nodepool1-12345678-vmss", "1")
    assert model.probe_by_id(mrule.probe_id).port == 30396

    pip = client.public_ip_addresses.get(rg, f"kubernetes-{p}", enforce_https=False)
    assert pip.ip_address == svc["status"]["loadBalancer"]["ingress"][0]["ip"]
    assert pip.tags["k8s-azure-service"] == "default/web"
    assert {x.name for x in client.public_ip_addresses.list(rg, enforce_https=False)} >= {f"kubernetes-{p}"}

    nic = client.network_interfaces.get_virtual_machine_scale_set_network_interface(
        rg, "aks-nodepool1-12345678-vmss", "1", "aks-nodepool1-12345678-vmss", enforce_https=False
    )
    assert nic.ip_configurations[0].private_ip_address == tcp_lab.address(1)
    assert nic.ip_configurations[0].id.lower() == pool.members[1].ipconfig_id.lower()
    assert [bp.id for bp in nic.ip_configurations[0].load_balancer_backend_address_pools] == [pool.id]


def test_arm_over_tls_needs_no_enforce_https_override():
    """With arm_tls the client code stays unchanged: https, the lab CA as connection_verify."""
    with Lab("cluster-tcp", listeners=False, arm_tls=True) as lab:
        assert lab.arm_url.startswith("https://127.0.0.1:")
        assert lab.env["REQUESTS_CA_BUNDLE"] == str(lab.ca_file)
        client = arm_client(lab, connection_verify=str(lab.ca_file))
        lb = client.load_balancers.get(lab.cluster.node_resource_group, "kubernetes")
        rule = lb.load_balancing_rules[0].name
        poller = client.load_balancer_load_balancing_rules.begin_health(
            lab.cluster.node_resource_group, "kubernetes", rule, polling_interval=0
        )
        result = poller.result()
        location = next(r for r in lab.requests if r.route == "arm.rule-health.poll")
    assert (result.up, result.down) == (3, 0)
    assert location.status == 200


def test_arm_paths_are_case_insensitive(tcp_lab: Lab):
    sub, rg = tcp_lab.cluster.subscription, tcp_lab.cluster.node_resource_group.lower()
    path = f"/SUBSCRIPTIONS/{sub}/resourcegroups/{rg}/providers/microsoft.network/LOADBALANCERS/Kubernetes"
    url = tcp_lab.arm_url + path
    resp = requests.get(
        url, params={"api-version": "2024-05-01"}, headers={"Authorization": f"Bearer {tcp_lab.arm_token}"}
    )
    assert resp.status_code == 200 and resp.json()["name"] == "kubernetes"


def test_standalone_nic_route_for_availability_set_nodes():
    cluster = AksBuilder(nodes=2, vm_type="vmas", name="vmas").add_service("web").build()
    with Lab(cluster, listeners=False) as lab:
        nic = arm_client(lab).network_interfaces.get(
            lab.cluster.node_resource_group, "aks-nodepool1-12345678-nic-1", enforce_https=False
        )
        assert nic.ip_configurations[0].private_ip_address == lab.address(1)
        node = normalize.node(lab.cluster.nodes[1])
        assert node.name == "aks-nodepool1-12345678-1"
        assert node.provider_id.endswith("/providers/Microsoft.Compute/virtualMachines/aks-nodepool1-12345678-1")
        assert nic.virtual_machine.id.endswith("/virtualMachines/aks-nodepool1-12345678-1")


def test_arm_wrong_or_missing_token_is_401(tcp_lab: Lab):
    from azure.core.exceptions import ClientAuthenticationError

    client = arm_client(tcp_lab, token="wrong-token", retry_total=0)
    with pytest.raises(ClientAuthenticationError) as info:
        client.load_balancers.get(tcp_lab.cluster.node_resource_group, "kubernetes", enforce_https=False)
    assert info.value.status_code == 401
    assert info.value.error.code == "InvalidAuthenticationToken"

    url = f"{tcp_lab.arm_url}/subscriptions/{tcp_lab.cluster.subscription}/providers/Microsoft.Network/loadBalancers"
    resp = requests.get(url, params={"api-version": "2024-05-01"}, timeout=5)
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "AuthenticationFailed"
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]


def test_arm_requires_api_version(tcp_lab: Lab):
    url = f"{tcp_lab.arm_url}/subscriptions/{tcp_lab.cluster.subscription}/providers/Microsoft.Network/loadBalancers"
    headers = {"Authorization": f"Bearer {tcp_lab.arm_token}"}
    resp = requests.get(url, headers=headers, timeout=5)
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "MissingApiVersionParameter"
    ok = requests.get(url, headers=headers, params={"api-version": "2024-05-01"}, timeout=5)
    assert ok.status_code == 200 and [lb["name"] for lb in ok.json()["value"]] == ["kubernetes"]


def test_arm_unknown_resources_are_404(tcp_lab: Lab):
    from azure.core.exceptions import ResourceNotFoundError

    client = arm_client(tcp_lab, retry_total=0)
    with pytest.raises(ResourceNotFoundError) as info:
        client.load_balancers.get(tcp_lab.cluster.node_resource_group, "nope", enforce_https=False)
    assert info.value.error.code == "ResourceNotFound"
    with pytest.raises(ResourceNotFoundError) as info:
        client.load_balancers.get("some-other-rg", "kubernetes", enforce_https=False)
    assert info.value.error.code == "ResourceGroupNotFound"


def test_arm_writes_are_refused_and_recorded_but_rule_health_is_not_a_write():
    from azure.core.exceptions import HttpResponseError

    with Lab("cluster-tcp", listeners=False) as lab:
        client = arm_client(lab, retry_total=0)
        rg = lab.cluster.node_resource_group
        rule = next(r["name"] for r in lab.cluster.load_balancer("kubernetes")["properties"]["loadBalancingRules"])
        health(lab, rule)
        assert lab.writes == []
        with pytest.raises(HttpResponseError) as info:
            client.load_balancers.begin_delete(rg, "kubernetes", enforce_https=False).result()
        assert info.value.status_code == 405
        writes = lab.writes
    assert [(w.api, w.method, w.status) for w in writes] == [("arm", "DELETE", 405)]
    assert writes[0].path.endswith("/loadBalancers/kubernetes")


def test_arm_list_pagination_follows_next_link():
    cluster = AksBuilder(name="pages").add_service("web").add_service("api", internal=True).build()
    with Lab(cluster, listeners=False, arm_page_size=1) as lab:
        lbs = list(arm_client(lab).load_balancers.list(lab.cluster.node_resource_group, enforce_https=False))
        pages = [r for r in lab.requests if r.route == "arm.loadBalancers.list"]
    assert [lb.name for lb in lbs] == ["kubernetes", "kubernetes-internal"]
    assert len(pages) == 2 and "$skipToken=1" in pages[1].query


# ---------------------------------------------------------------------------------------------
# Rule health (long-running operation)


def test_rule_health_lro_polls_the_location_until_200():
    cluster = scenarios.build("local-http")
    cluster.rule_health_polls = 2
    with Lab(cluster, listeners=False) as lab:
        svc = lab.cluster.service("default/web")
        result = health(lab, f"{prefix_of(svc)}-TCP-80")
        flow = [(r.method, r.route, r.status) for r in lab.requests]
    assert flow == [
        ("POST", "arm.rule-health", 202),
        ("GET", "arm.rule-health.poll", 202),
        ("GET", "arm.rule-health.poll", 202),
        ("GET", "arm.rule-health.poll", 200),
    ]
    assert (result.up, result.down) == (2, 1)
    by_ip = {a.ip_address: (a.state, a.reason) for a in result.load_balancer_backend_addresses}
    assert by_ip == {
        lab.cluster.address_of(0): ("Up", "Up_Probe_Success"),
        lab.cluster.address_of(1): ("Up", "Up_Probe_Success"),
        lab.cluster.address_of(2): ("Down", "Down_Probe_HttpStatusCodeError"),  # 503: no local endpoint
    }
    ipconfigs = [a.network_interface_ip_configuration_id for a in result.load_balancer_backend_addresses]
    assert all("/virtualMachineScaleSets/aks-nodepool1-12345678-vmss/virtualMachines/" in i for i in ipconfigs)


def test_rule_health_follows_live_behaviour_changes(tcp_lab: Lab):
    rule = f"{prefix_of(tcp_lab.cluster.service('default/web'))}-TCP-80"
    node1 = tcp_lab.address(1)
    assert connect(node1, 30396) == "open"
    before = {a.ip_address: a.state for a in health(tcp_lab, rule).load_balancer_backend_addresses}
    assert before == {tcp_lab.address(i): "Up" for i in range(3)}
    try:
        tcp_lab.set_behaviour(1, 30396, Closed())
        assert connect(node1, 30396) == "refused"
        after = {a.ip_address: (a.state, a.reason) for a in health(tcp_lab, rule).load_balancer_backend_addresses}
        assert after[node1] == ("Down", "Down_Probe_TcpProbeTimeout")
        assert after[tcp_lab.address(0)] == ("Up", "Up_Probe_Success")
    finally:
        tcp_lab.set_behaviour(1, 30396, tcp_lab.cluster.listeners[0].behaviour)
    assert connect(node1, 30396) == "open"


def test_rule_health_overrides_say_down_while_the_node_answers():
    with Lab("nsg-blocks-probe") as lab:
        rule = f"{prefix_of(lab.cluster.service('default/web'))}-TCP-80"
        result = health(lab, rule)
        assert (result.up, result.down) == (0, 3)
        assert {a.reason for a in result.load_balancer_backend_addresses} == {"Down_Probe_TcpProbeTimeout"}
        assert all(connect(lab.address(i), 30396) == "open" for i in range(3))


def test_rule_health_forbidden_only_for_the_action():
    from azure.core.exceptions import HttpResponseError

    with Lab("rule-health-forbidden", listeners=False) as lab:
        lb = arm_client(lab).load_balancers.get(lab.cluster.node_resource_group, "kubernetes", enforce_https=False)
        rule = next(r.name for r in lb.load_balancing_rules)
        with pytest.raises(HttpResponseError) as info:
            health(lab, rule)
    assert info.value.status_code == 403
    assert info.value.error.code == "AuthorizationFailed"
    assert "loadBalancingRules/health/action" in info.value.error.message


def test_arm_forbidden_everywhere():
    from azure.core.exceptions import HttpResponseError

    cluster = AksBuilder(name="no-arm").add_service("web").arm_forbidden("*").build()
    with Lab(cluster, listeners=False) as lab, pytest.raises(HttpResponseError) as info:
        arm_client(lab, retry_total=0).load_balancers.get(
            lab.cluster.node_resource_group, "kubernetes", enforce_https=False
        )
    assert info.value.status_code == 403
    assert "'Microsoft.Network/loadBalancers/read'" in info.value.error.message


def test_rule_health_unsupported_api_version_is_404(tcp_lab: Lab):
    from azure.core.exceptions import ResourceNotFoundError

    rule = f"{prefix_of(tcp_lab.cluster.service('default/web'))}-TCP-80"
    with pytest.raises(ResourceNotFoundError) as info:
        health(tcp_lab, rule, api_version="2024-03-01")
    assert info.value.error.code == "InvalidResourceType"


def test_rule_health_of_a_rule_without_probe_is_refused():
    from azure.core.exceptions import HttpResponseError

    with Lab("udp-no-probe", listeners=False) as lab:
        rule = f"{prefix_of(lab.cluster.service('default/web'))}-UDP-53"
        with pytest.raises(HttpResponseError) as info:
            health(lab, rule)
    assert info.value.status_code == 400


def test_rule_health_that_never_completes():
    cluster = AksBuilder(name="stuck").add_service("web").rule_health(polls=None, retry_after=7).build()
    with Lab(cluster, listeners=False) as lab:
        rule = cluster.load_balancer("kubernetes")["properties"]["loadBalancingRules"][0]["name"]
        base = f"{lab.arm_url}/subscriptions/{cluster.subscription}/resourceGroups/{cluster.node_resource_group}"
        url = f"{base}/providers/Microsoft.Network/loadBalancers/kubernetes/loadBalancingRules/{rule}/health"
        headers = {"Authorization": f"Bearer {lab.arm_token}"}
        first = requests.post(url, params={"api-version": "2025-07-01"}, headers=headers, timeout=5)
        assert first.status_code == 202 and first.headers["Retry-After"] == "7"
        location = first.headers["Location"]
        assert location.startswith(f"{lab.arm_url}/subscriptions/{cluster.subscription}/providers/Microsoft.Network/")
        assert "/operationResults/" in location and location.endswith("api-version=2025-07-01")
        statuses = [requests.get(location, headers=headers, timeout=5).status_code for _ in range(5)]
    assert statuses == [202] * 5


def test_arm_throttling_is_retried_by_the_client():
    cluster = AksBuilder(name="throttle").add_service("web").arm_throttled(times=1, retry_after=0).build()
    with Lab(cluster, listeners=False) as lab:
        lb = arm_client(lab).load_balancers.get(lab.cluster.node_resource_group, "kubernetes", enforce_https=False)
        statuses = [(r.status, r.fault) for r in lab.requests]
    assert lb.name == "kubernetes"
    assert statuses == [(429, "status-429"), (200, None)]


def test_arm_server_error():
    from azure.core.exceptions import HttpResponseError

    cluster = AksBuilder(name="arm500").add_service("web").arm_server_error().build()
    with Lab(cluster, listeners=False) as lab, pytest.raises(HttpResponseError) as info:
        arm_client(lab, retry_total=0).load_balancers.list(lab.cluster.node_resource_group, enforce_https=False).next()
    assert info.value.status_code == 500
    assert info.value.error.code == "InternalServerError"


# ---------------------------------------------------------------------------------------------
# Transport faults


def test_transport_faults_hang_reset_garbage_delay_and_times():
    with Lab("cluster-tcp", listeners=False, kube_tls=False) as lab:
        url = f"{lab.kube_url}/api/v1/nodes"
        headers = {"Authorization": f"Bearer {lab.kube_token}"}

        lab.add_fault(Fault(api="kube", route="kube.nodes.*", hang=True))
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(url, headers=headers, timeout=0.3)
        lab.clear_faults()

        lab.add_fault(Fault(api="kube", route="kube.nodes.list", reset=True))
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(url, headers=headers, timeout=2)
        lab.clear_faults()

        lab.add_fault(Fault(api="kube", garbage=True))
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(url, headers=headers, timeout=2)
        lab.clear_faults()

        lab.add_fault(Fault(api="kube", delay=0.2, status=503, body=b"{}", times=1))
        t0 = time.perf_counter()
        first = requests.get(url, headers=headers, timeout=2)
        assert time.perf_counter() - t0 >= 0.2
        second = requests.get(url, headers=headers, timeout=2)
        assert (first.status_code, second.status_code) == (503, 200)

        # A wildcard fault never changes the answer to a wrong token.
        lab.add_fault(Fault(api="kube", status=500))
        assert requests.get(url, timeout=2).status_code == 401


def test_drip_fault_trickles_the_answer():
    with Lab("cluster-tcp", listeners=False, kube_tls=False) as lab:
        lab.add_fault(Fault(api="kube", route="kube.version", drip=0.001))
        sock = socket.create_connection(("127.0.0.1", int(lab.kube_url.rsplit(":", 1)[1])), timeout=2)
        sock.sendall(f"GET /version HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {lab.kube_token}\r\n\r\n".encode())
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
        sock.close()
    raw = b"".join(chunks)
    assert raw.startswith(b"HTTP/1.1 200 OK") and b'"gitVersion":"v1.29.4"' in raw
    assert len(chunks) > 20  # it came in many small pieces


def test_keep_alive_serves_many_requests_on_one_connection(tcp_lab: Lab):
    """20 requests of one client, one TCP connection: the server keeps it open after each answer. (That
    a reused connection does not stall on Nagle + delayed ACK, ~40 ms a request, is a speed figure:
    benchmarks/lab_serve_bench.py.)"""
    session = requests.Session()
    ca = str(tcp_lab.ca_file)  # per request: a REQUESTS_CA_BUNDLE in the environment beats Session.verify
    headers = {"Authorization": f"Bearer {tcp_lab.kube_token}"}
    url = f"{tcp_lab.kube_url}/version"
    before = len([r for r in tcp_lab.requests if r.route == "kube.version"])
    local_ends = set()
    with session:
        for _ in range(20):
            response = session.get(url, headers=headers, timeout=30, verify=ca, stream=True)
            assert response.raw.connection is not None  # the connection the answer came on, still held
            local_ends.add(response.raw.connection.sock.getsockname())
            assert response.headers.get("Connection", "").lower() != "close"
            assert response.status_code == 200 and b"gitVersion" in response.content  # read: back to the pool
        manager = session.get_adapter(url).poolmanager
        keys = manager.pools.keys()  # (urllib3's pool container refuses to be iterated itself)
        pools = [manager.pools[key] for key in keys]
    assert len(local_ends) == 1  # every request left from the same local port: one connection
    assert [(p.num_connections, p.num_requests) for p in pools] == [(1, 20)]  # urllib3 opened one, used it 20×
    assert len([r for r in tcp_lab.requests if r.route == "kube.version"]) - before == 20  # the server answered all


# ---------------------------------------------------------------------------------------------
# Azure's verdict per behaviour


@pytest.mark.parametrize(
    ("behaviour", "protocol", "expected"),
    [
        (Http(default=Reply(200)), "Tcp", ("Up", "Up_Probe_Success")),
        (Hang(), "Tcp", ("Up", "Up_Probe_Success")),  # the handshake completes: that is all Tcp checks
        (Closed(), "Tcp", ("Down", "Down_Probe_TcpProbeTimeout")),
        (Blackhole(), "Tcp", ("Down", "Down_Probe_TcpProbeTimeout")),
        (ResetOnAccept(), "Tcp", ("Up", "Up_Probe_Success")),  # accepted, then reset: the handshake completed
        (ResetOnAccept(), "Http", ("Down", "Down_Probe_HttpEndpointUnreachable")),
        (Http(default=Reply(200)), "Http", ("Up", "Up_Probe_Success")),
        (Http(default=Reply(404)), "Http", ("Down", "Down_Probe_HttpStatusCodeError")),
        (Http(default=Reply(404), routes={"/healthz": Reply(200)}), "Http", ("Down", "Down_Probe_HttpStatusCodeError")),
        (Http(default=Reply(301)), "Http", ("Down", "Down_Probe_HttpStatusCodeError")),
        (Closed(), "Http", ("Down", "Down_Probe_HttpEndpointUnreachable")),
        (ResetMidAnswer(), "Http", ("Down", "Down_Probe_HttpEndpointUnreachable")),
        (Garbage(), "Http", ("Down", "Down_Probe_HttpEndpointUnreachable")),
        (Blackhole(), "Http", ("Down", "Down_Probe_HttpNoResponse")),
        (Hang(), "Http", ("Down", "Down_Probe_HttpNoResponse")),
        (Drip(interval=1.0), "Http", ("Down", "Down_Probe_HttpNoResponse")),
        (Drip(interval=0.01), "Http", ("Up", "Up_Probe_Success")),
        (HugeBody(), "Http", ("Up", "Up_Probe_Success")),
        (Http(default=Reply(200)), "Https", ("Down", "Down_Probe_HttpEndpointUnreachable")),
        (Http(default=Reply(200), tls=True), "Https", ("Up", "Up_Probe_Success")),
        (BrokenTLS(), "Https", ("Down", "Down_Probe_HttpEndpointUnreachable")),
        (Sequence((Http(default=Reply(503)), Http(default=Reply(200)))), "Http", ("Up", "Up_Probe_Success")),
    ],
)
def test_azure_verdict_per_behaviour(behaviour, protocol, expected):
    assert azure_verdict(behaviour, protocol, "/") == expected


def test_azure_verdict_uses_the_probe_path():
    app = Http(default=Reply(404), routes={"/healthz": Reply(200)})
    assert azure_verdict(app, "Http", "/healthz") == ("Up", "Up_Probe_Success")


# ---------------------------------------------------------------------------------------------
# Scenarios: what the builder writes, and what the nodes answer


def _lb_for(cluster, ref="default/web"):
    svc = cluster.service(ref)
    p = prefix_of(svc)
    for lb in cluster.load_balancers:
        rules = [r for r in lb["properties"]["loadBalancingRules"] if r["name"].startswith(p)]
        if rules:
            probes = {pr["id"]: pr for pr in lb["properties"]["probes"]}
            return lb, rules, probes, svc
    raise AssertionError(f"no LB has rules for {ref}")


def test_every_scenario_builds_with_a_description_and_a_main_service():
    assert {
        "cluster-tcp",
        "local-http",
        "appprotocol-404",
        "stale-probe-port",
        "node-missing-from-pool",
        "hanging-health",
        "no-endpoints",
        "internal-lb",
        "node-ip-pool",
        "shared-probe",
        "udp-no-probe",
        "multi-service",
        "large",
    } <= set(scenarios.names())
    for name in scenarios.names():
        cluster = scenarios.build(name if name != "large" else "large:10")
        assert cluster.description and "\n" not in cluster.description
        assert cluster.main_service == "default/web"
        if name.startswith("pending-"):
            # The provider never built it: no rule, no ingress IP, and an event says why (or none does).
            assert not cluster.service("default/web")["status"]["loadBalancer"]
            with pytest.raises(AssertionError):
                _lb_for(cluster)
            continue
        _lb_for(cluster)
        cluster.release()
    with pytest.raises(KeyError, match="unknown lab scenario"):
        scenarios.build("nope")


def test_local_http_probe_and_health_answers(local_lab: Lab):
    lb, rules, probes, svc = _lb_for(local_lab.cluster)
    probe = probes[rules[0]["properties"]["probe"]["id"]]["properties"]
    assert (probe["protocol"], probe["port"], probe["requestPath"]) == ("Http", 32649, "/healthz")
    assert svc["spec"]["healthCheckNodePort"] == 32649
    status, body = http_get(local_lab.address(0), 32649, "/any/path")
    assert status == 200
    assert json.loads(body) == {
        "service": {"namespace": "default", "name": "web"},
        "localEndpoints": 1,
        "serviceProxyHealthy": True,
    }
    status, body = http_get(local_lab.address(2), 32649, "/healthz")
    assert status == 503 and json.loads(body)["localEndpoints"] == 0
    # The nodePort: DROP on the node without a local endpoint, the app on the others.
    assert connect(local_lab.address(2), 31080, timeout=0.3) == "timeout"
    assert http_get(local_lab.address(0), 31080)[0] == 200


def test_appprotocol_404_probe_is_http_on_root():
    with Lab("appprotocol-404") as lab:
        _, rules, probes, _ = _lb_for(lab.cluster)
        probe = probes[rules[0]["properties"]["probe"]["id"]]["properties"]
        assert (probe["protocol"], probe["port"], probe["requestPath"]) == ("Http", 31380, "/")
        assert http_get(lab.address(2), 31380, "/")[0] == 404  # Cluster: forwarded to a pod elsewhere
        assert http_get(lab.address(2), 31380, "/healthz")[0] == 200


def test_stale_probe_port_is_refused_everywhere():
    with Lab("stale-probe-port") as lab:
        _, rules, probes, svc = _lb_for(lab.cluster)
        probe = probes[rules[0]["properties"]["probe"]["id"]]["properties"]
        assert probe["port"] == 31000 and svc["spec"]["ports"][0]["nodePort"] == 30396
        assert [connect(lab.address(i), 31000) for i in range(3)] == ["refused"] * 3
        assert [connect(lab.address(i), 30396) for i in range(3)] == ["open"] * 3


def test_node_missing_from_pool():
    cluster = scenarios.build("node-missing-from-pool")
    lb, _, _, _ = _lb_for(cluster)
    members = lb["properties"]["backendAddressPools"][0]["properties"]["backendIPConfigurations"]
    assert len(members) == 2
    assert not any("/virtualMachines/2/" in m["id"] for m in members)
    nic2 = next(n for n in cluster.nics if "/virtualMachines/2/" in n["id"])
    assert nic2["properties"]["ipConfigurations"][0]["properties"]["loadBalancerBackendAddressPools"] == []


def test_hanging_health_and_no_endpoints_behaviours():
    hanging = scenarios.build("hanging-health")
    beh = {(s.address, s.port): s.behaviour for s in hanging.listeners}
    assert isinstance(beh[(hanging.address_of(1), 32650)], Hang)
    assert isinstance(beh[(hanging.address_of(0), 32650)], Http)
    none = scenarios.build("no-endpoints")
    assert none.endpointslices[0]["endpoints"] is None
    beh = {(s.address, s.port): s.behaviour for s in none.listeners}
    assert all(isinstance(beh[(none.address_of(i), 30396)], Closed) for i in range(3))


def test_internal_lb_uses_a_private_frontend():
    cluster = scenarios.build("internal-lb")
    lb, rules, _, svc = _lb_for(cluster)
    assert lb["name"] == "kubernetes-internal"
    fe = next(f for f in lb["properties"]["frontendIPConfigurations"] if f["name"] == prefix_of(svc))
    assert fe["properties"]["privateIPAddress"] == svc["status"]["loadBalancer"]["ingress"][0]["ip"]
    assert "publicIPAddress" not in fe["properties"]
    assert not any(p["name"].endswith(prefix_of(svc)) for p in cluster.public_ips)
    assert svc["metadata"]["annotations"]["service.beta.kubernetes.io/azure-load-balancer-internal"] == "true"


def test_node_ip_pool_lists_addresses():
    cluster = scenarios.build("node-ip-pool")
    lb, _, _, _ = _lb_for(cluster)
    pool = normalize.load_balancer(lb).pools[0]
    assert pool.ip_based and pool.virtual_network_id.endswith("/virtualNetworks/aks-vnet-12345678")
    assert [(m.name, m.ip_address) for m in pool.members] == [
        (f"aks-nodepool1-12345678-vmss00000{i}", cluster.address_of(i)) for i in range(3)
    ]


def test_shared_probe_mode_and_draining_node():
    with Lab("shared-probe") as lab:
        lb, rules, probes, _ = _lb_for(lab.cluster)
        probe = probes[rules[0]["properties"]["probe"]["id"]]
        assert probe["name"] == "cluster-service-shared-health-probe"
        assert (probe["properties"]["port"], probe["properties"]["requestPath"]) == (10256, "/healthz")
        node2 = normalize.node(lab.cluster.nodes[2])
        assert node2.autoscaler_deleting
        status, body = http_get(lab.address(2), 10256, "/healthz")
        assert status == 503 and json.loads(body)["nodeEligible"] is False
        assert http_get(lab.address(0), 10256, "/healthz")[0] == 200
        assert http_get(lab.address(0), 10256, "/metrics")[0] == 404
        result = health(lab, rules[0]["name"])
        assert [a.state for a in result.load_balancer_backend_addresses] == ["Up", "Up", "Down"]


def test_udp_rule_has_no_probe():
    cluster = scenarios.build("udp-no-probe")
    _, rules, _, svc = _lb_for(cluster)
    props = rules[0]["properties"]
    assert rules[0]["name"] == f"{prefix_of(svc)}-UDP-53"
    assert props["protocol"] == "Udp" and "probe" not in props and "enableTcpReset" not in props


def test_multi_service_lists_across_namespaces():
    with Lab("multi-service", listeners=False) as lab:
        api = kube_client(lab.kubeconfig)
        _, all_svcs = kube_call(api, "GET", "/api/v1/services")
        _, shop = kube_call(api, "GET", "/api/v1/namespaces/shop/services")
        _, namespaces = kube_call(api, "GET", "/api/v1/namespaces")
    pairs = [(s["metadata"]["namespace"], s["metadata"]["name"], s["spec"]["type"]) for s in all_svcs["items"]]
    assert pairs == [
        ("default", "api", "LoadBalancer"),
        ("default", "cache", "ClusterIP"),
        ("default", "web", "LoadBalancer"),
        ("shop", "store", "LoadBalancer"),
    ]
    assert [s["metadata"]["name"] for s in shop["items"]] == ["store"]
    assert "shop" in {n["metadata"]["name"] for n in namespaces["items"]}
    api_lb, api_rules, api_probes, _ = _lb_for(lab.cluster, "default/api")
    assert api_probes[api_rules[0]["properties"]["probe"]["id"]]["properties"]["port"] == 32100
    store_lb, _, _, _ = _lb_for(lab.cluster, "shop/store")
    assert (api_lb["name"], store_lb["name"]) == ("kubernetes", "kubernetes-internal")


def test_endpoint_conditions_drive_kube_proxy_answers():
    """Local policy: ready endpoints count for the health check; a terminating-but-serving one does
    not, yet still carries nodePort traffic; a node with only an unready pod DROPs the nodePort."""
    cluster = (
        AksBuilder(nodes=4, version="v1.30.3", name="conditions")
        .add_service(
            "web",
            ports=[{"port": 80, "nodePort": 30500}],
            policy="Local",
            health_check_node_port=32500,
            endpoints_on=[0, 0, 1, 2],
            ready=[0],
            terminating=[1],
        )
        .build()
    )
    eps = normalize.endpoints(cluster.endpointslices[0])
    assert [(e.node_name[-1], e.ready, e.serving, e.terminating) for e in eps] == [
        ("0", True, True, False),
        ("0", True, True, False),
        ("1", False, True, True),
        ("2", False, False, False),
    ]
    beh = {(s.address, s.port): s.behaviour for s in cluster.listeners}
    hc = [beh[(cluster.address_of(i), 32500)].default for i in range(4)]
    assert [r.status for r in hc] == [200, 503, 503, 503]
    assert [json.loads(r.body)["localEndpoints"] for r in hc] == [2, 0, 0, 0]
    assert dict(hc[0].headers)["X-Load-Balancing-Endpoint-Weight"] == "2"
    node_port = [type(beh[(cluster.address_of(i), 30500)]).__name__ for i in range(4)]
    assert node_port == ["Http", "Http", "Blackhole", "Blackhole"]
    proxy = beh[(cluster.address_of(3), 10256)]
    assert proxy.routes["/healthz"].status == 200 and json.loads(proxy.routes["/healthz"].body)["nodeEligible"]


def test_builder_mutators_drift_and_overrides():
    cluster = (
        AksBuilder(nodes=4, name="drift")
        .add_service("web", ports=[{"port": 80, "nodePort": 30396}])
        .set_probe("web", 80, protocol="Http", request_path="/ready", interval=10)
        .add_pool_member(instance=9)
        .add_stale_rule("web", 8080, probe_port=31999)
        .drop_rule("web", 80, keep_probe=True)
        .azure_says(3, None, "Down", "Down_Admin")
        .build()
    )
    lb = normalize.load_balancer(cluster.load_balancer("kubernetes"))
    p = prefix_of(cluster.service("web"))
    assert [r.name for r in lb.rules] == [f"{p}-TCP-8080"]
    probes = {pr.name: pr for pr in lb.probes}
    assert (probes[f"{p}-TCP-80"].protocol, probes[f"{p}-TCP-80"].request_path) == ("Http", "/ready")
    assert probes[f"{p}-TCP-80"].interval == 10 and probes[f"{p}-TCP-8080"].port == 31999
    members = lb.pools[0].members
    assert len(members) == 5 and members[-1].ipconfig_id.split("/virtualMachines/")[1].startswith("9/")
    assert cluster.rule_health_overrides == {("*", cluster.address_of(3)): ("Down", "Down_Admin")}


# ---------------------------------------------------------------------------------------------
# Lab mechanics


def test_env_and_kubeconfig_point_at_the_lab(tcp_lab: Lab):
    env = tcp_lab.env
    assert env["KUBECONFIG"] == str(tcp_lab.kubeconfig)
    assert env["AKSLBCTL_ARM_ENDPOINT"] == tcp_lab.arm_url and tcp_lab.arm_url.startswith("http://127.0.0.1:")
    assert env["AKSLBCTL_ARM_TOKEN"] == tcp_lab.arm_token != tcp_lab.kube_token
    assert "127.0.0.0/8" in env["NO_PROXY"].split(",")
    doc = yaml.safe_load(tcp_lab.kubeconfig.read_text())
    assert doc["clusters"][0]["cluster"] == {
        "server": tcp_lab.kube_url,
        "certificate-authority": str(tcp_lab.ca_file),
    }
    assert tcp_lab.kubeconfig.stat().st_mode & 0o077 == 0


def test_lab_start_serves_and_stop_cleans_up():
    """Started, the lab serves (its work folder exists, a node listener accepts); stopped, both are gone.
    How fast a lab starts is a benchmark figure (benchmarks/lab_serve_bench.py), not asserted here."""
    lab = Lab("cluster-tcp")
    lab.start()
    workdir, address = lab.workdir, lab.address(0)
    try:
        assert workdir is not None and workdir.exists()
        assert connect(address, 30396) == "open"
    finally:
        lab.stop()
    assert not workdir.exists()
    assert connect(address, 30396) == "refused"


def test_parallel_labs_get_distinct_address_ranges():
    a = AksBuilder(name="a").add_service("web").build()
    b = AksBuilder(name="b").add_service("web").build()
    assert a.address_octet != b.address_octet
    with Lab(a) as la, Lab(b) as lb_:
        assert connect(la.address(0), a.service("web")["spec"]["ports"][0]["nodePort"]) == "open"
        assert connect(lb_.address(0), b.service("web")["spec"]["ports"][0]["nodePort"]) == "open"
    octet = a.address_octet
    a.release()
    again = OctetLease.take(octet)
    assert again.octet == octet
    again.release()


def test_large_build_has_every_node_listener_and_pool_member():
    """large:5000 is built whole: 5,000 Nodes on 5,000 addresses, each in the backend pool behind the
    Service's rule, each answering on the nodePort and kube-proxy's healthz port. How fast it builds is
    a benchmark figure (benchmarks/lab_build_bench.py), not asserted here: wall time depends on load."""
    cluster = scenarios.build("large:5000")
    try:
        assert len(cluster.nodes) == 5000
        assert len({n["metadata"]["name"] for n in cluster.nodes}) == 5000
        addresses = {cluster.address_of(i) for i in range(5000)}
        assert len(addresses) == 5000
        assert len(cluster.listeners) == 10000
        assert {s.address for s in cluster.listeners} == addresses
        assert {(s.address, s.port) for s in cluster.listeners} == {
            (a, port) for a in addresses for port in (30396, 10256)
        }
        lb = normalize.load_balancer(cluster.load_balancer("kubernetes"))
        assert [r.name for r in lb.rules] == [f"{prefix_of(cluster.service('default/web'))}-TCP-80"]
        ip_of = {
            ipc["id"].lower(): ipc["properties"]["privateIPAddress"]
            for nic in cluster.nics
            for ipc in nic["properties"]["ipConfigurations"]
        }
        assert len(lb.pools) == 1 and len(lb.pools[0].members) == 5000
        assert {ip_of[m.ipconfig_id.lower()] for m in lb.pools[0].members} == addresses
    finally:
        cluster.release()


def test_large_nodes_are_shaped_as_aks_writes_them():
    """The benchmarks' clusters decode what a real AKS answer holds: ~4-5 KB per Node (images,
    node-problem-detector conditions, capacity, nodeInfo, annotations, kubernetes.azure.com labels),
    and those details change nothing akslbctl reads from the Node."""
    import json

    cluster = scenarios.build("large-local:4")
    try:
        node = cluster.nodes[0]
        assert 4000 <= len(json.dumps(node, separators=(",", ":"))) <= 6000
        status = node["status"]
        assert {c["type"] for c in status["conditions"]} >= {"Ready", "MemoryPressure", "KernelDeadlock"}
        assert status["images"] and status["allocatable"]["pods"] == "110" and status["nodeInfo"]["machineID"]
        assert "kubernetes.azure.com/node-image-version" in node["metadata"]["labels"]
        assert node["spec"]["providerID"].startswith("azure:///subscriptions/")
        parsed = normalize.node(node)
        assert parsed.ready is True and parsed.internal_ips == (cluster.address_of(0),)
        assert "virtualMachineScaleSets" in parsed.provider_id
    finally:
        cluster.release()


@pytest.mark.slow
def test_large_lab_serves_5000_nodes():
    """How fast large:5000 starts is a benchmark figure (benchmarks/lab_serve_bench.py), not asserted here."""
    with Lab("large:5000") as lab:
        api = kube_client(lab.kubeconfig)
        total, cont = 0, None
        while True:
            query = [("limit", "500")] + ([("continue", cont)] if cont else [])
            _, page = kube_call(api, "GET", "/api/v1/nodes", query)
            total += len(page["items"])
            cont = page["metadata"].get("continue")
            if not cont:
                break
        assert total == 5000
        assert connect(lab.address(4321), 30396) == "open"
        assert http_get(lab.address(4999), 10256, "/healthz")[0] == 200
        rule = f"{prefix_of(lab.cluster.service('default/web'))}-TCP-80"
        result = health(lab, rule)
        assert (result.up, result.down) == (5000, 0)


def test_serve_forever_prints_exports_until_stopped():
    out = io.StringIO()
    stop = threading.Event()
    thread = threading.Thread(target=serve_forever, args=("cluster-tcp",), kwargs={"out": out, "stop": stop})
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while "main Service" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.02)
        text = out.getvalue()
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    lines = text.splitlines()
    assert lines[0].startswith("# akslbctl lab cluster-tcp: Cluster policy")
    exports = dict(line[len("export ") :].split("=", 1) for line in lines if line.startswith("export "))
    assert {"KUBECONFIG", "AKSLBCTL_ARM_ENDPOINT", "AKSLBCTL_ARM_TOKEN", "NO_PROXY", "no_proxy"} == set(exports)
    assert not Path(exports["KUBECONFIG"]).exists()  # removed when the lab stopped


def test_ctrl_c_during_lab_run_says_interrupted_once(tmp_path):
    """Ctrl-C reaches the whole process group: the command run inside the lab says "interrupted", and
    ``lab run`` ends with 130 without saying it again."""
    import os
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "akslbctl", "lab", "run", "cluster-tcp", "--", "probe", "svc/web", "--watch"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        text=True,
    )
    try:
        out = ""
        deadline = time.monotonic() + 60
        while "round 1" not in out and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            out += line
        assert "round 1" in out
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert err.count("interrupted") == 1, err
