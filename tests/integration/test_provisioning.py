"""Why there is no LB, or no node (contract §5.2), end to end: the real CLI against the lab's Kubernetes
API (Service events) and ARM (LBs, NICs, instance views).

Each test is a support question: why is the Service <pending> (one scenario per ARM error class), why
is this node not in the pool (a NIC in another LB, a virtual node, a stopped VM), and what a NotReady
or cordoned node means on this Kubernetes version.
"""

from __future__ import annotations

import json

import pytest
from support import cli, codes, node_rows

from akslbctl.errors import ExitCode
from akslbctl.lab.scenarios import build

NODES = [f"aks-nodepool1-12345678-vmss00000{i}" for i in range(3)]


def explain(*extra: str):
    result = cli("explain", "svc/web", "-o", "json", "--timeout", "1", *extra)
    return result, result.json


def finding(doc: dict, code: str) -> dict:
    return next(f for f in doc["findings"] if f["code"] == code)


# -- pending Services: one per event class ---------------------------------------------------------

PENDING = [
    # scenario, class, ARM code, HTTP status, words the message must name
    (
        "pending-permission",
        "permission",
        "AuthorizationFailed",
        403,
        ["subnet ilb-subnet", "net-rg", "Network Contributor"],
    ),
    ("pending-subnet-full", "address-space", "SubnetIsFull", 400, ["aks-subnet"]),
    ("pending-pip-quota", "quota", "PublicIPCountLimitReached", 400, ["quota"]),
    (
        "pending-pip-missing",
        "missing-resource",
        "ResourceNotFound",
        404,
        ["public IP web-pip", "net-rg", "azure-pip-name"],
    ),
    (
        "pending-sku-mismatch",
        "sku-mismatch",
        "PublicIPAndLBSkuDoNotMatch",
        400,
        ["Basic and Standard", "--sku Standard"],
    ),
    ("pending-throttled", "throttling", "TooManyRequests", 429, ["retry after 5m0s"]),
    ("pending-invalid-probe", "invalid-configuration", "InvalidParameter", 400, ["probe a1b2c3d4"]),
]


@pytest.mark.parametrize(("scenario", "cls", "code", "status", "words"), PENDING, ids=[p[0] for p in PENDING])
def test_pending_service_names_the_provider_failure_and_exits_1(lab, scenario, cls, code, status, words):
    lab(scenario)
    result, doc = explain()
    assert result.exit_code == ExitCode.PROBLEM, result.stderr  # §5.2: something wrong, found — not 3
    assert result.stderr.count("\n") == 1 and "has not built the load balancer of default/web" in result.stderr
    assert "lb-not-found" not in codes(doc)
    failed = finding(doc, "provisioning-failed")
    assert failed["severity"] == "error"
    message = failed["message"]
    assert message.startswith("no ingress IP: SyncLoadBalancerFailed")
    assert f"HTTP {status}" in message and code in message and f"Class: {cls}" in message and "Fix: " in message
    for word in words:
        assert word in message, message
    # how often and how recently
    assert "×" in message and " ago" in message
    parsed = next(e for e in doc["events"] if e["reason"] == "SyncLoadBalancerFailed")
    assert parsed["armError"] == {
        "status": status,
        "code": code,
        "resource": parsed["armError"]["resource"],
        "class": cls,
    }


def test_the_table_says_pending_and_why(lab):
    lab("pending-permission")
    result = cli("explain", "svc/web", "--timeout", "1")
    assert result.exit_code == ExitCode.PROBLEM
    assert "provisioning-failed" in result.stdout and "AuthorizationFailed" in result.stdout
    assert "has not built a load balancer for this Service" in result.stdout


def test_diff_of_a_pending_service_tells_the_same_story_as_explain(lab):
    lab("pending-permission")
    result = cli("diff", "svc/web", "-o", "json")
    assert result.exit_code == ExitCode.PROBLEM, result.stderr  # the provider said why: found, not exit 3
    assert "has not built the load balancer of default/web" in result.stderr
    doc = result.json
    assert doc["loadBalancer"] is None and doc["differences"]  # everything it would build is missing
    (failed,) = [f for f in doc["findings"] if f["code"] == "provisioning-failed"]
    assert "AuthorizationFailed" in failed["message"] and "Network Contributor" in failed["message"]
    _, explained = explain()
    assert failed["message"] == finding(explained, "provisioning-failed")["message"]  # one engine
    table = cli("diff", "svc/web")
    assert table.exit_code == ExitCode.PROBLEM
    assert "provisioning-failed" in table.stdout and "fails to build it" in table.stdout


def test_diff_without_an_explaining_event_stays_exit_3(lab):
    lab("pending-no-events")
    result = cli("diff", "svc/web", "-o", "json")
    assert result.exit_code == ExitCode.NO_EVIDENCE
    assert result.json["findings"] == []


def test_local_protocol_trap_is_flagged_for_old_providers(lab):
    lab("pending-invalid-probe")
    _, doc = explain()
    trap = next(f for f in doc["findings"] if f["code"] == "annotation-invalid")
    assert "externalTrafficPolicy: Local" in trap["message"] and "v1.23.3" in trap["message"]


def test_no_event_at_all_stays_lb_not_found_exit_3_and_says_so(lab):
    lab("pending-no-events")
    result, doc = explain()
    assert result.exit_code == ExitCode.NO_EVIDENCE
    assert doc["events"] == []
    message = finding(doc, "lb-not-found")["message"]
    assert "reported nothing on this Service" in message and "authenticate" in message


def test_events_that_cannot_be_read_give_a_note_not_a_failure(lab):
    cluster = build("pending-permission")
    cluster.kube_forbidden.add("events")
    lab(cluster)
    result, doc = explain()
    assert result.exit_code == ExitCode.NO_EVIDENCE  # no LB and nothing explains it
    assert doc["events"] is None
    assert any("cannot read the Service's events" in n and "403" in n for n in doc["notes"]), doc["notes"]


def test_a_failing_update_on_a_built_service_is_a_warning(lab):
    lab("update-failing")
    result, doc = explain()
    assert result.exit_code == ExitCode.OK, result.stderr
    warn = finding(doc, "reconcile-failing")
    assert warn["severity"] == "warning" and "AnotherOperationInProgress" in warn["message"]
    assert "Class: conflict" in warn["message"] and "stays as it was" in warn["message"]


def test_explain_all_shows_the_pending_service(lab):
    lab("pending-subnet-full")
    result = cli("explain", "-A", "--timeout", "1")
    assert result.exit_code == ExitCode.PROBLEM, result.stderr
    row = next(line for line in result.stdout.splitlines() if " web " in f" {line} ")
    assert "provisioning-failed" in row


def test_case_file_replays_the_events(lab, tmp_path):
    lab("pending-throttled")
    path = tmp_path / "case.json"
    assert cli("capture", "svc/web", "-f", str(path)).exit_code == ExitCode.OK
    doc = json.loads(path.read_text())
    assert [e["reason"] for e in doc["events"]] == ["EnsuringLoadBalancer", "SyncLoadBalancerFailed"] or {
        e["reason"] for e in doc["events"]
    } == {"EnsuringLoadBalancer", "SyncLoadBalancerFailed"}
    offline = cli("explain", "-f", str(path), "-o", "json")
    assert offline.exit_code == ExitCode.PROBLEM
    assert "TooManyRequests" in finding(offline.json, "provisioning-failed")["message"]


def test_dump_folder_reads_events_json(lab, tmp_path):
    cluster = build("pending-subnet-full")
    (tmp_path / "service.json").write_text(json.dumps(cluster.service("default/web")))
    (tmp_path / "nodes.json").write_text(json.dumps({"kind": "NodeList", "apiVersion": "v1", "items": cluster.nodes}))
    (tmp_path / "loadbalancers.json").write_text(json.dumps(cluster.load_balancers))
    events = {"kind": "EventList", "apiVersion": "v1", "items": cluster.events}
    (tmp_path / "events.json").write_text(json.dumps(events))
    result = cli("explain", "-f", str(tmp_path), "-o", "json")
    assert result.exit_code == ExitCode.PROBLEM, result.stderr
    assert "SubnetIsFull" in finding(result.json, "provisioning-failed")["message"]


# -- pool gaps ---------------------------------------------------------------------------------------


def test_nic_in_another_lbs_pool_is_named(lab):
    lab("pool-nic-other-lb")
    result, doc = explain()
    assert result.exit_code == ExitCode.OK
    gap = finding(doc, "node-not-in-pool")
    assert gap["node"] == NODES[2]
    assert "pool corp-pool of load balancer corp-lb" in gap["message"] and "skips" in gap["message"]
    assert "corp-lb" in node_rows(doc)[NODES[2]]["detail"]


def test_virtual_node_is_no_vm(lab):
    lab("virtual-node")
    _, doc = explain()
    gap = finding(doc, "node-not-in-pool")
    assert gap["node"] == "virtual-node-aci-linux"
    assert (
        "not an Azure VM or VMSS instance" in gap["message"]
        and "exclude-from-external-load-balancers" in gap["message"]
    )


def test_stopped_vm_is_read_from_its_instance_view(lab):
    lab("vm-stopped")
    _, doc = explain()
    gap = finding(doc, "node-not-in-pool")
    assert gap["node"] == NODES[2] and "deallocated" in gap["message"]


def test_instance_view_forbidden_is_a_note_and_the_gap_falls_back(lab):
    cluster = build("vm-stopped")
    cluster.arm_forbidden.add("vm")
    lab(cluster)
    result, doc = explain()
    assert result.exit_code == ExitCode.OK, result.stderr
    assert any("cannot read VM instance views" in n for n in doc["notes"]), doc["notes"]
    assert (
        "not reconciled" in finding(doc, "node-not-in-pool")["message"]
        or "has not reconciled" in finding(doc, "node-not-in-pool")["message"]
    )


# -- node state --------------------------------------------------------------------------------------


def test_not_ready_on_new_kubernetes_stays_in_pool_and_the_probe_decides(lab):
    lab("notready-new")
    result, doc = explain()
    assert result.exit_code == ExitCode.OK
    row = node_rows(doc)[NODES[1]]
    assert row["inBackendPool"] is True and row["verdict"] == "up"
    assert "NotReady: stays in the pool on Kubernetes 1.29" in row["detail"] and "the probe decides" in row["detail"]
    assert "stale-pool-member" not in codes(doc)


def test_not_ready_on_old_provider_is_a_stale_member(lab):
    lab("notready-old")
    _, doc = explain()
    row = node_rows(doc)[NODES[1]]
    assert "excludes NotReady nodes" in row["detail"]
    stale = finding(doc, "stale-pool-member")
    assert stale["node"] == NODES[1] and "NotReady" in stale["message"]


def test_cordoned_node_stays_and_says_so(lab):
    lab("cordoned")
    _, doc = explain()
    row = node_rows(doc)[NODES[1]]
    assert row["verdict"] == "up" and "cordoned: stays in the pool" in row["detail"]
    assert "node-not-in-pool" not in codes(doc)


def test_cordoned_node_before_1_19_is_out_by_design(lab):
    lab("cordoned-old")
    _, doc = explain()
    row = node_rows(doc)[NODES[1]]
    assert row["inBackendPool"] is False and "cordoned" in row["detail"]
    assert "node-not-in-pool" not in codes(doc)


def test_vmas_nic_that_cannot_be_read_is_a_note_not_a_failure(lab):
    from akslbctl.lab.cluster import AksBuilder

    b = AksBuilder(name="vmas-nic-forbidden", vm_type="vmas")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1])
    cluster = b.build()
    cluster.arm_forbidden.add("nic")
    lab(cluster)
    result, doc = explain()
    # Members are still matched by address fallbacks or left as unmatched: never a crash, never exit 3.
    assert result.exit_code != ExitCode.NO_EVIDENCE or "no verdict" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert doc is not None and doc["kind"] == "ServiceDiagnosis"
    assert any("cannot read network interfaces" in n and "403" in n for n in doc["notes"]), doc["notes"]
