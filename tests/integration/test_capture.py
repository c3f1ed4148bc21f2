"""capture → stop the cluster → explain -f / diff -f: the same diagnosis, offline, from one file.

The real CLI entry against the lab's Kubernetes API and ARM on loopback; the replay runs after the lab
has stopped, so nothing can come from the cluster any more.
"""

from __future__ import annotations

import json
import stat

import pytest
from support import cli, codes

from akslbctl.errors import ExitCode
from akslbctl.lab.scenarios import build

NODES = [f"aks-nodepool1-12345678-vmss00000{i}" for i in range(3)]


def per_node(doc: dict) -> list[tuple]:
    """What must survive the round trip: per rule and node, membership, verdict, reason, expectation, and
    what the probe saw."""
    rows = []
    for rule in doc["rules"]:
        for n in rule["nodes"]:
            seen = n["observed"]
            rows.append(
                (
                    rule["name"],
                    n["name"],
                    n["inBackendPool"],
                    n["verdict"],
                    n["reason"],
                    n["expected"],
                    None if seen is None else (seen["target"], seen["outcome"], seen["status"], seen["localEndpoints"]),
                )
            )
    return rows


def finding_keys(doc: dict) -> list[tuple]:
    return sorted((f["code"], f["severity"], f["rule"] or "", f["node"] or "") for f in doc["findings"])


def per_node_azure(doc: dict) -> list[tuple]:
    return [(r["name"], n["name"], n["azure"]) for r in doc["rules"] for n in r["nodes"]]


# The seed cases, and every evidence-fusion case of contract §5.1: Azure's view, the probe source and
# the network path are recorded, so the replay gives the live verdicts, reasons and findings.
FUSION_SCENARIOS = [
    "laptop-azure-up",
    "laptop-no-azure",
    "nsg-subnet-blocks-probe",
    "nsg-nic-blocks-probe",
    "nsg-blocks-probe",
    "nsg-subnet-no-client-rule",
    "dualstack-ipv6-down",
    "pls-proxy-protocol",
    "nsg-byo-vnet-forbidden",
]


@pytest.mark.parametrize(
    "scenario",
    ["local-http", "appprotocol-404", "node-missing-from-pool", "stale-probe-port", "node-ip-pool", *FUSION_SCENARIOS],
)
def test_capture_then_explain_offline_gives_the_live_verdicts(lab, tmp_path, scenario):
    running = lab(scenario)
    live = cli("explain", "svc/web", "-o", "json", "--timeout", "1")
    assert live.exit_code in (0, 1, 3), live.stderr
    path = tmp_path / "case.json"
    captured = cli("capture", "svc/web", "-f", str(path), "--timeout", "1")
    assert captured.exit_code == ExitCode.OK, captured.stderr
    assert captured.stdout.startswith(f"wrote {path} (Service default/web, 3 nodes, ")
    running.stop()

    offline = cli("explain", "-f", str(path), "-o", "json")
    assert offline.exit_code == live.exit_code, offline.stderr
    assert per_node(offline.json) == per_node(live.json)
    assert per_node_azure(offline.json) == per_node_azure(live.json)
    assert finding_keys(offline.json) == finding_keys(live.json)
    assert offline.json["vantage"].startswith("recorded in the case file")
    assert offline.json["vantageSource"] == live.json["vantageSource"]
    # The same Service named explicitly is accepted; the table renders from the file as well.
    table = cli("explain", "svc/web", "-f", str(path))
    assert table.exit_code == live.exit_code


def test_case_file_content_and_permissions(lab, tmp_path):
    running = lab("local-http")
    path = tmp_path / "case.json"
    assert cli("capture", "web", "-f", str(path)).exit_code == ExitCode.OK
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    doc = json.loads(path.read_text())
    assert (doc["apiVersion"], doc["kind"]) == ("akslbctl/v1alpha1", "Case")
    assert doc["clusterVersion"]["gitVersion"] == "v1.29.4" and doc["akslbctl"]
    assert doc["subscription"] == running.cluster.subscription
    assert doc["resourceGroup"].lower() == running.cluster.node_resource_group.lower()
    assert doc["service"]["metadata"]["name"] == "web" and len(doc["nodes"]) == 3
    assert [lb["name"] for lb in doc["loadBalancers"]] == ["kubernetes"]
    assert doc["loadBalancers"][0]["properties"]["probes"]  # ARM's REST shape, as the API returned it
    assert len(doc["publicIPAddresses"]) == 2 and len(doc["endpointSlices"]) == 1
    probes = {p["node"]: p for p in doc["probes"]}
    assert set(probes) == set(NODES)
    assert probes[NODES[2]]["target"] == f"http://{running.cluster.address_of(2)}:32649/healthz"
    assert (probes[NODES[2]]["outcome"], probes[NODES[2]]["status"], probes[NODES[2]]["localEndpoints"]) == (
        "http-status",
        503,
        0,
    )
    assert all(p["at"].endswith("Z") and p["latencyMs"] >= 0 for p in doc["probes"])


def test_capture_never_writes_credentials_or_applied_configuration(lab, tmp_path):
    cluster = build("cluster-tcp")
    svc = cluster.service("default/web")
    svc["metadata"]["managedFields"] = [{"manager": "kubectl-client-side-apply", "operation": "Update"}]
    svc["metadata"].setdefault("annotations", {})["kubectl.kubernetes.io/last-applied-configuration"] = (
        '{"metadata": {"annotations": {"db-password": "hunter2-applied"}}}'
    )
    for node in cluster.nodes:
        node["metadata"]["managedFields"] = [{"manager": "kubelet"}]
    running = lab(cluster)
    path = tmp_path / "case.json"
    result = cli("capture", "svc/web", "-f", str(path), "--debug")
    assert result.exit_code == ExitCode.OK, result.stderr
    text = path.read_text()
    assert running.kube_token not in text and running.arm_token not in text
    assert running.kube_token not in result.output and running.arm_token not in result.output
    assert running.kubeconfig is not None and str(running.kubeconfig) not in text
    assert "managedFields" not in text and "last-applied-configuration" not in text and "hunter2" not in text
    assert json.loads(text)["service"]["metadata"]["finalizers"] == ["service.kubernetes.io/load-balancer-cleanup"]


def test_redacted_capture_gives_the_same_verdicts(lab, tmp_path):
    running = lab("appprotocol-404")
    plain, hidden = tmp_path / "case.json", tmp_path / "redacted.json"
    assert cli("capture", "svc/web", "-f", str(plain)).exit_code == ExitCode.OK
    result = cli("capture", "svc/web", "-f", str(hidden), "--redact")
    assert result.exit_code == ExitCode.OK and ", redacted;" in result.stdout
    cluster = running.cluster
    ingress = cluster.service("default/web")["status"]["loadBalancer"]["ingress"][0]["ip"]
    running.stop()

    text = hidden.read_text()
    for secret in (cluster.subscription, cluster.node_resource_group, ingress, "20.31.250.4"):
        assert secret.lower() not in text.lower()
    original = cli("explain", "-f", str(plain), "-o", "json")
    redacted = cli("explain", "-f", str(hidden), "-o", "json")
    assert redacted.exit_code == original.exit_code == ExitCode.PROBLEM
    assert per_node(redacted.json) == per_node(original.json)
    assert {(n["verdict"], n["reason"]) for n in redacted.json["rules"][0]["nodes"]} == {("down", "http-status")}
    assert finding_keys(redacted.json) == finding_keys(original.json)
    assert "no-healthy-backend" in codes(redacted.json)
    lb = redacted.json["loadBalancer"]
    assert (lb["subscription"], lb["resourceGroup"]) == ("redacted-subscription-1", "redacted-resource-group-1")
    assert redacted.json["service"]["ingress"] == [lb["frontends"][0]["ip"]]


def test_capture_without_probes_replays_as_not_probed(lab, tmp_path):
    running = lab("local-http")
    path = tmp_path / "case.json"
    result = cli("capture", "svc/web", "-f", str(path), "--no-probe", "--no-azure-health")
    assert result.exit_code == ExitCode.OK and "no probe results" in result.stdout
    running.stop()
    doc = json.loads(path.read_text())
    assert doc["probes"] == [] and doc["azureHealth"] is None
    offline = cli("explain", "-f", str(path), "-o", "json")
    # No verdict for any member (contract §5.1): the document, then exit 3; no-healthy-backend is not raised.
    assert offline.exit_code == ExitCode.NO_EVIDENCE
    rows = offline.json["rules"][0]["nodes"]
    assert {(n["verdict"], n["reason"]) for n in rows} == {("unknown", "not-probed")}
    assert [n["expected"] for n in rows] == ["up", "up", "down"]  # from the EndpointSlice: node 2 has no pod
    assert "no-healthy-backend" not in codes(offline.json)


def test_capture_without_probes_still_records_azures_view(lab, tmp_path):
    running = lab("local-http")
    path = tmp_path / "case.json"
    assert cli("capture", "svc/web", "-f", str(path), "--no-probe").exit_code == ExitCode.OK
    running.stop()
    doc = json.loads(path.read_text())
    health = doc["azureHealth"]
    (rule,) = health
    assert {h["state"] for h in health[rule].values()} == {"Up", "Down"}
    offline = cli("explain", "-f", str(path), "-o", "json")
    assert offline.exit_code == ExitCode.OK, offline.stderr
    rows = {n["name"]: n for n in offline.json["rules"][0]["nodes"]}
    assert [(rows[n]["verdict"], rows[n]["reason"]) for n in NODES] == [
        ("up", "azure-up"),
        ("up", "azure-up"),
        ("down", "azure-down"),
    ]
    assert "Down, its HTTP probe gets a status other than 200" in rows[NODES[2]]["detail"]


def test_diff_reads_the_case_file_offline(lab, tmp_path):
    running = lab("stale-probe-port")
    live = cli("diff", "svc/web", "-o", "json")
    path = tmp_path / "case.json"
    assert cli("capture", "svc/web", "-f", str(path), "--no-probe").exit_code == ExitCode.OK
    running.stop()
    offline = cli("diff", "-f", str(path), "-o", "json")
    assert offline.exit_code == live.exit_code == ExitCode.PROBLEM, offline.stderr
    assert offline.json == live.json
    assert any(d["field"] == "port" for d in offline.json["differences"])


def test_capture_bad_input(lab, tmp_path):
    lab("multi-service")
    missing = cli("capture", "svc/web")
    assert missing.exit_code == ExitCode.BAD_INPUT and "pass -f FILE" in missing.stderr
    nowhere = cli("capture", "svc/web", "-f", str(tmp_path / "no" / "such" / "case.json"))
    assert nowhere.exit_code == ExitCode.BAD_INPUT
    assert nowhere.stderr.count("\n") == 1 and "cannot write" in nowhere.stderr
    folder = cli("capture", "svc/web", "-f", str(tmp_path))
    assert folder.exit_code == ExitCode.BAD_INPUT and "is a folder" in folder.stderr
    unknown = cli("capture", "svc/nope", "-f", str(tmp_path / "case.json"))
    assert unknown.exit_code == ExitCode.BAD_INPUT and 'service "nope" not found' in unknown.stderr
    assert not (tmp_path / "case.json").exists()
