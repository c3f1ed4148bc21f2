"""Case files and raw dump folders: every accepted shape gives the same diagnosis, every bad file one
line naming the file and the field (exit 2), and redaction leaves the analysis as it was.

The documents come from the lab's builder (what the Kubernetes API and ARM return), turned into what
``kubectl get … -o json`` and ``az network … -o json`` print. No lab is started: nothing is probed.
"""

from __future__ import annotations

import copy
import json
import os
import stat

import pytest
from support import cli, codes

from akslbctl.analysis.names import service_prefix
from akslbctl.errors import CaseFileError, ExitCode
from akslbctl.lab.cluster import AksBuilder
from akslbctl.model.probe import ProbeResult, ProbeTarget
from akslbctl.pipeline import ProbeOptions
from akslbctl.pipeline import explain as run_explain
from akslbctl.sources import casefile
from akslbctl.sources.casefile import Scope, parse_target
from akslbctl.sources.redact import Redactor, redact

SUB = "8f3c2a1e-5b7d-4c9e-a0f1-2d3e4b5c6a7f"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
NODES = [f"aks-nodepool1-12345678-vmss00000{i}" for i in range(3)]


# -- documents -----------------------------------------------------------------------------------


@pytest.fixture
def cluster():
    """Local-policy web (probe Http :32649/healthz) and Cluster-policy api in one namespace."""
    b = AksBuilder(nodes=3)
    b.add_service(
        "web",
        ports=[{"port": 80, "nodePort": 31080}],
        policy="Local",
        health_check_node_port=32649,
        endpoints_on=[0, 1],
    )
    b.add_service("api", ports=[{"port": 443, "nodePort": 30443}], endpoints_on=[2])
    c = b.build()
    yield c
    c.release()


def web(cluster) -> dict:
    return cluster.service("default/web")


def kube_list(items: list[dict]) -> dict:
    """What ``kubectl get … -o json`` prints for several objects."""
    return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": copy.deepcopy(items)}


def typed_list(kind: str, items: list[dict]) -> dict:
    """What the API (``kubectl get --raw``) returns: a typed list whose items carry no kind."""
    stripped = [{k: v for k, v in copy.deepcopy(i).items() if k not in ("kind", "apiVersion")} for i in items]
    return {"apiVersion": "v1", "kind": f"{kind}List", "metadata": {"resourceVersion": "1"}, "items": stripped}


def az_flatten(doc):
    """The az CLI's shape: ``properties`` folded into each object, ``resourceGroup`` on every object whose
    id names one (azure-cli ``_add_resource_group``)."""
    if isinstance(doc, list):
        return [az_flatten(d) for d in doc]
    if not isinstance(doc, dict):
        return doc
    out = {k: az_flatten(v) for k, v in doc.items() if k != "properties"}
    if isinstance(doc.get("properties"), dict):
        for k, v in doc["properties"].items():
            out[k] = az_flatten(v)
    rid = doc.get("id")
    if isinstance(rid, str) and "/resourceGroups/" in rid:
        out["resourceGroup"] = rid.split("/resourceGroups/")[1].split("/")[0]
    return out


def case_doc(cluster, name: str = "web", probes: list[dict] | None = None) -> dict:
    svc = cluster.service(f"default/{name}")
    return {
        "apiVersion": "akslbctl/v1alpha1",
        "kind": "Case",
        "akslbctl": "0.1.0",
        "capturedAt": "2025-01-31T12:00:00Z",
        "clusterVersion": {"major": "1", "minor": "29", "gitVersion": cluster.kubernetes_version},
        "subscription": cluster.subscription,
        "resourceGroup": cluster.node_resource_group,
        "service": copy.deepcopy(svc),
        "nodes": copy.deepcopy(cluster.nodes),
        "endpointSlices": [
            copy.deepcopy(s)
            for s in cluster.endpointslices
            if s["metadata"]["labels"].get("kubernetes.io/service-name") == name
        ],
        "loadBalancers": copy.deepcopy(cluster.load_balancers),
        "publicIPAddresses": copy.deepcopy(cluster.public_ips),
        "probes": probes or [],
    }


def write(path, doc) -> str:
    path.write_text(json.dumps(doc))
    return str(path)


def dump_folder(folder, cluster, *, arm: str = "rest", lists: str = "kubectl") -> str:
    """The files a customer sends: kubectl for Kubernetes, az (or the REST shape) for ARM."""
    folder.mkdir(exist_ok=True)
    as_list = kube_list if lists == "kubectl" else (lambda items: typed_list(kind, items))
    kind = "Service"
    write(folder / "service.json", as_list(cluster.services))
    kind = "Node"
    write(folder / "nodes.json", as_list(cluster.nodes))
    kind = "EndpointSlice"
    write(folder / "endpointslices.json", as_list(cluster.endpointslices))
    lbs, pips = copy.deepcopy(cluster.load_balancers), copy.deepcopy(cluster.public_ips)
    if arm == "az":
        lbs, pips = az_flatten(lbs), az_flatten(pips)
        write(folder / "loadbalancers.json", lbs)  # az network lb list: a JSON array
        write(folder / "publicips.json", pips)
    else:
        write(folder / "loadbalancers.json", {"value": lbs})  # az rest / REST list page
        write(folder / "publicips.json", {"value": pips})
    write(
        folder / "version.json",
        {"clientVersion": {"gitVersion": "v1.30.0"}, "serverVersion": {"gitVersion": cluster.kubernetes_version}},
    )
    return str(folder)


def diagnosis(case) -> dict:
    from akslbctl.render.document import diagnosis_doc

    _, d = run_explain(case, ProbeOptions(enabled=False))
    return diagnosis_doc(d)


def verdicts(doc: dict) -> list[tuple]:
    return [
        (r["name"], n["name"], n["inBackendPool"], n["verdict"], n["reason"], n["expected"])
        for r in doc["rules"]
        for n in r["nodes"]
    ]


@pytest.fixture(autouse=True)
def _never_probe(monkeypatch):
    """Offline analysis must never send a probe."""

    def refuse(*args, **kwargs):
        raise AssertionError("an offline case was probed")

    monkeypatch.setattr("akslbctl.pipeline.run_probes", refuse)


# -- case files ----------------------------------------------------------------------------------


def test_case_file_with_recorded_probes_gives_verdicts_from_them(cluster, tmp_path):
    probes = [
        {"node": NODES[0], "target": "http://127.0.0.1:32649/healthz", "outcome": "ok", "status": 200},
        {
            "node": NODES[1],
            "target": f"http://{cluster.address_of(1)}:32649/healthz",
            "outcome": "http-status",
            "status": 503,
            "latencyMs": 2.5,
            "localEndpoints": 0,
            "at": "2025-01-31T12:00:00.123Z",
        },
        {"node": NODES[2], "target": f"http://{cluster.address_of(2)}:32649/healthz", "outcome": "timeout"},
    ]
    probes[0]["target"] = f"http://{cluster.address_of(0)}:32649/healthz"
    path = write(tmp_path / "case.json", case_doc(cluster, probes=probes))
    result = cli("explain", "-f", path, "-o", "json")
    assert result.exit_code == ExitCode.OK, result.stderr
    doc = result.json
    rows = {n["name"]: n for n in doc["rules"][0]["nodes"]}
    assert (rows[NODES[0]]["verdict"], rows[NODES[0]]["reason"]) == ("up", "probe-ok")
    assert (rows[NODES[1]]["verdict"], rows[NODES[1]]["reason"], rows[NODES[1]]["observed"]["status"]) == (
        "down",
        "http-status",
        503,
    )
    assert rows[NODES[1]]["observed"]["localEndpoints"] == 0 and rows[NODES[1]]["observed"]["latencyMs"] == 2.5
    # Node 2 runs no pod of web: expected down, and the recorded timeout agrees.
    assert (rows[NODES[2]]["verdict"], rows[NODES[2]]["reason"], rows[NODES[2]]["expected"]) == (
        "down",
        "timeout",
        "down",
    )
    # Node 1 has a ready pod but its recorded probe failed: the disagreement is still found offline.
    assert "endpoint-probe-disagreement" in codes(doc)
    assert doc["vantage"] == "recorded in the case file"


def test_case_file_without_probe_results_is_unknown_but_expected_still_computed(cluster, tmp_path):
    path = write(tmp_path / "case.json", case_doc(cluster))
    result = cli("explain", "-f", path, "-o", "json")
    # No verdict for any member (contract §5.1): the document is printed, then exit 3 with one line.
    assert result.exit_code == ExitCode.NO_EVIDENCE, result.stderr
    assert result.stderr.count("\n") == 1 and "no verdict for default/web" in result.stderr
    rows = {n["name"]: n for n in result.json["rules"][0]["nodes"]}
    assert {(n["verdict"], n["reason"]) for n in rows.values()} == {("unknown", "not-probed")}
    assert [rows[n]["expected"] for n in NODES] == ["up", "up", "down"]
    assert "no-healthy-backend" not in codes(result.json)


def test_probe_mismatch_is_found_offline(tmp_path):
    b = AksBuilder(nodes=3)
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}]).set_probe("web", 80, port=31000)
    c = b.build()
    try:
        path = write(tmp_path / "case.json", case_doc(c))
        result = cli("explain", "-f", path, "-o", "json")
    finally:
        c.release()
    assert result.exit_code == ExitCode.PROBLEM
    mismatch = next(f for f in result.json["findings"] if f["code"] == "probe-mismatch")
    assert "31000" in mismatch["message"] and "30396" in mismatch["message"]


def test_resource_argument_must_match_the_case(cluster, tmp_path):
    path = write(tmp_path / "case.json", case_doc(cluster))
    # No recorded probes and no Azure view: no verdict (exit 3), but the case is read.
    assert cli("explain", "svc/web", "-f", path, "-o", "json").exit_code == ExitCode.NO_EVIDENCE
    wrong = cli("explain", "svc/api", "-f", path)
    assert wrong.exit_code == ExitCode.BAD_INPUT
    assert wrong.stderr.count("\n") == 1 and "case.json holds Service default/web, not api" in wrong.stderr
    ns = cli("explain", "-f", path, "-n", "other")
    assert ns.exit_code == ExitCode.BAD_INPUT and "namespace other" in ns.stderr


def test_flags_override_the_scope_the_case_names(cluster, tmp_path):
    doc = case_doc(cluster)
    del doc["subscription"], doc["resourceGroup"]
    path = write(tmp_path / "case.json", doc)
    case = casefile.load(path)
    # From the Nodes' providerIDs (AKS writes the group lower-cased there).
    assert (case.subscription, case.resource_group) == (SUB, "mc_rg_aks_westeurope")
    case = casefile.load(path, Scope(subscription="s-flag", resource_group="rg-flag"))
    assert (case.subscription, case.resource_group) == ("s-flag", "rg-flag")
    for n in doc["nodes"]:
        n["spec"].pop("providerID")
    case = casefile.load(write(tmp_path / "case2.json", doc))
    assert (case.subscription, case.resource_group) == (SUB, "MC_rg_aks_westeurope")  # from the LB's id


@pytest.mark.parametrize(
    "url, target",
    [
        ("tcp://10.0.0.4:30396", ProbeTarget("10.0.0.4", 30396, "Tcp")),
        ("http://10.0.0.4:32649/healthz", ProbeTarget("10.0.0.4", 32649, "Http", "/healthz")),
        ("https://10.0.0.4:443/", ProbeTarget("10.0.0.4", 443, "Https", "/")),
        ("http://10.0.0.4:80/a/b?x=1", ProbeTarget("10.0.0.4", 80, "Http", "/a/b?x=1")),
        ("https://[fd00::4]:8443/ready", ProbeTarget("fd00::4", 8443, "Https", "/ready")),
        ("tcp://[fd00::4]:30396", ProbeTarget("fd00::4", 30396, "Tcp")),
    ],
)
def test_recorded_targets_parse_back_to_the_plan_targets(url, target):
    assert parse_target(url, "probes[0].target") == target
    assert target.url == url


@pytest.mark.parametrize(
    "url", ["udp://10.0.0.4:53", "10.0.0.4:80", "tcp://10.0.0.4", "tcp://10.0.0.4:99999", "tcp://10.0.0.4:80/x"]
)
def test_bad_recorded_targets_name_the_field(url):
    from akslbctl.sources.normalize import ShapeError

    with pytest.raises(ShapeError) as exc:
        parse_target(url, "probes[3].target")
    assert exc.value.path == "probes[3].target"


# -- dump folders --------------------------------------------------------------------------------


def test_kubectl_lists_and_rest_arm_give_the_case_file_diagnosis(cluster, tmp_path):
    from_file = diagnosis(casefile.load(write(tmp_path / "case.json", case_doc(cluster))))
    case = casefile.load(dump_folder(tmp_path / "dumps", cluster), Scope(name="web"))
    assert case.service.name == "web" and len(case.nodes) == 3 and len(case.load_balancers) == 1
    assert case.server_version == "v1.29.4"  # serverVersion of `kubectl version -o json`, not the client's
    assert case.recorded_probes == ()
    assert diagnosis(case) == from_file
    assert [n["expected"] for n in diagnosis(case)["rules"][0]["nodes"]] == ["up", "up", "down"]


def test_az_flattened_arm_gives_the_same_diagnosis_as_rest(cluster, tmp_path):
    rest = casefile.load(dump_folder(tmp_path / "rest", cluster, arm="rest"), Scope(name="web"))
    az = casefile.load(dump_folder(tmp_path / "az", cluster, arm="az"), Scope(name="web"))
    assert "resourceGroup" in az.raw.load_balancers[0]["frontendIPConfigurations"][0]
    assert az.load_balancers == rest.load_balancers and az.public_ips == rest.public_ips
    doc = diagnosis(az)
    assert doc == diagnosis(rest)
    assert doc["loadBalancer"]["name"] == "kubernetes" and doc["rules"][0]["probe"]["port"] == 32649


def test_typed_lists_single_objects_and_other_file_names(cluster, tmp_path):
    folder = tmp_path / "dumps"
    folder.mkdir()
    write(folder / "svc.json", web(cluster))  # kubectl get svc web -o json: one object
    write(folder / "node-list.json", typed_list("Node", cluster.nodes))  # items without kind
    write(folder / "eps.json", typed_list("EndpointSlice", cluster.endpointslices))
    write(folder / "lb.json", az_flatten(cluster.load_balancers[0]))  # az network lb show
    write(folder / "pips.json", az_flatten(cluster.public_ips))
    write(folder / "pods.json", kube_list([{"kind": "Pod", "metadata": {"name": "x"}}]))  # not ours: ignored
    (folder / "notes.txt").write_text("the customer's notes")
    write(folder / "server-version.json", {"major": "1", "minor": "29", "gitVersion": "v1.29.4"})  # --raw /version
    case = casefile.load(str(folder))
    assert case.service.name == "web"
    assert [n.name for n in case.nodes] == NODES
    assert {e.node_name for e in case.endpoints} == {NODES[0], NODES[1]}  # web's slice only, not api's
    assert len(case.raw.endpoint_slices) == 1
    assert diagnosis(case) == diagnosis(casefile.load(write(tmp_path / "case.json", case_doc(cluster))))


def test_a_folder_with_several_load_balancer_services_needs_a_name(cluster, tmp_path):
    folder = dump_folder(tmp_path / "dumps", cluster)
    result = cli("explain", "-f", folder)
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "the dumps hold 2 Services (default/api, default/web)" in result.stderr and "svc/NAME" in result.stderr
    api = cli("explain", "svc/api", "-f", folder, "-o", "json")
    assert api.exit_code == ExitCode.NO_EVIDENCE, api.stderr  # no probes.json: no verdict (contract §5.1)
    assert api.json["service"]["name"] == "api"
    assert {n["expected"] for n in api.json["rules"][0]["nodes"]} == {"up"}  # Cluster policy
    missing = cli("explain", "svc/db", "-f", folder)
    assert missing.exit_code == ExitCode.BAD_INPUT and "no Service db in the dumps" in missing.stderr


def test_a_folder_of_one_namespace_dump_keeps_only_the_services_slices(cluster, tmp_path):
    folder = dump_folder(tmp_path / "dumps", cluster)
    case = casefile.load(folder, Scope(name="api", namespace="default"))
    assert {e.node_name for e in case.endpoints} == {NODES[2]}


def test_powershell_utf16_output_is_read(cluster, tmp_path):
    folder = tmp_path / "dumps"
    dump_folder(folder, cluster)
    text = json.dumps(kube_list(cluster.nodes))
    (folder / "nodes.json").write_bytes(text.encode("utf-16"))  # Windows PowerShell 5.1: `>` writes UTF-16 LE
    assert len(casefile.load(str(folder), Scope(name="web")).nodes) == 3


def test_recorded_probes_in_a_folder(cluster, tmp_path):
    folder = tmp_path / "dumps"
    dump_folder(folder, cluster)
    write(
        folder / "probes.json",
        [{"target": f"http://{cluster.address_of(i)}:32649/healthz", "outcome": "ok", "status": 200} for i in (0, 1)],
    )
    doc = diagnosis(casefile.load(str(folder), Scope(name="web")))
    assert [(n["verdict"], n["reason"]) for n in doc["rules"][0]["nodes"]] == [
        ("up", "probe-ok"),
        ("up", "probe-ok"),
        ("unknown", "not-probed"),
    ]


def test_a_folder_without_probe_results_claims_no_recorded_probes(cluster, tmp_path):
    folder = dump_folder(tmp_path / "dumps", cluster)
    result = cli("explain", "-f", folder, "svc/web", "-o", "json")
    assert result.exit_code == 3
    doc = result.json
    assert doc.get("vantage") is None  # nothing was recorded: no "recorded in the case file"
    assert {(n["verdict"], n["detail"]) for n in doc["rules"][0]["nodes"]} == {
        ("unknown", "the case holds no probe results")
    }
    assert "recorded in the case file" not in cli("explain", "-f", folder, "svc/web").stdout


# -- bad files: one line, the file and the field, exit 2 ----------------------------------------


def _bad_case(cluster, tmp_path, mutate) -> str:
    doc = case_doc(cluster)
    mutate(doc)
    return write(tmp_path / "case.json", doc)


def _set_node_name(doc):
    doc["nodes"][1]["metadata"]["name"] = 5


def _set_probe_port(doc):
    doc["loadBalancers"][0]["properties"]["probes"][0]["properties"]["port"] = "high"


def _cluster_ip(doc):
    doc["service"]["spec"]["type"] = "ClusterIP"


def _lb_class(doc):
    doc["service"]["spec"]["loadBalancerClass"] = "example.com/metallb"


def _no_service(doc):
    del doc["service"]


def _nodes_object(doc):
    doc["nodes"] = {"items": []}


def _bad_outcome(doc):
    doc["probes"] = [{"target": "tcp://10.0.0.4:80", "outcome": "fine"}]


def _probes_without_target(doc):
    doc["probes"] = [{"outcome": "ok"}]


def test_a_node_that_does_not_parse_is_skipped_with_a_note(cluster, tmp_path):
    """A Node is no object of the Service's own: one that does not parse is skipped, said in a note, and
    the diagnosis goes on (issue 13 §9) — its pool member then matches no Node."""
    result = cli("explain", "-f", _bad_case(cluster, tmp_path, _set_node_name), "-o", "json")
    assert result.exit_code in (ExitCode.PROBLEM, ExitCode.NO_EVIDENCE), result.stderr
    notes = " ".join(result.json["notes"])
    assert "skipped nodes[1]" in notes and "metadata.name: expected a string, got a number" in notes


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (_set_probe_port, "case.json: loadBalancers[0].probes[0].port: expected a whole number, got a string"),
        (_cluster_ip, "case.json: service default/web is of type ClusterIP, not LoadBalancer"),
        (_lb_class, "loadBalancerClass example.com/metallb: it is not managed by the Azure cloud provider"),
        (_no_service, "case.json: service: is missing"),
        (_nodes_object, "case.json: nodes: expected a list, got an object"),
        (_bad_outcome, "case.json: probes[0].outcome: expected one of ok, http-status"),
        (_probes_without_target, "case.json: probes[0].target: is missing"),
        (lambda d: d.update(kind="ServiceDiagnosis"), "case.json: kind: expected Case, got 'ServiceDiagnosis'"),
        (lambda d: d.update(apiVersion="akslbctl/v2"), "case.json: apiVersion: expected akslbctl/v1alpha1, got"),
        (lambda d: d.pop("kind"), "case.json: kind: expected Case, got nothing"),
    ],
    ids=lambda v: v.__name__ if callable(v) else None,
)
def test_bad_case_documents(cluster, tmp_path, mutate, expected):
    result = cli("explain", "-f", _bad_case(cluster, tmp_path, mutate))
    assert result.exit_code == ExitCode.BAD_INPUT
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "case.json: the file is empty"),
        (b"  \n\t\n", "case.json: the file is empty"),
        (b'{"apiVersion": "akslbctl/v1alpha1", "kind": "Case", "service": {"metadata": {"na', "truncated?"),
        (
            b"{'kind': 'Case'}",
            "case.json: not valid JSON at line 1 column 2: expecting property name enclosed in double quotes",
        ),
        (bytes(range(256)) * 8, "case.json: not JSON text (invalid UTF-8 at byte 128)"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", "case.json: not JSON text"),  # a gzip header
        (b"[" * 100_000, "case.json: not valid JSON"),
        (b"null", "case.json: expected a case document (a JSON object with kind: Case), got null"),
        (b'[{"kind": "Service"}]', "got a list; for raw kubectl/az dumps pass the folder"),
        (b"apiVersion: v1\nkind: Service\n", "case.json: not valid JSON"),
    ],
    ids=["empty", "blank", "truncated", "python-repr", "random-bytes", "gzip", "deep", "null", "az-array", "yaml"],
)
def test_unreadable_case_files(tmp_path, content, expected):
    path = tmp_path / "case.json"
    path.write_bytes(content)
    result = cli("explain", "-f", str(path))
    assert result.exit_code == ExitCode.BAD_INPUT, result.stderr
    assert result.stderr.count("\n") == 1 and expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_truncated_case_file_names_line_and_column(cluster, tmp_path):
    text = json.dumps(case_doc(cluster), indent=1)
    path = tmp_path / "case.json"
    path.write_text(text[: len(text) // 2])
    result = cli("explain", "-f", str(path))
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "case.json: not valid JSON" in result.stderr and "line " in result.stderr
    assert "(the file ends early: truncated?)" in result.stderr


def test_missing_path_and_unreadable_paths(tmp_path):
    result = cli("explain", "-f", str(tmp_path / "nope.json"))
    assert result.exit_code == ExitCode.BAD_INPUT
    assert result.stderr == f"error: {tmp_path / 'nope.json'}: no such file or folder\n"
    device = cli("explain", "-f", "/dev/null")
    assert device.exit_code == ExitCode.BAD_INPUT and "/dev/null: not a regular file" in device.stderr
    locked = tmp_path / "locked.json"
    locked.write_text("{}")
    locked.chmod(0)
    if os.access(locked, os.R_OK):  # running as root: permissions do not apply
        return
    result = cli("explain", "-f", str(locked))
    assert result.exit_code == ExitCode.BAD_INPUT and "locked.json: cannot read: Permission denied" in result.stderr


def test_absurd_sizes_are_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "case.json"
    path.write_bytes(b"{" + b" " * 4096 + b"}")
    monkeypatch.setattr(casefile, "MAX_FILE_BYTES", 1024)
    result = cli("explain", "-f", str(path))
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "case.json: 4098 bytes is too large (the limit is 1024 bytes)" in result.stderr


@pytest.mark.parametrize(
    "setup, expected",
    [
        (lambda f, c: None, "dumps: no .json files in the folder"),
        (lambda f, c: write(f / "nodes.json", kube_list(c.nodes)), "dumps: no Service in the dumps"),
        (
            lambda f, c: (write(f / "service.json", c.service("default/web")), write(f / "nodes.json", [])),
            "dumps: no Node in the dumps; add the output of: kubectl get nodes -o json > nodes.json",
        ),
        (
            lambda f, c: (write(f / "service.json", c.service("default/web")), write(f / "nodes.json", c.nodes)),
            "no LoadBalancer in the dumps; add the output of: az network lb list",
        ),
        (
            lambda f, c: write(f / "nodes.json", kube_list([c.service("default/web")])),
            "nodes.json: items[0].kind: expected Node, got 'Service'",
        ),
        (
            lambda f, c: write(f / "endpoints.json", {"kind": "Endpoints", "metadata": {"name": "web"}}),
            "endpoints.json: $.kind: Endpoints, not EndpointSlice; save EndpointSlices",
        ),
        (lambda f, c: (f / "lb.json").write_text('[{"id": '), "lb.json: not valid JSON"),
        (lambda f, c: (f / "service.json").write_text(""), "service.json: the file is empty"),
        (
            lambda f, c: write(f / "case.json", {"apiVersion": "akslbctl/v1alpha1", "kind": "Case"}),
            "case.json: is a case file, not a raw dump; pass it on its own",
        ),
    ],
    ids=["empty", "no-service", "no-nodes", "no-lb", "wrong-kind", "endpoints", "truncated", "empty-file", "case"],
)
def test_bad_folders(cluster, tmp_path, setup, expected):
    folder = tmp_path / "dumps"
    folder.mkdir()
    setup(folder, cluster)
    result = cli("explain", "-f", str(folder))
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert result.stderr.count("\n") == 1 and expected in result.stderr, result.stderr


def test_bad_field_in_a_dump_names_the_file_and_the_path(cluster, tmp_path):
    folder = tmp_path / "dumps"
    dump_folder(folder, cluster, arm="az")
    lbs = json.loads((folder / "loadbalancers.json").read_text())
    web = next(s for s in cluster.services if s["metadata"]["name"] == "web")
    prefix = service_prefix(web["metadata"]["uid"])
    rules = lbs[0]["loadBalancingRules"]
    own = next(i for i, r in enumerate(rules) if r["name"].startswith(prefix))
    rules[own]["frontendPort"] = [80]
    write(folder / "loadbalancers.json", lbs)
    result = cli("explain", "svc/web", "-f", str(folder))
    assert result.exit_code == ExitCode.BAD_INPUT
    assert f"loadbalancers.json: [0].loadBalancingRules[{own}].frontendPort: expected a whole number, got a list" in (
        result.stderr
    )


def test_another_services_bad_rule_in_a_dump_is_skipped_with_a_note_naming_it(cluster, tmp_path):
    """Strict for the Service's own objects only (issue 13 §9): another Service's rule with an enum value
    this version does not know is skipped, the note names file, path and error, the diagnosis goes on."""
    folder = tmp_path / "dumps"
    dump_folder(folder, cluster, arm="az")
    lbs = json.loads((folder / "loadbalancers.json").read_text())
    lbs[0]["loadBalancingRules"].append(
        {"name": "a" + "0" * 31 + "-QUIC-443", "protocol": "Quic", "frontendPort": 443, "backendPort": 443}
    )
    write(folder / "loadbalancers.json", lbs)
    result = cli("explain", "svc/web", "-f", str(folder), "-o", "json")
    assert result.exit_code != ExitCode.BAD_INPUT, result.stderr
    notes = " ".join(result.json["notes"])
    assert "skipped rule" in notes and "expected one of Tcp, Udp, All, got 'Quic'" in notes
    # A Node is not the Service's own either: skipped, the note names the file and the path.
    nodes = kube_list(cluster.nodes)
    nodes["items"][2]["status"]["addresses"] = "10.0.0.4"
    write(folder / "nodes.json", nodes)
    result = cli("explain", "svc/web", "-f", str(folder), "-o", "json")
    assert result.exit_code != ExitCode.BAD_INPUT, result.stderr
    notes = " ".join(result.json["notes"])
    assert "nodes.json: items[2]" in notes and "status.addresses: expected a list, got a string" in notes


def test_a_service_that_is_not_a_load_balancer_in_a_folder(cluster, tmp_path):
    folder = tmp_path / "dumps"
    dump_folder(folder, cluster)
    svc = copy.deepcopy(web(cluster))
    svc["spec"]["type"] = "NodePort"
    write(folder / "service.json", svc)
    result = cli("explain", "-f", str(folder))
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "service.json: service default/web is of type NodePort, not LoadBalancer" in result.stderr


def test_case_file_errors_are_case_file_errors(tmp_path):
    with pytest.raises(CaseFileError) as exc:
        casefile.load(str(tmp_path / "missing"))
    assert exc.value.exit_code == ExitCode.BAD_INPUT


# -- writing ---------------------------------------------------------------------------------------


def test_scrub_drops_managed_fields_and_last_applied_only():
    doc = {
        "kind": "Service",
        "metadata": {
            "name": "web",
            "managedFields": [{"manager": "kubectl"}],
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": '{"secret": "x"}',
                "service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path": "/healthz",
            },
        },
        "spec": {"type": "LoadBalancer"},
    }
    out = casefile.scrub(doc)
    assert out["metadata"] == {
        "name": "web",
        "annotations": {"service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path": "/healthz"},
    }
    assert doc["metadata"]["managedFields"]  # the input is left alone


def test_write_document_is_atomic_private_and_masks_secrets(tmp_path):
    path = tmp_path / "case.json"
    path.write_text("old")
    path.chmod(0o644)
    size = casefile.write_document(
        str(path), {"kind": "Case", "note": "token abcdef123456 here"}, secrets=["abcdef123456"]
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"kind": "Case", "note": "token *** here"}
    assert size == path.stat().st_size
    assert [p.name for p in tmp_path.iterdir()] == ["case.json"]  # no temp file left behind
    with pytest.raises(CaseFileError, match="cannot write .*missing/case.json"):
        casefile.write_document(str(tmp_path / "missing" / "case.json"), {})
    with pytest.raises(CaseFileError, match="is a folder"):
        casefile.write_document(str(tmp_path), {})


def test_recorded_results_round_trip_through_a_case_document(cluster):
    result = ProbeResult(
        ProbeTarget(cluster.address_of(0), 32649, "Http", "/healthz"),
        "http-status",
        status=503,
        latency_ms=1.25,
        local_endpoints=0,
        error="HTTP 503",
        at="2025-01-31T12:00:00.000Z",
    )
    entry = casefile.probe_entry(result, NODES[0])
    assert entry["target"] == f"http://{cluster.address_of(0)}:32649/healthz" and entry["node"] == NODES[0]
    (back,) = casefile.recorded_probes([json.loads(json.dumps(entry))], "probes")
    assert back == result


# -- redaction -------------------------------------------------------------------------------------


def test_redaction_is_consistent_and_keeps_ids_joinable():
    doc = {
        "a": f"/subscriptions/{SUB}/resourceGroups/MC_rg_aks_westeurope/providers/Microsoft.Network/loadBalancers/x",
        "b": f"azure:///subscriptions/{SUB.upper()}/resourceGroups/mc_rg_aks_westeurope/providers/Microsoft.Compute/y",
        "c": {"resourceGroup": "MC_rg_aks_westeurope", "ipAddress": "20.31.250.4"},
        "d": ["20.31.250.4", "10.224.0.4", "127.0.0.1", "168.63.129.16", "fd00::4", "2603:1030::5"],
        "e": "allow 20.31.250.4/32 and 51.105.0.0/16",
        "tenant": {"tenantId": TENANT, "authority": f"https://login.microsoftonline.com/{TENANT}/v2.0"},
        "uid": "7c3e1f09-b2d4-4e6a-1c5f-0e2d3b4a5961",
        "tags": {"aks-managed-cluster-rg": "rg"},
        "label": "MC_rg_aks_westeurope",
        "other": "rg-other, rg_x, my.rg",
        "time": "2025-01-31T12:00:00Z",
    }
    r = Redactor()
    r.learn(doc)
    out = r.apply(doc)
    assert out["a"] == (
        "/subscriptions/redacted-subscription-1/resourceGroups/redacted-resource-group-1/providers/"
        "Microsoft.Network/loadBalancers/x"
    )
    assert out["b"].startswith(
        "azure:///subscriptions/redacted-subscription-1/resourceGroups/redacted-resource-group-1/"
    )
    assert out["c"] == {"resourceGroup": "redacted-resource-group-1", "ipAddress": "192.0.2.1"}
    assert out["d"] == ["192.0.2.1", "10.224.0.4", "127.0.0.1", "168.63.129.16", "fd00::4", "2001:db8::1"]
    assert out["e"] == "allow 192.0.2.1/32 and 192.0.2.2/16"
    assert out["tenant"] == {
        "tenantId": "redacted-tenant-1",
        "authority": "https://login.microsoftonline.com/redacted-tenant-1/v2.0",
    }
    assert out["uid"] == doc["uid"]  # a Service UID is not an id to hide: the LB names derive from it
    assert out["tags"] == {"aks-managed-cluster-rg": "redacted-resource-group-2"}
    assert out["label"] == "redacted-resource-group-1"
    assert out["other"] == "rg-other, rg_x, my.rg"  # "rg" is replaced only as a whole name
    assert out["time"] == doc["time"]
    text = json.dumps(out)
    for secret in (SUB, "MC_rg", "mc_rg", "20.31.250.4", "51.105", "2603:1030", TENANT):
        assert secret.lower() not in text.lower()


def test_placeholders_never_collide_with_addresses_in_the_document():
    doc = {"x": ["192.0.2.1", "20.0.0.1"]}  # 192.0.2.1 is not public: it stays, and 20.0.0.1 gets another
    assert redact(doc) == {"x": ["192.0.2.1", "192.0.2.2"]}


def test_redacted_case_gives_the_same_analysis(cluster, tmp_path):
    probes = [
        {"node": NODES[i], "target": f"http://{cluster.address_of(i)}:32649/healthz", "outcome": o, "status": s}
        for i, (o, s) in enumerate([("ok", 200), ("http-status", 503), ("http-status", 503)])
    ]
    doc = case_doc(cluster, probes=probes)
    original = diagnosis(casefile.load(write(tmp_path / "case.json", doc)))
    hidden = redact(doc, subscriptions=[doc["subscription"]], resource_groups=[doc["resourceGroup"]])
    text = json.dumps(hidden)
    assert SUB not in text and "mc_rg_aks_westeurope" not in text.lower()
    ingress = web(cluster)["status"]["loadBalancer"]["ingress"][0]["ip"]
    assert ingress not in text
    redacted = diagnosis(casefile.load(write(tmp_path / "redacted.json", hidden)))
    assert verdicts(redacted) == verdicts(original)
    assert [(f["code"], f["severity"], f["rule"], f["node"]) for f in redacted["findings"]] == [
        (f["code"], f["severity"], f["rule"], f["node"]) for f in original["findings"]
    ]
    assert "endpoint-probe-disagreement" in codes(redacted)
    assert redacted["loadBalancer"]["resourceGroup"] == "redacted-resource-group-1"
    assert redacted["loadBalancer"]["subscription"] == "redacted-subscription-1"
    assert redacted["service"]["ingress"] == [redacted["loadBalancer"]["frontends"][0]["ip"]] == ["192.0.2.1"]


def test_scrub_drops_a_nodes_image_list():
    node = {"kind": "Node", "metadata": {"name": "n"}, "status": {"images": [{"names": ["x"]}], "addresses": []}}
    assert casefile.scrub(node) == {"kind": "Node", "metadata": {"name": "n"}, "status": {"addresses": []}}


def test_no_mutation_of_a_case_file_gives_a_traceback(cluster, tmp_path):
    """Values of the wrong type anywhere, fields removed, random bytes: a diagnosis or one line, exit 2."""
    import random

    base = case_doc(cluster, probes=[{"target": f"tcp://{cluster.address_of(0)}:32649", "outcome": "ok"}])
    rng = random.Random(5)
    values = [None, 0, -1, 1.5, True, "", "x", [], {}, [1], {"a": 1}, "10.0.0.1", 10**30, float("nan")]

    def paths(d, p=()):
        if p:
            yield p
        children = d.items() if isinstance(d, dict) else enumerate(d) if isinstance(d, list) else ()
        for k, v in children:
            yield from paths(v, (*p, k))

    every = list(paths(base))
    path = tmp_path / "case.json"
    for _ in range(80):
        doc = copy.deepcopy(base)
        for _ in range(rng.randint(1, 3)):
            *parents, last = rng.choice(every)
            holder = doc
            try:
                for k in parents:
                    holder = holder[k]
                if isinstance(holder, dict) and rng.random() < 0.2:
                    holder.pop(last, None)
                else:
                    holder[last] = rng.choice(values)
            except (KeyError, IndexError, TypeError):
                continue
        path.write_text(json.dumps(doc))
        result = cli("explain", "-f", str(path), "-o", "json")
        assert result.exit_code in (0, 1, 2, 3) and "internal error" not in result.stderr, result.stderr
        assert result.exit_code != 2 or (result.stderr.count("\n") == 1 and "case.json" in result.stderr)
    for size in (1, 7, 100, 5000):
        path.write_bytes(rng.randbytes(size))
        result = cli("explain", "-f", str(path))
        assert result.exit_code == ExitCode.BAD_INPUT and result.stderr.count("\n") == 1, result.stderr


# -- the network path in dumps (contract §5.1) ---------------------------------------------------


def network_dump(folder, cluster) -> str:
    """A dump folder plus what `az` prints for the network path: VMSS NICs, NSGs, VNets, Private Link."""
    path = dump_folder(folder, cluster, arm="az")
    write(folder / "nics.json", az_flatten(copy.deepcopy(cluster.nics)))  # az vmss nic list
    write(folder / "nsgs.json", az_flatten(copy.deepcopy(cluster.security_groups)))  # az network nsg list
    write(folder / "vnets.json", az_flatten(copy.deepcopy(cluster.virtual_networks)))  # az network vnet list
    write(folder / "pls.json", az_flatten(copy.deepcopy(cluster.private_link_services)))
    return path


def ok_probes(cluster) -> list[dict]:
    """A recorded round in which every node answered its Tcp probe on :30396."""
    return [
        {"node": n["metadata"]["name"], "target": f"tcp://{cluster.address_of(i)}:30396", "outcome": "ok"}
        for i, n in enumerate(cluster.nodes)
    ]


def test_dump_folder_with_the_network_path_finds_the_blocked_clients(tmp_path):
    from akslbctl.lab.scenarios import build

    cluster = build("nsg-subnet-no-client-rule")
    try:
        folder = network_dump(tmp_path / "dumps", cluster)
        write(tmp_path / "dumps" / "probes.json", ok_probes(cluster))
    finally:
        cluster.release()
    result = cli("explain", "svc/web", "-f", folder, "-o", "json")
    assert result.exit_code == ExitCode.PROBLEM, result.stderr
    assert {(n["verdict"], n["reason"]) for n in result.json["rules"][0]["nodes"]} == {("up", "probe-ok")}
    (blocked,) = [f for f in result.json["findings"] if f["code"] == "nsg-blocks-clients"]
    assert "subnet NSG custom-subnet-nsg rule DenyAllInBound (priority 65500)" in blocked["message"]


def test_dump_folder_with_the_network_path_finds_the_blocked_probe(tmp_path):
    from akslbctl.lab.scenarios import build

    cluster = build("nsg-nic-blocks-probe")
    try:
        folder = network_dump(tmp_path / "dumps", cluster)
    finally:
        cluster.release()
    result = cli("explain", "svc/web", "-f", folder, "-o", "json")
    # No probes recorded, no Azure view: no verdict, but the NSG denies the probe for certain (exit 1).
    assert result.exit_code == ExitCode.PROBLEM, result.stderr
    assert {n["verdict"] for n in result.json["rules"][0]["nodes"]} == {"unknown"}
    (blocked,) = [f for f in result.json["findings"] if f["code"] == "nsg-blocks-probe"]
    assert "NIC NSG aks-agentpool-12345678-nsg rule DenyAzureLB (priority 400, Deny)" in blocked["message"]


def test_a_broken_nsg_dump_names_its_file(cluster, tmp_path):
    folder = dump_folder(tmp_path / "dumps", cluster)
    write(
        tmp_path / "dumps" / "nsgs.json",
        [
            {
                "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/networkSecurityGroups/n",
                "type": "Microsoft.Network/networkSecurityGroups",
                "name": "n",
                "securityRules": [
                    {"name": "r", "priority": "high", "access": "Deny", "direction": "Inbound", "protocol": "*"}
                ],
            }
        ],
    )
    # An NSG is optional evidence, not the Service's own object: skipped, and the note names the file.
    result = cli("explain", "svc/web", "-f", folder, "-o", "json")
    assert result.exit_code != ExitCode.BAD_INPUT, result.stderr
    notes = " ".join(result.json["notes"])
    assert "nsgs.json: [0] (n)" in notes and "priority" in notes
