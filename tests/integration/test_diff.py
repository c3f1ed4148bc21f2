"""diff end to end: the real CLI entry against the lab's Kubernetes API and ARM on loopback.

Empty (exit 0) on every scenario whose LB is what the provider builds; exact on perturbed ones; the
contract's exit codes and one-line errors on bad input.
"""

from __future__ import annotations

import pytest
import yaml
from support import cli

from akslbctl.lab.cluster import AksBuilder

NODES = [f"aks-nodepool1-12345678-vmss00000{i}" for i in range(3)]
K = "service.beta.kubernetes.io/"


def diff_json(*extra: str):
    result = cli("diff", "svc/web", "-o", "json", *extra)
    assert result.stdout, result.stderr
    return result, result.json


def rows(doc: dict) -> list[tuple]:
    """(kind, name without the Service's prefix, field, expected, actual) of every difference."""
    prefix = doc["service"]["uid"].replace("-", "")
    out = []
    for d in doc["differences"]:
        name = d["name"]
        head, sep, tail = name.partition("-")
        if len(head) == 32 and ("a" + prefix).startswith(head):
            name = tail
        out.append((d["kind"], name, d["field"], d["expected"], d["actual"]))
    return out


@pytest.mark.parametrize(
    ("scenario", "lb"),
    [
        ("cluster-tcp", "kubernetes"),
        ("local-http", "kubernetes"),
        ("internal-lb", "kubernetes-internal"),
        ("node-ip-pool", "kubernetes"),
        ("shared-probe", "kubernetes"),
        ("udp-no-probe", "kubernetes"),
        ("appprotocol-404", "kubernetes"),
        ("multi-service", "kubernetes"),
    ],
)
def test_no_drift_where_the_lb_is_what_the_provider_builds(lab, scenario, lb):
    lab(scenario, listeners=False)
    result, doc = diff_json()
    assert result.exit_code == 0, result.output
    assert doc["apiVersion"] == "akslbctl/v1alpha1" and doc["kind"] == "LoadBalancerDiff"
    assert doc["differences"] == []
    assert doc["service"]["name"] == "web" and doc["loadBalancer"]["name"] == lb
    assert doc["providerRules"].startswith("cloud-provider-azure v1.")
    assert doc["reconcileFailing"] is False


def test_shared_probe_mode_is_named(lab):
    lab("shared-probe", listeners=False)
    _, doc = diff_json()
    assert doc["probeMode"] == "shared"
    assert doc["providerRules"] == "cloud-provider-azure v1.31 (latest patch)"


def test_stale_probe_port(lab):
    lab("stale-probe-port", listeners=False)
    result, doc = diff_json()
    assert result.exit_code == 1
    assert rows(doc) == [("probe", "TCP-80", "port", 30396, 31000)]
    assert (
        doc["differences"][0]["message"] == "probe on 31000 but the nodePort of port 80 is 30396: every node looks down"
    )


def test_stale_local_health_check_port(lab):
    b = AksBuilder(name="stale-hc")
    b.add_service("web", ports=[{"port": 80, "nodePort": 31080}], policy="Local", health_check_node_port=32649)
    b.set_probe("default/web", 80, port=31999)
    lab(b.build(), listeners=False)
    result, doc = diff_json()
    assert result.exit_code == 1
    assert rows(doc) == [("probe", "TCP-32649", "port", 32649, 31999)]
    assert doc["differences"][0]["message"] == "probe on 31999 but healthCheckNodePort is 32649: every node looks down"


def test_stale_request_path_after_an_annotation_change(lab):
    lab("stale-request-path", listeners=False)
    result, doc = diff_json()
    assert result.exit_code == 1
    assert rows(doc) == [("probe", "TCP-80", "requestPath", "/healthz", "/")]


def test_missing_rule_for_a_new_port(lab):
    lab("missing-rule", listeners=False)
    result, doc = diff_json()
    assert result.exit_code == 1
    assert rows(doc) == [
        ("rule", "TCP-443", "presence", True, False),
        ("probe", "TCP-443", "presence", True, False),
    ]
    assert "clients of 20.31.40.10:443 get no answer" in doc["differences"][0]["message"]


def test_extra_rule_for_a_removed_port(lab):
    lab("stale-rule", listeners=False)
    result, doc = diff_json()
    assert result.exit_code == 1
    assert rows(doc) == [
        ("rule", "TCP-8080", "presence", False, True),
        ("probe", "TCP-8080", "presence", False, True),
    ]


def test_node_missing_from_the_pool(lab):
    lab("node-missing-from-pool", listeners=False)
    result, doc = diff_json()
    assert result.exit_code == 1
    assert rows(doc) == [("backend-pool", "kubernetes", "backendIPConfigurations", NODES[2], None)]


def test_node_missing_from_an_ip_pool(lab):
    b = AksBuilder(name="ip-missing", pool_type="nodeIP")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}])
    b.remove_from_pool(1)
    lab(b.build(), listeners=False)
    result, doc = diff_json()
    assert result.exit_code == 1
    assert rows(doc) == [("backend-pool", "kubernetes", "loadBalancerBackendAddresses", NODES[1], None)]


def test_invalid_annotation(lab):
    lab("invalid-annotation", listeners=False)
    result, doc = diff_json()
    assert result.exit_code == 1
    key = K + "azure-load-balancer-health-probe-interval"
    assert rows(doc) == [("service", "default/web", key, None, "3")]
    message = doc["differences"][0]["message"]
    assert "the minimum value of interval is 5" in message and "keeps what it last wrote" in message
    assert doc["reconcileFailing"] is True


def test_provider_version_flag_changes_the_rule_set(lab):
    lab("appprotocol-404", listeners=False)
    result, doc = diff_json("--provider-version", "v1.23.11")
    assert result.exit_code == 1
    assert doc["providerRules"] == "cloud-provider-azure v1.23.11"
    assert rows(doc) == [
        ("probe", "TCP-80", "protocol", "Tcp", "Http"),
        ("probe", "TCP-80", "numberOfProbes", 2, None),
    ]


def test_explain_and_diff_agree_on_a_stale_probe(lab):
    lab("stale-probe-port", listeners=False)
    explained = cli("explain", "svc/web", "-o", "json", "--no-probe", "--no-azure-health").json
    mismatch = next(f for f in explained["findings"] if f["code"] == "probe-mismatch")
    assert mismatch["message"].endswith("port 31000 ≠ 30396")
    _, doc = diff_json()
    assert rows(doc) == [("probe", "TCP-80", "port", 30396, 31000)]


def test_table_output_at_80_columns(lab, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    lab("missing-rule", listeners=False)
    result = cli("diff", "svc/web")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), result.stdout
    assert "Rules by cloud-provider-azure v1.29 (latest patch)" in result.stdout
    header = next(line for line in lines if line.startswith("KIND"))
    assert header.split() == ["KIND", "OBJECT", "FIELD", "EXPECTED", "ACTUAL"]
    row = next(line for line in lines if line.startswith("rule"))
    assert row.split()[2:] == ["presence", "true", "false"] and "…-TCP-443" in row
    assert "2 differences: the load balancer is not what the cloud provider would configure." in result.stdout


@pytest.mark.parametrize(
    "scenario", ["invalid-annotation", "stale-request-path", "node-missing-from-pool", "stale-rule"]
)
def test_table_is_readable_at_80_columns(lab, monkeypatch, scenario):
    monkeypatch.setenv("COLUMNS", "80")
    lab(scenario, listeners=False)
    result = cli("diff", "svc/web")
    assert result.exit_code == 1
    assert all(len(line) <= 80 for line in result.stdout.splitlines()), result.stdout
    assert "the load balancer is not what the cloud provider would configure." in result.stdout


def test_table_never_cuts_node_names(lab, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    lab("node-missing-from-pool", listeners=False)
    result = cli("diff", "svc/web")
    assert NODES[2] in result.stdout
    assert "expected aks-nodepool1-12345678-vmss000002 · actual -" in result.stdout


def test_table_without_drift(lab):
    lab("local-http", listeners=False)
    result = cli("diff", "svc/web")
    assert result.exit_code == 0
    assert "No differences: the load balancer is what the cloud provider would configure." in result.stdout
    assert "KIND" not in result.stdout


def test_yaml_output_is_the_same_document(lab):
    lab("stale-probe-port", listeners=False)
    as_yaml = yaml.safe_load(cli("diff", "svc/web", "-o", "yaml").stdout)
    as_json = cli("diff", "svc/web", "-o", "json").json
    assert as_yaml == as_json


def test_offline_from_a_case_file(lab, tmp_path):
    running = lab("stale-probe-port")
    path = tmp_path / "case.json"
    assert cli("capture", "svc/web", "-f", str(path), "--no-probe").exit_code == 0
    running.stop()
    result = cli("diff", "-f", str(path), "-o", "json")
    assert result.exit_code == 1, result.stderr
    assert rows(result.json) == [("probe", "TCP-80", "port", 30396, 31000)]


def test_lb_not_found_exits_3(lab):
    b = AksBuilder(name="no-lb")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0])
    b.drop_rule("default/web", 80)
    cluster = b.build()
    for lb in cluster.load_balancers:
        lb["properties"]["frontendIPConfigurations"] = []
        lb["properties"]["probes"] = []
    lab(cluster, listeners=False)
    result, doc = diff_json()
    assert result.exit_code == 3
    assert doc["loadBalancer"] is None
    assert {(d["kind"], d["field"], d["expected"]) for d in doc["differences"]} == {
        ("frontend", "presence", True),
        ("rule", "presence", True),
        ("probe", "presence", True),
    }


# -- bad input: one line on stderr, the contract's exit code, no traceback, no token -------------


@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        (["diff", "svc/nosuch"], 2, 'service "nosuch" not found in namespace "default"'),
        (["diff", "svc/"], 2, "has no name"),
        (["diff", "pod/x"], 2, "is a pod, not a Service"),
        (["diff", "svc/cache"], 2, "of type ClusterIP, not LoadBalancer"),
        (["diff"], 2, "no Service given"),
        (["diff", "svc/web", "svc/api"], 2, "diff takes one Service"),
        (["diff", "svc/web", "-o", "wide"], 2, "unknown output format 'wide'"),
        (["diff", "svc/web", "-n", "Bad_NS"], 2, "not a valid namespace"),
        (["diff", "svc/web", "--provider-version", "banana"], 2, "cloud-provider-azure version"),
        (["diff", "svc/web", "--context", "nope"], 2, 'context "nope" not found'),
        (["diff", "svc/web", "--arm-endpoint", "http://management.example.com"], 2, "must use https"),
        (["diff", "svc/web", "--bogus"], 2, "No such option"),
    ],
)
def test_bad_input(lab, argv, code, says):
    running = lab("multi-service", listeners=False)
    result = cli(*argv)
    assert result.exit_code == code, result.output
    assert says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert running.kube_token not in result.output and running.arm_token not in result.output


def test_unreachable_api_server(lab, tmp_path):
    running = lab("cluster-tcp", listeners=False)
    dead = tmp_path / "dead.kubeconfig"
    dead.write_text(running.kubeconfig.read_text().replace(running.kube_url, "https://127.0.0.1:9"))
    result = cli("diff", "svc/web", "--kubeconfig", str(dead), "--request-timeout", "2")
    assert result.exit_code == 3
    assert "refused the connection" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_missing_arm_permission(lab):
    b = AksBuilder(name="forbidden")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0])
    b.arm_forbidden("*")
    lab(b.build(), listeners=False)
    result = cli("diff", "svc/web")
    assert result.exit_code == 3
    assert "ARM refused to list load balancers" in result.stderr


def test_diff_only_reads(lab):
    running = lab("stale-rule", listeners=False)
    cli("diff", "svc/web")
    assert running.writes == []
