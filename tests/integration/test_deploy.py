"""deploy/akslbctl.yaml: the in-cluster Job's RBAC holds read verbs only, on exactly what akslbctl reads;
and the Job's own command runs through the in-cluster configuration (service-account token and CA
files, KUBERNETES_SERVICE_HOST/PORT) against the lab's HTTPS API with only those permissions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from support import cli, in_cluster

from akslbctl.errors import ExitCode
from akslbctl.lab import kubeapi
from akslbctl.lab.scenarios import build

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "deploy" / "akslbctl.yaml"
READ_VERBS = {"get", "list", "watch"}
# Read only by shell completion (namespace candidates), never by a diagnosis: not granted to the Job.
COMPLETION_ONLY = {("", "namespaces")}


def documents() -> dict[str, dict]:
    docs = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]
    return {d["kind"]: d for d in docs}


def granted() -> set[tuple[str, str]]:
    role = documents()["ClusterRole"]
    return {
        (group, resource) for rule in role["rules"] for group in rule["apiGroups"] for resource in rule["resources"]
    }


def read_by_the_code() -> set[tuple[str, str]]:
    """Every (API group, resource) that akslbctl's Kubernetes source builds a path for."""
    text = (ROOT / "akslbctl" / "sources" / "kube.py").read_text()
    ns = r"(?:namespaces/\{[^}]*\}/)?"
    core = {("", m) for m in re.findall(rf'"/api/v1/{ns}([a-z]+)', text)}
    groups = set(re.findall(rf'"/apis/([a-z0-9.]+)/v[0-9a-z]+/{ns}([a-z]+)', text))
    return core | groups


def test_cluster_role_is_read_only_and_exact():
    role = documents()["ClusterRole"]
    for rule in role["rules"]:
        assert set(rule["verbs"]) <= READ_VERBS, rule
        assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"], rule
        assert "nonResourceURLs" not in rule and "resourceNames" not in rule
        assert not any("/" in r for r in rule["resources"]), rule  # no subresources (pods/exec, …)
    code = read_by_the_code()
    assert ("", "services") in code and ("discovery.k8s.io", "endpointslices") in code  # the scan works
    assert granted() == code - COMPLETION_ONLY


def test_the_in_cluster_guide_names_every_granted_resource():
    guide = (ROOT / "docs" / "in-cluster.md").read_text()
    for group, resource in granted():
        assert f"`{resource}`" in guide, resource
        if group:
            assert group in guide, group


def test_job_runs_on_the_host_network_with_workload_identity():
    docs = documents()
    account = docs["ServiceAccount"]
    assert "azure.workload.identity/client-id" in account["metadata"]["annotations"]
    binding = docs["ClusterRoleBinding"]
    assert binding["roleRef"]["name"] == docs["ClusterRole"]["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": account["metadata"]["namespace"]}
    ]
    pod = docs["Job"]["spec"]["template"]
    assert pod["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    spec = pod["spec"]
    assert spec["hostNetwork"] is True and spec["dnsPolicy"] == "ClusterFirstWithHostNet"
    assert spec["serviceAccountName"] == account["metadata"]["name"]
    (container,) = spec["containers"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert docs["Job"]["spec"]["backoffLimit"] == 0


def test_containerfile_runs_akslbctl_as_a_user():
    text = (ROOT / "deploy" / "Containerfile").read_text()
    assert 'ENTRYPOINT ["akslbctl"]' in text
    assert re.search(r"^USER 10001", text, re.M)  # the Job's runAsUser
    for copied in re.findall(r"^COPY (?!--from)(.+?) \S+$", text, re.M):
        for name in copied.split():
            assert (ROOT / name).exists(), name


def _in_cluster(running, tmp_path, monkeypatch):
    """As the Job's pod sees its API server, in the manifest's namespace."""
    in_cluster(running, tmp_path / "serviceaccount", monkeypatch, namespace="akslbctl")


def _only_what_the_role_grants(cluster):
    """The lab refuses (403) every resource the ClusterRole does not grant, as RBAC would."""
    allowed = {resource for _, resource in granted()}
    cluster.kube_forbidden = {r.plural for r in kubeapi.RESOURCES if r.plural not in allowed}
    return cluster


@pytest.mark.parametrize("scenario", ["multi-service", "netpol-local-clients", "dualstack-ipv6-down"])
def test_the_jobs_command_in_cluster_with_only_the_granted_permissions(lab, tmp_path, monkeypatch, scenario):
    running = lab(_only_what_the_role_grants(build(scenario)))
    _in_cluster(running, tmp_path, monkeypatch)
    container = documents()["Job"]["spec"]["template"]["spec"]["containers"][0]
    for item in container.get("env", []):
        monkeypatch.setenv(item["name"], item["value"])
    monkeypatch.setenv("HOME", str(tmp_path))
    result = cli(*container["args"], "--timeout", "1s")
    assert result.exit_code in (ExitCode.OK, ExitCode.PROBLEM), result.stderr
    assert "forbidden" not in result.output.lower() and "could not read" not in result.output.lower()
    kube = [r for r in running.requests if r.api == "kube"]
    # Everything granted answers 200; Cilium's policies 404 where the cluster has no Cilium CRD.
    absent_crd = [r for r in kube if "/cilium.io/" in r.path and r.status == 404]
    others = [r for r in kube if r not in absent_crd]
    assert others and all(r.status == 200 for r in others), [(r.path, r.status) for r in others if r.status != 200]
    assert running.writes == []
    # What the Job read is within the role (and the role is what the code reads: the test above).
    read = {r.route.split(".")[1] for r in kube if r.route.count(".") == 2}
    assert read <= {resource for _, resource in granted()} | {"version"}, read


def test_explain_one_service_in_cluster(lab, tmp_path, monkeypatch):
    running = lab(_only_what_the_role_grants(build("netpol-local-clients")))
    _in_cluster(running, tmp_path, monkeypatch)
    result = cli("explain", "svc/web", "-n", "default", "-o", "json", "--timeout", "1s")
    assert result.exit_code in (ExitCode.OK, ExitCode.PROBLEM), result.stderr
    assert result.json["service"]["name"] == "web"
    assert not [n for n in result.json.get("notes") or [] if "forbidden" in n.lower()]
    kube = [r for r in running.requests if r.api == "kube"]
    routes = {r.route for r in kube}
    # One Service gets the whole analysis: its pods and the namespace's policies too, all permitted.
    assert {"kube.pods.list", "kube.networkpolicies.list", "kube.events.list"} <= routes, routes
    assert not [r for r in kube if r.status == 403]
    # Only the Cilium CRD may be missing (404): no Cilium here, which no role changes.
    assert all(r.status == 200 or "/cilium.io/" in r.path for r in kube), [(r.path, r.status) for r in kube]
