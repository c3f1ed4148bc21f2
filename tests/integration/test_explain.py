"""explain end to end: the real CLI entry, the real kubernetes and azure-mgmt-network clients against
the lab's APIs on loopback, real probes against per-node listeners on 127.x addresses."""

from __future__ import annotations

import time

import pytest
from support import cli, codes, node_rows

from akslbctl.lab.cluster import AksBuilder

NODES = [f"aks-nodepool1-12345678-vmss00000{i}" for i in range(3)]


def explain_json(*extra: str):
    result = cli("explain", "svc/web", "-o", "json", *extra)
    return result, result.json


def test_seed_cluster_policy_tcp_probe_on_nodeport_30396(lab):
    lab("cluster-tcp")
    result, doc = explain_json()
    assert result.exit_code == 0, result.stderr
    assert doc["apiVersion"] == "akslbctl/v1alpha1" and doc["kind"] == "ServiceDiagnosis"
    assert doc["service"]["externalTrafficPolicy"] == "Cluster"
    assert doc["loadBalancer"]["name"] == "kubernetes"
    (rule,) = doc["rules"]
    assert rule["probe"] == {
        "name": rule["name"],
        "protocol": "Tcp",
        "port": 30396,
        "path": None,
        "intervalInSeconds": 5,
        "threshold": 2,
    }
    assert rule["up"] == 3 and rule["down"] == 0
    for node in rule["nodes"]:
        assert (node["inBackendPool"], node["verdict"], node["reason"], node["expected"]) == (
            True,
            "up",
            "probe-ok",
            "up",
        )
        assert node["observed"]["outcome"] == "ok" and node["observed"]["target"].endswith(":30396")
    assert doc["findings"] == []


def test_seed_local_policy_http_probe_on_health_check_node_port_32649(lab):
    lab("local-http")
    result, doc = explain_json()
    assert result.exit_code == 0, result.stderr  # a node out by design is not a problem
    rows = node_rows(doc)
    assert doc["rules"][0]["probe"]["port"] == 32649 and doc["rules"][0]["probe"]["path"] == "/healthz"
    for name in NODES[:2]:
        assert rows[name]["verdict"] == "up" and rows[name]["observed"]["localEndpoints"] == 1
    down = rows[NODES[2]]
    assert (down["verdict"], down["reason"], down["expected"]) == ("down", "http-status", "down")
    assert down["observed"]["status"] == 503 and down["observed"]["localEndpoints"] == 0
    assert "by design" in down["detail"]
    assert "endpoint-probe-disagreement" not in codes(doc)


def test_appprotocol_http_probe_on_root_answered_404_everywhere(lab):
    lab("appprotocol-404")
    result, doc = explain_json()
    assert result.exit_code == 1
    (rule,) = doc["rules"]
    assert (rule["probe"]["protocol"], rule["probe"]["path"]) == ("Http", "/")
    assert {(n["verdict"], n["reason"], n["observed"]["status"]) for n in rule["nodes"]} == {
        ("down", "http-status", 404)
    }
    assert "no-healthy-backend" in codes(doc)
    # The provider builds exactly this probe: the outage is not drift.
    assert "probe-mismatch" not in codes(doc)


def test_stale_probe_port_is_a_probe_mismatch_and_dark(lab):
    lab("stale-probe-port")
    result, doc = explain_json()
    assert result.exit_code == 1
    assert {n["reason"] for n in doc["rules"][0]["nodes"]} == {"refused"}
    mismatch = next(f for f in doc["findings"] if f["code"] == "probe-mismatch")
    assert "31000" in mismatch["message"] and "30396" in mismatch["message"]
    assert mismatch["severity"] == "error" and mismatch["rule"] == doc["rules"][0]["name"]
    assert "no-healthy-backend" in codes(doc)


def test_node_missing_from_pool(lab):
    lab("node-missing-from-pool")
    result, doc = explain_json()
    assert result.exit_code == 0  # two nodes still serve; the finding is a warning
    missing = node_rows(doc)[NODES[2]]
    assert (missing["inBackendPool"], missing["verdict"], missing["reason"]) == (False, "absent", "not-in-backend-pool")
    assert missing["observed"] is None
    finding = next(f for f in doc["findings"] if f["code"] == "node-not-in-pool")
    assert finding["node"] == NODES[2] and finding["severity"] == "warning"


def test_hanging_health_endpoint_times_out_within_the_probe_timeout(lab):
    lab("hanging-health")
    started = time.monotonic()
    result, doc = explain_json("--timeout", "0.5")
    assert time.monotonic() - started < 5
    hung = node_rows(doc)[NODES[1]]
    assert (hung["verdict"], hung["reason"], hung["expected"]) == ("down", "timeout", "up")
    assert "endpoint-probe-disagreement" in codes(doc)
    assert result.exit_code == 0  # the other two nodes serve


def test_no_probe_leaves_verdicts_unknown(lab):
    lab("appprotocol-404")
    result, doc = explain_json("--no-probe", "--no-azure-health")
    assert {(n["verdict"], n["reason"]) for n in doc["rules"][0]["nodes"]} == {("unknown", "not-probed")}
    assert "no-healthy-backend" not in codes(doc)  # raised only from known verdicts
    # No verdict for any member (contract §5.1): the document is printed, then exit 3.
    assert result.exit_code == 3 and "no verdict" in result.stderr


def test_no_probe_takes_azures_verdict(lab):
    lab("appprotocol-404")
    result, doc = explain_json("--no-probe")
    assert {(n["verdict"], n["reason"]) for n in doc["rules"][0]["nodes"]} == {("down", "azure-down")}
    assert "no-healthy-backend" in codes(doc)  # Azure's view is a known verdict: the port is dark
    assert result.exit_code == 1


def test_node_ip_pool_and_internal_lb(lab):
    lab("node-ip-pool")
    result, doc = explain_json()
    assert result.exit_code == 0 and doc["rules"][0]["up"] == 3
    lab("internal-lb")
    result, doc = explain_json()
    assert result.exit_code == 0, result.stderr
    assert doc["loadBalancer"]["name"] == "kubernetes-internal"
    assert doc["loadBalancer"]["frontends"][0]["ip"] == "10.224.0.100"


def test_udp_rule_without_probe_sends_to_every_member(lab):
    lab("udp-no-probe")
    result, doc = explain_json()
    assert result.exit_code == 0
    (rule,) = doc["rules"]
    assert rule["probe"] is None and rule["protocol"] == "Udp"
    assert {(n["verdict"], n["reason"]) for n in rule["nodes"]} == {("up", "rule-without-probe")}
    assert "probe-mismatch" not in codes(doc)


def test_shared_probe_mode_reads_port_and_path_from_the_lb(lab):
    lab("shared-probe")
    result, doc = explain_json()
    probe = doc["rules"][0]["probe"]
    assert (probe["name"], probe["port"], probe["path"]) == ("cluster-service-shared-health-probe", 10256, "/healthz")
    assert doc["probeMode"] == "shared"
    rows = node_rows(doc)
    assert (rows[NODES[2]]["verdict"], rows[NODES[2]]["expected"]) == ("down", "down")  # draining by design
    assert "probe-mismatch" not in codes(doc)
    assert result.exit_code == 0


def test_no_endpoints_anywhere(lab):
    lab("no-endpoints")
    result, doc = explain_json()
    assert result.exit_code == 1
    assert {(n["reason"], n["expected"]) for n in doc["rules"][0]["nodes"]} == {("refused", "down")}
    assert {"no-healthy-backend", "no-ready-endpoints"} <= set(codes(doc))


def test_lb_not_found_exits_3(lab):
    b = AksBuilder(name="no-lb")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0])
    b.drop_rule("default/web", 80)
    cluster = b.build()
    for lb in cluster.load_balancers:  # the provider never got to create the frontend either
        lb["properties"]["frontendIPConfigurations"] = []
        lb["properties"]["probes"] = []
    lab(cluster)
    result, doc = explain_json()
    assert result.exit_code == 3
    assert doc["loadBalancer"] is None and codes(doc)[-1] == "lb-not-found"


def test_table_output(lab):
    lab("local-http")
    result = cli("explain", "svc/web")
    assert result.exit_code == 0
    out = result.stdout
    assert "externalTrafficPolicy Local" in out and "probe Http :32649 /healthz" in out
    for name in NODES:  # never cut, even with the why column wrapping
        assert name in out
    assert "2 of 3 pool members up" in out
    wide = cli("explain", "svc/web", "-o", "wide").stdout
    assert "ADDRESS" in wide and "LATENCY" in wide


def test_yaml_output_is_the_same_document(lab):
    import yaml

    lab("cluster-tcp")
    as_yaml = yaml.safe_load(cli("explain", "svc/web", "-o", "yaml").stdout)
    assert as_yaml["kind"] == "ServiceDiagnosis" and as_yaml["rules"][0]["up"] == 3


# -- bad input: one line on stderr, the contract's exit code, no traceback, no token -------------


@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        (["explain", "svc/nosuch"], 2, 'service "nosuch" not found in namespace "default"'),
        (["explain", "svc/"], 2, "has no name"),
        (["explain", "pod/x"], 2, "is a pod, not a Service"),
        (["explain", "svc/cache"], 2, "of type ClusterIP, not LoadBalancer"),
        (["explain"], 2, "no Service given"),
        (["explain", "svc/web", "-o", "xml"], 2, "unknown output format"),
        (["explain", "svc/web", "--timeout", "abc"], 2, "--timeout"),
        (["explain", "svc/web", "-n", "Bad_NS"], 2, "not a valid namespace"),
        (["explain", "svc/web", "--provider-version", "banana"], 2, "cloud-provider-azure version"),
        (["explain", "svc/web", "--context", "nope"], 2, 'context "nope" not found'),
        (["explain", "svc/web", "--arm-endpoint", "http://management.example.com"], 2, "must use https"),
        (["nosuchcommand"], 2, "No such command"),
    ],
)
def test_bad_input(lab, argv, code, says):
    running = lab("multi-service")
    result = cli(*argv)
    assert result.exit_code == code, result.output
    assert says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert running.kube_token not in result.output and running.arm_token not in result.output


def test_unreachable_api_server(lab, monkeypatch, tmp_path):
    running = lab("cluster-tcp")
    kubeconfig = running.kubeconfig.read_text()
    # Point the context at a closed port on loopback.
    dead = tmp_path / "dead.kubeconfig"
    dead.write_text(kubeconfig.replace(running.kube_url, "https://127.0.0.1:9"))
    result = cli("explain", "svc/web", "--kubeconfig", str(dead), "--request-timeout", "2")
    assert result.exit_code == 3
    assert "Kubernetes API server https://127.0.0.1:9 refused the connection" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_rejected_arm_token(lab, monkeypatch):
    lab("cluster-tcp")
    monkeypatch.setenv("AKSLBCTL_ARM_TOKEN", "not-the-right-token-123")
    result = cli("explain", "svc/web")
    assert result.exit_code == 3
    assert "ARM rejected the credentials" in result.stderr and "az login" in result.stderr
    assert "not-the-right-token-123" not in result.output


def test_missing_arm_permission(lab):
    b = AksBuilder(name="forbidden")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0])
    b.arm_forbidden("*")
    lab(b.build())
    result = cli("explain", "svc/web")
    assert result.exit_code == 3
    assert "ARM refused to list load balancers" in result.stderr and "Reader" in result.stderr


def test_missing_kubernetes_permission(lab):
    b = AksBuilder(name="kforbidden")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0])
    b.kube_forbidden("nodes")
    lab(b.build())
    result = cli("explain", "svc/web")
    assert result.exit_code == 3
    assert "403 Forbidden" in result.stderr and "/api/v1/nodes" in result.stderr


def test_load_balancer_class_is_not_ours(lab):
    b = AksBuilder(name="lbclass")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0])
    cluster = b.build()
    cluster.services[0]["spec"]["loadBalancerClass"] = "example.com/metallb"
    lab(cluster)
    result = cli("explain", "svc/web")
    assert result.exit_code == 2 and "not managed by the Azure cloud provider" in result.stderr


def test_lab_is_never_written_to(lab):
    running = lab("local-http")
    cli("explain", "svc/web")
    assert running.writes == []


def test_appprotocol_outage_suggestion_is_backed_by_a_probe_of_healthz(lab):
    lab("appprotocol-404")
    _, doc = explain_json()
    hint = next(f for f in doc["findings"] if f["code"] == "probe-path-suggestion")
    assert "appProtocol=http" in hint["message"] and "GET /healthz answered 200 on 3/3 nodes" in hint["message"]
    assert "azure-load-balancer-health-probe-request-path: /healthz" in hint["message"]


def test_appprotocol_suggestion_when_healthz_fails_too(lab):
    from akslbctl.lab.behaviours import Http, Reply

    b = AksBuilder(name="no-healthz")
    b.add_service(
        "web",
        ports=[{"port": 80, "nodePort": 31380, "name": "http", "appProtocol": "http"}],
        endpoints_on=[0, 1],
        app=Http(default=Reply(404, b"not found")),
    )
    lab(b.build())
    _, doc = explain_json()
    hint = next(f for f in doc["findings"] if f["code"] == "probe-path-suggestion")
    assert "did not answer 200 either" in hint["message"] and "port_80_health-probe_protocol: tcp" in hint["message"]
    # Not offered when a request path is annotated, nor without probe results.
    _, doc = explain_json("--no-probe")
    assert "probe-path-suggestion" not in codes(doc)


def test_table_reads_at_80_columns_and_never_cuts_a_node_name(lab, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    lab("appprotocol-404")
    out = cli("explain", "svc/web").stdout
    assert max(len(line) for line in out.splitlines()) <= 80
    for name in NODES:
        assert any(line.startswith(name) for line in out.splitlines())
    monkeypatch.setenv("COLUMNS", "40")  # narrower than a node name: the reason moves below it
    out = cli("explain", "svc/web").stdout
    for name in NODES:
        assert any(line.startswith(name) for line in out.splitlines())


def test_pool_of_machines_that_are_no_nodes_is_an_error(lab):
    b = AksBuilder(name="foreign-pool")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1])
    for i in range(3):
        b.remove_from_pool(i)
    b.add_pool_member(instance=7)  # a VMSS instance that is no Node of this cluster
    lab(b.build())
    result, doc = explain_json("--no-probe")
    assert result.exit_code == 1
    finding = next(f for f in doc["findings"] if f["code"] == "pool-without-nodes")
    assert "none is a Node of this cluster" in finding["message"] and finding["severity"] == "error"
    strangers = [n for n in doc["rules"][0]["nodes"] if n["name"].startswith("<no node")]
    assert [n["name"] for n in strangers] == ["<no node: aks-nodepool1-12345678-vmss/7>"]


def test_empty_pool_is_dark_without_probing(lab):
    b = AksBuilder(name="empty-pool")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0])
    for i in range(3):
        b.remove_from_pool(i)
    lab(b.build())
    result, doc = explain_json()
    assert result.exit_code == 1
    assert (
        "has no member: the port is dark"
        in next(f for f in doc["findings"] if f["code"] == "pool-without-nodes")["message"]
    )
    assert {n["reason"] for n in doc["rules"][0]["nodes"]} == {"not-in-backend-pool"}


def test_a_node_listed_twice_counts_once(lab):
    b = AksBuilder(name="dup-node")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1])
    cluster = b.build()
    cluster.nodes.append(cluster.nodes[0])
    lab(cluster)
    result, doc = explain_json()
    assert result.exit_code == 0
    assert len(doc["rules"][0]["nodes"]) == 3 and doc["rules"][0]["up"] == 3


def test_draining_node_in_shared_mode_depends_on_the_kubernetes_version(lab):
    # KEP-3836: kube-proxy's /healthz reports deleting nodes as not eligible from Kubernetes 1.30 on;
    # the prediction follows the cluster's own version (--provider-version changes only the provider).
    lab("shared-probe")  # Kubernetes 1.31
    _, doc = explain_json()
    assert node_rows(doc)[NODES[2]]["expected"] == "down"
    b = AksBuilder(name="shared-129", version="v1.29.4", probe_mode="shared")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1])
    b.taint(2)
    lab(b.build())
    _, doc = explain_json()
    draining = node_rows(doc)[NODES[2]]
    assert (draining["expected"], draining["verdict"]) == ("up", "up")  # the 1.29 kube-proxy still answers 200
    assert "endpoint-probe-disagreement" not in codes(doc)
