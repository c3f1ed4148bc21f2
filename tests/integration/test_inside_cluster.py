"""Inside the cluster (issue 12), end to end: the real CLI against the lab's Kubernetes API and ARM, real
probes against node listeners on 127.x — an application rule that rejects Azure's probe (C02), a gateway
probed on its data port (C03), a NetworkPolicy that drops SNAT'd forwarded traffic (C09) or the clients
of a Local Service, and how a Local Service's traffic is shared among uneven pods (C17).
"""

from __future__ import annotations

import json

import pytest
from support import cli, codes, node_rows

from akslbctl.errors import ExitCode
from akslbctl.lab import scenarios
from akslbctl.lab.cluster import AksBuilder

NODES = [f"aks-nodepool1-12345678-vmss00000{i}" for i in range(5)]
PORT_KEY = "service.beta.kubernetes.io/port_80_health-probe_"


def explain(*extra: str):
    result = cli("explain", "svc/web", "-o", "json", "--timeout", "1", *extra)
    return result, result.json


def finding(doc: dict, code: str) -> dict:
    return next(f for f in doc["findings"] if f["code"] == code)


def verdicts(doc: dict, n: int = 3, rule: int = 0) -> list[tuple[str, str]]:
    rows = node_rows(doc, rule)
    return [(rows[name]["verdict"], rows[name]["reason"]) for name in NODES[:n]]


# -- C02: the application rejects the probe ----------------------------------------------------------


def test_app_rejecting_the_probe_is_named_with_server_and_body(lab):
    running = lab("app-403-header")
    result, doc = explain()
    assert result.exit_code == ExitCode.PROBLEM, result.stderr
    assert verdicts(doc) == [("down", "http-status")] * 3
    f = finding(doc, "app-rejects-probe")
    assert f["severity"] == "error"
    msg = f["message"]
    assert "Http :31380/healthz → 403 from the application on 3/3 nodes, not from kube-proxy" in msg
    assert "Server: nginx" in msg and "403 Forbidden" in msg
    assert "<" not in msg  # the body's markup is not quoted, only its words
    assert "no custom headers, cookies or Host beyond the node address" in msg and "X-Azure-FDID" in msg
    assert "readinessProbe sends X-Azure-FDID" in msg
    assert "0f0e0d0c-lab" not in result.stdout  # a header's value never shows
    # The readiness path of the pods was tried on the same nodePort before anything was suggested.
    assert "GET /ready (readinessProbe of container controller) did not answer 200 either" in msg
    assert "no-healthy-backend" in codes(doc)
    assert not running.writes
    table = cli("explain", "svc/web", "--timeout", "1")
    assert table.exit_code == ExitCode.PROBLEM and "app-rejects-probe" in table.stdout


def _ready_path_cluster():
    b = AksBuilder(name="app-403-ready")
    from akslbctl.lab.behaviours import Http, Reply

    b.add_service(
        "web",
        ports=[{"port": 80, "nodePort": 31380, "appProtocol": "http", "targetPort": 8080}],
        app=Http(default=Reply(403, b"denied", (("Server", "nginx"),)), routes={"/ready": Reply(200, b"ok")}),
        annotations={"service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path": "/healthz"},
    )
    b.pod_spec(
        "web",
        [
            {
                "name": "app",
                "ports": [{"containerPort": 8080}],
                "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
            }
        ],
    )
    return b.build()


def test_app_rejection_with_a_readiness_path_that_answers(lab):
    lab(_ready_path_cluster())
    result, doc = explain()
    assert result.exit_code == ExitCode.PROBLEM
    msg = finding(doc, "app-rejects-probe")["message"]
    assert f"answered 200 on 3/3 nodes: set {PORT_KEY}request-path: /ready" in msg


# -- C03: a gateway probed on its data port -------------------------------------------------------------


def test_gateway_on_its_data_port_gets_the_status_port_annotations(lab):
    running = lab("gateway-data-port")
    result, doc = explain()
    assert result.exit_code == ExitCode.PROBLEM, result.stderr
    rule80 = next(i for i, r in enumerate(doc["rules"]) if r["frontendPort"] == 80)
    assert verdicts(doc, rule=rule80) == [("down", "http-status")] * 3
    f = finding(doc, "gateway-status-port")
    assert f["severity"] == "warning" and f["rule"] == doc["rules"][rule80]["name"]
    msg = f["message"]
    assert "probe Http :31080 / targets the data port http2 of default/web" in msg
    assert "readiness on 15021 /healthz/ready (readinessProbe of container istio-proxy)" in msg
    assert f"{PORT_KEY}port: status-port" in msg
    assert f"{PORT_KEY}protocol: http" in msg
    assert f"{PORT_KEY}request-path: /healthz/ready" in msg
    assert "GET :31021/healthz/ready answered 200 on 3/3 nodes" in msg
    # One fix per rule: no generic path advice (another path, or Tcp) beside the status port.
    assert not [x for x in doc["findings"] if x["code"] == "probe-path-suggestion" and x["rule"] == f["rule"]]
    # The suggested target was probed on every node (a GET backs the suggestion), and nothing written.
    assert all(running.connections(i, 31021) >= 1 for i in range(3))
    assert not running.writes


def test_status_port_not_exposed_by_the_service_says_so(lab):
    b = AksBuilder(name="gateway-no-status-port")
    b.add_service(
        "web", ports=[{"name": "http2", "port": 80, "targetPort": 8080, "nodePort": 31080, "appProtocol": "http"}]
    )
    b.pod_spec(
        "web",
        [
            {
                "name": "istio-proxy",
                "ports": [{"containerPort": 8080}, {"name": "status-port", "containerPort": 15021}],
                "readinessProbe": {"httpGet": {"path": "/healthz/ready", "port": "status-port"}},
            }
        ],
    )
    lab(b.build())
    result, doc = explain()
    msg = finding(doc, "gateway-status-port")["message"]
    assert "no port of default/web targets container port 15021" in msg
    assert "add a Service port for 15021" in msg and f"{PORT_KEY}port" in msg


# -- C09: NetworkPolicy and SNAT ----------------------------------------------------------------------


def test_policy_admitting_only_clients_drops_forwarded_traffic(lab):
    running = lab("netpol-cross-node")
    result, doc = explain()
    assert result.exit_code == ExitCode.PROBLEM, result.stderr
    assert verdicts(doc, 5) == [("up", "probe-ok")] * 2 + [("down", "timeout")] * 3
    f = finding(doc, "netpol-drops-forwarded")
    assert f["severity"] == "error"
    msg = f["message"]
    assert "NetworkPolicy default/allow-clients" in msg and "admits only 10.1.0.0/16" in msg
    assert "SNAT'd to the forwarding node's IP" in msg
    assert f"nodes without a local pod fail (3/5: {', '.join(NODES[2:])})" in msg
    assert f"{NODES[0]} 50 %" in msg  # with 2 pods, a node with one forwards half its flows
    assert "allow the node CIDR" in msg and "externalTrafficPolicy: Local" in msg
    # The policy names the cause: no separate disagreement per failing node.
    assert "endpoint-probe-disagreement" not in codes(doc)
    paths = {r.path for r in running.requests if r.api == "kube"}
    assert "/apis/networking.k8s.io/v1/namespaces/default/networkpolicies" in paths
    assert "/api/v1/namespaces/default/pods" in paths
    pods_query = next(r.query for r in running.requests if r.path == "/api/v1/namespaces/default/pods")
    assert "labelSelector=app%3Dweb" in pods_query and "limit=" in pods_query
    assert not running.writes


def test_local_policy_must_admit_the_intended_clients(lab):
    lab("netpol-local-clients")
    result, doc = explain()
    assert result.exit_code == ExitCode.PROBLEM, result.stderr
    f = finding(doc, "netpol-blocks-clients")
    assert f["severity"] == "error"
    assert "client addresses are kept" in f["message"]
    assert "NetworkPolicy default/allow-clients admits only 10.1.0.0/16" in f["message"]
    assert "203.0.113.0/24, from loadBalancerSourceRanges" in f["message"]
    assert "netpol-drops-forwarded" not in codes(doc)


def test_policy_admitting_node_ips_raises_nothing(lab):
    b = AksBuilder(name="netpol-nodes-ok", nodes=5)
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396, "targetPort": 8080}], endpoints_on=[0, 1])
    b.add_network_policy(
        "allow-all-ipv4",
        {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.1.0.0/16"]}}]}]},
    )
    lab(b.build())
    result, doc = explain()
    assert result.exit_code == ExitCode.OK, result.stderr
    assert not {c for c in codes(doc) if c.startswith("netpol-")}


def test_cilium_policy_is_named_not_guessed(lab):
    b = AksBuilder(name="netpol-cilium", nodes=3, data_plane="cilium")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396, "targetPort": 8080}], endpoints_on=[0, 1])
    b.add_network_policy(
        "allow-clients",
        {"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.1.0.0/16"}}]}]},
    )
    b.add_network_policy(
        "cnp-web",
        {"endpointSelector": {"matchLabels": {"app": "web"}}, "ingress": [{"fromEntities": ["world"]}]},
        cilium=True,
    )
    lab(b.build())
    result, doc = explain()
    assert result.exit_code in (ExitCode.OK, ExitCode.PROBLEM), result.stderr
    f = finding(doc, "netpol-unevaluated")
    assert f["severity"] == "info"
    assert "CiliumNetworkPolicy default/cnp-web selects pod" in f["message"] and "not evaluated" in f["message"]
    assert "netpol-drops-forwarded" not in codes(doc)  # the Cilium policy may admit what the other does not


def test_forbidden_pods_and_policies_are_notes_not_failures(lab):
    # local-uneven-share, but the identity may not list pods or NetworkPolicies.
    c = scenarios.build("local-uneven-share")
    c.kube_forbidden |= {"pods", "networkpolicies"}
    lab(c)
    result, doc = explain()
    assert result.exit_code == ExitCode.OK, result.stderr
    notes = " ".join(doc["notes"])
    assert "pods of default/web not read (403 Forbidden)" in notes
    assert "NetworkPolicies of namespace default not read (403 Forbidden)" in notes
    # Without pods the share still comes from the EndpointSlices.
    assert "uneven-share" in codes(doc)


# -- C17: how traffic is shared ------------------------------------------------------------------------


def test_local_uneven_pods_share(lab):
    lab("local-uneven-share")
    result, doc = explain()
    assert result.exit_code == ExitCode.OK, result.stderr
    f = finding(doc, "uneven-share")
    assert f["severity"] == "warning"
    msg = f["message"]
    assert f"{NODES[0]} 1 pod → 33 % per pod" in msg
    assert f"{NODES[1]} 3 pods → 11 % per pod" in msg
    assert f"{NODES[2]} 2 pods → 17 % per pod" in msg
    assert "3.0×" in msg and "5-tuple hash" in msg
    share = doc["rules"][0]["share"]
    assert share["externalTrafficPolicy"] == "Local" and share["loadDistribution"] == "Default"
    assert share["basis"] == "verdict"
    assert [(n["name"], n["share"], n["pods"], n["perPod"]) for n in share["nodes"]] == [
        (NODES[0], 0.3333, 1, 0.3333),
        (NODES[1], 0.3333, 3, 0.1111),
        (NODES[2], 0.3333, 2, 0.1667),
    ]
    assert len(share["pods"]) == 6 and share["skew"] == 3.0
    wide = cli("explain", "svc/web", "-o", "wide", "--timeout", "1")
    assert wide.exit_code == ExitCode.OK
    assert "Share" in wide.stdout and "11.1 % per pod" in wide.stdout and "3 pod(s)" in wide.stdout


def test_cluster_share_is_even_per_pod(lab):
    lab("cluster-tcp")
    result, doc = explain()
    share = doc["rules"][0]["share"]
    assert share["externalTrafficPolicy"] == "Cluster"
    assert {p["share"] for p in share["pods"]} == {0.5}
    assert [n["share"] for n in share["nodes"]] == [0.3333] * 3
    assert "uneven-share" not in codes(doc)


def test_draining_node_would_drain_in_shared_mode(lab):
    b = AksBuilder(name="drain-servicenodeport", version="v1.31.2")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1])
    b.taint(2)
    lab(b.build())
    result, doc = explain()
    f = finding(doc, "shared-probe-would-drain")
    assert f["severity"] == "info" and NODES[2] in f["message"]
    assert "nodeEligible=false" in f["message"] and "33 %" in f["message"]
    assert doc["rules"][0]["share"]["sharedModeDrains"] == [NODES[2]]


# -- case files and dumps -----------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["netpol-cross-node", "gateway-data-port", "app-403-header", "local-uneven-share"])
def test_capture_replays_the_inside_findings(lab, tmp_path, scenario):
    running = lab(scenario)
    live = cli("explain", "svc/web", "-o", "json", "--timeout", "1")
    path = tmp_path / "case.json"
    assert cli("capture", "svc/web", "-f", str(path), "--timeout", "1").exit_code == ExitCode.OK
    running.stop()
    doc = json.loads(path.read_text())
    assert doc["pods"] and "networkPolicies" in doc
    assert all(set(p["spec"]) <= {"nodeName", "hostNetwork", "containers"} for p in doc["pods"])
    offline = cli("explain", "-f", str(path), "-o", "json")
    assert offline.exit_code == live.exit_code, offline.stderr
    keep = ("app-rejects-probe", "gateway-status-port", "netpol-drops-forwarded", "uneven-share")
    assert [(f["code"], f["message"]) for f in offline.json["findings"] if f["code"] in keep] == [
        (f["code"], f["message"]) for f in live.json["findings"] if f["code"] in keep
    ]


def test_dump_folder_reads_pods_and_networkpolicies(tmp_path):
    c = scenarios.build("netpol-cross-node")
    try:

        def dump(name, kind, items):
            (tmp_path / name).write_text(json.dumps({"kind": f"{kind}List", "apiVersion": "v1", "items": items}))

        (tmp_path / "service.json").write_text(json.dumps(c.service("default/web")))
        dump("nodes.json", "Node", c.nodes)
        dump("endpointslices.json", "EndpointSlice", c.endpointslices)
        dump("pods.json", "Pod", c.pods)
        dump("networkpolicies.json", "NetworkPolicy", c.network_policies)
        (tmp_path / "loadbalancers.json").write_text(json.dumps(c.load_balancers))
    finally:
        c.release()
    result = cli("explain", "-f", str(tmp_path), "-o", "json")
    assert result.exit_code in (ExitCode.OK, ExitCode.PROBLEM, ExitCode.NO_EVIDENCE), result.stderr
    msg = finding(result.json, "netpol-drops-forwarded")["message"]
    assert "default/allow-clients" in msg and "3/5" in msg


@pytest.mark.parametrize("scenario", ["netpol-local-clients", "gateway-data-port"])
def test_all_namespaces_tells_the_in_cluster_causes_as_explain_does(lab, scenario):
    lab(scenario)
    one = cli("explain", "svc/web", "-o", "json", "--timeout", "1")
    many = cli("explain", "-A", "-o", "json", "--timeout", "1")
    assert many.exit_code == one.exit_code, many.stderr
    items = many.json["items"]
    (item,) = [i for i in items if (i["service"]["namespace"], i["service"]["name"]) == ("default", "web")]
    inside = {"netpol-blocks-clients", "netpol-drops-forwarded", "gateway-status-port", "app-rejects-probe"}
    assert {f["code"] for f in item["findings"]} & inside == {f["code"] for f in one.json["findings"]} & inside != set()
